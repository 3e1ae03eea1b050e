//! VersionAlias's own rules, pure: Check (names), and Diff (a move is an update naming both
//! versions; a protected alias neither moves nor is replaced).

use super::types::{Inputs, Outputs};
use crate::resource::{Change, DiffResult, Failure, ResourceError, Rule, Severity, Unknowns};
use crate::resources::naming::{
    check_alias, check_dataset, check_resource_group, check_version, non_empty,
};

pub fn check(mut news: Inputs, unknowns: &Unknowns) -> (Inputs, Vec<Failure>) {
    let values: [(&str, Option<&str>, Rule); 4] = [
        (
            "resourceGroupName",
            non_empty(&news.resource_group_name),
            check_resource_group,
        ),
        ("dataset", non_empty(&news.dataset), check_dataset),
        ("alias", non_empty(&news.alias), check_alias),
        ("version", non_empty(&news.version), check_version),
    ];
    let f = Failure::check_each(values);
    if news.protected.is_none() && !unknowns.contains("protected") {
        news.protected = Some(false);
    }
    (news, f)
}

/// Names compare ignoring case, as Azure's resource group and tag names do.
pub fn same(property: &str, olds: &Outputs, news: &Inputs) -> Option<bool> {
    let old = &olds.inputs;
    Some(match property {
        "resourceGroupName" => old
            .resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name),
        "alias" => old.alias.eq_ignore_ascii_case(&news.alias),
        _ => return None,
    })
}

pub fn diff(
    olds: &Outputs,
    news: &Inputs,
    unknowns: &Unknowns,
    changes: Vec<Change>,
) -> Result<DiffResult, ResourceError> {
    let old = &olds.inputs;
    let moves = changes.iter().any(|c| c.path == "version");
    let replaced = changes.iter().find(|c| c.replace).cloned();
    if old.is_protected() {
        let first = "set `protected: false` and run `pulumi up` first, then";
        if let Some(c) = &replaced {
            return Err(ResourceError::Invalid {
                property: c.path.clone(),
                reason: format!(
                    "alias {:?} of dataset {:?} is protected: changing {} would delete it and make another; {first} change it",
                    old.alias, old.dataset, c.path
                ),
            });
        }
        if moves {
            let to = if unknowns.contains("version") {
                "a version not known yet".to_string()
            } else {
                format!("version {:?}", news.version)
            };
            return Err(ResourceError::Invalid {
                property: "version".into(),
                reason: format!(
                    "alias {:?} of dataset {:?} is protected: it cannot move from version {:?} to {to}; {first} move it (and protect it again in a later up if you like)",
                    old.alias, old.dataset, old.version
                ),
            });
        }
    }
    let note = (moves && replaced.is_none()).then(|| {
        let to = if unknowns.contains("version") {
            "a version known after the preview".to_string()
        } else {
            format!("version {:?}", news.version)
        };
        (
            Severity::Info,
            format!(
                "alias {:?} of dataset {:?} moves from version {:?} to {to}",
                old.alias, old.dataset, old.version
            ),
        )
    });
    Ok(DiffResult {
        changes,
        delete_before_replace: replaced.is_some(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::{Adapter, DynResource};
    use crate::resource::{json_map, ChangeKind};
    use crate::resources::version_alias::{VersionAlias, TOKEN};
    use crate::value::Props;

    fn inputs(version: &str, protected: bool) -> Inputs {
        Inputs {
            resource_group_name: "rg".into(),
            dataset: "training".into(),
            alias: "production".into(),
            version: version.into(),
            protected: Some(protected),
        }
    }

    fn outputs(i: Inputs) -> Outputs {
        Outputs {
            inputs: i,
            snapshot_id: "/s".into(),
            found_claim: None,
        }
    }

    fn adapter() -> Adapter<VersionAlias> {
        Adapter::new(VersionAlias, crate::schema::resource(TOKEN))
    }

    fn diff_of(old: Inputs, new: Inputs) -> Result<DiffResult, ResourceError> {
        let a = adapter();
        let olds = Props::new(json_map(&outputs(old)).unwrap());
        let news = Props::new(json_map(&new).unwrap());
        a.diff(&olds, &news)
    }

    #[test]
    fn check_names_each_bad_property() {
        let table: &[(Inputs, &str, &str)] = &[
            (
                Inputs {
                    alias: "latest".into(),
                    ..inputs("1", false)
                },
                "alias",
                "built-in alias",
            ),
            (
                Inputs {
                    alias: "prod/eu".into(),
                    ..inputs("1", false)
                },
                "alias",
                "contains '/'",
            ),
            (
                Inputs {
                    alias: "-x".into(),
                    ..inputs("1", false)
                },
                "alias",
                "starting with a letter or digit",
            ),
            (
                Inputs {
                    version: "latest".into(),
                    ..inputs("1", false)
                },
                "version",
                "reserved",
            ),
            (
                Inputs {
                    dataset: "a b".into(),
                    ..inputs("1", false)
                },
                "dataset",
                "contains ' '",
            ),
        ];
        for (i, property, reason) in table {
            let (_, f) = check(i.clone(), &Unknowns::default());
            assert_eq!(f.len(), 1, "{i:?}: {f:?}");
            assert_eq!(f[0].property, *property);
            assert!(f[0].reason.contains(reason), "{}", f[0].reason);
        }
        let (checked, f) = check(
            Inputs {
                protected: None,
                ..inputs("1", false)
            },
            &Unknowns::default(),
        );
        assert!(f.is_empty());
        assert_eq!(checked.protected, Some(false));
    }

    #[test]
    fn a_move_is_an_update_that_names_both_versions() {
        let d = diff_of(inputs("2", false), inputs("3", false)).unwrap();
        assert_eq!(d.kinds(), [("version", ChangeKind::Update)]);
        assert!(!d.replaces());
        let (severity, note) = d.note.unwrap();
        assert_eq!(severity, Severity::Info);
        assert!(
            note.contains("from version \"2\" to version \"3\""),
            "{note}"
        );
        // Case of the alias is not a change.
        let mut upper = inputs("2", false);
        upper.alias = "PRODUCTION".into();
        assert!(diff_of(inputs("2", false), upper)
            .unwrap()
            .changes
            .is_empty());
        // Another alias name or dataset replaces.
        let mut other = inputs("2", false);
        other.alias = "staging".into();
        assert!(diff_of(inputs("2", false), other).unwrap().replaces());
    }

    #[test]
    fn a_protected_alias_neither_moves_nor_is_replaced() {
        let e = diff_of(inputs("2", true), inputs("3", true))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("version: "), "{e}");
        assert!(e.contains("protected: false"), "{e}");
        // Not even while lifting the protection in the same up.
        assert!(diff_of(inputs("2", true), inputs("3", false)).is_err());
        let mut other = inputs("2", true);
        other.dataset = "eval".into();
        let e = diff_of(inputs("2", true), other).unwrap_err().to_string();
        assert!(e.starts_with("dataset: "), "{e}");
        // Lifting the protection alone is an update.
        let d = diff_of(inputs("2", true), inputs("2", false)).unwrap();
        assert_eq!(d.kinds(), [("protected", ChangeKind::Update)]);
    }
}
