//! Listing disks or snapshots, by resource group or across the subscription, in
//! pages of `--list-page-size` in key order; `$skiptoken` is the offset of the next
//! page and `nextLink` points at it.

use super::require_group;
use crate::arm::{method_not_allowed, query_param, Ctx};
use crate::error::ArmResult;
use crate::time::now_ms;
use crate::world::Kind;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub fn list(ctx: &Ctx, kind: Kind, group: Option<&str>) -> ArmResult<Response> {
    if ctx.method != Method::GET {
        return Err(method_not_allowed(ctx.method));
    }
    let world = ctx.state.world();
    if let Some(g) = group {
        require_group(&world, g)?;
    }
    let now = now_ms();
    let lower = group.map(str::to_ascii_lowercase);
    let page = ctx.state.config.list_page_size.max(1);
    let skip: usize = query_param(ctx.uri, "$skiptoken")
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
