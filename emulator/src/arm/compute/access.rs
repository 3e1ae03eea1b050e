//! `POST .../beginGetAccess` and `POST .../endGetAccess`: grant a SAS (diskState
//! `ActiveSAS`, at most 5 per incremental family) or revoke it (`Unattached`), now
//! or as a long-running operation whose result is the `{accessSAS}` document.

use super::validate::{missing, not_allowed};
use super::{existing, idle, start_operation};
use crate::arm::{json_body, method_not_allowed, operations, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::resource::Resource;
use crate::time::{now_ms, rfc3339};
use crate::world::{Key, Kind, OpKind, World};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// At most 5 snapshots of one family may have an active SAS.
const SAS_PER_FAMILY: usize = 5;
const ACCESS_LEVELS: &[&str] = &["None", "Read", "Write"];

/// A beginGetAccess request: the access level and how long the SAS lives.
struct Grant {
    access: String,
    seconds: u64,
}

pub fn action(
    ctx: &Ctx,
    kind: Kind,
    group: &str,
    name: &str,
    action: &str,
    body: &Bytes,
) -> ArmResult<Response> {
    if ctx.method != Method::POST {
        return Err(method_not_allowed(ctx.method));
    }
    let (op_kind, grant) = match action {
        "begingetaccess" => (OpKind::GrantAccess, Some(grant_request(body)?)),
        "endgetaccess" => (OpKind::RevokeAccess, None),
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
    let mut world = ctx.state.world();
    let key = Key::new(kind, group, name);
    let resource = idle(existing(&mut world, &key, group, name)?, name)?;
    let location = resource.location().to_string();
    let (next_state, output) = match grant.filter(|g| !g.access.eq_ignore_ascii_case("None")) {
        Some(grant) => {
            let resource = resource.clone();
            check_family_sas(&world, &resource)?;
            (
                "ActiveSAS",
                Some(json!({ "accessSAS": sas_url(ctx, &resource, &grant) })),
            )
        }
        None => ("Unattached", None),
    };
    let Some(mut op) = operations::plan(ctx, op_kind, Some(key.clone()), &location) else {
        if let Some(r) = world.resources.get_mut(&key) {
            r.props_mut().disk_state = next_state.into();
        }
        world.dirty = true;
        return Ok(match output {
            Some(body) => Json(body).into_response(),
            None => StatusCode::OK.into_response(),
        });
    };
    op.next_disk_state = Some(next_state.to_string());
    op.output = output;
    if let Some(r) = world.resources.get_mut(&key) {
        r.pending_op = Some(op.id.clone());
    }
    Ok(start_operation(ctx, &mut world, op, None))
}

fn grant_request(body: &Bytes) -> ArmResult<Grant> {
    let request = json_body(body)?;
    let access = request
        .get("access")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("access"))?;
    if !ACCESS_LEVELS.iter().any(|a| a.eq_ignore_ascii_case(access)) {
        return Err(not_allowed("access", access, "", ACCESS_LEVELS));
    }
    let seconds = request
        .get("durationInSeconds")
        .and_then(Value::as_u64)
        .ok_or_else(|| missing("durationInSeconds"))?;
    Ok(Grant {
        access: access.to_string(),
        seconds,
    })
}

/// A new SAS on a snapshot of an incremental family needs a free slot of the five.
fn check_family_sas(world: &World, resource: &Resource) -> ArmResult<()> {
    let Some(family) = &resource.props().incremental_snapshot_family_id else {
        return Ok(());
    };
    if resource.has_active_sas() {
        return Ok(());
    }
    let active = world
        .resources
        .values()
        .filter(|r| {
            r.props().incremental_snapshot_family_id.as_ref() == Some(family) && r.has_active_sas()
        })
        .count();
    if active >= SAS_PER_FAMILY {
        return Err(ArmError::conflict(
            "OperationNotAllowed",
            format!("At most {SAS_PER_FAMILY} snapshots of one incremental family can have an active SAS at a time. Call endGetAccess on another first."),
        ));
    }
    Ok(())
}

/// The emulated blob URL a grant hands out.
fn sas_url(ctx: &Ctx, resource: &Resource, grant: &Grant) -> String {
    let expiry = rfc3339(now_ms() + grant.seconds * 1000);
    let perm = if grant.access.eq_ignore_ascii_case("Write") {
        "rw"
    } else {
        "r"
    };
    format!(
        "{}/_emulator/blobs/{}/{}/abcd?sv=2018-03-28&sr=b&si={}&sp={perm}&se={}&sig=emulated",
        ctx.state.config.base_url,
        resource.kind().segment(),
        resource.props().unique_id,
        uuid::Uuid::new_v4(),
        expiry.replace(':', "%3A").replace('+', "%2B")
    )
}
