//! Microsoft.Compute disks and snapshots: PUT (upsert with immutable create-time
//! properties), GET, PATCH, DELETE, list by group and subscription, and
//! beginGetAccess/endGetAccess, with DiskRP's rules (sources, sizes, incremental
//! families and limits, CopyStart progress, one operation at a time per resource).

use super::{json_body, operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::rules::{
    canonical_sku, check_duplicate_tag_names, check_resource_name, check_tags, normalize_location,
    sku_tier, DISK_SKUS, SNAPSHOT_SKUS,
};
use crate::time::{now_ms, rfc3339};
use crate::world::{CopyProgress, Key, Kind, OpKind, Resource, World};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

const GIB: u64 = 1 << 30;
/// Incremental snapshots per disk: 7 per 5 minutes, 500 in all.
const INCREMENTAL_BURST: usize = 7;
const INCREMENTAL_WINDOW_MS: u64 = 5 * 60 * 1000;
const INCREMENTAL_TOTAL: usize = 500;
/// At most 5 snapshots of one family may have an active SAS.
const SAS_PER_FAMILY: usize = 5;

/// Properties only the service sets; values sent by clients are ignored.
const READ_ONLY_PROPS: &[&str] = &[
    "timeCreated",
    "diskSizeBytes",
    "uniqueId",
    "provisioningState",
    "diskState",
    "incrementalSnapshotFamilyId",
    "snapshotAccessState",
    "completionPercent",
    "copyCompletionError",
    "managedByExtended",
    "shareInfo",
    "propertyUpdatesInProgress",
    "LastOwnershipUpdateTime",
    "lastOwnershipUpdateTime",
];

/// Create-time properties: present in a PUT on an existing resource, they must not change.
const CREATE_ONLY_PROPS: &[&str] = &[
    "incremental",
    "hyperVGeneration",
    "purchasePlan",
    "securityProfile",
];

const SNAPSHOT_PATCHABLE: &[&str] = &[
    "osType",
    "diskSizeGB",
    "encryptionSettingsCollection",
    "encryption",
    "networkAccessPolicy",
    "diskAccessId",
    "supportsHibernation",
    "publicNetworkAccess",
    "dataAccessAuthMode",
    "supportedCapabilities",
];

const DISK_PATCHABLE: &[&str] = &[
    "osType",
    "diskSizeGB",
    "encryptionSettingsCollection",
    "diskIOPSReadWrite",
    "diskMBpsReadWrite",
    "diskIOPSReadOnly",
    "diskMBpsReadOnly",
    "maxShares",
    "encryption",
    "networkAccessPolicy",
    "diskAccessId",
    "tier",
    "burstingEnabled",
    "purchasePlan",
    "supportedCapabilities",
    "supportsHibernation",
    "publicNetworkAccess",
    "dataAccessAuthMode",
    "optimizedForFrequentAttach",
    "availabilityPolicy",
];

const CREATE_OPTIONS: &[&str] = &[
    "Empty",
    "Attach",
    "FromImage",
    "Import",
    "Copy",
    "Restore",
    "Upload",
    "CopyStart",
    "ImportSecure",
    "UploadPreparedSecure",
    "CopyFromSanSnapshot",
];

pub fn resource_id(sub: &str, group: &str, kind: Kind, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{group}/providers/{}/{name}",
        kind.type_name()
    )
}

pub fn not_found(kind: Kind, group: &str, name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource '{}/{name}' under resource group '{group}' was not found. \
             For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            kind.type_name()
        ),
    )
}

fn busy(kind: Kind, name: &str) -> ArmError {
    ArmError::conflict(
        "AnotherOperationInProgress",
        format!(
            "Another operation is in progress on {} '{name}'. Retry after the operation completes.",
            kind.noun()
        ),
    )
}

fn invalid_content(message: impl Into<String>) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!(
            "The request content was invalid and could not be deserialized: {}",
            message.into()
        ),
    )
}

fn missing(param: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidParameter",
        format!("Required parameter '{param}' is missing (null)."),
    )
    .with_target(param)
}

/// The group must exist (and not be deleting) before anything in it can be written.
fn require_group(world: &World, group: &str) -> ArmResult<()> {
    match world.group(group) {
        None => Err(super::groups::not_found(group)),
        Some(_) => Ok(()),
    }
}

