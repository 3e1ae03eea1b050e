//! VersionedSnapshot's Azure operations: create (never over an existing snapshot; a
//! failed copy is deleted, an accepted one is tracked), read (refresh and import), update
//! (tags and SKU in place), delete (release as a retained version, or delete), and the
//! preview's retention warning. Every call shares the RPC's one deadline (`Env::op`).

use std::collections::BTreeMap;

use super::ownership::{
    adoptable, claim_on, first_holder, holder, merged_tags, rivals, tag_writes, Holder,
};
use super::rules::tag_drift;
use super::state::{azure_tags, inputs_from, outputs_from, recorded_claim, snapshot_id};
use super::types::{Inputs, Outputs, DELETE, TOKEN};
use crate::azure::id::{ResourceId, ResourceKind};
use crate::azure::models::{
    CreationData, Disk, Sku, Snapshot, SnapshotProperties, SnapshotUpdate, SnapshotUpdateProperties,
};
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::catalog::locks;
use crate::catalog::retention::MAX_KEEP_LAST;
use crate::catalog::{listing, prune, tags, DatasetVersion};
use crate::resource::{partial_message, During, Env, ResourceError, Unknowns};
use crate::resources::naming::{check_dataset, check_version, normalize_location};
use crate::resources::preflight::{self, PreviewChecks};
use crate::resources::security::Security;
use serde_json::{Map, Value as Json};

