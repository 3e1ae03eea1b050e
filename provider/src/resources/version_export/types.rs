//! VersionExport's inputs and recorded state. Its id is the ARM id of the snapshot it reads
//! followed by `#export`.

use serde::{Deserialize, Serialize};

pub const TOKEN: &str = "datasnap:index:VersionExport";

/// How long a grant lasts when `durationSeconds` is not set.
pub const DEFAULT_SECONDS: i64 = 3600;
/// Azure's longest SAS on a disk or snapshot: 60 days (since 15 February 2025, "Generate a
/// SAS for a managed disk or snapshot": longer grants are refused).
pub const MAX_SECONDS: i64 = 5_184_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_group_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
}

impl Inputs {
    pub fn seconds(&self) -> i64 {
        self.duration_seconds.unwrap_or(DEFAULT_SECONDS)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    #[serde(flatten)]
    pub inputs: Inputs,
    /// The ARM id of the version's snapshot.
    #[serde(default)]
    pub snapshot_id: String,
    /// The version the export reads (what `alias` or `latest` named at create).
    #[serde(default)]
    pub exported_version: String,
    /// The SAS URL (a secret, by the schema).
    #[serde(default)]
    pub access_sas: String,
    /// When the grant ends (RFC 3339); empty once Azure shows the access closed.
    #[serde(default)]
    pub expires_at: String,
}

/// The resource's id for the snapshot it reads.
pub fn export_id(snapshot_id: &str) -> String {
    format!("{snapshot_id}#export")
}
