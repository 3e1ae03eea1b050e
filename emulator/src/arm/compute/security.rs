//! The security properties of a disk or snapshot (DiskRP 2025-01-02): network access
//! (`networkAccessPolicy`, `diskAccessId`, `publicNetworkAccess`), `dataAccessAuthMode`
//! and encryption at rest (`encryption.type`, `encryption.diskEncryptionSetId`).
//!
//! [`check`] validates them in a properties map (a create's request, or a stored
//! resource with a PUT's or PATCH's changes merged in) and stores enum values in Azure's
//! spelling; a null (or empty) id removes it. [`fill_defaults`] adds what DiskRP returns
//! when they are not given.
//!
//! | rule | answer |
//! | --- | --- |
//! | a value outside an enum (names compare ignoring case; a number is a member's index, as in .NET) | 400 `InvalidParameter`, target the property |
//! | a malformed `diskAccessId` or `encryption.diskEncryptionSetId` | 400 `LinkedInvalidPropertyId` (ARM's message) |
//! | a well-formed id of another resource type | 400 `InvalidParameter` |
//! | `diskAccessId` with a policy other than `AllowPrivate` | 400 `ConflictingUserInput` (DiskRP's message) |
//! | `AllowPrivate` without `diskAccessId` | 400 `ConflictingUserInput` (DiskRP's message) |
//! | `EncryptionAtRestWithPlatformKey` with a disk encryption set | 400 `InvalidParameter` (DiskRP's message) |
//! | a customer-key type without a disk encryption set | 400 `InvalidParameter` |

use super::validate::{invalid_content, not_allowed};
use crate::arm::id::ArmPath;
use crate::error::{ArmError, ArmResult};
use serde_json::{json, Map, Value};

const NETWORK_ACCESS_POLICIES: &[&str] = &["AllowAll", "AllowPrivate", "DenyAll"];
const PUBLIC_NETWORK_ACCESS: &[&str] = &["Enabled", "Disabled"];
const DATA_ACCESS_AUTH_MODES: &[&str] = &["AzureActiveDirectory", "None"];
const ENCRYPTION_TYPES: &[&str] = &[
    PLATFORM_KEY,
    CUSTOMER_KEY,
    "EncryptionAtRestWithPlatformAndCustomerKeys",
];
const PLATFORM_KEY: &str = "EncryptionAtRestWithPlatformKey";
const CUSTOMER_KEY: &str = "EncryptionAtRestWithCustomerKey";

/// The resource types the two linked ids must name: (path segment, type name).
const DISK_ACCESS: (&str, &str) = ("diskAccesses", "Microsoft.Compute/diskAccesses");
const DISK_ENCRYPTION_SET: (&str, &str) =
    ("diskEncryptionSets", "Microsoft.Compute/diskEncryptionSets");

/// What DiskRP returns for a resource created without them (`dataAccessAuthMode` appears
/// only when set).
pub fn fill_defaults(props: &mut Map<String, Value>) {
    for (k, default) in [
        ("networkAccessPolicy", json!("AllowAll")),
        ("publicNetworkAccess", json!("Enabled")),
        ("encryption", json!({ "type": PLATFORM_KEY })),
    ] {
        props.entry(k).or_insert(default);
    }
}

/// Validate the security properties of `props` (of the resource `name`) and normalise them.
pub fn check(name: &str, props: &mut Map<String, Value>) -> ArmResult<()> {
    for key in [
        "networkAccessPolicy",
        "publicNetworkAccess",
        "dataAccessAuthMode",
        "encryption",
    ] {
        if props.get(key).is_some_and(Value::is_null) {
            props.remove(key);
        }
    }
    drop_unset_id(props, "diskAccessId");
    canonical(props, "networkAccessPolicy", NETWORK_ACCESS_POLICIES)?;
    canonical(props, "publicNetworkAccess", PUBLIC_NETWORK_ACCESS)?;
    canonical(props, "dataAccessAuthMode", DATA_ACCESS_AUTH_MODES)?;
    check_encryption(name, props)?;
    check_disk_access(props)
}

