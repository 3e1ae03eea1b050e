//! A disk or snapshot as the emulator stores it: typed fields for everything the
//! emulator reasons about (id, location, SKU, tags, size, creation data, states,
//! incremental family), and `extra` maps that carry every other property exactly as
//! the client wrote it, so a resource round-trips what DiskRP would return. The JSON
//! shape is ARM's, so the `--state FILE` format is the ARM body itself. What ARM does
//! not show (a SAS export's grants and expiry, a CopyStart copy's timing) lives beside
//! the body in [`Resource`] and is folded in when the body is rendered as of a time.

use crate::arm::id::ResourceId;
use crate::rules::{canonical_sku, sku_tier, DISK_SKUS, SNAPSHOT_SKUS};
use crate::time::rfc3339;
use crate::world::{Key, Kind};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const GIB: u64 = 1 << 30;

/// `sku` as DiskRP returns it: Azure's spelling of the name, and the tier it implies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sku {
    pub name: String,
    pub tier: String,
}

impl Sku {
    /// The requested SKU if it is one of `kind`'s, else the `fallback`'s, else Standard_LRS.
    pub fn pick(kind: Kind, requested: Option<&Value>, fallback: Option<&Sku>) -> Sku {
        let allowed = if kind == Kind::Disk {
            DISK_SKUS
        } else {
            SNAPSHOT_SKUS
        };
        let name = requested
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .and_then(|n| canonical_sku(allowed, n))
            .or_else(|| fallback.and_then(|s| canonical_sku(allowed, &s.name)))
            .unwrap_or("Standard_LRS");
        Sku::named(name)
    }

    pub fn named(name: &str) -> Sku {
        Sku {
            name: name.into(),
            tier: sku_tier(name).into(),
        }
    }
}

/// `properties.creationData`: how the resource was made; immutable once created.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationData {
    pub create_option: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    /// The source's uniqueId; only the service sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_unique_id: Option<String>,
    /// Everything else (sourceUri, imageReference, uploadSizeBytes...), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreationData {
    /// From a request's creationData object; a client's sourceUniqueId is dropped, and a
    /// sourceResourceId that is not a string stays as sent, untyped.
    pub fn from_request(mut cd: Map<String, Value>, create_option: &str) -> CreationData {
        cd.remove("createOption");
        cd.remove("sourceUniqueId");
        let source_resource_id = match cd.remove("sourceResourceId") {
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                cd.insert("sourceResourceId".into(), other);
                None
            }
            None => None,
        };
        CreationData {
            create_option: create_option.into(),
            source_resource_id,
            source_unique_id: None,
            extra: cd,
        }
    }
}

/// `properties`: the typed part the emulator reads and writes, plus the rest as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Properties {
    pub creation_data: CreationData,
    #[serde(rename = "diskSizeGB")]
    pub disk_size_gb: u64,
    pub disk_size_bytes: u64,
    pub unique_id: String,
    pub time_created: String,
    pub provisioning_state: String,
    pub disk_state: String,
    /// Snapshots only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_snapshot_family_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The keys the typed fields of [`Properties`] own.
const TYPED_PROPS: &[&str] = &[
    "creationData",
    "diskSizeGB",
    "diskSizeBytes",
    "uniqueId",
    "timeCreated",
    "provisioningState",
    "diskState",
    "incremental",
    "incrementalSnapshotFamilyId",
];

impl Properties {
    /// A new resource (provisioningState `Updating`, diskState `Unattached`) with the
    /// client's writable properties and DiskRP's defaults for what they leave out.
    pub fn new(
        creation_data: CreationData,
        size_gb: u64,
        now_ms: u64,
        writable: Map<String, Value>,
    ) -> Properties {
        let mut extra = writable;
        for k in TYPED_PROPS {
            extra.remove(*k);
        }
        crate::arm::compute::security::fill_defaults(&mut extra);
        Properties {
            creation_data,
            disk_size_gb: size_gb,
            disk_size_bytes: size_gb * GIB,
            unique_id: uuid::Uuid::new_v4().to_string(),
            time_created: rfc3339(now_ms),
            provisioning_state: "Updating".into(),
            disk_state: "Unattached".into(),
            incremental: None,
            incremental_snapshot_family_id: None,
            extra,
        }
    }

