//! Microsoft.Resources resource groups: PUT (201 new / 200 existing), GET, HEAD (204/404),
//! DELETE (200, or 202 + Location while it deletes the group's contents) and list.

use super::{json_body, operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::rules::{
    check_request_tags, check_resource_group_name, location_required, same_location,
};
use crate::world::{OpKind, ResourceGroup};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

pub fn list(ctx: &Ctx) -> ArmResult<Response> {
    if ctx.method != Method::GET {
        return Err(super::method_not_allowed(ctx.method));
    }
    let world = ctx.state.world();
    let value: Vec<_> = world
        .resource_groups
        .values()
        .map(|g| g.to_json(ctx.sub()))
        .collect();
    Ok(Json(json!({ "value": value })).into_response())
}

pub fn handle(ctx: &Ctx, name: &str, body: &Bytes) -> ArmResult<Response> {
    let lower = name.to_ascii_lowercase();
    match *ctx.method {
        Method::GET => {
            let world = ctx.state.world();
            let group = world
                .resource_groups
                .get(&lower)
                .ok_or_else(|| not_found(name))?;
            Ok(Json(group.to_json(ctx.sub())).into_response())
        }
        Method::HEAD => {
            let world = ctx.state.world();
            Ok(if world.resource_groups.contains_key(&lower) {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::NOT_FOUND
            }
            .into_response())
        }
        Method::PUT => put(ctx, name, body),
        Method::DELETE => delete(ctx, name),
        _ => Err(super::method_not_allowed(ctx.method)),
    }
}

fn being_deleted(group: &ResourceGroup, detail: &str) -> ArmError {
    ArmError::conflict(
        "ResourceGroupBeingDeleted",
        format!("The resource group '{}' {detail}", group.name),
    )
}

/// PUT: 201 for a new group, 200 for an existing one in the same region (tags replaced).
fn put(ctx: &Ctx, name: &str, body: &Bytes) -> ArmResult<Response> {
    let lower = name.to_ascii_lowercase();
    check_resource_group_name(name)?;
    let request = json_body(body)?;
    let location = request["location"]
        .as_str()
        .filter(|l| !l.is_empty())
        .ok_or_else(location_required)?;
    crate::regions::check_for_group(location)?;
    check_request_tags(&request)?;
    let tags = request.get("tags").filter(|t| !t.is_null()).cloned();
    let mut world = ctx.state.world();
    let status = match world.resource_groups.get_mut(&lower) {
        Some(group) => {
            if group.deleting {
                return Err(being_deleted(
                    group,
                    "is in deprovisioning state and cannot perform this operation.",
                ));
            }
            if !same_location(&group.location, location) {
                return Err(ArmError::bad_request(
                    "InvalidResourceGroupLocation",
                    format!(
                        "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                        group.location
                    ),
                ));
            }
            group.tags = tags;
            StatusCode::OK
        }
        None => {
            let group = ResourceGroup {
                name: name.to_string(),
                location: location.to_string(),
                tags,
                deleting: false,
            };
            world.resource_groups.insert(lower.clone(), group);
            StatusCode::CREATED
        }
    };
    world.dirty = true;
    let doc = world.resource_groups[&lower].to_json(ctx.sub());
    Ok((status, Json(doc)).into_response())
}

/// DELETE: the group and everything in it, now (200) or as ARM's long-running delete (202).
fn delete(ctx: &Ctx, name: &str) -> ArmResult<Response> {
    let lower = name.to_ascii_lowercase();
    let location = {
        let world = ctx.state.world();
        let group = world
            .resource_groups
            .get(&lower)
            .ok_or_else(|| not_found(name))?;
        if group.deleting {
            return Err(being_deleted(group, "is already being deleted."));
        }
        group.location.clone()
    };
    let mut world = ctx.state.world();
    match operations::plan(ctx, OpKind::DeleteGroup, None, &location) {
        None => {
            world.remove_group(&lower);
            Ok(StatusCode::OK.into_response())
        }
        Some(mut op) => {
            op.group = Some(name.to_string());
            if let Some(g) = world.resource_groups.get_mut(&lower) {
                g.deleting = true;
            }
            let response = operations::group_accepted(ctx, &op);
            world.add_operation(op);
            Ok(response)
        }
    }
}
