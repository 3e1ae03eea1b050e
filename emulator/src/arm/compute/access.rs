//! `POST .../beginGetAccess` and `POST .../endGetAccess`: export a disk or snapshot
//! through a SAS URL, now or as a long-running operation whose result is the
//! `{accessSAS}` document, and the emulated blob those URLs point at.
//!
//! How access behaves (Azure's where documented; the rest inferred):
//! - A grant (`access` `Read` or `Write`, `durationInSeconds` from 1 to 5,184,000: the
//!   60-day limit Azure enforces since 2025-02-15, per Microsoft Learn's
//!   `disks-sas-change` include and azure-cli#29431; the error code is chosen) opens
//!   the resource's access: `diskState` is `ActiveSAS`. At most 5 snapshots of one
//!   incremental family may have open access at a time.
//! - Access ends by itself when its expiry (the grant's `se`) passes: `diskState` is
//!   what it was before (`Unattached`). Every path agrees, because each computes it
//!   from the stored expiry and the time of the request
//!   ([`Resource::access_at`](crate::resource::Resource::access_at)): GET, list,
//!   DELETE's active-SAS refusal, the family limit, `/_emulator/state`.
//! - A resource has one access state, shared by all its grants. A second grant while
//!   access is open answers a new URL (its own `si`, `sig` and `se`) and extends the
//!   expiry to the later of the two; each URL still stops working at its own `se`.
//!   (Azure accepts re-grants on an `ActiveSAS` resource; whether the URL is new is
//!   not documented.)
//! - endGetAccess (or a grant with `access: None`) ends the access and with it every URL
//!   granted on it.
//! - A URL is `{base}/_emulator/blobs/{disks|snapshots}/{uniqueId}/abcd?...&si=..&se=..&sig=..`.
//!   [`blob`] answers `GET`/`HEAD` on it: 200 with a small body while its grant belongs
//!   to the open access and its `se` has not passed, else 403 `AuthenticationFailed`
//!   (Azure Storage's XML error).

use super::validate::{missing, not_allowed};
use super::{existing, idle, start_operation};
use crate::arm::{json_body, method_not_allowed, operations, query_param, Ctx};
use crate::config::AppState;
use crate::error::{ArmError, ArmResult};
use crate::resource::SasGrant;
use crate::time::{now_ms, rfc3339};
use crate::world::{Key, Kind, OpKind, World};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};

/// At most 5 snapshots of one family may have an active SAS.
const SAS_PER_FAMILY: usize = 5;
const ACCESS_LEVELS: &[&str] = &["None", "Read", "Write"];
/// The longest SAS Azure grants: 60 days.
pub const MAX_SAS_SECONDS: u64 = 5_184_000;

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
    let now = now_ms();
    let mut world = ctx.state.world();
    let key = Key::new(kind, group, name);
    let resource = idle(existing(&mut world, &key, group, name)?, name)?;
    let location = resource.location().to_string();
    let unique_id = resource.props().unique_id.clone();
    let granted = match grant.filter(|g| !g.access.eq_ignore_ascii_case("None")) {
        Some(grant) => {
            check_family_sas(&world, &key, now)?;
            Some(new_grant(&grant, now))
        }
        None => None,
    };
    let output = granted
        .as_ref()
        .map(|g| json!({ "accessSAS": sas_url(ctx, kind, &unique_id, g) }));
    let Some(mut op) = operations::plan(ctx, op_kind, Some(key.clone()), &location) else {
        if let Some(r) = world.resources.get_mut(&key) {
            match granted {
                Some(g) => r.grant_access(g, now),
                None => r.revoke_access(),
            }
        }
        world.dirty = true;
        return Ok(match output {
            Some(body) => Json(body).into_response(),
            None => StatusCode::OK.into_response(),
        });
    };
    op.grant = granted;
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
    let access = ACCESS_LEVELS
        .iter()
        .find(|a| a.eq_ignore_ascii_case(access))
        .ok_or_else(|| not_allowed("access", access, "", ACCESS_LEVELS))?;
    let duration = request.get("durationInSeconds");
    let seconds = duration
        .and_then(Value::as_u64)
        .filter(|s| (1..=MAX_SAS_SECONDS).contains(s));
    let seconds = match (seconds, duration) {
        (Some(s), _) => s,
        (None, Some(n)) if n.is_i64() || n.is_u64() => return Err(duration_out_of_range(n)),
        _ => return Err(missing("durationInSeconds")),
    };
    Ok(Grant {
        access: access.to_string(),
        seconds,
    })
}

