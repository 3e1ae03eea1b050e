//! VersionedSnapshot's Azure operations: create (never over an existing snapshot; a
//! failed copy is deleted, an accepted one is tracked), read (refresh and import), update
//! (tags and SKU in place), delete (release as a retained version, or delete), and the
//! preview's retention warning. Every call shares the RPC's one deadline (`Env::op`).

use super::state::{azure_tags, import_hint, inputs_from, outputs_from, snapshot_id};
use super::types::{Inputs, Outputs, DELETE};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::{CreationData, Disk, Sku, Snapshot, SnapshotProperties, SnapshotUpdate};
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::catalog::{prune, tags};
use crate::resource::{partial_message, Env, ResourceError, Unknowns};
use crate::resources::naming::normalize_location;

/// During preview: warns which versions the coming create lets the retention rule prune.
pub async fn plan_create(env: &Env, news: &Inputs, unknowns: &Unknowns) {
    let Some(rule) = news.retention else { return };
    if ["resourceGroupName", "dataset", "version", "retention"]
        .iter()
        .any(|k| unknowns.contains(k))
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

/// How a snapshot is taken from its source: the create option, the source id and the
/// region of the new snapshot.
struct Source {
    create_option: &'static str,
    id: String,
    location: String,
}

/// Reads the source (for its region) and picks the create option: a cross-region copy of
/// a snapshot is `CopyStart`, everything else `Copy`.
async fn resolve_source(
    arm: &ArmClient,
    inputs: &Inputs,
    ctx: &OpContext,
) -> Result<Source, ResourceError> {
    let invalid = |property: &str, reason: String| ResourceError::Invalid {
        property: property.into(),
        reason,
    };
    if let Some(disk_id) = &inputs.source_disk_id {
        let disk_ref = ResourceId::parse(disk_id, ResourceKind::Disk)
            .map_err(|e| invalid("sourceDiskId", e.to_string()))?;
        let Some(disk) = arm.get::<Disk>(&disk_ref, ctx).await? else {
            return Err(invalid("sourceDiskId", format!("the managed disk {disk_id} does not exist (or the identity cannot see it); check the id")));
        };
        // Azure snapshots a disk only within its region: refuse another region before any
        // write, with the way to get a copy there.
        let location = match &inputs.location {
            Some(l) if normalize_location(l) != normalize_location(&disk.location) => {
                return Err(invalid("location", format!(
                    "{l:?} is not the region of the source disk ({:?}), and Azure snapshots a disk only in its own region. Leave `location` out (or set it to {:?}) to snapshot the disk there; for a copy in {l:?}, add a second VersionedSnapshot with `sourceSnapshotId` set to that snapshot's id, `location` {l:?} and its own `version` or `snapshotName` (datasnap copies a snapshot across regions with CopyStart)",
                    disk.location, disk.location
                )));
            }
            Some(l) => l.clone(),
            None => disk.location,
        };
        return Ok(Source {
            create_option: "Copy",
            id: disk_id.clone(),
            location,
        });
    }
    let Some(snap_id) = &inputs.source_snapshot_id else {
        return Err(ResourceError::Bug("create without a source".into()));
    };
    let src_ref = ResourceId::parse(snap_id, ResourceKind::Snapshot)
        .map_err(|e| invalid("sourceSnapshotId", e.to_string()))?;
    let Some(src) = arm.get::<Snapshot>(&src_ref, ctx).await? else {
        return Err(invalid("sourceSnapshotId", format!("the snapshot {snap_id} does not exist (or the identity cannot see it); check the id")));
    };
    let location = inputs
        .location
        .clone()
        .unwrap_or_else(|| src.location.clone());
    // Another region: an incremental cross-region copy that Azure completes in the
    // background; within a region, a plain copy.
    let create_option = if normalize_location(&location) != normalize_location(&src.location) {
        "CopyStart"
    } else {
        "Copy"
    };
    Ok(Source {
        create_option,
        id: snap_id.clone(),
        location,
    })
}

/// The PUT body of a new version.
fn create_body(inputs: &Inputs, source: &Source) -> Snapshot {
    Snapshot {
        location: source.location.clone(),
        tags: azure_tags(inputs),
        sku: Sku::named(inputs.sku.as_ref()),
        properties: SnapshotProperties {
            creation_data: CreationData {
                create_option: source.create_option.into(),
                source_resource_id: Some(source.id.clone()),
                ..CreationData::default()
            },
            incremental: Some(inputs.incremental.unwrap_or(true)),
            ..SnapshotProperties::default()
        },
        ..Snapshot::default()
    }
}

pub async fn create(env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let id = snapshot_id(arm, &inputs)?;
    // PUT is an upsert: never overwrite an existing snapshot.
    if let Some(existing) = arm.get::<Snapshot>(&id, &ctx).await? {
        let what = match tags::VersionTags::decode(&existing.tags) {
            Some(vt) => format!("version \"{}\" of dataset \"{}\"", vt.version, vt.dataset),
            None => "a snapshot datasnap does not manage".to_string(),
        };
        return Err(ResourceError::Failed(format!(
            "snapshot {id} already exists in Azure ({what}); datasnap never overwrites a snapshot. To manage it with this stack, import it: `{}`; to take a new snapshot instead, bump `version` or set another `snapshotName`",
            import_hint(&id.to_string())
        )));
    }
    let source = resolve_source(arm, &inputs, &ctx).await?;
    let body = create_body(&inputs, &source);
    env.progress(&format!(
        "creating snapshot {} ({} of version \"{}\")",
        id.name, source.create_option, inputs.version
    ));
    let snap = match arm.create_snapshot(&id, &body, &ctx).await {
        Ok(s) => s,
        Err(AzureError::AfterAccepted {
            id: accepted,
            source: cause,
        }) => {
            let mut partial = inputs.clone();
            partial.location = Some(source.location);
            return Err(settle_accepted(env, arm, &id, &ctx, accepted, *cause, partial).await);
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

/// Azure accepted the snapshot but it did not become ready. If Azure says the snapshot
/// (or its copy) failed, it holds no usable data: delete it so nothing half-made is left.
/// Otherwise, or if that delete fails too, report a partial create so the engine tracks
/// it and the next `up` converges instead of leaking it.
async fn settle_accepted(
    env: &Env,
    arm: &ArmClient,
    id: &ResourceId,
    ctx: &OpContext,
    accepted: String,
    cause: AzureError,
    inputs: Inputs,
) -> ResourceError {
    let outputs = Outputs {
        inputs,
        snapshot_id: accepted.clone(),
        ..Outputs::default()
    };
    if !matches!(cause, AzureError::OperationFailed { .. }) {
        return ResourceError::partial(
            &accepted,
            &outputs,
            partial_message(&format!("snapshot {accepted}"), &cause),
        );
    }
    match arm.delete(id, ctx).await {
        Ok(()) => ResourceError::Failed(format!("creating snapshot {} failed in Azure: {cause}. The failed snapshot was deleted; nothing was created", id.name)),
        Err(e) => {
            env.warn(&format!("deleting the failed snapshot {accepted} failed: {e}"));
            ResourceError::partial(&accepted, &outputs, format!("creating snapshot {} failed in Azure: {cause}; deleting the failed snapshot also failed ({e}), so it is tracked in the stack: run `pulumi destroy` or fix and `pulumi up`", id.name))
        }
    }
}

pub async fn read(
    env: &Env,
    id: &str,
    inputs: Option<Inputs>,
) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid =
        ResourceId::parse(id, ResourceKind::Snapshot).map_err(|e| ResourceError::Invalid {
            property: "id".into(),
            reason: format!("a VersionedSnapshot is imported by the ARM id of its snapshot: {e}"),
        })?;
    let Some(snap) = arm.get::<Snapshot>(&rid, &ctx).await? else {
        return Ok(None);
    };
    let new_inputs = inputs_from(&snap, &rid, inputs.as_ref())?;
    let outputs = outputs_from(new_inputs.clone(), &snap, &rid);
    Ok(Some((new_inputs, outputs)))
}

fn recorded_id(id: &str) -> Result<ResourceId, ResourceError> {
    ResourceId::parse(id, ResourceKind::Snapshot)
        .map_err(|e| ResourceError::Bug(format!("recorded id: {e}")))
}

pub async fn update(
    env: &Env,
    id: &str,
    olds: Outputs,
    news: Inputs,
) -> Result<Outputs, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid = recorded_id(id)?;
    let mut body = SnapshotUpdate {
        tags: Some(azure_tags(&news)),
        ..SnapshotUpdate::default()
    };
    // Only a changed SKU is sent; an unset one is Azure's choice and stays as it is.
    body.sku = Sku::named(
        news.sku
            .as_ref()
            .filter(|s| Some(*s) != olds.inputs.sku.as_ref()),
    );
    let snap = arm.update(&rid, &body, &ctx).await?;
    let mut new_inputs = news;
    if new_inputs.location.is_none() {
        new_inputs.location = olds.inputs.location.clone();
    }
    Ok(outputs_from(new_inputs, &snap, &rid))
}

pub async fn delete(env: &Env, id: &str, olds: Outputs) -> Result<(), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid = recorded_id(id)?;
    let inputs = &olds.inputs;
    if inputs.deletion_policy() == DELETE {
        arm.delete(&rid, &ctx).await?;
        env.info(&format!(
            "deleted snapshot {} (version \"{}\" of dataset \"{}\", deletionPolicy Delete)",
            rid.name, inputs.version, inputs.dataset
        ));
        return Ok(());
    }
    // Retain: release the snapshot from the stack and mark it as a retained version, so
    // it stays findable (getVersions) and only a retention rule may prune it.
    let Some(snap) = arm.get::<Snapshot>(&rid, &ctx).await? else {
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
        match arm.update(&rid, &body, &ctx).await {
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
