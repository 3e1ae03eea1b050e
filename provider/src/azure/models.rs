//! Serde models of the DiskRP `2025-01-02` bodies we read and write: snapshots, disks, their
//! PATCH shapes and list pages.
//!
//! Key decisions: camelCase with `Option` + `skip_serializing_if`, so we never send a field
//! we did not set; enums are open strings (Azure sends values the swagger does not list, such
//! as `"diskState": "0"`); every object has a flattened `extra` map, so fields we do not model
//! round-trip untouched.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Fields of an object that the model does not name; kept so they round-trip.
pub type Extra = serde_json::Map<String, serde_json::Value>;

fn is_false(b: &bool) -> bool {
    !*b
}

/// `Microsoft.Compute/snapshots`: a GET answer or a PUT body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Required on create; `[read, create]`.
    #[serde(default)]
    pub location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default)]
    pub properties: SnapshotProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A snapshot's `sku`: `Standard_LRS`, `Premium_LRS`, `Standard_ZRS` (tier is read-only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sku {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Sku {
    /// The `sku` of a request that names `name` (Azure fills in the tier); none for none.
    pub fn named(name: Option<&String>) -> Option<Sku> {
        name.map(|n| Sku {
            name: Some(n.clone()),
            ..Sku::default()
        })
    }
}

/// A managed disk's `sku`: `Standard_LRS`, `Premium_LRS`, `StandardSSD_LRS`, `UltraSSD_LRS`, ...
pub type DiskSku = Sku;

/// `Snapshot.properties`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotProperties {
    #[serde(default)]
    pub creation_data: CreationData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<bool>,
    #[serde(
        rename = "diskSizeGB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disk_size_gb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_size_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_snapshot_family_id: Option<String>,
    /// Copy progress of a `CopyStart` snapshot, 0..100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_completion_error: Option<CopyCompletionError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyper_v_generation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_auth_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_access_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `encryption`: how a disk or snapshot is encrypted at rest (`type` is
/// `EncryptionAtRestWithPlatformKey`, `EncryptionAtRestWithCustomerKey` or
/// `EncryptionAtRestWithPlatformAndCustomerKeys`; a customer key names its disk encryption set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_encryption_set_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Snapshot {
    /// Someone can read the snapshot through a SAS now (`diskState: ActiveSAS`, set by
    /// `beginGetAccess` until the grant expires or `endGetAccess`).
    pub fn access_open(&self) -> bool {
        self.properties
            .disk_state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("ActiveSAS"))
    }
}

