//! Integration tests of the ARM client over real sockets: reqwest against a tiny in-process
//! HTTP responder on 127.0.0.1, and, when `datasnap-emulator` is built, the whole snapshot
//! lifecycle against the emulator over HTTPS with its own CA and token endpoint.

mod common;

use datasnap_provider::azure::id::{ResourceId, ResourceKind};
use datasnap_provider::azure::models::{
    CreationData, Disk, Snapshot, SnapshotProperties, SnapshotUpdate,
};
use datasnap_provider::azure::{
    ArmClient, AzureError, CancelToken, ClientOptions, FinalState, OpContext,
};
use datasnap_provider::config::ProviderConfig;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------------
// A canned HTTP/1.1 responder

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

type Reply = (u16, Vec<(&'static str, String)>, String);
type Route = Box<dyn Fn(&str, &str, usize) -> Reply + Send + Sync>;

/// Serves `route(method, target, n)` (n = how many requests came before) on 127.0.0.1:0.
async fn responder(route: Route) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let route = Arc::new(route);
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let route = route.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let target = parts.next().unwrap_or_default().to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).await.unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).await.unwrap();
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(Seen {
                        method: method.clone(),
                        target: target.clone(),
                        headers,
                    });
                    log.len() - 1
                };
                let (status, reply_headers, reply_body) = route(&method, &target, n);
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-length: {}\r\n",
                    reply_body.len()
                );
                if !reply_body.is_empty() {
                    out.push_str("content-type: application/json\r\n");
                }
                for (k, v) in reply_headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&reply_body);
                let _ = write.write_all(out.as_bytes()).await;
                let _ = write.shutdown().await;
            });
        }
    });
    (base, seen)
}

fn ctx(secs: u64) -> OpContext {
    OpContext::new(Duration::from_secs(secs), CancelToken::new())
}

fn copy_body(disk: &str, location: &str) -> Snapshot {
    Snapshot {
        location: location.into(),
        tags: BTreeMap::from([("datasnap.dataset".to_string(), "ds".to_string())]),
        properties: SnapshotProperties {
            creation_data: CreationData {
                create_option: "Copy".into(),
                source_resource_id: Some(disk.into()),
                ..Default::default()
            },
            incremental: Some(true),
            ..Default::default()
        },
        ..Default::default()
    }
}

const SNAP: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/snapshots/ds-v1";

