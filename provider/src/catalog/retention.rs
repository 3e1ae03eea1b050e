//! The retention rule: its one type (VersionedSnapshot's `retention` input and the
//! `datasnap.retention` tag), and which versions it selects for pruning.
//!
//! Selection is pure. A version is selected when the rule reaches it (beyond `keepLast` in
//! the catalog's order, or created more than `maxAgeDays` ago) and it is safe to prune: it
//! has been released by its stack (`datasnap.retained`), it is not marked `datasnap.keep`,
//! no alias points at it, and it is not the version just created. A selected version that
//! someone is reading through an open export is held ([`Prune::held`]): pruning skips it
//! with a warning instead of cutting the download short. Pruning itself is [`super::prune`].

use azure_core::time::OffsetDateTime;
use serde::{Deserialize, Serialize};

use super::version::DatasetVersion;
use crate::azure::id::ids_equal;

/// The most incremental snapshots Azure keeps of one disk at a time, so the most versions
/// `keepLast` can ask for. Microsoft documents it under "Restrictions" in "Create an
/// incremental snapshot for managed disks"
/// (learn.microsoft.com/azure/virtual-machines/disks-incremental-snapshots): "You can create
/// a total of 500 incremental snapshots for a single disk" (at any one time).
pub const MAX_KEEP_LAST: i64 = 500;
/// The longest `maxAgeDays`: about a hundred years.
pub const MAX_AGE_DAYS: i64 = 36_500;

/// Which old versions to prune after a create. The fields are wide integers so that a value
/// out of range reaches Check's rule ([`Retention::check`]) and its message, instead of
/// failing to decode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<i64>,
}

impl Retention {
    /// Neither part is set: the rule prunes nothing.
    pub fn is_empty(&self) -> bool {
        self.keep_last.is_none() && self.max_age_days.is_none()
    }

    /// Each part set outside its range, as (property, reason); the reason quotes the value.
    pub fn check(&self) -> Vec<(&'static str, String)> {
        let parts = [
            ("keepLast", self.keep_last, MAX_KEEP_LAST, " (at most as many incremental snapshots as Azure keeps of one disk; at least the version just created)"),
            ("maxAgeDays", self.max_age_days, MAX_AGE_DAYS, ""),
        ];
        parts
            .into_iter()
            .filter_map(|(name, value, max, why)| {
                let v = value.filter(|v| !(1..=max).contains(v))?;
                Some((name, format!("must be from 1 to {max}{why}; it is {v}")))
            })
            .collect()
    }

    /// The `datasnap.retention` tag value: `keepLast=N,maxAgeDays=D`, an unset part left out.
    pub fn encode(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = self.keep_last {
            parts.push(format!("keepLast={n}"));
        }
        if let Some(d) = self.max_age_days {
            parts.push(format!("maxAgeDays={d}"));
        }
        parts.join(",")
    }

    /// Reads a `datasnap.retention` tag value; parts it does not understand are ignored.
    pub fn decode(s: &str) -> Retention {
        let mut r = Retention::default();
        for part in s.split(',') {
            match part.split_once('=') {
                Some(("keepLast", n)) => r.keep_last = n.trim().parse().ok(),
                Some(("maxAgeDays", n)) => r.max_age_days = n.trim().parse().ok(),
                _ => {}
            }
        }
        r
    }
}

/// A version the rule prunes, and why (for the log).
#[derive(Debug, Clone, PartialEq)]
pub struct Prune<'a> {
    pub version: &'a DatasetVersion,
    pub reason: String,
    /// Why the version must not be deleted now although the rule reaches it.
    pub held: Option<String>,
}