/// `creationData`: where the snapshot or disk came from. Every field is create-only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationData {
    /// `Copy`, `CopyStart`, `Empty`, `Import`, ... (open string).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub create_option: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    /// `None` or `Enhanced`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_bandwidth_copy_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant_access_duration_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elastic_san_resource_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `copyCompletionError`: why a `CopyStart` copy failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyCompletionError {
    /// For example `CopySourceNotFound`.
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_message: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `SnapshotUpdate`: a PATCH body. Every field is optional; a `tags` map replaces the whole map.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<SnapshotUpdateProperties>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `SnapshotUpdate.properties` (Azure forbids keys outside its list, e.g. `incremental`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotUpdateProperties {
    #[serde(
        rename = "diskSizeGB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disk_size_gb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_auth_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One page of a list operation (`Snapshots_ListByResourceGroup`, `Disks_ListByResourceGroup`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One page of `Snapshots_ListByResourceGroup`.
pub type SnapshotList = Page<Snapshot>;

/// `Microsoft.Compute/disks`: a GET answer or a PUT body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<DiskSku>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    #[serde(default)]
    pub properties: DiskProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `Disk.properties`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskProperties {
    #[serde(default)]
    pub creation_data: CreationData,
    #[serde(
        rename = "diskSizeGB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disk_size_gb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_size_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyper_v_generation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_auth_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// Background copy progress (Ultra / Premium SSD v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub bursting_enabled: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `DiskUpdate`: a PATCH body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<DiskSku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<DiskUpdateProperties>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `DiskUpdate.properties`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskUpdateProperties {
    #[serde(
        rename = "diskSizeGB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disk_size_gb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_auth_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One page of `Disks_ListByResourceGroup`.
pub type DiskList = Page<Disk>;

/// `Microsoft.Resources/resourceGroups` (only what we need to create and read one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::path::PathBuf;

    /// The DiskRP examples folder under `$AZURE_REST_API_SPECS` (`make` sets it to a pinned
    /// copy it fetches); `None` when the variable is unset or the folder is missing.
    fn examples_dir() -> Option<PathBuf> {
        let root = PathBuf::from(std::env::var_os("AZURE_REST_API_SPECS")?);
        let dir = root.join(
            "specification/compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/examples",
        );
        dir.is_dir().then_some(dir)
    }

    /// Numbers compare by value (`100` == `100.0`); empty `tags` equals a missing one.
    fn normalize(v: &Value) -> Value {
        match v {
            Value::Number(n) => n
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| v.clone()),
            Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .filter(|(k, v)| {
                        !(k.as_str() == "tags" && v.as_object().is_some_and(|m| m.is_empty()))
                    })
                    .map(|(k, v)| (k.clone(), normalize(v)))
                    .collect(),
            ),
            _ => v.clone(),
        }
    }

    fn round_trip<T: serde::de::DeserializeOwned + Serialize>(file: &str, body: &Value) -> T {
        let parsed: T = serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("{file}: does not parse: {e}"));
        let back = serde_json::to_value(&parsed).expect("serializes");
        assert_eq!(
            normalize(&back),
            normalize(body),
            "{file}: round trip lost or changed fields"
        );
        parsed
    }

    #[test]
    fn every_official_example_parses_and_round_trips() {
        let Some(dir) = examples_dir() else {
            // `make test` sets DATASNAP_REQUIRE_SPECS: there a missing spec fails, never skips.
            assert!(
                std::env::var_os("CI").is_none()
                    && std::env::var_os("DATASNAP_REQUIRE_SPECS").is_none(),
                "the DiskRP examples are missing: set AZURE_REST_API_SPECS or run through make, \
                 which fetches the specs"
            );
            eprintln!(
                "skipping: DiskRP examples not found (set AZURE_REST_API_SPECS or run through \
                 make, which fetches the specs)"
            );
            return;
        };
        let mut checked = 0;
        for sub in ["snapshotExamples", "diskExamples"] {
            let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
                .expect("examples folder readable")
                .map(|e| e.expect("dir entry").path())
                .collect();
            files.sort();
            for path in files {
                let file = path.file_name().unwrap().to_string_lossy().to_string();
                let doc: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let is_disk = file.starts_with("Disk_");
                let is_update = file.contains("_Update");
                let is_list = file.contains("_List");
                let is_resource_op = !(file.contains("GetAccess")
                    || file.contains("_Delete")
                    || file.contains("EndGetAccess"));
                if !is_resource_op {
                    continue;
                }
                // The request body.
                for key in ["snapshot", "disk"] {
                    if let Some(body) = doc["parameters"].get(key) {
                        match (is_disk, is_update) {
                            (false, false) => {
                                round_trip::<Snapshot>(&file, body);
                            }
                            (false, true) => {
                                round_trip::<SnapshotUpdate>(&file, body);
                            }
                            (true, false) => {
                                round_trip::<Disk>(&file, body);
                            }
                            (true, true) => {
                                round_trip::<DiskUpdate>(&file, body);
                            }
                        }
                        checked += 1;
                    }
                }
                // Every response body.
                for (_status, resp) in doc["responses"].as_object().unwrap() {
                    let Some(body) = resp.get("body") else {
                        continue;
                    };
                    match (is_disk, is_list) {
                        (false, false) => {
                            round_trip::<Snapshot>(&file, body);
                        }
                        (false, true) => {
                            let list = round_trip::<SnapshotList>(&file, body);
                            assert!(!list.value.is_empty(), "{file}");
                        }
                        (true, false) => {
                            round_trip::<Disk>(&file, body);
                        }
                        (true, true) => {
                            round_trip::<DiskList>(&file, body);
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 30, "only {checked} bodies checked");
    }

    #[test]
    fn unknown_enum_values_and_fields_survive() {
        let body = serde_json::json!({
            "location": "westus",
            "properties": {
                "creationData": {"createOption": "Clone", "futureField": 1},
                "diskState": "0",
                "networkAccessPolicy": "0",
                "completionPercent": 40.5,
                "copyCompletionError": {"errorCode": "CopySourceNotFound", "errorMessage": "gone"},
                "brandNew": {"x": true}
            },
            "extendedLocation": {"name": "edge", "type": "EdgeZone"}
        });
        let s: Snapshot = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(s.properties.creation_data.create_option, "Clone");
        assert_eq!(s.properties.disk_state.as_deref(), Some("0"));
        assert_eq!(s.properties.completion_percent, Some(40.5));
        assert_eq!(
            s.properties
                .copy_completion_error
                .as_ref()
                .unwrap()
                .error_code,
            "CopySourceNotFound"
        );
        assert_eq!(serde_json::to_value(&s).unwrap(), body);
    }

    #[test]
    fn update_serializes_only_what_is_set() {
        let u = SnapshotUpdate {
            tags: Some(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"tags": {}})
        );
        let create = Snapshot {
            location: "westus".into(),
            properties: SnapshotProperties {
                creation_data: CreationData {
                    create_option: "Copy".into(),
                    source_resource_id: Some(
                        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d"
                            .into(),
                    ),
                    ..Default::default()
                },
                incremental: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            serde_json::json!({"location": "westus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d"}, "incremental": true}})
        );
    }
}
