//! `datasnap:index:VersionedSnapshot`: one Azure snapshot = one version of one dataset.
//!
//! Inputs and outputs first, then the rules (check, diff, preview) as pure functions, then
//! the Azure operations. The semantics are DESIGN.md's: a version is immutable, identity and
//! lineage live in tags, replacement is create-before-delete, and `deletionPolicy` decides
//! whether Delete removes the snapshot or releases it as a retained version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::naming::{
    check_azure_name, check_dataset, check_location, check_resource_group, check_version,
    default_snapshot_name,
};
use crate::azure::client::default_timeouts;
use crate::azure::id::{ids_equal, ResourceId, ResourceKind};
use crate::azure::models::{CreationData, Sku, Snapshot, SnapshotProperties, SnapshotUpdate};
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::catalog::tags::{self, VersionTags};
use crate::catalog::{prune, Retention};
use crate::resource::{
    json_map, map_diff, partial_message, Change, ChangeKind, DiffResult, Env, Failure, Resource,
    ResourceError, Unknowns,
};
use crate::value::path_join;

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
}

impl Inputs {
    /// The snapshot's Azure name: the explicit one, or the default derived from the
    /// dataset and version (`None` while those are unknown).
    pub fn effective_name(&self) -> Option<String> {
        match &self.snapshot_name {
            Some(n) => Some(n.clone()),
            None if !self.dataset.is_empty() && !self.version.is_empty() => {
                Some(default_snapshot_name(&self.dataset, &self.version))
            }
            None => None,
        }
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
                .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true")),
            retained: false,
            metadata: self.metadata.clone().unwrap_or_default(),
            user: self
                .tags
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(tags::KEEP))
                .collect(),
        }
    }
}

/// Azure writes regions in two ways (`West US 2`, `westus2`); compare them as one.
pub fn normalize_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn same_location(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => normalize_location(a) == normalize_location(b),
        (None, None) => true,
        _ => false,
    }
}

