//! Security properties of disks and snapshots (DiskRP 2025-01-02): network access policy
//! and disk access, public network access, data access auth mode, and encryption at rest.
//! Enum values, linked ids and their combinations are checked on PUT (create and upsert)
//! and on PATCH (the merged result); defaults come back on GET; copies inherit encryption.

mod common;

use common::Emu;
use serde_json::{json, Value};

const RG: &str = "rg1";

async fn world() -> Emu {
    Emu::start().await.with_disk(RG, "disk1", 8).await
}

fn disk_access(emu: &Emu) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Compute/diskAccesses/da1",
        emu.sub()
    )
}

fn encryption_set(emu: &Emu) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Compute/diskEncryptionSets/des1",
        emu.sub()
    )
}

/// A full snapshot of disk1 with `props` added to its properties.
fn snapshot_body(emu: &Emu, props: Value) -> Value {
    let mut body = json!({"location": "westus", "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": emu.id(RG, "disks", "disk1")}}});
    for (k, v) in props.as_object().cloned().unwrap_or_default() {
        body["properties"][k] = v;
    }
    body
}

#[tokio::test]
async fn defaults_are_returned_like_azure() {
    let emu = world().await;
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s1"),
            snapshot_body(&emu, json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let props = &emu.get(&emu.path(RG, "snapshots", "s1")).await.body["properties"];
    assert_eq!(props["networkAccessPolicy"], "AllowAll");
    assert_eq!(props["publicNetworkAccess"], "Enabled");
    assert_eq!(
        props["encryption"],
        json!({"type": "EncryptionAtRestWithPlatformKey"})
    );
    assert!(props.get("dataAccessAuthMode").is_none());
    assert!(props.get("diskAccessId").is_none());
    emu.stop().await;
}

#[tokio::test]
async fn values_round_trip_in_azure_spelling() {
    let emu = world().await;
    let (da, des) = (disk_access(&emu), encryption_set(&emu));
    let r = emu
        .put(
            &emu.path(RG, "disks", "private"),
            json!({"location": "westus", "properties": {
                "creationData": {"createOption": "Empty"}, "diskSizeGB": 4,
                "networkAccessPolicy": "allowprivate", "diskAccessId": da,
                "publicNetworkAccess": "DISABLED", "dataAccessAuthMode": "azureActiveDirectory",
                "encryption": {"type": "encryptionAtRestWithCustomerKey", "diskEncryptionSetId": des}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let props = &emu.get(&emu.path(RG, "disks", "private")).await.body["properties"];
    assert_eq!(props["networkAccessPolicy"], "AllowPrivate");
    assert_eq!(props["diskAccessId"], json!(da));
    assert_eq!(props["publicNetworkAccess"], "Disabled");
    assert_eq!(props["dataAccessAuthMode"], "AzureActiveDirectory");
    assert_eq!(
        props["encryption"],
        json!({"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des})
    );
    emu.stop().await;
}

#[tokio::test]
async fn enum_values_are_checked() {
    let emu = world().await;
    let p = emu.path(RG, "snapshots", "s1");
    for (props, target) in [
        (
            json!({"networkAccessPolicy": "AllowSome"}),
            "networkAccessPolicy",
        ),
        (
            json!({"publicNetworkAccess": "Maybe"}),
            "publicNetworkAccess",
        ),
        (
            json!({"dataAccessAuthMode": "Kerberos"}),
            "dataAccessAuthMode",
        ),
        (json!({"encryption": {"type": "Rot13"}}), "encryption.type"),
    ] {
        let r = emu.put(&p, snapshot_body(&emu, props.clone())).await;
        assert_eq!(r.refused(), (400, "InvalidParameter"), "{props}");
        assert_eq!(r.body["error"]["target"], target, "{props}");
        assert!(
            r.message().contains("Allowed values are"),
            "{}",
            r.message()
        );
    }
    let r = emu
        .put(
            &p,
            snapshot_body(&emu, json!({"networkAccessPolicy": true})),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidRequestContent"));
    assert_eq!(
        emu.get(&p).await.refused(),
        (404, "ResourceNotFound"),
        "nothing was created"
    );
    emu.stop().await;
}

#[tokio::test]
async fn linked_ids_must_be_well_formed_and_of_their_type() {
    let emu = world().await;
    let p = emu.path(RG, "snapshots", "s1");
    let r = emu
        .put(
            &p,
            snapshot_body(
                &emu,
                json!({"networkAccessPolicy": "AllowPrivate", "diskAccessId": "diskAccesses/da1"}),
            ),
        )
        .await;
    assert_eq!(r.refused(), (400, "LinkedInvalidPropertyId"));
    assert_eq!(
        r.message(),
        "Property id 'diskAccesses/da1' at path 'properties.diskAccessId' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'."
    );
    let r = emu
        .put(
            &p,
            snapshot_body(
                &emu,
                json!({"encryption": {"type": "EncryptionAtRestWithCustomerKey",
                    "diskEncryptionSetId": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets"}}),
            ),
        )
        .await;
    assert_eq!(r.refused(), (400, "LinkedInvalidPropertyId"));
    assert!(r
        .message()
        .contains("at path 'properties.encryption.diskEncryptionSetId'"));
    // Well-formed, but not a disk access / disk encryption set.
    let r = emu
        .put(
            &p,
            snapshot_body(
                &emu,
                json!({"networkAccessPolicy": "AllowPrivate", "diskAccessId": encryption_set(&emu)}),
            ),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    assert_eq!(r.body["error"]["target"], "diskAccessId");
    assert!(r.message().contains("Microsoft.Compute/diskAccesses"));
    let r = emu
        .put(
            &p,
            snapshot_body(
                &emu,
                json!({"encryption": {"type": "EncryptionAtRestWithCustomerKey",
                    "diskEncryptionSetId": disk_access(&emu)}}),
            ),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    assert_eq!(r.body["error"]["target"], "encryption.diskEncryptionSetId");
    emu.stop().await;
}

#[tokio::test]
async fn combinations_are_checked() {
    let emu = world().await;
    let p = emu.path(RG, "snapshots", "s1");
    let (da, des) = (disk_access(&emu), encryption_set(&emu));
    let cases = [
        (
            json!({"diskAccessId": da}),
            "ConflictingUserInput",
            "diskAccessId",
            "Disk Access is only supported for disks with NetworkAccessPolicy AllowPrivate",
        ),
        (
            json!({"networkAccessPolicy": "DenyAll", "diskAccessId": da}),
            "ConflictingUserInput",
            "diskAccessId",
            "Disk Access is only supported for disks with NetworkAccessPolicy AllowPrivate",
        ),
        (
            json!({"networkAccessPolicy": "AllowPrivate"}),
            "ConflictingUserInput",
            "diskAccessId",
            "AllowPrivate NetworkAccessPolicy can only supported with Disk Access.",
        ),
        (
            json!({"encryption": {"type": "EncryptionAtRestWithPlatformAndCustomerKeys"}}),
            "InvalidParameter",
            "encryption.diskEncryptionSetId",
            "Encryption type 'EncryptionAtRestWithPlatformAndCustomerKeys' requires a disk encryption set: 'encryption.diskEncryptionSetId' must be set.",
        ),
        (
            json!({"encryption": {"type": "EncryptionAtRestWithPlatformKey", "diskEncryptionSetId": des}}),
            "InvalidParameter",
            "encryption.diskEncryptionSetId",
            "Resource s1 encrypted with platform key has disk encryption set id specified",
        ),
    ];
    for (props, code, target, message) in cases {
        let r = emu.put(&p, snapshot_body(&emu, props.clone())).await;
        assert_eq!(r.refused(), (400, code), "{props}");
        assert_eq!(r.body["error"]["target"], target, "{props}");
        assert_eq!(r.message(), message, "{props}");
    }
    // A disk encryption set without a type means a customer key.
    let r = emu
        .put(
            &p,
            snapshot_body(&emu, json!({"encryption": {"diskEncryptionSetId": des}})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["properties"]["encryption"]["type"],
        "EncryptionAtRestWithCustomerKey"
    );
    emu.stop().await;
}

#[tokio::test]
async fn patch_updates_in_place_and_checks_the_result() {
    let emu = world().await;
    let p = emu.path(RG, "snapshots", "s1");
    assert_eq!(
        emu.put(&p, snapshot_body(&emu, json!({}))).await.status,
        200
    );
    let (da, des) = (disk_access(&emu), encryption_set(&emu));
    let patch = |props: Value| emu.patch(&p, json!({ "properties": props }));

    let r =
        patch(json!({"networkAccessPolicy": "denyAll", "publicNetworkAccess": "Disabled"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["networkAccessPolicy"], "DenyAll");
    // AllowPrivate needs its disk access; nothing changes when it is refused.
    let r = patch(json!({"networkAccessPolicy": "AllowPrivate"})).await;
    assert_eq!(r.refused(), (400, "ConflictingUserInput"));
    assert_eq!(
        emu.get(&p).await.body["properties"]["networkAccessPolicy"],
        "DenyAll"
    );
    let r = patch(json!({"networkAccessPolicy": "AllowPrivate", "diskAccessId": da})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["diskAccessId"], json!(da));
    // Leaving AllowPrivate means clearing the disk access too (null removes it).
    let r = patch(json!({"networkAccessPolicy": "AllowAll"})).await;
    assert_eq!(r.refused(), (400, "ConflictingUserInput"));
    let r = patch(json!({"networkAccessPolicy": "AllowAll", "diskAccessId": null})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["properties"].get("diskAccessId").is_none());
    assert_eq!(r.body["properties"]["publicNetworkAccess"], "Disabled");
    // Encryption: a customer key needs its set; switching back to the platform key drops it.
    let r = patch(json!({"encryption": {"type": "EncryptionAtRestWithCustomerKey"}})).await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    let r = patch(json!({"encryption": {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des}})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = patch(json!({"dataAccessAuthMode": "None"})).await;
    assert_eq!(
        r.body["properties"]["encryption"],
        json!({"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des}),
        "a PATCH keeps what it does not name"
    );
    assert_eq!(r.body["properties"]["dataAccessAuthMode"], "None");
    let r = patch(json!({"encryption": {"type": "EncryptionAtRestWithPlatformKey"}})).await;
    assert_eq!(
        r.body["properties"]["encryption"],
        json!({"type": "EncryptionAtRestWithPlatformKey"})
    );
    // A PUT on the existing name (an upsert) is checked the same way.
    let r = emu
        .put(
            &p,
            snapshot_body(&emu, json!({"networkAccessPolicy": "Nowhere"})),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    let r = emu
        .put(
            &p,
            snapshot_body(&emu, json!({"networkAccessPolicy": "AllowPrivate"})),
        )
        .await;
    assert_eq!(r.refused(), (400, "ConflictingUserInput"));
    emu.stop().await;
}

#[tokio::test]
async fn copies_inherit_their_source_encryption() {
    let emu = world().await;
    let des = encryption_set(&emu);
    let cmk = json!({"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des});
    let r = emu
        .patch(
            &emu.path(RG, "disks", "disk1"),
            json!({"properties": {"encryption": cmk}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let disk = emu.id(RG, "disks", "disk1");
    let r = emu.create_snapshot(RG, "inc1", &disk, true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["encryption"], cmk);
    // A disk restored from it inherits it too; an explicit encryption wins.
    let r = emu
        .put(
            &emu.path(RG, "disks", "restored"),
            json!({"location": "westus", "properties": {"creationData": {
                "createOption": "Copy", "sourceResourceId": emu.id(RG, "snapshots", "inc1")}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["encryption"], cmk);
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "full"),
            snapshot_body(
                &emu,
                json!({"encryption": {"type": "EncryptionAtRestWithPlatformKey"}}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["properties"]["encryption"],
        json!({"type": "EncryptionAtRestWithPlatformKey"})
    );
    emu.stop().await;
}
