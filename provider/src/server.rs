//! The `pulumirpc.ResourceProvider` gRPC service: decode, dispatch by token, encode.
//!
//! No Azure and no resource rules live here. Every request is decoded with `value`,
//! handed to the resource registered for its type token (one table: [`registry`]), and
//! the answer encoded back. Errors become gRPC statuses in one place ([`status`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

use crate::adapter::{Adapter, DynResource};
use crate::azure::client::default_timeouts;
use crate::azure::{ArmClient, CancelToken, OpContext};
use crate::catalog::tags::claim_for;
use crate::config::{self, EnvLookup};
use crate::functions::{client_config, versions, DynFunction, FunctionAdapter, Invoked};
use crate::proto::rpc;
use crate::proto::{EngineClient, ResourceProvider};
use crate::resource::{ChangeKind, DiffResult, Env, Failure, LogSink, ResourceError, Severity};
use crate::resources::preflight::{Preflight, PreviewChecks};
use crate::resources::{regions, restored_disk, version_alias, version_export, versioned_snapshot};
use crate::schema;
use crate::value;

/// Every resource the provider serves, by type token: the only place one is registered.
pub fn registry() -> BTreeMap<&'static str, Arc<dyn DynResource>> {
    let mut r: BTreeMap<&'static str, Arc<dyn DynResource>> = BTreeMap::new();
    r.insert(
        versioned_snapshot::TOKEN,
        Arc::new(Adapter::new(
            versioned_snapshot::VersionedSnapshot,
            schema::resource(versioned_snapshot::TOKEN),
        )),
    );
    r.insert(
        version_alias::TOKEN,
        Arc::new(Adapter::new(
            version_alias::VersionAlias,
            schema::resource(version_alias::TOKEN),
        )),
    );
    r.insert(
        version_export::TOKEN,
        Arc::new(Adapter::new(
            version_export::VersionExport,
            schema::resource(version_export::TOKEN),
        )),
    );
    r.insert(
        restored_disk::TOKEN,
        Arc::new(Adapter::new(
            restored_disk::RestoredDisk,
            schema::resource(restored_disk::TOKEN),
        )),
    );
    r
}

/// Every function the provider serves, by token: the only place one is registered.
pub fn functions() -> BTreeMap<&'static str, Arc<dyn DynFunction>> {
    let mut f: BTreeMap<&'static str, Arc<dyn DynFunction>> = BTreeMap::new();
    f.insert(
        versions::GET_VERSIONS,
        Arc::new(FunctionAdapter {
            function: versions::GetVersions,
            schema: schema::function(versions::GET_VERSIONS),
        }),
    );
    f.insert(
        client_config::GET_CLIENT_CONFIG,
        Arc::new(FunctionAdapter {
            function: client_config::GetClientConfig,
            schema: schema::function(client_config::GET_CLIENT_CONFIG),
        }),
    );
    f.insert(
        versions::GET_VERSION,
        Arc::new(FunctionAdapter {
            function: versions::GetVersion,
            schema: schema::function(versions::GET_VERSION),
        }),
    );
    f
}

/// Provider-wide state set by Handshake, Attach and Configure.
#[derive(Default)]
struct Shared {
    engine_address: Option<String>,
    /// The Azure client built by Configure.
    arm: Option<ArmClient>,
    /// The stack's claim salt, from Configure (see `config::CLAIM_SALT`).
    claim_salt: String,
    /// How previews check creates (`previewChecks`), from Configure.
    preview_checks: PreviewChecks,
    /// The reads the preview's checks share: one set per process, that is per preview.
    preflight: Arc<Preflight>,
    /// CheckConfig made the stack's claim salt just now (no state records one yet): default
    /// names in a preview are provisional until the `up` that records it.
    fresh_salt: bool,
    /// Whether a preview already said so (once per process).
    told_fresh_salt: bool,
}

/// The gRPC service.
pub struct Provider {
    resources: BTreeMap<&'static str, Arc<dyn DynResource>>,
    functions: BTreeMap<&'static str, Arc<dyn DynFunction>>,
    shared: Mutex<Shared>,
    log: mpsc::UnboundedSender<rpc::LogRequest>,
    log_rx: Mutex<Option<mpsc::UnboundedReceiver<rpc::LogRequest>>>,
    /// Triggered by `Cancel`: every in-flight Azure wait returns promptly.
    cancel: CancelToken,
    /// Reads the process environment (tests substitute their own).
    env: Arc<EnvLookup>,
    /// Set once the subscription's regions were read (see [`Provider::learn_regions`]).
    regions_read: tokio::sync::OnceCell<()>,
}

