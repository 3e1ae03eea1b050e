//! ARM management locks (Microsoft.Authorization/locks) on snapshots, disks and resource
//! groups: PUT/GET/list/DELETE, 409 ScopeLocked on deletes (and on writes under
//! ReadOnly), all-or-nothing resource group deletes, and 403 AuthorizationFailed for
//! actions denied through `/_emulator/denied-actions`.

mod common;

use common::{Emu, RG_API};
use reqwest::Method;
use serde_json::{json, Value};

const RG: &str = "rg1";
const LOCKS_API: &str = "2020-05-01";

/// A group with disk `disk1` and a full snapshot `snap1` of it.
async fn world() -> Emu {
    let emu = Emu::start().await.with_disk(RG, "disk1", 8).await;
    let r = emu
        .create_snapshot(RG, "snap1", &emu.id(RG, "disks", "disk1"), false)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    emu
}

fn group_id(emu: &Emu, rg: &str) -> String {
    format!("/subscriptions/{}/resourceGroups/{rg}", emu.sub())
}

/// `{scope}/providers/Microsoft.Authorization/locks[/{name}]?api-version=...`.
fn locks_path(scope: &str, name: Option<&str>) -> String {
    let name = name.map(|n| format!("/{n}")).unwrap_or_default();
    format!("{scope}/providers/Microsoft.Authorization/locks{name}?api-version={LOCKS_API}")
}

fn lock_body(level: &str) -> Value {
    json!({"properties": {"level": level, "notes": "datasnap retention"}})
}