/// During preview: the checks of [`preflight`] (credentials, a taken name or version, a
/// missing resource group or source), the region a defaulted `location` will take, and
/// which versions the coming create lets the retention rule prune.
pub async fn plan_create(
    env: &Env,
    news: &Inputs,
    unknowns: &Unknowns,
) -> Result<Map<String, Json>, ResourceError> {
    let mut learned = Map::new();
    let Ok(arm) = env.arm() else {
        return Ok(learned);
    };
    let known = |k: &str| !unknowns.contains(k);
    let group = &news.resource_group_name;
    let checks = env.preview_checks != PreviewChecks::Off;
    let pf = &env.preflight;
    let ctx = env.op();
    if checks {
        let group = known("resourceGroupName").then_some(group.as_str());
        preflight::credentials_and_group(env, arm, group, &ctx).await?;
    }
    // The source's region: the snapshot's, when `location` is left to default.
    let mut region = news.location.clone();
    let source = [
        ("sourceDiskId", &news.source_disk_id, ResourceKind::Disk),
        (
            "sourceSnapshotId",
            &news.source_snapshot_id,
            ResourceKind::Snapshot,
        ),
    ]
    .into_iter()
    .find_map(|(p, id, kind)| Some((p, id.as_ref()?, kind)));
    if let Some((property, id, kind)) = source.filter(|(p, ..)| checks && known(p)) {
        if let Some(rid) = preflight::parse_source(id, kind) {
            match pf.region_of(arm, &rid, &ctx).await? {
                Some(found) => {
                    if news.location.is_none() && known("location") {
                        learned.insert("location".into(), Json::String(found.clone()));
                        region = Some(found);
                    }
                }
                None => preflight::missing(
                    env,
                    property,
                    format!("the source {id} does not exist (or the identity cannot see it)"),
                )?,
            }
        }
    }
    let listable = known("resourceGroupName") && known("dataset") && known("version");
    if !listable || (!checks && news.retention.is_none()) {
        return Ok(learned);
    }
    let snapshots = pf.snapshots(arm, group, &ctx).await?;
    let claim = own_claim(env);
    if checks && known("snapshotName") && news.snapshot_name.is_some() {
        let id = snapshot_id(arm, news)?;
        // A snapshot of this name: adopted by the create if this resource left it, else
        // `up` would refuse it.
        if let Some(existing) = snapshots.iter().find(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&id.name))
        }) {
            if !adoptable(existing, news, &claim) {
                return Err(ResourceError::Failed(format!(
                    "preview check: {}",
                    exists_message(env, &id, existing)
                )));
            }
        }
        if let Some(location) = region.as_deref() {
            let mine = planned(news, &id, location);
            let listed = listing::versions(&news.dataset, group, &snapshots);
            if let Some(taken) = rivals(&mine, &listed).into_iter().next() {
                return Err(ResourceError::Failed(format!(
                    "preview check: {}",
                    taken_message(env, news, &id, location, taken)
                )));
            }
        }
    }
    if let Some(rule) = news.retention.filter(|_| known("retention")) {
        let versions = listing::versions(&news.dataset, group, &snapshots);
        prune::warn_planned_in(env, versions, &news.dataset, &news.version, rule, &claim);
    }
    Ok(learned)
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
    id: &ResourceId,
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
        let found = arm.get::<Disk>(&disk_ref, ctx).await;
        let Some(disk) = found.during(format_args!(
            "create of snapshot {id} (reading its source disk {disk_id})"
        ))?
        else {
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
    let found = arm.get::<Snapshot>(&src_ref, ctx).await;
    let Some(src) = found.during(format_args!(
        "create of snapshot {id} (reading its source snapshot {snap_id})"
    ))?
    else {
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
fn create_body(inputs: &Inputs, source: &Source, claim: &str) -> Snapshot {
    let mut snapshot = Snapshot {
        location: source.location.clone(),
        tags: azure_tags(inputs, claim),
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
    };
    inputs.security.write((&mut snapshot.properties).into());
    snapshot
}

pub async fn create(env: &Env, inputs: Inputs) -> Result<(String, Outputs), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let id = snapshot_id(arm, &inputs)?;
    let claim = own_claim(env);
    // PUT is an upsert: never overwrite an existing snapshot, but adopt the one an earlier,
    // unfinished `up` of this very resource made (a crash between Azure's answer and the
    // engine's checkpoint).
    let found = arm.get::<Snapshot>(&id, &ctx).await;
    let op = format!("create of snapshot {id}");
    if let Some(existing) = found.during(&op)? {
        if adoptable(&existing, &inputs, &claim) {
            let released = tags::VersionTags::decode(&existing.tags).is_some_and(|t| t.retained);
            env.info(&if released {
                format!("snapshot {id} is this resource's version {:?}, released by an earlier replacement; taking it back (its release marker is removed)", inputs.version)
            } else {
                format!("snapshot {id} was created for this resource by an earlier `up` that did not finish; adopting it")
            });
            let mut snap = arm
                .wait_for_snapshot_ready(existing, &ctx)
                .await
                .during(&op)?;
            // The adopted snapshot carries this resource's tags, and no release marker: a
            // version held again is never one retention may prune.
            snap.tags = write_tags(arm, &id, azure_tags(&inputs, &claim), snap.tags, &ctx)
                .await
                .during(&op)?;
            settle_version(env, arm, &inputs, &id, &snap, &ctx).await?;
            let outputs = outputs_from(inputs.clone(), &snap, &id);
            lock_new_version(env, arm, &id, &outputs, &ctx).await?;
            apply_retention(env, arm, &inputs, &outputs.snapshot_id).await;
            return Ok((outputs.snapshot_id.clone(), outputs));
        }
        return Err(ResourceError::Failed(exists_message(env, &id, &existing)));
    }
    let source = resolve_source(arm, &id, &inputs, &ctx).await?;
    refuse_taken_version(env, arm, &inputs, &id, &source.location, &ctx).await?;
    let body = create_body(&inputs, &source, &claim);
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
        Err(e) if at_incremental_limit(&e) => {
            let hint = match inputs.retention {
                Some(_) => "lower `retention.keepLast` or `retention.maxAgeDays` on this dataset's versions (retention prunes released versions after each create and release)",
                None => "set `retention: {keepLast: N}` (N from 1 to 500) or `retention.maxAgeDays` on this dataset's versions so released versions are pruned",
            };
            return Err(e).during(format_args!(
                "{op} (the source holds Azure's maximum of {MAX_KEEP_LAST} incremental snapshots: to make room, {hint}, or delete old snapshots of the disk)"
            ));
        }
        Err(e) => return Err(e).during(&op),
    };
    // Another writer may have put the same name between our GET and our PUT (Azure has
    // no create-only PUT for snapshots): the claim Azure now shows says who holds it.
    if let Some(other) = claim_on(&snap).filter(|c| *c != claim) {
        return Err(ResourceError::Failed(format!(
            "create of snapshot {id} lost a race: while this stack created it, another writer wrote the same snapshot and it is claimed by {other}. This stack does not record or touch it; give this resource another `snapshotName` (or let datasnap name it), or remove one of the two resources"
        )));
    }
    settle_version(env, arm, &inputs, &id, &snap, &ctx).await?;
    let outputs = outputs_from(inputs.clone(), &snap, &id);
    lock_new_version(env, arm, &id, &outputs, &ctx).await?;
    apply_retention(env, arm, &inputs, &outputs.snapshot_id).await;
    Ok((outputs.snapshot_id.clone(), outputs))
}

