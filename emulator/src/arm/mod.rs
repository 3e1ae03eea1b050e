//! Azure Resource Manager, emulated: one fallback service that maps an ARM path (parsed
//! by [`id`], the emulator's one ARM id parser, case-insensitively as ARM does) to a
//! [`Route`] and dispatches to resource groups, Microsoft.Compute disks and snapshots,
//! the management locks on either ([`locks`]), and the operation-status resources their
//! long-running operations point at. Before dispatch, ARM's own checks run: the
//! principal's permissions, then locks ([`locks::authorize`], [`locks::enforce`]).
//!
//! The layers that wrap it (api-version check, auth, faults, recording, ARM headers)
//! are assembled in `crate::app`; this module only decodes, dispatches and encodes.

pub mod compute;
pub mod groups;
pub mod id;
pub mod locks;
pub mod operations;

use crate::config::{
    AppState, COMPUTE_API_VERSIONS, LOCKS_API_VERSIONS, RESOURCES_API_VERSIONS,
    SUBSCRIPTIONS_API_VERSIONS,
};
use crate::error::ArmError;
use crate::world::Kind;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use id::{ArmPath, LockScope, ResourceId};
use serde_json::Value;

/// What an ARM path names, after case-insensitive parsing.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `/subscriptions/{s}/locations` (Subscriptions_ListLocations).
    Locations,
    Groups,
    Group(String),
    ComputeList {
        kind: Kind,
        group: Option<String>,
    },
    Compute {
        kind: Kind,
        group: String,
        name: String,
    },
    ComputeAction {
        kind: Kind,
        group: String,
        name: String,
        action: String,
    },
    /// `{disk or snapshot id}/providers/Microsoft.Resources/tags/default`.
    Tags {
        kind: Kind,
        group: String,
        name: String,
    },
    /// `{group or disk or snapshot id}/providers/Microsoft.Authorization/locks[/{name}]`.
    Locks {
        scope: LockScope,
        name: Option<String>,
    },
    DiskOperation {
        location: String,
        id: String,
    },
    GroupOperation {
        id: String,
    },
}

/// `(subscription, route)` for a path under `/subscriptions/`, or `None` if ARM has no such path.
pub fn parse(path: &str) -> Option<(String, Route)> {
    let p = ArmPath::parse(path)?;
    let sub = p.subscription.to_string();
    let route = if p.namespace.is_none() {
        match (p.group, p.rest.as_slice()) {
            (None, [_]) if p.is(0, "resourcegroups") => Route::Groups,
            (None, [_]) if p.is(0, "locations") => Route::Locations,
            (Some(group), []) => Route::Group(group.into()),
            (None, [_, id]) if p.is(0, "operationresults") => {
                Route::GroupOperation { id: (*id).into() }
            }
            _ => return None,
        }
    } else if p.in_namespace("Microsoft.Compute") {
        compute_route(&p)?
    } else if p.in_namespace("Microsoft.Authorization") {
        let group = p.group?;
        let name = match p.rest.as_slice() {
            [_] if p.is(0, "locks") => None,
            [_, name] if p.is(0, "locks") => Some((*name).to_string()),
            _ => return None,
        };
        let scope = LockScope::Group {
            subscription: sub.clone(),
            group: group.into(),
        };
        Route::Locks { scope, name }
    } else {
        return None;
    };
    Some((sub, route))
}

