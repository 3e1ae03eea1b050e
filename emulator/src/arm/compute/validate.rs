//! The rules of a disk or snapshot request body, before anything is looked up: its
//! shape (object, typed members, tags, SKU), the required members of a create
//! (location, creationData.createOption), which properties a client may write, and
//! which ones can never change after create. Each failure is ARM's error for it.

use crate::error::{ArmError, ArmResult};
use crate::regions;
use crate::rules::{
    canonical_sku, check_request_tags, location_required, DISK_SKUS, SNAPSHOT_SKUS,
};
use crate::world::Kind;
use serde_json::{Map, Value};

/// Properties only the service sets; values sent by clients are ignored.
const READ_ONLY_PROPS: &[&str] = &[
    "timeCreated",
    "diskSizeBytes",
    "uniqueId",
    "provisioningState",
    "diskState",
    "incrementalSnapshotFamilyId",
    "snapshotAccessState",
    "completionPercent",
    "copyCompletionError",
    "managedByExtended",
    "shareInfo",
    "propertyUpdatesInProgress",
    "LastOwnershipUpdateTime",
    "lastOwnershipUpdateTime",
];

/// Create-time properties: present in a PUT on an existing resource, they must not change.
pub const CREATE_ONLY_PROPS: &[&str] = &[
    "incremental",
    "hyperVGeneration",
    "purchasePlan",
    "securityProfile",
];

/// creationData members that name a source: a PUT on an existing resource may not drop them.
pub const SOURCE_MEMBERS: &[&str] = &[
    "sourceResourceId",
    "sourceUri",
    "storageAccountId",
    "elasticSanResourceId",
];

const SNAPSHOT_PATCHABLE: &[&str] = &[
    "osType",
    "diskSizeGB",
    "encryptionSettingsCollection",
    "encryption",
    "networkAccessPolicy",
    "diskAccessId",
    "supportsHibernation",
    "publicNetworkAccess",
    "dataAccessAuthMode",
    "supportedCapabilities",
];

const DISK_PATCHABLE: &[&str] = &[
    "osType",
    "diskSizeGB",
    "encryptionSettingsCollection",
    "diskIOPSReadWrite",
    "diskMBpsReadWrite",
    "diskIOPSReadOnly",
    "diskMBpsReadOnly",
    "maxShares",
    "encryption",
    "networkAccessPolicy",
    "diskAccessId",
    "tier",
    "burstingEnabled",
    "purchasePlan",
    "supportedCapabilities",
    "supportsHibernation",
    "publicNetworkAccess",
    "dataAccessAuthMode",
    "optimizedForFrequentAttach",
    "availabilityPolicy",
];

const CREATE_OPTIONS: &[&str] = &[
    "Empty",
    "Attach",
    "FromImage",
    "Import",
    "Copy",
    "Restore",
    "Upload",
    "CopyStart",
    "ImportSecure",
    "UploadPreparedSecure",
    "CopyFromSanSnapshot",
];

pub fn invalid_content(message: impl Into<String>) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestContent",
        format!(
            "The request content was invalid and could not be deserialized: {}",
            message.into()
        ),
    )
}

pub fn missing(param: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidParameter",
        format!("Required parameter '{param}' is missing (null)."),
    )
    .with_target(param)
}

/// InvalidParameter for a value outside its allowed set.
pub fn not_allowed(param: &str, value: &str, what: &str, allowed: &[&str]) -> ArmError {
    ArmError::bad_request(
        "InvalidParameter",
        format!(
            "The value '{value}' of parameter '{param}' is not allowed{what}. Allowed values are {}.",
            allowed.join(", ")
        ),
    )
    .with_target(param)
}

/// The shape every PUT and PATCH body must have: an object; valid tags; a known SKU;
/// `properties` an object whose `incremental` is a boolean and `diskSizeGB` an integer.
pub fn check_top_level(kind: Kind, request: &Value) -> ArmResult<()> {
    if !request.is_object() {
        return Err(invalid_content("the body must be a JSON object."));
    }
    check_request_tags(request)?;
    if let Some(sku) = request.get("sku").filter(|s| !s.is_null()) {
        check_sku(kind, sku)?;
    }
    if let Some(props) = request.get("properties").filter(|p| !p.is_null()) {
        if !props.is_object() {
            return Err(invalid_content("'properties' must be an object."));
        }
        check_member(props, "incremental", "a boolean", Value::is_boolean)?;
        check_member(props, "diskSizeGB", "an integer", |v| v.as_u64().is_some())?;
    }
    Ok(())
}

