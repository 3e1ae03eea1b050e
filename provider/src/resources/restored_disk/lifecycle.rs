//! RestoredDisk's Azure operations: create (resolve the version through the catalog, wait
//! for it to be ready, never over an existing disk), read (refresh and import), update
//! (tags, SKU and size in place) and delete. Every call shares the RPC's one deadline.

use super::rules::can_resize;
use super::state::{azure_tags, inputs_from, outputs_from};
use super::types::{cut_name, Inputs, Outputs, TOKEN};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::{
    CreationData, Disk, DiskProperties, DiskUpdate, DiskUpdateProperties, Sku, Snapshot,
};
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::catalog::{self, tags};
use crate::resource::{partial_message, During, Env, ResourceError, Unknowns};
use crate::resources::preflight;
use crate::resources::security::{Secured, Security};
use serde_json::{Map, Value as Json};

/// The snapshot a disk is restored from, and the dataset version it holds (if any).
struct Source {
    snapshot: Snapshot,
    dataset: Option<String>,
    version: Option<String>,
}

/// Finds the source: a snapshot id, or a dataset's version (`latest` allowed) through the
/// catalog.
async fn resolve_source(
    env: &Env,
    arm: &ArmClient,
    inputs: &Inputs,
    ctx: &OpContext,
) -> Result<Source, ResourceError> {
    match (&inputs.source_snapshot_id, &inputs.dataset, &inputs.version) {
        (Some(id), _, _) => {
            let rid = ResourceId::parse(id, ResourceKind::Snapshot).map_err(|e| {
                ResourceError::Invalid {
                    property: "sourceSnapshotId".into(),
                    reason: e.to_string(),
                }
            })?;
            let found = arm.get::<Snapshot>(&rid, ctx).await;
            let Some(snapshot) =
                found.during(format_args!("restore (reading the source snapshot {id})"))?
            else {
                return Err(ResourceError::Invalid {
                    property: "sourceSnapshotId".into(),
                    reason: format!(
                        "the snapshot {id} does not exist (or the identity cannot see it)"
                    ),
                });
            };
            let vt = tags::VersionTags::decode(&snapshot.tags);
            Ok(Source {
                dataset: vt.as_ref().map(|v| v.dataset.clone()),
                version: vt.map(|v| v.version),
                snapshot,
            })
        }
        (None, Some(d), v) if v.is_some() || inputs.alias.is_some() => {
            let group = inputs.source_group().to_string();
            let list = catalog::list(env, arm, &group, d).await.map_err(|e| {
                ResourceError::Failed(format!(
                    "restore (listing dataset \"{d}\" in resource group \"{group}\") failed: {e}"
                ))
            })?;
            let found = catalog::resolve(
                &list,
                d,
                &group,
                inputs.version.as_deref(),
                inputs.alias.as_deref(),
            )?;
            let v = &found.version;
            let rid = ResourceId::parse(&found.snapshot_id, ResourceKind::Snapshot)
                .map_err(|e| ResourceError::Bug(e.to_string()))?;
            let read = arm.get::<Snapshot>(&rid, ctx).await;
            let Some(snapshot) = read.during(format_args!(
                "restore (reading version \"{v}\"'s snapshot {rid})"
            ))?
            else {
                return Err(catalog::not_found(d, &group, v, &[]));
            };
            Ok(Source {
                snapshot,
                dataset: Some(d.clone()),
                version: Some(found.version.clone()),
            })
        }
        _ => Err(ResourceError::Bug("create without a source".into())),
    }
}

