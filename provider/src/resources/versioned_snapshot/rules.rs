//! VersionedSnapshot's own rules, as pure functions over typed inputs: what Check adds to
//! the schema's rules (values, sources, immutability of a version, a replacement that
//! would reuse its own ARM id), where the diff knows better than equal JSON, and what the
//! diff adds (a version cannot change region; a re-held version loses its release mark).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::types::{Inputs, Outputs, DELETE};
use crate::azure::id::ids_equal;
use crate::catalog::tags;
use crate::resource::{
    json_map, Change, ChangeKind, DiffResult, Failure, ResourceError, Severity, Unknowns,
};
use crate::resources::naming::{
    check_azure_name, check_dataset, check_disk_id, check_resource_group, check_snapshot_id,
    check_version, non_empty, normalize_location, Rule,
};
use crate::resources::regions::check_location;
use crate::resources::security::Security;
use crate::value::path_join;

pub(super) fn same_location(a: &Option<String>, b: &Option<String>) -> bool {
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

/// VersionedSnapshot's own rules, after the schema's (see the schema for each rule), and
/// the defaults the schema cannot state: the derived snapshot name and empty maps.
pub fn check(
    owner: &str,
    olds: Option<&Inputs>,
    mut news: Inputs,
    unknowns: &Unknowns,
) -> (Inputs, Vec<Failure>) {
    let mut f = Vec::new();
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
    // Required inputs are the adapter's (schema.json); the values set are checked here.
    let values: [(&str, Option<&str>, Rule); 7] = [
        (
            "resourceGroupName",
            non_empty(&news.resource_group_name),
            check_resource_group,
        ),
        ("dataset", non_empty(&news.dataset), check_dataset),
        ("version", non_empty(&news.version), check_version),
        (
            "sourceDiskId",
            news.source_disk_id.as_deref(),
            check_disk_id,
        ),
        (
            "sourceSnapshotId",
            news.source_snapshot_id.as_deref(),
            check_snapshot_id,
        ),
        ("location", news.location.as_deref(), check_location),
        (
            "snapshotName",
            news.snapshot_name.as_deref(),
            check_azure_name,
        ),
    ];
    f.extend(Failure::check_each(values));
    if news.snapshot_name.is_none()
        && !unknowns.contains("dataset")
        && !unknowns.contains("version")
    {
        // A name once recorded stays: the same version keeps its snapshot's name even when
        // the default rule has changed since (only a new dataset or version renames).
        let recorded = olds
            .filter(|o| o.dataset == news.dataset && o.version == news.version)
            .and_then(|o| o.snapshot_name.clone());
        news.snapshot_name = recorded.or_else(|| news.default_name(owner));
    }
    if news.tags.is_none() && !unknowns.contains("tags") {
        news.tags = Some(BTreeMap::new());
    }
    if news.metadata.is_none() && !unknowns.contains("metadata") {
        news.metadata = Some(BTreeMap::new());
    }
    for (k, v) in news.tags.iter().flatten() {
        let p = path_join("tags", k);
        if k.eq_ignore_ascii_case(tags::KEEP) && k != tags::KEEP {
            f.push(Failure::new(&p, format!("marks a version that retention must never prune: spell the key exactly `{}` (any value but \"false\" keeps the version), or leave it out", tags::KEEP)));
        } else if k == tags::KEEP {
            // The one datasnap tag users set themselves; any value but `false` keeps.
            if let Err(e) = tags::check_tag_value(k, v) {
                f.push(Failure::new(&p, e));
            }
        } else if let Err(e) = tags::check_user_tag(k, v) {
            f.push(Failure::new(&p, e));
        }
    }
    for (map, name, prefix) in [
        (&news.tags, "tags", ""),
        (&news.metadata, "metadata", tags::META_PREFIX),
    ] {
        for (k, e) in tags::case_clashes(map.iter().flatten().map(|(k, _)| k), prefix) {
            f.push(Failure::new(path_join(name, k), e));
        }
    }
    for (k, v) in news.metadata.iter().flatten() {
        let p = path_join("metadata", k);
        if let Err(e) = tags::check_metadata_key(k).and_then(|_| tags::check_tag_value(k, v)) {
            f.push(Failure::new(&p, e));
        }
    }
    if let Some(r) = news.retention {
        for (part, reason) in r.check() {
            f.push(Failure::new(path_join("retention", part), reason));
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
        // Two tags stay free: the holder's claim, and the release marker written when the
        // version is retained.
        if count + 2 > tags::MAX_TAGS {
            f.push(Failure::new("tags", format!("this version would carry {count} Azure tags (your tags, metadata and datasnap's own); Azure allows {} and datasnap keeps two free (the holder's claim and the release marker): remove some tags or metadata", tags::MAX_TAGS)));
        }
    }

    f.extend(news.security.check(unknowns));
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
    let (Some(o), Some(n)) = (&old.snapshot_name, &new.snapshot_name) else {
        return;
    };
    let same_id = o.eq_ignore_ascii_case(n)
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
                "this change replaces the snapshot, but the replacement would have the same name {n:?} in resource group {:?} and so the same ARM id as the snapshot it replaces; {how}",
                new.resource_group_name
            ),
        ));
    }
}

