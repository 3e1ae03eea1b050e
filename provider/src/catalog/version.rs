//! One version of a dataset as the catalog sees it (the schema's `DatasetVersion`), and the
//! catalog's one order of versions: version order, then creation time, then snapshot name.
//!
//! Creation times are Azure's RFC 3339 `timeCreated`, parsed by `azure_core::time` (pure
//! parsing, no HTTP).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use azure_core::time::{parse_rfc3339, OffsetDateTime};
use serde::{Deserialize, Serialize};

use super::order::compare_versions;

/// One version of a dataset (the schema's `DatasetVersion`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetVersion {
    pub dataset: String,
    pub version: String,
    pub snapshot_id: String,
    pub snapshot_name: String,
    pub resource_group_name: String,
    pub location: String,
    pub time_created: String,
    pub disk_size_gb: i64,
    pub disk_size_bytes: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    pub incremental: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental_snapshot_family_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub retained: bool,
    pub keep: bool,
    pub provisioning_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_percent: Option<f64>,
    /// The aliases that point at this version (`datasnap.alias.<name>` tags), sorted.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Someone can read the version through a SAS now (Azure's `diskState: ActiveSAS`, or
    /// an export's tag): not part of the schema's type.
    #[serde(skip)]
    pub access_open: bool,
    /// The stack resource that holds it (`datasnap.claim`); not part of the schema's type.
    #[serde(skip)]
    pub claim: Option<String>,
    /// Its `datasnap.deletionPolicy`; not part of the schema's type.
    #[serde(skip)]
    pub deletion_policy: Option<String>,
}

impl DatasetVersion {
    /// Provisioned, and (for a copy) copied to 100%.
    pub fn is_complete(&self) -> bool {
        matches!(self.provisioning_state.as_str(), "" | "Succeeded")
            && self.completion_percent.is_none_or(|p| p >= 100.0)
    }

    /// When Azure created the snapshot; `None` when it did not say, or not in RFC 3339.
    pub fn created(&self) -> Option<OffsetDateTime> {
        parse_rfc3339(&self.time_created).ok()
    }

    /// The catalog's order: version order, then creation time (an unknown time first), then
    /// snapshot name.
    pub fn order(&self, other: &DatasetVersion) -> Ordering {
        compare_versions(&self.version, &other.version)
            .then_with(|| self.created().cmp(&other.created()))
            .then_with(|| self.snapshot_name.cmp(&other.snapshot_name))
    }
}

/// Sorts versions into the catalog's order, oldest first.
pub fn sort(versions: &mut [DatasetVersion]) {
    versions.sort_by(DatasetVersion::order);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str, created: &str, name: &str) -> DatasetVersion {
        DatasetVersion {
            version: version.into(),
            time_created: created.into(),
            snapshot_name: name.into(),
            ..DatasetVersion::default()
        }
    }

    fn sorted(mut vs: Vec<DatasetVersion>) -> Vec<String> {
        sort(&mut vs);
        vs.into_iter()
            .map(|v| format!("{}@{}", v.version, v.snapshot_name))
            .collect()
    }

    #[test]
    fn version_order_comes_first() {
        let t = "2024-06-01T00:00:00Z";
        assert_eq!(
            sorted(vec![v("10", t, "a"), v("2", t, "b"), v("1", t, "c")]),
            ["1@c", "2@b", "10@a"]
        );
        assert_eq!(
            sorted(vec![
                v("1.10.0", t, "a"),
                v("1.2.0", t, "b"),
                v("1.2.0-rc.1", t, "c")
            ]),
            ["1.2.0-rc.1@c", "1.2.0@b", "1.10.0@a"]
        );
        assert_eq!(
            sorted(vec![v("2024-10-01", t, "a"), v("2023-12-31", t, "b")]),
            ["2023-12-31@b", "2024-10-01@a"]
        );
    }

    #[test]
    fn equal_versions_are_ordered_by_creation_time_as_instants() {
        // The same instant written two ways, and a later one written with a fraction.
        let got = sorted(vec![
            v("1", "2024-06-01T12:00:00.5+00:00", "late"),
            v("1", "2024-06-01T14:00:00+02:00", "b"),
            v("1", "2024-06-01T12:00:00Z", "a"),
            v("1", "not a time", "unknown"),
        ]);
        assert_eq!(got, ["1@unknown", "1@a", "1@b", "1@late"]);
    }

    #[test]
    fn equal_versions_and_times_are_ordered_by_name() {
        let t = "2024-06-01T00:00:00Z";
        assert_eq!(
            sorted(vec![v("1", t, "snap-b"), v("1", t, "snap-a")]),
            ["1@snap-a", "1@snap-b"]
        );
    }

    #[test]
    fn created_parses_azure_timestamps() {
        let c = |s: &str| v("1", s, "n").created().map(|t| t.unix_timestamp());
        assert_eq!(c("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(c("2024-06-01T12:30:00.1234567+00:00"), Some(1_717_245_000));
        assert_eq!(c("2024-06-01T14:30:00+02:00"), Some(1_717_245_000));
        assert_eq!(c("nope"), None);
        assert_eq!(c(""), None);
    }

    #[test]
    fn completeness() {
        let mut x = v("1", "", "n");
        assert!(x.is_complete());
        x.provisioning_state = "Updating".into();
        assert!(!x.is_complete());
        x.provisioning_state = "Succeeded".into();
        x.completion_percent = Some(40.0);
        assert!(!x.is_complete());
        x.completion_percent = Some(100.0);
        assert!(x.is_complete());
    }
}
