//! VersionedSnapshot's inputs and recorded state (the schema's properties, typed), and
//! what they say about the version: its Azure name and the tags it carries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::security::Security;

use crate::catalog::tags::{self, VersionTags};
use crate::catalog::Retention;
use crate::resources::naming::default_snapshot_name;

pub const TOKEN: &str = "datasnap:index:VersionedSnapshot";

/// `Retain` (default) or `Delete`.
pub const RETAIN: &str = "Retain";
pub const DELETE: &str = "Delete";

/// The inputs, as checked. Required strings are empty only while unknown (preview).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_group_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dataset: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_disk_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Place datasnap's `CanNotDelete` management lock on the snapshot (unset: no lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<bool>,
    /// publicNetworkAccess, networkAccessPolicy, diskAccessId, dataAccessAuthMode, encryption.
    #[serde(flatten)]
    pub security: Security,
}

/// The recorded state: the inputs with defaults applied, plus what Azure reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    #[serde(flatten)]
    pub inputs: Inputs,
    #[serde(default)]
    pub snapshot_id: String,
    #[serde(default)]
    pub time_created: String,
    #[serde(default)]
    pub disk_size_gb: i64,
    #[serde(default)]
    pub disk_size_bytes: f64,
    #[serde(default)]
    pub provisioning_state: String,
    #[serde(default)]
    pub unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_snapshot_family_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_percent: Option<f64>,
    /// The snapshot carries the release marker (`datasnap.retained`), so retention may prune
    /// it; set when a released version is imported again, cleared by the next update.
    #[serde(default)]
    pub retained: bool,
    /// datasnap's own tags (`datasnap.*`) as Azure held them at the last create, read or
    /// update: what Diff compares with what the stack wrote, to show out-of-band edits.
    /// Provider bookkeeping, not a schema output (`None` in state written before it).
    #[serde(
        rename = "__datasnapTags",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub found_tags: Option<BTreeMap<String, String>>,
}

impl Inputs {
    /// The default Azure name of this version for the resource that `owner` claims
    /// (`None` while the dataset or version is unknown). Check records it as `snapshotName`,
    /// so checked inputs always carry the name.
    pub fn default_name(&self, owner: &str) -> Option<String> {
        (!self.dataset.is_empty() && !self.version.is_empty())
            .then(|| default_snapshot_name(&self.dataset, &self.version, owner))
    }

    /// The version is to carry datasnap's management lock.
    pub fn locked(&self) -> bool {
        self.lock == Some(true)
    }

    pub fn deletion_policy(&self) -> &str {
        self.deletion_policy.as_deref().unwrap_or(RETAIN)
    }

    /// The tags this version carries in Azure.
    pub fn version_tags(&self) -> VersionTags {
        VersionTags {
            dataset: self.dataset.clone(),
            version: self.version.clone(),
            deletion_policy: Some(self.deletion_policy().to_string()),
            retention: self.retention,
            keep: self
                .tags
                .as_ref()
                .and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(tags::KEEP)))
                .map(|(_, v)| v.clone()),
            retained: false,
            claim: None,
            metadata: self.metadata.clone().unwrap_or_default(),
            user: self
                .tags
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(tags::KEEP))
                .collect(),
            ..VersionTags::default()
        }
    }
}