pub fn list(ctx: &Ctx, kind: Kind, group: Option<&str>) -> ArmResult<Response> {
    if ctx.method != Method::GET {
        return Err(super::method_not_allowed(ctx.method));
    }
    let world = ctx.state.world();
    if let Some(g) = group {
        require_group(&world, g)?;
    }
    let now = now_ms();
    let lower = group.map(str::to_ascii_lowercase);
    // Pages of `--list-page-size` in key order; `$skiptoken` is the offset of the next page.
    let page = ctx.state.config.list_page_size.max(1);
    let skip: usize = super::query_param(ctx.uri, "$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let mut matching = world
        .resources
        .iter()
        .filter(|(k, _)| k.0 == kind && lower.as_ref().is_none_or(|g| &k.1 == g))
        .skip(skip);
    let value: Vec<Value> = matching
        .by_ref()
        .take(page)
        .map(|(_, r)| r.render(now))
        .collect();
    let mut doc = json!({ "value": value });
    if matching.next().is_some() {
        doc["nextLink"] = json!(format!(
            "{}{}?api-version={}&$skiptoken={}",
            ctx.state.config.base_url,
            ctx.uri.path(),
            ctx.api,
            skip + page
        ));
    }
    Ok(Json(doc).into_response())
}

pub fn handle(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    match *ctx.method {
        Method::GET => {
            let world = ctx.state.world();
            require_group(&world, group)?;
            let r = world
                .resources
                .get(&Key::new(kind, group, name))
                .ok_or_else(|| not_found(kind, group, name))?;
            Ok(Json(r.render(now_ms())).into_response())
        }
        Method::PUT => put(ctx, kind, group, name, body),
        Method::PATCH => patch(ctx, kind, group, name, body),
        Method::DELETE => delete(ctx, kind, group, name),
        _ => Err(super::method_not_allowed(ctx.method)),
    }
}

/// Respond to a mutation: 200 now, or register `op` and answer 202.
fn finish_mutation(
    ctx: &Ctx,
    world: &mut World,
    key: &Key,
    op: Option<crate::world::Operation>,
    with_body: bool,
) -> Response {
    let now = now_ms();
    match op {
        None => {
            if let Some(r) = world.resources.get_mut(key) {
                r.set_state("Succeeded");
            }
            world.dirty = true;
            let body = world.resources.get(key).map(|r| r.render(now));
            match body {
                Some(b) if with_body => Json(b).into_response(),
                _ => StatusCode::OK.into_response(),
            }
        }
        Some(op) => {
            if let Some(r) = world.resources.get_mut(key) {
                r.set_state("Updating");
                r.pending_op = Some(op.id.clone());
            }
            let body = world
                .resources
                .get(key)
                .map(|r| r.render(now))
                .filter(|_| with_body);
            let response = operations::accepted(ctx, &op, body);
            world.add_operation(op);
            response
        }
    }
}

fn check_top_level(kind: Kind, request: &Value) -> ArmResult<()> {
    if !request.is_object() {
        return Err(invalid_content("the body must be a JSON object."));
    }
    check_tags(request.get("tags"))?;
    check_duplicate_tag_names(request.get("tags").and_then(Value::as_object))?;
    if let Some(sku) = request.get("sku").filter(|s| !s.is_null()) {
        let name = sku
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_content("'sku.name' must be a string."))?;
        let allowed = if kind == Kind::Disk {
            DISK_SKUS
        } else {
            SNAPSHOT_SKUS
        };
        if canonical_sku(allowed, name).is_none() {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!(
                    "The value '{name}' of parameter 'sku.name' is not allowed for {}s. Allowed values are {}.",
                    kind.noun(),
                    allowed.join(", ")
                ),
            )
            .with_target("sku.name"));
        }
    }
    if let Some(props) = request.get("properties").filter(|p| !p.is_null()) {
        if !props.is_object() {
            return Err(invalid_content("'properties' must be an object."));
        }
        if let Some(v) = props.get("incremental").filter(|v| !v.is_null()) {
            if !v.is_boolean() {
                return Err(invalid_content(format!(
                    "could not convert {v} to a boolean. Path 'properties.incremental'."
                )));
            }
        }
        if let Some(v) = props.get("diskSizeGB").filter(|v| !v.is_null()) {
            if v.as_u64().is_none() {
                return Err(invalid_content(format!(
                    "could not convert {v} to an integer. Path 'properties.diskSizeGB'."
                )));
            }
        }
    }
    Ok(())
}