impl Provider {
    /// `engine_address`: the engine's gRPC address from the command line, if any (none in
    /// attach/debug mode, where `Attach` supplies it).
    pub fn new(engine_address: Option<String>) -> Provider {
        let (tx, rx) = mpsc::unbounded_channel();
        let p = Provider {
            resources: registry(),
            functions: functions(),
            shared: Mutex::new(Shared::default()),
            log: tx,
            log_rx: Mutex::new(Some(rx)),
            cancel: CancelToken::new(),
            env: Arc::new(|k: &str| std::env::var(k).ok().filter(|v| !v.is_empty())),
            regions_read: tokio::sync::OnceCell::new(),
        };
        if let Some(a) = engine_address {
            p.set_engine(a);
        }
        p
    }

    /// Reads configuration fallbacks from `env` instead of the process environment (tests).
    pub fn with_env(
        mut self,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Provider {
        self.env = Arc::new(env);
        self
    }

    /// The provider-wide state. A panic while it was held (a bug) would poison the lock;
    /// the state is two plain fields that are always whole, so the guard is recovered and
    /// the bug logged rather than every later RPC failing.
    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|poisoned| {
            tracing::error!("provider state lock poisoned by an earlier panic; continuing");
            poisoned.into_inner()
        })
    }

    /// Records the engine address and starts the task that forwards log messages to it,
    /// in order, on one connection (reconnecting once when a send fails). A message that
    /// cannot reach the engine goes to stderr, never nowhere.
    fn set_engine(&self, address: String) {
        let address = if address.contains("://") {
            address
        } else {
            format!("http://{address}")
        };
        self.shared().engine_address = Some(address.clone());
        let rx = self
            .log_rx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(mut rx) = rx {
            tokio::spawn(async move {
                let mut client: Option<EngineClient<tonic::transport::Channel>> = None;
                while let Some(msg) = rx.recv().await {
                    let mut sent = false;
                    for _attempt in 0..2 {
                        if client.is_none() {
                            client = EngineClient::connect(address.clone()).await.ok();
                        }
                        let Some(c) = client.as_mut() else { break };
                        match c.log(msg.clone()).await {
                            Ok(_) => {
                                sent = true;
                                break;
                            }
                            Err(e) => {
                                tracing::debug!("engine log failed: {e}; reconnecting");
                                client = None;
                            }
                        }
                    }
                    if !sent {
                        tracing::warn!(urn = %msg.urn, "(engine log unreachable) {}", msg.message);
                    }
                }
            });
        }
    }

    fn resource(&self, token: &str) -> Result<&Arc<dyn DynResource>, Status> {
        self.resources.get(token).ok_or_else(|| {
            let known: Vec<&str> = self.resources.keys().copied().collect();
            Status::invalid_argument(format!(
                "unknown resource type \"{token}\": this version of datasnap provides {}",
                known.join(", ")
            ))
        })
    }

    /// A `location` that datasnap's region table lacks may be a region Azure added since:
    /// read the subscription's regions once (when Configure made a client; at most 10 s,
    /// and a failure leaves the table as the only judge), then Check decides.
    async fn learn_regions(&self, news: &value::Props) {
        let Some(location) = news.values.get("location").and_then(|v| v.as_str()) else {
            return;
        };
        if regions::is_known(location) {
            return;
        }
        let Some(arm) = self.shared().arm.clone() else {
            return;
        };
        self.regions_read
            .get_or_init(|| async move {
                let ctx = OpContext::new(Duration::from_secs(10), CancelToken::new());
                match arm.list_locations(&ctx).await {
                    Ok(list) => regions::learn(list),
                    Err(e) => tracing::debug!(target: "datasnap", error = %e, "could not list the subscription's regions; the region table alone checks `location`"),
                }
            })
            .await;
    }

    /// The environment of one RPC: its log, its one deadline (the engine's timeout, else
    /// `default`), the Azure client and the cancel signal.
    fn env(&self, urn: &str, timeout_secs: f64, default: Duration) -> Env {
        // One lock, released before the Env is built.
        let (arm, salt, checks, preflight) = {
            let shared = self.shared();
            (
                shared.arm.clone(),
                shared.claim_salt.clone(),
                shared.preview_checks,
                shared.preflight.clone(),
            )
        };
        Env::new(
            Arc::new(EngineLog {
                tx: self.log.clone(),
                urn: urn.to_string(),
            }),
            urn,
            (timeout_secs > 0.0).then(|| Duration::from_secs_f64(timeout_secs)),
            default,
            arm,
            self.cancel.clone(),
        )
        .with_claim_salt(&salt)
        .with_preview(checks, preflight)
    }
}

