//! `datasnap:index:RestoredDisk`: a managed disk created from a version's snapshot
//! (createOption Copy), the rollback path.
//!
//! The source is a snapshot id, or a dataset and version (`latest` accepted, resolved at
//! create and recorded in `restoredVersion`). Refresh, update and delete never need the
//! snapshot, so a disk outlives the pruning of the version it came from. What the disk was
//! restored from is written to `datasnap.restored.*` tags so an import rebuilds its inputs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::naming::{
    check_azure_name, check_dataset, check_location, check_resource_group, check_version,
    default_snapshot_name, MAX_NAME,
};
use super::tags;
use super::versioned_snapshot::normalize_location;
use crate::azure::client::default_timeouts;
use crate::azure::id::{ids_equal, ResourceId, ResourceKind};
use crate::azure::models::{
    CreationData, Disk, DiskProperties, DiskUpdate, DiskUpdateProperties, Sku, Snapshot,
};
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::functions::versions;
use crate::resource::{
    json_map, map_diff, partial_message, Change, ChangeKind, DiffResult, Env, Failure, Resource,
    ResourceError, Unknowns,
};
use crate::value::path_join;

pub const TOKEN: &str = "datasnap:index:RestoredDisk";

/// Tags recording what the disk was restored from.
const TAG_SNAPSHOT: &str = "datasnap.restored.snapshotId";
const TAG_DATASET: &str = "datasnap.restored.dataset";
const TAG_VERSION: &str = "datasnap.restored.version";
const TAG_REQUESTED: &str = "datasnap.restored.requestedVersion";

pub const DISK_SKUS: [&str; 7] = [
    "Standard_LRS",
    "Premium_LRS",
    "StandardSSD_LRS",
    "UltraSSD_LRS",
    "Premium_ZRS",
    "StandardSSD_ZRS",
    "PremiumV2_LRS",
];

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

fn cut_name(base: &str, suffix: &str) -> String {
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
        match (&self.dataset, &self.version) {
            (Some(d), Some(v)) if v.eq_ignore_ascii_case("latest") => Some(
                cut_name(&default_snapshot_name(d, "latest"), "-disk")
                    .replace("-vlatest-", "-latest-"),
            ),
            (Some(d), Some(v)) => Some(cut_name(&default_snapshot_name(d, v), "-disk")),
            _ => None,
        }
    }

    fn source_group(&self) -> &str {
        self.source_resource_group_name
            .as_deref()
            .unwrap_or(&self.resource_group_name)
    }
}