    pub fn set_size(&mut self, gb: u64) {
        self.disk_size_gb = gb;
        self.disk_size_bytes = gb * GIB;
    }

    /// Apply client-written properties (PATCH, PUT on an existing resource): a numeric
    /// diskSizeGB resizes; other service-owned keys are ignored; the rest is kept as sent.
    pub fn merge(&mut self, props: Map<String, Value>) {
        for (k, v) in props {
            if k == "diskSizeGB" {
                if let Some(gb) = v.as_u64() {
                    self.set_size(gb);
                }
            } else if !TYPED_PROPS.contains(&k.as_str()) {
                self.extra.insert(k, v);
            }
        }
    }

    /// The JSON form, for rules that compare a request with what is stored.
    pub fn to_json(&self) -> Value {
        // Serialising plain data with string keys into a Value cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The ARM body of a disk or snapshot. `name` and `type` are not fields: they are
/// written from the id, their one home (and ignored when a state file is read).
#[derive(Debug, Clone, Deserialize)]
pub struct ComputeBody {
    pub id: ResourceId,
    pub location: String,
    pub sku: Sku,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    pub properties: Properties,
    /// Top-level members the emulator does not interpret (extendedLocation, zones).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Serialize for ComputeBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("name", &self.id.name)?;
        map.serialize_entry("type", self.id.kind.type_name())?;
        map.serialize_entry("location", &self.location)?;
        map.serialize_entry("sku", &self.sku)?;
        if let Some(tags) = &self.tags {
            map.serialize_entry("tags", tags)?;
        }
        map.serialize_entry("properties", &self.properties)?;
        for (k, v) in self
            .extra
            .iter()
            .filter(|(k, _)| *k != "name" && *k != "type")
        {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl ComputeBody {
    pub fn new(id: ResourceId, location: &str, sku: Sku, properties: Properties) -> ComputeBody {
        ComputeBody {
            id,
            location: location.into(),
            sku,
            tags: None,
            properties,
            extra: Map::new(),
        }
    }
}

/// Tags as a request carries them (already checked by `rules::check_tags`): `None` if absent or null.
pub fn request_tags(request: &Value) -> Option<BTreeMap<String, String>> {
    let map = request.get("tags")?.as_object()?;
    Some(
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
    )
}

/// A background copy (CopyStart) whose completionPercent grows from 0 to 100.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyProgress {
    pub start_ms: u64,
    pub end_ms: u64,
    /// The family whose copies run one at a time, and the target region.
    pub family_id: String,
    pub location: String,
    /// The snapshot being copied: if it is deleted mid-copy, the copy fails with CopySourceNotFound.
    pub source: Option<Key>,
    /// Set when the copy failed; completionPercent stays where it stopped.
    pub error: Option<Value>,
    pub stopped_percent: Option<f64>,
}

impl CopyProgress {
    /// Whether the copy is still running at `now`.
    pub fn running(&self, now: u64) -> bool {
        now < self.end_ms && self.error.is_none()
    }
}

/// One beginGetAccess grant: one SAS URL (`si` = `id`, `sig` = `signature`, `se` = `expires_ms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SasGrant {
    pub id: String,
    pub signature: String,
    /// `Read` or `Write`, as Azure spells them.
    pub access: String,
    pub expires_ms: u64,
}

/// A resource's open SAS export (diskState `ActiveSAS`). Every grant on the resource
/// shares it: a grant while it is open adds its URL and extends `expires_ms` to the
/// later of the two; endGetAccess ends it with all its URLs; at `expires_ms` it ends by
/// itself. ARM never shows it: a render only turns it into `diskState`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SasAccess {
    pub expires_ms: u64,
    pub grants: Vec<SasGrant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The ARM representation as last written; its id says what kind of resource it is.
    pub body: ComputeBody,
    /// Operation that currently owns this resource (PUT/PATCH/DELETE/grant/revoke in flight).
    pub pending_op: Option<String>,
    /// Disks: the incrementalSnapshotFamilyId every incremental snapshot of this disk shares.
    pub family_id: Option<String>,
    pub copy: Option<CopyProgress>,
    pub created_ms: u64,
    /// The SAS export, possibly expired: read it through [`Resource::access_at`].
    /// `properties.diskState` keeps the state it falls back to when access ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<SasAccess>,
}

impl Resource {
    pub fn new(body: ComputeBody, created_ms: u64) -> Resource {
        Resource {
            body,
            pending_op: None,
            family_id: None,
            copy: None,
            created_ms,
            access: None,
        }
    }
    pub fn props(&self) -> &Properties {
        &self.body.properties
    }
    pub fn props_mut(&mut self) -> &mut Properties {
        &mut self.body.properties
    }
    pub fn kind(&self) -> Kind {
        self.body.id.kind
    }
    pub fn name(&self) -> &str {
        &self.body.id.name
    }
    pub fn location(&self) -> &str {
        &self.body.location
    }
    pub fn size_gb(&self) -> u64 {
        self.props().disk_size_gb
    }
    pub fn is_incremental(&self) -> bool {
        self.props().incremental.unwrap_or(false)
    }
    /// The SAS export open at `now`, if any (one whose expiry has passed is over).
    pub fn access_at(&self, now: u64) -> Option<&SasAccess> {
        self.access.as_ref().filter(|a| now < a.expires_ms)
    }
    pub fn has_active_sas(&self, now: u64) -> bool {
        self.access_at(now).is_some()
    }
    /// `diskState` as of `now`: `ActiveSAS` while access is open, else the stored state.
    pub fn disk_state(&self, now: u64) -> &str {
        if self.has_active_sas(now) {
            "ActiveSAS"
        } else {
            &self.props().disk_state
        }
    }
    /// Add a grant: it joins the open access (whose expiry becomes the later of the
    /// two), or opens a new one if none is open at `now`.
    pub fn grant_access(&mut self, grant: SasGrant, now: u64) {
        match self.access.as_mut().filter(|a| now < a.expires_ms) {
            Some(access) => {
                access.expires_ms = access.expires_ms.max(grant.expires_ms);
                access.grants.push(grant);
            }
            None => {
                self.access = Some(SasAccess {
                    expires_ms: grant.expires_ms,
                    grants: vec![grant],
                })
            }
        }
    }
    /// endGetAccess: the access ends, and every URL granted on it stops working.
    pub fn revoke_access(&mut self) {
        self.access = None;
    }
    /// State files from before access had an expiry stored `diskState: ActiveSAS`
    /// itself: such a resource gets an access open for the longest duration Azure grants
    /// from `now`, without URLs (the old ones never named a grant).
    pub fn upgrade_legacy_sas(&mut self, now: u64) {
        if self.props().disk_state == "ActiveSAS" {
            self.props_mut().disk_state = "Unattached".into();
            if self.access.is_none() {
                self.access = Some(SasAccess {
                    expires_ms: now + crate::arm::compute::access::MAX_SAS_SECONDS * 1000,
                    grants: Vec::new(),
                });
            }
        }
    }
    pub fn set_state(&mut self, state: &str) {
        self.props_mut().provisioning_state = state.into();
    }

