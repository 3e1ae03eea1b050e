//! Creating from another disk or snapshot (createOption Copy, CopyStart, Restore):
//! the source must exist in this subscription, be provisioned and not mid-copy; a Copy
//! reads its source in the new resource's region only (another region is CopyStart's); a
//! CopyStart copies one incremental snapshot at a time per family and region; an
//! incremental snapshot joins its disk's family, within DiskRP's limits (7 per 5
//! minutes, 500 in all); a disk is at least as large as its source.

use super::create::Made;
use super::validate::{missing, CreateRequest};
use crate::arm::id::ResourceId;
use crate::arm::Ctx;
use crate::error::{ArmError, ArmResult};
use crate::resource::CopyProgress;
use crate::rules::same_location;
use crate::world::{Key, Kind, World};
use serde_json::{Map, Value};

/// Incremental snapshots per disk: 7 per 5 minutes, 500 in all.
const INCREMENTAL_BURST: usize = 7;
const INCREMENTAL_WINDOW_MS: u64 = 5 * 60 * 1000;
const INCREMENTAL_TOTAL: usize = 500;

/// Properties a copy takes from its source unless the request sets them (a disk and its
/// incremental snapshots must share one disk encryption set, so `encryption` comes along).
const INHERITED: &[&str] = &[
    "encryption",
    "osType",
    "hyperVGeneration",
    "supportedCapabilities",
    "supportsHibernation",
    "purchasePlan",
];

/// What a create needs to know about its source.
struct Source {
    key: Key,
    name: String,
    location: String,
    unique_id: String,
    size_gb: u64,
    family: Option<String>,
    incremental: bool,
    copying: bool,
    inherited: Map<String, Value>,
}

fn not_allowed(message: impl Into<String>) -> ArmError {
    ArmError::conflict("OperationNotAllowed", message)
}

pub fn make(
    ctx: &Ctx,
    world: &mut World,
    kind: Kind,
    req: &CreateRequest,
    incremental: bool,
    now: u64,
) -> ArmResult<Made> {
    let source = lookup(ctx, world, req.creation, now)?;
    if req.create_option == "Copy" && !same_location(&source.location, &req.location) {
        // DiskRP looks a Copy's source up in the target region, so a source elsewhere is
        // "not found" (azure-cli #11909, #16385); crossing regions takes CopyStart.
        return Err(ArmError::not_found(
            "NotFound",
            format!("Resource {} is not found.", source.name),
        ));
    }
    if source.copying {
        return Err(not_allowed(format!("The source snapshot '{}' is still being copied (completionPercent < 100). Retry after the copy completes.", source.name)));
    }
    let mut made = Made {
        incremental,
        ..Made::default()
    };
    if req.create_option == "CopyStart" {
        made.copy = Some(copy_start(ctx, world, kind, req, &source, now)?);
        made.incremental = true;
    }
    if kind == Kind::Snapshot && made.incremental {
        made.family = Some(family(world, &source, now)?);
    }
    made.size_gb = size(kind, req, &source)?;
    made.source_unique_id = Some(source.unique_id);
    made.inherited = source.inherited;
    Ok(made)
}

/// The source named by creationData.sourceResourceId, and what the create takes from it.
fn lookup(ctx: &Ctx, world: &World, creation: &Value, now: u64) -> ArmResult<Source> {
    let source_id = creation
        .get("sourceResourceId")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("sourceResourceId"))?;
    let id = ResourceId::parse(source_id).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidParameter",
            format!("The value '{source_id}' of parameter 'sourceResourceId' is not a valid disk or snapshot resource id."),
        )
        .with_target("sourceResourceId")
    })?;
    let key = id.key();
    let source = world
        .resources
        .get(&key)
        .filter(|_| id.subscription.eq_ignore_ascii_case(ctx.sub()))
        .ok_or_else(|| {
            ArmError::not_found(
                "NotFound",
                format!("The source resource '{source_id}' was not found."),
            )
            .with_target("sourceResourceId")
        })?;
    let props = source.props();
    if source.pending_op.is_some()
        && props.provisioning_state == "Updating"
        && source.copy.is_none()
    {
        return Err(not_allowed(format!(
            "The source {} '{}' is still being provisioned. Retry after it succeeds.",
            id.kind.noun(),
            id.name
        )));
    }
    let family = match id.kind {
        Kind::Disk => source.family_id.clone(),
        Kind::Snapshot => props.incremental_snapshot_family_id.clone(),
    };
    let inherited = INHERITED
        .iter()
        .filter_map(|p| Some((p.to_string(), props.extra.get(*p)?.clone())))
        .collect();
    Ok(Source {
        key,
        name: id.name,
        location: source.location().to_string(),
        unique_id: props.unique_id.clone(),
        size_gb: source.size_gb(),
        family,
        incremental: source.is_incremental(),
        copying: source.copy.as_ref().is_some_and(|c| c.running(now)),
        inherited,
    })
}