pub fn check(
    olds: Option<&Inputs>,
    mut news: Inputs,
    unknowns: &Unknowns,
) -> (Inputs, Vec<Failure>) {
    let mut f = Vec::new();
    if news.resource_group_name.is_empty() {
        if !unknowns.contains("resourceGroupName") {
            f.push(Failure::new(
                "resourceGroupName",
                "is required; set it to the resource group of the new disk",
            ));
        }
    } else if let Err(e) = check_resource_group(&news.resource_group_name) {
        f.push(Failure::new("resourceGroupName", e));
    }
    let by_id = news.source_snapshot_id.is_some() || unknowns.contains("sourceSnapshotId");
    let by_version = news.dataset.is_some()
        || news.version.is_some()
        || unknowns.contains("dataset")
        || unknowns.contains("version");
    match (by_id, by_version) {
        (true, true) => f.push(Failure::new("sourceSnapshotId", "set either sourceSnapshotId, or dataset and version, not both")),
        (false, false) => f.push(Failure::new("sourceSnapshotId", "a RestoredDisk needs a source: set sourceSnapshotId to a snapshot's ARM id, or dataset and version (\"latest\" for the newest)")),
        _ => {}
    }
    if let Some(id) = &news.source_snapshot_id {
        if let Err(e) = ResourceId::parse(id, ResourceKind::Snapshot) {
            f.push(Failure::new(
                "sourceSnapshotId",
                format!("must be the ARM id of a snapshot: it {e}"),
            ));
        }
    }
    if by_version {
        match &news.dataset {
            Some(d) => {
                if let Err(e) = check_dataset(d) {
                    f.push(Failure::new("dataset", e));
                }
            }
            None if !unknowns.contains("dataset") => f.push(Failure::new(
                "dataset",
                "is required with version: the dataset whose version to restore",
            )),
            None => {}
        }
        match &news.version {
            Some(v) if v.eq_ignore_ascii_case("latest") => {}
            Some(v) => {
                if let Err(e) = check_version(v) {
                    f.push(Failure::new("version", e));
                }
            }
            None if !unknowns.contains("version") => f.push(Failure::new(
                "version",
                "is required with dataset: a version such as \"1\", or \"latest\"",
            )),
            None => {}
        }
    }
    if let Some(g) = &news.source_resource_group_name {
        if let Err(e) = check_resource_group(g) {
            f.push(Failure::new("sourceResourceGroupName", e));
        }
    }
    if let Some(n) = &news.disk_name {
        if let Err(e) = check_azure_name(n) {
            f.push(Failure::new("diskName", e));
        }
    } else if !unknowns.contains("sourceSnapshotId")
        && !unknowns.contains("dataset")
        && !unknowns.contains("version")
    {
        news.disk_name = news.effective_name();
    }
    if let Some(l) = &news.location {
        if let Err(e) = check_location(l) {
            f.push(Failure::new("location", e));
        }
    }
    if let Some(s) = &news.sku {
        if !DISK_SKUS.contains(&s.as_str()) {
            f.push(Failure::new(
                "sku",
                format!(
                    "\"{s}\" is not a disk SKU; use one of {}",
                    DISK_SKUS.join(", ")
                ),
            ));
        }
    }
    if let Some(size) = news.disk_size_gb {
        if size < 1 {
            f.push(Failure::new("diskSizeGb", "must be at least 1"));
        }
        if let Some(old) = olds.and_then(|o| o.disk_size_gb) {
            if size < old {
                f.push(Failure::new("diskSizeGb", format!("a managed disk can only grow: {size} GiB is smaller than the current {old} GiB")));
            }
        }
    }
    if news.tags.is_none() && !unknowns.contains("tags") {
        news.tags = Some(BTreeMap::new());
    }
    for (k, v) in news.tags.iter().flatten() {
        if let Err(e) = tags::check_user_tag(k, v) {
            f.push(Failure::new(path_join("tags", k), e));
        }
    }
    (news, f)
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

pub fn diff(olds: &Outputs, news: &Inputs, unknowns: &Unknowns) -> DiffResult {
    let old = &olds.inputs;
    let mut changes = Vec::new();
    let mut push = |key: &str, changed: bool, replace: bool| {
        if changed || unknowns.contains(key) {
            changes.push(Change {
                path: key.to_string(),
                kind: ChangeKind::Update,
                replace,
            });
        }
    };
    push(
        "resourceGroupName",
        !old.resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name),
        true,
    );
    push(
        "diskName",
        !same(&old.effective_name(), &news.effective_name()),
        true,
    );
    let ids_differ = match (&old.source_snapshot_id, &news.source_snapshot_id) {
        (Some(a), Some(b)) => !ids_equal(a, b),
        (None, None) => false,
        _ => true,
    };
    push("sourceSnapshotId", ids_differ, true);
    push("dataset", old.dataset != news.dataset, true);
    push("version", old.version != news.version, true);
    push(
        "sourceResourceGroupName",
        !old.source_group().eq_ignore_ascii_case(news.source_group()),
        true,
    );
    push(
        "location",
        news.location.as_ref().is_some_and(|l| {
            old.location
                .as_ref()
                .is_none_or(|o| normalize_location(o) != normalize_location(l))
        }),
        true,
    );
    push("sku", news.sku.is_some() && old.sku != news.sku, false);
    push(
        "diskSizeGb",
        news.disk_size_gb.is_some() && old.disk_size_gb != news.disk_size_gb,
        false,
    );
    map_diff(
        "tags",
        old.tags.as_ref(),
        news.tags.as_ref(),
        unknowns,
        &mut changes,
    );
    // A replacement that keeps the disk's name cannot create the new disk first.
    let replaces = changes.iter().any(|c| c.replace);
    let same_name = !unknowns.contains("diskName")
        && old
            .resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name)
        && same(&old.effective_name(), &news.effective_name());
    DiffResult {
        changes,
        delete_before_replace: replaces && same_name,
    }
}