fn sku_json(kind: Kind, requested: Option<&Value>, fallback: Option<&Value>) -> Value {
    let allowed = if kind == Kind::Disk {
        DISK_SKUS
    } else {
        SNAPSHOT_SKUS
    };
    let name = requested
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .and_then(|n| canonical_sku(allowed, n))
        .or_else(|| {
            fallback
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .and_then(|n| canonical_sku(allowed, n))
        })
        .unwrap_or("Standard_LRS");
    json!({"name": name, "tier": sku_tier(name)})
}

/// `(kind, group, name)` of an ARM id, with or without the leading `/` (Microsoft's examples use both).
fn parse_source_id(id: &str) -> Option<(Kind, String, String, String)> {
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() != 8
        || !segs[0].eq_ignore_ascii_case("subscriptions")
        || !segs[2].eq_ignore_ascii_case("resourceGroups")
        || !segs[4].eq_ignore_ascii_case("providers")
        || !segs[5].eq_ignore_ascii_case("Microsoft.Compute")
    {
        return None;
    }
    Some((
        Kind::from_segment(segs[6])?,
        segs[1].to_string(),
        segs[3].to_string(),
        segs[7].to_string(),
    ))
}

fn same_id(a: &str, b: &str) -> bool {
    a.trim_start_matches('/')
        .eq_ignore_ascii_case(b.trim_start_matches('/'))
}

/// Strip what clients may not set, leaving the writable properties of a request.
fn writable_props(request: &Value) -> Map<String, Value> {
    let mut props = request
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for p in READ_ONLY_PROPS {
        props.remove(*p);
    }
    if let Some(cd) = props.get_mut("creationData").and_then(Value::as_object_mut) {
        cd.remove("sourceUniqueId");
    }
    props
}

