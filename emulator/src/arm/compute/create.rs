//! PUT of a new disk or snapshot: route a PUT on an existing name to [`super::update`],
//! size the resource by its createOption (Empty, Upload, Import, FromImage, and the
//! copies [`super::source`] handles), and store its typed body with the service-set
//! properties (uniqueId, timeCreated, states, incremental family).

use super::validate::{check_top_level, create_request, missing, writable_props, CreateRequest};
use super::{finish_mutation, require_group, security, source, update};
use crate::arm::id::ResourceId;
use crate::arm::{json_body, operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::resource::{
    request_tags, ComputeBody, CopyProgress, CreationData, Properties, Resource, Sku, GIB,
};
use crate::rules::{check_disk_size, check_resource_name};
use crate::time::now_ms;
use crate::world::{Key, Kind, OpKind, World};
use axum::body::Bytes;
use axum::response::Response;
use serde_json::{json, Map, Value};

/// What the createOption decides about a new resource.
#[derive(Debug, Default)]
pub struct Made {
    pub size_gb: u64,
    /// The source's uniqueId (copies).
    pub source_unique_id: Option<String>,
    /// The incremental snapshot family it joins (incremental snapshots of a disk or snapshot).
    pub family: Option<String>,
    pub copy: Option<CopyProgress>,
    pub incremental: bool,
    /// Properties inherited from the source where the request leaves them out.
    pub inherited: Map<String, Value>,
}

impl Made {
    fn sized(size_gb: u64, incremental: bool) -> Made {
        Made {
            size_gb,
            incremental,
            ..Made::default()
        }
    }
}

pub fn put(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    check_resource_name(kind.noun(), name)?;
    let request = json_body(body)?;
    check_top_level(kind, &request)?;
    let req = create_request(kind, &request)?;
    let mut world = ctx.state.world();
    require_group(&world, group)?;
    let key = Key::new(kind, group, name);
    if world.resources.contains_key(&key) {
        return update::put_existing(ctx, &mut world, key, &request, &req.location);
    }
    let mut writable = writable_props(&request);
    security::check(name, &mut writable)?;
    let now = now_ms();
    let made = make(ctx, &mut world, kind, &req, now)?;
    if kind == Kind::Disk {
        let sku = Sku::pick(kind, request.get("sku"), None);
        check_disk_size(name, &sku.name, made.size_gb)?;
    }
    let copy = made.copy.clone();
    let id = ResourceId::new(ctx.sub(), group, kind, name);
    let body = new_body(id, &request, writable, &req, made, now);
    let mut resource = Resource::new(body, now);
    resource.copy = copy;
    world.resources.insert(key.clone(), resource);
    let op = operations::plan(ctx, OpKind::Put, Some(key.clone()), &req.location);
    Ok(finish_mutation(ctx, &mut world, &key, op))
}

/// A string member of creationData that the createOption requires.
fn required<'a>(creation: &'a Value, member: &str) -> ArmResult<&'a str> {
    creation
        .get(member)
        .and_then(Value::as_str)
        .ok_or_else(|| missing(member))
}

/// Size (and for copies, source facts) by createOption.
fn make(
    ctx: &Ctx,
    world: &mut World,
    kind: Kind,
    req: &CreateRequest,
    now: u64,
) -> ArmResult<Made> {
    let creation = req.creation;
    let requested = req.props.get("diskSizeGB").and_then(Value::as_u64);
    let incremental = kind == Kind::Snapshot
        && req
            .props
            .get("incremental")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let sized = |gb| Ok(Made::sized(gb, incremental));
    match req.create_option {
        "Empty" => sized(requested.ok_or_else(|| missing("diskSizeGB"))?),
        // Restore reads a disk restore point (not emulated): only its presence is checked.
        "Restore"
            if creation
                .get("sourceResourceId")
                .and_then(Value::as_str)
                .is_some_and(|id| ResourceId::parse(id).is_none()) =>
        {
            sized(requested.unwrap_or(32))
        }
        "Copy" | "CopyStart" | "Restore" => source::make(ctx, world, kind, req, incremental, now),
        "Import" | "ImportSecure" => {
            required(creation, "sourceUri")?;
            sized(requested.unwrap_or(32))
        }
        "CopyFromSanSnapshot" => {
            required(creation, "elasticSanResourceId")?;
            sized(requested.unwrap_or(32))
        }
        "FromImage" => {
            if creation.get("imageReference").is_none()
                && creation.get("galleryImageReference").is_none()
            {
                return Err(missing("imageReference"));
            }
            sized(requested.unwrap_or(30))
        }
        "Upload" | "UploadPreparedSecure" => {
            let bytes = creation
                .get("uploadSizeBytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| missing("uploadSizeBytes"))?;
            sized(bytes.div_ceil(GIB))
        }
        "Attach" => Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "createOption 'Attach' is not supported when creating a {}.",
                kind.noun()
            ),
        )
        .with_target("createOption")),
        _ => sized(requested.unwrap_or(32)),
    }
}

/// The stored body of a new resource: the request's (checked) writable members plus what
/// the source passes on and the service sets.
fn new_body(
    id: ResourceId,
    request: &Value,
    mut writable: Map<String, Value>,
    req: &CreateRequest,
    made: Made,
    now: u64,
) -> ComputeBody {
    let kind = id.kind;
    for (k, v) in made.inherited {
        writable.entry(k).or_insert(v);
    }
    let creation = req.creation.as_object().cloned().unwrap_or_default();
    let mut creation = CreationData::from_request(creation, req.create_option);
    creation.source_unique_id = made.source_unique_id;
    let mut props = Properties::new(creation, made.size_gb, now, writable);
    if kind == Kind::Snapshot {
        props.incremental = Some(made.incremental);
        props.incremental_snapshot_family_id = made.family;
        let instant = req.creation.get("instantAccessDurationMinutes").is_some();
        let access = if instant {
            "AvailableWithInstantAccess"
        } else {
            "Available"
        };
        props
            .extra
            .insert("snapshotAccessState".into(), json!(access));
    }
    let sku = Sku::pick(kind, request.get("sku"), None);
    let mut body = ComputeBody::new(id, &req.location, sku, props);
    body.tags = request_tags(request);
    for extra in ["extendedLocation", "zones"] {
        if let Some(v) = request.get(extra).filter(|v| !v.is_null()) {
            body.extra.insert(extra.into(), v.clone());
        }
    }
    body
}
