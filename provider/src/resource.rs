//! The `Resource` trait: what a resource implements, and the vocabulary it speaks
//! (failures, changes, errors, the operation environment).
//!
//! A resource is typed data plus methods (the pattern of pulumi-go-provider's `infer`):
//! `Inputs` and `Outputs` are serde structs, `check`/`diff`/`preview` are pure functions over
//! them holding only the resource's domain rules, and `create`/`read`/`update`/`delete` do
//! the work through [`Env`]. Everything generic (decoding, the schema's types, required
//! inputs, defaults, replacement, secrets, the shape of diffs) is the adapter's
//! ([`crate::adapter`]); resources never see protobuf, secret wrappers or unknown sentinels.

use crate::resources::preflight::{Preflight, PreviewChecks};
use std::collections::BTreeSet;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::azure::{ArmClient, AzureError, CancelToken, OpContext};
use crate::value::{path_join, Props};

/// A rule for one input value: `Err` says what is wrong and what is allowed.
pub type Rule = fn(&str) -> Result<(), String>;

/// One problem with one input property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Property path, e.g. `retention.keepLast` or `tags["env"]`.
    pub property: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl Failure {
    pub fn new(property: impl Into<String>, reason: impl Into<String>) -> Self {
        Failure {
            property: property.into(),
            reason: reason.into(),
        }
    }

    /// Applies each rule to its value when the value is set: every refusal becomes a
    /// failure at its property.
    pub fn check_each<'a>(
        checks: impl IntoIterator<Item = (&'a str, Option<&'a str>, Rule)>,
    ) -> Vec<Failure> {
        let refused = |(property, value, rule): (&str, Option<&str>, Rule)| {
            value
                .and_then(|v| rule(v).err())
                .map(|e| Failure::new(property, e))
        };
        checks.into_iter().filter_map(refused).collect()
    }
}

/// The top-level input properties whose values are not known yet (preview only).
#[derive(Debug, Clone, Default)]
pub struct Unknowns(BTreeSet<String>);

impl Unknowns {
    pub fn from_props(p: &Props) -> Self {
        Unknowns(p.unknowns.clone())
    }
    /// True when `key` or anything inside it is unknown.
    pub fn contains(&self, key: &str) -> bool {
        let path = path_join("", key);
        self.0.iter().any(|p| {
            p == &path || p.starts_with(&format!("{path}.")) || p.starts_with(&format!("{path}["))
        })
    }
    /// True when `key.sub` (a map entry) is unknown.
    pub fn contains_entry(&self, key: &str, sub: &str) -> bool {
        self.0.contains(&path_join(&path_join("", key), sub))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The unknown entries of the map property `key` (full paths such as `tags.run`).
    pub fn entries(&self, key: &str) -> Vec<String> {
        let path = path_join("", key);
        self.0
            .iter()
            .filter(|p| p.starts_with(&format!("{path}.")) || p.starts_with(&format!("{path}[")))
            .cloned()
            .collect()
    }
}

/// How one property changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Update,
    Delete,
}

/// One entry of a detailed diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub replace: bool,
}

/// The result of comparing old outputs with new inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffResult {
    pub changes: Vec<Change>,
    pub delete_before_replace: bool,
    /// What the change does to data, for the engine log (the preview of a replacement
    /// says what becomes of the replaced version: the engine never asks Delete then).
    pub note: Option<(Severity, String)>,
}

impl DiffResult {
    pub fn replaces(&self) -> bool {
        self.changes.iter().any(|c| c.replace)
    }

    /// Each change's path and kind, in order (for tests and logs).
    pub fn kinds(&self) -> Vec<(&str, ChangeKind)> {
        self.changes
            .iter()
            .map(|c| (c.path.as_str(), c.kind))
            .collect()
    }

    /// Each change's path and whether it replaces, in order.
    pub fn replacing(&self) -> Vec<(&str, bool)> {
        self.changes
            .iter()
            .map(|c| (c.path.as_str(), c.replace))
            .collect()
    }
}

/// What went wrong in an operation; mapped to a gRPC status in one place (server.rs).
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// Bad input found after Check (for example at import); names the property.
    #[error("{property}: {reason}")]
    Invalid { property: String, reason: String },
    /// The provider was used before `Configure`.
    #[error(
        "the datasnap provider is not configured yet; this is a provider bug, please report it"
    )]
    NotConfigured,
    /// The operation was stopped by `Cancel` or its deadline.
    #[error("{0}")]
    Cancelled(String),
    /// The resource exists in Azure but a later step failed: the engine keeps tracking it
    /// with these outputs so the next `up` can converge.
    #[error("{message}")]
    Partial {
        id: String,
        /// The outputs, with the secret marks the adapter applies from the inputs.
        outputs: Props,
        message: String,
    },
    /// A failure the user can act on (Azure errors land here with their code).
    #[error("{0}")]
    Failed(String),
    /// A broken invariant.
    #[error("provider bug: {0}; please report it")]
    Bug(String),
}

