//! SAS export (beginGetAccess / endGetAccess): a grant expires by itself, a second
//! grant extends the shared access, endGetAccess revokes every URL, the blob URL works
//! only while its grant is open, and durationInSeconds is 1 to 5,184,000 (60 days).

mod common;

use common::{Emu, API};
use serde_json::{json, Value};
use std::time::Duration;

const RG: &str = "rg1";

/// A group with disk `disk1` and an incremental snapshot `s` of it.
async fn world() -> Emu {
    let emu = Emu::start().await.with_disk(RG, "disk1", 8).await;
    snapshot(&emu, "s").await;
    emu
}

async fn snapshot(emu: &Emu, name: &str) {
    let r = emu
        .create_snapshot(RG, name, &emu.id(RG, "disks", "disk1"), true)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// beginGetAccess (synchronous) on snapshot `name`; the SAS URL.
async fn grant(emu: &Emu, name: &str, seconds: u64) -> String {
    let r = emu
        .begin_get_access(
            &emu.id(RG, "snapshots", name),
            json!({"access": "Read", "durationInSeconds": seconds}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["accessSAS"].as_str().expect("accessSAS").to_string()
}

async fn revoke(emu: &Emu, name: &str) {
    let r = emu
        .post(
            &format!(
                "{}/endGetAccess?api-version={API}",
                emu.id(RG, "snapshots", name)
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// `diskState` of snapshot `name` by GET, and by list.
async fn disk_state(emu: &Emu, name: &str) -> (Value, Value) {
    let get = emu.get(&emu.path(RG, "snapshots", name)).await;
    let list = emu
        .get(&format!(
            "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Compute/snapshots?api-version={API}",
            emu.sub()
        ))
        .await;
    let listed = list.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|s| s["name"] == name)
        .expect("listed")["properties"]["diskState"]
        .clone();
    (get.body["properties"]["diskState"].clone(), listed)
}

async fn assert_state(emu: &Emu, name: &str, state: &str) {
    let (get, listed) = disk_state(emu, name).await;
    assert_eq!((get.as_str(), listed.as_str()), (Some(state), Some(state)));
}

/// GET a SAS URL: status, `x-ms-error-code` and body.
async fn download(emu: &Emu, url: &str) -> (u16, String, String) {
    let r = emu.client.get(url).send().await.expect("download");
    let status = r.status().as_u16();
    let code = r
        .headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, code, r.text().await.expect("body"))
}

async fn assert_downloads(emu: &Emu, url: &str) {
    let (status, _, body) = download(emu, url).await;
    assert_eq!(status, 200, "{url}: {body}");
}

async fn assert_refused(emu: &Emu, url: &str) {
    let (status, code, body) = download(emu, url).await;
    assert_eq!(
        (status, code.as_str()),
        (403, "AuthenticationFailed"),
        "{url}: {body}"
    );
    assert!(body.contains("<Code>AuthenticationFailed</Code>"), "{body}");
    assert!(
        body.contains("Server failed to authenticate the request."),
        "{body}"
    );
}

/// The `access` section of `/_emulator/state`.
async fn open_access(emu: &Emu) -> Vec<Value> {
    let state = emu.control(reqwest::Method::GET, "/state", None).await;
    state.body["access"].as_array().expect("access").clone()
}

fn query<'a>(url: &'a str, name: &str) -> &'a str {
    url.split(['?', '&'])
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or("")
}

#[tokio::test]
async fn access_ends_by_itself_when_it_expires() {
    let emu = world().await;
    let path = emu.path(RG, "snapshots", "s");
    let url = grant(&emu, "s", 1).await;
    assert!(url.contains("/_emulator/blobs/snapshots/"), "{url}");
    assert_state(&emu, "s", "ActiveSAS").await;
    let (status, _, body) = download(&emu, &url).await;
    assert_eq!(status, 200);
    let unique = emu.get(&path).await.body["properties"]["uniqueId"].clone();
    assert!(body.contains(unique.as_str().unwrap()), "{body}");
    let access = open_access(&emu).await;
    assert_eq!(access.len(), 1, "{access:?}");
    assert_eq!(access[0]["uniqueId"], unique);
    assert_eq!(access[0]["diskState"], "ActiveSAS");
    assert_eq!(access[0]["grants"][0]["si"], query(&url, "si"));
    assert!(access[0]["grants"][0].get("sig").is_none(), "no secrets");
    // While access is open DELETE is refused.
    assert_eq!(
        emu.delete(&path).await.refused(),
        (409, "OperationNotAllowed")
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_state(&emu, "s", "Unattached").await;
    assert_refused(&emu, &url).await;
    assert!(open_access(&emu).await.is_empty());
    // ...and allowed once it has expired.
    assert_eq!(emu.delete(&path).await.status, 200);
    assert_refused(&emu, &url).await;
    emu.stop().await;
}

#[tokio::test]
async fn a_second_grant_extends_access_and_both_urls_work_until_revoked() {
    let emu = world().await;
    let first = grant(&emu, "s", 300).await;
    let second = grant(&emu, "s", 600).await;
    assert_ne!(first, second);
    assert_ne!(query(&first, "si"), query(&second, "si"));
    assert_ne!(query(&first, "sig"), query(&second, "sig"));
    assert_downloads(&emu, &first).await;
    assert_downloads(&emu, &second).await;
    let access = open_access(&emu).await;
    assert_eq!(access.len(), 1);
    assert_eq!(access[0]["grants"].as_array().unwrap().len(), 2);
    assert_eq!(
        access[0]["expiresAt"], access[0]["grants"][1]["expiresAt"],
        "the later expiry"
    );
    revoke(&emu, "s").await;
    assert_state(&emu, "s", "Unattached").await;
    assert_refused(&emu, &first).await;
    assert_refused(&emu, &second).await;

    // A shorter second grant does not shorten access; its own URL ends at its own `se`.
    let long = grant(&emu, "s", 300).await;
    let short = grant(&emu, "s", 1).await;
    assert_downloads(&emu, &short).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_state(&emu, "s", "ActiveSAS").await;
    assert_refused(&emu, &short).await;
    assert_downloads(&emu, &long).await;
    assert_eq!(
        emu.delete(&emu.path(RG, "snapshots", "s")).await.refused(),
        (409, "OperationNotAllowed")
    );
    revoke(&emu, "s").await;

    // A longer second grant keeps access open after the first one's expiry.
    let short = grant(&emu, "s", 1).await;
    let long = grant(&emu, "s", 300).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_state(&emu, "s", "ActiveSAS").await;
    assert_refused(&emu, &short).await;
    assert_downloads(&emu, &long).await;
    emu.stop().await;
}

#[tokio::test]
async fn end_get_access_makes_earlier_urls_fail() {
    let emu = world().await;
    let old = grant(&emu, "s", 300).await;
    assert_downloads(&emu, &old).await;
    // Only the grant's own signature opens it.
    let sig = query(&old, "sig");
    assert_refused(&emu, &old.replace(sig, "forged")).await;
    assert_refused(&emu, &old.replace(&format!("&sig={sig}"), "")).await;
    // HEAD works as GET does.
    let head = emu.client.head(&old).send().await.unwrap();
    assert_eq!(head.status(), 200);
    revoke(&emu, "s").await;
    assert_refused(&emu, &old).await;
    // A new grant opens new URLs only.
    let new = grant(&emu, "s", 300).await;
    assert_downloads(&emu, &new).await;
    assert_refused(&emu, &old).await;
    // A grant with access None revokes too.
    let r = emu
        .begin_get_access(
            &emu.id(RG, "snapshots", "s"),
            json!({"access": "None", "durationInSeconds": 60}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_state(&emu, "s", "Unattached").await;
    assert_refused(&emu, &new).await;
    // A disk's URL names disks; deleting the resource ends its URLs.
    let disk = emu.id(RG, "disks", "disk1");
    let r = emu
        .begin_get_access(&disk, json!({"access": "Write", "durationInSeconds": 60}))
        .await;
    let url = r.body["accessSAS"].as_str().unwrap().to_string();
    assert!(
        url.contains("/_emulator/blobs/disks/") && url.contains("sp=rw"),
        "{url}"
    );
    assert_downloads(&emu, &url).await;
    assert_eq!(
        download(&emu, &url.replace("/blobs/disks/", "/blobs/snapshots/"))
            .await
            .0,
        403
    );
    revoke_disk(&emu, &disk).await;
    assert_eq!(
        emu.delete(&format!("{disk}?api-version={API}"))
            .await
            .status,
        200
    );
    assert_refused(&emu, &url).await;
    emu.stop().await;
}

async fn revoke_disk(emu: &Emu, disk: &str) {
    let r = emu
        .post(&format!("{disk}/endGetAccess?api-version={API}"), None)
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn duration_is_one_second_to_sixty_days() {
    let emu = world().await;
    let id = emu.id(RG, "snapshots", "s");
    for n in [
        json!(0),
        json!(-1),
        json!(5_184_001),
        json!(4_294_967_296u64),
    ] {
        let r = emu
            .begin_get_access(&id, json!({"access": "Read", "durationInSeconds": n}))
            .await;
        assert_eq!(r.refused(), (400, "InvalidParameter"), "{n}");
        assert_eq!(r.body["error"]["target"], "durationInSeconds");
        assert_eq!(
            r.message(),
            format!(
                "The value '{n}' of parameter 'durationInSeconds' is out of range. \
                 The SAS duration must be between 1 and 5184000 seconds (60 days)."
            )
        );
    }
    // Not an integer: as before, the parameter counts as missing.
    for n in [json!(1.5), json!("60"), Value::Null] {
        let r = emu
            .begin_get_access(&id, json!({"access": "Read", "durationInSeconds": n}))
            .await;
        assert_eq!(r.refused(), (400, "InvalidParameter"), "{n}");
        assert_eq!(
            r.message(),
            "Required parameter 'durationInSeconds' is missing (null)."
        );
    }
    assert_state(&emu, "s", "Unattached").await;
    let url = grant(&emu, "s", 5_184_000).await;
    let access = open_access(&emu).await;
    let expires = access[0]["expiresMs"].as_u64().unwrap();
    let now = datasnap_emulator::time::now_ms();
    assert!(expires > now + 5_183_990_000 && expires <= now + 5_184_000_000);
    assert_downloads(&emu, &url).await;
    emu.stop().await;
}

#[tokio::test]
async fn the_family_limit_counts_only_open_access() {
    let emu = world().await;
    for name in ["a", "b", "c", "d"] {
        snapshot(&emu, name).await;
    }
    snapshot(&emu, "f").await;
    for name in ["s", "a", "b", "c", "d"] {
        grant(&emu, name, 1).await;
    }
    let f = emu.id(RG, "snapshots", "f");
    let body = json!({"access": "Read", "durationInSeconds": 60});
    let r = emu.begin_get_access(&f, body.clone()).await;
    assert_eq!(r.refused(), (409, "OperationNotAllowed"));
    // A re-grant on one of the five joins its open access.
    grant(&emu, "s", 300).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Four expired; "s" is still open.
    let r = emu.begin_get_access(&f, body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(open_access(&emu).await.len(), 2);
    emu.stop().await;
}

#[tokio::test]
async fn long_running_grants_open_access_when_they_finish() {
    let emu = Emu::start_with(|c| c.op_duration_ms = 300)
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    let path = emu.path(RG, "snapshots", "s");
    emu.create_snapshot(RG, "s", &emu.id(RG, "disks", "disk1"), true)
        .await;
    emu.wait_succeeded(&path).await;
    let id = emu.id(RG, "snapshots", "s");
    let r = emu
        .begin_get_access(&id, json!({"access": "Read", "durationInSeconds": 2}))
        .await;
    assert_eq!(r.status, 202);
    let location = r.header("location").unwrap();
    assert_eq!(emu.get(&location).await.status, 202);
    assert_state(&emu, "s", "Unattached").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let done = emu.get(&location).await;
    assert_eq!(done.status, 200);
    let url = done.body["accessSAS"].as_str().unwrap().to_string();
    assert_state(&emu, "s", "ActiveSAS").await;
    assert_downloads(&emu, &url).await;
    // The expiry counts from the request, as the URL's `se` says.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_state(&emu, "s", "Unattached").await;
    assert_refused(&emu, &url).await;
    let r = emu.delete(&path).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    emu.stop().await;
}

#[tokio::test]
async fn open_access_survives_a_restart() {
    let dir = common::temp_dir("access-state");
    let file = dir.join("world.json");
    let f = file.clone();
    let emu = Emu::start_with(move |c| c.state_file = Some(f))
        .await
        .with_disk(RG, "disk1", 8)
        .await;
    snapshot(&emu, "s").await;
    let url = grant(&emu, "s", 300).await;
    let old_base = emu.base.clone();
    emu.stop().await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("ActiveSAS"),
        "the state file stores the expiry, not the state"
    );
    let f = file.clone();
    let emu = Emu::start_with(move |c| c.state_file = Some(f)).await;
    assert_state(&emu, "s", "ActiveSAS").await;
    assert_downloads(&emu, &url.replace(&old_base, &emu.base)).await;
    revoke(&emu, "s").await;
    emu.stop().await;
}
