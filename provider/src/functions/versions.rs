//! `getVersions` and `getVersion`: a dataset's versions, found by their tags in Azure and
//! ordered the way people order versions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Function;
use crate::azure::client::default_timeouts;
use crate::azure::models::Snapshot;
use crate::azure::ArmClient;
use crate::resource::{Env, Failure, ResourceError};
use crate::resources::naming::{check_dataset, check_resource_group, compare_versions};
use crate::resources::tags::VersionTags;

pub const GET_VERSIONS: &str = "datasnap:index:getVersions";
pub const GET_VERSION: &str = "datasnap:index:getVersion";

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
}

impl DatasetVersion {
    /// Provisioned, and (for a copy) copied to 100%.
    pub fn is_complete(&self) -> bool {
        matches!(self.provisioning_state.as_str(), "" | "Succeeded")
            && self.completion_percent.is_none_or(|p| p >= 100.0)
    }

    /// The version a snapshot holds, if it is a datasnap version.
    pub fn from_snapshot(s: &Snapshot, resource_group: &str) -> Option<DatasetVersion> {
        let t = VersionTags::decode(&s.tags)?;
        let p = &s.properties;
        Some(DatasetVersion {
            dataset: t.dataset,
            version: t.version,
            snapshot_id: s.id.clone().unwrap_or_default(),
            snapshot_name: s.name.clone().unwrap_or_default(),
            resource_group_name: resource_group.to_string(),
            location: s.location.clone(),
            time_created: p.time_created.clone().unwrap_or_default(),
            disk_size_gb: p.disk_size_gb.unwrap_or_default(),
            disk_size_bytes: p.disk_size_bytes.unwrap_or_default() as f64,
            source_resource_id: p.creation_data.source_resource_id.clone(),
            incremental: p.incremental.unwrap_or(false),
            incremental_snapshot_family_id: p.incremental_snapshot_family_id.clone(),
            metadata: t.metadata,
            tags: t.user,
            retained: t.retained,
            keep: t.keep,
            provisioning_state: p.provisioning_state.clone().unwrap_or_default(),
            completion_percent: p.completion_percent,
        })
    }
}

/// The versions of `dataset` among `snapshots`, oldest first.
pub fn ordered(dataset: &str, resource_group: &str, snapshots: &[Snapshot]) -> Vec<DatasetVersion> {
    let mut v: Vec<DatasetVersion> = snapshots
        .iter()
        .filter_map(|s| DatasetVersion::from_snapshot(s, resource_group))
        .filter(|v| v.dataset == dataset)
        .collect();
    v.sort_by(|a, b| {
        compare_versions(&a.version, &b.version).then_with(|| a.time_created.cmp(&b.time_created))
    });
    v
}

/// Finds `version` (or `latest`) among ordered versions.
/// `latest` is the newest version that is complete (provisioned, and fully copied for a
/// cross-region copy); an explicit version is returned in whatever state it is.
pub fn find<'a>(versions: &'a [DatasetVersion], version: &str) -> Option<&'a DatasetVersion> {
    if version.eq_ignore_ascii_case("latest") {
        return versions.iter().rev().find(|v| v.is_complete());
    }
    versions.iter().rev().find(|v| v.version == version)
}

/// Lists a dataset's versions from Azure.
pub async fn list(
    env: &Env,
    arm: &ArmClient,
    resource_group: &str,
    dataset: &str,
) -> Result<Vec<DatasetVersion>, ResourceError> {
    let ctx = env.op(default_timeouts::READ);
    let snapshots = arm.list_snapshots(resource_group, &ctx).await?;
    Ok(ordered(dataset, resource_group, &snapshots))
}

