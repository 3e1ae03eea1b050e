//! The emulated Azure world as plain data: resource groups, disks, snapshots, the
//! management locks on them, and long-running operations. Operations finish lazily: [`World::settle`] runs at the
//! start of every request and applies whatever became due, so no timers or tasks exist
//! and memory holds only resources plus recent operations.

use crate::arm::id::LockScope;
use crate::config::Config;
use crate::resource::{copy_percent, Resource, SasGrant};
use crate::rules::normalize_location;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    Disk,
    Snapshot,
}

impl Kind {
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Disk => "Microsoft.Compute/disks",
            Kind::Snapshot => "Microsoft.Compute/snapshots",
        }
    }
    pub fn segment(self) -> &'static str {
        match self {
            Kind::Disk => "disks",
            Kind::Snapshot => "snapshots",
        }
    }
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Disk => "disk",
            Kind::Snapshot => "snapshot",
        }
    }
    pub fn from_segment(s: &str) -> Option<Kind> {
        if s.eq_ignore_ascii_case("disks") {
            Some(Kind::Disk)
        } else if s.eq_ignore_ascii_case("snapshots") {
            Some(Kind::Snapshot)
        } else {
            None
        }
    }
}

/// (kind, lower-case resource group, lower-case name): ARM names are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key(pub Kind, pub String, pub String);

impl Key {
    pub fn new(kind: Kind, rg: &str, name: &str) -> Key {
        Key(kind, rg.to_ascii_lowercase(), name.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    pub name: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
    /// Set while an asynchronous DELETE runs (provisioningState `Deleting`).
    #[serde(default)]
    pub deleting: bool,
}

impl ResourceGroup {
    pub fn to_json(&self, subscription: &str) -> Value {
        let mut v = json!({
            "id": format!("/subscriptions/{subscription}/resourceGroups/{}", self.name),
            "name": self.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "properties": {"provisioningState": if self.deleting {"Deleting"} else {"Succeeded"}},
        });
        if let Some(tags) = &self.tags {
            v["tags"] = tags.clone();
        }
        v
    }
}

/// A management lock (Microsoft.Authorization/locks) on a resource group or a disk or
/// snapshot: `CanNotDelete` refuses deletes, `ReadOnly` refuses deletes and writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementLock {
    pub scope: LockScope,
    pub name: String,
    /// Azure's spelling: `CanNotDelete` or `ReadOnly`.
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Value>,
}

impl ManagementLock {
    pub fn id(&self) -> String {
        format!(
            "{}/providers/Microsoft.Authorization/locks/{}",
            self.scope, self.name
        )
    }

    /// The world's key for this lock: its id, lower-cased (ARM names are case-insensitive).
    pub fn key(&self) -> String {
        self.id().to_ascii_lowercase()
    }

    pub fn read_only(&self) -> bool {
        self.level == "ReadOnly"
    }

    pub fn to_json(&self) -> Value {
        let mut properties = json!({ "level": self.level });
        if let Some(notes) = &self.notes {
            properties["notes"] = json!(notes);
        }
        if let Some(owners) = &self.owners {
            properties["owners"] = owners.clone();
        }
        json!({
            "id": self.id(),
            "name": self.name,
            "type": "Microsoft.Authorization/locks",
            "properties": properties,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Put,
    Patch,
    Delete,
    GrantAccess,
    RevokeAccess,
    DeleteGroup,
}

/// How an operation ends; Failed/Canceled come from injected faults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status")]
pub enum Outcome {
    Succeeded,
    Failed { code: String, message: String },
    Canceled { code: String, message: String },
}

impl Outcome {
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "Succeeded",
            Outcome::Failed { .. } => "Failed",
            Outcome::Canceled { .. } => "Canceled",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    pub kind: OpKind,
    pub target: Option<Key>,
    /// Resource group name (DeleteGroup).
    pub group: Option<String>,
    /// Normalised region, part of the DiskOperations URL.
    pub location: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub outcome: Outcome,
    pub done: bool,
    /// Result document (grant access: `{accessSAS}`), returned by the final poll.
    pub output: Option<Value>,
    /// provisioningState to restore when a DELETE fails or is canceled.
    pub prior_state: Option<String>,
    /// The grant a beginGetAccess adds when it succeeds; a GrantAccess without one
    /// (access `None`) revokes, as RevokeAccess does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<SasGrant>,
}

/// Finished operations stay pollable this long, then are forgotten.
const OPERATION_RETENTION_MS: u64 = 15 * 60 * 1000;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    #[serde(with = "resource_list")]
    pub resources: BTreeMap<Key, Resource>,
    pub operations: BTreeMap<String, Operation>,
    /// Management locks by [`ManagementLock::key`].
    #[serde(default, with = "lock_list")]
    pub locks: BTreeMap<String, ManagementLock>,
    /// Earliest end time of an unfinished operation: settle is a no-op before it.
    #[serde(skip)]
    pub next_due_ms: Option<u64>,
    /// Changed since the last write of `--state FILE`.
    #[serde(skip)]
    pub dirty: bool,
}

/// JSON object keys must be strings, so resources are stored as a list.
mod resource_list {
    use super::{Key, Resource};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<Key, Resource>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        map.values().collect::<Vec<_>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Key, Resource>, D::Error> {
        let list = Vec::<Resource>::deserialize(d)?;
        Ok(list.into_iter().map(|r| (r.body.id.key(), r)).collect())
    }
}

/// Locks are stored as a list too, each keyed again by its id when read.
mod lock_list {
    use super::ManagementLock;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, ManagementLock>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        map.values().collect::<Vec<_>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, ManagementLock>, D::Error> {
        let list = Vec::<ManagementLock>::deserialize(d)?;
        Ok(list.into_iter().map(|l| (l.key(), l)).collect())
    }
}

impl World {
    pub fn load(path: &Path) -> std::io::Result<World> {
        let text = std::fs::read_to_string(path)?;
        let mut world: World = serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("state file {}: {e}", path.display()),
            )
        })?;
        let now = crate::time::now_ms();
        for r in world.resources.values_mut() {
            r.upgrade_legacy_sas(now);
        }
        world.recompute_due();
        Ok(world)
    }