#[tokio::test]
async fn reqwest_transport_runs_a_create_lro() {
    let (base, seen) = responder(Box::new(|method, target, _n| {
        let path = target.split('?').next().unwrap_or_default().to_string();
        let snapshot = serde_json::json!({"id": SNAP, "name": "ds-v1", "location": "westus",
            "properties": {"provisioningState": "Succeeded", "incremental": true,
                "creationData": {"createOption": "Copy"}, "diskSizeBytes": 68719476736u64}});
        match (method, path.as_str()) {
            ("PUT", SNAP) => (
                202,
                vec![
                    ("azure-asyncoperation", "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Compute/locations/westus/DiskOperations/op1".to_string()),
                    ("retry-after", "0".to_string()),
                ],
                String::new(),
            ),
            ("GET", p) if p.ends_with("/DiskOperations/op1") => {
                (200, vec![], r#"{"status":"Succeeded"}"#.to_string())
            }
            ("GET", SNAP) => (200, vec![], snapshot.to_string()),
            _ => (404, vec![], r#"{"error":{"code":"NotFound","message":"no route"}}"#.to_string()),
        }
    }))
    .await;
    let client = ArmClient::unauthenticated(
        &base,
        "00000000-0000-0000-0000-000000000001",
        ClientOptions::for_tests(),
    )
    .unwrap();
    let id = ResourceId::parse(SNAP, ResourceKind::Snapshot).unwrap();
    let s = client
        .create_snapshot(
            &id,
            &copy_body(
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
                "westus",
            ),
            &ctx(30),
        )
        .await
        .unwrap();
    assert_eq!(s.properties.disk_size_bytes, Some(68719476736));
    let seen = seen.lock().unwrap().clone();
    let lines: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.target))
        .collect();
    assert_eq!(
        lines,
        [
            format!("PUT {SNAP}?api-version=2025-01-02"),
            "GET /subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Compute/locations/westus/DiskOperations/op1?api-version=2025-01-02".to_string(),
            format!("GET {SNAP}?api-version=2025-01-02"),
        ]
    );
    let h = |name: &str| {
        seen[0]
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(h("content-type").as_deref(), Some("application/json"));
    assert!(h("x-ms-client-request-id").is_some());
    assert!(h("user-agent")
        .unwrap()
        .starts_with("pulumi-resource-datasnap/"));
    assert!(
        h("authorization").is_none(),
        "unauthenticated client sends no token"
    );
}

#[tokio::test]
async fn reqwest_transport_reports_errors_and_refused_connections() {
    let (base, _seen) = responder(Box::new(|_, _, _| {
        (
            404,
            vec![("x-ms-error-code", "ResourceGroupNotFound".to_string())],
            String::new(),
        )
    }))
    .await;
    let client = ArmClient::unauthenticated(
        &base,
        "00000000-0000-0000-0000-000000000001",
        ClientOptions::for_tests(),
    )
    .unwrap();
    let id = ResourceId::parse(SNAP, ResourceKind::Snapshot).unwrap();
    assert!(client
        .get::<Snapshot>(&id, &ctx(30))
        .await
        .unwrap()
        .is_none());

    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = ArmClient::unauthenticated(
        &format!("http://127.0.0.1:{port}"),
        "s",
        ClientOptions::for_tests(),
    )
    .unwrap();
    let err = client.get::<Snapshot>(&id, &ctx(30)).await.unwrap_err();
    assert!(matches!(err, AzureError::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("armEndpoint"), "{err}");
}

#[tokio::test]
async fn execute_follows_a_location_lro() {
    let (base, _seen) = responder(Box::new(|method, target, n| match (method, n) {
        ("POST", _) => (202, vec![("location", "/ops/1".to_string())], String::new()),
        ("GET", 1) => (
            202,
            vec![
                ("location", "/ops/1".to_string()),
                ("retry-after", "0".to_string()),
            ],
            String::new(),
        ),
        ("GET", _) if target.starts_with("/ops/1") => {
            (200, vec![], r#"{"accessSAS":"sas"}"#.to_string())
        }
        _ => (500, vec![], String::new()),
    }))
    .await;
    let client = ArmClient::unauthenticated(&base, "s", ClientOptions::for_tests()).unwrap();
    let out = client
        .execute(
            reqwest::Method::POST,
            "/x/beginGetAccess",
            Some(&serde_json::json!({"access": "Read"})),
            FinalState::Location,
            &ctx(30),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out["accessSAS"], "sas");
}

// ---------------------------------------------------------------------------------------------
// Against datasnap-emulator

/// The emulator binary: `$DATASNAP_EMULATOR`, else the workspace target dir.
fn emulator_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DATASNAP_EMULATOR") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    ["debug", "release"]
        .iter()
        .map(|p| target.join(p).join("datasnap-emulator"))
        .chain(std::iter::once(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bin/datasnap-emulator"),
        ))
        .find(|p| p.is_file())
}

struct Emulator {
    child: tokio::process::Child,
    line: serde_json::Value,
}

impl Emulator {
    async fn start() -> Option<Emulator> {
        let Some(bin) = emulator_binary() else {
            assert!(
                std::env::var_os("DATASNAP_REQUIRE_EMULATOR").is_none(),
                "datasnap-emulator is not built"
            );
            eprintln!(
                "skipping: datasnap-emulator is not built (cargo build -p datasnap-emulator)"
            );
            return None;
        };
        let mut child = tokio::process::Command::new(bin)
            .args(["serve", "--seed"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("emulator starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("emulator prints its line")
            .unwrap()
            .expect("a line");
        let line: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        // Keep draining stdout so the emulator never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Emulator { child, line })
    }

    fn config(&self, overrides: &[(&str, &str)]) -> ProviderConfig {
        let mut inputs = common::emulator_config(&self.line);
        for (k, v) in overrides {
            inputs.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        }
        ProviderConfig::resolve(&inputs, &|_| None).expect("emulator config resolves")
    }

    /// `POST /_emulator/faults` (the emulator's fault injection).
    async fn faults(&self, spec: serde_json::Value) {
        datasnap_provider::azure::client::ensure_crypto_provider();
        let pem = std::fs::read(self.line["caCertFile"].as_str().unwrap()).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
            .build()
            .unwrap();
        let url = format!(
            "{}/_emulator/faults",
            self.line["armEndpoint"].as_str().unwrap()
        );
        let r = http.post(url).json(&spec).send().await.unwrap();
        assert!(r.status().is_success(), "faults: {}", r.status());
    }

    fn subscription(&self) -> String {
        self.line["subscriptionId"].as_str().unwrap().to_string()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test]
async fn emulator_snapshot_lifecycle() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(&emu.config(&[]), ClientOptions::for_tests()).unwrap();
    let sub = emu.subscription();
    let disk = format!("/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk");
    let id = ResourceId::new(sub.clone(), "datasets-rg", ResourceKind::Snapshot, "it-v1");

    assert!(client
        .get::<Snapshot>(&id, &ctx(60))
        .await
        .unwrap()
        .is_none());
    let disk_id = ResourceId::parse(&disk, ResourceKind::Disk).unwrap();
    let source = client
        .get::<Disk>(&disk_id, &ctx(60))
        .await
        .unwrap()
        .expect("seeded disk");

    let created = client
        .create_snapshot(&id, &copy_body(&disk, &source.location), &ctx(120))
        .await
        .unwrap();
    assert_eq!(
        created.properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
    assert_eq!(
        created.tags.get("datasnap.dataset").map(String::as_str),
        Some("ds")
    );
    assert!(created.properties.unique_id.is_some());

    let mut tags = created.tags.clone();
    tags.insert("stage".into(), "prod".into());
    let updated = client
        .update(
            &id,
            &SnapshotUpdate {
                tags: Some(tags),
                ..Default::default()
            },
            &ctx(120),
        )
        .await
        .unwrap();
    assert_eq!(updated.tags.get("stage").map(String::as_str), Some("prod"));

    let listed = client
        .list_snapshots("datasets-rg", &ctx(60))
        .await
        .unwrap();
    assert!(listed.iter().any(|s| s
        .name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case("it-v1"))));

    client.delete(&id, &ctx(120)).await.unwrap();
    assert!(client
        .get::<Snapshot>(&id, &ctx(60))
        .await
        .unwrap()
        .is_none());
    // Already gone is success.
    client.delete(&id, &ctx(120)).await.unwrap();
}

#[tokio::test]
async fn emulator_wrong_secret_is_one_clear_credential_error() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(
        &emu.config(&[("clientSecret", "wrong-secret")]),
        ClientOptions::default(),
    )
    .unwrap();
    let id = ResourceId::new(
        emu.subscription(),
        "datasets-rg",
        ResourceKind::Snapshot,
        "nope",
    );
    let started = std::time::Instant::now();
    let err = client.get::<Snapshot>(&id, &ctx(60)).await.unwrap_err();
    assert!(matches!(err, AzureError::Credential { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("clientSecret") && text.contains("ARM_CLIENT_SECRET"),
        "{text}"
    );
    assert!(!text.contains("wrong-secret"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no retry storm"
    );
}

fn fast_retries() -> ClientOptions {
    ClientOptions {
        retry: datasnap_provider::azure::RetryPolicy {
            max_retries: 6,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        },
        ..ClientOptions::for_tests()
    }
}

fn snapshot_id(emu: &Emulator, name: &str) -> ResourceId {
    ResourceId::new(
        emu.subscription(),
        "datasets-rg",
        ResourceKind::Snapshot,
        name,
    )
}

fn seeded_disk(emu: &Emulator) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk",
        emu.subscription()
    )
}

#[tokio::test]
async fn emulator_retries_throttling_server_errors_dropped_connections_and_expired_tokens() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(&emu.config(&[]), fast_retries()).unwrap();
    let id = snapshot_id(&emu, "faulty-v1");
    // Warm up: one token issued.
    assert!(client
        .get::<Snapshot>(&id, &ctx(60))
        .await
        .unwrap()
        .is_none());
    emu.faults(serde_json::json!({
        "throttle": {"count": 2, "retryAfterSecs": 0},
        "serverError": {"count": 1, "status": 503, "retryAfterSecs": 0},
        "dropConnection": {"count": 1},
        "expireTokens": true
    }))
    .await;
    let created = client
        .create_snapshot(&id, &copy_body(&seeded_disk(&emu), "westus"), &ctx(120))
        .await
        .unwrap();
    assert_eq!(
        created.properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
    client.delete(&id, &ctx(120)).await.unwrap();
}

#[tokio::test]
async fn emulator_failed_lro_after_accept_is_after_accepted_with_the_code() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(&emu.config(&[]), ClientOptions::for_tests()).unwrap();
    emu.faults(serde_json::json!({"lroFailure": {"count": 1, "code": "InternalDiskManagementError", "message": "injected"}}))
        .await;
    let id = snapshot_id(&emu, "fails-v1");
    let err = client
        .create_snapshot(&id, &copy_body(&seeded_disk(&emu), "westus"), &ctx(60))
        .await
        .unwrap_err();
    match &err {
        AzureError::AfterAccepted { id: got, source } => {
            assert!(got.ends_with("/snapshots/fails-v1"), "{got}");
            assert_eq!(
                source.code(),
                Some("InternalDiskManagementError"),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn emulator_cancel_and_deadline_during_a_slow_create() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(&emu.config(&[]), ClientOptions::for_tests()).unwrap();
    emu.faults(serde_json::json!({"opDurationMs": 60000})).await;

    // Cancel: returns within a second, as a partial create.
    let cancel = CancelToken::new();
    let op = OpContext::new(Duration::from_secs(600), cancel.clone());
    let id = snapshot_id(&emu, "slow-v1");
    let disk = seeded_disk(&emu);
    let c2 = client.clone();
    let task = tokio::spawn(async move {
        c2.create_snapshot(&id, &copy_body(&disk, "westus"), &op)
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = std::time::Instant::now();
    cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        t0.elapsed()
    );
    assert!(err.is_cancelled(), "{err:?}");
    assert!(matches!(err, AzureError::AfterAccepted { .. }), "{err:?}");

    // Deadline: a 1 s budget ends the wait with Timeout.
    let id = snapshot_id(&emu, "slow-v2");
    let err = client
        .create_snapshot(&id, &copy_body(&seeded_disk(&emu), "westus"), &ctx(1))
        .await
        .unwrap_err();
    match err {
        AzureError::AfterAccepted { source, .. } => {
            assert!(matches!(*source, AzureError::Timeout { .. }), "{source:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn emulator_copy_start_reports_progress_until_complete() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(
        &emu.config(&[]),
        ClientOptions {
            copy_poll_interval: Duration::from_millis(50),
            ..ClientOptions::for_tests()
        },
    )
    .unwrap();
    emu.faults(serde_json::json!({"opDurationMs": 300})).await;
    let source_id = snapshot_id(&emu, "copy-src-v1");
    client
        .create_snapshot(
            &source_id,
            &copy_body(&seeded_disk(&emu), "westus"),
            &ctx(60),
        )
        .await
        .unwrap();
    let mut body = copy_body(&source_id.to_string(), "eastus");
    body.properties.creation_data.create_option = "CopyStart".into();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let op = ctx(60).with_progress(Arc::new(move |l| sink.lock().unwrap().push(l)));
    let copy = client
        .create_snapshot(&snapshot_id(&emu, "copy-dst-v1"), &body, &op)
        .await
        .unwrap();
    assert_eq!(copy.properties.completion_percent, Some(100.0));
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("copying snapshot copy-dst-v1 ...")),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("copying snapshot copy-dst-v1 ... 100%")
    );
}

#[tokio::test]
async fn emulator_oidc_token_file_and_github_assertions() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvOngifQ.c2ln";
    let id = snapshot_id(&emu, "nothing");

    // A static OIDC token (ARM_OIDC_TOKEN).
    let config = emu.config(&[
        ("clientSecret", ""),
        ("useOidc", "true"),
        ("oidcToken", jwt),
    ]);
    assert!(matches!(
        config.credential,
        datasnap_provider::config::CredentialSource::OidcToken { .. }
    ));
    let client = ArmClient::new(&config, ClientOptions::for_tests()).unwrap();
    assert!(client
        .get::<Snapshot>(&id, &ctx(60))
        .await
        .unwrap()
        .is_none());

    // A token file (AZURE_FEDERATED_TOKEN_FILE / ARM_OIDC_TOKEN_FILE_PATH).
    let file = std::env::temp_dir().join(format!("datasnap-oidc-{}", std::process::id()));
    std::fs::write(&file, jwt).unwrap();
    let config = emu.config(&[
        ("clientSecret", ""),
        ("oidcTokenFilePath", file.to_str().unwrap()),
    ]);
    let client = ArmClient::new(&config, ClientOptions::for_tests()).unwrap();
    assert!(client
        .get::<Snapshot>(&id, &ctx(60))
        .await
        .unwrap()
        .is_none());
    let _ = std::fs::remove_file(&file);

    // GitHub Actions' id-token endpoint, served locally.
    let (gh, seen) = responder(Box::new(move |_, _, _| {
        (200, vec![], format!(r#"{{"count":1,"value":"{jwt}"}}"#))
    }))
    .await;
    let config = emu.config(&[
        ("clientSecret", ""),
        ("useOidc", "true"),
        ("oidcRequestUrl", &format!("{gh}/token?api-version=2.0")),
        ("oidcRequestToken", "gh-request-token"),
    ]);
    let client = ArmClient::new(&config, ClientOptions::for_tests()).unwrap();
    assert!(client
        .get::<Snapshot>(&id, &ctx(60))
        .await
        .unwrap()
        .is_none());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .target
            .contains("audience=api%3A%2F%2FAzureADTokenExchange"),
        "{}",
        seen[0].target
    );
    let auth = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone());
    assert_eq!(auth.as_deref(), Some("Bearer gh-request-token"));

    // A token that is not a JWT is refused by the token endpoint: one Credential error.
    let config = emu.config(&[("clientSecret", ""), ("oidcToken", "not-a-jwt")]);
    let client = ArmClient::new(&config, ClientOptions::for_tests()).unwrap();
    let err = client.get::<Snapshot>(&id, &ctx(60)).await.unwrap_err();
    assert!(matches!(err, AzureError::Credential { .. }), "{err:?}");
    assert!(err.to_string().contains("ARM_OIDC_TOKEN"), "{err}");
}

/// ARM's tags at a snapshot's scope: Merge and Delete touch only the named keys; and the
/// subscription's regions are listed for Check.
#[tokio::test]
async fn emulator_tags_merge_and_delete_and_the_region_list() {
    let Some(emu) = Emulator::start().await else {
        return;
    };
    let client = ArmClient::new(&emu.config(&[]), ClientOptions::for_tests()).unwrap();
    let sub = emu.subscription();
    let disk = format!("/subscriptions/{sub}/resourceGroups/datasets-rg/providers/Microsoft.Compute/disks/dataset-disk");
    let id = ResourceId::new(
        sub.clone(),
        "datasets-rg",
        ResourceKind::Snapshot,
        "tags-v1",
    );
    let mut body = copy_body(&disk, "westus");
    body.tags = [("datasnap.dataset".to_string(), "d".to_string())].into();
    client.create_snapshot(&id, &body, &ctx(120)).await.unwrap();
    let alias = [("datasnap.alias.production".to_string(), "1".to_string())].into();
    let after = client.merge_tags(&id, &alias, &ctx(60)).await.unwrap();
    assert_eq!(after.len(), 2, "{after:?}");
    let retained = [("datasnap.retained".to_string(), "true".to_string())].into();
    client.merge_tags(&id, &retained, &ctx(60)).await.unwrap();
    let after = client.delete_tags(&id, &alias, &ctx(60)).await.unwrap();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        ["datasnap.dataset", "datasnap.retained"]
    );
    let read: Snapshot = client.get(&id, &ctx(60)).await.unwrap().unwrap();
    assert_eq!(
        read.tags, after,
        "the snapshot shows the tags written at its scope"
    );

    let regions = client.list_locations(&ctx(60)).await.unwrap();
    assert!(
        regions
            .iter()
            .any(|(n, d)| n == "westus2" && d == "West US 2"),
        "{regions:?}"
    );
}