impl ResourceError {
    /// A partial create: `id` exists in Azure with these outputs. The id is never lost: if
    /// the outputs cannot be encoded (a provider bug), the message says so and the engine
    /// still tracks the id.
    pub fn partial<T: Serialize>(id: &str, outputs: &T, message: String) -> ResourceError {
        let (values, message) = match json_map(outputs) {
            Ok(v) => (v, message),
            Err(e) => (
                Map::new(),
                format!("{message} (recording its outputs failed: {e})"),
            ),
        };
        ResourceError::Partial {
            id: id.to_string(),
            outputs: Props::new(values),
            message,
        }
    }
}

/// A serde value as a JSON object; a value that does not encode as one is a provider bug.
pub fn json_map<T: Serialize>(v: &T) -> Result<Map<String, Json>, ResourceError> {
    match serde_json::to_value(v) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(other) => Err(ResourceError::Bug(format!(
            "a resource value encoded as {other}, not an object"
        ))),
        Err(e) => Err(ResourceError::Bug(format!(
            "encoding a resource value: {e}"
        ))),
    }
}

/// The message of a partial create: Azure accepted `what` but a later step failed.
pub fn partial_message(what: &str, source: &AzureError) -> String {
    if source.is_cancelled() {
        format!("{what} was accepted by Azure before the operation was cancelled; it is tracked in the stack: run `pulumi refresh` then `pulumi up` to converge")
    } else {
        format!("{what} was accepted by Azure but did not become ready: {source} It is tracked in the stack: run `pulumi refresh` then `pulumi up` to converge")
    }
}

/// Names the operation in an Azure failure, as every error about an Azure operation must:
/// `op` says what was being done to which resource (`create of snapshot <ARM id>`,
/// `release of snapshot <ARM id>`, `restore of disk <ARM id>: reading its source ...`), and
/// the Azure error adds its status, code, message and next step.
pub trait During<T> {
    fn during(self, op: impl std::fmt::Display) -> Result<T, ResourceError>;
}

impl<T> During<T> for Result<T, AzureError> {
    fn during(self, op: impl std::fmt::Display) -> Result<T, ResourceError> {
        self.map_err(|e| {
            if e.is_cancelled() {
                ResourceError::Cancelled(format!("{op}: {e}"))
            } else {
                ResourceError::Failed(format!("{op} failed: {e}"))
            }
        })
    }
}

impl From<AzureError> for ResourceError {
    fn from(e: AzureError) -> Self {
        if e.is_cancelled() {
            ResourceError::Cancelled(e.to_string())
        } else {
            ResourceError::Failed(e.to_string())
        }
    }
}

/// A message for the engine log, attached to the resource being worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Debug,
    Info,
    Warning,
    Error,
}

/// Where resources send progress and warnings (the engine log, in production).
pub trait LogSink: Send + Sync {
    fn log(&self, severity: Severity, message: &str, ephemeral: bool);
}

/// A sink that drops messages (tests, and calls without an engine).
pub struct NoLog;
impl LogSink for NoLog {
    fn log(&self, _: Severity, _: &str, _: bool) {}
}

/// What an operation may use: the Azure client, the log, and the one deadline and cancel
/// signal of the RPC it serves.
#[derive(Clone)]
pub struct Env {
    pub log: Arc<dyn LogSink>,
    /// The URN of the resource the RPC is about (empty for functions).
    pub urn: String,
    /// The stack's claim salt (see `config::CLAIM_SALT`); empty before Configure.
    pub claim_salt: String,
    /// When the whole RPC must be done: the engine's `customTimeouts` (or the operation's
    /// default), fixed when the RPC arrives. Every Azure call of the RPC (the create, the
    /// retention that follows it, a listing inside a restore) shares this one budget.
    pub deadline: tokio::time::Instant,
    /// The Azure client, once `Configure` has run.
    pub arm: Option<ArmClient>,
    /// Triggered by the engine's `Cancel`.
    pub cancel: CancelToken,
    /// How a preview checks a create (`previewChecks`), and the reads the checks share.
    pub preview_checks: PreviewChecks,
    pub preflight: Arc<Preflight>,
}

impl Env {
    /// An environment whose deadline is `timeout` (the engine's) or `default` from now.
    pub fn new(
        log: Arc<dyn LogSink>,
        urn: &str,
        timeout: Option<std::time::Duration>,
        default: std::time::Duration,
        arm: Option<ArmClient>,
        cancel: CancelToken,
    ) -> Env {
        Env {
            log,
            urn: urn.to_string(),
            claim_salt: String::new(),
            deadline: tokio::time::Instant::now() + timeout.unwrap_or(default),
            arm,
            cancel,
            preview_checks: PreviewChecks::default(),
            preflight: Arc::default(),
        }
    }

    /// The same environment, with the preview's checks and their shared reads.
    pub fn with_preview(mut self, checks: PreviewChecks, preflight: Arc<Preflight>) -> Env {
        self.preview_checks = checks;
        self.preflight = preflight;
        self
    }

