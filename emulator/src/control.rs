//! The control API under `/_emulator/` (no auth; for tests, demos and debugging):
//! reset, state dump, seeding, fault injection, and the permissions the principal lacks.
//!
//! | request | does |
//! | --- | --- |
//! | `GET /_emulator/health` | `{"status":"ok"}` |
//! | `POST /_emulator/reset` | empties the world, the faults and the denied actions; re-seeds if started with a seed (`{"seed": false}` to skip) |
//! | `GET /_emulator/state` | resource groups, disks, snapshots, locks, open SAS access (`access`), operations, faults, denied actions |
//! | `POST /_emulator/seed` | applies a seed spec (body optional: the defaults) |
//! | `GET /_emulator/faults` | the rules in force and how often each fired |
//! | `POST /_emulator/faults` | sets rules (fields present replace current ones) |
//! | `DELETE /_emulator/faults` | clears every rule |
//! | `GET /_emulator/requests` | ARM requests served, by class (`reads`, `writes`, `deletes`), and `total` |
//! | `DELETE /_emulator/requests` | starts counting again |
//! | `GET /_emulator/denied-actions` | `{"actions": [...]}`: the RBAC actions the principal is denied |
//! | `POST /_emulator/denied-actions` | `{"actions": ["Microsoft.Authorization/locks/write", ...]}` replaces them (a trailing `*` matches a prefix); a request needing one answers 403 `AuthorizationFailed` |
//! | `DELETE /_emulator/denied-actions` | grants everything again |
//! | `GET`/`HEAD /_emulator/blobs/{disks\|snapshots}/{uniqueId}/abcd?…` | the blob a beginGetAccess URL names: 200 while the URL's grant is open, else 403 `AuthenticationFailed` (see [`crate::arm::compute::access`]) |

use crate::config::AppState;
use crate::error::ArmError;
use crate::faults::FaultSpec;
use crate::seed::SeedSpec;
use crate::time::{now_ms, rfc3339};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/reset", post(reset))
        .route("/state", get(state_dump))
        .route(
            "/blobs/{kind}/{unique_id}/abcd",
            get(crate::arm::compute::access::blob),
        )
        .route("/seed", post(seed))
        .route(
            "/requests",
            get(request_counts).delete(reset_request_counts),
        )
        .route(
            "/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route(
            "/denied-actions",
            get(denied_actions)
                .post(set_denied_actions)
                .delete(clear_denied_actions),
        )
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeniedActions {
    #[serde(default)]
    actions: Vec<String>,
}

fn denied_json(state: &AppState) -> Json<Value> {
    Json(json!({ "actions": *state.denied_actions() }))
}

/// `GET /_emulator/denied-actions`.
async fn denied_actions(State(state): State<AppState>) -> Json<Value> {
    denied_json(&state)
}

/// `POST /_emulator/denied-actions`: the set given replaces the current one.
async fn set_denied_actions(State(state): State<AppState>, body: Bytes) -> Response {
    let spec: DeniedActions = match parse_optional(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    *state.denied_actions() = spec.actions;
    denied_json(&state).into_response()
}

/// `DELETE /_emulator/denied-actions`.
async fn clear_denied_actions(State(state): State<AppState>) -> Json<Value> {
    state.denied_actions().clear();
    denied_json(&state)
}

/// `GET /_emulator/requests`: ARM requests served since start (or the last DELETE), by
/// class, and their total.
async fn request_counts(State(state): State<AppState>) -> Json<Value> {
    let counts = state
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let total: u64 = counts.values().sum();
    let mut out = serde_json::Map::new();
    for class in ["reads", "writes", "deletes"] {
        out.insert(class.into(), json!(counts.get(class).copied().unwrap_or(0)));
    }
    out.insert("total".into(), json!(total));
    Json(Value::Object(out))
}

/// `DELETE /_emulator/requests`: start counting again.
async fn reset_request_counts(State(state): State<AppState>) -> Json<Value> {
    state
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    Json(json!({"reset": true}))
}

fn parse_optional<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, ArmError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResetOptions {
    seed: Option<bool>,
}

async fn reset(State(state): State<AppState>, body: Bytes) -> Response {
    let options: ResetOptions = match parse_optional(&body) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    state.faults().clear();
    state.denied_actions().clear();
    state.tokens_revoked_before_ms.store(0, Ordering::Relaxed);
    {
        let mut world = state.world();
        world.clear();
        if options.seed.unwrap_or(true) {
            if let Some(seed) = &state.config.seed {
                seed.apply(&mut world, &state.config);
            }
        }
    }
    state.persist();
    Json(json!({"status": "reset"})).into_response()
}

async fn state_dump(State(state): State<AppState>) -> Response {
    let now = now_ms();
    let (groups, disks, snapshots, locks, access, operations) = {
        let world = state.world();
        let sub = &state.config.subscription_id;
        let groups: Vec<Value> = world
            .resource_groups
            .values()
            .map(|g| g.to_json(sub))
            .collect();
        let pick = |kind| -> Vec<Value> {
            world
                .resources
                .values()
                .filter(|r| r.kind() == kind)
                .map(|r| r.render(now))
                .collect()
        };
        let disks = pick(crate::world::Kind::Disk);
        let snapshots = pick(crate::world::Kind::Snapshot);
        let locks: Vec<Value> = world.locks.values().map(|l| l.to_json()).collect();
        let access: Vec<Value> = world
            .resources
            .values()
            .filter_map(|r| Some((r, r.access_at(now)?)))
            .map(|(r, a)| {
                let grants: Vec<Value> = a
                    .grants
                    .iter()
                    .filter(|g| now < g.expires_ms)
                    .map(|g| json!({"si": g.id, "access": g.access, "expiresAt": rfc3339(g.expires_ms)}))
                    .collect();
                json!({
                    "id": r.body.id,
                    "uniqueId": r.props().unique_id,
                    "diskState": r.disk_state(now),
                    "expiresAt": rfc3339(a.expires_ms),
                    "expiresMs": a.expires_ms,
                    "grants": grants,
                })
            })
            .collect();
        let operations = serde_json::to_value(&world.operations).unwrap_or_default();
        (groups, disks, snapshots, locks, access, operations)
    };
    let faults = state.faults().to_json();
    Json(json!({
        "subscriptionId": state.config.subscription_id,
        "resourceGroups": groups,
        "disks": disks,
        "snapshots": snapshots,
        "locks": locks,
        "access": access,
        "operations": operations,
        "faults": faults["faults"],
        "injected": faults["injected"],
        "deniedActions": *state.denied_actions(),
    }))
    .into_response()
}

async fn seed(State(state): State<AppState>, body: Bytes) -> Response {
    let spec: SeedSpec = match parse_optional(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = spec.check() {
        return e.into_response();
    }
    spec.apply(&mut state.world(), &state.config);
    state.persist();
    Json(json!({"status": "seeded", "seed": spec})).into_response()
}

async fn get_faults(State(state): State<AppState>) -> Response {
    Json(state.faults().to_json()).into_response()
}

async fn set_faults(State(state): State<AppState>, body: Bytes) -> Response {
    let spec: FaultSpec = match parse_optional(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if spec.expire_tokens == Some(true) {
        state
            .tokens_revoked_before_ms
            .store(now_ms() + 1, Ordering::Relaxed);
    }
    let mut faults = state.faults();
    faults.apply(spec);
    Json(faults.to_json()).into_response()
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    let mut faults = state.faults();
    faults.clear();
    Json(faults.to_json()).into_response()
}
