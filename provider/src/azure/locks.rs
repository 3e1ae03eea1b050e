//! ARM management locks at a resource's scope (`{id}/providers/Microsoft.Authorization/locks/
//! {name}`, Microsoft.Authorization 2020-05-01): the `CanNotDelete` locks datasnap places on
//! the versions it protects, so that a delete from the portal, another IaC program or the
//! resource group's deletion is refused by Azure itself (409 `ScopeLocked`).
//!
//! Reading a lock needs `Microsoft.Authorization/locks/read` (in Contributor); writing and
//! deleting one need `.../locks/write` and `.../locks/delete` (Owner, User Access
//! Administrator). Callers read before they delete, so an identity that may not write locks
//! is only asked to when a lock is really there.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::azure::client::{encode, ArmClient, OpContext};
use crate::azure::compute::is_gone;
use crate::azure::context::Op;
use crate::azure::errors::AzureError;
use crate::azure::id::ResourceId;

/// The Microsoft.Authorization api-version of the locks operations.
pub const LOCKS_API_VERSION: &str = "2020-05-01";

/// A lock that refuses deletes (reads and writes stay allowed).
pub const CAN_NOT_DELETE: &str = "CanNotDelete";

/// One management lock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub properties: LockProperties,
}

/// `properties` of a lock: its level and why it is there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockProperties {
    #[serde(default)]
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// True when `e` is ARM refusing the caller the permission for a lock operation.
pub fn is_forbidden(e: &AzureError) -> bool {
    e.status() == Some(403)
}

impl ArmClient {
    fn lock_url(&self, scope: &ResourceId, name: &str) -> String {
        self.url(
            &format!("{scope}/providers/Microsoft.Authorization/locks/{name}"),
            LOCKS_API_VERSION,
        )
    }

    /// Places (or rewrites) the `CanNotDelete` lock `name` on `scope`.
    pub async fn put_lock(
        &self,
        scope: &ResourceId,
        name: &str,
        notes: &str,
        ctx: &OpContext,
    ) -> Result<(), AzureError> {
        let op = Op::new(format!("locking {} {}", scope.kind.noun(), scope.name));
        let body = encode(
            &Lock {
                properties: LockProperties {
                    level: CAN_NOT_DELETE.into(),
                    notes: Some(notes.chars().take(512).collect()),
                },
                ..Lock::default()
            },
            &op.name,
        )?;
        self.send(
            Method::PUT,
            &self.lock_url(scope, name),
            Some(body),
            ctx,
            &op,
        )
        .await
        .map(|_| ())
    }

    /// The lock `name` on `scope`, if there is one.
    pub async fn get_lock(
        &self,
        scope: &ResourceId,
        name: &str,
        ctx: &OpContext,
    ) -> Result<Option<Lock>, AzureError> {
        let op = Op::new(format!("reading the locks of {}", scope.name));
        match self.get_json(&self.lock_url(scope, name), ctx, &op).await {
            Ok(l) => Ok(Some(l)),
            Err(e)
                if is_gone(&e)
                    || e.code()
                        .is_some_and(|c| c.eq_ignore_ascii_case("LockNotFound")) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Removes the lock `name` from `scope`; one already gone is success.
    pub async fn delete_lock(
        &self,
        scope: &ResourceId,
        name: &str,
        ctx: &OpContext,
    ) -> Result<(), AzureError> {
        let op = Op::new(format!("unlocking {} {}", scope.kind.noun(), scope.name));
        match self
            .send(Method::DELETE, &self.lock_url(scope, name), None, ctx, &op)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