fn bump_message(what: &str, new: &Inputs) -> String {
    format!(
        "{what} changed but version {:?} of dataset {:?} did not: a version is immutable. Bump `version` to take a new snapshot (the current one stays as a retained version), or revert {what}",
        new.version, new.dataset
    )
}

/// Where equal JSON is not the same version: names and ids ignore case, a region may be
/// written two ways, and an unset region or SKU is Azure's choice (the recorded one
/// stands).
pub fn same(property: &str, olds: &Outputs, news: &Inputs) -> Option<bool> {
    let old = &olds.inputs;
    Some(match property {
        "resourceGroupName" => old
            .resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name),
        "sourceDiskId" => same_id(&old.source_disk_id, &news.source_disk_id),
        "sourceSnapshotId" => same_id(&old.source_snapshot_id, &news.source_snapshot_id),
        "location" => news.location.is_none() || same_location(&old.location, &news.location),
        "snapshotName" => match (&old.snapshot_name, &news.snapshot_name) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        },
        "sku" => news.sku.is_none() || old.sku == news.sku,
        other => return Security::same(other, &old.security, &news.security),
    })
}

/// One of datasnap's own tags whose value in Azure is not what the stack wrote.
pub struct TagDrift {
    pub name: String,
    pub wrote: Option<String>,
    pub found: Option<String>,
}

/// datasnap's own tags that were removed, changed or added out of band since the stack
/// last wrote them (`found_tags`, recorded at each read). Keys that others own
/// (`datasnap.keep`, the release marker) are not datasnap's desired state and are skipped.
pub fn tag_drift(olds: &Outputs) -> Vec<TagDrift> {
    let Some(found) = &olds.found_tags else {
        return Vec::new();
    };
    let ours = |k: &str| {
        tags::is_datasnap_key(k)
            && !k.eq_ignore_ascii_case(tags::KEEP)
            && !k.eq_ignore_ascii_case(tags::RETAINED)
            && !k.eq_ignore_ascii_case(tags::CLAIM)
            && tags::is_own_key(k)
    };
    let lower = |m: &BTreeMap<String, String>| -> BTreeMap<String, (String, String)> {
        m.iter()
            .filter(|(k, _)| ours(k))
            .map(|(k, v)| (k.to_ascii_lowercase(), (k.clone(), v.clone())))
            .collect()
    };
    let wrote = lower(&olds.inputs.version_tags().encode());
    let found = lower(found);
    let mut out = Vec::new();
    for (key, (name, value)) in &wrote {
        let now = found.get(key).map(|(_, v)| v.clone());
        if now.as_ref() != Some(value) {
            out.push(TagDrift {
                name: name.clone(),
                wrote: Some(value.clone()),
                found: now,
            });
        }
    }
    for (key, (name, value)) in &found {
        if !wrote.contains_key(key) {
            out.push(TagDrift {
                name: name.clone(),
                wrote: None,
                found: Some(value.clone()),
            });
        }
    }
    out
}

