//! Fault injection (issue #3 point 5) and the rest of the control API: throttling by
//! count and by fraction, 500/503, dropped connections, LROs ending Failed/Canceled,
//! slow operations, early token expiry, reset, the state dump and `--state FILE`.

mod common;

use common::Emu;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

const RG: &str = "rg1";

async fn world() -> Emu {
    let emu = Emu::start().await.with_disk(RG, "disk1", 8).await;
    emu
}

#[tokio::test]
async fn throttles_the_next_n_requests() {
    let emu = world().await;
    let p = emu.path(RG, "disks", "disk1");
    let r = emu
        .set_faults(json!({"throttle": {"count": 2, "retryAfterSecs": 3}}))
        .await;
    assert_eq!(r.status, 200);
    for _ in 0..2 {
        let r = emu.get(&p).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after").as_deref(), Some("3"));
        assert_eq!(
            r.header("x-ms-ratelimit-remaining-subscription-reads")
                .as_deref(),
            Some("0")
        );
        assert_eq!(r.code(), "TooManyRequests");
    }
    let r = emu.get(&p).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads")
            .as_deref(),
        Some("249")
    );
    let faults = emu.control(Method::GET, "/faults", None).await;
    assert_eq!(faults.body["injected"]["throttle"], 2);
    emu.stop().await;
}

#[tokio::test]
async fn throttles_a_fraction_filtered_by_method() {
    let emu = world().await;
    let p = emu.path(RG, "disks", "disk1");
    emu.set_faults(json!({"throttle": {"fraction": 0.5, "methods": ["GET"]}}))
        .await;
    let mut throttled = 0;
    for _ in 0..60 {
        if emu.get(&p).await.status == 429 {
            throttled += 1;
        }
    }
    assert!((10..=50).contains(&throttled), "{throttled} of 60");
    // PATCH is not matched by the filter.
    assert_eq!(emu.patch(&p, json!({"tags": {}})).await.status, 200);
    assert_eq!(
        emu.control(Method::DELETE, "/faults", None).await.status,
        200
    );
    for _ in 0..10 {
        assert_eq!(emu.get(&p).await.status, 200);
    }
    emu.stop().await;
}

#[tokio::test]
async fn server_errors_500_and_503() {
    let emu = world().await;
    let p = emu.path(RG, "disks", "disk1");
    emu.set_faults(json!({"serverError": {"count": 1}})).await;
    let r = emu.get(&p).await;
    assert_eq!(r.refused(), (500, "InternalServerError"));
    emu.set_faults(json!({"serverError": {"count": 1, "status": 503, "retryAfterSecs": 2, "pathContains": "/disks/"}})).await;
    assert_eq!(
        emu.get(&emu.group_path(RG)).await.status,
        200,
        "path filter"
    );
    let r = emu.get(&p).await;
    assert_eq!(r.refused(), (503, "ServiceUnavailable"));
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    assert_eq!(emu.get(&p).await.status, 200);
    emu.stop().await;
}

#[tokio::test]
async fn drops_connections() {
    let emu = world().await;
    let p = emu.path(RG, "disks", "disk1");
    emu.set_faults(json!({"dropConnection": {"count": 1}}))
        .await;
    let err = emu
        .client
        .get(format!("{}{}", emu.base, p))
        .bearer_auth(&emu.token)
        .send()
        .await
        .expect_err("the connection is dropped without an answer");
    assert!(!err.is_status());
    assert_eq!(emu.get(&p).await.status, 200);
    emu.stop().await;
}

