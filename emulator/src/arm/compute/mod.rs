//! Microsoft.Compute disks and snapshots with DiskRP's rules: this module dispatches
//! by method and holds what every handler shares (lookups, ARM's not-found and busy
//! errors, answering a mutation now or as a long-running operation). Each job has its
//! own file:
//!
//! | file | job |
//! | --- | --- |
//! | [`validate`] | the rules of a request body |
//! | [`security`] | network access, data access and encryption properties: rules and defaults |
//! | [`create`] | PUT of a new resource: sizes and create options |
//! | [`source`] | creating from a disk or snapshot: incremental families, CopyStart |
//! | [`update`] | PATCH and PUT on an existing resource |
//! | [`delete`] | DELETE |
//! | [`access`] | beginGetAccess / endGetAccess, and the blob their SAS URLs name |
//! | [`mod@list`] | list by group and subscription |
//! | [`tags`] | ARM's tags at a resource's scope (Merge, Delete, Replace) |

pub mod access;
pub mod create;
pub mod delete;
pub mod list;
pub mod security;
pub mod source;
pub mod tags;
pub mod update;
pub mod validate;

pub use access::action;
pub use list::list;

use super::{operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::resource::Resource;
use crate::time::now_ms;
use crate::world::{Key, Kind, Operation, World};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

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

pub fn busy(kind: Kind, name: &str) -> ArmError {
    ArmError::conflict(
        "AnotherOperationInProgress",
        format!(
            "Another operation is in progress on {} '{name}'. Retry after the operation completes.",
            kind.noun()
        ),
    )
}

/// The group must exist before anything in it can be read or written.
pub fn require_group(world: &World, group: &str) -> ArmResult<()> {
    match world.group(group) {
        None => Err(super::groups::not_found(group)),
        Some(_) => Ok(()),
    }
}

/// The resource a handler acts on: its group must exist, and so must it.
pub fn existing<'w>(
    world: &'w mut World,
    key: &Key,
    group: &str,
    name: &str,
) -> ArmResult<&'w mut Resource> {
    require_group(world, group)?;
    world
        .resources
        .get_mut(key)
        .ok_or_else(|| not_found(key.0, group, name))
}

/// `resource`, if no other operation owns it (`name` as the request spelled it).
pub fn idle<'r>(resource: &'r mut Resource, name: &str) -> ArmResult<&'r mut Resource> {
    match resource.pending_op {
        Some(_) => Err(busy(resource.kind(), name)),
        None => Ok(resource),
    }
}

pub fn handle(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    match *ctx.method {
        Method::GET => {
            let mut world = ctx.state.world();
            let r = existing(&mut world, &Key::new(kind, group, name), group, name)?;
            Ok(Json(r.render(now_ms())).into_response())
        }
        Method::PUT => create::put(ctx, kind, group, name, body),
        Method::PATCH => update::patch(ctx, kind, group, name, body),
        Method::DELETE => delete::delete(ctx, kind, group, name),
        _ => Err(super::method_not_allowed(ctx.method)),
    }
}

/// Respond to a mutation: 200 with the resource now, or register `op` and answer 202.
pub fn finish_mutation(ctx: &Ctx, world: &mut World, key: &Key, op: Option<Operation>) -> Response {
    let now = now_ms();
    let Some(op) = op else {
        if let Some(r) = world.resources.get_mut(key) {
            r.set_state("Succeeded");
        }
        world.dirty = true;
        return match world.resources.get(key) {
            Some(r) => Json(r.render(now)).into_response(),
            None => StatusCode::OK.into_response(),
        };
    };
    let body = world.resources.get_mut(key).map(|r| {
        r.set_state("Updating");
        r.pending_op = Some(op.id.clone());
        r.render(now)
    });
    start_operation(ctx, world, op, body)
}

/// Answer 202 for `op` (with `body` if any) and register it.
pub fn start_operation(
    ctx: &Ctx,
    world: &mut World,
    op: Operation,
    body: Option<serde_json::Value>,
) -> Response {
    let response = operations::accepted(ctx, &op, body);
    world.add_operation(op);
    response
}
