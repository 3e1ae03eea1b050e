//! Test harness: an emulator served in-process over HTTPS on 127.0.0.1:0 (its own CA
//! in a fresh temp dir), a reqwest client that trusts only that CA, and ARM helpers.

#![allow(dead_code)]

use datasnap_emulator::config::{AppState, Config, Inner};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_rustls::rustls;

pub const API: &str = "2025-01-02";
pub const RG_API: &str = "2021-04-01";

pub struct Emu {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub token: String,
    pub dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    /// The status and ARM error code, to compare with the expected refusal in one line.
    pub fn refused(&self) -> (u16, &str) {
        (self.status.as_u16(), self.code())
    }
}

/// Send a request that must succeed and return its JSON body.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json body")
}

pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "datasnap-emulator-test-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn client_for(ca_file: &std::path::Path) -> reqwest::Client {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca_file).expect("ca pem") {
        roots.add(cert.expect("cert")).expect("add root");
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .no_proxy()
        .build()
        .expect("client")
}

impl Emu {
    pub async fn start() -> Emu {
        Emu::start_with(|_| {}).await
    }

    /// Start with a config tweak (op duration, seed, state file...).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Emu {
        let dir = temp_dir("emu");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut config = Config {
            base_url: format!("https://127.0.0.1:{port}"),
            ..Config::default()
        };
        tweak(&mut config);
        let ca = dir.join("ca.pem");
        let tls = datasnap_emulator::tls::generate(&ca).expect("tls");
        let state = Inner::new(config).expect("state");
        let app = datasnap_emulator::app(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(datasnap_emulator::serve(listener, Some(tls), app, async {
            let _ = rx.await;
        }));
        let client = client_for(&ca);
        let mut emu = Emu {
            base: format!("https://127.0.0.1:{port}"),
            state,
            client,
            token: String::new(),
            dir,
            shutdown: Some(tx),
            task: Some(task),
        };
        emu.token = emu.fetch_token().await;
        emu
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub fn sub(&self) -> String {
        self.state.config.subscription_id.clone()
    }

    pub async fn fetch_token(&self) -> String {
        let cfg = &self.state.config;
        let resp = self
            .client
            .post(format!("{}/{}/oauth2/v2.0/token", self.base, cfg.tenant_id))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", cfg.client_id.as_str()),
                ("client_secret", cfg.client_secret.as_str()),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Any request; `path` may be a full URL (for Location headers) or a path.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self.client.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn arm(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.send(method, path, body, Some(&self.token.clone()))
            .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.arm(Method::GET, path, None).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.arm(Method::PUT, path, Some(&body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.arm(Method::PATCH, path, Some(&body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.arm(Method::DELETE, path, None).await
    }
    pub async fn post(&self, path: &str, body: Option<Value>) -> Resp {
        self.arm(Method::POST, path, body.as_ref()).await
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.send(method, &format!("/_emulator{path}"), body.as_ref(), None)
            .await
    }

    pub fn group_path(&self, rg: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{rg}?api-version={RG_API}",
            self.sub()
        )
    }

    pub fn id(&self, rg: &str, kind: &str, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}/{name}",
            self.sub()
        )
    }

    pub fn path(&self, rg: &str, kind: &str, name: &str) -> String {
        format!("{}?api-version={API}", self.id(rg, kind, name))
    }

    pub async fn create_group(&self, rg: &str) {
        let r = self
            .put(&self.group_path(rg), json!({"location": "westus"}))
            .await;
        assert!(r.status == 201 || r.status == 200, "{:?}", r.body);
    }

    pub async fn create_disk(&self, rg: &str, name: &str, size: u64) -> Value {
        let r = self
            .put(
                &self.path(rg, "disks", name),
                json!({"location": "westus", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size}}),
            )
            .await;
        assert!(
            r.status == 200 || r.status == 202,
            "{} {:?}",
            r.status,
            r.body
        );
        self.wait_succeeded(&self.path(rg, "disks", name)).await
    }

    pub async fn create_snapshot(
        &self,
        rg: &str,
        name: &str,
        source_id: &str,
        incremental: bool,
    ) -> Resp {
        self.put(
            &self.path(rg, "snapshots", name),
            json!({"location": "westus", "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": source_id},
                "incremental": incremental}}),
        )
        .await
    }

    /// `properties.provisioningState` of whatever `path` names.
    pub async fn provisioning_state(&self, path: &str) -> Value {
        self.get(path).await.body["properties"]["provisioningState"].clone()
    }

    /// `POST /_emulator/faults` with `spec`.
    pub async fn set_faults(&self, spec: Value) -> Resp {
        self.control(Method::POST, "/faults", Some(spec)).await
    }

    /// `POST {id}/beginGetAccess` with `body`.
    pub async fn begin_get_access(&self, id: &str, body: Value) -> Resp {
        self.post(
            &format!("{id}/beginGetAccess?api-version={API}"),
            Some(body),
        )
        .await
    }

    /// A resource group `rg` holding an empty disk `name` of `size` GB.
    pub async fn with_disk(self, rg: &str, name: &str, size: u64) -> Emu {
        self.create_group(rg).await;
        self.create_disk(rg, name, size).await;
        self
    }

    /// GET a non-ARM path (token service, metadata) and return its JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        json_of(self.client.get(format!("{}{path}", self.base))).await
    }

    /// GET until provisioningState is terminal; returns the last body.
    pub async fn wait_succeeded(&self, path: &str) -> Value {
        for _ in 0..200 {
            let r = self.get(path).await;
            let state = r.body["properties"]["provisioningState"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if state != "Updating" && state != "Deleting" {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("{path} never finished");
    }
}
