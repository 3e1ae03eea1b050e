//! ARM's management locks (Microsoft.Authorization/locks, api-version 2016-09-01 or
//! 2020-05-01) on a resource group or a disk or snapshot, and the two checks ARM makes
//! before a request reaches a resource provider:
//!
//! - [`authorize`]: the principal's RBAC. An action listed in `/_emulator/denied-actions`
//!   (or `--deny-action`) answers 403 `AuthorizationFailed`.
//! - [`enforce`]: locks. Any lock on the scope or its resource group refuses a DELETE
//!   (a resource group's DELETE also counts the locks of everything in it, and then
//!   nothing is deleted); a `ReadOnly` lock also refuses PUT, PATCH, tag writes and POST
//!   actions. Both answer 409 `ScopeLocked`. Lock requests themselves are never locked.
//!
//! The lock routes: `{scope}/providers/Microsoft.Authorization/locks/{name}` (PUT: 201
//! new, 200 updated; GET: 200 or 404 `LockNotFound`; DELETE: 200, or 204 if absent) and
//! `{scope}/providers/Microsoft.Authorization/locks` (GET: the locks at or below the
//! scope; with `$filter=atScope()`, those at or above it).

use super::compute::validate::{invalid_content, missing, not_allowed};
use super::compute::{existing, require_group};
use super::id::LockScope;
use super::{json_body, method_not_allowed, query_param, Ctx, Route};
use crate::error::{ArmError, ArmResult};
use crate::world::{ManagementLock, World};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

const LEVELS: &[&str] = &["CanNotDelete", "ReadOnly"];
const NOTES_MAX: usize = 512;
const NAME_MAX: usize = 260;
const NAME_FORBIDDEN: &[char] = &['<', '>', '%', '&', ':', '\\', '?', '/'];

/// `{scope}/providers/Microsoft.Authorization/locks[/{name}]`.
pub fn handle(
    ctx: &Ctx,
    scope: LockScope,
    name: Option<&str>,
    body: &Bytes,
) -> ArmResult<Response> {
    match (name, ctx.method.as_str()) {
        (None, "GET") => list(ctx, &scope),
        (Some(name), "GET") => get(ctx, &scope, name),
        (Some(name), "PUT") => put(ctx, scope, name, body),
        (Some(name), "DELETE") => delete(ctx, &scope, name),
        _ => Err(method_not_allowed(ctx.method)),
    }
}

fn lock_not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "LockNotFound",
        format!("The lock '{name}' could not be found."),
    )
}

/// The scope's group must exist, and so must its disk or snapshot if it names one.
fn require_scope(world: &mut World, scope: &LockScope) -> ArmResult<()> {
    match (scope, scope.resource()) {
        (LockScope::Resource(id), Some(key)) => {
            existing(world, &key, &id.group, &id.name).map(|_| ())
        }
        _ => require_group(world, scope.group()),
    }
}

/// The world's key of lock `name` at `scope`.
fn key(scope: &LockScope, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/locks/{name}").to_ascii_lowercase()
}

fn list(ctx: &Ctx, scope: &LockScope) -> ArmResult<Response> {
    let mut world = ctx.state.world();
    require_scope(&mut world, scope)?;
    let at_scope = query_param(ctx.uri, "$filter")
        .is_some_and(|f| f.replace(' ', "").eq_ignore_ascii_case("atScope()"));
    let value: Vec<Value> = world
        .locks
        .values()
        .filter(|l| {
            let (outer, inner) = if at_scope {
                (&l.scope, scope)
            } else {
                (scope, &l.scope)
            };
            contains(outer, inner)
        })
        .map(ManagementLock::to_json)
        .collect();
    Ok(Json(json!({ "value": value })).into_response())
}

/// Whether `inner` is `outer` or below it (a resource in a locked group).
fn contains(outer: &LockScope, inner: &LockScope) -> bool {
    outer.group().eq_ignore_ascii_case(inner.group())
        && (outer.resource().is_none() || outer.resource() == inner.resource())
}

fn get(ctx: &Ctx, scope: &LockScope, name: &str) -> ArmResult<Response> {
    let mut world = ctx.state.world();
    require_scope(&mut world, scope)?;
    let lock = world
        .locks
        .get(&key(scope, name))
        .ok_or_else(|| lock_not_found(name))?;
    Ok(Json(lock.to_json()).into_response())
}

