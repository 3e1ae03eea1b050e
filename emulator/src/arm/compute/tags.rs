//! ARM's tags at a resource's scope (`{resource id}/providers/Microsoft.Resources/tags/default`,
//! Microsoft.Resources 2021-04-01): GET reads a disk's or snapshot's tags; PATCH with
//! `operation` `Merge` adds or replaces the given tags, `Delete` removes the given names
//! (when a value is given, only if it matches), `Replace` replaces them all; PUT replaces
//! them all. Synchronous, as that api-version is. Tag names are case-insensitive, and the
//! same rules as a resource's own `tags` apply to the result. A resource that is busy
//! (a pending operation) answers 409 AnotherOperationInProgress, as its own PATCH would.

use std::collections::BTreeMap;

use super::{existing, idle};
use crate::arm::{json_body, method_not_allowed, Ctx};
use crate::error::{ArmError, ArmResult};
use crate::rules::check_request_tags;
use crate::world::{Key, Kind};
use axum::body::Bytes;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub fn handle(ctx: &Ctx, kind: Kind, group: &str, name: &str, body: &Bytes) -> ArmResult<Response> {
    let key = Key::new(kind, group, name);
    let mut world = ctx.state.world();
    let resource = existing(&mut world, &key, group, name)?;
    let scope = format!(
        "/subscriptions/{}/resourceGroups/{group}/providers/Microsoft.Compute/{}/{name}",
        ctx.sub(),
        kind.segment()
    );
    let current = resource.body.tags.clone().unwrap_or_default();
    let tags = match *ctx.method {
        Method::GET => current,
        Method::PATCH | Method::PUT => {
            let request = json_body(body)?;
            let given = given_tags(&request)?;
            let operation = if *ctx.method == Method::PUT {
                "Replace".to_string()
            } else {
                request
                    .get("operation")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ArmError::bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'operation' is required (Merge, Replace or Delete)."))?
                    .to_string()
            };
            let next = apply(&operation, current, &given)?;
            check_request_tags(&json!({ "tags": next }))?;
            let resource = idle(resource, name)?;
            resource.body.tags = Some(next.clone());
            next
        }
        _ => return Err(method_not_allowed(ctx.method)),
    };
    Ok(Json(json!({
        "id": format!("{scope}/providers/Microsoft.Resources/tags/default"),
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": { "tags": tags },
    }))
    .into_response())
}

/// `properties.tags` of a request: an object of strings.
fn given_tags(request: &Value) -> ArmResult<BTreeMap<String, String>> {
    let tags = request
        .pointer("/properties/tags")
        .cloned()
        .unwrap_or(json!({}));
    check_request_tags(&json!({ "tags": tags }))?;
    Ok(tags
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default())
}

/// The tags after `operation`; names compare ignoring case, and a merged name keeps the
/// spelling it is given.
pub fn apply(
    operation: &str,
    mut current: BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
) -> ArmResult<BTreeMap<String, String>> {
    let same = |a: &String, b: &str| a.eq_ignore_ascii_case(b);
    match operation.to_ascii_lowercase().as_str() {
        "merge" => {
            for (k, v) in given {
                current.retain(|old, _| !same(old, k));
                current.insert(k.clone(), v.clone());
            }
            Ok(current)
        }
        "delete" => {
            current.retain(|old, value| {
                !given
                    .iter()
                    .any(|(k, v)| same(old, k) && (v.is_empty() || v == value))
            });
            Ok(current)
        }
        "replace" => Ok(given.clone()),
        other => Err(ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: 'operation' must be Merge, Replace or Delete, not '{other}'."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn merge_and_delete_touch_only_the_given_names() {
        let now = m(&[
            ("datasnap.dataset", "d"),
            ("datasnap.alias.prod", "1"),
            ("Team", "ml"),
        ]);
        let merged = apply(
            "Merge",
            now.clone(),
            &m(&[("datasnap.retained", "true"), ("team", "ops")]),
        )
        .unwrap();
        assert_eq!(
            merged,
            m(&[
                ("datasnap.dataset", "d"),
                ("datasnap.alias.prod", "1"),
                ("datasnap.retained", "true"),
                ("team", "ops")
            ])
        );
        let deleted = apply(
            "delete",
            merged,
            &m(&[("TEAM", ""), ("datasnap.alias.prod", "2")]),
        )
        .unwrap();
        assert_eq!(
            deleted,
            m(&[
                ("datasnap.dataset", "d"),
                ("datasnap.alias.prod", "1"),
                ("datasnap.retained", "true")
            ]),
            "a value given must match"
        );
        assert_eq!(
            apply("Replace", now, &m(&[("a", "b")])).unwrap(),
            m(&[("a", "b")])
        );
        assert!(apply("Append", BTreeMap::new(), &BTreeMap::new()).is_err());
    }
}