    /// The Azure client; an error if the provider was never configured.
    pub fn arm(&self) -> Result<&ArmClient, ResourceError> {
        self.arm.as_ref().ok_or(ResourceError::NotConfigured)
    }

    /// The context of an Azure call made for this RPC: the RPC's deadline, the provider's
    /// cancel token, and progress lines sent to the engine log as ephemeral messages.
    pub fn op(&self) -> OpContext {
        let log = self.log.clone();
        OpContext::until(self.deadline, self.cancel.clone()).with_progress(Arc::new(
            move |line: String| log.log(Severity::Info, &line, true),
        ))
    }

    /// The same environment, with the stack's claim salt.
    pub fn with_claim_salt(mut self, salt: &str) -> Env {
        self.claim_salt = salt.to_string();
        self
    }

    /// The resource's name in the program (the URN's last part), for commands such as
    /// `pulumi import <type> <name> <id>`.
    pub fn resource_name(&self) -> &str {
        self.urn.rsplit("::").next().unwrap_or_default()
    }

    pub fn info(&self, message: &str) {
        self.log.log(Severity::Info, message, false);
    }
    pub fn warn(&self, message: &str) {
        self.log.log(Severity::Warning, message, false);
    }
    pub fn progress(&self, message: &str) {
        self.log.log(Severity::Info, message, true);
    }
}

/// A typed resource: its rules as plain Rust.
#[tonic::async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The checked inputs. Required strings use `#[serde(default)]` so that an unknown
    /// (absent) value decodes; the adapter reports missing ones, skipping unknown ones.
    type Inputs: Serialize + DeserializeOwned + Default + Clone + Send + Sync;
    /// The state recorded by the engine.
    type Outputs: Serialize + DeserializeOwned + Clone + Send + Sync;

    /// The resource's own rules for `news` (and, when updating, `olds`, the last stored
    /// inputs), and the defaults the schema cannot state (derived names, empty maps). The
    /// adapter has already checked the schema's types and required inputs and applied its
    /// defaults. Unknown properties are skipped and left unknown. `owner` is the resource's
    /// claim (`catalog::tags::claim_for`): the seed of a derived name, so that two stacks or
    /// two resources never derive the same one.
    fn check(
        &self,
        owner: &str,
        olds: Option<&Self::Inputs>,
        news: Self::Inputs,
        unknowns: &Unknowns,
    ) -> (Self::Inputs, Vec<Failure>);

    /// Whether input `property` is unchanged, when the resource knows better than equal
    /// JSON (names and ARM ids compare ignoring case, regions in either spelling, a value
    /// left unset is Azure's choice). `None`: compare the values as they are.
    fn same(&self, _property: &str, _olds: &Self::Outputs, _news: &Self::Inputs) -> Option<bool> {
        None
    }

    /// The resource's rules on top of the generic diff (`changes`, built by the adapter
    /// from the schema: one change per property or map entry, replacements from
    /// `willReplaceOnChanges`). Fails, naming the property and the fix, when the change
    /// cannot be made at all.
    fn diff(
        &self,
        _olds: &Self::Outputs,
        _news: &Self::Inputs,
        _unknowns: &Unknowns,
        changes: Vec<Change>,
    ) -> Result<DiffResult, ResourceError> {
        Ok(DiffResult {
            changes,
            delete_before_replace: false,
            note: None,
        })
    }

    /// Input properties that datasnap writes to Azure as names, ids, regions or tags, which
    /// Azure stores and shows in plain text: a secret value there is refused at Check.
    const PLAIN_IN_AZURE: &'static [&'static str] = &[];

    /// The outputs knowable during preview. Keys left out are unknown to the engine.
    fn preview(
        &self,
        news: &Self::Inputs,
        unknowns: &Unknowns,
    ) -> Result<Map<String, Json>, ResourceError>;

    async fn create(
        &self,
        env: &Env,
        inputs: Self::Inputs,
    ) -> Result<(String, Self::Outputs), ResourceError>;

    /// Refresh (`state` given) or import (only the id). `Ok(None)`: the resource is gone.
    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: Option<Self::Inputs>,
        state: Option<Self::Outputs>,
    ) -> Result<Option<(Self::Inputs, Self::Outputs)>, ResourceError>;

    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError>;

    async fn delete(&self, env: &Env, id: &str, olds: Self::Outputs) -> Result<(), ResourceError>;

    /// Called during preview of a create, after `preview`: may read Azure (never write) to
    /// check what the real operation needs (see [`crate::resources::preflight`]): it warns,
    /// fails what `up` would certainly refuse, and returns outputs it learned (a region
    /// that defaults to the source's). The default checks nothing.
    async fn plan_create(
        &self,
        _env: &Env,
        _news: &Self::Inputs,
        _unknowns: &Unknowns,
    ) -> Result<Map<String, Json>, ResourceError> {
        Ok(Map::new())
    }
}
