//! The provider's lifecycle, the way the engine drives it, in process and against the
//! emulator: Check -> Create(preview) -> Create -> Diff -> Update or replace -> Delete,
//! as a table of steps (the shape of pulumi-go-provider's `LifeCycleTest`).
//!
//! Needs `datasnap-emulator` (`$DATASNAP_EMULATOR`, else the workspace's build); with
//! `DATASNAP_REQUIRE_EMULATOR` set (as `make test` does) a missing emulator fails the test.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use datasnap_provider::proto::rpc;
use datasnap_provider::proto::rpc::resource_provider_client::ResourceProviderClient;
use datasnap_provider::proto::Struct;
use datasnap_provider::server::{serve, Provider};
use datasnap_provider::value::{self, Props};
use serde_json::{json, Map, Value as Json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic::transport::Channel;

const VS: &str = "datasnap:index:VersionedSnapshot";
const RD: &str = "datasnap:index:RestoredDisk";

fn emulator_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DATASNAP_EMULATOR") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        "target/debug/datasnap-emulator",
        "target/release/datasnap-emulator",
        "bin/datasnap-emulator",
    ]
    .iter()
    .map(|p| root.join(p))
    .find(|p| p.is_file())
}

struct Harness {
    _emulator: tokio::process::Child,
    line: Json,
    client: ResourceProviderClient<Channel>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Option<Harness> {
    let Some(bin) = emulator_binary() else {
        assert!(
            std::env::var_os("DATASNAP_REQUIRE_EMULATOR").is_none(),
            "datasnap-emulator is not built"
        );
        eprintln!("skipping: datasnap-emulator is not built");
        return None;
    };
    let mut child = tokio::process::Command::new(bin)
        .args(["serve", "--seed", "--op-duration-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the emulator starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("start line")
        .expect("read")
        .expect("a line");
    let line: Json = serde_json::from_str(&line).expect("JSON start line");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    // The provider in process, its environment empty except for the poll interval, so the
    // configuration below is all it knows.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let provider = Provider::new(None)
        .with_env(|k| (k == "DATASNAP_POLL_INTERVAL_MS").then(|| "20".to_string()));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, provider, async {
        let _ = rx.await;
    }));
    let client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect");
    Some(Harness {
        _emulator: child,
        line,
        client,
        _shutdown: tx,
    })
}

fn st(v: Json) -> Struct {
    value::to_struct(v.as_object().expect("an object"))
}

fn plain(s: Option<Struct>) -> Map<String, Json> {
    value::decode(s.as_ref()).values
}

impl Harness {
    fn sub(&self) -> &str {
        self.line["subscriptionId"].as_str().unwrap_or_default()
    }

    fn disk(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk", self.sub())
    }

    async fn configure(&mut self, overrides: &[(&str, &str)]) -> Result<(), tonic::Status> {
        let mut args = common::emulator_config(&self.line);
        args.insert("useCli".into(), json!(false));
        for (k, v) in overrides {
            args.insert(k.to_string(), json!(v));
        }
        // The secret arrives wrapped, as the engine sends it.
        let mut props = Props::new(args);
        props.secrets.insert("clientSecret".into());
        self.client
            .configure(rpc::ConfigureRequest {
                args: Some(value::encode(&props)),
                accept_secrets: true,
                accept_resources: true,
                ..Default::default()
            })
            .await
            .map(|_| ())
    }

    async fn check(
        &mut self,
        ty: &str,
        olds: &Map<String, Json>,
        news: Json,
    ) -> Result<Map<String, Json>, Vec<rpc::CheckFailure>> {
        let r = self
            .client
            .check(rpc::CheckRequest {
                urn: urn(ty),
                r#type: ty.into(),
                olds: Some(value::to_struct(olds)),
                news: Some(st(news)),
                ..Default::default()
            })
            .await
            .expect("Check answers")
            .into_inner();
        if r.failures.is_empty() {
            Ok(plain(r.inputs))
        } else {
            Err(r.failures)
        }
    }