/// A null or empty id is no id.
fn drop_unset_id(map: &mut Map<String, Value>, key: &str) {
    if map
        .get(key)
        .is_some_and(|v| v.is_null() || v.as_str() == Some(""))
    {
        map.remove(key);
    }
}

/// `map[key]`, if present, must be one of `allowed` (ignoring case); it is stored in Azure's spelling.
fn canonical(map: &mut Map<String, Value>, key: &str, allowed: &[&str]) -> ArmResult<()> {
    canonical_at(map, key, key, allowed)
}

fn canonical_at(
    map: &mut Map<String, Value>,
    key: &str,
    target: &str,
    allowed: &[&str],
) -> ArmResult<()> {
    let Some(value) = map.get_mut(key) else {
        return Ok(());
    };
    let given = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => {
            return Err(invalid_content(format!(
                "could not convert {value} to a string. Path 'properties.{target}'."
            )))
        }
    };
    // DiskRP parses enums as .NET does: a member's name, ignoring case, or its index
    // (Microsoft's own Snapshot_GetIncrementalSnapshot example has networkAccessPolicy "0").
    let by_index = given.parse::<usize>().ok().and_then(|i| allowed.get(i));
    let known = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(&given))
        .or(by_index)
        .ok_or_else(|| not_allowed(target, &given, "", allowed))?;
    *value = json!(known);
    Ok(())
}

/// `encryption`: a known type; a disk encryption set exactly when a customer key is used
/// (a set given without a type means `EncryptionAtRestWithCustomerKey`).
fn check_encryption(name: &str, props: &mut Map<String, Value>) -> ArmResult<()> {
    let Some(encryption) = props.get_mut("encryption") else {
        return Ok(());
    };
    let Some(encryption) = encryption.as_object_mut() else {
        return Err(invalid_content(format!(
            "could not convert {encryption} to an object. Path 'properties.encryption'."
        )));
    };
    if encryption.get("type").is_some_and(Value::is_null) {
        encryption.remove("type");
    }
    drop_unset_id(encryption, "diskEncryptionSetId");
    canonical_at(encryption, "type", "encryption.type", ENCRYPTION_TYPES)?;
    let set_target = "encryption.diskEncryptionSetId";
    let has_set = match encryption.get("diskEncryptionSetId") {
        Some(id) => {
            check_linked_id(id, set_target, DISK_ENCRYPTION_SET)?;
            true
        }
        None => false,
    };
    match encryption.get("type").and_then(Value::as_str) {
        None if has_set => {
            encryption.insert("type".into(), json!(CUSTOMER_KEY));
        }
        None => {
            // `{}` says nothing: the default (or a copy's source) applies.
            if encryption.is_empty() {
                props.remove("encryption");
            }
        }
        Some(PLATFORM_KEY) if has_set => {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!(
                    "Resource {name} encrypted with platform key has disk encryption set id specified"
                ),
            )
            .with_target(set_target))
        }
        Some(PLATFORM_KEY) => {}
        Some(customer) if !has_set => {
            return Err(ArmError::bad_request(
                "InvalidParameter",
                format!(
                    "Encryption type '{customer}' requires a disk encryption set: 'encryption.diskEncryptionSetId' must be set."
                ),
            )
            .with_target(set_target))
        }
        Some(_) => {}
    }
    Ok(())
}

/// `diskAccessId` goes with `networkAccessPolicy` `AllowPrivate`, and only with it.
fn check_disk_access(props: &Map<String, Value>) -> ArmResult<()> {
    let policy = props
        .get("networkAccessPolicy")
        .and_then(Value::as_str)
        .unwrap_or("AllowAll");
    let conflict = |message: &str| {
        ArmError::bad_request("ConflictingUserInput", message).with_target("diskAccessId")
    };
    match props.get("diskAccessId") {
        Some(id) => {
            check_linked_id(id, "diskAccessId", DISK_ACCESS)?;
            if policy != "AllowPrivate" {
                return Err(conflict(
                    "Disk Access is only supported for disks with NetworkAccessPolicy AllowPrivate",
                ));
            }
        }
        None if policy == "AllowPrivate" => {
            return Err(conflict(
                "AllowPrivate NetworkAccessPolicy can only supported with Disk Access.",
            ))
        }
        None => {}
    }
    Ok(())
}