/// The Microsoft.Compute routes: lists, a resource, its actions, DiskRP's operation status.
fn compute_route(p: &ArmPath) -> Option<Route> {
    let kind = |s: &str| Kind::from_segment(s);
    Some(match (p.group, p.rest.as_slice()) {
        (None, [_, location, _, id])
            if p.is(0, "locations") && (p.is(2, "diskoperations") || p.is(2, "operations")) =>
        {
            Route::DiskOperation {
                location: (*location).into(),
                id: (*id).into(),
            }
        }
        (group, [k]) => Route::ComputeList {
            kind: kind(k)?,
            group: group.map(str::to_string),
        },
        (Some(group), [k, name]) => Route::Compute {
            kind: kind(k)?,
            group: group.into(),
            name: (*name).into(),
        },
        (Some(group), [k, name, _, ns, _, _])
            if p.is(2, "providers")
                && ns.eq_ignore_ascii_case("Microsoft.Resources")
                && p.is(4, "tags")
                && p.is(5, "default") =>
        {
            Route::Tags {
                kind: kind(k)?,
                group: group.into(),
                name: (*name).into(),
            }
        }
        (Some(group), [k, name, _, ns, _, lock @ ..])
            if p.is(2, "providers")
                && ns.eq_ignore_ascii_case("Microsoft.Authorization")
                && p.is(4, "locks")
                && lock.len() <= 1 =>
        {
            Route::Locks {
                scope: LockScope::Resource(ResourceId::new(p.subscription, group, kind(k)?, name)),
                name: lock.first().map(|n| n.to_string()),
            }
        }
        (Some(group), [k, name, action]) => Route::ComputeAction {
            kind: kind(k)?,
            group: group.into(),
            name: (*name).into(),
            action: action.to_ascii_lowercase(),
        },
        _ => return None,
    })
}

/// One query parameter, percent-decoded.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (crate::auth::percent_decode(k)?.eq_ignore_ascii_case(name))
            .then(|| crate::auth::percent_decode(v))
            .flatten()
    })
}

/// Layer body: ARM's api-version rules (missing: 400 MissingApiVersionParameter;
/// unknown: 400 NoRegisteredProviderFound for DiskRP, InvalidApiVersionParameter for groups,
/// tags, locks and locations).
pub async fn api_version_layer(request: Request, next: Next) -> Response {
    let path = ArmPath::parse(request.uri().path());
    let Some(version) = query_param(request.uri(), "api-version") else {
        return ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .into_response();
    };
    // A scope's tags (`.../providers/Microsoft.Resources/tags/default`) and locks
    // (`.../providers/Microsoft.Authorization/locks`) are those providers', whatever the
    // scope's own namespace.
    let extension = |namespace: &str| {
        path.as_ref().is_some_and(|p| {
            p.in_namespace(namespace) || p.rest.iter().any(|s| s.eq_ignore_ascii_case(namespace))
        })
    };
    let (tags_scope, locks_scope) = (
        extension("Microsoft.Resources"),
        extension("Microsoft.Authorization"),
    );
    if let Some(path) = path
        .as_ref()
        .filter(|p| p.in_namespace("Microsoft.Compute") && !tags_scope && !locks_scope)
    {
        if !COMPUTE_API_VERSIONS.contains(&version.as_str()) {
            let kind = if path.is(0, "disks") {
                "disks"
            } else {
                "snapshots"
            };
            return ArmError::bad_request(
                "NoRegisteredProviderFound",
                format!(
                    "No registered resource provider found for location 'westus' and API version '{version}' for type '{kind}'. \
                     The supported api-versions are '{}'. The supported locations are 'eastus, westus, northeurope, westeurope'.",
                    COMPUTE_API_VERSIONS.join(", ")
                ),
            )
            .into_response();
        }
    } else {
        let locations = path
            .as_ref()
            .is_some_and(|p| p.namespace.is_none() && p.group.is_none() && p.is(0, "locations"));
        let known = if locks_scope {
            LOCKS_API_VERSIONS
        } else if locations {
            SUBSCRIPTIONS_API_VERSIONS
        } else {
            RESOURCES_API_VERSIONS
        };
        if !known.contains(&version.as_str()) {
            return ArmError::bad_request(
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{version}' is invalid. The supported versions are '{}'.",
                    known.join(",")
                ),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// Parse a JSON request body; malformed content is ARM's 400 InvalidRequestContent.
pub fn json_body(body: &Bytes) -> Result<Value, ArmError> {
    if body.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the request body is empty.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })
}

/// The ARM service: every `/subscriptions/...` request ends here after its layers.
pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 8 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return ArmError::bad_request(
                "InvalidRequestContent",
                "The request body is too large or unreadable.",
            )
            .into_response()
        }
    };
    let api = query_param(&parts.uri, "api-version").unwrap_or_default();
    let Some((sub, route)) = parse(parts.uri.path()) else {
        return ArmError::not_found(
            "InvalidResourceType",
            format!(
                "The resource type could not be found for path '{}'.",
                parts.uri.path()
            ),
        )
        .into_response();
    };
    if !sub.eq_ignore_ascii_case(&state.config.subscription_id) {
        return ArmError::not_found(
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        )
        .into_response();
    }
    let ctx = Ctx {
        state: &state,
        api: &api,
        uri: &parts.uri,
        method: &parts.method,
    };
    if let Err(e) = locks::authorize(&ctx, &route).and_then(|()| locks::enforce(&ctx, &route)) {
        return e.into_response();
    }
    let result = match route {
        Route::Locations if *ctx.method == Method::GET => {
            Ok(axum::Json(crate::regions::list(ctx.sub())).into_response())
        }
        Route::Locations => Err(method_not_allowed(ctx.method)),
        Route::Groups => groups::list(&ctx),
        Route::Group(name) => groups::handle(&ctx, &name, &body),
        Route::GroupOperation { id } => operations::group_operation(&ctx, &id),
        Route::ComputeList { kind, group } => compute::list(&ctx, kind, group.as_deref()),
        Route::Compute { kind, group, name } => compute::handle(&ctx, kind, &group, &name, &body),
        Route::ComputeAction {
            kind,
            group,
            name,
            action,
        } => compute::action(&ctx, kind, &group, &name, &action, &body),
        Route::DiskOperation { location, id } => operations::disk_operation(&ctx, &location, &id),
        Route::Tags { kind, group, name } => {
            compute::tags::handle(&ctx, kind, &group, &name, &body)
        }
        Route::Locks { scope, name } => locks::handle(&ctx, scope, name.as_deref(), &body),
    };
    state.persist();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// What a handler needs about the request besides its body.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub api: &'a str,
    pub uri: &'a Uri,
    pub method: &'a Method,
}

