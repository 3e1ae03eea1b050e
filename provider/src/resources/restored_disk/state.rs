//! Between Azure and RestoredDisk's recorded state: the tags written to a disk, and the
//! inputs and outputs read back from one (refresh and import).

use std::collections::BTreeMap;

use super::types::{
    Inputs, Outputs, TAG_ALIAS, TAG_DATASET, TAG_REQUESTED, TAG_SNAPSHOT, TAG_VERSION,
};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::Disk;
use crate::catalog::tags;
use crate::resources::naming::recorded_location;
use crate::resources::security::{Secured, Security};

pub(super) fn azure_tags(
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
    if let Some(alias) = &inputs.alias {
        t.insert(TAG_ALIAS.into(), alias.clone());
    }
    t
}

pub(super) fn outputs_from(mut inputs: Inputs, disk: &Disk, id: &ResourceId) -> Outputs {
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
pub(super) fn inputs_from(disk: &Disk, id: &ResourceId, old: Option<&Inputs>) -> Inputs {
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
        None => match (
            tag(TAG_DATASET),
            tag(TAG_REQUESTED).or_else(|| tag(TAG_ALIAS).map(|_| String::new())),
        ) {
            (Some(d), Some(v)) => {
                let v = Some(v).filter(|v| !v.is_empty());
                let src_group = disk
                    .properties
                    .creation_data
                    .source_resource_id
                    .as_deref()
                    .and_then(|s| ResourceId::parse(s, ResourceKind::Snapshot).ok())
                    .map(|r| r.resource_group)
                    .filter(|g| !g.eq_ignore_ascii_case(&id.resource_group));
                (None, Some(d), v, src_group)
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
        alias: match old {
            Some(o) => o.alias.clone(),
            None => tag(TAG_ALIAS),
        },
        dataset,
        version,
        source_resource_group_name: source_group,
        location: recorded_location(old.and_then(|o| o.location.as_ref()), &disk.location),
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
        security: Security::refreshed(old.map(|o| &o.security), disk.properties.security()),
    }
}