/// What Azure holds that the stack did not write, as changes that `up` repairs in place:
/// each drifted datasnap tag at its path under `tags`, and a snapshot whose last write
/// failed (`provisioningState`, repaired by writing again).
fn drift(olds: &Outputs) -> Vec<Change> {
    let mut out = Vec::new();
    if olds.provisioning_state.eq_ignore_ascii_case("Failed") {
        out.push(Change {
            path: "provisioningState".into(),
            kind: ChangeKind::Update,
            replace: false,
        });
    }
    out.extend(tag_drift(olds).into_iter().map(|d| Change {
        path: path_join("tags", &d.name),
        kind: match (&d.wrote, &d.found) {
            (Some(_), None) => ChangeKind::Add,
            (None, _) => ChangeKind::Delete,
            _ => ChangeKind::Update,
        },
        replace: false,
    }));
    out
}

/// VersionedSnapshot's rules on top of the generic diff: a version cannot move to another
/// region, out-of-band edits of datasnap's tags and failed writes are drift to repair, and
/// a released version that a stack holds again loses its release marker.
pub fn diff(
    olds: &Outputs,
    news: &Inputs,
    unknowns: &Unknowns,
    mut changes: Vec<Change>,
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
                "location {:?} differs from the region of version {:?} ({}): {}",
                news.location.as_deref().unwrap_or_default(),
                news.version,
                old.location.as_deref().unwrap_or("unknown"),
                bump_message("location", news)
            ),
        });
    }
    changes.extend(drift(olds));
    // A version that was released (and so may be pruned) is held again, by this stack:
    // the next update takes the release marker off.
    if olds.retained {
        changes.push(Change {
            path: path_join("tags", tags::RETAINED),
            kind: ChangeKind::Delete,
            replace: false,
        });
    }
    let note = changes
        .iter()
        .any(|c| c.replace)
        .then(|| replaced_note(olds, news));
    Ok(DiffResult {
        changes,
        delete_before_replace: false,
        note,
    })
}

/// What a replacement does to the replaced version, for the preview: by
/// `deletionPolicy` (the recorded one, which Delete will act on) it stays in Azure as a
/// retained version, or is deleted.
pub fn replaced_note(olds: &Outputs, news: &Inputs) -> (Severity, String) {
    let old = &olds.inputs;
    let what = format!(
        "version {:?} of dataset {:?} (snapshot {})",
        old.version, old.dataset, olds.snapshot_id
    );
    let new = if news.version != old.version {
        format!("version {:?}", news.version)
    } else {
        "a new snapshot".to_string()
    };
    if old.deletion_policy.as_deref() == Some(DELETE) {
        (Severity::Warning, format!("replacing {what} with {new}: the old snapshot will be DELETED from Azure after the replacement (deletionPolicy: Delete)"))
    } else {
        (Severity::Info, format!("replacing {what} with {new}: the old snapshot stays in Azure as a retained version (deletionPolicy: Retain); nothing is deleted"))
    }
}

