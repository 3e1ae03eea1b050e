//! The `Resource` trait and the one generic adapter every resource goes through.
//!
//! A resource is typed data plus methods (the pattern of pulumi-go-provider's `infer`):
//! `Inputs` and `Outputs` are serde structs, `check`/`diff`/`preview` are pure functions over
//! them, and `create`/`read`/`update`/`delete` do the work through [`Env`]. The adapter owns
//! everything else: property-map decoding, schema type checks with per-property failures,
//! unknowns (passed to the pure methods as [`Unknowns`], never as values), secrets (outputs
//! inherit them from inputs) and the shape of diffs.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::azure::{ArmClient, AzureError, CancelToken, OpContext};
use crate::schema::{ObjectType, PropType};
use crate::value::{path_join, Props};

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

/// One change per entry of a string map, so `pulumi preview --diff` shows `tags.env`.
/// An entry whose new value is unknown (preview) counts as changed.
pub fn map_diff(
    key: &str,
    old: Option<&std::collections::BTreeMap<String, String>>,
    new: Option<&std::collections::BTreeMap<String, String>>,
    unknowns: &Unknowns,
    changes: &mut Vec<Change>,
) {
    if new.is_none() && unknowns.contains(key) && unknowns.entries(key).is_empty() {
        changes.push(Change {
            path: key.to_string(),
            kind: ChangeKind::Update,
            replace: false,
        });
        return;
    }
    let empty = std::collections::BTreeMap::new();
    let old = old.unwrap_or(&empty);
    let new = new.unwrap_or(&empty);
    let unknown = unknowns.entries(key);
    for (k, v) in new {
        let path = path_join(key, k);
        match old.get(k) {
            None => changes.push(Change {
                path,
                kind: ChangeKind::Add,
                replace: false,
            }),
            Some(o) if o != v => changes.push(Change {
                path,
                kind: ChangeKind::Update,
                replace: false,
            }),
            _ => {}
        }
    }
    for k in old.keys() {
        let path = path_join(key, k);
        if new.contains_key(k) {
            continue;
        }
        let kind = if unknown.contains(&path) {
            ChangeKind::Update
        } else {
            ChangeKind::Delete
        };
        changes.push(Change {
            path,
            kind,
            replace: false,
        });
    }
    for path in unknown {
        if !old.keys().any(|k| path_join(key, k) == path) {
            changes.push(Change {
                path,
                kind: ChangeKind::Add,
                replace: false,
            });
        }
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
}

impl DiffResult {
    pub fn replaces(&self) -> bool {
        self.changes.iter().any(|c| c.replace)
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
    /// A partial create: `id` exists in Azure with these outputs.
    pub fn partial<T: Serialize>(id: &str, outputs: &T, message: String) -> ResourceError {
        ResourceError::Partial {
            id: id.to_string(),
            outputs: Props::new(json_map(outputs)),
            message,
        }
    }
}

/// A serde value as a JSON object (empty if it does not encode as one).
pub fn json_map<T: Serialize>(v: &T) -> Map<String, Json> {
    match serde_json::to_value(v) {
        Ok(Json::Object(m)) => m,
        _ => Map::new(),
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

/// What an operation may use: the Azure client, the log, the deadline and cancellation.
#[derive(Clone)]
pub struct Env {
    pub log: Arc<dyn LogSink>,
    /// The operation's timeout from `customTimeouts`, if the engine gave one.
    pub timeout: Option<std::time::Duration>,
    /// The Azure client, once `Configure` has run.
    pub arm: Option<ArmClient>,
    /// Triggered by the engine's `Cancel`.
    pub cancel: CancelToken,
}

impl Env {
    /// The Azure client; an error if the provider was never configured.
    pub fn arm(&self) -> Result<&ArmClient, ResourceError> {
        self.arm.as_ref().ok_or(ResourceError::NotConfigured)
    }

    /// The context of one Azure operation: the engine's timeout (or `default`), the
    /// provider's cancel token, and progress lines sent to the engine log as ephemeral
    /// messages.
    pub fn op(&self, default: std::time::Duration) -> OpContext {
        let log = self.log.clone();
        OpContext::new(self.timeout.unwrap_or(default), self.cancel.clone()).with_progress(
            Arc::new(move |line: String| log.log(Severity::Info, &line, true)),
        )
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
    /// (absent) value decodes; `check` reports missing ones, skipping unknown ones.
    type Inputs: Serialize + DeserializeOwned + Default + Clone + Send + Sync;
    /// The state recorded by the engine.
    type Outputs: Serialize + DeserializeOwned + Clone + Send + Sync;

    /// Validates `news` (and compares with `olds`, the last stored inputs, when updating)
    /// and fills in defaults. Unknown properties are skipped and left unknown.
    fn check(
        &self,
        olds: Option<&Self::Inputs>,
        news: Self::Inputs,
        unknowns: &Unknowns,
    ) -> (Self::Inputs, Vec<Failure>);

    /// Compares the recorded outputs with new checked inputs.
    /// Fails (with the property and the fix) when the change cannot be made at all.
    fn diff(
        &self,
        olds: &Self::Outputs,
        news: &Self::Inputs,
        unknowns: &Unknowns,
    ) -> Result<DiffResult, ResourceError>;

    /// Input properties that datasnap writes to Azure as tags, which Azure stores in plain
    /// text: a secret value there is refused at Check.
    const PLAIN_IN_AZURE: &'static [&'static str] = &[];

    /// The outputs knowable during preview. Keys left out are unknown to the engine.
    fn preview(&self, news: &Self::Inputs, unknowns: &Unknowns) -> Map<String, Json>;

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

    /// Called during preview of a create, after `preview`: may read Azure (never write)
    /// to warn about what the real operation will do. The default says nothing.
    async fn plan_create(&self, _env: &Env, _news: &Self::Inputs, _unknowns: &Unknowns) {}
}

/// The result of an adapter `check`.
pub struct Checked {
    pub inputs: Props,
    pub failures: Vec<Failure>,
}

/// What `read` answers, as property maps.
pub struct ReadProps {
    pub id: String,
    pub outputs: Props,
    pub inputs: Props,
}

/// The object-safe face of a resource, in terms of property maps; implemented once for
/// every [`Resource`] by [`Adapter`].
#[tonic::async_trait]
pub trait DynResource: Send + Sync {
    fn check(&self, olds: &Props, news: &Props) -> Checked;
    fn diff(&self, olds: &Props, news: &Props) -> Result<DiffResult, ResourceError>;
    fn preview(&self, news: &Props) -> Result<Props, ResourceError>;
    /// Warnings for a planned create (reads only).
    async fn plan_create(&self, env: &Env, news: &Props);
    async fn create(&self, env: &Env, news: &Props) -> Result<(String, Props), ResourceError>;
    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: &Props,
        state: &Props,
    ) -> Result<Option<ReadProps>, ResourceError>;
    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: &Props,
        news: &Props,
    ) -> Result<Props, ResourceError>;
    async fn delete(&self, env: &Env, id: &str, olds: &Props) -> Result<(), ResourceError>;
}

/// Binds a typed resource to its schema type.
pub struct Adapter<R: Resource> {
    pub resource: R,
    pub schema: &'static ObjectType,
}

impl<R: Resource> Adapter<R> {
    pub fn new(resource: R, schema: &'static ObjectType) -> Self {
        Adapter { resource, schema }
    }
}

fn to_map<T: Serialize>(v: &T) -> Result<Map<String, Json>, ResourceError> {
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

fn from_map<T: DeserializeOwned>(m: &Map<String, Json>, what: &str) -> Result<T, ResourceError> {
    serde_json::from_value(Json::Object(m.clone()))
        .map_err(|e| ResourceError::Bug(format!("decoding {what}: {e}")))
}

/// Decodes recorded state leniently: state written by an older provider version may lack
/// fields or carry ones we no longer know.
fn state_from_map<T: DeserializeOwned>(m: &Map<String, Json>) -> Result<T, ResourceError> {
    from_map(m, "the recorded state")
}

/// Outputs with the input marks applied: same-named secret inputs stay secret.
fn outputs_props(values: Map<String, Json>, inputs: &Props) -> Props {
    let mut p = Props::new(values);
    p.inherit_secrets(inputs);
    p
}

#[tonic::async_trait]
impl<R: Resource> DynResource for Adapter<R> {
    fn check(&self, olds: &Props, news: &Props) -> Checked {
        let mut failures = self.schema.check_types(&news.values);
        let decoded: Option<R::Inputs> = if failures.is_empty() {
            match from_map(&news.values, "the inputs") {
                Ok(v) => Some(v),
                Err(e) => {
                    failures.push(Failure::new("", e.to_string()));
                    None
                }
            }
        } else {
            None
        };
        let Some(typed) = decoded else {
            return Checked {
                inputs: news.clone(),
                failures,
            };
        };
        // Old inputs that no longer decode (older provider) are treated as absent.
        let old: Option<R::Inputs> = if olds.values.is_empty() {
            None
        } else {
            from_map(&olds.values, "the old inputs").ok()
        };
        let unknowns = Unknowns::from_props(news);
        let (checked, fails) = self.resource.check(old.as_ref(), typed, &unknowns);
        failures.extend(fails);
        for path in &news.secrets {
            let top = path.split(['.', '[']).next().unwrap_or(path);
            if R::PLAIN_IN_AZURE.contains(&top) {
                failures.push(Failure::new(
                    path,
                    "is a secret, but datasnap stores it as an Azure tag, which Azure keeps in plain text; pass a value that is not secret",
                ));
            }
        }
        let values = match to_map(&checked) {
            Ok(v) => v,
            Err(e) => {
                failures.push(Failure::new("", e.to_string()));
                news.values.clone()
            }
        };
        Checked {
            inputs: Props {
                values,
                secrets: news.secrets.clone(),
                unknowns: news.unknowns.clone(),
            },
            failures,
        }
    }

    fn diff(&self, olds: &Props, news: &Props) -> Result<DiffResult, ResourceError> {
        let old: R::Outputs = state_from_map(&olds.values)?;
        let new: R::Inputs = from_map(&news.values, "the new inputs")?;
        self.resource.diff(&old, &new, &Unknowns::from_props(news))
    }

    fn preview(&self, news: &Props) -> Result<Props, ResourceError> {
        let new: R::Inputs = from_map(&news.values, "the inputs")?;
        let unknowns = Unknowns::from_props(news);
        let values = self.resource.preview(&new, &unknowns);
        let mut p = outputs_props(values, news);
        // Unknown inputs stay unknown in the outputs (omitted keys are unknown anyway;
        // nested ones need their sentinel back).
        for u in &news.unknowns {
            let top = u.split(['.', '[']).next().unwrap_or(u);
            if top == u || p.values.contains_key(top) {
                p.unknowns.insert(u.clone());
            }
        }
        Ok(p)
    }

    async fn plan_create(&self, env: &Env, news: &Props) {
        if let Ok(new) = from_map::<R::Inputs>(&news.values, "the inputs") {
            self.resource
                .plan_create(env, &new, &Unknowns::from_props(news))
                .await;
        }
    }

    async fn create(&self, env: &Env, news: &Props) -> Result<(String, Props), ResourceError> {
        if !news.is_known() {
            return Err(ResourceError::Bug(
                "create was called with unknown inputs outside preview".into(),
            ));
        }
        let inputs: R::Inputs = from_map(&news.values, "the inputs")?;
        match self.resource.create(env, inputs).await {
            Ok((id, outputs)) => Ok((id, outputs_props(to_map(&outputs)?, news))),
            Err(ResourceError::Partial {
                id,
                mut outputs,
                message,
            }) => {
                outputs.inherit_secrets(news);
                Err(ResourceError::Partial {
                    id,
                    outputs,
                    message,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn read(
        &self,
        env: &Env,
        id: &str,
        inputs: &Props,
        state: &Props,
    ) -> Result<Option<ReadProps>, ResourceError> {
        let old_inputs: Option<R::Inputs> = if inputs.values.is_empty() {
            None
        } else {
            Some(from_map(&inputs.values, "the recorded inputs")?)
        };
        let old_state: Option<R::Outputs> = if state.values.is_empty() {
            None
        } else {
            Some(state_from_map(&state.values)?)
        };
        let Some((new_inputs, outputs)) =
            self.resource.read(env, id, old_inputs, old_state).await?
        else {
            return Ok(None);
        };
        let mut in_props = Props::new(to_map(&new_inputs)?);
        in_props.secrets = inputs.secrets.clone();
        let out_props = outputs_props(to_map(&outputs)?, inputs);
        Ok(Some(ReadProps {
            id: id.to_string(),
            outputs: out_props,
            inputs: in_props,
        }))
    }

    async fn update(
        &self,
        env: &Env,
        id: &str,
        olds: &Props,
        news: &Props,
    ) -> Result<Props, ResourceError> {
        let old: R::Outputs = state_from_map(&olds.values)?;
        let new: R::Inputs = from_map(&news.values, "the new inputs")?;
        let outputs = self.resource.update(env, id, old, new).await?;
        Ok(outputs_props(to_map(&outputs)?, news))
    }

    async fn delete(&self, env: &Env, id: &str, olds: &Props) -> Result<(), ResourceError> {
        let old: R::Outputs = state_from_map(&olds.values)?;
        self.resource.delete(env, id, old).await
    }
}

impl PropType {
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            PropType::String => "a string".into(),
            PropType::Boolean => "a boolean".into(),
            PropType::Integer => "an integer".into(),
            PropType::Number => "a number".into(),
            PropType::Array(_) => "a list".into(),
            PropType::Map(_) => "a map of strings".into(),
            PropType::Object(name) => format!("an object ({name})"),
            PropType::Enum(_, values) => format!("one of {}", values.join(", ")),
        }
    }
}