/// CopyStart: an incremental snapshot copied in the background, one per family and region at a time.
fn copy_start(
    ctx: &Ctx,
    world: &World,
    kind: Kind,
    req: &CreateRequest,
    source: &Source,
    now: u64,
) -> ArmResult<CopyProgress> {
    if source.key.0 != Kind::Snapshot || !source.incremental {
        return Err(not_allowed(
            "CopyStart is supported only with an incremental snapshot as the source.",
        ));
    }
    if kind != Kind::Snapshot {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            "CopyStart is supported only for snapshots.",
        )
        .with_target("createOption"));
    }
    let family_id = source.family.clone().unwrap_or_default();
    if let Some(other) = world.copy_in_progress(&family_id, &req.location, now) {
        return Err(not_allowed(format!(
            "Another copy of this snapshot family to '{}' is in progress ('{}'). Copies of one disk's snapshots run one at a time, in order.",
            req.location,
            other.name()
        )));
    }
    Ok(CopyProgress {
        start_ms: now,
        end_ms: now + ctx.state.config.copy_duration_ms(),
        family_id,
        location: req.location.clone(),
        source: Some(source.key.clone()),
        error: None,
        stopped_percent: None,
    })
}

/// The incremental family a new incremental snapshot joins; a disk's family starts with its first.
fn family(world: &mut World, source: &Source, now: u64) -> ArmResult<String> {
    match source.key.0 {
        Kind::Snapshot if source.incremental => Ok(source.family.clone().unwrap_or_default()),
        Kind::Snapshot => Err(ArmError::bad_request(
            "InvalidParameter",
            "An incremental snapshot can be created only from a managed disk or from another incremental snapshot.",
        )
        .with_target("incremental")),
        Kind::Disk => {
            check_incremental_limits(world, source, now)?;
            let family = source
                .family
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            if let Some(disk) = world.resources.get_mut(&source.key) {
                disk.family_id = Some(family.clone());
            }
            Ok(family)
        }
    }
}

/// At most 500 incremental snapshots of one disk, and 7 per 5 minutes.
fn check_incremental_limits(world: &World, disk: &Source, now: u64) -> ArmResult<()> {
    let of_disk: Vec<u64> = world
        .resources
        .values()
        .filter(|r| {
            r.kind() == Kind::Snapshot
                && r.is_incremental()
                && r.props().creation_data.source_unique_id.as_deref()
                    == Some(disk.unique_id.as_str())
        })
        .map(|r| r.created_ms)
        .collect();
    let name = &disk.name;
    if of_disk.len() >= INCREMENTAL_TOTAL {
        return Err(not_allowed(format!("Disk '{name}' already has {INCREMENTAL_TOTAL} incremental snapshots, the maximum. Delete old ones first.")));
    }
    let recent = of_disk
        .iter()
        .filter(|created| *created + INCREMENTAL_WINDOW_MS > now)
        .count();
    if recent >= INCREMENTAL_BURST {
        return Err(not_allowed(format!("At most {INCREMENTAL_BURST} incremental snapshots of disk '{name}' can be created per 5 minutes. Retry later.")));
    }
    Ok(())
}

/// A disk may be larger than its source, never smaller; a snapshot has its source's size.
fn size(kind: Kind, req: &CreateRequest, source: &Source) -> ArmResult<u64> {
    let requested = req.props.get("diskSizeGB").and_then(Value::as_u64);
    match (kind, requested) {
        (Kind::Disk, Some(s)) if s < source.size_gb => Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The specified disk size {s} GB is smaller than the size of the source {} ({} GB). Disk size can only be the source's size or larger.",
                source.key.0.noun(),
                source.size_gb
            ),
        )
        .with_target("diskSizeGB")),
        (Kind::Disk, Some(s)) => Ok(s),
        _ => Ok(source.size_gb),
    }
}