#[tokio::test]
async fn locks_are_put_read_listed_and_deleted() {
    let emu = world().await;
    let snap = emu.id(RG, "snapshots", "snap1");
    let path = locks_path(&snap, Some("keep"));
    let r = emu.put(&path, lock_body("CanNotDelete")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({
            "id": format!("{snap}/providers/Microsoft.Authorization/locks/keep"),
            "name": "keep",
            "type": "Microsoft.Authorization/locks",
            "properties": {"level": "CanNotDelete", "notes": "datasnap retention"},
        })
    );
    // An update answers 200; levels compare ignoring case and come back in Azure's spelling.
    let r = emu
        .put(
            &path,
            json!({"properties": {"level": "readonly", "owners": [{"applicationId": "app"}]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["properties"],
        json!({"level": "ReadOnly", "owners": [{"applicationId": "app"}]})
    );
    let r = emu.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["properties"]["level"], "ReadOnly");
    // Lock names and scopes are case-insensitive.
    let r = emu
        .get(&locks_path(
            &snap
                .to_uppercase()
                .replace("SUBSCRIPTIONS", "subscriptions"),
            Some("KEEP"),
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let group_lock = locks_path(&group_id(&emu, RG), Some("rg-lock"));
    assert_eq!(
        emu.put(&group_lock, lock_body("CanNotDelete")).await.status,
        201
    );
    // A resource's list holds its own locks; a group's, the group's and those below it;
    // `atScope()`, those at or above the scope.
    let names = |r: common::Resp| -> Vec<String> {
        let mut v: Vec<String> = r.body["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|l| l["name"].as_str().unwrap_or("").to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(emu.get(&locks_path(&snap, None)).await), ["keep"]);
    assert_eq!(
        names(emu.get(&locks_path(&group_id(&emu, RG), None)).await),
        ["keep", "rg-lock"]
    );
    assert_eq!(
        names(
            emu.get(&format!("{}&$filter=atScope()", locks_path(&snap, None)))
                .await
        ),
        ["keep", "rg-lock"]
    );
    let disk = emu.id(RG, "disks", "disk1");
    assert_eq!(
        names(
            emu.get(&format!(
                "{}&%24filter=atScope%28%29",
                locks_path(&disk, None)
            ))
            .await
        ),
        ["rg-lock"]
    );
    // The control API's state shows them.
    let state = emu.control(Method::GET, "/state", None).await;
    assert_eq!(state.body["locks"].as_array().map(Vec::len), Some(2));

    assert_eq!(emu.delete(&path).await.status, 200);
    let r = emu.get(&path).await;
    assert_eq!(r.refused(), (404, "LockNotFound"));
    assert_eq!(r.message(), "The lock 'keep' could not be found.");
    assert_eq!(emu.delete(&path).await.status, 204, "already gone");
    emu.stop().await;
}

#[tokio::test]
async fn lock_requests_are_checked() {
    let emu = world().await;
    let snap = emu.id(RG, "snapshots", "snap1");
    let path = locks_path(&snap, Some("l"));
    for (body, code, target) in [
        (json!({}), "InvalidParameter", "properties"),
        (json!({"properties": {}}), "InvalidParameter", "level"),
        (
            json!({"properties": {"level": "NotSpecified"}}),
            "InvalidParameter",
            "level",
        ),
        (
            json!({"properties": {"level": "ReadOnly", "notes": "n".repeat(513)}}),
            "InvalidParameter",
            "notes",
        ),
    ] {
        let r = emu.put(&path, body.clone()).await;
        assert_eq!(r.refused(), (400, code), "{body}");
        assert_eq!(r.body["error"]["target"], target, "{body}");
    }
    let r = emu
        .put(
            &path,
            json!({"properties": {"level": "ReadOnly", "notes": "n".repeat(512)}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = emu
        .put(&locks_path(&snap, Some("a:b")), lock_body("ReadOnly"))
        .await;
    assert_eq!(r.refused(), (400, "InvalidParameter"));
    // The scope must exist.
    let r = emu
        .put(
            &locks_path(&emu.id(RG, "snapshots", "nope"), Some("l")),
            lock_body("ReadOnly"),
        )
        .await;
    assert_eq!(r.refused(), (404, "ResourceNotFound"));
    let r = emu
        .put(
            &locks_path(&group_id(&emu, "no-rg"), Some("l")),
            lock_body("ReadOnly"),
        )
        .await;
    assert_eq!(r.refused(), (404, "ResourceGroupNotFound"));
    // Microsoft.Authorization's api-versions, even under a Microsoft.Compute resource.
    for version in ["2025-01-02", "2021-04-01"] {
        let r = emu
            .put(&path.replace(LOCKS_API, version), lock_body("ReadOnly"))
            .await;
        assert_eq!(
            r.refused(),
            (400, "InvalidApiVersionParameter"),
            "{version}"
        );
    }
    let r = emu.get(&path.replace(LOCKS_API, "2016-09-01")).await;
    assert_eq!(r.status, 200);
    emu.stop().await;
}

#[tokio::test]
async fn a_locked_snapshot_cannot_be_deleted_until_the_lock_goes() {
    let emu = world().await;
    let snap = emu.id(RG, "snapshots", "snap1");
    let lock = locks_path(&snap, Some("keep"));
    assert_eq!(emu.put(&lock, lock_body("CanNotDelete")).await.status, 201);
    let r = emu.delete(&emu.path(RG, "snapshots", "snap1")).await;
    assert_eq!(r.refused(), (409, "ScopeLocked"));
    assert_eq!(
        r.message(),
        format!(
            "The scope '{snap}' cannot perform delete operation because following scope(s) are locked: '{snap}'. Please remove the lock and try again."
        )
    );
    // CanNotDelete does not stop writes.
    let r = emu
        .patch(
            &emu.path(RG, "snapshots", "snap1"),
            json!({"tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        emu.get(&emu.path(RG, "snapshots", "snap1")).await.status,
        200
    );

    assert_eq!(emu.delete(&lock).await.status, 200);
    assert_eq!(
        emu.delete(&emu.path(RG, "snapshots", "snap1")).await.status,
        200
    );
    assert_eq!(
        emu.get(&emu.path(RG, "snapshots", "snap1")).await.refused(),
        (404, "ResourceNotFound")
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_group_lock_protects_what_is_in_it() {
    let emu = world().await;
    let rg = group_id(&emu, RG);
    assert_eq!(
        emu.put(&locks_path(&rg, Some("rg")), lock_body("CanNotDelete"))
            .await
            .status,
        201
    );
    let disk = emu.id(RG, "disks", "disk1");
    let r = emu.delete(&emu.path(RG, "disks", "disk1")).await;
    assert_eq!(r.refused(), (409, "ScopeLocked"));
    assert!(
        r.message().contains(&format!(
            "The scope '{disk}' cannot perform delete operation"
        )) && r.message().contains(&format!("are locked: '{rg}'")),
        "{}",
        r.message()
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_group_with_a_locked_snapshot_is_not_deleted_at_all() {
    let emu = world().await;
    let snap = emu.id(RG, "snapshots", "snap1");
    let lock = locks_path(&snap, Some("keep"));
    assert_eq!(emu.put(&lock, lock_body("CanNotDelete")).await.status, 201);
    let r = emu.delete(&emu.group_path(RG)).await;
    assert_eq!(r.refused(), (409, "ScopeLocked"));
    assert_eq!(
        r.message(),
        format!(
            "The scope '{}' cannot perform delete operation because following scope(s) are locked: '{snap}'. Please remove the lock and try again.",
            group_id(&emu, RG)
        )
    );
    // Nothing went: the group, the disk and the snapshot are all there.
    assert_eq!(emu.get(&emu.group_path(RG)).await.status, 200);
    assert_eq!(emu.get(&emu.path(RG, "disks", "disk1")).await.status, 200);
    assert_eq!(
        emu.get(&emu.path(RG, "snapshots", "snap1")).await.status,
        200
    );
    // Unlocked, the group goes with everything in it, its locks included.
    assert_eq!(emu.delete(&lock).await.status, 200);
    let group_lock = locks_path(&group_id(&emu, RG), Some("rg"));
    assert_eq!(
        emu.put(&group_lock, lock_body("CanNotDelete")).await.status,
        201
    );
    assert_eq!(
        emu.delete(&emu.group_path(RG)).await.refused(),
        (409, "ScopeLocked")
    );
    assert_eq!(emu.delete(&group_lock).await.status, 200);
    assert_eq!(emu.delete(&emu.group_path(RG)).await.status, 200);
    let state = emu.control(Method::GET, "/state", None).await;
    assert_eq!(state.body["snapshots"], json!([]));
    assert_eq!(state.body["locks"], json!([]));
    emu.stop().await;
}

#[tokio::test]
async fn read_only_refuses_every_write() {
    let emu = world().await;
    let snap = emu.id(RG, "snapshots", "snap1");
    let p = emu.path(RG, "snapshots", "snap1");
    let lock = locks_path(&snap, Some("frozen"));
    assert_eq!(emu.put(&lock, lock_body("ReadOnly")).await.status, 201);
    // The message names the request's own scope (a tags or action path is its own).
    let write_refused = |r: &common::Resp| {
        assert_eq!(r.refused(), (409, "ScopeLocked"), "{:?}", r.body);
        assert!(
            r.message().starts_with(&format!("The scope '{snap}"))
                && r.message().ends_with(&format!(
                    "' cannot perform write operation because following scope(s) are locked: '{snap}'. Please remove the lock and try again."
                )),
            "{}",
            r.message()
        );
    };
    let r = emu.patch(&p, json!({"tags": {"a": "b"}})).await;
    write_refused(&r);
    assert_eq!(
        r.message(),
        format!(
            "The scope '{snap}' cannot perform write operation because following scope(s) are locked: '{snap}'. Please remove the lock and try again."
        )
    );
    let put = emu
        .create_snapshot(RG, "snap1", &emu.id(RG, "disks", "disk1"), false)
        .await;
    write_refused(&put);
    let tags = format!("{snap}/providers/Microsoft.Resources/tags/default?api-version={RG_API}");
    write_refused(
        &emu.patch(
            &tags,
            json!({"operation": "Merge", "properties": {"tags": {"a": "b"}}}),
        )
        .await,
    );
    write_refused(
        &emu.begin_get_access(&snap, json!({"access": "Read", "durationInSeconds": 60}))
            .await,
    );
    write_refused(
        &emu.post(
            &format!("{snap}/endGetAccess?api-version={}", common::API),
            None,
        )
        .await,
    );
    assert_eq!(emu.delete(&p).await.refused(), (409, "ScopeLocked"));
    // Reads still work, and so do lock requests.
    assert_eq!(emu.get(&p).await.status, 200);
    assert_eq!(emu.get(&tags).await.status, 200);
    // A ReadOnly group lock also refuses creates in the group.
    let rg_lock = locks_path(&group_id(&emu, RG), Some("rg"));
    assert_eq!(emu.put(&rg_lock, lock_body("ReadOnly")).await.status, 201);
    let r = emu
        .create_snapshot(RG, "snap2", &emu.id(RG, "disks", "disk1"), false)
        .await;
    assert_eq!(r.refused(), (409, "ScopeLocked"));
    assert_eq!(emu.delete(&rg_lock).await.status, 200);
    assert_eq!(emu.delete(&lock).await.status, 200);
    assert_eq!(emu.patch(&p, json!({"tags": {"a": "b"}})).await.status, 200);
    emu.stop().await;
}

#[tokio::test]
async fn denied_actions_answer_authorization_failed() {
    let emu = world().await;
    let snap = emu.id(RG, "snapshots", "snap1");
    let path = locks_path(&snap, Some("keep"));
    let r = emu
        .control(
            Method::POST,
            "/denied-actions",
            Some(json!({"actions": ["Microsoft.Authorization/locks/write"]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"actions": ["Microsoft.Authorization/locks/write"]})
    );
    assert_eq!(
        emu.control(Method::GET, "/denied-actions", None).await.body,
        r.body
    );
    let r = emu.put(&path, lock_body("CanNotDelete")).await;
    assert_eq!(r.refused(), (403, "AuthorizationFailed"));
    let cfg = &emu.state.config;
    assert_eq!(
        r.message(),
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action 'Microsoft.Authorization/locks/write' over scope '{snap}/providers/Microsoft.Authorization/locks/keep' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            cfg.client_id, cfg.object_id
        )
    );
    // Reads are still allowed; a wildcard denies the whole provider.
    assert_eq!(emu.get(&locks_path(&snap, None)).await.status, 200);
    emu.control(
        Method::POST,
        "/denied-actions",
        Some(
            json!({"actions": ["Microsoft.Authorization/*", "Microsoft.Compute/snapshots/delete"]}),
        ),
    )
    .await;
    assert_eq!(
        emu.get(&locks_path(&snap, None)).await.refused(),
        (403, "AuthorizationFailed")
    );
    assert_eq!(
        emu.delete(&emu.path(RG, "snapshots", "snap1"))
            .await
            .refused(),
        (403, "AuthorizationFailed")
    );
    // DELETE grants everything again; so does a reset.
    assert_eq!(
        emu.control(Method::DELETE, "/denied-actions", None)
            .await
            .body,
        json!({"actions": []})
    );
    assert_eq!(emu.put(&path, lock_body("CanNotDelete")).await.status, 201);
    emu.control(
        Method::POST,
        "/denied-actions",
        Some(json!({"actions": ["Microsoft.Authorization/locks/delete"]})),
    )
    .await;
    assert_eq!(
        emu.delete(&path).await.refused(),
        (403, "AuthorizationFailed")
    );
    emu.control(Method::POST, "/reset", None).await;
    assert_eq!(
        emu.control(Method::GET, "/denied-actions", None).await.body,
        json!({"actions": []})
    );
    emu.stop().await;
}

#[tokio::test]
async fn denied_actions_can_be_set_at_start_and_locks_survive_restarts() {
    let dir = common::temp_dir("locks-state");
    let file = dir.join("world.json");
    let f = file.clone();
    let emu = Emu::start_with(move |c| {
        c.state_file = Some(f);
        c.denied_actions = vec!["Microsoft.Authorization/locks/delete".into()];
    })
    .await
    .with_disk(RG, "disk1", 8)
    .await;
    let disk = emu.id(RG, "disks", "disk1");
    let lock = locks_path(&disk, Some("keep"));
    assert_eq!(emu.put(&lock, lock_body("CanNotDelete")).await.status, 201);
    assert_eq!(
        emu.delete(&lock).await.refused(),
        (403, "AuthorizationFailed")
    );
    emu.stop().await;
    let f = file.clone();
    let emu = Emu::start_with(move |c| c.state_file = Some(f)).await;
    let r = emu.get(&lock).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        emu.delete(&emu.path(RG, "disks", "disk1")).await.refused(),
        (409, "ScopeLocked")
    );
    emu.stop().await;
}

#[tokio::test]
async fn lock_traffic_is_counted() {
    let emu = world().await;
    emu.control(Method::DELETE, "/requests", None).await;
    let snap = emu.id(RG, "snapshots", "snap1");
    emu.put(&locks_path(&snap, Some("keep")), lock_body("CanNotDelete"))
        .await;
    emu.get(&locks_path(&snap, None)).await;
    emu.delete(&locks_path(&snap, Some("keep"))).await;
    let counts = emu.control(Method::GET, "/requests", None).await.body;
    assert_eq!(
        counts,
        json!({"reads": 1, "writes": 1, "deletes": 1, "total": 3})
    );
    emu.stop().await;
}
