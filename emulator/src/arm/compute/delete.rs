//! DELETE of a disk or snapshot: 204 if it is already gone, 409 while another
//! operation owns it or it has an active SAS (until endGetAccess or the access
//! expires); else 200 now, or 202 while a long-running delete runs (a failed delete
//! restores the prior provisioningState).

use super::{busy, require_group, start_operation};
use crate::arm::{operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::time::now_ms;
use crate::world::{Key, Kind, OpKind};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub fn delete(ctx: &Ctx, kind: Kind, group: &str, name: &str) -> ArmResult<Response> {
    let mut world = ctx.state.world();
    require_group(&world, group)?;
    let key = Key::new(kind, group, name);
    let Some(resource) = world.resources.get(&key) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if resource.pending_op.is_some() {
        return Err(busy(kind, name));
    }
    if resource.has_active_sas(now_ms()) {
        return Err(ArmError::conflict(
            "OperationNotAllowed",
            format!(
                "The {} '{name}' cannot be deleted while it has an active SAS (diskState ActiveSAS). Call endGetAccess first, or retry after the SAS expires.",
                kind.noun()
            ),
        ));
    }
    let prior = resource.props().provisioning_state.clone();
    let location = resource.location().to_string();
    let Some(mut op) = operations::plan(ctx, OpKind::Delete, Some(key.clone()), &location) else {
        world.remove_where(|k| *k == key);
        world.dirty = true;
        return Ok(StatusCode::OK.into_response());
    };
    op.prior_state = Some(prior);
    if let Some(r) = world.resources.get_mut(&key) {
        r.set_state("Deleting");
        r.pending_op = Some(op.id.clone());
    }
    Ok(start_operation(ctx, &mut world, op, None))
}