fn same_id(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => ids_equal(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Validates and completes the inputs (see the schema for each rule).
pub fn check(
    olds: Option<&Inputs>,
    mut news: Inputs,
    unknowns: &Unknowns,
) -> (Inputs, Vec<Failure>) {
    let mut f = Vec::new();
    let required = |key: &str, value: &str, example: &str, f: &mut Vec<Failure>| {
        if value.is_empty() && !unknowns.contains(key) {
            f.push(Failure::new(
                key,
                format!("is required; set it, for example {key}=\"{example}\""),
            ));
            false
        } else {
            !value.is_empty()
        }
    };
    if required(
        "resourceGroupName",
        &news.resource_group_name,
        "my-resource-group",
        &mut f,
    ) {
        if let Err(e) = check_resource_group(&news.resource_group_name) {
            f.push(Failure::new("resourceGroupName", e));
        }
    }
    if required("dataset", &news.dataset, "imagenet-train", &mut f) {
        if let Err(e) = check_dataset(&news.dataset) {
            f.push(Failure::new("dataset", e));
        }
    }
    if required("version", &news.version, "1", &mut f) {
        if let Err(e) = check_version(&news.version) {
            f.push(Failure::new("version", e));
        }
    }

    // Exactly one source.
    let disk_unknown = unknowns.contains("sourceDiskId");
    let snap_unknown = unknowns.contains("sourceSnapshotId");
    match (&news.source_disk_id, &news.source_snapshot_id) {
        (Some(_), Some(_)) => f.push(Failure::new(
            "sourceSnapshotId",
            "set only one of sourceDiskId (snapshot a managed disk) and sourceSnapshotId (copy another snapshot)",
        )),
        (None, None) if !disk_unknown && !snap_unknown => f.push(Failure::new(
            "sourceDiskId",
            "is required: set sourceDiskId to the ARM id of the managed disk that holds the dataset (or sourceSnapshotId to copy another version's snapshot)",
        )),
        _ => {}
    }
    if let Some(d) = &news.source_disk_id {
        if let Err(e) = ResourceId::parse(d, ResourceKind::Disk) {
            f.push(Failure::new(
                "sourceDiskId",
                format!("must be the ARM id of a managed disk: it {e}"),
            ));
        }
    }
    if let Some(s) = &news.source_snapshot_id {
        if let Err(e) = ResourceId::parse(s, ResourceKind::Snapshot) {
            f.push(Failure::new(
                "sourceSnapshotId",
                format!("must be the ARM id of a snapshot: it {e}"),
            ));
        }
    }
    if let Some(l) = &news.location {
        if let Err(e) = check_location(l) {
            f.push(Failure::new("location", e));
        }
    }
    if let Some(n) = &news.snapshot_name {
        if let Err(e) = check_azure_name(n) {
            f.push(Failure::new("snapshotName", e));
        }
    } else if !unknowns.contains("dataset") && !unknowns.contains("version") {
        news.snapshot_name = news.effective_name();
    }
    if news.incremental.is_none() && !unknowns.contains("incremental") {
        news.incremental = Some(true);
    }
    if news.deletion_policy.is_none() && !unknowns.contains("deletionPolicy") {
        news.deletion_policy = Some(RETAIN.into());
    }
    if news.tags.is_none() && !unknowns.contains("tags") {
        news.tags = Some(BTreeMap::new());
    }
    if news.metadata.is_none() && !unknowns.contains("metadata") {
        news.metadata = Some(BTreeMap::new());
    }
    for (k, v) in news.tags.iter().flatten() {
        let p = path_join("tags", k);
        if k.eq_ignore_ascii_case(tags::KEEP) && (k != tags::KEEP || v != "true") {
            f.push(Failure::new(&p, format!("marks a version that retention must never prune: write it exactly as `{}: \"true\"`, or leave it out", tags::KEEP)));
        } else if k == tags::KEEP {
            // The one datasnap tag users set themselves.
        } else if let Err(e) = tags::check_user_tag(k, v) {
            f.push(Failure::new(&p, e));
        }
    }
    for (k, v) in news.metadata.iter().flatten() {
        let p = path_join("metadata", k);
        if let Err(e) = tags::check_metadata_key(k).and_then(|_| tags::check_tag_value(k, v)) {
            f.push(Failure::new(&p, e));
        }
    }
    if let Some(r) = news.retention {
        if r.keep_last == Some(0) {
            f.push(Failure::new(
                "retention.keepLast",
                "must be at least 1 (the version just created is always kept)",
            ));
        }
        if r.max_age_days == Some(0) {
            f.push(Failure::new("retention.maxAgeDays", "must be at least 1"));
        }
        if r.is_empty() && !unknowns.contains("retention") {
            f.push(Failure::new(
                "retention",
                "set keepLast, maxAgeDays or both (or leave retention out to keep every version)",
            ));
        }
    }
    if !news.dataset.is_empty() && !news.version.is_empty() {
        let count = news.version_tags().count();
        // One tag stays free for the release marker written when the version is retained.
        if count + 1 > tags::MAX_TAGS {
            f.push(Failure::new("tags", format!("this version would carry {count} Azure tags (your tags, metadata and datasnap's own); Azure allows {} and datasnap keeps one free for the release marker: remove some tags or metadata", tags::MAX_TAGS)));
        }
    }

    if let Some(old) = olds {
        immutability(old, &news, unknowns, &mut f);
    }
    (news, f)
}

/// A version is immutable: what it contains may change only with a new version, and a
/// replacement must not reuse the snapshot it replaces.
fn immutability(old: &Inputs, new: &Inputs, unknowns: &Unknowns, f: &mut Vec<Failure>) {
    let same_version = old.version == new.version
        && old.dataset == new.dataset
        && !unknowns.contains("version")
        && !unknowns.contains("dataset");
    if same_version {
        if !unknowns.contains("sourceDiskId") && !same_id(&old.source_disk_id, &new.source_disk_id)
        {
            f.push(Failure::new(
                "sourceDiskId",
                bump_message("sourceDiskId", new),
            ));
        }
        if !unknowns.contains("sourceSnapshotId")
            && !same_id(&old.source_snapshot_id, &new.source_snapshot_id)
        {
            f.push(Failure::new(
                "sourceSnapshotId",
                bump_message("sourceSnapshotId", new),
            ));
        }
        // Between two explicit regions; an unset old region (the source's) is compared
        // with the actual one in Diff.
        if !unknowns.contains("location")
            && old.location.is_some()
            && new.location.is_some()
            && !same_location(&old.location, &new.location)
        {
            f.push(Failure::new("location", bump_message("location", new)));
        }
    }
    // Would the replacement land on the same ARM id? Only decidable when nothing that
    // names the snapshot is unknown.
    if [
        "snapshotName",
        "resourceGroupName",
        "dataset",
        "version",
        "incremental",
    ]
    .iter()
    .any(|k| unknowns.contains(k))
    {
        return;
    }
    let (Some(o), Some(n)) = (old.effective_name(), new.effective_name()) else {
        return;
    };
    let same_id = o.eq_ignore_ascii_case(&n)
        && old
            .resource_group_name
            .eq_ignore_ascii_case(&new.resource_group_name);
    let replacing = old.dataset != new.dataset
        || old.version != new.version
        || old.incremental.unwrap_or(true) != new.incremental.unwrap_or(true);
    if same_id && replacing {
        let how = if new.snapshot_name.is_some()
            && old.snapshot_name == new.snapshot_name
            && old.version != new.version
        {
            "the explicit `snapshotName` did not change: change it too (or remove it to use the default name)"
        } else if old.version != new.version {
            "both versions map to this name: set `snapshotName` explicitly"
        } else {
            "bump `version` or set a new `snapshotName`"
        };
        f.push(Failure::new(
            "snapshotName",
            format!(
                "this change replaces the snapshot, but the replacement would have the same name \"{n}\" in resource group \"{}\" and so the same ARM id as the snapshot it replaces; {how}",
                new.resource_group_name
            ),
        ));
    }
}

fn bump_message(what: &str, new: &Inputs) -> String {
    format!(
        "{what} changed but version \"{}\" of dataset \"{}\" did not: a version is immutable. Bump `version` to take a new snapshot (the current one stays as a retained version), or revert {what}",
        new.version, new.dataset
    )
}

/// Compares the recorded outputs with the new checked inputs.
pub fn diff(
    olds: &Outputs,
    news: &Inputs,
    unknowns: &Unknowns,
) -> Result<DiffResult, ResourceError> {
    let old = &olds.inputs;
    // The recorded location is the actual region. Naming another one for the same version
    // would change what the version contains.
    let moved = news.location.is_some()
        && !unknowns.contains("location")
        && !same_location(&old.location, &news.location);
    if moved
        && old.version == news.version
        && old.dataset == news.dataset
        && !unknowns.contains("version")
    {
        return Err(ResourceError::Invalid {
            property: "location".into(),
            reason: format!(
                "location \"{}\" differs from the region of version \"{}\" ({}): {}",
                news.location.as_deref().unwrap_or_default(),
                news.version,
                old.location.as_deref().unwrap_or("unknown"),
                bump_message("location", news)
            ),
        });
    }
    let mut changes = Vec::new();
    let mut scalar = |key: &str, changed: bool, had: bool, has: bool, replace: bool| {
        if unknowns.contains(key) || changed {
            let kind = match (had, has || unknowns.contains(key)) {
                (false, true) => ChangeKind::Add,
                (true, false) => ChangeKind::Delete,
                _ => ChangeKind::Update,
            };
            changes.push(Change {
                path: key.to_string(),
                kind,
                replace,
            });
        }
    };
    scalar(
        "resourceGroupName",
        !old.resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name),
        true,
        true,
        true,
    );
    scalar("dataset", old.dataset != news.dataset, true, true, true);
    scalar("version", old.version != news.version, true, true, true);
    scalar(
        "sourceDiskId",
        !same_id(&old.source_disk_id, &news.source_disk_id),
        old.source_disk_id.is_some(),
        news.source_disk_id.is_some(),
        true,
    );
    scalar(
        "sourceSnapshotId",
        !same_id(&old.source_snapshot_id, &news.source_snapshot_id),
        old.source_snapshot_id.is_some(),
        news.source_snapshot_id.is_some(),
        true,
    );
    // The recorded location is the actual region; an unset input means "the source's".
    scalar(
        "location",
        news.location.is_some() && !same_location(&old.location, &news.location),
        old.location.is_some(),
        news.location.is_some(),
        true,
    );
    let old_name = old.effective_name();
    let new_name = news.effective_name();
    let name_changed = match (&old_name, &new_name) {
        (Some(a), Some(b)) => !a.eq_ignore_ascii_case(b),
        _ => false,
    };
    scalar("snapshotName", name_changed, true, true, true);
    scalar(
        "incremental",
        old.incremental.unwrap_or(true) != news.incremental.unwrap_or(true),
        true,
        true,
        true,
    );
    scalar(
        "sku",
        news.sku.is_some() && old.sku != news.sku,
        old.sku.is_some(),
        news.sku.is_some(),
        false,
    );
    scalar(
        "deletionPolicy",
        old.deletion_policy() != news.deletion_policy(),
        true,
        true,
        false,
    );
    scalar(
        "retention",
        old.retention != news.retention,
        old.retention.is_some(),
        news.retention.is_some(),
        false,
    );
    map_diff(
        "tags",
        old.tags.as_ref(),
        news.tags.as_ref(),
        unknowns,
        &mut changes,
    );
    map_diff(
        "metadata",
        old.metadata.as_ref(),
        news.metadata.as_ref(),
        unknowns,
        &mut changes,
    );
    // A version that was released (and so may be pruned) is held again, by this stack:
    // the next update takes the release marker off.
    if olds.retained {
        changes.push(Change {
            path: path_join("tags", tags::RETAINED),
            kind: ChangeKind::Delete,
            replace: false,
        });
    }
    Ok(DiffResult {
        changes,
        delete_before_replace: false,
    })
}

/// The outputs knowable before Azure is called: the checked inputs. Everything Azure
/// decides (the id, sizes, times, the region when it defaults to the source's) is left out,
/// so the engine shows it as unknown.
pub fn preview(news: &Inputs) -> Map<String, Json> {
    json_map(news)
}

/// The resource controller.
pub struct VersionedSnapshot;

/// The snapshot's ARM id for these inputs.
fn snapshot_id(arm: &ArmClient, inputs: &Inputs) -> Result<ResourceId, ResourceError> {
    let name = inputs
        .effective_name()
        .ok_or_else(|| ResourceError::Bug("create without a dataset and version".into()))?;
    Ok(ResourceId::new(
        arm.subscription_id(),
        &inputs.resource_group_name,
        ResourceKind::Snapshot,
        name,
    ))
}

/// The `pulumi import` command that adopts an existing snapshot.
pub fn import_hint(id: &str) -> String {
    format!("pulumi import {TOKEN} <resource name> {id}")
}

/// The recorded state for a snapshot Azure reported.
pub fn outputs_from(inputs: Inputs, snap: &Snapshot, id: &ResourceId) -> Outputs {
    let p = &snap.properties;
    let mut inputs = inputs;
    // Keep the user's spelling of the region; record Azure's when it was defaulted.
    if inputs.location.is_none() && !snap.location.is_empty() {
        inputs.location = Some(snap.location.clone());
    }
    Outputs {
        inputs,
        snapshot_id: snap.id.clone().unwrap_or_else(|| id.to_string()),
        time_created: p.time_created.clone().unwrap_or_default(),
        disk_size_gb: p.disk_size_gb.unwrap_or_default(),
        disk_size_bytes: p.disk_size_bytes.unwrap_or_default() as f64,
        provisioning_state: p.provisioning_state.clone().unwrap_or_default(),
        unique_id: p.unique_id.clone().unwrap_or_default(),
        source_unique_id: p.creation_data.source_unique_id.clone(),
        incremental_snapshot_family_id: p.incremental_snapshot_family_id.clone(),
        completion_percent: p.completion_percent,
        retained: tags::VersionTags::decode(&snap.tags).is_some_and(|t| t.retained),
    }
}

/// Rebuilds a version's inputs from its snapshot (import) or refreshes recorded ones.
/// Tags are the source of truth for the version's identity and lineage.
pub fn inputs_from(
    snap: &Snapshot,
    id: &ResourceId,
    old: Option<&Inputs>,
) -> Result<Inputs, ResourceError> {
    let vt = match (tags::VersionTags::decode(&snap.tags), old) {
        (Some(vt), _) => vt,
        // The version tags were removed behind our back: the recorded identity stands, and
        // the next update writes the tags again.
        (None, Some(o)) => {
            let mut vt = o.version_tags();
            vt.user = snap.tags.iter().filter(|(k, _)| !k.to_ascii_lowercase().starts_with(tags::PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
            vt
        }
        (None, None) => {
            return Err(ResourceError::Invalid {
                property: "id".into(),
                reason: format!(
                    "snapshot {id} is not a datasnap version: it has no {} and {} tags. Add them in Azure (for example `az snapshot update --set tags.{}=<dataset> tags.{}=<version>`) and import again",
                    tags::DATASET, tags::VERSION, tags::DATASET, tags::VERSION
                ),
            })
        }
    };
    let keep_spelling = |old: Option<&String>, azure: &str| match old {
        Some(o) if o.eq_ignore_ascii_case(azure) => o.clone(),
        _ => azure.to_string(),
    };
    let source = snap.properties.creation_data.source_resource_id.clone();
    let (mut disk, mut snapshot) = (None, None);
    if let Some(src) = source {
        if ResourceId::parse(&src, ResourceKind::Snapshot).is_ok() {
            snapshot = Some(keep_spelling(
                old.and_then(|o| o.source_snapshot_id.as_ref()),
                &src,
            ));
        } else {
            disk = Some(keep_spelling(
                old.and_then(|o| o.source_disk_id.as_ref()),
                &src,
            ));
        }
    } else if let Some(o) = old {
        disk = o.source_disk_id.clone();
        snapshot = o.source_snapshot_id.clone();
    }
    let mut user = vt.user.clone();
    if vt.keep {
        user.insert(tags::KEEP.into(), "true".into());
    }
    Ok(Inputs {
        resource_group_name: keep_spelling(old.map(|o| &o.resource_group_name), &id.resource_group),
        dataset: vt.dataset.clone(),
        version: vt.version.clone(),
        source_disk_id: disk,
        source_snapshot_id: snapshot,
        // An unset location means "the source's region"; an explicit one is compared.
        location: match old.and_then(|o| o.location.as_ref()) {
            Some(l) if normalize_location(l) == normalize_location(&snap.location) => {
                Some(l.clone())
            }
            Some(_) => Some(snap.location.clone()),
            None => None,
        },
        snapshot_name: Some(keep_spelling(
            old.and_then(|o| o.snapshot_name.as_ref()),
            &id.name,
        )),
        incremental: Some(snap.properties.incremental.unwrap_or(false)),
        // Import records Azure's SKU; a refresh keeps "unset" unset (Azure's default).
        sku: match old {
            Some(o) if o.sku.is_none() => None,
            _ => snap.sku.as_ref().and_then(|s| s.name.clone()),
        },
        tags: Some(user),
        metadata: Some(vt.metadata.clone()),
        deletion_policy: Some(
            vt.deletion_policy
                .clone()
                .or_else(|| old.and_then(|o| o.deletion_policy.clone()))
                .unwrap_or_else(|| RETAIN.into()),
        ),
        retention: vt
            .retention
            .filter(|r| !r.is_empty())
            .or_else(|| old.and_then(|o| o.retention)),
    })
}

/// The tags a version carries in Azure.
fn azure_tags(inputs: &Inputs) -> BTreeMap<String, String> {
    inputs.version_tags().encode()
}

#[tonic::async_trait]
impl Resource for VersionedSnapshot {
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
        diff(olds, news, unknowns)
    }

    const PLAIN_IN_AZURE: &'static [&'static str] = &["dataset", "version", "tags", "metadata"];

    fn preview(&self, news: &Inputs, _unknowns: &Unknowns) -> Map<String, Json> {
        preview(news)
    }

    async fn plan_create(&self, env: &Env, news: &Inputs, unknowns: &Unknowns) {
        let Some(rule) = news.retention else { return };
        if unknowns.contains("resourceGroupName")
            || unknowns.contains("dataset")
            || unknowns.contains("version")
            || unknowns.contains("retention")
        {
            return;
        }
        let Ok(arm) = env.arm() else { return };
        prune::warn_planned(
            env,
            arm,
            &news.resource_group_name,
            &news.dataset,
            &news.version,
            rule,
        )
        .await;
    }

    async fn create(&self, env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
        let arm = env.arm()?;
        let ctx = env.op(default_timeouts::CREATE);
        let id = snapshot_id(arm, &inputs)?;
        // PUT is an upsert: never overwrite an existing snapshot.
        if let Some(existing) = arm.get_snapshot(&id, &ctx).await? {
            let what = match tags::VersionTags::decode(&existing.tags) {
                Some(vt) => format!("version \"{}\" of dataset \"{}\"", vt.version, vt.dataset),
                None => "a snapshot datasnap does not manage".to_string(),
            };
            return Err(ResourceError::Failed(format!(
                "snapshot {id} already exists in Azure ({what}); datasnap never overwrites a snapshot. To manage it with this stack, import it: `{}`; to take a new snapshot instead, bump `version` or set another `snapshotName`",
                import_hint(&id.to_string())
            )));
        }
        let (create_option, source, location) = if let Some(disk_id) = &inputs.source_disk_id {
            let disk_ref = ResourceId::parse(disk_id, ResourceKind::Disk).map_err(|e| {
                ResourceError::Invalid {
                    property: "sourceDiskId".into(),
                    reason: e.to_string(),
                }
            })?;
            let location = match &inputs.location {
                Some(l) => l.clone(),
                None => match arm.get_disk(&disk_ref, &ctx).await? {
                    Some(d) => d.location,
                    None => {
                        return Err(ResourceError::Invalid {
                            property: "sourceDiskId".into(),
                            reason: format!("the managed disk {disk_id} does not exist (or the identity cannot see it); check the id"),
                        })
                    }
                },
            };
            ("Copy", disk_id.clone(), location)
        } else if let Some(snap_id) = &inputs.source_snapshot_id {
            let src_ref = ResourceId::parse(snap_id, ResourceKind::Snapshot).map_err(|e| {
                ResourceError::Invalid {
                    property: "sourceSnapshotId".into(),
                    reason: e.to_string(),
                }
            })?;
            let Some(src) = arm.get_snapshot(&src_ref, &ctx).await? else {
                return Err(ResourceError::Invalid {
                    property: "sourceSnapshotId".into(),
                    reason: format!("the snapshot {snap_id} does not exist (or the identity cannot see it); check the id"),
                });
            };
            let location = inputs
                .location
                .clone()
                .unwrap_or_else(|| src.location.clone());
            // Another region: an incremental cross-region copy that Azure completes in the
            // background; within a region, a plain copy.
            let option = if normalize_location(&location) != normalize_location(&src.location) {
                "CopyStart"
            } else {
                "Copy"
            };
            (option, snap_id.clone(), location)
        } else {
            return Err(ResourceError::Bug("create without a source".into()));
        };
        let body = Snapshot {
            location: location.clone(),
            tags: azure_tags(&inputs),
            sku: inputs.sku.as_ref().map(|n| Sku {
                name: Some(n.clone()),
                ..Sku::default()
            }),
            properties: SnapshotProperties {
                creation_data: CreationData {
                    create_option: create_option.into(),
                    source_resource_id: Some(source),
                    ..CreationData::default()
                },
                incremental: Some(inputs.incremental.unwrap_or(true)),
                ..SnapshotProperties::default()
            },
            ..Snapshot::default()
        };
        env.progress(&format!(
            "creating snapshot {} ({create_option} of version \"{}\")",
            id.name, inputs.version
        ));
        let snap = match arm.create_snapshot(&id, &body, &ctx).await {
            Ok(s) => s,
            Err(AzureError::AfterAccepted {
                id: accepted,
                source,
            }) if matches!(*source, AzureError::OperationFailed { .. }) => {
                // Azure says the snapshot (or its copy) failed: it holds no usable data.
                // Delete it so nothing half-made is left; if that fails too, track it.
                let cleanup = OpContext::new(default_timeouts::DELETE, env.cancel.clone());
                match arm.delete_snapshot(&id, &cleanup).await {
                    Ok(()) => return Err(ResourceError::Failed(format!("creating snapshot {} failed in Azure: {source}. The failed snapshot was deleted; nothing was created", id.name))),
                    Err(e) => {
                        let outputs = Outputs { inputs: Inputs { location: Some(location), ..inputs.clone() }, snapshot_id: accepted.clone(), ..Outputs::default() };
                        return Err(ResourceError::partial(&accepted, &outputs, format!("creating snapshot {} failed in Azure: {source}; deleting the failed snapshot also failed ({e}), so it is tracked in the stack: run `pulumi destroy` or fix and `pulumi up`", id.name)));
                    }
                }
            }
            Err(AzureError::AfterAccepted {
                id: accepted,
                source,
            }) => {
                // The snapshot exists: report a partial create so the engine tracks it and
                // the next `up` converges instead of leaking it.
                let mut partial = inputs.clone();
                partial.location = Some(location);
                let outputs = Outputs {
                    inputs: partial,
                    snapshot_id: accepted.clone(),
                    ..Outputs::default()
                };
                return Err(ResourceError::partial(
                    &accepted,
                    &outputs,
                    partial_message(&format!("snapshot {accepted}"), &source),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let outputs = outputs_from(inputs.clone(), &snap, &id);
        if let Some(rule) = inputs.retention {
            prune::apply(
                env,
                arm,
                &inputs.resource_group_name,
                &inputs.dataset,
                rule,
                &outputs.snapshot_id,
            )
            .await;
        }
        Ok((outputs.snapshot_id.clone(), outputs))
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
            ResourceId::parse(id, ResourceKind::Snapshot).map_err(|e| ResourceError::Invalid {
                property: "id".into(),
                reason: format!(
                    "a VersionedSnapshot is imported by the ARM id of its snapshot: {e}"
                ),
            })?;
        let Some(snap) = arm.get_snapshot(&rid, &ctx).await? else {
            return Ok(None);
        };
        let new_inputs = inputs_from(&snap, &rid, inputs.as_ref())?;
        let outputs = outputs_from(new_inputs.clone(), &snap, &rid);
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
        let rid = ResourceId::parse(id, ResourceKind::Snapshot)
            .map_err(|e| ResourceError::Bug(format!("recorded id: {e}")))?;
        let mut body = SnapshotUpdate {
            tags: Some(azure_tags(&news)),
            ..SnapshotUpdate::default()
        };
        if news.sku.is_some() && news.sku != olds.inputs.sku {
            body.sku = news.sku.as_ref().map(|n| Sku {
                name: Some(n.clone()),
                ..Sku::default()
            });
        }
        let snap = arm.update_snapshot(&rid, &body, &ctx).await?;
        let mut new_inputs = news;
        if new_inputs.location.is_none() {
            new_inputs.location = olds.inputs.location.clone();
        }
        Ok(outputs_from(new_inputs, &snap, &rid))
    }

    async fn delete(&self, env: &Env, id: &str, olds: Outputs) -> Result<(), ResourceError> {
        let arm = env.arm()?;
        let ctx = env.op(default_timeouts::DELETE);
        let rid = ResourceId::parse(id, ResourceKind::Snapshot)
            .map_err(|e| ResourceError::Bug(format!("recorded id: {e}")))?;
        let inputs = &olds.inputs;
        if inputs.deletion_policy() == DELETE {
            arm.delete_snapshot(&rid, &ctx).await?;
            env.info(&format!(
                "deleted snapshot {} (version \"{}\" of dataset \"{}\", deletionPolicy Delete)",
                rid.name, inputs.version, inputs.dataset
            ));
            return Ok(());
        }
        // Retain: release the snapshot from the stack and mark it as a retained version, so
        // it stays findable (getVersions) and only a retention rule may prune it.
        let Some(snap) = arm.get_snapshot(&rid, &ctx).await? else {
            env.info(&format!("snapshot {} is already gone from Azure", rid.name));
            return Ok(());
        };
        let mut t = snap.tags.clone();
        t.insert(tags::RETAINED.into(), "true".into());
        if t != snap.tags {
            let body = SnapshotUpdate {
                tags: Some(t),
                ..SnapshotUpdate::default()
            };
            match arm.update_snapshot(&rid, &body, &ctx).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        env.info(&format!(
            "retained snapshot {} in Azure as version \"{}\" of dataset \"{}\" (deletionPolicy Retain); it is no longer managed by this stack",
            rid.name, inputs.version, inputs.dataset
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISK: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data";
    const DISK2: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/data2";

    fn inputs() -> Inputs {
        Inputs {
            resource_group_name: "rg".into(),
            dataset: "imagenet".into(),
            version: "1".into(),
            source_disk_id: Some(DISK.into()),
            ..Inputs::default()
        }
    }

    fn checked(i: Inputs) -> Inputs {
        let (i, f) = check(None, i, &Unknowns::default());
        assert!(f.is_empty(), "{f:?}");
        i
    }

    fn props(f: &[Failure]) -> Vec<&str> {
        f.iter().map(|f| f.property.as_str()).collect()
    }

    #[test]
    fn check_fills_defaults() {
        let i = checked(inputs());
        assert_eq!(i.snapshot_name.as_deref(), Some("imagenet-v1"));
        assert_eq!(i.incremental, Some(true));
        assert_eq!(i.deletion_policy.as_deref(), Some("Retain"));
        assert_eq!(i.tags, Some(BTreeMap::new()));
    }

    #[test]
    fn check_reports_each_bad_property() {
        let mut i = inputs();
        i.snapshot_name = Some("bad name!".into());
        i.source_disk_id = Some(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/x".into(),
        );
        i.tags = Some(
            [
                ("datasnap.version".to_string(), "x".to_string()),
                ("a/b".to_string(), "v".to_string()),
            ]
            .into(),
        );
        i.metadata = Some([("bad key".to_string(), "v".to_string())].into());
        i.retention = Some(Retention {
            keep_last: Some(0),
            max_age_days: None,
        });
        let (_, f) = check(None, i, &Unknowns::default());
        let p = props(&f);
        for want in [
            "snapshotName",
            "sourceDiskId",
            "tags[\"datasnap.version\"]",
            "tags[\"a/b\"]",
            "metadata[\"bad key\"]",
            "retention.keepLast",
        ] {
            assert!(p.contains(&want), "{want} missing from {f:?}");
        }
        let disk = f.iter().find(|f| f.property == "sourceDiskId").unwrap();
        assert!(disk.reason.contains("managed disk"), "{}", disk.reason);
    }

    #[test]
    fn check_requires_one_source_and_the_identity() {
        let (_, f) = check(None, Inputs::default(), &Unknowns::default());
        assert_eq!(
            props(&f),
            ["resourceGroupName", "dataset", "version", "sourceDiskId"]
        );
        let mut both = inputs();
        both.source_snapshot_id = Some(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/x".into(),
        );
        let (_, f) = check(None, both, &Unknowns::default());
        assert_eq!(props(&f), ["sourceSnapshotId"]);
    }

    #[test]
    fn check_skips_unknown_values() {
        let mut p = crate::value::Props::default();
        p.unknowns.insert("sourceDiskId".into());
        p.unknowns.insert("version".into());
        let mut i = inputs();
        i.source_disk_id = None;
        i.version = String::new();
        let (i, f) = check(None, i, &Unknowns::from_props(&p));
        assert!(f.is_empty(), "{f:?}");
        // The name depends on the unknown version, so it stays unknown.
        assert_eq!(i.snapshot_name, None);
    }

    #[test]
    fn changing_the_source_without_a_version_bump_fails() {
        let old = checked(inputs());
        let mut new = inputs();
        new.source_disk_id = Some(DISK2.into());
        let (_, f) = check(Some(&old), new.clone(), &Unknowns::default());
        assert_eq!(props(&f), ["sourceDiskId"]);
        assert!(f[0].reason.contains("Bump `version`"), "{}", f[0].reason);
        new.version = "2".into();
        let (_, f) = check(Some(&old), new, &Unknowns::default());
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_replacement_onto_the_same_id_is_refused() {
        let mut old = inputs();
        old.snapshot_name = Some("fixed".into());
        let old = checked(old);
        let mut new = old.clone();
        new.version = "2".into();
        let (_, f) = check(Some(&old), new, &Unknowns::default());
        assert_eq!(props(&f), ["snapshotName"]);
        assert!(f[0].reason.contains("same ARM id"), "{}", f[0].reason);
        let mut flip = checked(inputs());
        flip.incremental = Some(false);
        let (_, f) = check(Some(&checked(inputs())), flip, &Unknowns::default());
        assert_eq!(props(&f), ["snapshotName"]);
    }

    fn outputs(i: Inputs) -> Outputs {
        let mut i = checked(i);
        i.location = Some("westus".into());
        Outputs {
            inputs: i,
            snapshot_id: "id".into(),
            ..Outputs::default()
        }
    }

    #[test]
    fn diff_of_same_inputs_is_empty() {
        let o = outputs(inputs());
        assert_eq!(
            diff(&o, &checked(inputs()), &Unknowns::default()).unwrap(),
            DiffResult::default()
        );
    }

    #[test]
    fn tag_changes_are_updates_with_one_path_per_key() {
        let mut old = inputs();
        old.tags = Some(
            [
                ("env".to_string(), "dev".to_string()),
                ("gone".to_string(), "x".to_string()),
            ]
            .into(),
        );
        let o = outputs(old);
        let mut new = inputs();
        new.tags = Some(
            [
                ("env".to_string(), "prod".to_string()),
                ("a.b".to_string(), "y".to_string()),
            ]
            .into(),
        );
        let d = diff(&o, &checked(new), &Unknowns::default()).unwrap();
        assert!(!d.replaces());
        let paths: Vec<(&str, ChangeKind)> = d
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.kind))
            .collect();
        assert_eq!(
            paths,
            [
                ("tags[\"a.b\"]", ChangeKind::Add),
                ("tags.env", ChangeKind::Update),
                ("tags.gone", ChangeKind::Delete)
            ]
        );
    }

    #[test]
    fn a_version_bump_replaces() {
        let o = outputs(inputs());
        let mut new = inputs();
        new.version = "2".into();
        let d = diff(&o, &checked(new), &Unknowns::default()).unwrap();
        assert!(d.replaces());
        let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["version", "snapshotName"]);
    }

    #[test]
    fn location_case_and_defaulted_location_are_not_changes() {
        let o = outputs(inputs());
        let mut new = inputs();
        new.location = Some("West US".into());
        assert!(diff(&o, &checked(new), &Unknowns::default())
            .unwrap()
            .changes
            .is_empty());
    }

    #[test]
    fn policy_and_sku_are_updates() {
        let o = outputs(inputs());
        let mut new = inputs();
        new.deletion_policy = Some("Delete".into());
        new.sku = Some("Standard_ZRS".into());
        let d = diff(&o, &checked(new), &Unknowns::default()).unwrap();
        assert!(!d.replaces());
        assert_eq!(d.changes.len(), 2);
    }
}