#[tokio::test]
async fn long_running_operations_end_failed_or_canceled() {
    let emu = world().await;
    emu.set_faults(json!({"lroFailure": {"count": 1, "code": "InternalDiskManagementError", "message": "boom"}, "opDurationMs": 100}))
    .await;
    let disk = emu.id(RG, "disks", "disk1");
    let r = emu.create_snapshot(RG, "s", &disk, true).await;
    assert_eq!(r.status, 202);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let s = emu.get(&r.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(s.body["status"], "Failed");
    assert_eq!(s.body["error"]["code"], "InternalDiskManagementError");
    assert_eq!(s.body["error"]["message"], "boom");
    let l = emu.get(&r.header("location").unwrap()).await;
    assert_eq!(l.refused(), (400, "InternalDiskManagementError"));
    assert_eq!(
        emu.provisioning_state(&emu.path(RG, "snapshots", "s"))
            .await,
        "Failed"
    );

    // Canceled, with zero duration: the operation is still made asynchronous so it can be observed.
    emu.set_faults(json!({"lroFailure": {"count": 1, "outcome": "Canceled"}, "opDurationMs": 0}))
        .await;
    let r = emu.create_snapshot(RG, "s2", &disk, true).await;
    assert_eq!(r.status, 202);
    let s = emu.get(&r.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(s.body["status"], "Canceled");
    assert_eq!(
        emu.provisioning_state(&emu.path(RG, "snapshots", "s2"))
            .await,
        "Canceled"
    );
    // A failed delete leaves the resource as it was.
    emu.set_faults(json!({"lroFailure": {"count": 1, "methods": ["DELETE"]}}))
        .await;
    let r = emu.delete(&emu.path(RG, "disks", "disk1")).await;
    assert_eq!(r.status, 202);
    let s = emu.get(&r.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(s.body["status"], "Failed");
    assert_eq!(
        emu.provisioning_state(&emu.path(RG, "disks", "disk1"))
            .await,
        "Succeeded"
    );
    emu.stop().await;
}

#[tokio::test]
async fn slow_operations() {
    let emu = world().await;
    let p = emu.path(RG, "disks", "disk1");
    emu.set_faults(json!({"slow": {"count": 1, "delayMs": 400}}))
        .await;
    let t = Instant::now();
    assert_eq!(emu.get(&p).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
    let t = Instant::now();
    assert_eq!(emu.get(&p).await.status, 200);
    assert!(t.elapsed() < Duration::from_millis(400));
    emu.stop().await;
}

#[tokio::test]
async fn tokens_expire_early() {
    let emu = world().await;
    let p = emu.path(RG, "disks", "disk1");
    emu.set_faults(json!({"expireTokens": true})).await;
    let r = emu.get(&p).await;
    assert_eq!(r.refused(), (401, "ExpiredAuthenticationToken"));
    // A new token works; a short TTL makes new tokens expire early too.
    emu.set_faults(json!({"tokenTtlSecs": 1})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fresh = emu.fetch_token().await;
    assert_eq!(
        emu.send(Method::GET, &p, None, Some(&fresh)).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        emu.send(Method::GET, &p, None, Some(&fresh)).await.code(),
        "ExpiredAuthenticationToken"
    );
    emu.stop().await;
}

#[tokio::test]
async fn reset_state_dump_and_seed() {
    let emu = Emu::start_with(|c| c.seed = Some(Default::default())).await;
    let state = emu.control(Method::GET, "/state", None).await;
    assert_eq!(state.body["resourceGroups"][0]["name"], "datasets-rg");
    assert_eq!(state.body["disks"][0]["name"], "dataset-disk");
    assert_eq!(state.body["disks"][0]["properties"]["diskSizeGB"], 64);
    emu.create_group("extra").await;
    emu.set_faults(json!({"throttle": {}})).await;
    assert_eq!(emu.control(Method::POST, "/reset", None).await.status, 200);
    let state = emu.control(Method::GET, "/state", None).await;
    assert_eq!(
        state.body["resourceGroups"].as_array().unwrap().len(),
        1,
        "reset re-seeds"
    );
    assert_eq!(state.body["faults"], json!({}), "reset clears faults");
    emu.control(Method::POST, "/reset", Some(json!({"seed": false})))
        .await;
    let state = emu.control(Method::GET, "/state", None).await;
    assert_eq!(state.body["resourceGroups"].as_array().unwrap().len(), 0);
    let r = emu
        .control(Method::POST, "/seed", Some(json!({"resourceGroup": "ml", "location": "eastus", "disks": [{"name": "images", "sizeGb": 128}]})))
        .await;
    assert_eq!(r.status, 200);
    let d = emu.get(&emu.path("ml", "disks", "images")).await;
    assert_eq!(d.body["properties"]["diskSizeGB"], 128);
    assert_eq!(d.body["location"], "eastus");
    let r = emu
        .control(
            Method::POST,
            "/seed",
            Some(json!({"resourceGroup": "ml2", "location": "moon"})),
        )
        .await;
    assert_eq!(r.refused(), (400, "LocationNotAvailableForResourceGroup"));
    let bad = emu.set_faults(json!({"nonsense": 1})).await;
    assert_eq!(bad.refused(), (400, "InvalidRequestContent"));
    emu.stop().await;
}

#[tokio::test]
async fn state_file_survives_restarts() {
    let dir = common::temp_dir("state");
    let file = dir.join("world.json");
    let f = file.clone();
    let emu = Emu::start_with(move |c| c.state_file = Some(f))
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    let r = emu
        .create_snapshot(RG, "v1", &emu.id(RG, "disks", "disk1"), true)
        .await;
    let unique = r.body["properties"]["uniqueId"].clone();
    emu.stop().await;
    assert!(file.exists());
    let f = file.clone();
    let emu = Emu::start_with(move |c| c.state_file = Some(f)).await;
    let r = emu.get(&emu.path(RG, "snapshots", "v1")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["properties"]["uniqueId"], unique);
    // Families survive: the next incremental snapshot joins the same one.
    let next = emu
        .create_snapshot(RG, "v2", &emu.id(RG, "disks", "disk1"), true)
        .await;
    assert_eq!(
        next.body["properties"]["incrementalSnapshotFamilyId"],
        r.body["properties"]["incrementalSnapshotFamilyId"]
    );
    emu.stop().await;
}

#[tokio::test]
async fn arm_rate_limits_drain_the_subscription_write_bucket() {
    let emu = Emu::start_with(|c| c.arm_rate_limits = true).await;
    emu.create_group(RG).await;
    let first = emu
        .put(&emu.group_path(RG), json!({"location": "westus"}))
        .await;
    let remaining: u64 = first
        .header("x-ms-ratelimit-remaining-subscription-writes")
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining < 199, "{remaining}");
    let mut throttled = None;
    for _ in 0..400 {
        let r = emu
            .put(&emu.group_path(RG), json!({"location": "westus"}))
            .await;
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("the write bucket runs dry");
    assert_eq!(r.code(), "TooManyRequests");
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-writes")
            .as_deref(),
        Some("0")
    );
    // Reads have their own bucket.
    assert_eq!(emu.get(&emu.group_path(RG)).await.status, 200);
    emu.stop().await;
}