fn check_location(rg: &str, dataset: &str) -> Vec<Failure> {
    let mut f = Vec::new();
    if let Err(e) = check_resource_group(rg) {
        f.push(Failure::new("resourceGroupName", e));
    }
    if let Err(e) = check_dataset(dataset) {
        f.push(Failure::new("dataset", e));
    }
    f
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVersionsArgs {
    pub resource_group_name: String,
    pub dataset: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVersionsResult {
    pub resource_group_name: String,
    pub dataset: String,
    pub versions: Vec<DatasetVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
}

pub struct GetVersions;

#[tonic::async_trait]
impl Function for GetVersions {
    type Args = GetVersionsArgs;
    type Result = GetVersionsResult;

    fn check(&self, a: &GetVersionsArgs) -> Vec<Failure> {
        check_location(&a.resource_group_name, &a.dataset)
    }

    async fn invoke(
        &self,
        env: &Env,
        a: GetVersionsArgs,
    ) -> Result<GetVersionsResult, ResourceError> {
        let versions = list(env, env.arm()?, &a.resource_group_name, &a.dataset).await?;
        Ok(GetVersionsResult {
            latest: find(&versions, "latest").map(|v| v.version.clone()),
            resource_group_name: a.resource_group_name,
            dataset: a.dataset,
            versions,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVersionArgs {
    pub resource_group_name: String,
    pub dataset: String,
    pub version: String,
}

pub struct GetVersion;

#[tonic::async_trait]
impl Function for GetVersion {
    type Args = GetVersionArgs;
    type Result = DatasetVersion;

    fn check(&self, a: &GetVersionArgs) -> Vec<Failure> {
        let mut f = check_location(&a.resource_group_name, &a.dataset);
        if a.version.is_empty() {
            f.push(Failure::new(
                "version",
                "is required: a version such as \"1\", or \"latest\"",
            ));
        }
        f
    }

    async fn invoke(&self, env: &Env, a: GetVersionArgs) -> Result<DatasetVersion, ResourceError> {
        let versions = list(env, env.arm()?, &a.resource_group_name, &a.dataset).await?;
        match find(&versions, &a.version) {
            Some(v) => Ok(v.clone()),
            None => Err(not_found(
                &a.dataset,
                &a.resource_group_name,
                &a.version,
                &versions,
            )),
        }
    }
}

/// The error for a missing version: it lists the versions that exist.
pub fn not_found(
    dataset: &str,
    rg: &str,
    version: &str,
    versions: &[DatasetVersion],
) -> ResourceError {
    let known: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    ResourceError::Failed(if known.is_empty() {
        format!("dataset \"{dataset}\" has no versions in resource group \"{rg}\" (no snapshot is tagged datasnap.dataset={dataset})")
    } else {
        format!("dataset \"{dataset}\" has no version \"{version}\" in resource group \"{rg}\"; its versions are: {} (or use \"latest\")", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(dataset: &str, version: &str, created: &str) -> Snapshot {
        let mut s = Snapshot {
            id: Some(format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/{dataset}-v{version}")),
            name: Some(format!("{dataset}-v{version}")),
            ..Snapshot::default()
        };
        s.tags = [
            ("datasnap.dataset".to_string(), dataset.to_string()),
            ("datasnap.version".to_string(), version.to_string()),
            ("datasnap.meta.gitCommit".to_string(), "abc".to_string()),
            ("team".to_string(), "ml".to_string()),
        ]
        .into();
        s.properties.time_created = Some(created.into());
        s
    }

    #[test]
    fn versions_are_ordered_numerically_and_by_semver() {
        let s = [
            snap("d", "10", "c"),
            snap("d", "2", "b"),
            snap("d", "1", "a"),
            snap("other", "3", "a"),
        ];
        let v: Vec<String> = ordered("d", "rg", &s)
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(v, ["1", "2", "10"]);
        let s = [snap("d", "1.10.0", "a"), snap("d", "1.2.0", "b")];
        let v: Vec<String> = ordered("d", "rg", &s)
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(v, ["1.2.0", "1.10.0"]);
    }

    #[test]
    fn latest_is_the_newest_version() {
        let v = ordered("d", "rg", &[snap("d", "9", "a"), snap("d", "10", "b")]);
        assert_eq!(find(&v, "latest").unwrap().version, "10");
        assert_eq!(find(&v, "9").unwrap().metadata["gitCommit"], "abc");
        assert_eq!(
            find(&v, "9").unwrap().tags,
            BTreeMap::from([("team".to_string(), "ml".to_string())])
        );
        assert!(find(&v, "11").is_none());
        let mut unfinished = ordered("d", "rg", &[snap("d", "9", "a"), snap("d", "10", "b")]);
        unfinished[1].provisioning_state = "Updating".into();
        assert_eq!(
            find(&unfinished, "latest").unwrap().version,
            "9",
            "latest skips a version still being created"
        );
        let e = not_found("d", "rg", "11", &v).to_string();
        assert!(e.contains("9, 10"), "{e}");
    }
}
