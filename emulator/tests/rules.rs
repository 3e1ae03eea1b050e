//! Azure's rules (issue #3 point 4): names, required fields, PUT as upsert with
//! immutable create-time properties, read-only properties, incremental snapshot rules,
//! tag limits, ResourceNotFound vs ResourceGroupNotFound, 409 while busy, CopyStart.

mod common;

use common::{Emu, API};
use reqwest::Method;
use serde_json::{json, Value};

const RG: &str = "rg1";

async fn world() -> Emu {
    let emu = Emu::start().await.with_disk(RG, "disk1", 64).await;
    emu
}

#[tokio::test]
async fn name_rules_are_enforced() {
    let emu = world().await;
    let disk = emu.id(RG, "disks", "disk1");
    for bad in [
        "-starts-with-dash",
        "ends-with-dash-",
        "ends.with.period.",
        &"a".repeat(81),
    ] {
        let r = emu.create_snapshot(RG, bad, &disk, true).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.code(), "InvalidResourceName");
    }
    let r = emu.create_snapshot(RG, &"a".repeat(80), &disk, true).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = emu
        .put(&emu.group_path("bad."), json!({"location": "westus"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InvalidResourceGroupName");
    emu.stop().await;
}

#[tokio::test]
async fn required_fields_and_malformed_bodies() {
    let emu = world().await;
    let p = emu.path(RG, "snapshots", "s1");
    let disk = emu.id(RG, "disks", "disk1");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}}}),
            "LocationRequired",
        ),
        (json!({"location": "westus"}), "InvalidParameter"),
        (
            json!({"location": "westus", "properties": {}}),
            "InvalidParameter",
        ),
        (
            json!({"location": "westus", "properties": {"creationData": {}}}),
            "InvalidParameter",
        ),
        (
            json!({"location": "westus", "properties": {"creationData": {"createOption": "Copy"}}}),
            "InvalidParameter",
        ),
        (
            json!({"location": "westus", "properties": {"creationData": {"createOption": "Clone"}}}),
            "InvalidParameter",
        ),
        (
            json!({"location": "westus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}, "incremental": "yes"}}),
            "InvalidRequestContent",
        ),
        (
            json!({"location": "westus", "sku": {"name": "UltraSSD_LRS"}, "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}}}),
            "InvalidParameter",
        ),
    ];
    for (body, code) in cases {
        let r = emu.put(&p, body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.code(), code, "{body} -> {:?}", r.body);
        assert_eq!(r.header("x-ms-error-code").as_deref(), Some(code));
    }
    let r = emu
        .put(&emu.path(RG, "disks", "d2"), json!({"location": "westus", "properties": {"creationData": {"createOption": "Empty"}}}))
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    assert_eq!(r.body["error"]["target"], "diskSizeGB");
    let raw = emu
        .client
        .put(format!("{}{}", emu.base, p))
        .bearer_auth(&emu.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidRequestContent");
    let r = emu
        .put(&p, json!({"location": "westus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": emu.id(RG, "disks", "nope")}}}))
        .await;
    assert_eq!(r.refused(), (404, "NotFound"));
    emu.stop().await;
}

#[tokio::test]
async fn put_is_an_upsert_and_create_time_properties_are_immutable() {
    let emu = world().await;
    emu.create_disk(RG, "disk2", 32).await;
    let disk = emu.id(RG, "disks", "disk1");
    let first = emu.create_snapshot(RG, "s1", &disk, true).await;
    assert_eq!(first.status, 200);
    let again = emu.create_snapshot(RG, "S1", &disk, true).await;
    assert_eq!(again.status, 200, "a second identical PUT is accepted");
    assert_eq!(
        again.body["properties"]["uniqueId"],
        first.body["properties"]["uniqueId"]
    );
    assert_eq!(
        again.body["properties"]["timeCreated"],
        first.body["properties"]["timeCreated"]
    );
    assert_eq!(again.body["name"], "s1", "the stored casing is kept");

    let r = emu
        .create_snapshot(RG, "s1", &emu.id(RG, "disks", "disk2"), true)
        .await;
    assert_eq!(r.refused(), (400, "PropertyChangeNotAllowed"));
    assert!(r.message().contains("sourceResourceId"));
    let r = emu.create_snapshot(RG, "s1", &disk, false).await;
    assert_eq!(r.refused(), (400, "PropertyChangeNotAllowed"));
    assert_eq!(r.body["error"]["target"], "incremental");
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s1"),
            json!({"location": "eastus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}}}),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidResourceLocation"));
    // A source id without the leading slash (as Microsoft's examples write it) is the same source.
    let r = emu
        .create_snapshot(RG, "s1", disk.trim_start_matches('/'), true)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Mutable properties change through PUT.
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s1"),
            json!({"location": "West US", "tags": {"a": "b"}, "sku": {"name": "Standard_ZRS"},
                   "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}, "incremental": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["tags"], json!({"a": "b"}));
    assert_eq!(
        r.body["sku"],
        json!({"name": "Standard_ZRS", "tier": "Standard"})
    );
    emu.stop().await;
}

#[tokio::test]
async fn read_only_properties_are_set_by_the_service() {
    let emu = world().await;
    let disk = emu.id(RG, "disks", "disk1");
    let disk_body = emu.get(&emu.path(RG, "disks", "disk1")).await.body;
    let r = emu
        .put(
            &emu.path(RG, "snapshots", "s1"),
            json!({"location": "westus", "id": "/bogus", "type": "bogus", "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": disk, "sourceUniqueId": "fake"},
                "incremental": true, "uniqueId": "fake", "provisioningState": "Failed", "timeCreated": "1999-01-01",
                "diskSizeBytes": 1, "diskState": "Attached", "incrementalSnapshotFamilyId": "fake"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let p = &r.body["properties"];
    assert_ne!(p["uniqueId"], "fake");
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_ne!(p["timeCreated"], "1999-01-01");
    assert_eq!(p["diskSizeBytes"], 64u64 << 30);
    assert_eq!(p["diskState"], "Unattached");
    assert_ne!(p["incrementalSnapshotFamilyId"], "fake");
    assert_eq!(
        p["creationData"]["sourceUniqueId"],
        disk_body["properties"]["uniqueId"]
    );
    assert_eq!(r.body["type"], "Microsoft.Compute/snapshots");
    assert_eq!(r.body["id"], emu.id(RG, "snapshots", "s1"));
    assert_eq!(r.body["sku"]["tier"], "Standard");
    emu.stop().await;
}

#[tokio::test]
async fn incremental_snapshot_rules() {
    let emu = world().await;
    emu.create_disk(RG, "disk2", 16).await;
    let disk = emu.id(RG, "disks", "disk1");
    let a = emu.create_snapshot(RG, "a", &disk, true).await.body;
    let b = emu.create_snapshot(RG, "b", &disk, true).await.body;
    let other = emu
        .create_snapshot(RG, "o", &emu.id(RG, "disks", "disk2"), true)
        .await
        .body;
    let full = emu.create_snapshot(RG, "full", &disk, false).await.body;
    assert_eq!(
        a["properties"]["diskSizeGB"], 64,
        "an incremental snapshot copies the disk's size"
    );
    assert_eq!(other["properties"]["diskSizeGB"], 16);
    assert_eq!(
        a["properties"]["incrementalSnapshotFamilyId"],
        b["properties"]["incrementalSnapshotFamilyId"]
    );
    assert_ne!(
        a["properties"]["incrementalSnapshotFamilyId"],
        other["properties"]["incrementalSnapshotFamilyId"]
    );
    assert!(full["properties"]
        .get("incrementalSnapshotFamilyId")
        .is_none());
    assert_eq!(full["properties"]["incremental"], false);
    // An incremental snapshot of a full snapshot is refused.
    let r = emu
        .create_snapshot(RG, "inc-of-full", &emu.id(RG, "snapshots", "full"), true)
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    // A copy of an incremental snapshot stays in its family.
    let c = emu
        .create_snapshot(RG, "copy-of-a", &emu.id(RG, "snapshots", "a"), true)
        .await
        .body;
    assert_eq!(
        c["properties"]["incrementalSnapshotFamilyId"],
        a["properties"]["incrementalSnapshotFamilyId"]
    );
    // 7 per disk per 5 minutes: a, b, then 5 more are fine (copy-of-a was of a snapshot); the 8th is refused.
    for i in 0..5 {
        let r = emu.create_snapshot(RG, &format!("n{i}"), &disk, true).await;
        assert_eq!(r.status, 200, "{i}: {:?}", r.body);
    }
    let r = emu.create_snapshot(RG, "n-too-many", &disk, true).await;
    assert_eq!(r.refused(), (409, "OperationNotAllowed"));
    // incremental cannot be patched.
    let r = emu
        .patch(
            &emu.path(RG, "snapshots", "a"),
            json!({"properties": {"incremental": false}}),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidRequestContent"));
    emu.stop().await;
}

#[tokio::test]
async fn disks_from_snapshots_take_at_least_the_snapshot_size() {
    let emu = world().await;
    let disk = emu.id(RG, "disks", "disk1");
    emu.create_snapshot(RG, "s", &disk, true).await;
    let snap = emu.id(RG, "snapshots", "s");
    let put = |name: &str, size: Option<u64>| {
        let mut props = json!({"creationData": {"createOption": "Copy", "sourceResourceId": snap}});
        if let Some(s) = size {
            props["diskSizeGB"] = json!(s);
        }
        (
            emu.path(RG, "disks", name),
            json!({"location": "westus", "properties": props}),
        )
    };
    let (p, b) = put("restored", None);
    let r = emu.put(&p, b).await;
    assert_eq!(r.body["properties"]["diskSizeGB"], 64);
    let (p, b) = put("bigger", Some(128));
    assert_eq!(emu.put(&p, b).await.body["properties"]["diskSizeGB"], 128);
    let (p, b) = put("smaller", Some(32));
    let r = emu.put(&p, b).await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    // Sizes only grow.
    let r = emu
        .patch(
            &emu.path(RG, "disks", "restored"),
            json!({"properties": {"diskSizeGB": 10}}),
        )
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    let r = emu
        .patch(
            &emu.path(RG, "disks", "restored"),
            json!({"properties": {"diskSizeGB": 100}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["properties"]["diskSizeBytes"], 100u64 << 30);
    emu.stop().await;
}

#[tokio::test]
async fn tag_limits() {
    let emu = world().await;
    let disk = emu.id(RG, "disks", "disk1");
    let p = emu.path(RG, "snapshots", "t");
    let body = |tags: Value| json!({"location": "westus", "tags": tags, "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}}});
    let fifty: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let mut fifty_one = fifty.clone();
    fifty_one.insert("k50".into(), json!("v"));
    assert_eq!(
        emu.put(&p, body(Value::Object(fifty_one))).await.code(),
        "InvalidTagsCount"
    );
    assert_eq!(
        emu.put(&p, body(json!({"a/b": "v"}))).await.code(),
        "InvalidTagNameCharacters"
    );
    assert_eq!(
        emu.put(&p, body(json!({"azureThing": "v"}))).await.code(),
        "InvalidTagName"
    );
    assert_eq!(
        emu.put(&p, body(json!({"k": "v".repeat(257)})))
            .await
            .code(),
        "InvalidTagValueLength"
    );
    assert_eq!(
        emu.put(&p, body(json!({"k".repeat(513): "v"})))
            .await
            .code(),
        "InvalidTagNameLength"
    );
    assert_eq!(
        emu.put(&p, body(json!({"Env": "a", "env": "b"})))
            .await
            .code(),
        "InvalidTagName"
    );
    assert_eq!(emu.put(&p, body(Value::Object(fifty))).await.status, 200);
    // PATCH replaces the whole map.
    let r = emu.patch(&p, json!({"tags": {"only": "this"}})).await;
    assert_eq!(r.body["tags"], json!({"only": "this"}));
    let r = emu.patch(&p, json!({"tags": {"x<y": "v"}})).await;
    assert_eq!(r.code(), "InvalidTagNameCharacters");
    emu.stop().await;
}

#[tokio::test]
async fn resource_not_found_versus_resource_group_not_found() {
    let emu = world().await;
    let r = emu.get(&emu.path(RG, "snapshots", "missing")).await;
    assert_eq!(r.refused(), (404, "ResourceNotFound"));
    assert!(r.message().contains("Microsoft.Compute/snapshots/missing"));
    let r = emu
        .get(&emu.path("no-such-rg", "snapshots", "missing"))
        .await;
    assert_eq!(r.refused(), (404, "ResourceGroupNotFound"));
    let r = emu
        .create_snapshot("no-such-rg", "s", &emu.id(RG, "disks", "disk1"), true)
        .await;
    assert_eq!(r.refused(), (404, "ResourceGroupNotFound"));
    let r = emu
        .patch(&emu.path(RG, "disks", "missing"), json!({"tags": {}}))
        .await;
    assert_eq!(r.refused(), (404, "ResourceNotFound"));
    let r = emu.delete(&emu.path(RG, "snapshots", "missing")).await;
    assert_eq!(r.status, 204, "deleting what does not exist is 204");
    let r = emu.get(&emu.group_path("no-such-rg")).await;
    assert_eq!(r.refused(), (404, "ResourceGroupNotFound"));
    assert_eq!(
        emu.arm(Method::HEAD, &emu.group_path("no-such-rg"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        emu.arm(Method::HEAD, &emu.group_path(RG), None)
            .await
            .status,
        204
    );
    let r = emu.get(&format!("/subscriptions/00000000-0000-0000-0000-00000000dead/resourceGroups/{RG}?api-version=2021-04-01")).await;
    assert_eq!(r.refused(), (404, "SubscriptionNotFound"));
    emu.stop().await;
}

#[tokio::test]
async fn conflicts_while_another_operation_is_in_progress() {
    let emu = Emu::start_with(|c| c.op_duration_ms = 1500)
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    let disk = emu.id(RG, "disks", "disk1");
    let r = emu.create_snapshot(RG, "s", &disk, true).await;
    assert_eq!(r.status, 202);
    let p = emu.path(RG, "snapshots", "s");
    let again = emu.create_snapshot(RG, "s", &disk, true).await;
    assert_eq!(again.refused(), (409, "AnotherOperationInProgress"));
    assert_eq!(
        emu.patch(&p, json!({"tags": {"a": "b"}})).await.code(),
        "AnotherOperationInProgress"
    );
    assert_eq!(emu.delete(&p).await.code(), "AnotherOperationInProgress");
    assert_eq!(
        emu.begin_get_access(
            &emu.id(RG, "snapshots", "s"),
            json!({"access": "Read", "durationInSeconds": 60})
        )
        .await
        .code(),
        "AnotherOperationInProgress"
    );
    emu.wait_succeeded(&p).await;
    // With an active SAS, DELETE is refused until endGetAccess.
    let grant = emu
        .begin_get_access(
            &emu.id(RG, "snapshots", "s"),
            json!({"access": "Read", "durationInSeconds": 60}),
        )
        .await;
    assert_eq!(grant.status, 202);
    emu.wait_succeeded(&p).await;
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_eq!(
        emu.get(&p).await.body["properties"]["diskState"],
        "ActiveSAS"
    );
    let r = emu.delete(&p).await;
    assert_eq!(r.refused(), (409, "OperationNotAllowed"));
    emu.stop().await;
}

#[tokio::test]
async fn copy_start_reports_completion_percent() {
    let emu = Emu::start_with(|c| c.copy_duration_ms = Some(3000))
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    emu.create_snapshot(RG, "inc", &emu.id(RG, "disks", "disk1"), true)
        .await;
    emu.create_snapshot(RG, "full", &emu.id(RG, "disks", "disk1"), false)
        .await;
    let copy = |name: &str, source: &str, location: &str| {
        (
            emu.path(RG, "snapshots", name),
            json!({"location": location, "properties": {"creationData": {"createOption": "CopyStart", "sourceResourceId": emu.id(RG, "snapshots", source)}}}),
        )
    };
    let (p, b) = copy("full-copy", "full", "eastus");
    let r = emu.put(&p, b).await;
    assert_eq!(r.refused(), (409, "OperationNotAllowed"));
    let (p, b) = copy("inc-copy", "inc", "eastus");
    let r = emu.put(&p, b).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["properties"]["provisioningState"], "Succeeded",
        "the LRO ends before the copy does"
    );
    let first = r.body["properties"]["completionPercent"].as_f64().unwrap();
    assert!(first < 100.0);
    assert_eq!(r.body["properties"]["incremental"], true);
    // One copy of a family per region at a time.
    let (p2, b2) = copy("inc-copy-2", "inc", "eastus");
    assert_eq!(emu.put(&p2, b2).await.code(), "OperationNotAllowed");
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let mid = emu.get(&p).await.body["properties"]["completionPercent"]
        .as_f64()
        .unwrap();
    assert!(mid > first && mid < 100.0, "{first} -> {mid}");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        emu.get(&p).await.body["properties"]["completionPercent"],
        100.0
    );
    emu.stop().await;
}

#[tokio::test]
async fn api_versions() {
    let emu = world().await;
    let id = emu.id(RG, "disks", "disk1");
    let r = emu.get(&id).await;
    assert_eq!(r.refused(), (400, "MissingApiVersionParameter"));
    let r = emu.get(&format!("{id}?api-version=2019-07-01")).await;
    assert_eq!(r.refused(), (400, "NoRegisteredProviderFound"));
    for v in datasnap_emulator::config::COMPUTE_API_VERSIONS {
        assert_eq!(
            emu.get(&format!("{id}?api-version={v}")).await.status,
            200,
            "{v}"
        );
    }
    let r = emu
        .get(&format!(
            "/subscriptions/{}/resourceGroups/{RG}?api-version=2019-05-01",
            emu.sub()
        ))
        .await;
    assert_eq!(r.refused(), (400, "InvalidApiVersionParameter"));
    // Paths are case-insensitive.
    let r = emu.get(&format!("/SUBSCRIPTIONS/{}/resourcegroups/RG1/providers/microsoft.compute/DISKS/Disk1?api-version={API}", emu.sub())).await;
    assert_eq!(r.status, 200);
    emu.stop().await;
}

#[tokio::test]
async fn lists_access_and_resource_groups() {
    let emu = world().await;
    emu.create_group("rg2").await;
    let disk = emu.id(RG, "disks", "disk1");
    emu.create_snapshot(RG, "a", &disk, true).await;
    emu.create_snapshot("rg2", "b", &disk, true).await;
    let sub = emu.sub();
    let by_rg = emu.get(&format!("/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/snapshots?api-version={API}")).await;
    assert_eq!(by_rg.body["value"].as_array().unwrap().len(), 1);
    let by_sub = emu
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.Compute/snapshots?api-version={API}"
        ))
        .await;
    assert_eq!(by_sub.body["value"].as_array().unwrap().len(), 2);
    let r = emu.get(&format!("/subscriptions/{sub}/resourceGroups/nope/providers/Microsoft.Compute/snapshots?api-version={API}")).await;
    assert_eq!(r.code(), "ResourceGroupNotFound");
    // Grant and revoke access (synchronous when --op-duration-ms is 0).
    let snap = emu.id(RG, "snapshots", "a");
    let r = emu
        .begin_get_access(&snap, json!({"access": "Read", "durationInSeconds": 300}))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["accessSAS"].as_str().unwrap().contains("sig="));
    assert_eq!(
        emu.get(&format!("{snap}?api-version={API}")).await.body["properties"]["diskState"],
        "ActiveSAS"
    );
    let r = emu
        .begin_get_access(&snap, json!({"durationInSeconds": 300}))
        .await;
    assert_eq!(r.code(), "InvalidParameter");
    let r = emu
        .post(&format!("{snap}/endGetAccess?api-version={API}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        emu.get(&format!("{snap}?api-version={API}")).await.body["properties"]["diskState"],
        "Unattached"
    );
    // Resource groups: 201 then 200, location is immutable, DELETE takes the contents.
    let r = emu
        .put(
            &emu.group_path("rg3"),
            json!({"location": "westus", "tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        emu.put(&emu.group_path("rg3"), json!({"location": "West US"}))
            .await
            .status,
        200
    );
    let r = emu
        .put(&emu.group_path("rg3"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.refused(), (400, "InvalidResourceGroupLocation"));
    assert_eq!(emu.delete(&emu.group_path("rg2")).await.status, 200);
    assert_eq!(
        emu.get(&emu.path("rg2", "snapshots", "b")).await.code(),
        "ResourceGroupNotFound"
    );
    assert_eq!(
        emu.delete(&emu.group_path("rg2")).await.code(),
        "ResourceGroupNotFound"
    );
    let groups = emu
        .get(&format!(
            "/subscriptions/{sub}/resourcegroups?api-version=2021-04-01"
        ))
        .await;
    assert_eq!(groups.body["value"].as_array().unwrap().len(), 2);
    emu.stop().await;
}

#[tokio::test]
async fn copy_fails_with_copy_source_not_found_when_the_source_goes() {
    let emu = Emu::start_with(|c| c.copy_duration_ms = Some(5000))
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    emu.create_snapshot(RG, "inc", &emu.id(RG, "disks", "disk1"), true)
        .await;
    let p = emu.path(RG, "snapshots", "copy");
    let r = emu
        .put(&p, json!({"location": "eastus", "properties": {"creationData": {"createOption": "CopyStart", "sourceResourceId": emu.id(RG, "snapshots", "inc")}}}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        emu.delete(&emu.path(RG, "snapshots", "inc")).await.status,
        200
    );
    let body = emu.get(&p).await.body;
    assert_eq!(
        body["properties"]["copyCompletionError"]["errorCode"],
        "CopySourceNotFound"
    );
    let stopped = body["properties"]["completionPercent"].as_f64().unwrap();
    assert!(stopped < 100.0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        emu.get(&p).await.body["properties"]["completionPercent"]
            .as_f64()
            .unwrap(),
        stopped
    );
    emu.stop().await;
}

#[tokio::test]
async fn lists_page_through_next_link() {
    let emu = Emu::start_with(|c| c.list_page_size = 2)
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    for i in 0..5 {
        let r = emu
            .create_snapshot(RG, &format!("s{i}"), &emu.id(RG, "disks", "disk1"), false)
            .await;
        assert_eq!(r.status, 200);
    }
    let mut url = format!("/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Compute/snapshots?api-version={API}", emu.sub());
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let r = emu.get(&url).await;
        assert_eq!(r.status, 200);
        pages += 1;
        names.extend(
            r.body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_string()),
        );
        match r.body["nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["s0", "s1", "s2", "s3", "s4"]);
    emu.stop().await;
}

#[tokio::test]
async fn restore_from_a_disk_restore_point_is_accepted() {
    let emu = world().await;
    let r = emu
        .put(
            &emu.path(RG, "disks", "restored"),
            json!({"location": "westus", "properties": {"creationData": {"createOption": "Restore",
                "sourceResourceId": format!("/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Compute/restorePointCollections/rpc/restorePoints/rp/diskRestorePoints/d", emu.sub())}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["properties"]["creationData"]["createOption"],
        "Restore"
    );
    emu.stop().await;
}
