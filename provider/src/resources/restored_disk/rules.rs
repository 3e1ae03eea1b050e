//! RestoredDisk's own rules, as pure functions over typed inputs: what Check adds to the
//! schema's rules, where the diff knows better than equal JSON, and what the diff adds.

use std::collections::BTreeMap;

use super::types::{Inputs, Outputs};
use crate::azure::id::ids_equal;
use crate::catalog::tags;
use crate::resource::{Change, DiffResult, Failure, ResourceError, Unknowns};
use crate::resources::naming::{
    check_alias, check_azure_name, check_dataset, check_resource_group, check_snapshot_id,
    check_version, non_empty, normalize_location, Rule,
};
use crate::resources::regions::check_location;
use crate::resources::security::Security;
use crate::value::path_join;

/// RestoredDisk's own rules, after the schema's: exactly one source, valid names, a size
/// that only grows, user tags; and the default disk name.
pub fn check(
    olds: Option<&Inputs>,
    mut news: Inputs,
    unknowns: &Unknowns,
) -> (Inputs, Vec<Failure>) {
    let mut f = Vec::new();
    let by_id = news.source_snapshot_id.is_some() || unknowns.contains("sourceSnapshotId");
    let by_alias = news.alias.is_some() || unknowns.contains("alias");
    let by_version = news.dataset.is_some()
        || news.version.is_some()
        || by_alias
        || unknowns.contains("dataset")
        || unknowns.contains("version");
    match (by_id, by_version) {
        (true, true) => f.push(Failure::new("sourceSnapshotId", "set either sourceSnapshotId, or dataset and version (or alias), not both")),
        (false, false) => f.push(Failure::new("sourceSnapshotId", "a RestoredDisk needs a source: set sourceSnapshotId to a snapshot's ARM id, or dataset and version (\"latest\" for the newest), or dataset and alias")),
        _ => {}
    }
    if news.alias.is_some() && news.version.is_some() {
        f.push(Failure::new(
            "alias",
            "set either version or alias, not both (an alias names the version it points at)",
        ));
    }
    if let Some(Err(e)) = news.alias.as_deref().map(check_alias) {
        f.push(Failure::new("alias", e));
    }
    if by_version {
        match &news.dataset {
            Some(d) => f.extend(check_dataset(d).err().map(|e| Failure::new("dataset", e))),
            None if !unknowns.contains("dataset") => f.push(Failure::new(
                "dataset",
                "is required with version: the dataset whose version to restore",
            )),
            None => {}
        }
        match &news.version {
            Some(v) if v.eq_ignore_ascii_case("latest") => {}
            Some(v) => f.extend(check_version(v).err().map(|e| Failure::new("version", e))),
            None if !unknowns.contains("version") && !by_alias => f.push(Failure::new(
                "version",
                "is required with dataset: a version such as \"1\", or \"latest\" (or set alias instead)",
            )),
            None => {}
        }
    }
    // `resourceGroupName` is required by the schema (the adapter's); the values set are
    // checked here.
    let source_group = news.source_resource_group_name.as_deref();
    let values: [(&str, Option<&str>, Rule); 5] = [
        (
            "resourceGroupName",
            non_empty(&news.resource_group_name),
            check_resource_group,
        ),
        (
            "sourceSnapshotId",
            news.source_snapshot_id.as_deref(),
            check_snapshot_id,
        ),
        (
            "sourceResourceGroupName",
            source_group,
            check_resource_group,
        ),
        ("diskName", news.disk_name.as_deref(), check_azure_name),
        ("location", news.location.as_deref(), check_location),
    ];
    f.extend(Failure::check_each(values));
    if news.disk_name.is_none()
        && !unknowns.contains("sourceSnapshotId")
        && !unknowns.contains("dataset")
        && !unknowns.contains("version")
        && !unknowns.contains("alias")
    {
        // A name once recorded stays while the source is the same (only a new source
        // renames), even when the default rule has changed since.
        let recorded = olds
            .filter(|o| {
                o.source_snapshot_id == news.source_snapshot_id
                    && o.dataset == news.dataset
                    && o.version == news.version
                    && o.alias == news.alias
            })
            .and_then(|o| o.disk_name.clone());
        news.disk_name = recorded.or_else(|| news.effective_name());
    }
    if let Some(size) = news.disk_size_gb {
        let max = max_disk_size_gb(news.sku.as_deref());
        if !(1..=max).contains(&size) {
            let of = match news.sku.as_deref() {
                Some(sku) => format!("the largest {sku:?} disk Azure makes"),
                None => "the largest managed disk Azure makes (Ultra Disk and Premium SSD v2; 32767 for the other SKUs)".to_string(),
            };
            f.push(Failure::new(
                "diskSizeGb",
                format!("must be from 1 to {max} GiB, {of}; it is {size}"),
            ));
        }
        if let Err(e) = can_resize(olds.and_then(|o| o.disk_size_gb), size) {
            f.push(Failure::new("diskSizeGb", e));
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
    for (k, e) in tags::case_clashes(news.tags.iter().flatten().map(|(k, _)| k), "") {
        f.push(Failure::new(path_join("tags", k), e));
    }
    f.extend(news.security.check(unknowns));
    (news, f)
}

/// The largest managed disk of a SKU, in GiB, from Microsoft's "Azure managed disk types"
/// (learn.microsoft.com/azure/virtual-machines/disks-types, "Disk type comparison",
/// "Max disk size"): 65,536 GiB for Ultra Disk and Premium SSD v2, 32,767 GiB for Premium
/// SSD, Standard SSD and Standard HDD (LRS and ZRS alike). An unset SKU is Azure's choice,
/// so it may be as large as the largest.
pub const MAX_DISK_GB: i64 = 65_536;
const MAX_DISK_GB_V1: i64 = 32_767;

pub fn max_disk_size_gb(sku: Option<&str>) -> i64 {
    match sku {
        Some("UltraSSD_LRS" | "PremiumV2_LRS") | None => MAX_DISK_GB,
        Some(_) => MAX_DISK_GB_V1,
    }
}

/// A managed disk can only grow: `new` GiB against the disk's `current` size (the recorded
/// actual size in Diff, the last inputs in Check), so both refuse a shrink alike.
pub fn can_resize(current: Option<i64>, new: i64) -> Result<(), String> {
    match current {
        Some(current) if new < current => Err(format!(
            "a managed disk can only grow: {new} GiB is smaller than the current {current} GiB"
        )),
        _ => Ok(()),
    }
}

fn same_text(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

/// Where equal JSON is not the same disk: names and ids ignore case, the disk's name and
/// source group may be defaulted, a region may be written two ways, and an unset region,
/// SKU or size is Azure's choice (the recorded one stands).
pub fn same(property: &str, olds: &Outputs, news: &Inputs) -> Option<bool> {
    let old = &olds.inputs;
    Some(match property {
        "resourceGroupName" => old
            .resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name),
        "diskName" => same_text(&old.effective_name(), &news.effective_name()),
        "sourceSnapshotId" => match (&old.source_snapshot_id, &news.source_snapshot_id) {
            (Some(a), Some(b)) => ids_equal(a, b),
            (None, None) => true,
            _ => false,
        },
        "sourceResourceGroupName" => old.source_group().eq_ignore_ascii_case(news.source_group()),
        "location" => news.location.as_ref().is_none_or(|l| {
            old.location
                .as_ref()
                .is_some_and(|o| normalize_location(o) == normalize_location(l))
        }),
        "sku" => news.sku.is_none() || old.sku == news.sku,
        "diskSizeGb" => news.disk_size_gb.is_none() || old.disk_size_gb == news.disk_size_gb,
        other => return Security::same(other, &old.security, &news.security),
    })
}

/// RestoredDisk's rules on top of the generic diff: a disk cannot shrink below its actual
/// size, and a replacement that keeps the disk's name deletes the old disk first.
pub fn diff(
    olds: &Outputs,
    news: &Inputs,
    unknowns: &Unknowns,
    changes: Vec<Change>,
) -> Result<DiffResult, ResourceError> {
    let old = &olds.inputs;
    if let Some(size) = news
        .disk_size_gb
        .filter(|_| !unknowns.contains("diskSizeGb"))
    {
        can_resize(old.disk_size_gb, size).map_err(|reason| ResourceError::Invalid {
            property: "diskSizeGb".into(),
            reason,
        })?;
    }
    let replaces = changes.iter().any(|c| c.replace);
    let same_name = !unknowns.contains("diskName")
        && old
            .resource_group_name
            .eq_ignore_ascii_case(&news.resource_group_name)
        && same_text(&old.effective_name(), &news.effective_name());
    Ok(DiffResult {
        changes,
        delete_before_replace: replaces && same_name,
        note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::{Adapter, DynResource};
    use crate::resource::json_map;
    use crate::resources::naming::version_name;
    use crate::resources::restored_disk::{RestoredDisk, TOKEN};
    use crate::value::Props;
    use serde_json::Value as Json;

    fn adapter() -> Adapter<RestoredDisk> {
        Adapter::new(RestoredDisk, crate::schema::resource(TOKEN))
    }

    /// The whole diff: the adapter's generic one, then the resource's rules.
    fn full_diff(o: &Outputs, n: &Inputs) -> Result<DiffResult, ResourceError> {
        adapter().diff(
            &Props::new(json_map(o).unwrap()),
            &Props::new(json_map(n).unwrap()),
        )
    }

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
            Some(format!("{}-disk", version_name("data", "1.2")).as_str())
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

    /// Issue 11: with `diskSizeGb` unset before, Check cannot see the disk's actual size;
    /// Diff compares with it and refuses the shrink, instead of previewing an update that
    /// fails at `up`.
    #[test]
    fn diff_refuses_a_shrink_below_the_actual_size() {
        let (i, _) = check(None, by_version("1"), &Unknowns::default());
        let mut recorded = i.clone();
        recorded.disk_size_gb = Some(64);
        let olds = Outputs {
            inputs: recorded,
            disk_id: "d".into(),
            ..Outputs::default()
        };
        let mut shrink = i.clone();
        shrink.disk_size_gb = Some(32);
        let (_, f) = check(Some(&i), shrink.clone(), &Unknowns::default());
        assert!(f.is_empty(), "{f:?}");
        match full_diff(&olds, &shrink) {
            Err(ResourceError::Invalid { property, reason }) => {
                assert_eq!(property, "diskSizeGb");
                assert!(reason.contains("only grow"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let mut grow = i;
        grow.disk_size_gb = Some(128);
        let d = full_diff(&olds, &grow).unwrap();
        assert_eq!(d.changes.len(), 1);
        assert!(!d.replaces());
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
        assert!(full_diff(&olds, &n).unwrap().changes.is_empty());
        n.tags = Some([("env".to_string(), "prod".to_string())].into());
        let d = full_diff(&olds, &n).unwrap();
        assert!(!d.replaces() && d.changes[0].path == "tags.env");
        let (v2, _) = check(None, by_version("2"), &Unknowns::default());
        let d = full_diff(&olds, &v2).unwrap();
        assert!(d.replaces());
        // The default disk name follows the version, so the replacement gets a new disk.
        assert!(!d.delete_before_replace);
    }

    /// The SKU list is the schema's `DiskSku` enum, checked by the adapter.
    #[test]
    fn bad_sku_and_reserved_tags_are_named() {
        let mut i = by_version("1");
        i.sku = Some("Fast".into());
        i.tags = Some([("datasnap.x".to_string(), "v".to_string())].into());
        let c = adapter().check("", &Props::default(), &Props::new(json_map(&i).unwrap()));
        let p: Vec<&str> = c.failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(p, ["sku"], "{:?}", c.failures);
        assert!(c.failures[0].reason.contains("PremiumV2_LRS"));
        i.sku = Some("Premium_LRS".into());
        let c = adapter().check("", &Props::default(), &Props::new(json_map(&i).unwrap()));
        let p: Vec<&str> = c.failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(p, ["tags[\"datasnap.x\"]"]);
        let _: Inputs = serde_json::from_value(Json::Object(c.inputs.values)).unwrap();
    }
}
