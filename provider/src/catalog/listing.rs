//! Listing: a resource group's snapshots read once and parsed, by their tags, into one
//! dataset's versions in the catalog's order; finding one version, and the latest.

use super::tags::VersionTags;
use super::version::{sort, DatasetVersion};
use crate::azure::models::Snapshot;
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::resource::{Env, ResourceError};

/// The version a snapshot holds, if it is a datasnap version.
pub fn version_of(s: &Snapshot, resource_group: &str) -> Option<DatasetVersion> {
    let t = VersionTags::decode(&s.tags)?;
    let p = &s.properties;
    let access_open = s.access_open() || t.export_open(azure_core::time::OffsetDateTime::now_utc());
    let aliases = t.aliases.keys().cloned().collect();
    Some(DatasetVersion {
        keep: t.keeps(),
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
        provisioning_state: p.provisioning_state.clone().unwrap_or_default(),
        completion_percent: p.completion_percent,
        claim: t.claim,
        deletion_policy: t.deletion_policy,
        aliases,
        access_open,
    })
}

/// The versions of `dataset` among a resource group's `snapshots`, oldest first.
pub fn versions(
    dataset: &str,
    resource_group: &str,
    snapshots: &[Snapshot],
) -> Vec<DatasetVersion> {
    let mut v: Vec<DatasetVersion> = snapshots
        .iter()
        .filter_map(|s| version_of(s, resource_group))
        .filter(|v| v.dataset == dataset)
        .collect();
    sort(&mut v);
    v
}

/// Lists a dataset's versions from Azure within `ctx` (one list call), oldest first.
pub async fn list_in(
    arm: &ArmClient,
    resource_group: &str,
    dataset: &str,
    ctx: &OpContext,
) -> Result<Vec<DatasetVersion>, AzureError> {
    let snapshots = arm.list_snapshots(resource_group, ctx).await?;
    Ok(versions(dataset, resource_group, &snapshots))
}

/// Lists a dataset's versions from Azure as a read, oldest first.
pub async fn list(
    env: &Env,
    arm: &ArmClient,
    resource_group: &str,
    dataset: &str,
) -> Result<Vec<DatasetVersion>, ResourceError> {
    let ctx = env.op();
    Ok(list_in(arm, resource_group, dataset, &ctx).await?)
}

/// The version that alias `name` points at (alias names ignore case, as Azure's tag names
/// do).
pub fn find_alias<'a>(versions: &'a [DatasetVersion], name: &str) -> Option<&'a DatasetVersion> {
    versions
        .iter()
        .find(|v| v.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// The newest complete version (provisioned, and fully copied for a cross-region copy).
pub fn latest(versions: &[DatasetVersion]) -> Option<&DatasetVersion> {
    versions.iter().rev().find(|v| v.is_complete())
}

/// Finds `version` (or `latest`, see [`latest`]) among ordered versions; an explicit version
/// is returned in whatever state it is, the newest of its snapshots if it has several.
pub fn find<'a>(versions: &'a [DatasetVersion], version: &str) -> Option<&'a DatasetVersion> {
    if version.eq_ignore_ascii_case("latest") {
        return latest(versions);
    }
    versions.iter().rev().find(|v| v.version == version)
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

/// The version a lookup names: by `alias` when one is given, else by `version` (`latest`
/// allowed); otherwise the error that lists what the dataset has.
pub fn resolve<'a>(
    versions: &'a [DatasetVersion],
    dataset: &str,
    rg: &str,
    version: Option<&str>,
    alias: Option<&str>,
) -> Result<&'a DatasetVersion, ResourceError> {
    match alias.filter(|a| !a.is_empty()) {
        Some(a) => find_alias(versions, a).ok_or_else(|| alias_not_found(dataset, rg, a, versions)),
        None => {
            let v = version.unwrap_or_default();
            find(versions, v).ok_or_else(|| not_found(dataset, rg, v, versions))
        }
    }
}

