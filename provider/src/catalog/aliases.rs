//! Aliases: named, movable pointers (`production`, `staging`) to one version of a dataset,
//! stored as a `datasnap.alias.<name>` tag on the version's snapshot whose value is the claim
//! of the `VersionAlias` resource that holds it ([`AliasTag`]).
//!
//! An alias is unique per dataset. Two resources may write the same alias at once (tags
//! have no create-only write), so who holds it is settled after each write by one rule both
//! sides compute alike ([`winner`]): the claim on a snapshot's key is that key's last
//! writer, and between two snapshots the smaller claim wins.

use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::Snapshot;

use super::tags::{AliasTag, VersionTags};

/// One snapshot of the dataset that carries the alias.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasHolder {
    pub snapshot: ResourceId,
    pub version: String,
    /// The tag's name as Azure holds it (alias names ignore case).
    pub key: String,
    pub tag: AliasTag,
}

/// Every snapshot of `dataset` among `snapshots` that carries alias `alias`.
pub fn holders(snapshots: &[Snapshot], dataset: &str, alias: &str) -> Vec<AliasHolder> {
    snapshots
        .iter()
        .filter_map(|s| {
            let t = VersionTags::decode(&s.tags).filter(|t| t.dataset == dataset)?;
            let (name, tag) = t
                .aliases
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(alias))?;
            let snapshot = ResourceId::parse(s.id.as_deref()?, ResourceKind::Snapshot).ok()?;
            Some(AliasHolder {
                snapshot,
                version: t.version.clone(),
                key: super::tags::alias_key(name),
                tag: tag.clone(),
            })
        })
        .collect()
}

/// Which claim holds the alias among `holders` (deterministic: the smallest claim), if any.
pub fn winner(holders: &[AliasHolder]) -> Option<&AliasHolder> {
    holders.iter().min_by(|a, b| a.tag.claim.cmp(&b.tag.claim))
}

/// The holders whose claim is not `claim`.
pub fn others<'a>(holders: &'a [AliasHolder], claim: &str) -> Vec<&'a AliasHolder> {
    holders.iter().filter(|h| h.tag.claim != claim).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn snap(name: &str, dataset: &str, version: &str, tags: &[(&str, &str)]) -> Snapshot {
        let mut t: BTreeMap<String, String> = [
            ("datasnap.dataset".to_string(), dataset.to_string()),
            ("datasnap.version".to_string(), version.to_string()),
        ]
        .into();
        for (k, v) in tags {
            t.insert(k.to_string(), v.to_string());
        }
        Snapshot {
            id: Some(format!(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/{name}"
            )),
            tags: t,
            ..Snapshot::default()
        }
    }

    #[test]
    fn holders_are_found_by_dataset_and_alias_ignoring_case() {
        let snaps = vec![
            snap(
                "a",
                "d",
                "1",
                &[("datasnap.alias.Production", "protected|urn:b")],
            ),
            snap("b", "d", "2", &[("datasnap.alias.production", "urn:a")]),
            snap("c", "other", "1", &[("datasnap.alias.production", "urn:c")]),
            snap("e", "d", "3", &[("datasnap.alias.staging", "urn:a")]),
        ];
        let h = holders(&snaps, "d", "PRODUCTION");
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].key, "datasnap.alias.Production");
        assert!(h[0].tag.protected);
        assert_eq!(winner(&h).unwrap().version, "2");
        assert_eq!(others(&h, "urn:a").len(), 1);
        assert!(holders(&snaps, "d", "canary").is_empty());
    }
}