fn put(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    check_resource_name(kind.noun(), name)?;
    let request = json_body(body)?;
    check_top_level(kind, &request)?;
    let location = match request.get("location") {
        Some(Value::String(l)) if !l.is_empty() => l.clone(),
        Some(Value::Null) | None => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ))
        }
        Some(_) => return Err(invalid_content("'location' must be a string.")),
    };
    let props = request
        .get("properties")
        .filter(|p| p.is_object())
        .ok_or_else(|| missing("properties"))?;
    let creation = props
        .get("creationData")
        .filter(|c| c.is_object())
        .ok_or_else(|| missing("creationData"))?;
    let create_option = creation
        .get("createOption")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("createOption"))?;
    let Some(create_option) = CREATE_OPTIONS
        .iter()
        .copied()
        .find(|o| o.eq_ignore_ascii_case(create_option))
    else {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The value '{create_option}' of parameter 'createOption' is not allowed. Allowed values are {}.",
                CREATE_OPTIONS.join(", ")
            ),
        )
        .with_target("createOption"));
    };
    let mut world = ctx.state.world();
    require_group(&world, group)?;
    let key = Key::new(kind, group, name);
    if world.resources.contains_key(&key) {
        return update_existing(ctx, &mut world, key, &request, &location);
    }
    let now = now_ms();
    let cfg = &ctx.state.config;
    let requested_size = props.get("diskSizeGB").and_then(Value::as_u64);
    let incremental_req = props
        .get("incremental")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut writable = writable_props(&request);
    let mut source_unique: Option<String> = None;
    let mut family: Option<String> = None;
    let mut copy: Option<CopyProgress> = None;
    let mut incremental = kind == Kind::Snapshot && incremental_req;
    let size = match create_option {
        "Empty" => requested_size
            .filter(|s| *s > 0)
            .ok_or_else(|| missing("diskSizeGB"))?,
        // Restore reads a disk restore point (not emulated): only its presence is checked.
        "Restore"
            if creation
                .get("sourceResourceId")
                .and_then(Value::as_str)
                .is_some_and(|id| parse_source_id(id).is_none()) =>
        {
            requested_size.unwrap_or(32)
        }
        "Copy" | "CopyStart" | "Restore" => {
            let source_id = creation
                .get("sourceResourceId")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("sourceResourceId"))?;
            let (source_kind, source_sub, source_group, source_name) = parse_source_id(source_id).ok_or_else(|| {
                ArmError::bad_request(
                    "InvalidParameter",
                    format!("The value '{source_id}' of parameter 'sourceResourceId' is not a valid disk or snapshot resource id."),
                )
                .with_target("sourceResourceId")
            })?;
            let source_key = Key::new(source_kind, &source_group, &source_name);
            let source = world
                .resources
                .get(&source_key)
                .filter(|_| source_sub.eq_ignore_ascii_case(&cfg.subscription_id))
                .ok_or_else(|| {
                    ArmError::not_found(
                        "NotFound",
                        format!("The source resource '{source_id}' was not found."),
                    )
                    .with_target("sourceResourceId")
                })?;
            if source.pending_op.is_some()
                && source.props()["provisioningState"] == "Updating"
                && source.copy.is_none()
            {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("The source {} '{source_name}' is still being provisioned. Retry after it succeeds.", source_kind.noun()),
                ));
            }
            source_unique = source.unique_id();
            let source_size = source.size_gb();
            let source_family = match source_kind {
                Kind::Disk => source.family_id.clone(),
                Kind::Snapshot => source.props()["incrementalSnapshotFamilyId"]
                    .as_str()
                    .map(str::to_string),
            };
            let source_incremental = source.is_incremental();
            let source_location = source.location();
            let source_copying = source
                .copy
                .as_ref()
                .is_some_and(|c| now < c.end_ms && c.error.is_none());
            for inherited in [
                "osType",
                "hyperVGeneration",
                "supportedCapabilities",
                "supportsHibernation",
                "purchasePlan",
            ] {
                if !writable.contains_key(inherited) {
                    if let Some(v) = source.props().get(inherited) {
                        writable.insert(inherited.into(), v.clone());
                    }
                }
            }
            if source_copying {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("The source snapshot '{source_name}' is still being copied (completionPercent < 100). Retry after the copy completes."),
                ));
            }
            if create_option == "CopyStart" {
                if source_kind != Kind::Snapshot || !source_incremental {
                    return Err(ArmError::conflict(
                        "OperationNotAllowed",
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
                let fam = source_family.clone().unwrap_or_default();
                if let Some(other) = world.copy_in_progress(&fam, &location, now) {
                    return Err(ArmError::conflict(
                        "OperationNotAllowed",
                        format!(
                            "Another copy of this snapshot family to '{location}' is in progress ('{}'). Copies of one disk's snapshots run one at a time, in order.",
                            other.body["name"].as_str().unwrap_or_default()
                        ),
                    ));
                }
                let _ = source_location;
                incremental = true;
                copy = Some(CopyProgress {
                    start_ms: now,
                    end_ms: now + cfg.copy_duration_ms(),
                    family_id: fam,
                    location: location.clone(),
                    source: Some(source_key.clone()),
                    error: None,
                    stopped_percent: None,
                });
            }
            if kind == Kind::Snapshot && incremental {
                let fam = match source_kind {
                    Kind::Disk => {
                        let fam = source_family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                        let of_family: Vec<&Resource> = world
                            .resources
                            .values()
                            .filter(|r| {
                                r.kind == Kind::Snapshot
                                    && r.is_incremental()
                                    && source_unique.is_some()
                                    && r.props()["creationData"]["sourceUniqueId"].as_str()
                                        == source_unique.as_deref()
                            })
                            .collect();
                        if of_family.len() >= INCREMENTAL_TOTAL {
                            return Err(ArmError::conflict(
                                "OperationNotAllowed",
                                format!("Disk '{source_name}' already has {INCREMENTAL_TOTAL} incremental snapshots, the maximum. Delete old ones first."),
                            ));
                        }
                        let recent = of_family
                            .iter()
                            .filter(|r| r.created_ms + INCREMENTAL_WINDOW_MS > now)
                            .count();
                        if recent >= INCREMENTAL_BURST {
                            return Err(ArmError::conflict(
                                "OperationNotAllowed",
                                format!("At most {INCREMENTAL_BURST} incremental snapshots of disk '{source_name}' can be created per 5 minutes. Retry later."),
                            ));
                        }
                        if let Some(d) = world.resources.get_mut(&source_key) {
                            d.family_id = Some(fam.clone());
                        }
                        fam
                    }
                    Kind::Snapshot if source_incremental => source_family.unwrap_or_default(),
                    Kind::Snapshot => {
                        return Err(ArmError::bad_request(
                            "InvalidParameter",
                            "An incremental snapshot can be created only from a managed disk or from another incremental snapshot.",
                        )
                        .with_target("incremental"));
                    }
                };
                family = Some(fam);
            }
            match (kind, requested_size) {
                (Kind::Disk, Some(s)) if s < source_size => {
                    return Err(ArmError::bad_request(
                        "InvalidParameter",
                        format!(
                            "The specified disk size {s} GB is smaller than the size of the source {} ({source_size} GB). Disk size can only be the source's size or larger.",
                            source_kind.noun()
                        ),
                    )
                    .with_target("diskSizeGB"));
                }
                (Kind::Disk, Some(s)) => s,
                _ => source_size,
            }
        }
        "Import" | "ImportSecure" => {
            creation
                .get("sourceUri")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("sourceUri"))?;
            requested_size.unwrap_or(32)
        }
        "CopyFromSanSnapshot" => {
            creation
                .get("elasticSanResourceId")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("elasticSanResourceId"))?;
            requested_size.unwrap_or(32)
        }
        "FromImage" => {
            if creation.get("imageReference").is_none()
                && creation.get("galleryImageReference").is_none()
            {
                return Err(missing("imageReference"));
            }
            requested_size.unwrap_or(30)
        }
        "Upload" | "UploadPreparedSecure" => {
            let bytes = creation
                .get("uploadSizeBytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| missing("uploadSizeBytes"))?;
            bytes.div_ceil(GIB)
        }
        "Attach" => {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!(
                    "createOption 'Attach' is not supported when creating a {}.",
                    kind.noun()
                ),
            )
            .with_target("createOption"))
        }
        _ => requested_size.unwrap_or(32),
    };
    let mut creation_data = creation.as_object().cloned().unwrap_or_default();
    creation_data.remove("sourceUniqueId");
    creation_data.insert("createOption".into(), json!(create_option));
    if let Some(u) = &source_unique {
        creation_data.insert("sourceUniqueId".into(), json!(u));
    }
    writable.insert("creationData".into(), Value::Object(creation_data));
    writable.insert("diskSizeGB".into(), json!(size));
    writable.insert("diskSizeBytes".into(), json!(size * GIB));
    writable.insert("uniqueId".into(), json!(uuid::Uuid::new_v4().to_string()));
    writable.insert("timeCreated".into(), json!(rfc3339(now)));
    writable.insert("provisioningState".into(), json!("Updating"));
    writable.insert("diskState".into(), json!("Unattached"));
    writable
        .entry("networkAccessPolicy")
        .or_insert(json!("AllowAll"));
    writable
        .entry("publicNetworkAccess")
        .or_insert(json!("Enabled"));
    writable
        .entry("encryption")
        .or_insert(json!({"type": "EncryptionAtRestWithPlatformKey"}));
    if kind == Kind::Snapshot {
        writable.insert("incremental".into(), json!(incremental));
        if let Some(f) = &family {
            writable.insert("incrementalSnapshotFamilyId".into(), json!(f));
        }
        let instant = creation.get("instantAccessDurationMinutes").is_some();
        writable.insert(
            "snapshotAccessState".into(),
            json!(if instant {
                "AvailableWithInstantAccess"
            } else {
                "Available"
            }),
        );
    } else {
        writable.remove("incremental");
    }
    let mut resource_body = json!({
        "id": resource_id(&cfg.subscription_id, group, kind, name),
        "name": name,
        "type": kind.type_name(),
        "location": location,
        "sku": sku_json(kind, request.get("sku"), None),
        "properties": Value::Object(writable),
    });
    if let Some(tags) = request.get("tags").filter(|t| !t.is_null()) {
        resource_body["tags"] = tags.clone();
    }
    for extra in ["extendedLocation", "zones"] {
        if let Some(v) = request.get(extra).filter(|v| !v.is_null()) {
            resource_body[extra] = v.clone();
        }
    }
    world.resources.insert(
        key.clone(),
        Resource {
            kind,
            body: resource_body,
            pending_op: None,
            family_id: None,
            copy,
            created_ms: now,
        },
    );
    let op = operations::plan(ctx, OpKind::Put, Some(key.clone()), &location);
    Ok(finish_mutation(ctx, &mut world, &key, op, true))
}

