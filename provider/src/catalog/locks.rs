//! Versions that Azure itself protects: the `CanNotDelete` management locks datasnap places
//! on a version's snapshot (`lock: true` on a VersionedSnapshot, and every protected alias),
//! and lifts itself before its own prune or delete. Each lock has datasnap's name, so
//! datasnap lifts exactly the locks it placed and never anyone else's.
//!
//! | lock | placed by | lifted by |
//! | --- | --- | --- |
//! | `datasnap-version` | VersionedSnapshot `lock: true` | `lock: false`, its `deletionPolicy: Delete`, a prune |
//! | `datasnap-alias-<alias>` | a protected VersionAlias | `protected: false`, the alias moving away |
//!
//! A released version keeps its lock: it stays safe from a delete in the portal until
//! datasnap's retention prunes it.

use crate::azure::id::ResourceId;
use crate::azure::locks::is_forbidden;
use crate::azure::{ArmClient, AzureError, OpContext};
use crate::resource::ResourceError;

/// The lock of a version taken with `lock: true`.
pub const VERSION_LOCK: &str = "datasnap-version";

/// The lock of protected alias `alias`.
pub fn alias_lock(alias: &str) -> String {
    format!("datasnap-alias-{}", alias.to_ascii_lowercase())
}

/// True for a lock datasnap placed.
pub fn is_datasnap_lock(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("datasnap-")
}

/// What an identity needs for lock `verb` (write, delete) on `id`.
fn permission_message(verb: &str, id: &ResourceId, e: &AzureError) -> String {
    let why = match e {
        AzureError::Forbidden { code, message } => {
            format!("Azure denied access (403 {code}): {message}")
        }
        other => other.to_string(),
    };
    format!(
        "{verb} the management lock on snapshot {id} was refused: {why} Placing and lifting locks needs Microsoft.Authorization/locks/{} (the Owner or User Access Administrator role, or a custom role with Microsoft.Authorization/locks/*) on the snapshot or its resource group; Contributor is not enough. Grant it to the identity datasnap runs as, or set `lock: false` (`protected: false` on an alias)",
        if verb == "placing" { "write" } else { "delete" },
    )
}

/// Places datasnap's lock `name` on the snapshot `id`.
pub async fn place(
    arm: &ArmClient,
    id: &ResourceId,
    name: &str,
    why: &str,
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    let notes = format!("Placed by datasnap: {why}. datasnap lifts it itself before its own prune or delete; `lock: false` (or `protected: false`) lifts it.");
    arm.put_lock(id, name, &notes, ctx)
        .await
        .map_err(|e| refused("placing", id, e))
}

/// Lifts datasnap's lock `name` from the snapshot `id` if it is there. The lock is read
/// first, so an identity without permission to delete locks is only refused when there
/// really is one to lift.
pub async fn lift(
    arm: &ArmClient,
    id: &ResourceId,
    name: &str,
    ctx: &OpContext,
) -> Result<(), ResourceError> {
    let found = arm
        .get_lock(id, name, ctx)
        .await
        .map_err(|e| refused("reading", id, e))?;
    if found.is_none() {
        return Ok(());
    }
    arm.delete_lock(id, name, ctx)
        .await
        .map_err(|e| refused("lifting", id, e))
}

fn refused(verb: &str, id: &ResourceId, e: AzureError) -> ResourceError {
    if e.is_cancelled() {
        ResourceError::Cancelled(format!("{verb} the management lock on snapshot {id}: {e}"))
    } else if is_forbidden(&e) {
        ResourceError::Failed(permission_message(verb, id, &e))
    } else {
        ResourceError::Failed(format!(
            "{verb} the management lock on snapshot {id} failed: {e}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_are_datasnaps_own() {
        assert_eq!(alias_lock("Production"), "datasnap-alias-production");
        assert!(is_datasnap_lock(VERSION_LOCK));
        assert!(is_datasnap_lock(&alias_lock("x")));
        assert!(!is_datasnap_lock("legal-hold"));
    }

    #[test]
    fn a_refusal_names_the_permission_and_the_roles() {
        let id = ResourceId::new("s", "g", crate::azure::id::ResourceKind::Snapshot, "v1");
        let e = AzureError::Forbidden {
            code: "AuthorizationFailed".into(),
            message: "does not have authorization".into(),
        };
        let m = refused("placing", &id, e).to_string();
        assert!(m.contains("Microsoft.Authorization/locks/write"), "{m}");
        assert!(m.contains("Owner or User Access Administrator"), "{m}");
        assert!(m.contains("lock: false"), "{m}");
        assert!(!m.contains("Disk Snapshot Contributor"), "{m}");
    }
}