impl Ctx<'_> {
    pub fn sub(&self) -> &str {
        &self.state.config.subscription_id
    }
}

pub fn method_not_allowed(method: &Method) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The requested method '{method}' is not allowed on this resource."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_case_insensitively() {
        let (sub, r) =
            parse("/subscriptions/s/resourcegroups/RG/providers/Microsoft.Compute/snapshots/Snap")
                .unwrap();
        assert_eq!(sub, "s");
        assert_eq!(
            r,
            Route::Compute {
                kind: Kind::Snapshot,
                group: "RG".into(),
                name: "Snap".into()
            }
        );
        let (_, r) =
            parse("/subscriptions/s/resourceGroups/rg/providers/microsoft.compute/DISKS").unwrap();
        assert_eq!(
            r,
            Route::ComputeList {
                kind: Kind::Disk,
                group: Some("rg".into())
            }
        );
        let (_, r) = parse(
            "/subscriptions/s/providers/Microsoft.Compute/locations/westus/DiskOperations/abc",
        )
        .unwrap();
        assert_eq!(
            r,
            Route::DiskOperation {
                location: "westus".into(),
                id: "abc".into()
            }
        );
        let (_, r) = parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/x/beginGetAccess").unwrap();
        assert!(matches!(r, Route::ComputeAction { ref action, .. } if action == "begingetaccess"));
        assert!(
            parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/vnets/x")
                .is_none()
        );
        assert!(parse("/tenants").is_none());
        let (_, r) = parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/x/providers/microsoft.authorization/LOCKS/l").unwrap();
        assert!(
            matches!(r, Route::Locks { ref scope, name: Some(ref n) } if n == "l" && scope.resource().is_some())
        );
        let (_, r) =
            parse("/subscriptions/s/resourcegroups/rg/providers/Microsoft.Authorization/locks")
                .unwrap();
        assert!(
            matches!(r, Route::Locks { ref scope, name: None } if scope.group() == "rg" && scope.resource().is_none())
        );
        assert!(
            parse("/subscriptions/s/providers/Microsoft.Authorization/locks/l").is_none(),
            "subscription locks are not emulated"
        );
    }
}
