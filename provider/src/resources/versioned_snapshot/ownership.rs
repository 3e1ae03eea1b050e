//! Who holds a snapshot, as pure rules over what Azure reports.
//!
//! A stack resource writes its claim (`datasnap.claim`, its URN: see
//! [`tags::claim_for`]) at create and at every update. The claim and the snapshot's
//! `uniqueId`, recorded in state, are what every later read, update and delete compares
//! with Azure:
//!
//! - the same claim and `uniqueId`: this resource holds the snapshot;
//! - no claim (a version made before claims, or an import): held, and claimed at the
//!   next update;
//! - another claim, or another `uniqueId` (deleted and made again under the same name):
//!   taken over. Nothing modifies or deletes it; Delete releases it from the stack only.
//!
//! A create that finds a snapshot at its name with its own claim, dataset, version and
//! source adopts it: it is what an earlier `up` of this very resource made before it was
//! killed.
//!
//! A dataset version is held by one snapshot per region. Default names differ per
//! resource (see `naming::default_snapshot_name`), so two stacks taking the same version
//! at once write two snapshots; each create then lists the dataset and, if another
//! snapshot carries the same version in the same region, the first one ([`first_holder`]:
//! oldest `timeCreated`, then name) keeps it and the other's creator deletes what it just
//! made. Every writer reads the same answer, so exactly one wins.

use std::collections::BTreeMap;

use super::types::Inputs;
use crate::azure::id::ids_equal;
use crate::azure::models::Snapshot;
use crate::catalog::{tags, DatasetVersion};
use crate::resources::naming::normalize_location;

/// Who holds a snapshot, as far as this stack resource can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// This resource (its claim), or nobody yet (no claim on it).
    Us,
    /// Another stack resource's claim is on it.
    Other(String),
    /// Its `uniqueId` is not the one recorded: the snapshot was deleted and made again.
    Replaced { recorded: String, found: String },
}

impl Holder {
    /// The reason, for messages: "is claimed by ..." / "was deleted and made again ...".
    pub fn describe(&self) -> String {
        match self {
            Holder::Us => "is held by this stack".into(),
            Holder::Other(claim) => format!("is claimed by {claim}"),
            Holder::Replaced { recorded, found } => format!(
                "was deleted and made again by someone else (uniqueId {found}, this stack recorded {recorded})"
            ),
        }
    }
}

/// Who holds `snap`, for the resource whose claim is `claim` and whose state recorded
/// `unique_id` (empty when unknown).
pub fn holder(snap: &Snapshot, claim: &str, unique_id: &str) -> Holder {
    let found_id = snap.properties.unique_id.clone().unwrap_or_default();
    if !unique_id.is_empty() && !found_id.is_empty() && !found_id.eq_ignore_ascii_case(unique_id) {
        return Holder::Replaced {
            recorded: unique_id.to_string(),
            found: found_id,
        };
    }
    match claim_on(snap) {
        Some(c) if c != claim => Holder::Other(c),
        _ => Holder::Us,
    }
}

/// The claim written on a snapshot, if any.
pub fn claim_on(snap: &Snapshot) -> Option<String> {
    tags::VersionTags::decode(&snap.tags).and_then(|t| t.claim)
}

/// True when `snap` is what an earlier, unfinished create of this same resource made:
/// its claim, dataset, version and source are this resource's.
pub fn adoptable(snap: &Snapshot, inputs: &Inputs, claim: &str) -> bool {
    let Some(t) = tags::VersionTags::decode(&snap.tags) else {
        return false;
    };
    let source = inputs
        .source_disk_id
        .as_ref()
        .or(inputs.source_snapshot_id.as_ref());
    let found_source = snap.properties.creation_data.source_resource_id.as_ref();
    t.claim.as_deref() == Some(claim)
        && t.dataset == inputs.dataset
        && t.version == inputs.version
        && matches!((source, found_source), (Some(a), Some(b)) if ids_equal(a, b))
}

/// The other snapshots among `listed` that carry `mine`'s dataset version in its region.
pub fn rivals<'a>(mine: &DatasetVersion, listed: &'a [DatasetVersion]) -> Vec<&'a DatasetVersion> {
    listed
        .iter()
        .filter(|v| {
            v.dataset == mine.dataset
                && v.version == mine.version
                && normalize_location(&v.location) == normalize_location(&mine.location)
                && !ids_equal(&v.snapshot_id, &mine.snapshot_id)
        })
        .collect()
}