/// The outputs knowable before Azure is called: the checked inputs. Everything Azure
/// decides (the id, sizes, times, the region when it defaults to the source's) is left out,
/// so the engine shows it as unknown.
pub fn preview(news: &Inputs) -> Result<Map<String, Json>, ResourceError> {
    json_map(news)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::{Adapter, DynResource};
    use crate::catalog::Retention;
    use crate::resource::ChangeKind;
    use crate::resources::versioned_snapshot::{VersionedSnapshot, TOKEN};
    use crate::value::Props;

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

    fn adapter() -> Adapter<VersionedSnapshot> {
        Adapter::new(VersionedSnapshot, crate::schema::resource(TOKEN))
    }

    /// Checked as the engine would: the schema's rules, then the resource's.
    fn checked(i: Inputs) -> Inputs {
        let c = adapter().check("", &Props::default(), &Props::new(json_map(&i).unwrap()));
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        serde_json::from_value(Json::Object(c.inputs.values)).unwrap()
    }

    /// The whole diff: the adapter's generic one, then the resource's rules.
    fn diff(o: &Outputs, n: &Inputs, _: &Unknowns) -> Result<DiffResult, ResourceError> {
        adapter().diff(
            &Props::new(json_map(o).unwrap()),
            &Props::new(json_map(n).unwrap()),
        )
    }

    fn props(f: &[Failure]) -> Vec<&str> {
        f.iter().map(|f| f.property.as_str()).collect()
    }

    #[test]
    fn check_fills_defaults() {
        let i = checked(inputs());
        // `imagenet-v1` and six hex digits that are this resource's (the owner's) own.
        let name = i.snapshot_name.clone().unwrap();
        assert!(
            name.starts_with("imagenet-v1-") && name.len() == 18,
            "{name}"
        );
        let (other, _) = check("urn:another", None, inputs(), &Unknowns::default());
        assert_ne!(
            other.snapshot_name, i.snapshot_name,
            "another owner, another name"
        );
        let mut recorded = i.clone();
        recorded.snapshot_name = Some("imagenet-v1".into());
        let (kept, _) = check("", Some(&recorded), inputs(), &Unknowns::default());
        assert_eq!(
            kept.snapshot_name.as_deref(),
            Some("imagenet-v1"),
            "a recorded name stays"
        );
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
        let (_, f) = check("", None, i, &Unknowns::default());
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
        let c = adapter().check("", &Props::default(), &Props::default());
        assert_eq!(
            props(&c.failures),
            ["resourceGroupName", "dataset", "version"]
        );
        let (_, f) = check("", None, Inputs::default(), &Unknowns::default());
        assert_eq!(props(&f), ["sourceDiskId"]);
        let mut both = inputs();
        both.source_snapshot_id = Some(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/x".into(),
        );
        let (_, f) = check("", None, both, &Unknowns::default());
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
        let (i, f) = check("", None, i, &Unknowns::from_props(&p));
        assert!(f.is_empty(), "{f:?}");
        // The name depends on the unknown version, so it stays unknown.
        assert_eq!(i.snapshot_name, None);
    }

    #[test]
    fn changing_the_source_without_a_version_bump_fails() {
        let old = checked(inputs());
        let mut new = inputs();
        new.source_disk_id = Some(DISK2.into());
        let (_, f) = check("", Some(&old), new.clone(), &Unknowns::default());
        assert_eq!(props(&f), ["sourceDiskId"]);
        assert!(f[0].reason.contains("Bump `version`"), "{}", f[0].reason);
        new.version = "2".into();
        let (_, f) = check("", Some(&old), new, &Unknowns::default());
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_replacement_onto_the_same_id_is_refused() {
        let mut old = inputs();
        old.snapshot_name = Some("fixed".into());
        let old = checked(old);
        let mut new = old.clone();
        new.version = "2".into();
        let (_, f) = check("", Some(&old), new, &Unknowns::default());
        assert_eq!(props(&f), ["snapshotName"]);
        assert!(f[0].reason.contains("same ARM id"), "{}", f[0].reason);
        let mut flip = checked(inputs());
        flip.incremental = Some(false);
        let (_, f) = check("", Some(&checked(inputs())), flip, &Unknowns::default());
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
        let paths = d.kinds();
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
        let paths = d.replacing();
        assert_eq!(paths, [("snapshotName", true), ("version", true)]);
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

    /// Issue 8: what the stack wrote is desired state. A removed or changed datasnap tag,
    /// and a snapshot whose last write failed, are changes that `up` repairs in place;
    /// the user's keep tag and the release marker are not datasnap's to restore.
    #[test]
    fn out_of_band_tag_edits_and_failed_writes_are_drift() {
        let mut o = outputs(inputs());
        let mut found = o.inputs.version_tags().encode();
        assert!(diff(&o, &checked(inputs()), &Unknowns::default())
            .unwrap()
            .changes
            .is_empty());
        found.remove("datasnap.version");
        found.insert("datasnap.dataset".into(), "other".into());
        found.insert("datasnap.keep".into(), "yes".into());
        o.found_tags = Some(found);
        o.provisioning_state = "Failed".into();
        let d = diff(&o, &checked(inputs()), &Unknowns::default()).unwrap();
        let got = d.kinds();
        assert_eq!(
            got,
            [
                ("provisioningState", ChangeKind::Update),
                ("tags[\"datasnap.dataset\"]", ChangeKind::Update),
                ("tags[\"datasnap.version\"]", ChangeKind::Add),
            ]
        );
        assert!(!d.replaces());
    }
}