fn change_not_allowed(kind: Kind, name: &str, property: &str) -> ArmError {
    ArmError::bad_request(
        "PropertyChangeNotAllowed",
        format!(
            "Changing property '{property}' is not allowed for existing {} '{name}'.",
            kind.noun()
        ),
    )
    .with_target(property)
}

fn values_differ(property: &str, old: &Value, new: &Value) -> bool {
    match (old.as_str(), new.as_str()) {
        (Some(a), Some(b)) if property.ends_with("Id") || property == "sourceUri" => !same_id(a, b),
        (Some(a), Some(b)) if property == "createOption" => !a.eq_ignore_ascii_case(b),
        _ => old != new,
    }
}

fn check_grow_only(kind: Kind, current: u64, requested: Option<u64>) -> ArmResult<()> {
    match requested {
        Some(s) if s < current => Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The {} size can only be increased: requested {s} GB, current {current} GB.",
                kind.noun()
            ),
        )
        .with_target("diskSizeGB")),
        _ => Ok(()),
    }
}

/// A PUT on an existing name: an upsert that may change only what PATCH could.
fn update_existing(
    ctx: &Ctx,
    world: &mut World,
    key: Key,
    request: &Value,
    location: &str,
) -> ArmResult<Response> {
    let kind = key.0;
    let existing = world
        .resources
        .get(&key)
        .ok_or_else(|| ArmError::bad_request("NotFound", "vanished"))?;
    let name = existing.body["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if existing.pending_op.is_some() {
        return Err(busy(kind, &name));
    }
    let old_location = existing.location();
    if normalize_location(&old_location) != normalize_location(location) {
        return Err(ArmError::bad_request(
            "InvalidResourceLocation",
            format!(
                "The resource '{name}' already exists in location '{old_location}' in resource group '{}'. \
                 A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
                key.1
            ),
        ));
    }
    let req_props = &request["properties"];
    let old_props = existing.props().clone();
    if let Some(cd) = req_props["creationData"].as_object() {
        let old_cd = old_props["creationData"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (k, v) in cd {
            if k == "sourceUniqueId" {
                continue;
            }
            let old = old_cd.get(k).unwrap_or(&Value::Null);
            if values_differ(k, old, v) {
                return Err(change_not_allowed(kind, &name, k));
            }
        }
        for k in [
            "sourceResourceId",
            "sourceUri",
            "storageAccountId",
            "elasticSanResourceId",
        ] {
            if old_cd.contains_key(k) && !cd.contains_key(k) {
                return Err(change_not_allowed(kind, &name, k));
            }
        }
    }
    for p in CREATE_ONLY_PROPS {
        if let Some(v) = req_props.get(*p).filter(|v| !v.is_null()) {
            let old = old_props
                .get(*p)
                .cloned()
                .unwrap_or(if *p == "incremental" {
                    json!(false)
                } else {
                    Value::Null
                });
            if &old != v {
                return Err(change_not_allowed(kind, &name, p));
            }
        }
    }
    let current_size = existing.size_gb();
    let requested_size = req_props.get("diskSizeGB").and_then(Value::as_u64);
    check_grow_only(kind, current_size, requested_size)?;
    let mut writable = writable_props(request);
    writable.remove("creationData");
    for p in CREATE_ONLY_PROPS {
        writable.remove(*p);
    }
    let new_size = requested_size.unwrap_or(current_size);
    let resource = world
        .resources
        .get_mut(&key)
        .ok_or_else(|| ArmError::bad_request("NotFound", "vanished"))?;
    let props = resource.props_mut();
    if let Some(obj) = props.as_object_mut() {
        for (k, v) in writable {
            obj.insert(k, v);
        }
        obj.insert("diskSizeGB".into(), json!(new_size));
        obj.insert("diskSizeBytes".into(), json!(new_size * GIB));
    }
    let old_sku = resource.body.get("sku").cloned();
    resource.body["sku"] = sku_json(kind, request.get("sku"), old_sku.as_ref());
    match request.get("tags").filter(|t| !t.is_null()) {
        Some(tags) => resource.body["tags"] = tags.clone(),
        None => {
            if let Some(obj) = resource.body.as_object_mut() {
                obj.remove("tags");
            }
        }
    }
    let op = operations::plan(ctx, OpKind::Put, Some(key.clone()), location);
    Ok(finish_mutation(ctx, world, &key, op, true))
}

fn patch(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    let request = json_body(body)?;
    check_top_level(kind, &request)?;
    let allowed = if kind == Kind::Disk {
        DISK_PATCHABLE
    } else {
        SNAPSHOT_PATCHABLE
    };
    let type_name = if kind == Kind::Disk {
        "DiskUpdateProperties"
    } else {
        "SnapshotUpdateProperties"
    };
    if let Some(props) = request.get("properties").and_then(Value::as_object) {
        if let Some(bad) = props.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid_content(format!(
                "Could not find member '{bad}' on object of type '{type_name}'. Path 'properties.{bad}'."
            )));
        }
    }
    let mut world = ctx.state.world();
    require_group(&world, group)?;
    let key = Key::new(kind, group, name);
    let resource = world
        .resources
        .get_mut(&key)
        .ok_or_else(|| not_found(kind, group, name))?;
    if resource.pending_op.is_some() {
        return Err(busy(kind, name));
    }
    let current_size = resource.size_gb();
    let requested_size = request["properties"]
        .get("diskSizeGB")
        .and_then(Value::as_u64);
    check_grow_only(kind, current_size, requested_size)?;
    if let Some(props) = request.get("properties").and_then(Value::as_object) {
        if let Some(obj) = resource.props_mut().as_object_mut() {
            for (k, v) in props {
                obj.insert(k.clone(), v.clone());
            }
            let size = requested_size.unwrap_or(current_size);
            obj.insert("diskSizeBytes".into(), json!(size * GIB));
        }
    }
    if let Some(sku) = request.get("sku").filter(|s| !s.is_null()) {
        let old = resource.body.get("sku").cloned();
        resource.body["sku"] = sku_json(kind, Some(sku), old.as_ref());
    }
    if let Some(tags) = request.get("tags") {
        if tags.is_null() || tags.as_object().is_some_and(|t| t.is_empty()) {
            if let Some(obj) = resource.body.as_object_mut() {
                obj.remove("tags");
            }
        } else {
            resource.body["tags"] = tags.clone();
        }
    }
    let location = resource.location();
    let op = operations::plan(ctx, OpKind::Patch, Some(key.clone()), &location);
    Ok(finish_mutation(ctx, &mut world, &key, op, true))
}