/// The note a version's lock carries.
fn lock_reason(inputs: &Inputs) -> String {
    format!(
        "version \"{}\" of dataset \"{}\" (lock: true)",
        inputs.version, inputs.dataset
    )
}

/// After a create: the lock of a version taken with `lock: true`. If it cannot be placed,
/// the create is partial: the version is tracked (recorded without its lock, so the next
/// `up` places it) and the error says what the identity lacks.
async fn lock_new_version(
    env: &Env,
    arm: &ArmClient,
    id: &ResourceId,
    outputs: &Outputs,
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    if !outputs.inputs.locked() {
        return Ok(());
    }
    match locks::place(
        arm,
        id,
        locks::VERSION_LOCK,
        &lock_reason(&outputs.inputs),
        ctx,
    )
    .await
    {
        Ok(()) => {
            env.info(&format!(
                "locked snapshot {} (CanNotDelete lock {}): Azure refuses to delete it until datasnap lifts the lock",
                id.name,
                locks::VERSION_LOCK
            ));
            Ok(())
        }
        Err(e) => {
            let mut unlocked = outputs.clone();
            unlocked.inputs.lock = None;
            Err(ResourceError::partial(
                &outputs.snapshot_id,
                &unlocked,
                format!("version \"{}\" was created, but {e}. It is tracked in the stack without its lock; the next `pulumi up` places it", outputs.inputs.version),
            ))
        }
    }
}

/// Before a create: a version that another snapshot already carries in the region is
/// refused, with the command that takes it over (the check after the create settles the
/// races this one cannot see).
async fn refuse_taken_version(
    env: &Env,
    arm: &ArmClient,
    inputs: &Inputs,
    id: &ResourceId,
    location: &str,
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    let mine = planned(inputs, id, location);
    let listed = listing::list_in(arm, &inputs.resource_group_name, &inputs.dataset, ctx)
        .await
        .during(format_args!(
            "create of snapshot {id} (listing dataset \"{}\")",
            inputs.dataset
        ))?;
    let Some(taken) = rivals(&mine, &listed).into_iter().next() else {
        return Ok(());
    };
    Err(ResourceError::Failed(taken_message(
        env, inputs, id, location, taken,
    )))
}

/// The version a create of `id` in `location` is about to take, as the catalog lists one.
fn planned(inputs: &Inputs, id: &ResourceId, location: &str) -> DatasetVersion {
    DatasetVersion {
        dataset: inputs.dataset.clone(),
        version: inputs.version.clone(),
        snapshot_id: id.to_string(),
        location: location.to_string(),
        ..DatasetVersion::default()
    }
}

/// Why a create of `id` is refused: `taken` already holds the version in `location`.
fn taken_message(
    env: &Env,
    inputs: &Inputs,
    id: &ResourceId,
    location: &str,
    taken: &DatasetVersion,
) -> String {
    let holder = claimed_by(taken);
    format!(
        "create of snapshot {id} refused: version \"{}\" of dataset \"{}\" already exists in {location} as snapshot {} (created {}{holder}); datasnap never takes a version twice. To manage it with this resource, run `pulumi import {TOKEN} {} {}`; to take a new snapshot, bump `version`",
        inputs.version, inputs.dataset, taken.snapshot_id, taken.time_created, env.resource_name(), taken.snapshot_id
    )
}

/// ", claimed by <claim>" for a version that carries a claim, for messages.
fn claimed_by(v: &DatasetVersion) -> String {
    v.claim
        .as_ref()
        .map(|c| format!(", claimed by {c}"))
        .unwrap_or_default()
}

