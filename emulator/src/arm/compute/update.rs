//! Changing an existing disk or snapshot: PATCH (only the members of
//! Disk/SnapshotUpdateProperties; tags replaced, `{}` or null removes them) and a PUT
//! on an existing name (an upsert that may change only what PATCH could: location,
//! creationData and create-time properties must match what was created). Sizes only grow.

use super::validate::{
    check_grow_only, check_patchable, check_top_level, writable_props, CREATE_ONLY_PROPS,
    SOURCE_MEMBERS,
};
use super::{busy, existing, finish_mutation, idle, security};
use crate::arm::id::ResourceId;
use crate::arm::{json_body, operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::resource::{request_tags, Properties, Resource, Sku};
use crate::rules::{check_disk_size, same_location};
use crate::world::{Key, Kind, OpKind, World};
use axum::body::Bytes;
use axum::response::Response;
use serde_json::{json, Map, Value};

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
        (Some(a), Some(b)) if property.ends_with("Id") || property == "sourceUri" => {
            !ResourceId::same(a, b)
        }
        (Some(a), Some(b)) if property == "createOption" => !a.eq_ignore_ascii_case(b),
        _ => old != new,
    }
}

/// A PUT on an existing name: an upsert that may change only what PATCH could.
pub fn put_existing(
    ctx: &Ctx,
    world: &mut World,
    key: Key,
    request: &Value,
    location: &str,
) -> ArmResult<Response> {
    let kind = key.0;
    let resource = world
        .resources
        .get_mut(&key)
        .ok_or_else(|| ArmError::bad_request("NotFound", "vanished"))?;
    if resource.pending_op.is_some() {
        return Err(busy(kind, resource.name()));
    }
    check_same_location(resource, &key.1, location)?;
    check_create_time(resource, &request["properties"])?;
    let requested_size = request["properties"]
        .get("diskSizeGB")
        .and_then(Value::as_u64);
    check_grow_only(kind, resource.size_gb(), requested_size)?;
    let new_size = requested_size.unwrap_or(resource.size_gb());
    let sku = Sku::pick(kind, request.get("sku"), Some(&resource.body.sku));
    check_size_for_sku(resource, &sku, new_size)?;
    let mut writable = writable_props(request);
    writable.remove("creationData");
    for p in CREATE_ONLY_PROPS {
        writable.remove(*p);
    }
    let mut props = merged(resource, writable)?;
    props.set_size(new_size);
    *resource.props_mut() = props;
    resource.body.sku = sku;
    resource.body.tags = request_tags(request);
    let op = operations::plan(ctx, OpKind::Put, Some(key.clone()), location);
    Ok(finish_mutation(ctx, world, &key, op))
}

/// The resource's properties with `changes` applied, if their security properties still
/// hold together (nothing is stored until they do).
fn merged(resource: &Resource, changes: Map<String, Value>) -> ArmResult<Properties> {
    let mut props = resource.props().clone();
    props.merge(changes);
    security::check(resource.name(), &mut props.extra)?;
    security::fill_defaults(&mut props.extra);
    Ok(props)
}

/// A disk's size after a change must fit the SKU it has after that change.
fn check_size_for_sku(resource: &Resource, sku: &Sku, size_gb: u64) -> ArmResult<()> {
    if resource.kind() == Kind::Disk {
        check_disk_size(resource.name(), &sku.name, size_gb)?;
    }
    Ok(())
}

fn check_same_location(resource: &Resource, group: &str, location: &str) -> ArmResult<()> {
    let old = resource.location();
    if same_location(old, location) {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "InvalidResourceLocation",
        format!(
            "The resource '{}' already exists in location '{old}' in resource group '{group}'. \
             A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
            resource.name()
        ),
    ))
}

/// creationData and the create-time properties of a PUT must match what was created.
fn check_create_time(resource: &Resource, req_props: &Value) -> ArmResult<()> {
    let (kind, name) = (resource.kind(), resource.name());
    let old_props = resource.props().to_json();
    if let Some(cd) = req_props["creationData"].as_object() {
        let old_cd = old_props["creationData"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let changed = cd
            .iter()
            .filter(|(k, _)| *k != "sourceUniqueId")
            .find(|(k, v)| values_differ(k, old_cd.get(*k).unwrap_or(&Value::Null), v));
        if let Some((k, _)) = changed {
            return Err(change_not_allowed(kind, name, k));
        }
        if let Some(k) = SOURCE_MEMBERS
            .iter()
            .find(|k| old_cd.contains_key(**k) && !cd.contains_key(**k))
        {
            return Err(change_not_allowed(kind, name, k));
        }
    }
    for p in CREATE_ONLY_PROPS {
        if let Some(v) = req_props.get(*p).filter(|v| !v.is_null()) {
            let default = if *p == "incremental" {
                json!(false)
            } else {
                Value::Null
            };
            if old_props.get(*p).unwrap_or(&default) != v {
                return Err(change_not_allowed(kind, name, p));
            }
        }
    }
    Ok(())
}

pub fn patch(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    let request = json_body(body)?;
    check_top_level(kind, &request)?;
    check_patchable(kind, &request)?;
    let mut world = ctx.state.world();
    let key = Key::new(kind, group, name);
    let resource = idle(existing(&mut world, &key, group, name)?, name)?;
    let requested_size = request["properties"]
        .get("diskSizeGB")
        .and_then(Value::as_u64);
    check_grow_only(kind, resource.size_gb(), requested_size)?;
    let sku = match request.get("sku").filter(|s| !s.is_null()) {
        Some(sku) => Sku::pick(kind, Some(sku), Some(&resource.body.sku)),
        None => resource.body.sku.clone(),
    };
    check_size_for_sku(resource, &sku, requested_size.unwrap_or(resource.size_gb()))?;
    if let Some(changes) = request.get("properties").and_then(Value::as_object) {
        *resource.props_mut() = merged(resource, changes.clone())?;
    }
    resource.body.sku = sku;
    if request.get("tags").is_some() {
        resource.body.tags = request_tags(&request).filter(|t| !t.is_empty());
    }
    let location = resource.location().to_string();
    let op = operations::plan(ctx, OpKind::Patch, Some(key.clone()), &location);
    Ok(finish_mutation(ctx, &mut world, &key, op))
}