/// Which of the snapshots carrying one version holds it: the oldest (`timeCreated`, then
/// the name ignoring case), so every writer settles on the same one.
pub fn first_holder<'a>(
    mine: &'a DatasetVersion,
    rivals: &[&'a DatasetVersion],
) -> &'a DatasetVersion {
    let key = |v: &DatasetVersion| (v.created(), v.snapshot_name.to_ascii_lowercase());
    rivals
        .iter()
        .copied()
        .fold(mine, |best, v| if key(v) < key(best) { v } else { best })
}

/// The tags an update writes: ours, plus every key in datasnap's namespace that another
/// resource owns (for example aliases), as found in Azure, so that concurrent writers
/// never erase each other's keys.
pub fn merged_tags(
    ours: BTreeMap<String, String>,
    found: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = ours;
    for (k, v) in found {
        if tags::is_datasnap_key(k) && !tags::is_own_key(k) {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

/// The tag writes that turn `found` into [`merged_tags`]`(ours, found)` touching only the
/// keys that change: what to `Merge` (new or changed values, or a new spelling of a name)
/// and what to `Delete` (names this resource no longer writes, with the value found, so a
/// concurrent change of that tag is not deleted blindly). Names compare ignoring case, as
/// Azure's do.
pub fn tag_writes(
    ours: BTreeMap<String, String>,
    found: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let target = merged_tags(ours, found);
    let lookup = |m: &BTreeMap<String, String>, k: &str| {
        m.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(k))
            .map(|(n, v)| (n.clone(), v.clone()))
    };
    let merge = target
        .iter()
        .filter(|(k, v)| lookup(found, k).as_ref() != Some(&((*k).clone(), (*v).clone())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let delete = found
        .iter()
        .filter(|(k, _)| lookup(&target, k).is_none())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (merge, delete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::models::{CreationData, SnapshotProperties};

    const DISK: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d";
    const US: &str = "urn:pulumi:dev::p::datasnap:index:VersionedSnapshot::data";
    const THEM: &str = "urn:pulumi:prod::p::datasnap:index:VersionedSnapshot::data";

    fn snap(claim: Option<&str>, unique_id: &str) -> Snapshot {
        let mut tags: BTreeMap<String, String> = [
            ("datasnap.dataset".to_string(), "data".to_string()),
            ("datasnap.version".to_string(), "1".to_string()),
        ]
        .into();
        if let Some(c) = claim {
            tags.insert("datasnap.claim".into(), c.into());
        }
        Snapshot {
            tags,
            properties: SnapshotProperties {
                unique_id: Some(unique_id.into()),
                creation_data: CreationData {
                    source_resource_id: Some(DISK.to_ascii_uppercase()),
                    ..CreationData::default()
                },
                ..SnapshotProperties::default()
            },
            ..Snapshot::default()
        }
    }

    fn inputs() -> Inputs {
        Inputs {
            dataset: "data".into(),
            version: "1".into(),
            source_disk_id: Some(DISK.into()),
            ..Inputs::default()
        }
    }

    #[test]
    fn the_claim_and_unique_id_decide_who_holds_it() {
        assert_eq!(holder(&snap(Some(US), "u1"), US, "u1"), Holder::Us);
        assert_eq!(holder(&snap(None, "u1"), US, "u1"), Holder::Us);
        assert_eq!(holder(&snap(Some(US), "u1"), US, ""), Holder::Us);
        assert_eq!(
            holder(&snap(Some(THEM), "u1"), US, "u1"),
            Holder::Other(THEM.into())
        );
        assert!(matches!(
            holder(&snap(Some(US), "u2"), US, "u1"),
            Holder::Replaced { .. }
        ));
    }

    #[test]
    fn only_its_own_unfinished_create_is_adopted() {
        assert!(adoptable(&snap(Some(US), "u"), &inputs(), US));
        assert!(!adoptable(&snap(Some(THEM), "u"), &inputs(), US));
        assert!(!adoptable(&snap(None, "u"), &inputs(), US));
        let mut other_version = inputs();
        other_version.version = "2".into();
        assert!(!adoptable(&snap(Some(US), "u"), &other_version, US));
        let mut other_source = inputs();
        other_source.source_disk_id = Some(format!("{DISK}2"));
        assert!(!adoptable(&snap(Some(US), "u"), &other_source, US));
    }

    fn version(name: &str, version: &str, location: &str, created: &str) -> DatasetVersion {
        DatasetVersion {
            dataset: "data".into(),
            version: version.into(),
            snapshot_id: format!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/{name}"
            ),
            snapshot_name: name.into(),
            location: location.into(),
            time_created: created.into(),
            ..DatasetVersion::default()
        }
    }

    #[test]
    fn the_first_snapshot_of_a_version_holds_it() {
        let t1 = "2026-11-30T10:00:00.1000000+00:00";
        let t2 = "2026-11-30T10:00:00.2000000+00:00";
        let mine = version("data-v1-aaaaaa", "1", "westus", t2);
        let listed = vec![
            version("DATA-V1-AAAAAA", "1", "westus", t2), // mine, as listed
            version("data-v1-bbbbbb", "1", "West US", t1),
            version("data-v2-bbbbbb", "2", "westus", t1),
            version("data-v1-cccccc", "1", "eastus", t1), // a copy in another region
        ];
        let r = rivals(&mine, &listed);
        assert_eq!(
            r.iter()
                .map(|v| v.snapshot_name.as_str())
                .collect::<Vec<_>>(),
            ["data-v1-bbbbbb"]
        );
        assert_eq!(first_holder(&mine, &r).snapshot_name, "data-v1-bbbbbb");
        // Seen from the other side, the answer is the same.
        let theirs = version("data-v1-bbbbbb", "1", "westus", t1);
        let seen = [mine.clone()];
        let r2 = rivals(&theirs, &seen);
        assert_eq!(first_holder(&theirs, &r2).snapshot_name, "data-v1-bbbbbb");
        // Created in the same instant: the name decides, the same way for both.
        let a = version("data-v1-aaaaaa", "1", "westus", t1);
        let b = version("data-v1-bbbbbb", "1", "westus", t1);
        assert_eq!(first_holder(&a, &[&b]).snapshot_name, "data-v1-aaaaaa");
        assert_eq!(first_holder(&b, &[&a]).snapshot_name, "data-v1-aaaaaa");
        assert!(rivals(&a, &[]).is_empty());
    }

    #[test]
    fn tag_writes_touch_only_what_changes() {
        let m = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let found = m(&[
            ("datasnap.dataset", "data"),
            ("datasnap.version", "99"),
            ("datasnap.alias.production", "1"),
            ("Team", "ml"),
            ("owner", "ops"),
        ]);
        let ours = m(&[
            ("datasnap.dataset", "data"),
            ("datasnap.version", "1"),
            ("team", "ml"),
        ]);
        let (merge, delete) = tag_writes(ours.clone(), &found);
        assert_eq!(
            merge,
            m(&[("datasnap.version", "1"), ("team", "ml")]),
            "changed values and spellings"
        );
        assert_eq!(
            delete,
            m(&[("owner", "ops")]),
            "the program's tags are authoritative; aliases stay"
        );
        let (merge, delete) = tag_writes(ours.clone(), &merged_tags(ours, &found));
        assert!(
            merge.is_empty() && delete.is_empty(),
            "nothing to write twice"
        );
    }

    #[test]
    fn an_update_keeps_keys_that_others_own() {
        let ours: BTreeMap<String, String> = [
            ("datasnap.dataset".to_string(), "data".to_string()),
            ("team".to_string(), "ml".to_string()),
        ]
        .into();
        let found: BTreeMap<String, String> = [
            ("datasnap.dataset".to_string(), "changed".to_string()),
            ("datasnap.alias.production".to_string(), "1".to_string()),
            ("owner".to_string(), "ops".to_string()),
        ]
        .into();
        let merged = merged_tags(ours, &found);
        assert_eq!(merged["datasnap.dataset"], "data");
        assert_eq!(merged["datasnap.alias.production"], "1");
        assert!(
            !merged.contains_key("owner"),
            "the program's tags are authoritative"
        );
    }
}