/// After this resource created (or adopted) `snap`, settles who holds its dataset version:
/// if another snapshot carries the same version in the same region (another stack, or
/// another resource, took it at the same time), the first one holds it
/// ([`first_holder`]). The loser deletes only the snapshot it just made, and fails naming
/// the holder; the winner goes on, and says so.
async fn settle_version(
    env: &Env,
    arm: &ArmClient,
    inputs: &Inputs,
    id: &ResourceId,
    snap: &Snapshot,
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    let group = &inputs.resource_group_name;
    let Some(mut mine) = listing::version_of(snap, group) else {
        return Err(ResourceError::Bug(format!(
            "snapshot {id} was created without its version tags"
        )));
    };
    if mine.snapshot_id.is_empty() {
        mine.snapshot_id = id.to_string();
    }
    let listed = match listing::list_in(arm, group, &inputs.dataset, ctx).await {
        Ok(l) => l,
        Err(e) if e.is_cancelled() => return Err(e.into()),
        Err(e) => {
            env.warn(&format!("create of snapshot {id}: listing dataset \"{}\" to check that no other snapshot took version \"{}\" at the same time failed ({e}); the next `pulumi refresh` or `getVersions` shows any duplicate", inputs.dataset, inputs.version));
            return Ok(());
        }
    };
    let rivals = rivals(&mine, &listed);
    if rivals.is_empty() {
        return Ok(());
    }
    let first = first_holder(&mine, &rivals);
    if std::ptr::eq(first, &mine) {
        for r in &rivals {
            env.warn(&format!(
                "snapshot {} also carries version \"{}\" of dataset \"{}\", but was created after {id}, which holds the version; its creator gives it up",
                r.snapshot_id, inputs.version, inputs.dataset
            ));
        }
        return Ok(());
    }
    let holder = claimed_by(first);
    let what = format!(
        "create of snapshot {id} refused: version \"{}\" of dataset \"{}\" in {} is held by snapshot {} (created {}{holder}), which another writer made before this one",
        inputs.version, inputs.dataset, mine.location, first.snapshot_id, first.time_created
    );
    let todo = format!(
        "To manage that version with this resource, run `pulumi import {TOKEN} {} {}`; if it belongs to another stack, bump `version` here instead",
        env.resource_name(),
        first.snapshot_id
    );
    match arm.delete(id, ctx).await {
        Ok(()) => Err(ResourceError::Failed(format!(
            "{what}. datasnap deleted the snapshot this resource had just created, and nothing else. {todo}"
        ))),
        Err(e) if e.is_not_found() => Err(ResourceError::Failed(format!("{what}. {todo}"))),
        Err(e) => {
            let outputs = outputs_from(inputs.clone(), snap, id);
            Err(ResourceError::partial(
                &outputs.snapshot_id,
                &outputs,
                format!("{what}; deleting the snapshot this resource had just created failed ({e}), so it stays tracked in the stack: run `pulumi destroy` (or remove the resource) to delete it. {todo}"),
            ))
        }
    }
}

/// Azure refused the snapshot because its source disk has the most incremental snapshots
/// Azure allows (409 `OperationNotAllowed`).
fn at_incremental_limit(e: &AzureError) -> bool {
    matches!(e, AzureError::Conflict { code, message }
        if code == "OperationNotAllowed"
            && message.contains("incremental snapshots")
            && (message.contains("maximum") || message.contains("limit")))
}

/// Why a create cannot use the name, with the exact `pulumi import` command for this
/// resource when the snapshot is a datasnap version.
fn exists_message(env: &Env, id: &ResourceId, existing: &Snapshot) -> String {
    let import = format!("pulumi import {TOKEN} {} {id}", env.resource_name());
    match tags::VersionTags::decode(&existing.tags) {
        Some(vt) => {
            let holder = vt
                .claim
                .map(|c| format!(", claimed by {c}"))
                .unwrap_or_default();
            format!("create of snapshot {id} refused: it already exists in Azure as version \"{}\" of dataset \"{}\"{holder}; datasnap never overwrites a snapshot. To manage it with this resource instead, run `{import}`; to take a new snapshot, bump `version` or set another `snapshotName`", vt.version, vt.dataset)
        }
        None => format!("create of snapshot {id} refused: a snapshot datasnap does not manage already has this name; datasnap never overwrites a snapshot. Set another `snapshotName` (or bump `version`), or import it with `{import}` once it carries the `datasnap.dataset` and `datasnap.version` tags"),
    }
}

/// Applies the version's retention rule, if it has one, to its dataset. `current` is the
/// version just created (never pruned), or empty after a release.
async fn apply_retention(env: &Env, arm: &ArmClient, inputs: &Inputs, current: &str) {
    if let Some(rule) = inputs.retention {
        let (group, dataset) = (&inputs.resource_group_name, &inputs.dataset);
        prune::apply(env, arm, group, dataset, rule, current).await;
    }
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
            partial_message(
                &format!("create of snapshot {accepted}: the snapshot"),
                &cause,
            ),
        );
    }
    match arm.delete(id, ctx).await {
        Ok(()) => ResourceError::Failed(format!("create of snapshot {id} failed in Azure: {cause}. The failed snapshot was deleted; nothing was created")),
        Err(e) => {
            env.warn(&format!("deleting the failed snapshot {accepted} failed: {e}"));
            ResourceError::partial(&accepted, &outputs, format!("create of snapshot {id} failed in Azure: {cause}; deleting the failed snapshot also failed ({e}), so it is tracked in the stack: run `pulumi destroy` or fix and `pulumi up`"))
        }
    }
}