fn put(ctx: &Ctx, scope: LockScope, name: &str, body: &Bytes) -> ArmResult<Response> {
    check_name(name)?;
    let request = json_body(body)?;
    let (level, notes, owners) = lock_properties(&request)?;
    let mut world = ctx.state.world();
    require_scope(&mut world, &scope)?;
    let key = key(&scope, name);
    let (status, lock) = match world.locks.get_mut(&key) {
        Some(lock) => {
            lock.level = level.into();
            lock.notes = notes;
            lock.owners = owners;
            (StatusCode::OK, lock.clone())
        }
        None => {
            let lock = ManagementLock {
                scope,
                name: name.into(),
                level: level.into(),
                notes,
                owners,
            };
            world.locks.insert(key, lock.clone());
            (StatusCode::CREATED, lock)
        }
    };
    world.dirty = true;
    Ok((status, Json(lock.to_json())).into_response())
}

/// At most 260 characters, none of `<>%&:\?/` or control characters.
fn check_name(name: &str) -> ArmResult<()> {
    let bad = name.is_empty()
        || name.chars().count() > NAME_MAX
        || name
            .chars()
            .any(|c| c.is_control() || NAME_FORBIDDEN.contains(&c));
    if bad {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The lock name '{name}' is invalid. It must be 1 to {NAME_MAX} characters and not contain '<', '>', '%', '&', ':', '\\', '?', '/' or control characters."
            ),
        )
        .with_target("lockName"));
    }
    Ok(())
}

/// `properties.level` (required; Azure's spelling), `notes` (at most 512 characters) and
/// `owners` (an array) of a lock PUT.
fn lock_properties(request: &Value) -> ArmResult<(&'static str, Option<String>, Option<Value>)> {
    let props = request
        .get("properties")
        .filter(|p| p.is_object())
        .ok_or_else(|| missing("properties"))?;
    let level = match props.get("level") {
        None | Some(Value::Null) => return Err(missing("level")),
        Some(Value::String(l)) => LEVELS
            .iter()
            .copied()
            .find(|known| known.eq_ignore_ascii_case(l))
            .ok_or_else(|| not_allowed("level", l, "", LEVELS))?,
        Some(other) => {
            return Err(invalid_content(format!(
                "could not convert {other} to a lock level. Path 'properties.level'."
            )))
        }
    };
    let notes = match props.get("notes") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() > NOTES_MAX => {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!("The lock notes must be at most {NOTES_MAX} characters long."),
            )
            .with_target("notes"))
        }
        Some(Value::String(n)) => Some(n.clone()),
        Some(other) => {
            return Err(invalid_content(format!(
                "could not convert {other} to a string. Path 'properties.notes'."
            )))
        }
    };
    let owners = match props.get("owners") {
        None | Some(Value::Null) => None,
        Some(o @ Value::Array(items)) if items.iter().all(Value::is_object) => Some(o.clone()),
        Some(other) => {
            return Err(invalid_content(format!(
                "could not convert {other} to a list of lock owners. Path 'properties.owners'."
            )))
        }
    };
    Ok((level, notes, owners))
}

