//! VersionExport's own rules, pure: Check (one of version and alias, a duration Azure
//! grants) and Diff (a grant that has expired, or that Azure shows closed, is an update
//! that renews it).

use azure_core::time::{parse_rfc3339, OffsetDateTime};

use super::types::{Inputs, Outputs, MAX_SECONDS};
use crate::resource::{Change, ChangeKind, DiffResult, Failure, ResourceError, Severity, Unknowns};
use crate::resources::naming::{check_alias, check_dataset, check_resource_group, check_version};

/// A grant this close to its end is renewed by the next `up` (a download started now would
/// be cut short): a tenth of its duration, at most a minute.
pub const RENEW_WITHIN_SECONDS: i64 = 60;

fn renew_within(seconds: i64) -> i64 {
    (seconds / 10).min(RENEW_WITHIN_SECONDS)
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn check(news: Inputs, unknowns: &Unknowns) -> (Inputs, Vec<Failure>) {
    let mut f = Vec::new();
    if !news.resource_group_name.is_empty() {
        if let Err(e) = check_resource_group(&news.resource_group_name) {
            f.push(Failure::new("resourceGroupName", e));
        }
    }
    if !news.dataset.is_empty() {
        if let Err(e) = check_dataset(&news.dataset) {
            f.push(Failure::new("dataset", e));
        }
    }
    match (&news.version, &news.alias) {
        (Some(_), Some(_)) => f.push(Failure::new(
            "alias",
            "set either version or alias, not both",
        )),
        (None, None) if !unknowns.contains("version") && !unknowns.contains("alias") => {
            f.push(Failure::new(
                "version",
                "is required (or alias): the version to export, such as \"3\" or \"latest\", or set alias: \"production\"",
            ))
        }
        _ => {}
    }
    if let Some(v) = news
        .version
        .as_deref()
        .filter(|v| !v.eq_ignore_ascii_case("latest"))
    {
        if let Err(e) = check_version(v) {
            f.push(Failure::new("version", e));
        }
    }
    if let Some(Err(e)) = news.alias.as_deref().map(check_alias) {
        f.push(Failure::new("alias", e));
    }
    if let Some(s) = news
        .duration_seconds
        .filter(|s| !(1..=MAX_SECONDS).contains(s))
    {
        f.push(Failure::new(
            "durationSeconds",
            format!("must be from 1 to {MAX_SECONDS} (60 days, the longest SAS Azure grants on a snapshot); it is {s}"),
        ));
    }
    (news, f)
}

/// The generic diff, plus an update of `expiresAt` when the grant has ended (or ends within
/// [`renew_within`] of `now`): the drift an expired grant is.
pub fn diff(
    olds: &Outputs,
    _news: &Inputs,
    _unknowns: &Unknowns,
    mut changes: Vec<Change>,
    now: OffsetDateTime,
) -> Result<DiffResult, ResourceError> {
    let replaces = changes.iter().any(|c| c.replace);
    let ended = match parse_rfc3339(&olds.expires_at) {
        Ok(t) => (t - now).whole_seconds() <= renew_within(olds.inputs.seconds()),
        Err(_) => true,
    };
    let mut note = None;
    if ended && !replaces {
        changes.push(Change {
            path: "expiresAt".into(),
            kind: ChangeKind::Update,
            replace: false,
        });
        note = Some((
            Severity::Info,
            if olds.expires_at.is_empty() {
                format!("the export of version {:?} has no open access in Azure (it ended or was revoked): `pulumi up` grants it again", olds.exported_version)
            } else {
                format!("the export of version {:?} expired at {} (or expires within {} s): `pulumi up` renews it", olds.exported_version, olds.expires_at, renew_within(olds.inputs.seconds()))
            },
        ));
    }
    Ok(DiffResult {
        changes,
        // Create before delete: the new grant's tag keeps the old export's delete from
        // revoking the snapshot's (shared) access when both read the same snapshot.
        delete_before_replace: false,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::time::{to_rfc3339, Duration};

    fn inputs() -> Inputs {
        Inputs {
            resource_group_name: "rg".into(),
            dataset: "training".into(),
            version: Some("3".into()),
            ..Inputs::default()
        }
    }

    fn failures(i: Inputs) -> Vec<(String, String)> {
        check(i, &Unknowns::default())
            .1
            .into_iter()
            .map(|f| (f.property, f.reason))
            .collect()
    }

    #[test]
    fn check_wants_one_source_and_a_duration_azure_grants() {
        assert!(failures(inputs()).is_empty());
        let both = Inputs {
            alias: Some("production".into()),
            ..inputs()
        };
        assert_eq!(failures(both)[0].0, "alias");
        let none = Inputs {
            version: None,
            ..inputs()
        };
        assert_eq!(failures(none)[0].0, "version");
        let latest = Inputs {
            version: Some("latest".into()),
            ..inputs()
        };
        assert!(failures(latest).is_empty());
        for bad in [0, -5, MAX_SECONDS + 1] {
            let f = failures(Inputs {
                duration_seconds: Some(bad),
                ..inputs()
            });
            assert_eq!(f[0].0, "durationSeconds");
            assert!(f[0].1.contains("60 days"), "{}", f[0].1);
        }
        assert!(failures(Inputs {
            duration_seconds: Some(MAX_SECONDS),
            ..inputs()
        })
        .is_empty());
    }

    #[test]
    fn an_expired_or_closed_grant_is_an_update() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let outputs = |expires: String| Outputs {
            inputs: inputs(),
            exported_version: "3".into(),
            expires_at: expires,
            ..Outputs::default()
        };
        let open = outputs(to_rfc3339(&(now + Duration::hours(1))));
        let d = diff(&open, &inputs(), &Unknowns::default(), vec![], now).unwrap();
        assert!(d.changes.is_empty());
        for ended in [
            to_rfc3339(&(now - Duration::seconds(1))),
            to_rfc3339(&(now + Duration::seconds(30))),
            String::new(),
        ] {
            let d = diff(
                &outputs(ended.clone()),
                &inputs(),
                &Unknowns::default(),
                vec![],
                now,
            )
            .unwrap();
            assert_eq!(d.kinds(), [("expiresAt", ChangeKind::Update)], "{ended}");
            assert!(!d.replaces());
            assert!(d.note.unwrap().1.contains("pulumi up"));
        }
    }
}