    pub fn is_empty(&self) -> bool {
        self.resource_groups.is_empty() && self.resources.is_empty()
    }

    pub fn clear(&mut self) {
        self.resource_groups.clear();
        self.resources.clear();
        self.operations.clear();
        self.locks.clear();
        self.next_due_ms = None;
        self.dirty = true;
    }

    pub fn group(&self, name: &str) -> Option<&ResourceGroup> {
        self.resource_groups.get(&name.to_ascii_lowercase())
    }

    pub fn recompute_due(&mut self) {
        self.next_due_ms = self
            .operations
            .values()
            .filter(|o| !o.done)
            .map(|o| o.end_ms)
            .min();
    }

    pub fn add_operation(&mut self, op: Operation) {
        self.next_due_ms = Some(self.next_due_ms.map_or(op.end_ms, |d| d.min(op.end_ms)));
        self.operations.insert(op.id.clone(), op);
        self.dirty = true;
    }

    /// Apply every operation whose end time has passed. Returns whether anything changed.
    pub fn settle(&mut self, now: u64, _config: &Config) -> bool {
        match self.next_due_ms {
            Some(due) if due <= now => {}
            _ => return false,
        }
        let due: Vec<String> = self
            .operations
            .values()
            .filter(|o| !o.done && o.end_ms <= now)
            .map(|o| o.id.clone())
            .collect();
        for id in due {
            self.finish(&id);
        }
        self.operations
            .retain(|_, o| !o.done || o.end_ms + OPERATION_RETENTION_MS > now);
        self.recompute_due();
        true
    }

    fn finish(&mut self, id: &str) {
        let Some(op) = self.operations.get_mut(id) else {
            return;
        };
        op.done = true;
        let op = op.clone();
        let ok = op.outcome == Outcome::Succeeded;
        if op.kind == OpKind::DeleteGroup {
            if let Some(group) = &op.group {
                let lower = group.to_ascii_lowercase();
                if ok {
                    self.remove_group(&lower);
                } else if let Some(g) = self.resource_groups.get_mut(&lower) {
                    g.deleting = false;
                }
            }
            return;
        }
        let Some(key) = &op.target else { return };
        let Some(resource) = self.resources.get_mut(key) else {
            return;
        };
        if resource.pending_op.as_deref() == Some(id) {
            resource.pending_op = None;
        }
        match (op.kind, ok) {
            (OpKind::Delete, true) => {
                let key = key.clone();
                self.remove_where(|k| *k == key);
            }
            (OpKind::Delete, false) => {
                let prior = op.prior_state.as_deref().unwrap_or("Succeeded");
                resource.set_state(prior);
            }
            (OpKind::GrantAccess | OpKind::RevokeAccess, true) => match op.grant {
                // The grant joins whatever access was open when the operation ended.
                Some(grant) => resource.grant_access(grant, op.end_ms),
                None => resource.revoke_access(),
            },
            (OpKind::GrantAccess | OpKind::RevokeAccess, false) => {}
            (_, _) => {
                resource.set_state(op.outcome.status());
            }
        }
    }

    /// Remove a resource group (by lower-case name) with everything in it and its locks.
    pub fn remove_group(&mut self, lower: &str) {
        self.resource_groups.remove(lower);
        self.remove_where(|k| k.1 == lower);
        self.locks
            .retain(|_, l| !l.scope.group().eq_ignore_ascii_case(lower));
        self.dirty = true;
    }

    /// Remove resources and their locks, failing any CopyStart copy still reading from one of them.
    pub fn remove_where(&mut self, gone: impl Fn(&Key) -> bool) {
        let removed: Vec<Key> = self.resources.keys().filter(|k| gone(k)).cloned().collect();
        if removed.is_empty() {
            return;
        }
        let now = crate::time::now_ms();
        for key in &removed {
            self.resources.remove(key);
        }
        self.locks
            .retain(|_, l| l.scope.resource().is_none_or(|k| !removed.contains(&k)));
        for r in self.resources.values_mut() {
            let Some(copy) = r.copy.as_mut() else {
                continue;
            };
            let reading = copy.source.as_ref().is_some_and(|s| removed.contains(s));
            if reading && copy.running(now) {
                copy.stopped_percent = Some(copy_percent(copy, now));
                copy.error = Some(json!({
                    "errorCode": "CopySourceNotFound",
                    "errorMessage": "The source snapshot of this copy was deleted before the copy completed."
                }));
            }
        }
        self.dirty = true;
    }

    /// Regions' and families' copies in flight (CopyStart copies of one family run one at a time).
    pub fn copy_in_progress(&self, family_id: &str, location: &str, now: u64) -> Option<&Resource> {
        let location = normalize_location(location);
        self.resources.values().find(|r| {
            r.copy.as_ref().is_some_and(|c| {
                c.family_id == family_id
                    && normalize_location(&c.location) == location
                    && c.running(now)
            })
        })
    }
}