fn azure_tags(
    inputs: &Inputs,
    snapshot_id: &str,
    dataset: Option<&str>,
    version: Option<&str>,
) -> BTreeMap<String, String> {
    let mut t = inputs.tags.clone().unwrap_or_default();
    t.insert(
        TAG_SNAPSHOT.into(),
        snapshot_id.chars().take(tags::MAX_TAG_VALUE).collect(),
    );
    if let Some(d) = dataset {
        t.insert(TAG_DATASET.into(), d.into());
    }
    if let Some(v) = version {
        t.insert(TAG_VERSION.into(), v.into());
    }
    if let Some(req) = &inputs.version {
        t.insert(TAG_REQUESTED.into(), req.clone());
    }
    t
}

fn outputs_from(mut inputs: Inputs, disk: &Disk, id: &ResourceId) -> Outputs {
    let p = &disk.properties;
    if inputs.location.is_none() {
        inputs.location = Some(disk.location.clone());
    }
    if inputs.disk_size_gb.is_none() {
        inputs.disk_size_gb = p.disk_size_gb;
    }
    let t = &disk.tags;
    let tag = |k: &str| {
        t.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    Outputs {
        disk_id: disk.id.clone().unwrap_or_else(|| id.to_string()),
        restored_snapshot_id: p
            .creation_data
            .source_resource_id
            .clone()
            .or_else(|| tag(TAG_SNAPSHOT))
            .unwrap_or_default(),
        restored_dataset: tag(TAG_DATASET),
        restored_version: tag(TAG_VERSION),
        time_created: p.time_created.clone().unwrap_or_default(),
        disk_size_bytes: p.disk_size_bytes.unwrap_or_default() as f64,
        provisioning_state: p.provisioning_state.clone().unwrap_or_default(),
        unique_id: p.unique_id.clone().unwrap_or_default(),
        disk_state: p.disk_state.clone(),
        inputs,
    }
}

/// Rebuilds inputs from the disk (import) or refreshes recorded ones.
fn inputs_from(disk: &Disk, id: &ResourceId, old: Option<&Inputs>) -> Inputs {
    let t = &disk.tags;
    let tag = |k: &str| {
        t.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let user: BTreeMap<String, String> = t
        .iter()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with(tags::PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (snapshot, dataset, version, source_group) = match old {
        Some(o) => (
            o.source_snapshot_id.clone(),
            o.dataset.clone(),
            o.version.clone(),
            o.source_resource_group_name.clone(),
        ),
        None => match (tag(TAG_DATASET), tag(TAG_REQUESTED)) {
            (Some(d), Some(v)) => {
                let src_group = disk
                    .properties
                    .creation_data
                    .source_resource_id
                    .as_deref()
                    .and_then(|s| ResourceId::parse(s, ResourceKind::Snapshot).ok())
                    .map(|r| r.resource_group)
                    .filter(|g| !g.eq_ignore_ascii_case(&id.resource_group));
                (None, Some(d), Some(v), src_group)
            }
            _ => (
                disk.properties
                    .creation_data
                    .source_resource_id
                    .clone()
                    .or_else(|| tag(TAG_SNAPSHOT)),
                None,
                None,
                None,
            ),
        },
    };
    Inputs {
        resource_group_name: old
            .map(|o| o.resource_group_name.clone())
            .filter(|g| g.eq_ignore_ascii_case(&id.resource_group))
            .unwrap_or_else(|| id.resource_group.clone()),
        disk_name: Some(
            old.and_then(|o| o.disk_name.clone())
                .filter(|n| n.eq_ignore_ascii_case(&id.name))
                .unwrap_or_else(|| id.name.clone()),
        ),
        source_snapshot_id: snapshot,
        dataset,
        version,
        source_resource_group_name: source_group,
        location: match old.and_then(|o| o.location.as_ref()) {
            Some(l) if normalize_location(l) == normalize_location(&disk.location) => {
                Some(l.clone())
            }
            Some(_) => Some(disk.location.clone()),
            None => None,
        },
        // Import records Azure's SKU and size; a refresh keeps "unset" unset.
        sku: match old {
            Some(o) if o.sku.is_none() => None,
            _ => disk.sku.as_ref().and_then(|s| s.name.clone()),
        },
        disk_size_gb: match old {
            Some(o) if o.disk_size_gb.is_none() => None,
            _ => disk.properties.disk_size_gb,
        },
        tags: Some(user),
    }
}

/// Azure refuses to copy from a snapshot that is still being provisioned: wait for it
/// (within the operation's deadline), as the engine would have if the program had declared
/// the dependency.
async fn wait_until_ready(
    _env: &Env,
    arm: &ArmClient,
    snapshot: Snapshot,
    ctx: &OpContext,
) -> Result<Snapshot, ResourceError> {
    Ok(arm.wait_for_snapshot_ready(snapshot, ctx).await?)
}

pub struct RestoredDisk;

#[tonic::async_trait]
impl Resource for RestoredDisk {
    type Inputs = Inputs;
    type Outputs = Outputs;

    fn check(
        &self,
        olds: Option<&Inputs>,
        news: Inputs,
        unknowns: &Unknowns,
    ) -> (Inputs, Vec<Failure>) {
        check(olds, news, unknowns)
    }

    fn diff(
        &self,
        olds: &Outputs,
        news: &Inputs,
        unknowns: &Unknowns,
    ) -> Result<DiffResult, ResourceError> {
        Ok(diff(olds, news, unknowns))
    }

    const PLAIN_IN_AZURE: &'static [&'static str] = &["tags"];

    fn preview(&self, news: &Inputs, _unknowns: &Unknowns) -> Map<String, Json> {
        json_map(news)
    }

    async fn create(&self, env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
        let arm = env.arm()?;
        let ctx = env.op(default_timeouts::CREATE);
        // Resolve the source: a snapshot id, or a dataset's version (`latest` allowed).
        let (snapshot, dataset, version) =
            match (&inputs.source_snapshot_id, &inputs.dataset, &inputs.version) {
                (Some(id), _, _) => {
                    let rid = ResourceId::parse(id, ResourceKind::Snapshot).map_err(|e| {
                        ResourceError::Invalid {
                            property: "sourceSnapshotId".into(),
                            reason: e.to_string(),
                        }
                    })?;
                    let Some(s) = arm.get_snapshot(&rid, &ctx).await? else {
                        return Err(ResourceError::Invalid {
                            property: "sourceSnapshotId".into(),
                            reason: format!(
                                "the snapshot {id} does not exist (or the identity cannot see it)"
                            ),
                        });
                    };
                    let vt = tags::VersionTags::decode(&s.tags);
                    (
                        s,
                        vt.as_ref().map(|v| v.dataset.clone()),
                        vt.map(|v| v.version),
                    )
                }
                (None, Some(d), Some(v)) => {
                    let group = inputs.source_group().to_string();
                    let list = versions::list(env, arm, &group, d).await?;
                    let Some(found) = versions::find(&list, v) else {
                        return Err(versions::not_found(d, &group, v, &list));
                    };
                    let rid = ResourceId::parse(&found.snapshot_id, ResourceKind::Snapshot)
                        .map_err(|e| ResourceError::Bug(e.to_string()))?;
                    let Some(s) = arm.get_snapshot(&rid, &ctx).await? else {
                        return Err(versions::not_found(d, &group, v, &[]));
                    };
                    (s, Some(d.clone()), Some(found.version.clone()))
                }
                _ => return Err(ResourceError::Bug("create without a source".into())),
            };
        let snapshot = wait_until_ready(env, arm, snapshot, &ctx).await?;
        let snapshot_id = snapshot.id.clone().unwrap_or_default();
        if snapshot
            .properties
            .completion_percent
            .is_some_and(|p| p < 100.0)
        {
            return Err(ResourceError::Failed(format!("snapshot {snapshot_id} is still copying ({}%); wait for its copy to complete, then run `pulumi up` again", snapshot.properties.completion_percent.unwrap_or(0.0))));
        }
        let name = match &inputs.disk_name {
            Some(n) => n.clone(),
            None => snapshot
                .name
                .clone()
                .map(|n| cut_name(&n, "-disk"))
                .ok_or_else(|| ResourceError::Bug("no disk name".into()))?,
        };
        let id = ResourceId::new(
            arm.subscription_id(),
            &inputs.resource_group_name,
            ResourceKind::Disk,
            &name,
        );
        if arm.get_disk(&id, &ctx).await?.is_some() {
            return Err(ResourceError::Failed(format!(
                "disk {id} already exists in Azure; datasnap never overwrites a disk. To manage it, import it: `pulumi import {TOKEN} <resource name> {id}`; otherwise set another `diskName`"
            )));
        }
        let snap_size = snapshot.properties.disk_size_gb.unwrap_or(0);
        if let Some(size) = inputs.disk_size_gb {
            if size < snap_size {
                return Err(ResourceError::Invalid { property: "diskSizeGb".into(), reason: format!("{size} GiB is smaller than the snapshot's {snap_size} GiB; a disk can only be as large as its source or larger") });
            }
        }
        let location = inputs
            .location
            .clone()
            .unwrap_or_else(|| snapshot.location.clone());
        let body = Disk {
            location: location.clone(),
            tags: azure_tags(
                &inputs,
                &snapshot_id,
                dataset.as_deref(),
                version.as_deref(),
            ),
            sku: inputs.sku.as_ref().map(|n| Sku {
                name: Some(n.clone()),
                ..Sku::default()
            }),
            properties: DiskProperties {
                creation_data: CreationData {
                    create_option: "Copy".into(),
                    source_resource_id: Some(snapshot_id.clone()),
                    ..CreationData::default()
                },
                disk_size_gb: inputs.disk_size_gb.or(Some(snap_size).filter(|s| *s > 0)),
                ..DiskProperties::default()
            },
            ..Disk::default()
        };
        env.progress(&format!(
            "restoring disk {name} from {}",
            version
                .as_deref()
                .map(|v| format!("version \"{v}\""))
                .unwrap_or_else(|| snapshot_id.clone())
        ));
        let mut inputs = inputs;
        inputs.disk_name = Some(name);
        let disk = match arm.create_disk(&id, &body, &ctx).await {
            Ok(d) => d,
            Err(AzureError::AfterAccepted {
                id: accepted,
                source,
            }) => {
                let outputs = Outputs {
                    inputs,
                    disk_id: accepted.clone(),
                    restored_snapshot_id: snapshot_id,
                    restored_dataset: dataset,
                    restored_version: version,
                    ..Outputs::default()
                };
                return Err(ResourceError::partial(
                    &accepted,
                    &outputs,
                    partial_message(&format!("disk {accepted}"), &source),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let outputs = outputs_from(inputs, &disk, &id);
        Ok((outputs.disk_id.clone(), outputs))
    }

    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: Option<Inputs>,
        _state: Option<Outputs>,
    ) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
        let arm = env.arm()?;
        let ctx = env.op(default_timeouts::READ);
        let rid =
            ResourceId::parse(id, ResourceKind::Disk).map_err(|e| ResourceError::Invalid {
                property: "id".into(),
                reason: format!("a RestoredDisk is imported by the ARM id of its disk: {e}"),
            })?;
        let Some(disk) = arm.get_disk(&rid, &ctx).await? else {
            return Ok(None);
        };
        let new_inputs = inputs_from(&disk, &rid, inputs.as_ref());
        let outputs = outputs_from(new_inputs.clone(), &disk, &rid);
        Ok(Some((new_inputs, outputs)))
    }

    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: Outputs,
        news: Inputs,
    ) -> Result<Outputs, ResourceError> {
        let arm = env.arm()?;
        let ctx = env.op(default_timeouts::UPDATE);
        let rid = ResourceId::parse(id, ResourceKind::Disk)
            .map_err(|e| ResourceError::Bug(format!("recorded id: {e}")))?;
        let mut body = DiskUpdate {
            tags: Some(azure_tags(
                &news,
                &olds.restored_snapshot_id,
                olds.restored_dataset.as_deref(),
                olds.restored_version.as_deref(),
            )),
            ..DiskUpdate::default()
        };
        if news.sku.is_some() && news.sku != olds.inputs.sku {
            body.sku = news.sku.as_ref().map(|n| Sku {
                name: Some(n.clone()),
                ..Sku::default()
            });
        }
        if news.disk_size_gb.is_some() && news.disk_size_gb != olds.inputs.disk_size_gb {
            body.properties = Some(DiskUpdateProperties {
                disk_size_gb: news.disk_size_gb,
                ..DiskUpdateProperties::default()
            });
        }
        let disk = arm.update_disk(&rid, &body, &ctx).await?;
        let mut news = news;
        if news.location.is_none() {
            news.location = olds.inputs.location.clone();
        }
        if news.disk_name.is_none() {
            news.disk_name = olds.inputs.disk_name.clone();
        }
        Ok(outputs_from(news, &disk, &rid))
    }

    async fn delete(&self, env: &Env, id: &str, _olds: Outputs) -> Result<(), ResourceError> {
        let arm = env.arm()?;
        let ctx = env.op(default_timeouts::DELETE);
        let rid = ResourceId::parse(id, ResourceKind::Disk)
            .map_err(|e| ResourceError::Bug(format!("recorded id: {e}")))?;
        arm.delete_disk(&rid, &ctx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAP: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/data-v1";

    fn by_version(v: &str) -> Inputs {
        Inputs {
            resource_group_name: "rg".into(),
            dataset: Some("data".into()),
            version: Some(v.into()),
            ..Inputs::default()
        }
    }

    #[test]
    fn names_default_from_the_source() {
        let (i, f) = check(None, by_version("1.2"), &Unknowns::default());
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(
            i.disk_name.as_deref(),
            Some(format!("{}-disk", default_snapshot_name("data", "1.2")).as_str())
        );
        let (i, _) = check(None, by_version("latest"), &Unknowns::default());
        assert_eq!(i.disk_name.as_deref(), Some("data-latest-disk"));
        let (i, _) = check(
            None,
            Inputs {
                resource_group_name: "rg".into(),
                source_snapshot_id: Some(SNAP.into()),
                ..Inputs::default()
            },
            &Unknowns::default(),
        );
        assert_eq!(i.disk_name.as_deref(), Some("data-v1-disk"));
    }

    #[test]
    fn needs_exactly_one_source() {
        let (_, f) = check(
            None,
            Inputs {
                resource_group_name: "rg".into(),
                ..Inputs::default()
            },
            &Unknowns::default(),
        );
        assert_eq!(f[0].property, "sourceSnapshotId");
        let mut both = by_version("1");
        both.source_snapshot_id = Some(SNAP.into());
        let (_, f) = check(None, both, &Unknowns::default());
        assert_eq!(f[0].property, "sourceSnapshotId");
        let (_, f) = check(
            None,
            Inputs {
                resource_group_name: "rg".into(),
                dataset: Some("d".into()),
                ..Inputs::default()
            },
            &Unknowns::default(),
        );
        assert_eq!(f[0].property, "version");
    }

    #[test]
    fn disks_only_grow() {
        let mut old = by_version("1");
        old.disk_size_gb = Some(64);
        let mut new = old.clone();
        new.disk_size_gb = Some(32);
        let (_, f) = check(Some(&old), new, &Unknowns::default());
        assert_eq!(f[0].property, "diskSizeGb");
        assert!(f[0].reason.contains("only grow"));
    }

    #[test]
    fn source_changes_replace_and_tags_update() {
        let (i, _) = check(None, by_version("1"), &Unknowns::default());
        let olds = Outputs {
            inputs: i.clone(),
            disk_id: "d".into(),
            ..Outputs::default()
        };
        let (mut n, _) = check(None, by_version("1"), &Unknowns::default());
        assert!(diff(&olds, &n, &Unknowns::default()).changes.is_empty());
        n.tags = Some([("env".to_string(), "prod".to_string())].into());
        let d = diff(&olds, &n, &Unknowns::default());
        assert!(!d.replaces() && d.changes[0].path == "tags.env");
        let (v2, _) = check(None, by_version("2"), &Unknowns::default());
        assert!(diff(&olds, &v2, &Unknowns::default()).replaces());
    }

    #[test]
    fn bad_sku_and_reserved_tags_are_named() {
        let mut i = by_version("1");
        i.sku = Some("Fast".into());
        i.tags = Some([("datasnap.x".to_string(), "v".to_string())].into());
        let (_, f) = check(None, i, &Unknowns::default());
        let p: Vec<&str> = f.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(p, ["sku", "tags[\"datasnap.x\"]"]);
    }
}