/// The error for an alias that no version of the dataset carries, with the aliases it has.
pub fn alias_not_found(
    dataset: &str,
    rg: &str,
    alias: &str,
    versions: &[DatasetVersion],
) -> ResourceError {
    let known: Vec<String> = versions
        .iter()
        .flat_map(|v| {
            v.aliases
                .iter()
                .map(move |a| format!("{a} -> {}", v.version))
        })
        .collect();
    ResourceError::Failed(format!(
        "dataset \"{dataset}\" in resource group \"{rg}\" has no alias \"{alias}\"; {}",
        if known.is_empty() {
            "it has no aliases (a VersionAlias resource sets one)".to_string()
        } else {
            format!("its aliases are: {}", known.join(", "))
        }
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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

    fn names(v: &[DatasetVersion]) -> Vec<&str> {
        v.iter().map(|v| v.version.as_str()).collect()
    }

    #[test]
    fn versions_are_one_datasets_and_ordered_numerically_and_by_semver() {
        let t = "2024-06-01T00:00:00Z";
        let s = [
            snap("d", "10", t),
            snap("d", "2", t),
            snap("d", "1", t),
            snap("other", "3", t),
        ];
        assert_eq!(names(&versions("d", "rg", &s)), ["1", "2", "10"]);
        let s = [snap("d", "1.10.0", t), snap("d", "1.2.0", t)];
        assert_eq!(names(&versions("d", "rg", &s)), ["1.2.0", "1.10.0"]);
        let mut untagged = snap("d", "4", t);
        untagged.tags.remove("datasnap.version");
        assert!(versions("d", "rg", &[untagged]).is_empty());
    }

    #[test]
    fn a_version_is_parsed_from_its_tags() {
        let v = versions("d", "rg", &[snap("d", "9", "2024-06-01T00:00:00Z")]);
        assert_eq!(v[0].metadata["gitCommit"], "abc");
        assert_eq!(
            v[0].tags,
            BTreeMap::from([("team".to_string(), "ml".to_string())])
        );
        assert_eq!(
            (
                v[0].resource_group_name.as_str(),
                v[0].snapshot_name.as_str()
            ),
            ("rg", "d-v9")
        );
    }

    #[test]
    fn latest_is_the_newest_complete_version() {
        let t = "2024-06-01T00:00:00Z";
        let v = versions("d", "rg", &[snap("d", "9", t), snap("d", "10", t)]);
        assert_eq!(latest(&v).unwrap().version, "10");
        assert_eq!(find(&v, "LATEST").unwrap().version, "10");
        assert_eq!(find(&v, "9").unwrap().version, "9");
        assert!(find(&v, "11").is_none());
        let mut unfinished = v.clone();
        unfinished[1].provisioning_state = "Updating".into();
        assert_eq!(
            latest(&unfinished).unwrap().version,
            "9",
            "latest skips a version still being created"
        );
        unfinished[1].provisioning_state = "Succeeded".into();
        unfinished[1].completion_percent = Some(50.0);
        assert_eq!(
            latest(&unfinished).unwrap().version,
            "9",
            "latest skips a copy still copying"
        );
        assert_eq!(
            find(&unfinished, "10").unwrap().completion_percent,
            Some(50.0),
            "an explicit version is found in whatever state it is"
        );
        assert!(latest(&[]).is_none());
    }

    #[test]
    fn a_version_with_two_snapshots_finds_the_newest() {
        let mut a = snap("d", "1", "2024-06-02T00:00:00Z");
        a.name = Some("a".into());
        let mut b = snap("d", "1", "2024-06-01T00:00:00Z");
        b.name = Some("b".into());
        let v = versions("d", "rg", &[a, b]);
        assert_eq!(find(&v, "1").unwrap().snapshot_name, "a");
    }

    #[test]
    fn not_found_lists_the_versions() {
        let t = "2024-06-01T00:00:00Z";
        let v = versions("d", "rg", &[snap("d", "9", t), snap("d", "10", t)]);
        let e = not_found("d", "rg", "11", &v).to_string();
        assert!(e.contains("9, 10"), "{e}");
        let e = not_found("d", "rg", "11", &[]).to_string();
        assert!(e.contains("no versions"), "{e}");
    }
}
