//! Between Azure and the recorded state: the snapshot's ARM id for some inputs, the tags
//! written to Azure, and the inputs and outputs read back from a snapshot (refresh and
//! import, where the tags are the source of truth).

use std::collections::BTreeMap;

use super::types::{Inputs, Outputs, RETAIN};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::Snapshot;
use crate::azure::ArmClient;
use crate::catalog::tags;
use crate::resource::ResourceError;
use crate::resources::naming::recorded_location;
use crate::resources::security::{Secured, Security};

/// The snapshot's ARM id for these inputs.
pub(super) fn snapshot_id(arm: &ArmClient, inputs: &Inputs) -> Result<ResourceId, ResourceError> {
    let name = inputs
        .snapshot_name
        .clone()
        .ok_or_else(|| ResourceError::Bug("create without a checked snapshotName".into()))?;
    Ok(ResourceId::new(
        arm.subscription_id(),
        &inputs.resource_group_name,
        ResourceKind::Snapshot,
        name,
    ))
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
        found_tags: Some(
            snap.tags
                .iter()
                .filter(|(k, _)| tags::is_datasnap_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    }
}

/// Rebuilds a version's inputs from its snapshot (import) or refreshes recorded ones.
///
/// On import the tags are the source of truth for the version's identity and lineage. On
/// refresh, datasnap's own tags are desired state: the recorded identity, lineage and
/// policies stand whatever Azure holds now (an out-of-band edit shows in Diff from the
/// found tags, and `up` writes them back), while the user's tags, `datasnap.keep`
/// included, are read as found.
pub fn inputs_from(
    snap: &Snapshot,
    id: &ResourceId,
    old: Option<&Inputs>,
) -> Result<Inputs, ResourceError> {
    let vt = match (tags::VersionTags::decode(&snap.tags), old) {
        (_, Some(o)) => {
            let mut vt = o.version_tags();
            vt.user = snap
                .tags
                .iter()
                .filter(|(k, _)| !tags::is_datasnap_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            vt.keep = snap
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tags::KEEP))
                .map(|(_, v)| v.clone());
            vt
        }
        (Some(vt), None) => vt,
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
    if let Some(k) = &vt.keep {
        user.insert(tags::KEEP.into(), k.clone());
    }
    Ok(Inputs {
        resource_group_name: keep_spelling(old.map(|o| &o.resource_group_name), &id.resource_group),
        dataset: vt.dataset.clone(),
        version: vt.version.clone(),
        source_disk_id: disk,
        source_snapshot_id: snapshot,
        // An unset location means "the source's region"; an explicit one is compared.
        location: recorded_location(old.and_then(|o| o.location.as_ref()), &snap.location),
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
        // Refresh checks the lock separately (lifecycle::read); import starts without one.
        lock: old.and_then(|o| o.lock),
        security: Security::refreshed(old.map(|o| &o.security), snap.properties.security()),
    })
}

/// The tags a version carries in Azure, with the claim of the resource that holds it.
pub(super) fn azure_tags(inputs: &Inputs, claim: &str) -> BTreeMap<String, String> {
    let mut vt = inputs.version_tags();
    vt.claim = Some(claim.to_string());
    vt.encode()
}

/// The claim recorded in state (the one Azure held at the last read or write), if any.
pub(super) fn recorded_claim(olds: &Outputs) -> Option<&str> {
    olds.found_tags
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(tags::CLAIM))
        .map(|(_, v)| v.as_str())
}
