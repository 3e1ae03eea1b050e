//! Long-running operations as DiskRP does them: 202 with Azure-AsyncOperation,
//! Location and Retry-After; the DiskOperations status document; Location polling
//! (202 then the final result); provisioningState Updating -> Succeeded; deletes.

mod common;

use common::{Emu, API};
use serde_json::json;
use std::time::Duration;

const RG: &str = "rg1";

async fn slow_world(ms: u64) -> Emu {
    let emu = Emu::start_with(|c| {
        c.op_duration_ms = ms;
        c.retry_after_secs = Some(0);
    })
    .await
    .with_disk(RG, "disk1", 8)
    .await;
    emu
}

#[tokio::test]
async fn put_snapshot_is_a_long_running_operation() {
    let emu = slow_world(1500).await;
    let r = emu
        .create_snapshot(RG, "s", &emu.id(RG, "disks", "disk1"), true)
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    let status_url = r
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    let location = r.header("location").expect("Location");
    assert!(r.header("retry-after").is_some());
    assert!(
        status_url.contains("/providers/Microsoft.Compute/locations/westus/DiskOperations/"),
        "{status_url}"
    );
    assert!(status_url.contains(&format!("api-version={API}")));
    assert!(location.contains("monitor=true"));
    assert!(r
        .header("x-ms-ratelimit-remaining-resource")
        .is_some_and(|v| v.contains("HighCostSnapshotCreateHydrate3Min")));

    let s = emu.get(&status_url).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.body["status"], "InProgress");
    assert!(s.body["startTime"].is_string() && s.body["name"].is_string());
    assert!(s.body.get("endTime").is_none());
    let l = emu.get(&location).await;
    assert_eq!(l.status, 202);
    assert!(l.header("location").is_some());
    assert_eq!(
        emu.provisioning_state(&emu.path(RG, "snapshots", "s"))
            .await,
        "Updating"
    );

    tokio::time::sleep(Duration::from_millis(1550)).await;
    let s = emu.get(&status_url).await;
    assert_eq!(s.body["status"], "Succeeded");
    assert!(s.body["endTime"].is_string());
    assert_eq!(
        s.body["properties"]["output"]["properties"]["provisioningState"],
        "Succeeded"
    );
    let l = emu.get(&location).await;
    assert_eq!(l.status, 200);
    assert_eq!(l.body["name"], "s");
    assert_eq!(
        emu.provisioning_state(&emu.path(RG, "snapshots", "s"))
            .await,
        "Succeeded"
    );
    emu.stop().await;
}

#[tokio::test]
async fn patch_delete_and_access_are_long_running_too() {
    let emu = slow_world(1000).await;
    let p = emu.path(RG, "disks", "disk1");
    let r = emu.patch(&p, json!({"tags": {"k": "v"}})).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["tags"]["k"], "v");
    emu.wait_succeeded(&p).await;

    let snap = emu.id(RG, "snapshots", "s");
    emu.create_snapshot(RG, "s", &emu.id(RG, "disks", "disk1"), true)
        .await;
    emu.wait_succeeded(&emu.path(RG, "snapshots", "s")).await;
    let grant = emu
        .begin_get_access(&snap, json!({"access": "Read", "durationInSeconds": 60}))
        .await;
    assert_eq!(grant.status, 202);
    assert!(grant.body.is_null());
    let location = grant.header("location").unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let l = emu.get(&location).await;
    assert_eq!(l.status, 200);
    assert!(l.body["accessSAS"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let s = emu
        .get(&grant.header("azure-asyncoperation").unwrap())
        .await;
    assert!(s.body["properties"]["output"]["accessSAS"].is_string());
    let revoke = emu
        .post(&format!("{snap}/endGetAccess?api-version={API}"), None)
        .await;
    assert_eq!(revoke.status, 202);
    tokio::time::sleep(Duration::from_millis(1050)).await;

    let d = emu.delete(&format!("{snap}?api-version={API}")).await;
    assert_eq!(d.status, 202, "{:?}", d.body);
    assert!(d.body.is_null());
    assert_eq!(
        emu.provisioning_state(&format!("{snap}?api-version={API}"))
            .await,
        "Deleting"
    );
    let location = d.header("location").unwrap();
    assert_eq!(emu.get(&location).await.status, 202);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(emu.get(&location).await.status, 204);
    assert_eq!(
        emu.get(&format!("{snap}?api-version={API}")).await.code(),
        "ResourceNotFound"
    );
    emu.stop().await;
}

#[tokio::test]
async fn resource_group_delete_is_a_long_running_operation() {
    let emu = slow_world(1000).await;
    let r = emu.delete(&emu.group_path(RG)).await;
    assert_eq!(r.status, 202);
    let location = r.header("location").unwrap();
    assert!(location.contains("/operationresults/"));
    assert_eq!(
        emu.provisioning_state(&emu.group_path(RG)).await,
        "Deleting"
    );
    let again = emu
        .put(&emu.group_path(RG), json!({"location": "westus"}))
        .await;
    assert_eq!(again.code(), "ResourceGroupBeingDeleted");
    assert_eq!(emu.get(&location).await.status, 202);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(emu.get(&location).await.status, 200);
    assert_eq!(
        emu.get(&emu.group_path(RG)).await.code(),
        "ResourceGroupNotFound"
    );
    assert_eq!(
        emu.get(&emu.path(RG, "disks", "disk1")).await.code(),
        "ResourceGroupNotFound"
    );
    emu.stop().await;
}

#[tokio::test]
async fn synchronous_mode_answers_200_with_succeeded() {
    let emu = Emu::start().await;
    emu.create_group(RG).await;
    let r = emu
        .put(&emu.path(RG, "disks", "d"), json!({"location": "westus", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("azure-asyncoperation").is_none());
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(emu.delete(&emu.path(RG, "disks", "d")).await.status, 200);
    let missing = emu.get(&format!("/subscriptions/{}/providers/Microsoft.Compute/locations/westus/DiskOperations/nope?api-version={API}", emu.sub())).await;
    assert_eq!(missing.status, 404);
    emu.stop().await;
}
