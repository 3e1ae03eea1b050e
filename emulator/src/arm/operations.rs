//! Long-running operations as DiskRP and ARM expose them: starting one (the 202 with
//! `Azure-AsyncOperation`, `Location` and `Retry-After`), the DiskRP operation-status
//! resource `.../locations/{loc}/DiskOperations/{id}` (status document, or with
//! `monitor=true` Location semantics: 202 while running, then the final result), and
//! ARM's `.../operationresults/{id}` for resource-group deletes.

use super::Ctx;
use crate::error::{ArmError, ArmResult};
use crate::rules::normalize_location;
use crate::time::{now_ms, rfc3339};
use crate::world::{Key, OpKind, Operation, Outcome, World};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Operation duration in force: the `opDurationMs` fault overrides `--op-duration-ms`.
pub fn op_duration_ms(ctx: &Ctx) -> u64 {
    ctx.state
        .faults()
        .spec
        .op_duration_ms
        .unwrap_or(ctx.state.config.op_duration_ms)
}

/// Decide how a mutation runs: `None` = synchronously (duration 0 and no injected
/// outcome), `Some(op)` = as a long-running operation the caller registers.
pub fn plan(ctx: &Ctx, kind: OpKind, target: Option<Key>, location: &str) -> Option<Operation> {
    let duration = op_duration_ms(ctx);
    let outcome = ctx
        .state
        .faults()
        .take_lro(ctx.method.as_str(), ctx.uri.path());
    if duration == 0 && outcome.is_none() {
        return None;
    }
    let now = now_ms();
    Some(Operation {
        id: uuid::Uuid::new_v4().to_string(),
        kind,
        target,
        group: None,
        location: normalize_location(location),
        start_ms: now,
        end_ms: now + duration,
        outcome: outcome.unwrap_or(Outcome::Succeeded),
        done: false,
        output: None,
        prior_state: None,
        grant: None,
    })
}

/// DiskRP's operation-status URL; with `monitor`, its Location form (`monitor=true`).
fn status_url(ctx: &Ctx, op: &Operation, monitor: bool) -> String {
    format!(
        "{}/subscriptions/{}/providers/Microsoft.Compute/locations/{}/DiskOperations/{}?{}api-version={}",
        ctx.state.config.base_url,
        ctx.sub(),
        op.location,
        op.id,
        if monitor { "monitor=true&" } else { "" },
        ctx.api
    )
}

fn retry_after(ctx: &Ctx, op: &Operation) -> String {
    let remaining = op.end_ms.saturating_sub(now_ms());
    ctx.state
        .config
        .retry_after_secs(remaining.max(1))
        .to_string()
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// The 202 that starts a DiskRP long-running operation (body optional).
pub fn accepted(ctx: &Ctx, op: &Operation, body: Option<Value>) -> Response {
    let mut response = match body {
        Some(b) => (StatusCode::ACCEPTED, Json(b)).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    };
    let headers = response.headers_mut();
    insert(headers, "azure-asyncoperation", &status_url(ctx, op, false));
    insert(headers, "location", &status_url(ctx, op, true));
    insert(headers, "retry-after", &retry_after(ctx, op));
    response
}

fn error_of(outcome: &Outcome) -> Option<ArmError> {
    match outcome {
        Outcome::Succeeded => None,
        Outcome::Failed { code, message } | Outcome::Canceled { code, message } => {
            Some(ArmError::bad_request(code, message.clone()))
        }
    }
}

/// `GET .../locations/{loc}/DiskOperations/{id}` (status) or with `monitor=true` (result).
pub fn disk_operation(ctx: &Ctx, _location: &str, id: &str) -> ArmResult<Response> {
    if ctx.method != axum::http::Method::GET {
        return Err(super::method_not_allowed(ctx.method));
    }
    let world = ctx.state.world();
    let op = world.operations.get(id).ok_or_else(|| {
        ArmError::not_found(
            "NotFound",
            format!(
                "The operation '{id}' was not found. Finished operations are kept for 15 minutes."
            ),
        )
    })?;
    let monitor =
        super::query_param(ctx.uri, "monitor").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if monitor {
        return Ok(monitor_response(ctx, &world, op));
    }
    let mut doc = json!({
        "name": op.id,
        "startTime": rfc3339(op.start_ms),
        "status": if op.done { op.outcome.status() } else { "InProgress" },
    });
    if op.done {
        doc["endTime"] = json!(rfc3339(op.end_ms));
        if let Some(err) = error_of(&op.outcome) {
            doc["error"] = err.body()["error"].clone();
        } else if let Some(output) = result_body(&world, op) {
            doc["properties"] = json!({"output": output});
        }
    }
    let mut response = Json(doc).into_response();
    if !op.done {
        insert(response.headers_mut(), "retry-after", &retry_after(ctx, op));
    }
    Ok(response)
}

/// What a successful operation produces: the resource (PUT/PATCH) or the grant document.
fn result_body(world: &World, op: &Operation) -> Option<Value> {
    match op.kind {
        OpKind::Put | OpKind::Patch => {
            let key = op.target.as_ref()?;
            world.resources.get(key).map(|r| r.render(now_ms()))
        }
        OpKind::GrantAccess => op.output.clone(),
        _ => None,
    }
}

fn monitor_response(ctx: &Ctx, world: &World, op: &Operation) -> Response {
    if !op.done {
        return running(ctx, op, &status_url(ctx, op, true));
    }
    if let Some(err) = error_of(&op.outcome) {
        return err.into_response();
    }
    match result_body(world, op) {
        Some(body) => Json(body).into_response(),
        None if op.kind == OpKind::Delete => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// `GET /subscriptions/{s}/operationresults/{id}`: ARM's resource-group delete monitor.
pub fn group_operation(ctx: &Ctx, id: &str) -> ArmResult<Response> {
    let world = ctx.state.world();
    let op = world
        .operations
        .get(id)
        .filter(|o| o.kind == OpKind::DeleteGroup)
        .ok_or_else(|| {
            ArmError::not_found("NotFound", format!("The operation '{id}' was not found."))
        })?;
    if !op.done {
        return Ok(group_accepted(ctx, op));
    }
    match error_of(&op.outcome) {
        Some(err) => Err(err),
        None => Ok(StatusCode::OK.into_response()),
    }
}

pub fn group_monitor_url(ctx: &Ctx, op: &Operation) -> String {
    format!(
        "{}/subscriptions/{}/operationresults/{}?api-version={}",
        ctx.state.config.base_url,
        ctx.sub(),
        op.id,
        ctx.api
    )
}

/// The 202 that starts (or, polled, continues) a resource-group delete.
pub fn group_accepted(ctx: &Ctx, op: &Operation) -> Response {
    running(ctx, op, &group_monitor_url(ctx, op))
}

/// 202 with `Location` and `Retry-After`: the operation is still running.
fn running(ctx: &Ctx, op: &Operation, location: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    insert(response.headers_mut(), "location", location);
    insert(response.headers_mut(), "retry-after", &retry_after(ctx, op));
    response
}