/// Azure refuses a SAS longer than 60 days with "a client error" whose code and message
/// are not documented; these are chosen.
fn duration_out_of_range(n: &Value) -> ArmError {
    ArmError::bad_request(
        "InvalidParameter",
        format!(
            "The value '{n}' of parameter 'durationInSeconds' is out of range. \
             The SAS duration must be between 1 and {MAX_SAS_SECONDS} seconds (60 days)."
        ),
    )
    .with_target("durationInSeconds")
}

/// A new SAS on a snapshot of an incremental family needs a free slot of the five,
/// unless the snapshot's own access is already open (the grant joins it).
fn check_family_sas(world: &World, key: &Key, now: u64) -> ArmResult<()> {
    let Some(resource) = world.resources.get(key) else {
        return Ok(());
    };
    let Some(family) = &resource.props().incremental_snapshot_family_id else {
        return Ok(());
    };
    if resource.has_active_sas(now) {
        return Ok(());
    }
    let active = world
        .resources
        .values()
        .filter(|r| {
            r.props().incremental_snapshot_family_id.as_ref() == Some(family)
                && r.has_active_sas(now)
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

/// A fresh grant: its own `si` and a random `sig`, expiring `seconds` after `now`.
fn new_grant(grant: &Grant, now: u64) -> SasGrant {
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    random[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    SasGrant {
        id: uuid::Uuid::new_v4().to_string(),
        signature: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random),
        access: grant.access.clone(),
        expires_ms: now + grant.seconds * 1000,
    }
}

/// The emulated blob URL a grant hands out.
fn sas_url(ctx: &Ctx, kind: Kind, unique_id: &str, grant: &SasGrant) -> String {
    let perm = if grant.access == "Write" { "rw" } else { "r" };
    format!(
        "{}/_emulator/blobs/{}/{unique_id}/abcd?sv=2018-03-28&sr=b&si={}&sp={perm}&se={}&sig={}",
        ctx.state.config.base_url,
        kind.segment(),
        grant.id,
        rfc3339(grant.expires_ms)
            .replace(':', "%3A")
            .replace('+', "%2B"),
        grant.signature
    )
}

/// `GET`/`HEAD /_emulator/blobs/{disks|snapshots}/{uniqueId}/abcd?...`: the exported
/// blob, readable while the URL's grant belongs to the resource's open access and its
/// `se` has not passed. The body is a line naming the resource and its size, not the
/// disk's bytes.
pub async fn blob(
    State(state): State<AppState>,
    Path((kind, unique_id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let now = now_ms();
    let Some(kind) = Kind::from_segment(&kind) else {
        return storage_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "The specified resource does not exist.",
            None,
        );
    };
    let (Some(si), Some(sig)) = (query_param(&uri, "si"), query_param(&uri, "sig")) else {
        return auth_failed("Signature fields not well formed.");
    };
    let world = state.world();
    let resource = world
        .resources
        .values()
        .find(|r| r.kind() == kind && r.props().unique_id.eq_ignore_ascii_case(&unique_id));
    let grant = resource
        .and_then(|r| r.access.as_ref())
        .and_then(|a| a.grants.iter().find(|g| g.id == si));
    let (Some(resource), Some(grant)) = (resource, grant) else {
        return auth_failed(&format!(
            "The SAS '{si}' is not granted on this {}: access was ended by endGetAccess or never granted.",
            kind.noun()
        ));
    };
    if grant.signature != sig {
        return auth_failed("Signature did not match.");
    }
    if now >= grant.expires_ms || !resource.has_active_sas(now) {
        return auth_failed(&format!(
            "Signed expiry time [{}] must be after signed start time [{}]",
            rfc3339(grant.expires_ms),
            rfc3339(now)
        ));
    }
    let body = format!(
        "{} {} {} bytes\n",
        kind.noun(),
        resource.props().unique_id,
        resource.props().disk_size_bytes
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::HeaderName::from_static("x-ms-blob-type"),
                "PageBlob",
            ),
        ],
        body,
    )
        .into_response()
}

/// 403 AuthenticationFailed, as Azure Storage answers a SAS it does not accept.
fn auth_failed(detail: &str) -> Response {
    storage_error(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        Some(detail),
    )
}

/// Azure Storage's XML error body, with the code in `x-ms-error-code`.
fn storage_error(status: StatusCode, code: &str, message: &str, detail: Option<&str>) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let detail = detail
        .map(|d| {
            format!(
                "<AuthenticationErrorDetail>{}</AuthenticationErrorDetail>",
                escape(d)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{}\nRequestId:{}\nTime:{}</Message>{detail}</Error>",
        escape(message),
        uuid::Uuid::new_v4(),
        rfc3339(now_ms())
    );
    let mut response = (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response();
    if let Ok(v) = header::HeaderValue::from_str(code) {
        response.headers_mut().insert("x-ms-error-code", v);
    }
    response
}