/// Sends a resource's messages to the engine log, under its URN.
struct EngineLog {
    tx: mpsc::UnboundedSender<rpc::LogRequest>,
    urn: String,
}

impl LogSink for EngineLog {
    fn log(&self, severity: Severity, message: &str, ephemeral: bool) {
        let severity = match severity {
            Severity::Debug => rpc::LogSeverity::Debug,
            Severity::Info => rpc::LogSeverity::Info,
            Severity::Warning => rpc::LogSeverity::Warning,
            Severity::Error => rpc::LogSeverity::Error,
        };
        // A closed channel means the provider is shutting down; the message has nowhere to go.
        let _ = self.tx.send(rpc::LogRequest {
            severity: severity as i32,
            message: message.to_string(),
            urn: self.urn.clone(),
            stream_id: 0,
            ephemeral,
        });
    }
}

/// The type token of a URN (`urn:pulumi:stack::project::qualified$type::name`).
fn urn_type(urn: &str) -> &str {
    let parts: Vec<&str> = urn.split("::").collect();
    match parts.get(2) {
        Some(t) => t.rsplit('$').next().unwrap_or(t),
        None => "",
    }
}

fn token<'a>(explicit: &'a str, urn: &'a str) -> &'a str {
    if explicit.is_empty() {
        urn_type(urn)
    } else {
        explicit
    }
}

fn failures(f: Vec<Failure>) -> Vec<rpc::CheckFailure> {
    f.into_iter()
        .map(|f| rpc::CheckFailure {
            property: f.property,
            reason: f.reason,
        })
        .collect()
}

/// The one mapping from resource errors to gRPC statuses.
pub fn status(e: ResourceError) -> Status {
    match e {
        ResourceError::Invalid { .. } => Status::invalid_argument(e.to_string()),
        ResourceError::NotConfigured => Status::failed_precondition(e.to_string()),
        ResourceError::Cancelled(m) => Status::cancelled(m),
        ResourceError::Partial {
            id,
            outputs,
            message,
        } => {
            // The engine reads ErrorResourceInitFailed from the status details and keeps
            // tracking the resource with these outputs.
            let detail = rpc::ErrorResourceInitFailed {
                id,
                properties: Some(value::encode(&outputs)),
                reasons: vec![message.clone()],
                inputs: None,
                refresh_before_update: false,
            };
            let any = prost_types::Any {
                type_url: "type.googleapis.com/pulumirpc.ErrorResourceInitFailed".into(),
                value: detail.encode_to_vec(),
            };
            let st = RpcStatus {
                code: tonic::Code::Unknown as i32,
                message: message.clone(),
                details: vec![any],
            };
            Status::with_details(tonic::Code::Unknown, message, st.encode_to_vec().into())
        }
        ResourceError::Failed(m) => Status::unknown(m),
        ResourceError::Bug(_) => Status::internal(e.to_string()),
    }
}

/// `google.rpc.Status`, as the engine decodes it from `grpc-status-details-bin`.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

fn diff_response(d: DiffResult) -> rpc::DiffResponse {
    use rpc::property_diff::Kind;
    let mut resp = rpc::DiffResponse {
        changes: if d.changes.is_empty() {
            rpc::diff_response::DiffChanges::DiffNone
        } else {
            rpc::diff_response::DiffChanges::DiffSome
        } as i32,
        has_detailed_diff: true,
        delete_before_replace: d.delete_before_replace,
        ..Default::default()
    };
    for c in d.changes {
        let top = c
            .path
            .split(['.', '['])
            .next()
            .unwrap_or(&c.path)
            .to_string();
        let kind = match (c.kind, c.replace) {
            (ChangeKind::Add, false) => Kind::Add,
            (ChangeKind::Add, true) => Kind::AddReplace,
            (ChangeKind::Delete, false) => Kind::Delete,
            (ChangeKind::Delete, true) => Kind::DeleteReplace,
            (ChangeKind::Update, false) => Kind::Update,
            (ChangeKind::Update, true) => Kind::UpdateReplace,
        };
        if c.replace && !resp.replaces.contains(&top) {
            resp.replaces.push(top.clone());
        }
        if !resp.diffs.contains(&top) {
            resp.diffs.push(top);
        }
        resp.detailed_diff.insert(
            c.path,
            rpc::PropertyDiff {
                kind: kind as i32,
                input_diff: true,
            },
        );
    }
    resp
}

