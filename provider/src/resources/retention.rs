//! Retention: which old versions of a dataset a rule prunes, and pruning them.
//!
//! Selection is pure. A version is pruned when the rule selects it (beyond `keepLast` in
//! version order, or created more than `maxAgeDays` ago) and it is safe to prune: it carries
//! the dataset's own tags, it has been released by its stack (`datasnap.retained`), it is not
//! marked `datasnap.keep`, and it is not the version just created. Pruning runs after a
//! successful create; a failure to prune is reported and never undoes the create.

use std::cmp::Ordering;

use super::naming::compare_versions;
use super::tags::VersionTags;
use super::versioned_snapshot::{Inputs, Retention};
use crate::azure::client::default_timeouts;
use crate::azure::id::{ids_equal, ResourceId, ResourceKind};
use crate::azure::models::Snapshot;
use crate::azure::ArmClient;
use crate::resource::Env;

/// One version of a dataset, as listed from Azure.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub snapshot_id: String,
    pub version: String,
    /// Seconds since the Unix epoch, when Azure reported a creation time.
    pub created: Option<i64>,
    pub keep: bool,
    pub retained: bool,
}

/// Why a version is pruned, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Prune {
    pub version: Version,
    pub reason: String,
}

/// The versions of `dataset` among a resource group's snapshots, newest first.
pub fn versions_of(dataset: &str, snapshots: &[Snapshot]) -> Vec<Version> {
    let mut v: Vec<Version> = snapshots
        .iter()
        .filter_map(|s| {
            let t = VersionTags::decode(&s.tags)?;
            (t.dataset == dataset).then(|| Version {
                snapshot_id: s.id.clone().unwrap_or_default(),
                version: t.version,
                created: s.properties.time_created.as_deref().and_then(parse_rfc3339),
                keep: t.keep,
                retained: t.retained,
            })
        })
        .collect();
    v.sort_by(|a, b| {
        compare_versions(&b.version, &a.version).then_with(|| b.created.cmp(&a.created))
    });
    v
}

/// The versions the rule prunes, oldest first. `versions` is newest first (see
/// [`versions_of`]); `current` is the snapshot id of the version just created.
pub fn select(rule: Retention, versions: &[Version], current: &str, now: i64) -> Vec<Prune> {
    let mut out = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let beyond = rule.keep_last.is_some_and(|n| i >= n as usize);
        let age_days = v.created.map(|c| (now - c) / 86_400);
        let too_old = match (rule.max_age_days, age_days) {
            (Some(max), Some(age)) => age > i64::from(max),
            _ => false,
        };
        if !(beyond || too_old) || ids_equal(&v.snapshot_id, current) || v.keep || !v.retained {
            continue;
        }
        let reason = match (beyond, too_old) {
            (true, true) => format!(
                "beyond keepLast={} and older than maxAgeDays={}",
                rule.keep_last.unwrap_or(0),
                rule.max_age_days.unwrap_or(0)
            ),
            (true, false) => format!("beyond keepLast={}", rule.keep_last.unwrap_or(0)),
            _ => format!("older than maxAgeDays={}", rule.max_age_days.unwrap_or(0)),
        };
        out.push(Prune {
            version: v.clone(),
            reason,
        });
    }
    out.sort_by(
        |a, b| match compare_versions(&a.version.version, &b.version.version) {
            Ordering::Equal => a.version.created.cmp(&b.version.created),
            o => o,
        },
    );
    out
}

/// Lists the dataset's versions, prunes what the rule selects, and logs each one.
pub async fn apply(env: &Env, arm: &ArmClient, inputs: &Inputs, rule: Retention, current: &str) {
    let ctx = env.op(default_timeouts::DELETE);
    let snapshots = match arm.list_snapshots(&inputs.resource_group_name, &ctx).await {
        Ok(s) => s,
        Err(e) => {
            env.warn(&format!(
                "retention: could not list the versions of dataset \"{}\": {e}; nothing was pruned",
                inputs.dataset
            ));
            return;
        }
    };
    let versions = versions_of(&inputs.dataset, &snapshots);
    for p in select(rule, &versions, current, now()) {
        let id = match ResourceId::parse(&p.version.snapshot_id, ResourceKind::Snapshot) {
            Ok(id) => id,
            Err(_) => continue,
        };
        match arm.delete_snapshot(&id, &ctx).await {
            Ok(()) => env.info(&format!("retention: pruned version \"{}\" of dataset \"{}\" ({}): {}", p.version.version, inputs.dataset, p.version.snapshot_id, p.reason)),
            Err(e) => env.warn(&format!("retention: could not prune version \"{}\" ({}): {e}; it is kept and will be tried again after the next create", p.version.version, p.version.snapshot_id)),
        }
    }
}