pub async fn read(
    env: &Env,
    id: &str,
    inputs: Option<Inputs>,
    state: Option<Outputs>,
) -> Result<Option<(Inputs, Outputs)>, ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let (arm_id, hint) = import_hint(id)?;
    let rid = ResourceId::parse(arm_id, ResourceKind::Snapshot).map_err(|e| {
        ResourceError::Invalid {
            property: "id".into(),
            reason: format!("a VersionedSnapshot is imported by the ARM id of its snapshot (optionally followed by `#dataset=<dataset>&version=<version>`): {e}"),
        }
    })?;
    let found = arm.get::<Snapshot>(&rid, &ctx).await;
    let Some(snap) = found.during(format_args!("refresh of snapshot {rid}"))? else {
        return Ok(None);
    };
    // Migration: a snapshot without datasnap's version tags (made by azure-native, the
    // portal, a script) is imported as the version the import id names, or its
    // `<dataset>-v<version>` name says; the first `up` writes the tags in place.
    let untagged = tags::VersionTags::decode(&snap.tags).is_none();
    let adopted_as = match (&state, &inputs, untagged) {
        (None, None, true) => hint.clone().or_else(|| version_from_name(&rid.name)),
        _ => None,
    };
    let mut new_inputs = match &adopted_as {
        Some((dataset, version)) => {
            let named = Inputs {
                resource_group_name: rid.resource_group.clone(),
                dataset: dataset.clone(),
                version: version.clone(),
                snapshot_name: Some(rid.name.clone()),
                ..Inputs::default()
            };
            inputs_from(&snap, &rid, Some(&named))?
        }
        None => inputs_from(&snap, &rid, inputs.as_ref()).map_err(|e| match e {
            ResourceError::Invalid { property, reason } => ResourceError::Invalid {
                property,
                reason: format!("{reason}; or import it as a version by naming one: `pulumi import {TOKEN} {} '{rid}#dataset=<dataset>&version=<version>'`", env.resource_name()),
            },
            other => other,
        })?,
    };
    // The lock: a refresh of a locked version sees a lock lifted out of band (drift that
    // the next `up` repairs); an import records datasnap's lock when it finds one.
    let recorded_lock = inputs.as_ref().map(Inputs::locked);
    if recorded_lock != Some(false) {
        match arm.get_lock(&rid, locks::VERSION_LOCK, &ctx).await {
            Ok(found) => {
                let present = found.is_some();
                if recorded_lock == Some(true) && !present {
                    env.warn(&format!("snapshot {rid} lost datasnap's management lock ({}) outside datasnap: `pulumi up` places it again", locks::VERSION_LOCK));
                }
                new_inputs.lock = match (recorded_lock, present) {
                    (None, false) => None,
                    (_, p) => Some(p),
                };
            }
            Err(e) if e.is_cancelled() => return Err(e.into()),
            Err(e) => env.warn(&format!(
                "refresh of snapshot {rid}: could not read its management locks ({e}); the recorded `lock` stands"
            )),
        }
    }
    let mut outputs = outputs_from(new_inputs.clone(), &snap, &rid);
    if let Some((dataset, version)) = &adopted_as {
        // Found: no datasnap tags (whatever datasnap-looking keys it has). The first
        // `up` sees them as drift and writes them, tags only.
        outputs.found_tags = Some(
            snap.tags
                .iter()
                .filter(|(k, _)| tags::is_datasnap_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        env.info(&format!(
            "importing snapshot {rid}, which has no datasnap tags, as version {version:?} of dataset {dataset:?}: the next `pulumi up` writes its datasnap tags (tags only: the snapshot's data is not touched)"
        ));
        return Ok(Some((new_inputs, outputs)));
    }
    if state.is_none() {
        // An import takes the snapshot as it is: drift is counted from the first write on,
        // and its current claim is the one this stack takes over, explicitly, at that write.
        let mut found = new_inputs.version_tags().encode();
        if let Some(claim) = claim_on(&snap) {
            found.insert(tags::CLAIM.into(), claim);
        }
        outputs.found_tags = Some(found);
    }
    report_drift(env, &rid, &outputs);
    if let Some(old) = &state {
        if let Some(h) = taken_over_from(env, old, &snap) {
            env.warn(&taken_over(env, &rid, &h));
            // Keep what the stack recorded, so the takeover stays visible and nothing
            // is written to the other holder's snapshot.
            return Ok(Some((old.inputs.clone(), old.clone())));
        }
    }
    Ok(Some((new_inputs, outputs)))
}

/// A dataset and one of its versions, as an import id or a snapshot's name names them.
type NamedVersion = (String, String);

/// Splits an import id into the ARM id and the `#dataset=<d>&version=<v>` hint after it.
fn import_hint(id: &str) -> Result<(&str, Option<NamedVersion>), ResourceError> {
    let Some((arm_id, fragment)) = id.split_once('#') else {
        return Ok((id, None));
    };
    let bad = |reason: String| ResourceError::Invalid {
        property: "id".into(),
        reason,
    };
    let (mut dataset, mut version) = (None, None);
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("dataset", v)) => dataset = Some(v.to_string()),
            Some(("version", v)) => version = Some(v.to_string()),
            _ => {
                return Err(bad(format!(
                    "the import id's hint {fragment:?} is not `dataset=<dataset>&version=<version>`"
                )))
            }
        }
    }
    match (dataset, version) {
        (Some(d), Some(v)) => {
            check_dataset(&d).map_err(|e| bad(format!("dataset in the import id: {e}")))?;
            check_version(&v).map_err(|e| bad(format!("version in the import id: {e}")))?;
            Ok((arm_id, Some((d, v))))
        }
        _ => Err(bad(format!(
            "the import id's hint {fragment:?} needs both `dataset=` and `version=`"
        ))),
    }
}