fn delete(ctx: &Ctx, scope: &LockScope, name: &str) -> ArmResult<Response> {
    let mut world = ctx.state.world();
    require_group(&world, scope.group())?;
    match world.locks.remove(&key(scope, name)) {
        Some(_) => {
            world.dirty = true;
            Ok(StatusCode::OK.into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// What a request does to its scope, as locks see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operation {
    Delete,
    Write,
}

/// 409 `ScopeLocked` if a lock forbids the request; locks never stop lock requests or reads.
pub fn enforce(ctx: &Ctx, route: &Route) -> ArmResult<()> {
    let Some((scope, operation)) = locked_operation(ctx, route) else {
        return Ok(());
    };
    let world = ctx.state.world();
    let mut locked: Vec<String> = Vec::new();
    for lock in world.locks.values() {
        let applies = match (operation, scope.resource()) {
            // A group's delete deletes everything in it: any lock in the group stops it.
            (Operation::Delete, None) => contains(&scope, &lock.scope),
            (Operation::Delete, Some(_)) => contains(&lock.scope, &scope),
            (Operation::Write, _) => lock.read_only() && contains(&lock.scope, &scope),
        };
        let id = lock.scope.to_string();
        if applies && !locked.contains(&id) {
            locked.push(id);
        }
    }
    if locked.is_empty() {
        return Ok(());
    }
    let verb = match operation {
        Operation::Delete => "delete",
        Operation::Write => "write",
    };
    Err(ArmError::conflict(
        "ScopeLocked",
        format!(
            "The scope '{}' cannot perform {verb} operation because following scope(s) are locked: '{}'. Please remove the lock and try again.",
            request_scope(ctx),
            locked.join(",")
        ),
    ))
}

/// The scope a request changes and how, for the routes locks can refuse.
fn locked_operation(ctx: &Ctx, route: &Route) -> Option<(LockScope, Operation)> {
    let method = ctx.method;
    let operation = if *method == Method::DELETE {
        Operation::Delete
    } else if [Method::PUT, Method::PATCH, Method::POST].contains(method) {
        Operation::Write
    } else {
        return None;
    };
    let resource = |kind, group: &str, name: &str| {
        LockScope::Resource(super::id::ResourceId::new(ctx.sub(), group, kind, name))
    };
    let scope = match route {
        Route::Group(group) => LockScope::Group {
            subscription: ctx.sub().into(),
            group: group.clone(),
        },
        Route::Compute { kind, group, name }
        | Route::ComputeAction {
            kind, group, name, ..
        } => resource(*kind, group, name),
        // Tags are the resource's: deleting them writes the resource.
        Route::Tags { kind, group, name } => {
            return Some((resource(*kind, group, name), Operation::Write))
        }
        _ => return None,
    };
    Some((scope, operation))
}

/// The request's scope as ARM names it in its messages: the path as sent.
fn request_scope<'a>(ctx: &Ctx<'a>) -> &'a str {
    let path = ctx.uri.path();
    path.strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path)
}

/// 403 `AuthorizationFailed` if the principal is denied the action the request needs.
pub fn authorize(ctx: &Ctx, route: &Route) -> ArmResult<()> {
    let Some(action) = action(route, ctx.method) else {
        return Ok(());
    };
    let denied = ctx
        .state
        .denied_actions()
        .iter()
        .any(|pattern| action_matches(pattern, &action));
    if !denied {
        return Ok(());
    }
    let config = &ctx.state.config;
    Err(ArmError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            config.client_id,
            config.object_id,
            request_scope(ctx)
        ),
    ))
}

/// The RBAC action a request needs, as Azure names it (`Microsoft.Compute/snapshots/write`).
pub fn action(route: &Route, method: &Method) -> Option<String> {
    let verb = match *method {
        Method::GET | Method::HEAD => "read",
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        Method::POST => "action",
        _ => return None,
    };
    Some(match route {
        Route::Locations => "Microsoft.Resources/subscriptions/locations/read".into(),
        Route::Groups | Route::Group(_) => {
            format!("Microsoft.Resources/subscriptions/resourceGroups/{verb}")
        }
        Route::ComputeList { kind, .. } | Route::Compute { kind, .. } => {
            format!("Microsoft.Compute/{}/{verb}", kind.segment())
        }
        Route::ComputeAction { kind, action, .. } => {
            let action = match action.as_str() {
                "begingetaccess" => "beginGetAccess",
                "endgetaccess" => "endGetAccess",
                other => other,
            };
            format!("Microsoft.Compute/{}/{action}/action", kind.segment())
        }
        Route::Tags { .. } => format!("Microsoft.Resources/tags/{verb}"),
        Route::Locks { .. } => format!("Microsoft.Authorization/locks/{verb}"),
        Route::DiskOperation { .. } => "Microsoft.Compute/locations/DiskOperations/read".into(),
        Route::GroupOperation { .. } => return None,
    })
}

/// An action pattern as roles write them: exact (ignoring case), or ending in `*`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_patterns_match_like_role_definitions() {
        let write = "Microsoft.Authorization/locks/write";
        assert!(action_matches("microsoft.authorization/LOCKS/write", write));
        assert!(action_matches("Microsoft.Authorization/*", write));
        assert!(action_matches("*", write));
        assert!(!action_matches(
            "Microsoft.Authorization/locks/delete",
            write
        ));
        assert!(!action_matches("Microsoft.Compute/*", write));
    }

    #[test]
    fn lock_names_follow_arm_rules() {
        assert!(check_name("do-not-delete").is_ok());
        assert!(check_name(&"a".repeat(260)).is_ok());
        for bad in ["", "a:b", "a%b", "a?b", "a<b", "a\u{1}b", &"a".repeat(261)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