/// During preview: the checks of [`preflight`] for a restore. The credentials, and a disk
/// name already taken, are errors; a missing resource group, source snapshot or dataset
/// version warns (or fails under `strict`). A `location` left to default is learned from
/// the version's snapshot.
pub async fn plan_create(
    env: &Env,
    news: &Inputs,
    unknowns: &Unknowns,
) -> Result<Map<String, Json>, ResourceError> {
    let mut learned = Map::new();
    let group = &news.resource_group_name;
    let Some((arm, ctx)) = preflight::begin(env, group, unknowns).await? else {
        return Ok(learned);
    };
    let known = |k: &str| !unknowns.contains(k);
    let pf = &env.preflight;
    // The source: its region, and its name (a default disk name derives from it).
    let mut source: Option<(String, String)> = None;
    match (&news.source_snapshot_id, &news.dataset, &news.version) {
        (Some(id), _, _) if known("sourceSnapshotId") => {
            if let Some(rid) = preflight::parse_source(id, ResourceKind::Snapshot) {
                match pf.region_of(arm, &rid, &ctx).await? {
                    Some(region) => source = Some((region, rid.name.clone())),
                    None => preflight::missing(
                        env,
                        "sourceSnapshotId",
                        format!("the snapshot {id} does not exist (or the identity cannot see it)"),
                    )?,
                }
            }
        }
        (None, Some(d), v)
            if (v.is_some() || news.alias.is_some())
                && known("dataset")
                && known("version")
                && known("alias")
                && known("sourceResourceGroupName") =>
        {
            let from = news.source_group();
            let listed = pf.snapshots(arm, from, &ctx).await?;
            let versions = catalog::versions(d, from, &listed);
            let (version, alias) = (news.version.as_deref(), news.alias.as_deref());
            match (catalog::resolve(&versions, d, from, version, alias), alias) {
                (Ok(found), _) => {
                    source = Some((found.location.clone(), found.snapshot_name.clone()))
                }
                (Err(e), Some(_)) => preflight::missing(env, "alias", e.to_string())?,
                (Err(_), None) => {
                    let have: Vec<&str> = versions.iter().map(|x| x.version.as_str()).collect();
                    preflight::missing(
                        env,
                        "version",
                        format!(
                            "version {:?} of dataset {d:?} does not exist in resource group {from:?} (its versions: {})",
                            v.as_deref().unwrap_or_default(),
                            if have.is_empty() { "none".to_string() } else { have.join(", ") }
                        ),
                    )?
                }
            }
        }
        _ => {}
    }
    if let Some((region, _)) = &source {
        if news.location.is_none() && known("location") {
            learned.insert("location".into(), Json::String(region.clone()));
        }
    }
    let name = match &news.disk_name {
        Some(n) if known("diskName") => Some(n.clone()),
        None => source.map(|(_, snap)| cut_name(&snap, "-disk")),
        _ => None,
    };
    if let Some(name) = name.filter(|_| known("resourceGroupName")) {
        let id = ResourceId::new(arm.subscription_id(), group, ResourceKind::Disk, &name);
        if pf.region_of(arm, &id, &ctx).await?.is_some() {
            return Err(ResourceError::Failed(format!(
                "preview check: create of disk {id} refused: it already exists in Azure; datasnap never overwrites a disk. To manage it with this resource, run `pulumi import {TOKEN} {} {id}`; otherwise set another `diskName`",
                env.resource_name()
            )));
        }
    }
    Ok(learned)
}

/// The PUT body of the disk.
fn create_body(inputs: &Inputs, source: &Source, snapshot_id: &str, snap_size: i64) -> Disk {
    let mut disk = Disk {
        location: inputs
            .location
            .clone()
            .unwrap_or_else(|| source.snapshot.location.clone()),
        tags: azure_tags(
            inputs,
            snapshot_id,
            source.dataset.as_deref(),
            source.version.as_deref(),
        ),
        sku: Sku::named(inputs.sku.as_ref()),
        properties: DiskProperties {
            creation_data: CreationData {
                create_option: "Copy".into(),
                source_resource_id: Some(snapshot_id.to_string()),
                ..CreationData::default()
            },
            disk_size_gb: inputs.disk_size_gb.or(Some(snap_size).filter(|s| *s > 0)),
            ..DiskProperties::default()
        },
        ..Disk::default()
    };
    // The version's security settings carry over to its disk unless the inputs override them.
    let inherited = inputs
        .security
        .inherit(&source.snapshot.properties.security());
    inherited.write((&mut disk.properties).into());
    disk
}