/// `<dataset>-v<version>`: the name a snapshot made outside datasnap may already carry
/// (datasnap's own default names end in an owner suffix, and carry tags anyway).
fn version_from_name(name: &str) -> Option<NamedVersion> {
    let (dataset, version) = name.rsplit_once("-v")?;
    (check_dataset(dataset).is_ok()
        && check_version(version).is_ok()
        && version.starts_with(|c: char| c.is_ascii_digit()))
    .then(|| (dataset.to_string(), version.to_string()))
}

/// Says in the engine log what a refresh found changed behind the stack's back, and that
/// the next `up` puts it right.
fn report_drift(env: &Env, id: &ResourceId, outputs: &Outputs) {
    let show = |v: &Option<String>| match v {
        Some(v) => format!("\"{v}\""),
        None => "absent".into(),
    };
    for d in tag_drift(outputs) {
        env.warn(&format!(
            "snapshot {id}: tag {} is {} in Azure but this stack wrote {}; the next `pulumi up` writes it back",
            d.name,
            show(&d.found),
            show(&d.wrote)
        ));
    }
    if outputs.provisioning_state.eq_ignore_ascii_case("Failed") {
        env.warn(&format!("snapshot {id} is in provisioning state Failed (its last write failed); the next `pulumi up` writes it again to repair it"));
    }
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
    // Read-modify-write: only a snapshot this stack still holds is written, and keys
    // that other resources own are kept.
    let found = arm.get::<Snapshot>(&rid, &ctx).await;
    let Some(live) = found.during(format_args!("update of snapshot {rid} (reading it)"))? else {
        return Err(ResourceError::Failed(format!("update of snapshot {rid} refused: it is gone from Azure; run `pulumi refresh` (it leaves the stack), then `pulumi up` takes the version again")));
    };
    if let Some(h) = taken_over_from(env, &olds, &live) {
        return Err(ResourceError::Failed(taken_over(env, &rid, &h)));
    }
    let claim = own_claim(env);
    let ours = azure_tags(&news, &claim);
    // Only a changed SKU is sent; an unset one is Azure's choice and stays as it is.
    let sku = Sku::named(
        news.sku
            .as_ref()
            .filter(|s| Some(*s) != olds.inputs.sku.as_ref()),
    );
    let was_failed = olds.provisioning_state.eq_ignore_ascii_case("Failed") || is_failed(&live);
    // The lock first: a version asked to be protected is protected before anything else
    // changes, and one released from its lock is unlocked even if a later step fails.
    if news.locked() != olds.inputs.locked() {
        let op = format!("update of snapshot {rid}");
        if news.locked() {
            locks::place(arm, &rid, locks::VERSION_LOCK, &lock_reason(&news), &ctx).await?;
            env.info(&format!("locked snapshot {} ({op})", rid.name));
        } else {
            locks::lift(arm, &rid, locks::VERSION_LOCK, &ctx).await?;
            env.info(&format!(
                "lifted datasnap's lock from snapshot {} ({op})",
                rid.name
            ));
        }
    }
    // Security settings that change are sent; one removed goes back to Azure's default.
    let mut props = SnapshotUpdateProperties::default();
    let secure = Security::patch(&olds.inputs.security, &news.security, (&mut props).into());
    let mut new_inputs = news;
    if new_inputs.location.is_none() {
        new_inputs.location = olds.inputs.location.clone();
    }
    if sku.is_none() && !secure && !was_failed {
        // Tags only: ARM's Merge and Delete of the keys that change, so a concurrent
        // writer's keys (an alias, a keep marker) are never erased.
        let op = format!("update of snapshot {rid}");
        let mut snap = live;
        snap.tags = write_tags(arm, &rid, ours, snap.tags, &ctx)
            .await
            .during(&op)?;
        return Ok(outputs_from(new_inputs, &snap, &rid));
    }
    // A SKU or security change, or a repair of a failed write, is a PATCH of the snapshot
    // itself (Azure repairs a Failed snapshot by a successful write to it).
    let body = SnapshotUpdate {
        tags: Some(merged_tags(ours, &live.tags)),
        sku,
        properties: secure.then_some(props),
        ..SnapshotUpdate::default()
    };
    let snap = arm.update(&rid, &body, &ctx).await.map_err(|e| {
        if e.is_cancelled() {
            ResourceError::from(e)
        } else if was_failed {
            ResourceError::Failed(format!("repair of snapshot {rid} (provisioningState Failed) by writing its tags again failed: {e} Azure could not repair this version: bump `version` to take a new snapshot (the failed one is released as usual)"))
        } else {
            ResourceError::Failed(format!("update of snapshot {rid} failed: {e}"))
        }
    })?;
    Ok(outputs_from(new_inputs, &snap, &rid))
}

