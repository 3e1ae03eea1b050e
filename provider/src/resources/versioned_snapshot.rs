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
    check_azure_name, check_dataset, check_resource_group, check_version, default_snapshot_name,
};
use super::tags::{self, VersionTags};
use crate::azure::id::{ids_equal, ResourceId, ResourceKind};
use crate::resource::{
    Change, ChangeKind, DiffResult, Env, Failure, Resource, ResourceError, Unknowns,
};
use crate::value::path_join;

pub const TOKEN: &str = "datasnap:index:VersionedSnapshot";

/// `Retain` (default) or `Delete`.
pub const RETAIN: &str = "Retain";
pub const DELETE: &str = "Delete";

/// Which old versions to prune after a create.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
}

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
            retention: self.retention.map(|r| tags::RetentionTag {
                keep_last: r.keep_last,
                max_age_days: r.max_age_days,
            }),
            keep: self
                .tags
                .as_ref()
                .and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(tags::KEEP)))
                .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true")),
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
        if l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
            f.push(Failure::new(
                "location",
                format!("\"{l}\" is not an Azure region name such as \"westus2\" or \"West US 2\""),
            ));
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
        if tags::is_reserved(k) {
            f.push(Failure::new(&p, format!("tag names starting with \"{}\" are reserved for datasnap's own version tags; put lineage in `metadata` instead", tags::PREFIX)));
        } else if let Err(e) = tags::check_tag_name(k).and_then(|_| tags::check_tag_value(k, v)) {
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
        if r.keep_last.is_none() && r.max_age_days.is_none() && !unknowns.contains("retention") {
            f.push(Failure::new(
                "retention",
                "set keepLast, maxAgeDays or both (or leave retention out to keep every version)",
            ));
        }
    }
    if !news.dataset.is_empty() && !news.version.is_empty() {
        let count = news.version_tags().count();
        if count > tags::MAX_TAGS {
            f.push(Failure::new("tags", format!("this version would carry {count} Azure tags (your tags, metadata and datasnap's own); Azure allows at most {}: remove some tags or metadata", tags::MAX_TAGS)));
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
    let same_version =
        old.version == new.version && old.dataset == new.dataset && !unknowns.contains("version");
    if same_version {
        let bump = |what: &str| {
            format!(
                "{what} changed but version \"{}\" of dataset \"{}\" did not: a version is immutable. Bump `version` to take a new snapshot (the current one stays as a retained version), or revert {what}",
                new.version, new.dataset
            )
        };
        if !unknowns.contains("sourceDiskId") && !same_id(&old.source_disk_id, &new.source_disk_id)
        {
            f.push(Failure::new("sourceDiskId", bump("sourceDiskId")));
        }
        if !unknowns.contains("sourceSnapshotId")
            && !same_id(&old.source_snapshot_id, &new.source_snapshot_id)
        {
            f.push(Failure::new("sourceSnapshotId", bump("sourceSnapshotId")));
        }
        // An unset location means "the source's region": only a change between two
        // explicit regions, or setting one where there was none, is a change of content.
        if !unknowns.contains("location")
            && new.location.is_some()
            && !same_location(&old.location, &new.location)
        {
            f.push(Failure::new("location", bump("location")));
        }
    }
    // Would the replacement land on the same ARM id?
    let replacing = old.resource_group_name != new.resource_group_name
        || old.dataset != new.dataset
        || old.version != new.version
        || old.snapshot_name != new.snapshot_name
        || old.incremental.unwrap_or(true) != new.incremental.unwrap_or(true);
    if replacing && !unknowns.contains("snapshotName") && !unknowns.contains("resourceGroupName") {
        if let (Some(o), Some(n)) = (old.effective_name(), new.effective_name()) {
            if o.eq_ignore_ascii_case(&n)
                && old
                    .resource_group_name
                    .eq_ignore_ascii_case(&new.resource_group_name)
            {
                f.push(Failure::new(
                    "snapshotName",
                    format!(
                        "this change replaces the snapshot, but the replacement would have the same name \"{n}\" in resource group \"{}\" and so the same ARM id as the snapshot it replaces. Bump `version`{} or set a new `snapshotName`",
                        new.resource_group_name,
                        if new.snapshot_name.is_some() && old.snapshot_name == new.snapshot_name { " and change `snapshotName`" } else { "" }
                    ),
                ));
            }
        }
    }
}

/// Compares the recorded outputs with the new checked inputs.
pub fn diff(olds: &Outputs, news: &Inputs, unknowns: &Unknowns) -> DiffResult {
    let old = &olds.inputs;
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
    DiffResult {
        changes,
        delete_before_replace: false,
    }
}

/// One change per map key, so `pulumi preview --diff` shows `tags.env`.
fn map_diff(
    key: &str,
    old: Option<&BTreeMap<String, String>>,
    new: Option<&BTreeMap<String, String>>,
    unknowns: &Unknowns,
    changes: &mut Vec<Change>,
) {
    if new.is_none() && unknowns.contains(key) {
        changes.push(Change {
            path: key.to_string(),
            kind: ChangeKind::Update,
            replace: false,
        });
        return;
    }
    let empty = BTreeMap::new();
    let old = old.unwrap_or(&empty);
    let new = new.unwrap_or(&empty);
    for (k, v) in new {
        let path = path_join(key, k);
        match old.get(k) {
            None => changes.push(Change {
                path,
                kind: ChangeKind::Add,
                replace: false,
            }),
            Some(o) if o != v => changes.push(Change {
                path,
                kind: ChangeKind::Update,
                replace: false,
            }),
            _ => {}
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            let kind = if unknowns.contains_entry(key, k) {
                ChangeKind::Update
            } else {
                ChangeKind::Delete
            };
            changes.push(Change {
                path: path_join(key, k),
                kind,
                replace: false,
            });
        }
    }
}

/// The outputs knowable before Azure is called: the checked inputs. Everything Azure
/// decides (the id, sizes, times, the region when it defaults to the source's) is left out,
/// so the engine shows it as unknown.
pub fn preview(news: &Inputs) -> Map<String, Json> {
    match serde_json::to_value(news) {
        Ok(Json::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The resource controller.
pub struct VersionedSnapshot;

fn not_yet(op: &str) -> ResourceError {
    ResourceError::Unimplemented(format!(
        "VersionedSnapshot {op} against Azure is not available in this build"
    ))
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

    fn diff(&self, olds: &Outputs, news: &Inputs, unknowns: &Unknowns) -> DiffResult {
        diff(olds, news, unknowns)
    }

    fn preview(&self, news: &Inputs, _unknowns: &Unknowns) -> Map<String, Json> {
        preview(news)
    }

    async fn create(
        &self,
        _env: &Env,
        _inputs: Inputs,
    ) -> Result<(String, Outputs), ResourceError> {
        Err(not_yet("create"))
    }

    async fn read(
        &self,
        _env: &Env,
        _id: &str,
        _inputs: Option<Inputs>,
        _state: Option<Outputs>,
    ) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
        Err(not_yet("read"))
    }

    async fn update(
        &self,
        _env: &Env,
        _id: &str,
        _olds: Outputs,
        _news: Inputs,
    ) -> Result<Outputs, ResourceError> {
        Err(not_yet("update"))
    }

    async fn delete(&self, _env: &Env, _id: &str, _olds: Outputs) -> Result<(), ResourceError> {
        Err(not_yet("delete"))
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
            diff(&o, &checked(inputs()), &Unknowns::default()),
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
        let d = diff(&o, &checked(new), &Unknowns::default());
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
        let d = diff(&o, &checked(new), &Unknowns::default());
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
            .changes
            .is_empty());
    }

    #[test]
    fn policy_and_sku_are_updates() {
        let o = outputs(inputs());
        let mut new = inputs();
        new.deletion_policy = Some("Delete".into());
        new.sku = Some("Standard_ZRS".into());
        let d = diff(&o, &checked(new), &Unknowns::default());
        assert!(!d.replaces());
        assert_eq!(d.changes.len(), 2);
    }
}