    async fn create(
        &mut self,
        ty: &str,
        inputs: &Map<String, Json>,
        preview: bool,
    ) -> (String, Map<String, Json>) {
        let r = self
            .client
            .create(rpc::CreateRequest {
                urn: urn(ty),
                r#type: ty.into(),
                properties: Some(value::to_struct(inputs)),
                preview,
                timeout: 120.0,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("Create(preview={preview}): {e}"))
            .into_inner();
        (r.id, plain(r.properties))
    }

    async fn diff(
        &mut self,
        ty: &str,
        id: &str,
        olds: &Map<String, Json>,
        news: &Map<String, Json>,
    ) -> rpc::DiffResponse {
        self.client
            .diff(rpc::DiffRequest {
                urn: urn(ty),
                r#type: ty.into(),
                id: id.into(),
                olds: Some(value::to_struct(olds)),
                news: Some(value::to_struct(news)),
                ..Default::default()
            })
            .await
            .expect("Diff answers")
            .into_inner()
    }

    async fn update(
        &mut self,
        ty: &str,
        id: &str,
        olds: &Map<String, Json>,
        news: &Map<String, Json>,
        preview: bool,
    ) -> Map<String, Json> {
        let r = self
            .client
            .update(rpc::UpdateRequest {
                urn: urn(ty),
                r#type: ty.into(),
                id: id.into(),
                olds: Some(value::to_struct(olds)),
                news: Some(value::to_struct(news)),
                preview,
                timeout: 120.0,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("Update: {e}"))
            .into_inner();
        plain(r.properties)
    }

    async fn read(&mut self, ty: &str, id: &str, state: Option<Recorded<'_>>) -> rpc::ReadResponse {
        let (props, inputs) = match state {
            Some((p, i)) => (Some(value::to_struct(p)), Some(value::to_struct(i))),
            None => (None, None),
        };
        self.client
            .read(rpc::ReadRequest {
                urn: urn(ty),
                r#type: ty.into(),
                id: id.into(),
                properties: props,
                inputs,
                ..Default::default()
            })
            .await
            .expect("Read answers")
            .into_inner()
    }

    async fn delete(&mut self, ty: &str, id: &str, olds: &Map<String, Json>) {
        self.client
            .delete(rpc::DeleteRequest {
                urn: urn(ty),
                r#type: ty.into(),
                id: id.into(),
                properties: Some(value::to_struct(olds)),
                timeout: 120.0,
                ..Default::default()
            })
            .await
            .expect("Delete succeeds");
    }
}

/// Recorded outputs and inputs, as a refresh sends them.
type Recorded<'a> = (&'a Map<String, Json>, &'a Map<String, Json>);

fn urn(ty: &str) -> String {
    format!("urn:pulumi:test::lifecycle::{ty}::r")
}

/// What a step's Diff must say.
#[derive(Debug, PartialEq)]
enum Expect {
    NoChange,
    Update(&'static [&'static str]),
    Replace(&'static [&'static str]),
}

struct Step {
    inputs: Json,
    expect: Expect,
}

/// Runs Check -> Create(preview) -> Create, then each step as Diff -> Update(preview) +
/// Update, or a replacement (Create of the new, then Delete of the old), then Delete.
/// Returns every id that was created.
async fn lifecycle(h: &mut Harness, ty: &str, create: Json, steps: Vec<Step>) -> Vec<String> {
    let mut ids = Vec::new();
    let inputs = h
        .check(ty, &Map::new(), create)
        .await
        .unwrap_or_else(|f| panic!("Check: {f:?}"));
    let (pid, preview) = h.create(ty, &inputs, true).await;
    assert!(pid.is_empty(), "preview returns no id");
    let id_key = if ty == VS { "snapshotId" } else { "diskId" };
    assert!(
        !preview.contains_key(id_key),
        "{id_key} is unknown in preview"
    );
    let (mut id, mut outputs) = h.create(ty, &inputs, false).await;
    assert_eq!(outputs[id_key], json!(id));
    let mut old_inputs = inputs;
    ids.push(id.clone());
    for (i, step) in steps.into_iter().enumerate() {
        let news = h
            .check(ty, &old_inputs, step.inputs)
            .await
            .unwrap_or_else(|f| panic!("step {i} Check: {f:?}"));
        let d = h.diff(ty, &id, &outputs, &news).await;
        let changed: Vec<&str> = d.diffs.iter().map(String::as_str).collect();
        match step.expect {
            Expect::NoChange => assert_eq!(
                d.changes,
                rpc::diff_response::DiffChanges::DiffNone as i32,
                "step {i}: {d:?}"
            ),
            Expect::Update(keys) => {
                assert!(d.replaces.is_empty(), "step {i} must not replace: {d:?}");
                assert_eq!(changed, keys, "step {i}");
                let planned = h.update(ty, &id, &outputs, &news, true).await;
                assert_eq!(planned[id_key], json!(id), "an update keeps the id");
                outputs = h.update(ty, &id, &outputs, &news, false).await;
            }
            Expect::Replace(keys) => {
                // The engine reads `replaces` as a set.
                let mut replaces: Vec<&str> = d.replaces.iter().map(String::as_str).collect();
                replaces.sort_unstable();
                let mut want = keys.to_vec();
                want.sort_unstable();
                assert_eq!(replaces, want, "step {i}: {d:?}");
                assert!(
                    !d.delete_before_replace,
                    "replacement is create-before-delete"
                );
                // The engine re-checks without olds before creating the replacement.
                let fresh = h
                    .check(ty, &Map::new(), serde_json::to_value(&news).expect("json"))
                    .await
                    .expect("re-check");
                let (new_id, new_outputs) = h.create(ty, &fresh, false).await;
                assert_ne!(new_id, id, "a replacement has a new id");
                h.delete(ty, &id, &outputs).await;
                id = new_id;
                outputs = new_outputs;
                ids.push(id.clone());
            }
        }
        old_inputs = news;
    }
    // Refresh: reading the final state finds no drift.
    let read = h.read(ty, &id, Some((&outputs, &old_inputs))).await;
    assert_eq!(read.id, id);
    let d = h.diff(ty, &id, &plain(read.properties), &old_inputs).await;
    assert_eq!(
        d.changes,
        rpc::diff_response::DiffChanges::DiffNone as i32,
        "no drift after refresh: {d:?}"
    );
    h.delete(ty, &id, &outputs).await;
    ids
}

fn tags(pairs: &[(&str, &str)]) -> Json {
    let m: BTreeMap<&str, &str> = pairs.iter().copied().collect();
    json!(m)
}

#[tokio::test]
async fn versioned_snapshot_lifecycle() {
    let Some(mut h) = start().await else { return };
    h.configure(&[]).await.expect("Configure");
    let disk = h.disk();
    let base = |version: &str, t: Json, policy: &str| json!({"resourceGroupName": "datasets-rg", "dataset": "imagenet", "version": version, "sourceDiskId": disk, "tags": t, "metadata": {"gitCommit": "abc"}, "deletionPolicy": policy});
    let ids = lifecycle(
        &mut h,
        VS,
        base("1", tags(&[("env", "dev")]), "Delete"),
        vec![
            Step {
                inputs: base("1", tags(&[("env", "dev")]), "Delete"),
                expect: Expect::NoChange,
            },
            Step {
                inputs: base("1", tags(&[("env", "prod")]), "Delete"),
                expect: Expect::Update(&["tags"]),
            },
            Step {
                inputs: base("2", tags(&[("env", "prod")]), "Delete"),
                expect: Expect::Replace(&["version", "snapshotName"]),
            },
            Step {
                inputs: base("2", tags(&[("env", "prod")]), "Retain"),
                expect: Expect::Update(&["deletionPolicy"]),
            },
        ],
    )
    .await;
    assert_eq!(ids.len(), 2);
    // v1 was deleted (Delete policy at the time); v2 was released and is still in Azure,
    // found by import from its id alone.
    let gone = h.read(VS, &ids[0], None).await;
    assert!(gone.id.is_empty(), "v1 is gone: {gone:?}");
    let imported = h.read(VS, &ids[1], None).await;
    assert_eq!(imported.id, ids[1]);
    let inputs = plain(imported.inputs);
    assert_eq!(inputs["dataset"], json!("imagenet"));
    assert_eq!(inputs["version"], json!("2"));
    assert_eq!(inputs["metadata"], json!({"gitCommit": "abc"}));
    assert_eq!(inputs["tags"], json!({"env": "prod"}));
}

#[tokio::test]
async fn create_refuses_to_overwrite_and_names_the_import_command() {
    let Some(mut h) = start().await else { return };
    h.configure(&[]).await.expect("Configure");
    let news = json!({"resourceGroupName": "datasets-rg", "dataset": "d", "version": "1", "sourceDiskId": h.disk()});
    let inputs = h.check(VS, &Map::new(), news).await.expect("Check");
    let (id, _) = h.create(VS, &inputs, false).await;
    // Another resource taking the same version: refused, with the import command filled
    // in for that resource.
    let other = urn(VS).replace("::r", "::other");
    let err = h
        .client
        .create(rpc::CreateRequest {
            urn: other,
            r#type: VS.into(),
            properties: Some(value::to_struct(&inputs)),
            ..Default::default()
        })
        .await
        .expect_err("a second create of the same version fails");
    assert!(err.message().contains("already exists"), "{err}");
    assert!(
        err.message()
            .contains(&format!("pulumi import {VS} other {id}")),
        "{err}"
    );
    // The same resource again (an `up` killed after Azure accepted the create): adopted.
    let again = h
        .client
        .create(rpc::CreateRequest {
            urn: urn(VS),
            r#type: VS.into(),
            properties: Some(value::to_struct(&inputs)),
            ..Default::default()
        })
        .await
        .expect("the same resource adopts what it made")
        .into_inner();
    assert_eq!(again.id, id);
}

#[tokio::test]
async fn restored_disk_lifecycle() {
    let Some(mut h) = start().await else { return };
    h.configure(&[]).await.expect("Configure");
    let news = json!({"resourceGroupName": "datasets-rg", "dataset": "d", "version": "1", "sourceDiskId": h.disk()});
    let inputs = h.check(VS, &Map::new(), news).await.expect("Check");
    let (snap, _) = h.create(VS, &inputs, false).await;
    let disk = |t: Json, size: i64| json!({"resourceGroupName": "datasets-rg", "dataset": "d", "version": "latest", "diskSizeGb": size, "tags": t});
    lifecycle(
        &mut h,
        RD,
        disk(tags(&[("a", "1")]), 64),
        vec![
            Step { inputs: disk(tags(&[("a", "2")]), 64), expect: Expect::Update(&["tags"]) },
            Step { inputs: disk(tags(&[("a", "2")]), 128), expect: Expect::Update(&["diskSizeGb"]) },
            Step { inputs: json!({"resourceGroupName": "datasets-rg", "sourceSnapshotId": snap, "diskSizeGb": 128, "tags": {"a": "2"}}), expect: Expect::Replace(&["diskName", "sourceSnapshotId", "dataset", "version"]) },
        ],
    )
    .await;
}

#[tokio::test]
async fn configure_names_the_missing_key_and_keeps_secrets_out_of_errors() {
    let Some(mut h) = start().await else { return };
    let err = h
        .configure(&[
            ("subscriptionId", "not-a-uuid"),
            ("clientSecret", "hunter2-secret"),
        ])
        .await
        .expect_err("a bad subscription id fails");
    assert!(err.message().contains("subscriptionId"), "{err}");
    assert!(
        !err.message().contains("hunter2-secret"),
        "no secret in errors: {err}"
    );
}