/// Brings a snapshot's tags from `found` to `ours` through ARM's Merge and Delete of only
/// the keys that change (keys others own, such as an alias, are kept); the tags Azure
/// reports after. Nothing is written when nothing changes.
async fn write_tags(
    arm: &ArmClient,
    id: &ResourceId,
    ours: BTreeMap<String, String>,
    found: BTreeMap<String, String>,
    ctx: &OpContext,
) -> Result<BTreeMap<String, String>, AzureError> {
    let (merge, delete) = tag_writes(ours, &found);
    let mut tags = found;
    if !merge.is_empty() {
        tags = arm.merge_tags(id, &merge, ctx).await?;
    }
    if !delete.is_empty() {
        tags = arm.delete_tags(id, &delete, ctx).await?;
    }
    Ok(tags)
}

/// The snapshot's last write failed (`provisioningState: Failed`).
fn is_failed(snap: &Snapshot) -> bool {
    snap.properties
        .provisioning_state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
}

/// The claim this resource writes.
fn own_claim(env: &Env) -> String {
    tags::claim_for(&env.urn, &env.claim_salt)
}

/// Who took `snap` over, if anyone: judged against the claim recorded in state (or, on
/// state from before claims, this resource's own) and the recorded `uniqueId`.
fn taken_over_from(env: &Env, olds: &Outputs, snap: &Snapshot) -> Option<Holder> {
    let own = own_claim(env);
    let expected = recorded_claim(olds).unwrap_or(&own);
    Some(holder(snap, expected, &olds.unique_id)).filter(|h| *h != Holder::Us)
}

/// What to do about a snapshot that another resource took over.
fn taken_over(env: &Env, id: &ResourceId, h: &Holder) -> String {
    format!(
        "snapshot {id} {}: this stack no longer manages it and will not modify or delete it. Take a new version (bump `version`), or remove this resource from the program (its delete only releases it from the stack), or `pulumi state delete {}`",
        h.describe(),
        env.urn
    )
}