/// During preview: warns which versions the coming create would let the rule prune.
pub async fn warn_planned(env: &Env, arm: &ArmClient, inputs: &Inputs, rule: Retention) {
    let ctx = env.op(default_timeouts::READ);
    let Ok(snapshots) = arm.list_snapshots(&inputs.resource_group_name, &ctx).await else {
        return;
    };
    let mut versions = versions_of(&inputs.dataset, &snapshots);
    // The version about to be created counts as the newest one.
    let planned = format!("(planned) {}", inputs.version);
    versions.push(Version {
        snapshot_id: planned.clone(),
        version: inputs.version.clone(),
        created: Some(now()),
        keep: false,
        retained: false,
    });
    versions.sort_by(|a, b| {
        compare_versions(&b.version, &a.version).then_with(|| b.created.cmp(&a.created))
    });
    let pruned = select(rule, &versions, &planned, now());
    if !pruned.is_empty() {
        let list: Vec<String> = pruned
            .iter()
            .map(|p| format!("\"{}\" ({})", p.version.version, p.reason))
            .collect();
        env.warn(&format!(
            "retention: creating version \"{}\" of dataset \"{}\" will prune {} retained version(s): {}",
            inputs.version, inputs.dataset, pruned.len(), list.join(", ")
        ));
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Parses the date and time of an RFC 3339 timestamp (`2024-06-01T12:30:00.123+00:00`)
/// into Unix seconds; fractions are dropped.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Offset: `Z`, or `+hh:mm`/`-hh:mm` after any fraction.
    let rest = &s[19..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest.as_bytes().first() {
        Some(b'+') | Some(b'-') if rest.len() >= 6 => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest.get(1..3)?.parse::<i64>().ok()? * 3600
                + rest.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => 0,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str, created_days_ago: i64, retained: bool, keep: bool) -> Version {
        Version {
            snapshot_id: format!("/s/{version}"),
            version: version.into(),
            created: Some(NOW - created_days_ago * 86_400),
            keep,
            retained,
        }
    }
    const NOW: i64 = 1_800_000_000;

    fn pruned(rule: Retention, vs: &[Version], current: &str) -> Vec<String> {
        select(rule, vs, current, NOW)
            .into_iter()
            .map(|p| p.version.version)
            .collect()
    }

    #[test]
    fn keep_last_prunes_retained_versions_oldest_first() {
        // newest first
        let vs = [
            v("4", 0, false, false),
            v("3", 1, false, false),
            v("2", 2, true, false),
            v("1", 3, true, false),
        ];
        assert_eq!(
            pruned(
                Retention {
                    keep_last: Some(2),
                    max_age_days: None
                },
                &vs,
                "/s/4"
            ),
            ["1", "2"]
        );
    }

    #[test]
    fn never_prunes_kept_held_or_current_versions() {
        let vs = [
            v("3", 0, false, false),
            v("2", 5, false, false),
            v("1", 9, true, true),
        ];
        assert!(pruned(
            Retention {
                keep_last: Some(1),
                max_age_days: None
            },
            &vs,
            "/s/3"
        )
        .is_empty());
    }

    #[test]
    fn max_age_prunes_old_retained_versions() {
        let vs = [
            v("3", 0, false, false),
            v("2", 10, true, false),
            v("1", 40, true, false),
        ];
        assert_eq!(
            pruned(
                Retention {
                    keep_last: None,
                    max_age_days: Some(30)
                },
                &vs,
                "/s/3"
            ),
            ["1"]
        );
    }

    #[test]
    fn versions_are_ordered_by_version_not_text() {
        let mk = |ver: &str| {
            let mut s = Snapshot {
                id: Some(format!("/s/{ver}")),
                ..Snapshot::default()
            };
            s.tags = [
                ("datasnap.dataset".to_string(), "d".to_string()),
                ("datasnap.version".to_string(), ver.to_string()),
            ]
            .into();
            s
        };
        let mut other = mk("99");
        other.tags.insert("datasnap.dataset".into(), "other".into());
        let got: Vec<String> = versions_of("d", &[mk("2"), mk("10"), mk("1"), other])
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(got, ["10", "2", "1"]);
    }

    #[test]
    fn rfc3339_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-06-01T12:30:00.1234567+00:00"),
            Some(1_717_245_000)
        );
        assert_eq!(
            parse_rfc3339("2024-06-01T14:30:00+02:00"),
            Some(1_717_245_000)
        );
        assert_eq!(parse_rfc3339("nope"), None);
    }
}