type Rpc<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl ResourceProvider for Provider {
    async fn handshake(
        &self,
        req: Request<rpc::ProviderHandshakeRequest>,
    ) -> Rpc<rpc::ProviderHandshakeResponse> {
        let address = req.into_inner().engine_address;
        if !address.is_empty() {
            let known = self.shared().engine_address.is_some();
            if !known {
                self.set_engine(address);
            }
        }
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn parameterize(
        &self,
        _: Request<rpc::ParameterizeRequest>,
    ) -> Rpc<rpc::ParameterizeResponse> {
        Err(Status::unimplemented(
            "datasnap is not a parameterized provider",
        ))
    }

    async fn get_schema(&self, req: Request<rpc::GetSchemaRequest>) -> Rpc<rpc::GetSchemaResponse> {
        if !req.get_ref().subpackage_name.is_empty() {
            return Err(Status::not_found("datasnap has no subpackages"));
        }
        Ok(Response::new(rpc::GetSchemaResponse {
            schema: schema::SCHEMA_JSON.to_string(),
        }))
    }

    async fn check_config(&self, req: Request<rpc::CheckRequest>) -> Rpc<rpc::CheckResponse> {
        let r = req.get_ref();
        let news = value::decode(r.news.as_ref());
        let olds = value::decode(r.olds.as_ref());
        let recorded = olds
            .values
            .get(config::CLAIM_SALT)
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty());
        self.shared().fresh_salt = !recorded;
        let (news, f) = config::check(news, &olds, &*self.env);
        Ok(Response::new(rpc::CheckResponse {
            inputs: Some(value::encode(&news)),
            failures: failures(f),
        }))
    }

    async fn diff_config(&self, req: Request<rpc::DiffRequest>) -> Rpc<rpc::DiffResponse> {
        let r = req.get_ref();
        let olds = value::decode(r.old_inputs.as_ref().or(r.olds.as_ref()));
        let news = value::decode(r.news.as_ref());
        Ok(Response::new(diff_response(config::diff(&olds, &news))))
    }

    async fn configure(&self, req: Request<rpc::ConfigureRequest>) -> Rpc<rpc::ConfigureResponse> {
        let args = value::decode(req.get_ref().args.as_ref());
        let arm: ArmClient = config::client(&args, &*self.env).map_err(Status::invalid_argument)?;
        let salt = args.values.get(config::CLAIM_SALT).and_then(|v| v.as_str());
        let mut shared = self.shared();
        shared.arm = Some(arm);
        shared.claim_salt = salt.unwrap_or_default().to_string();
        shared.preview_checks = config::preview_checks(&args, &*self.env);
        drop(shared);
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn invoke(&self, req: Request<rpc::InvokeRequest>) -> Rpc<rpc::InvokeResponse> {
        let r = req.get_ref();
        let f = self.functions.get(r.tok.as_str()).ok_or_else(|| {
            let known: Vec<&str> = self.functions.keys().copied().collect();
            Status::invalid_argument(format!(
                "unknown function \"{}\": this version of datasnap provides {}",
                r.tok,
                known.join(", ")
            ))
        })?;
        let args = value::decode(r.args.as_ref());
        let env = self.env("", 0.0, default_timeouts::READ);
        match f.invoke(&env, &args.values).await.map_err(status)? {
            Invoked::Result(m) => {
                let mut p = value::Props::new(m);
                p.inherit_secrets(&args);
                Ok(Response::new(rpc::InvokeResponse {
                    r#return: Some(value::encode(&p)),
                    failures: vec![],
                }))
            }
            Invoked::Failures(f) => Ok(Response::new(rpc::InvokeResponse {
                r#return: None,
                failures: failures(f),
            })),
        }
    }

    async fn call(&self, _: Request<rpc::CallRequest>) -> Rpc<rpc::CallResponse> {
        Err(Status::unimplemented("datasnap has no methods"))
    }

    async fn check(&self, req: Request<rpc::CheckRequest>) -> Rpc<rpc::CheckResponse> {
        let r = req.get_ref();
        let res = self.resource(token(&r.r#type, &r.urn))?;
        let olds = value::decode(r.olds.as_ref());
        let news = value::decode(r.news.as_ref());
        self.learn_regions(&news).await;
        let salt = self.shared().claim_salt.clone();
        let checked = res.check(&claim_for(&r.urn, &salt), &olds, &news);
        Ok(Response::new(rpc::CheckResponse {
            inputs: Some(value::encode(&checked.inputs)),
            failures: failures(checked.failures),
        }))
    }

    async fn diff(&self, req: Request<rpc::DiffRequest>) -> Rpc<rpc::DiffResponse> {
        let r = req.get_ref();
        let res = self.resource(token(&r.r#type, &r.urn))?;
        let olds = value::decode(r.olds.as_ref());
        let news = value::decode(r.news.as_ref());
        let mut d = res.diff(&olds, &news).map_err(status)?;
        // Honour `ignoreChanges`: the engine has already substituted old values, but keep
        // the answer consistent with it.
        d.changes.retain(|c| {
            !r.ignore_changes.iter().any(|i| {
                c.path == *i
                    || c.path.starts_with(&format!("{i}."))
                    || c.path.starts_with(&format!("{i}["))
            })
        });
        // What a replacement does to the replaced data: the engine does not call Delete in a
        // preview, so this is where the reviewer learns it.
        if let Some((severity, note)) = d.note.take() {
            let env = self.env(&r.urn, 0.0, default_timeouts::READ);
            env.log.log(severity, &note, false);
        }
        Ok(Response::new(diff_response(d)))
    }

    async fn create(&self, req: Request<rpc::CreateRequest>) -> Rpc<rpc::CreateResponse> {
        let r = req.get_ref();
        let res = self.resource(token(&r.r#type, &r.urn))?;
        let news = value::decode(r.properties.as_ref());
        if r.preview {
            let mut outputs = res.preview(&news).map_err(status)?;
            // The preview's checks against Azure (reads only); what they learn (a region
            // defaulted from the source) joins the planned outputs.
            let learned = res
                .plan_create(&self.env(&r.urn, 0.0, default_timeouts::READ), &news)
                .await
                .map_err(status)?;
            outputs.values.extend(learned);
            let first_deployment = {
                let mut shared = self.shared();
                let say = shared.fresh_salt && !shared.told_fresh_salt;
                shared.told_fresh_salt |= say;
                say
            };
            if first_deployment {
                self.env(&r.urn, 0.0, default_timeouts::READ).info(
                    "this is the stack's first deployment: the six-hex owner suffix of default snapshot and disk names comes from the stack's claim salt, which the first `pulumi up` makes and records, so the default names in this preview are provisional (an explicit `snapshotName` or `diskName` is not)",
                );
            }
            return Ok(Response::new(rpc::CreateResponse {
                id: String::new(),
                properties: Some(value::encode(&outputs)),
                refresh_before_update: false,
            }));
        }
        let env = self.env(&r.urn, r.timeout, default_timeouts::CREATE);
        let (id, outputs) = res.create(&env, &news).await.map_err(status)?;
        Ok(Response::new(rpc::CreateResponse {
            id,
            properties: Some(value::encode(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn read(&self, req: Request<rpc::ReadRequest>) -> Rpc<rpc::ReadResponse> {
        let r = req.get_ref();
        let res = self.resource(token(&r.r#type, &r.urn))?;
        let env = self.env(&r.urn, 0.0, default_timeouts::READ);
        let inputs = value::decode(r.inputs.as_ref());
        let state = value::decode(r.properties.as_ref());
        match res
            .read(&env, &r.id, &inputs, &state)
            .await
            .map_err(status)?
        {
            Some(read) => Ok(Response::new(rpc::ReadResponse {
                id: read.id,
                properties: Some(value::encode(&read.outputs)),
                inputs: Some(value::encode(&read.inputs)),
                refresh_before_update: false,
            })),
            None => Ok(Response::new(rpc::ReadResponse::default())),
        }
    }

    async fn update(&self, req: Request<rpc::UpdateRequest>) -> Rpc<rpc::UpdateResponse> {
        let r = req.get_ref();
        let res = self.resource(token(&r.r#type, &r.urn))?;
        let olds = value::decode(r.olds.as_ref());
        let news = value::decode(r.news.as_ref());
        if r.preview {
            let mut outputs = res.preview(&news).map_err(status)?;
            // What Azure reported before stays as it was; inputs the program removed stay
            // removed.
            let inputs = res.schema();
            for (k, v) in olds.values {
                if !inputs.properties.contains_key(&k) {
                    outputs.values.entry(k).or_insert(v);
                }
            }
            return Ok(Response::new(rpc::UpdateResponse {
                properties: Some(value::encode(&outputs)),
                refresh_before_update: false,
            }));
        }
        let env = self.env(&r.urn, r.timeout, default_timeouts::UPDATE);
        let outputs = res
            .update(&env, &r.id, &olds, &news)
            .await
            .map_err(status)?;
        Ok(Response::new(rpc::UpdateResponse {
            properties: Some(value::encode(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn delete(&self, req: Request<rpc::DeleteRequest>) -> Rpc<()> {
        let r = req.get_ref();
        let res = self.resource(token(&r.r#type, &r.urn))?;
        let env = self.env(&r.urn, r.timeout, default_timeouts::DELETE);
        let olds = value::decode(r.properties.as_ref());
        res.delete(&env, &r.id, &olds).await.map_err(status)?;
        Ok(Response::new(()))
    }

    async fn construct(&self, _: Request<rpc::ConstructRequest>) -> Rpc<rpc::ConstructResponse> {
        Err(Status::unimplemented("datasnap has no component resources"))
    }

    async fn cancel(&self, _: Request<()>) -> Rpc<()> {
        self.cancel.cancel();
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _: Request<()>) -> Rpc<rpc::PluginInfo> {
        Ok(Response::new(rpc::PluginInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
        }))
    }

    async fn attach(&self, req: Request<rpc::PluginAttach>) -> Rpc<()> {
        self.set_engine(req.into_inner().address);
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _: Request<rpc::GetMappingRequest>,
    ) -> Rpc<rpc::GetMappingResponse> {
        Ok(Response::new(rpc::GetMappingResponse::default()))
    }

    async fn get_mappings(
        &self,
        _: Request<rpc::GetMappingsRequest>,
    ) -> Rpc<rpc::GetMappingsResponse> {
        Ok(Response::new(rpc::GetMappingsResponse::default()))
    }
}

/// Serves the provider on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    provider: Provider,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let svc = crate::proto::ResourceProviderServer::new(provider)
        .max_decoding_message_size(crate::proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::proto::MAX_MESSAGE_BYTES);
    // Each accepted connection gets TCP_NODELAY: the engine sends Check and Diff one
    // resource at a time and waits for each small answer, which Nagle's algorithm would
    // hold back for the peer's delayed ACK (about 40 ms a call).
    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        |conn| {
            if let Ok(stream) = &conn {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::warn!("could not set TCP_NODELAY on an engine connection: {e}");
                }
            }
            conn
        },
    );
    tonic::transport::Server::builder()
        .add_service(svc)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urn_types_are_found() {
        assert_eq!(
            urn_type("urn:pulumi:dev::proj::datasnap:index:VersionedSnapshot::v1"),
            "datasnap:index:VersionedSnapshot"
        );
        assert_eq!(
            urn_type("urn:pulumi:dev::proj::parent$datasnap:index:VersionedSnapshot::v1"),
            "datasnap:index:VersionedSnapshot"
        );
    }

    #[test]
    fn detailed_diffs_keep_diffs_and_paths_consistent() {
        let d = DiffResult {
            changes: vec![
                crate::resource::Change {
                    path: "tags.env".into(),
                    kind: ChangeKind::Update,
                    replace: false,
                },
                crate::resource::Change {
                    path: "tags[\"a.b\"]".into(),
                    kind: ChangeKind::Add,
                    replace: false,
                },
                crate::resource::Change {
                    path: "version".into(),
                    kind: ChangeKind::Update,
                    replace: true,
                },
            ],
            delete_before_replace: false,
            note: None,
        };
        let r = diff_response(d);
        assert_eq!(r.diffs, ["tags", "version"]);
        assert_eq!(r.replaces, ["version"]);
        assert_eq!(r.detailed_diff.len(), 3);
        assert_eq!(
            r.detailed_diff["version"].kind,
            rpc::property_diff::Kind::UpdateReplace as i32
        );
    }
}