pub async fn delete(env: &Env, id: &str, olds: Outputs) -> Result<(), ResourceError> {
    let arm = env.arm()?;
    let ctx = env.op();
    let rid = recorded_id(id)?;
    let inputs = &olds.inputs;
    let op = if inputs.deletion_policy() == DELETE {
        format!("delete of snapshot {rid}")
    } else {
        format!("release of snapshot {rid}")
    };
    let found = arm.get::<Snapshot>(&rid, &ctx).await;
    let Some(snap) = found.during(&op)? else {
        env.info(&format!("snapshot {} is already gone from Azure", rid.name));
        return Ok(());
    };
    // A snapshot another resource took over is released from this stack and never touched.
    if let Some(h) = taken_over_from(env, &olds, &snap) {
        env.warn(&format!(
            "snapshot {rid} {}: released from this stack without touching it in Azure",
            h.describe()
        ));
        return Ok(());
    }
    let aliases: Vec<String> = tags::VersionTags::decode(&snap.tags)
        .map(|t| t.aliases.into_keys().collect())
        .unwrap_or_default();
    if inputs.deletion_policy() == DELETE && !aliases.is_empty() {
        env.warn(&format!(
            "snapshot {} is not deleted although deletionPolicy is Delete: the alias(es) {} point at version \"{}\"; it is released as a retained version instead. Move or delete the alias(es), and retention prunes it",
            rid.name,
            aliases.join(", "),
            inputs.version
        ));
    }
    if inputs.deletion_policy() == DELETE && aliases.is_empty() {
        locks::lift(arm, &rid, locks::VERSION_LOCK, &ctx).await?;
        arm.delete(&rid, &ctx).await.during(&op)?;
        env.info(&format!(
            "deleted snapshot {} (version \"{}\" of dataset \"{}\", deletionPolicy Delete)",
            rid.name, inputs.version, inputs.dataset
        ));
        return Ok(());
    }
    // Retain: release the snapshot from the stack and mark it as a retained version, so
    // it stays findable (getVersions) and only a retention rule may prune it.
    let marker: BTreeMap<String, String> =
        [(tags::RETAINED.to_string(), "true".to_string())].into();
    let marked = snap
        .tags
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(tags::RETAINED) && v == "true");
    // The marker is merged (only that key is written). A snapshot whose last write failed
    // (provisioningState Failed) gets a write of the snapshot itself instead, even when its
    // tags already read right: Azure repairs it by a successful write.
    let written = if is_failed(&snap) {
        let mut t = snap.tags.clone();
        t.extend(marker);
        let body = SnapshotUpdate {
            tags: Some(t),
            ..SnapshotUpdate::default()
        };
        arm.update(&rid, &body, &ctx).await.map(|_| ())
    } else if !marked {
        arm.merge_tags(&rid, &marker, &ctx).await.map(|_| ())
    } else {
        Ok(())
    };
    match written {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => {
            return Err(ResourceError::Failed(format!(
                "release of snapshot {rid} (version \"{}\" of dataset \"{}\") failed: {e} It is still in the stack; run `pulumi up` again to retry",
                inputs.version, inputs.dataset
            )))
        }
    }
    env.info(&format!(
        "retained snapshot {} in Azure as version \"{}\" of dataset \"{}\" (deletionPolicy Retain); it is no longer managed by this stack",
        rid.name, inputs.version, inputs.dataset
    ));
    // Released versions are what retention prunes: apply the rule now, so that with
    // `keepLast: 1` a bump from v2 to v3 leaves v3 alone in Azure.
    apply_retention(env, arm, inputs, "").await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_name_a_version_by_hint_or_by_name() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/my-snapshot1a2b3c";
        assert_eq!(import_hint(id).unwrap(), (id, None));
        let hinted = format!("{id}#dataset=training-data&version=3");
        assert_eq!(
            import_hint(&hinted).unwrap(),
            (id, Some(("training-data".to_string(), "3".to_string())))
        );
        for bad in [
            "#dataset=d",
            "#version=1",
            "#dataset=d&version=1&x=y",
            "#dataset=&version=1",
        ] {
            let e = import_hint(&format!("{id}{bad}")).unwrap_err().to_string();
            assert!(e.contains("id"), "{bad}: {e}");
        }
        assert_eq!(
            version_from_name("training-data-v3"),
            Some(("training-data".into(), "3".into()))
        );
        assert_eq!(
            version_from_name("images-v2.1.0"),
            Some(("images".into(), "2.1.0".into()))
        );
        assert_eq!(version_from_name("my-snapshot1a2b3c"), None);
        assert_eq!(version_from_name("data-vendor"), None);
    }

    #[test]
    fn the_incremental_snapshot_limit_is_told_apart() {
        let conflict = |code: &str, message: &str| AzureError::Conflict {
            code: code.into(),
            message: message.into(),
        };
        assert!(at_incremental_limit(&conflict(
            "OperationNotAllowed",
            "Disk 'd' already has 500 incremental snapshots, the maximum. Delete old ones first."
        )));
        assert!(!at_incremental_limit(&conflict(
            "OperationNotAllowed",
            "At most 7 incremental snapshots of disk 'd' can be created per 5 minutes. Retry later."
        )));
        assert!(!at_incremental_limit(&conflict(
            "Conflict",
            "incremental snapshots maximum"
        )));
    }
}
