//! RestoredDisk's inputs and recorded state (the schema's properties, typed), the tags
//! that record what a disk was restored from, and the disk's default name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::security::Security;

use crate::azure::id::{ResourceId, ResourceKind};
use crate::resources::naming::{version_name, MAX_NAME};

pub const TOKEN: &str = "datasnap:index:RestoredDisk";

/// Tags recording what the disk was restored from.
pub(super) const TAG_SNAPSHOT: &str = "datasnap.restored.snapshotId";
pub(super) const TAG_DATASET: &str = "datasnap.restored.dataset";
pub(super) const TAG_VERSION: &str = "datasnap.restored.version";
pub(super) const TAG_REQUESTED: &str = "datasnap.restored.requestedVersion";
pub(super) const TAG_ALIAS: &str = "datasnap.restored.alias";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// An alias of the dataset (`production`): the version it points at when the disk is
    /// created (recorded in `restoredVersion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_size_gb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// publicNetworkAccess, networkAccessPolicy, diskAccessId, dataAccessAuthMode, encryption.
    #[serde(flatten)]
    pub security: Security,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    #[serde(flatten)]
    pub inputs: Inputs,
    #[serde(default)]
    pub disk_id: String,
    #[serde(default)]
    pub restored_snapshot_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_version: Option<String>,
    #[serde(default)]
    pub time_created: String,
    #[serde(default)]
    pub disk_size_bytes: f64,
    #[serde(default)]
    pub provisioning_state: String,
    #[serde(default)]
    pub unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_state: Option<String>,
}

pub(super) fn cut_name(base: &str, suffix: &str) -> String {
    let keep = MAX_NAME.saturating_sub(suffix.len());
    let mut b: String = base.chars().take(keep).collect();
    while b.ends_with('-') {
        b.pop();
    }
    format!("{b}{suffix}")
}

impl Inputs {
    /// The disk's name: explicit, or derived from its source (`None` while unknown).
    pub fn effective_name(&self) -> Option<String> {
        if let Some(n) = &self.disk_name {
            return Some(n.clone());
        }
        if let Some(id) = &self.source_snapshot_id {
            return ResourceId::parse(id, ResourceKind::Snapshot)
                .ok()
                .map(|r| cut_name(&r.name, "-disk"));
        }
        if let (Some(d), Some(a)) = (&self.dataset, &self.alias) {
            let base = format!("{}-{}", d, a.to_ascii_lowercase());
            return Some(cut_name(&base, "-disk"));
        }
        match (&self.dataset, &self.version) {
            (Some(d), Some(v)) if v.eq_ignore_ascii_case("latest") => {
                Some(cut_name(&version_name(d, "latest"), "-disk").replace("-vlatest-", "-latest-"))
            }
            (Some(d), Some(v)) => Some(cut_name(&version_name(d, v), "-disk")),
            _ => None,
        }
    }

    pub(super) fn source_group(&self) -> &str {
        self.source_resource_group_name
            .as_deref()
            .unwrap_or(&self.resource_group_name)
    }
}