pub async fn create(env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let mut source = resolve_source(env, arm, &inputs, &ctx).await?;
    // Azure refuses to copy from a snapshot still being provisioned: wait for it, as the
    // engine would have if the program had declared the dependency.
    let waiting = format!(
        "restore (waiting for the source snapshot {} to be ready)",
        source.snapshot.id.as_deref().unwrap_or_default()
    );
    source.snapshot = arm
        .wait_for_snapshot_ready(source.snapshot, &ctx)
        .await
        .during(waiting)?;
    let snapshot = &source.snapshot;
    let snapshot_id = snapshot.id.clone().unwrap_or_default();
    if let Some(p) = snapshot
        .properties
        .completion_percent
        .filter(|p| *p < 100.0)
    {
        return Err(ResourceError::Failed(format!("snapshot {snapshot_id} is still copying ({p}%); wait for its copy to complete, then run `pulumi up` again")));
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
    let op = format!("restore of disk {id}");
    if arm.get::<Disk>(&id, &ctx).await.during(&op)?.is_some() {
        return Err(ResourceError::Failed(format!(
            "create of disk {id} refused: it already exists in Azure; datasnap never overwrites a disk. To manage it with this resource, run `pulumi import {TOKEN} {} {id}`; otherwise set another `diskName`",
            env.resource_name()
        )));
    }
    let snap_size = snapshot.properties.disk_size_gb.unwrap_or(0);
    if let Some(size) = inputs.disk_size_gb {
        can_resize(Some(snap_size), size).map_err(|e| ResourceError::Invalid {
            property: "diskSizeGb".into(),
            reason: format!(
                "{e} (the snapshot's size); a disk can only be as large as its source or larger"
            ),
        })?;
    }
    let body = create_body(&inputs, &source, &snapshot_id, snap_size);
    env.progress(&format!(
        "restoring disk {name} from {}",
        source
            .version
            .as_deref()
            .map(|v| format!("version \"{v}\""))
            .unwrap_or_else(|| snapshot_id.clone())
    ));
    let mut inputs = inputs;
    inputs.disk_name = Some(name);
    let disk = match arm.create(&id, &body, &ctx).await {
        Ok(d) => d,
        Err(AzureError::AfterAccepted {
            id: accepted,
            source: cause,
        }) => {
            let outputs = Outputs {
                inputs,
                disk_id: accepted.clone(),
                restored_snapshot_id: snapshot_id,
                restored_dataset: source.dataset,
                restored_version: source.version,
                ..Outputs::default()
            };
            return Err(ResourceError::partial(
                &accepted,
                &outputs,
                partial_message(&format!("restore of disk {accepted}: the disk"), &cause),
            ));
        }
        Err(e) => return Err(e).during(&op),
    };
    let outputs = outputs_from(inputs, &disk, &id);
    Ok((outputs.disk_id.clone(), outputs))
}

fn disk_id(id: &str, imported: bool) -> Result<ResourceId, ResourceError> {
    ResourceId::parse(id, ResourceKind::Disk).map_err(|e| {
        if imported {
            ResourceError::Invalid {
                property: "id".into(),
                reason: format!("a RestoredDisk is imported by the ARM id of its disk: {e}"),
            }
        } else {
            ResourceError::Bug(format!("recorded id: {e}"))
        }
    })
}

pub async fn read(
    env: &Env,
    id: &str,
    inputs: Option<Inputs>,
) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid = disk_id(id, true)?;
    let found = arm.get::<Disk>(&rid, &ctx).await;
    let Some(disk) = found.during(format_args!("refresh of disk {rid}"))? else {
        return Ok(None);
    };
    let new_inputs = inputs_from(&disk, &rid, inputs.as_ref());
    let outputs = outputs_from(new_inputs.clone(), &disk, &rid);
    Ok(Some((new_inputs, outputs)))
}

pub async fn update(
    env: &Env,
    id: &str,
    olds: Outputs,
    news: Inputs,
) -> Result<Outputs, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid = disk_id(id, false)?;
    let mut body = DiskUpdate {
        tags: Some(azure_tags(
            &news,
            &olds.restored_snapshot_id,
            olds.restored_dataset.as_deref(),
            olds.restored_version.as_deref(),
        )),
        ..DiskUpdate::default()
    };
    // Only a changed SKU is sent; an unset one is Azure's choice and stays as it is.
    body.sku = Sku::named(
        news.sku
            .as_ref()
            .filter(|s| Some(*s) != olds.inputs.sku.as_ref()),
    );
    let mut props = DiskUpdateProperties::default();
    let mut changed = Security::patch(&olds.inputs.security, &news.security, (&mut props).into());
    if news.disk_size_gb.is_some() && news.disk_size_gb != olds.inputs.disk_size_gb {
        props.disk_size_gb = news.disk_size_gb;
        changed = true;
    }
    body.properties = changed.then_some(props);
    let disk = arm
        .update(&rid, &body, &ctx)
        .await
        .during(format_args!("update of disk {rid}"))?;
    let mut news = news;
    if news.location.is_none() {
        news.location = olds.inputs.location.clone();
    }
    if news.disk_name.is_none() {
        news.disk_name = olds.inputs.disk_name.clone();
    }
    Ok(outputs_from(news, &disk, &rid))
}

pub async fn delete(env: &Env, id: &str) -> Result<(), ResourceError> {
    let arm = env.arm()?;
    let rid = disk_id(id, false)?;
    arm.delete(&rid, &env.op())
        .await
        .during(format_args!("delete of disk {rid}"))?;
    Ok(())
}