/// A linked id must be a fully qualified ARM id (else ARM's 400 LinkedInvalidPropertyId),
/// of a resource group's `expected` resource (else 400 InvalidParameter).
fn check_linked_id(value: &Value, target: &str, expected: (&str, &str)) -> ArmResult<()> {
    let Some(id) = value.as_str() else {
        return Err(invalid_content(format!(
            "could not convert {value} to a string. Path 'properties.{target}'."
        )));
    };
    if !well_formed(id) {
        return Err(ArmError::bad_request(
            "LinkedInvalidPropertyId",
            format!(
                "Property id '{id}' at path 'properties.{target}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'."
            ),
        ));
    }
    let (segment, type_name) = expected;
    let of_type = ArmPath::parse(id).is_some_and(|p| {
        p.group.is_some()
            && p.in_namespace("Microsoft.Compute")
            && p.rest.len() == 2
            && p.is(0, segment)
    });
    if !of_type {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!(
                "The value '{id}' of parameter '{target}' is not a resource id of type '{type_name}'. \
                 Expected '/subscriptions/{{subscriptionId}}/resourceGroups/{{resourceGroupName}}/providers/{type_name}/{{name}}'."
            ),
        )
        .with_target(target));
    }
    Ok(())
}

/// Whether `id` is a fully qualified ARM id: `/subscriptions/{s}[/resourceGroups/{g}]`
/// optionally followed by `/providers/{namespace}/{type}/{name}[/{type}/{name}...]`, or
/// `/providers/{namespace}/{type}/{name}...`.
fn well_formed(id: &str) -> bool {
    let Some(path) = id.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = path.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return false;
    }
    if segments[0].eq_ignore_ascii_case("providers") {
        return segments.len() >= 4 && segments.len().is_multiple_of(2);
    }
    match ArmPath::parse(id) {
        Some(p) if p.namespace.is_some() => !p.rest.is_empty() && p.rest.len().is_multiple_of(2),
        Some(p) => p.rest.is_empty(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn ids_are_fully_qualified_or_malformed() {
        for good in [
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskAccesses/a",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/x",
            "/subscriptions/s/resourceGroups/g",
            "/providers/Microsoft.Management/managementGroups/m",
        ] {
            assert!(well_formed(good), "{good}");
        }
        for bad in [
            "diskAccesses/a",
            "subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskAccesses/a",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskAccesses",
            "/subscriptions/s/resourceGroups//providers/Microsoft.Compute/diskAccesses/a",
            "/subscriptions/s/resourceGroups",
            "/providers/Microsoft.Compute",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn values_are_stored_in_azure_spelling_and_nulls_unset() {
        let mut p = props(json!({
            "networkAccessPolicy": "denyall",
            "publicNetworkAccess": "DISABLED",
            "dataAccessAuthMode": "azureactivedirectory",
            "diskAccessId": null,
            "encryption": {"type": "encryptionatrestwithplatformkey", "diskEncryptionSetId": null},
        }));
        check("d", &mut p).unwrap();
        assert_eq!(
            Value::Object(p),
            json!({
                "networkAccessPolicy": "DenyAll",
                "publicNetworkAccess": "Disabled",
                "dataAccessAuthMode": "AzureActiveDirectory",
                "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            })
        );
        let mut p = props(json!({"encryption": {"diskEncryptionSetId":
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/des"}}));
        check("d", &mut p).unwrap();
        assert_eq!(p["encryption"]["type"], CUSTOMER_KEY);
        let mut p = props(json!({"encryption": {}}));
        check("d", &mut p).unwrap();
        assert!(
            p.is_empty(),
            "an empty encryption leaves the default to apply"
        );
    }
}