fn delete(ctx: &Ctx, kind: Kind, group: &str, name: &str) -> ArmResult<Response> {
    let mut world = ctx.state.world();
    require_group(&world, group)?;
    let key = Key::new(kind, group, name);
    let Some(resource) = world.resources.get(&key) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if resource.pending_op.is_some() {
        return Err(busy(kind, name));
    }
    if resource.props()["diskState"] == "ActiveSAS" {
        return Err(ArmError::conflict(
            "OperationNotAllowed",
            format!(
                "The {} '{name}' cannot be deleted while it has an active SAS (diskState ActiveSAS). Call endGetAccess first.",
                kind.noun()
            ),
        ));
    }
    let location = resource.location();
    let prior = resource.props()["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
        .to_string();
    match operations::plan(ctx, OpKind::Delete, Some(key.clone()), &location) {
        None => {
            world.remove_where(|k| *k == key);
            world.dirty = true;
            Ok(StatusCode::OK.into_response())
        }
        Some(mut op) => {
            op.prior_state = Some(prior);
            if let Some(r) = world.resources.get_mut(&key) {
                r.set_state("Deleting");
                r.pending_op = Some(op.id.clone());
            }
            let response = operations::accepted(ctx, &op, None);
            world.add_operation(op);
            Ok(response)
        }
    }
}

/// `POST .../beginGetAccess` and `POST .../endGetAccess`.
pub fn action(
    ctx: &Ctx,
    kind: Kind,
    group: &str,
    name: &str,
    action: &str,
    body: &Bytes,
) -> ArmResult<Response> {
    if ctx.method != Method::POST {
        return Err(super::method_not_allowed(ctx.method));
    }
    let grant = match action {
        "begingetaccess" => true,
        "endgetaccess" => false,
        _ => {
            return Err(ArmError::not_found(
                "InvalidResourceType",
                format!(
                    "The action '{action}' is not supported on {}s.",
                    kind.noun()
                ),
            ))
        }
    };
    let mut access_sas = None;
    if grant {
        let request = json_body(body)?;
        let access = request
            .get("access")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("access"))?;
        if !["None", "Read", "Write"]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(access))
        {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!("The value '{access}' of parameter 'access' is not allowed. Allowed values are None, Read, Write."),
            )
            .with_target("access"));
        }
        let seconds = request
            .get("durationInSeconds")
            .and_then(Value::as_u64)
            .ok_or_else(|| missing("durationInSeconds"))?;
        access_sas = Some((access.to_string(), seconds));
    }
    let mut world = ctx.state.world();
    require_group(&world, group)?;
    let key = Key::new(kind, group, name);
    let resource = world
        .resources
        .get(&key)
        .ok_or_else(|| not_found(kind, group, name))?;
    if resource.pending_op.is_some() {
        return Err(busy(kind, name));
    }
    let location = resource.location();
    let unique = resource.unique_id().unwrap_or_default();
    let family = resource.props()["incrementalSnapshotFamilyId"]
        .as_str()
        .map(str::to_string);
    let already_active = resource.props()["diskState"] == "ActiveSAS";
    let (next_state, output) = match access_sas {
        Some((access, seconds)) if !access.eq_ignore_ascii_case("None") => {
            if let (Some(fam), false) = (&family, already_active) {
                let active = world
                    .resources
                    .values()
                    .filter(|r| {
                        r.props()["incrementalSnapshotFamilyId"].as_str() == Some(fam.as_str())
                            && r.props()["diskState"] == "ActiveSAS"
                    })
                    .count();
                if active >= SAS_PER_FAMILY {
                    return Err(ArmError::conflict(
                        "OperationNotAllowed",
                        format!("At most {SAS_PER_FAMILY} snapshots of one incremental family can have an active SAS at a time. Call endGetAccess on another first."),
                    ));
                }
            }
            let expiry = rfc3339(now_ms() + seconds * 1000);
            let perm = if access.eq_ignore_ascii_case("Write") {
                "rw"
            } else {
                "r"
            };
            let sas = format!(
                "{}/_emulator/blobs/{}/{unique}/abcd?sv=2018-03-28&sr=b&si={}&sp={perm}&se={}&sig=emulated",
                ctx.state.config.base_url,
                kind.segment(),
                uuid::Uuid::new_v4(),
                expiry.replace(':', "%3A").replace('+', "%2B")
            );
            ("ActiveSAS", Some(json!({ "accessSAS": sas })))
        }
        _ => ("Unattached", None),
    };
    match operations::plan(
        ctx,
        if grant {
            OpKind::GrantAccess
        } else {
            OpKind::RevokeAccess
        },
        Some(key.clone()),
        &location,
    ) {
        None => {
            if let Some(r) = world.resources.get_mut(&key) {
                r.props_mut()["diskState"] = json!(next_state);
            }
            world.dirty = true;
            Ok(match output {
                Some(body) => Json(body).into_response(),
                None => StatusCode::OK.into_response(),
            })
        }
        Some(mut op) => {
            op.next_disk_state = Some(next_state.to_string());
            op.output = output;
            if let Some(r) = world.resources.get_mut(&key) {
                r.pending_op = Some(op.id.clone());
            }
            let response = operations::accepted(ctx, &op, None);
            world.add_operation(op);
            Ok(response)
        }
    }
}