fn check_sku(kind: Kind, sku: &Value) -> ArmResult<()> {
    let name = sku
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_content("'sku.name' must be a string."))?;
    let allowed = if kind == Kind::Disk {
        DISK_SKUS
    } else {
        SNAPSHOT_SKUS
    };
    match canonical_sku(allowed, name) {
        Some(_) => Ok(()),
        None => Err(not_allowed(
            "sku.name",
            name,
            &format!(" for {}s", kind.noun()),
            allowed,
        )),
    }
}

/// A non-null `properties.{name}` must pass `ok`, else it "could not convert" to `what`.
fn check_member(props: &Value, name: &str, what: &str, ok: fn(&Value) -> bool) -> ArmResult<()> {
    match props.get(name).filter(|v| !v.is_null()) {
        Some(v) if !ok(v) => Err(invalid_content(format!(
            "could not convert {v} to {what}. Path 'properties.{name}'."
        ))),
        _ => Ok(()),
    }
}

/// The members a create needs, checked in ARM's order.
pub struct CreateRequest<'a> {
    pub location: String,
    pub props: &'a Value,
    pub creation: &'a Value,
    /// Azure's spelling of the requested createOption.
    pub create_option: &'static str,
}

/// Location (an Azure region), properties, creationData and a known createOption, or the
/// error for the first missing.
pub fn create_request(kind: Kind, request: &Value) -> ArmResult<CreateRequest<'_>> {
    let location = match request.get("location") {
        Some(Value::String(l)) if !l.is_empty() => l.clone(),
        Some(Value::Null) | None => return Err(location_required()),
        Some(_) => return Err(invalid_content("'location' must be a string.")),
    };
    regions::check_for_type(&location, kind.type_name())?;
    let props = request
        .get("properties")
        .filter(|p| p.is_object())
        .ok_or_else(|| missing("properties"))?;
    let creation = props
        .get("creationData")
        .filter(|c| c.is_object())
        .ok_or_else(|| missing("creationData"))?;
    let requested = creation
        .get("createOption")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("createOption"))?;
    let create_option = CREATE_OPTIONS
        .iter()
        .copied()
        .find(|o| o.eq_ignore_ascii_case(requested))
        .ok_or_else(|| not_allowed("createOption", requested, "", CREATE_OPTIONS))?;
    Ok(CreateRequest {
        location,
        props,
        creation,
        create_option,
    })
}

/// A PATCH may name only the members of DiskUpdateProperties / SnapshotUpdateProperties.
pub fn check_patchable(kind: Kind, request: &Value) -> ArmResult<()> {
    let (allowed, type_name) = if kind == Kind::Disk {
        (DISK_PATCHABLE, "DiskUpdateProperties")
    } else {
        (SNAPSHOT_PATCHABLE, "SnapshotUpdateProperties")
    };
    let props = request.get("properties").and_then(Value::as_object);
    match props.and_then(|p| p.keys().find(|k| !allowed.contains(&k.as_str()))) {
        Some(bad) => Err(invalid_content(format!(
            "Could not find member '{bad}' on object of type '{type_name}'. Path 'properties.{bad}'."
        ))),
        None => Ok(()),
    }
}

/// Strip what clients may not set, leaving the writable properties of a request.
pub fn writable_props(request: &Value) -> Map<String, Value> {
    let mut props = request
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for p in READ_ONLY_PROPS {
        props.remove(*p);
    }
    if let Some(cd) = props.get_mut("creationData").and_then(Value::as_object_mut) {
        cd.remove("sourceUniqueId");
    }
    props
}

/// Sizes only grow.
pub fn check_grow_only(kind: Kind, current: u64, requested: Option<u64>) -> ArmResult<()> {
    match requested {
        Some(s) if s < current => Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The {} size can only be increased: requested {s} GB, current {current} GB.",
                kind.noun()
            ),
        )
        .with_target("diskSizeGB")),
        _ => Ok(()),
    }
}