    /// The representation as of `now`: CopyStart progress and `diskState` (`ActiveSAS`
    /// until access ends or expires) are computed, not stored.
    pub fn render(&self, now: u64) -> Value {
        // Serialising plain data with string keys into a Value cannot fail.
        let mut body = serde_json::to_value(&self.body).unwrap_or_default();
        body["properties"]["diskState"] = json!(self.disk_state(now));
        if let Some(copy) = &self.copy {
            let percent = copy
                .stopped_percent
                .unwrap_or_else(|| copy_percent(copy, now));
            body["properties"]["completionPercent"] = json!(percent);
            if let Some(error) = &copy.error {
                body["properties"]["copyCompletionError"] = error.clone();
            }
        }
        body
    }
}

pub fn copy_percent(copy: &CopyProgress, now: u64) -> f64 {
    if now >= copy.end_ms || copy.end_ms <= copy.start_ms {
        100.0
    } else {
        let done = (now - copy.start_ms) as f64 / (copy.end_ms - copy.start_ms) as f64;
        (done * 1000.0).floor() / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_what_the_emulator_does_not_interpret() {
        let id = ResourceId::new("s", "rg", Kind::Snapshot, "snap");
        let cd = CreationData::from_request(
            json!({"createOption": "Copy", "sourceResourceId": "/x", "sourceUniqueId": "client", "logicalSectorSize": 512})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            "Copy",
        );
        let mut props = Properties::new(
            cd,
            8,
            0,
            json!({"osType": "Linux", "diskSizeGB": 1})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        props.incremental = Some(true);
        let body = ComputeBody::new(id, "westus", Sku::named("Premium_LRS"), props);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json["id"],
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap"
        );
        assert_eq!(json["type"], "Microsoft.Compute/snapshots");
        assert_eq!(
            json["sku"],
            json!({"name": "Premium_LRS", "tier": "Premium"})
        );
        assert_eq!(json["properties"]["diskSizeGB"], 8);
        assert_eq!(json["properties"]["diskSizeBytes"], 8 * GIB);
        assert_eq!(json["properties"]["osType"], "Linux");
        assert_eq!(
            json["properties"]["creationData"],
            json!({"createOption": "Copy", "sourceResourceId": "/x", "logicalSectorSize": 512})
        );
        assert!(json.get("tags").is_none());
        assert_eq!(json["name"], "snap");
        let back: ComputeBody = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }

    fn snapshot() -> Resource {
        let id = ResourceId::new("s", "rg", Kind::Snapshot, "snap");
        let props = Properties::new(CreationData::default(), 8, 0, Map::new());
        Resource::new(
            ComputeBody::new(id, "westus", Sku::named("Standard_LRS"), props),
            0,
        )
    }

    fn grant(id: &str, expires_ms: u64) -> SasGrant {
        SasGrant {
            id: id.into(),
            signature: "sig".into(),
            access: "Read".into(),
            expires_ms,
        }
    }

    #[test]
    fn access_is_shared_extended_and_ends_at_its_expiry() {
        let mut r = snapshot();
        assert_eq!(r.render(0)["properties"]["diskState"], "Unattached");
        r.grant_access(grant("a", 2000), 1000);
        assert_eq!(r.render(1999)["properties"]["diskState"], "ActiveSAS");
        assert!(r.has_active_sas(1999) && !r.has_active_sas(2000));
        assert_eq!(r.render(2000)["properties"]["diskState"], "Unattached");
        // A grant while open joins it; the later expiry wins, whichever comes first.
        r.grant_access(grant("b", 1500), 1200);
        assert_eq!(r.access_at(1999).map(|a| a.grants.len()), Some(2));
        assert_eq!(r.access_at(1999).map(|a| a.expires_ms), Some(2000));
        r.grant_access(grant("c", 5000), 1300);
        assert!(r.has_active_sas(4999));
        // A grant after expiry starts afresh: earlier URLs are gone.
        r.grant_access(grant("d", 9000), 6000);
        assert_eq!(r.access_at(6000).map(|a| a.grants.len()), Some(1));
        r.revoke_access();
        assert!(!r.has_active_sas(6000));
        assert_eq!(r.props().disk_state, "Unattached");
    }

    #[test]
    fn legacy_active_sas_state_becomes_an_expiring_access() {
        let mut r = snapshot();
        r.props_mut().disk_state = "ActiveSAS".into();
        r.upgrade_legacy_sas(1000);
        assert_eq!(r.props().disk_state, "Unattached");
        assert!(r.has_active_sas(1000 + 5_184_000_000 - 1));
        assert!(!r.has_active_sas(1000 + 5_184_000_000));
        assert_eq!(r.render(1000)["properties"]["diskState"], "ActiveSAS");
    }
}