/// The versions the rule prunes, oldest first. `versions` is in the catalog's order (oldest
/// first, see [`super::version::sort`]); `current` is the snapshot id of the version just
/// created.
pub fn select<'a>(
    rule: Retention,
    versions: &'a [DatasetVersion],
    current: &str,
    now: OffsetDateTime,
) -> Vec<Prune<'a>> {
    let mut out = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        // How many versions are newer than this one.
        let newer = versions.len() - 1 - i;
        let beyond = rule
            .keep_last
            .is_some_and(|n| newer >= usize::try_from(n.max(1)).unwrap_or(usize::MAX));
        let too_old = match (rule.max_age_days, v.created()) {
            (Some(max), Some(created)) => (now - created).whole_days() > max,
            _ => false,
        };
        if !(beyond || too_old)
            || ids_equal(&v.snapshot_id, current)
            || v.keep
            || !v.retained
            || !v.aliases.is_empty()
        {
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
        let held = v.access_open.then(|| {
            "it has open access (an export's SAS); it is pruned once the access ends".to_string()
        });
        out.push(Prune {
            version: v,
            reason,
            held,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use azure_core::time::{to_rfc3339, Duration};

    use super::*;
    use crate::catalog::version::sort;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn v(version: &str, created_days_ago: i64, retained: bool, keep: bool) -> DatasetVersion {
        DatasetVersion {
            snapshot_id: format!("/s/{version}"),
            version: version.into(),
            time_created: to_rfc3339(&(now() - Duration::days(created_days_ago))),
            keep,
            retained,
            ..DatasetVersion::default()
        }
    }

    fn rule(keep_last: Option<i64>, max_age_days: Option<i64>) -> Retention {
        Retention {
            keep_last,
            max_age_days,
        }
    }

    /// Sorts `vs` into the catalog's order first, as the catalog does.
    fn pruned(rule: Retention, mut vs: Vec<DatasetVersion>, current: &str) -> Vec<String> {
        sort(&mut vs);
        select(rule, &vs, current, now())
            .into_iter()
            .map(|p| p.version.version.clone())
            .collect()
    }

    #[test]
    fn keep_last_prunes_retained_versions_oldest_first() {
        let vs = vec![
            v("4", 0, false, false),
            v("10", 1, false, false),
            v("2", 2, true, false),
            v("1", 3, true, false),
        ];
        // Version order, not text: "10" is the newest, so "4" is kept too.
        assert_eq!(pruned(rule(Some(2), None), vs, "/s/10"), ["1", "2"]);
    }

    #[test]
    fn never_prunes_kept_held_or_current_versions() {
        let vs = vec![
            v("3", 0, false, false),
            v("2", 5, false, false),
            v("1", 9, true, true),
        ];
        assert!(pruned(rule(Some(1), None), vs, "/s/3").is_empty());
        // The current version is never pruned, even when the rule reaches it.
        let vs = vec![v("2", 0, true, false), v("1", 40, true, false)];
        assert_eq!(
            pruned(rule(None, Some(30)), vs.clone(), "/s/1"),
            Vec::<String>::new()
        );
        assert_eq!(pruned(rule(Some(1), None), vs, "/S/2"), ["1"]);
    }

    #[test]
    fn an_aliased_version_is_never_pruned_and_one_with_open_access_is_held() {
        let mut aliased = v("1", 40, true, false);
        aliased.aliases = vec!["production".into()];
        let mut reading = v("2", 40, true, false);
        reading.access_open = true;
        let mut vs = vec![aliased, reading, v("3", 0, false, false)];
        sort(&mut vs);
        let got = select(rule(Some(1), None), &vs, "/s/3", now());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].version.version, "2");
        assert!(got[0].held.as_deref().unwrap().contains("open access"));
    }

    #[test]
    fn max_age_prunes_old_retained_versions() {
        let vs = vec![
            v("3", 0, false, false),
            v("2", 10, true, false),
            v("1", 40, true, false),
        ];
        assert_eq!(pruned(rule(None, Some(30)), vs, "/s/3"), ["1"]);
    }

    #[test]
    fn a_version_of_unknown_age_is_never_too_old() {
        let mut old = v("1", 40, true, false);
        old.time_created = "garbage".into();
        let vs = vec![v("2", 0, false, false), old];
        assert!(pruned(rule(None, Some(30)), vs, "/s/2").is_empty());
    }

    #[test]
    fn reasons_name_the_rule() {
        let vs = vec![v("1", 40, true, false), v("2", 0, false, false)];
        let got = select(rule(Some(1), Some(30)), &vs, "/s/2", now());
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].reason,
            "beyond keepLast=1 and older than maxAgeDays=30"
        );
    }

    #[test]
    fn tag_encoding_round_trips_and_parses_partial_values() {
        let r = rule(Some(3), Some(30));
        assert_eq!(r.encode(), "keepLast=3,maxAgeDays=30");
        assert_eq!(Retention::decode(&r.encode()), r);
        assert_eq!(Retention::decode("maxAgeDays=30"), rule(None, Some(30)));
        assert_eq!(Retention::decode("garbage"), Retention::default());
        assert!(Retention::decode("garbage").is_empty());
        assert_eq!(Retention::default().encode(), "");
    }

    #[test]
    fn input_serde_is_camel_case_and_leaves_unset_parts_out() {
        let r: Retention = serde_json::from_str(r#"{"keepLast":2}"#).unwrap();
        assert_eq!(r, rule(Some(2), None));
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"keepLast":2}"#);
    }
}
