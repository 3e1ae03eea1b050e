//! The ARM client: one HTTP pipeline that every Azure call goes through, plus the
//! per-operation context (deadline, cancellation, progress).
//!
//! The pipeline, built once in [`ArmClient::send`], runs in this order:
//!
//! 1. per call: a fresh `x-ms-client-request-id`, the `User-Agent`, and the one api-version
//!    constant ([`API_VERSION`]) added to the URL when it has none;
//! 2. retry ([`crate::azure::retry`]): 408, 429, 500, 502, 503, 504, 409
//!    `AnotherOperationInProgress` and connection errors, with exponential backoff and jitter,
//!    honouring `retry-after-ms` / `x-ms-retry-after-ms` / `Retry-After`; bounded by a count
//!    AND by the operation's deadline;
//! 3. per try: the bearer token ([`crate::azure::auth`]; cached until near expiry; on a 401
//!    it is invalidated and the request re-sent once), then `tracing` logs (method, URL
//!    without query, status, request ids; never a header value or body);
//! 4. the transport: reqwest, or an injected [`HttpTransport`] in tests.
//!
//! Every wait (a backoff, an LRO poll, a GET on the wire) races the deadline and the
//! [`CancelToken`], so a cancel returns [`AzureError::Cancelled`] at once. A write (PUT,
//! PATCH, DELETE, POST) already on the wire gets up to one more second to answer, so a
//! create that Azure accepted is reported as accepted; the cancel then stops the polling.

use crate::azure::auth::Authenticator;
use crate::azure::errors::AzureError;
use crate::azure::retry::{self, RetryPolicy};
use crate::azure::settings::ProviderConfig;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The DiskRP api-version used for every Microsoft.Compute call.
pub const API_VERSION: &str = "2025-01-02";

/// The api-version for `Microsoft.Resources/resourceGroups`.
pub const RESOURCE_GROUPS_API_VERSION: &str = "2021-04-01";

/// How long a write already on the wire may still take after a cancel before it is abandoned.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// The default `User-Agent`.
pub const USER_AGENT: &str = concat!("pulumi-resource-datasnap/", env!("CARGO_PKG_VERSION"));

// ---------------------------------------------------------------------------------------------
// Cancellation and per-operation context

/// A cancellation signal shared by every in-flight operation of a provider; cloning shares it.
#[derive(Clone, Debug)]
pub struct CancelToken {
    tx: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl CancelToken {
    pub fn new() -> CancelToken {
        let (tx, _rx) = tokio::sync::watch::channel(false);
        CancelToken { tx: Arc::new(tx) }
    }

    /// Cancel every operation holding this token (or a clone of it).
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`CancelToken::cancel`] has been called (at once if it already was).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` fails only if the sender is dropped, and we hold it in `self`.
        let _ = rx.wait_for(|cancelled| *cancelled).await;
    }
}

/// A sink for progress lines ("copying snapshot x ... 40%"); the provider sends them to the engine log.
pub type ProgressSink = Arc<dyn Fn(String) + Send + Sync>;

/// Per-operation context: the deadline (from Pulumi `customTimeouts`), the cancel signal and
/// where progress goes.
#[derive(Clone)]
pub struct OpContext {
    pub deadline: Instant,
    pub cancel: CancelToken,
    pub progress: Option<ProgressSink>,
}

impl OpContext {
    /// A context whose deadline is `timeout` from now.
    pub fn new(timeout: Duration, cancel: CancelToken) -> OpContext {
        OpContext {
            deadline: Instant::now() + timeout,
            cancel,
            progress: None,
        }
    }

    pub fn with_progress(mut self, progress: ProgressSink) -> OpContext {
        self.progress = Some(progress);
        self
    }

    pub(crate) fn report(&self, line: String) {
        tracing::debug!(target: "datasnap::azure", "{line}");
        if let Some(p) = &self.progress {
            p(line);
        }
    }
}

/// The default operation timeouts of issue 4 (Pulumi's `customTimeouts` override them).
pub mod default_timeouts {
    use std::time::Duration;
    pub const CREATE: Duration = Duration::from_secs(30 * 60);
    pub const UPDATE: Duration = Duration::from_secs(30 * 60);
    pub const DELETE: Duration = Duration::from_secs(30 * 60);
    pub const READ: Duration = Duration::from_secs(5 * 60);
}

/// What a call is doing, for messages ("creating snapshot x") and the timeout's budget.
#[derive(Clone, Debug)]
pub(crate) struct Op {
    pub name: String,
    pub started: Instant,
}

impl Op {
    pub fn new(name: impl Into<String>) -> Op {
        Op {
            name: name.into(),
            started: Instant::now(),
        }
    }

    pub fn timeout(&self, ctx: &OpContext) -> AzureError {
        AzureError::Timeout {
            operation: self.name.clone(),
            after: ctx.deadline.saturating_duration_since(self.started),
        }
    }
}

/// Run `fut` unless the operation is cancelled or its deadline passes first.
pub(crate) async fn race<T>(
    ctx: &OpContext,
    op: &Op,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, AzureError> {
    if ctx.cancel.is_cancelled() {
        return Err(AzureError::Cancelled);
    }
    tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => Err(AzureError::Cancelled),
        _ = tokio::time::sleep_until(ctx.deadline) => Err(op.timeout(ctx)),
        out = fut => Ok(out),
    }
}

/// Sleep `delay`, or fail with `Cancelled` / `Timeout` if either comes first.
pub(crate) async fn wait(ctx: &OpContext, op: &Op, delay: Duration) -> Result<(), AzureError> {
    race(ctx, op, tokio::time::sleep(delay)).await
}

// ---------------------------------------------------------------------------------------------
// Transport

/// An HTTP request as the pipeline hands it to the transport.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: reqwest::Method,
    pub url: String,
    /// Header names are lower case. The `authorization` value is never logged.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// An HTTP answer; header names are lower case.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            ..Default::default()
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> HttpResponse {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn with_json(mut self, body: &serde_json::Value) -> HttpResponse {
        self.body = body.to_string().into_bytes();
        self.headers
            .push(("content-type".into(), "application/json".into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as JSON, or `Null` when it is empty or not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The request never got an answer (connect, TLS, reset, read timeout).
#[derive(Debug, Clone)]
pub struct TransportError {
    pub message: String,
}

/// Sends one HTTP request. Production uses reqwest; tests inject a scripted one.
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The production transport.
pub(crate) struct ReqwestTransport {
    pub client: reqwest::Client,
}

#[async_trait::async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = self.client.request(request.method, &request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.bytes().await.map_err(transport_error)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The error with its whole source chain (reqwest's top line alone says little).
fn transport_error(e: reqwest::Error) -> TransportError {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    TransportError { message }
}

/// Install rustls' ring provider for the process; call before building any reqwest client.
///
/// reqwest is built without a default crypto provider (aws-lc-rs would need cmake), so a
/// client built before this panics. Installing twice is harmless (the second call is a no-op).
pub fn ensure_crypto_provider() {
    // `Err` means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Build the reqwest client: rustls with the ring provider, platform roots plus `ca_cert_file`.
pub(crate) fn build_http_client(
    ca_cert_file: Option<&Path>,
    user_agent: &str,
) -> Result<reqwest::Client, AzureError> {
    ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(120));
    if let Some(path) = ca_cert_file {
        let pem = std::fs::read(path).map_err(|e| AzureError::Config {
            message: format!(
                "cannot read caCertFile (ARM_CA_CERT_FILE) {}: {e}; point it at a PEM file",
                path.display()
            ),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| AzureError::Config {
                message: format!(
                    "caCertFile (ARM_CA_CERT_FILE) {} holds no usable PEM certificate: {e}",
                    path.display()
                ),
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| AzureError::Config {
        message: format!(
            "cannot build the HTTPS client: {}",
            transport_error(e).message
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Options and the client

/// How the client behaves; tests turn retry and poll waits down to zero.
#[derive(Clone)]
pub struct ClientOptions {
    pub retry: RetryPolicy,
    /// The shortest wait between LRO polls, even when Azure says `Retry-After: 0`.
    pub min_poll_interval: Duration,
    /// The wait between LRO polls when Azure sends no `Retry-After`.
    pub default_poll_interval: Duration,
    /// The wait between GETs while a `CopyStart` snapshot copies.
    pub copy_poll_interval: Duration,
    pub user_agent: String,
    /// Send requests through this transport instead of reqwest (tests).
    pub transport: Option<Arc<dyn HttpTransport>>,
    /// Use this credential instead of the configured one (tests).
    pub credential: Option<Arc<dyn azure_core::credentials::TokenCredential>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry: RetryPolicy::default(),
            min_poll_interval: Duration::from_secs(1),
            default_poll_interval: Duration::from_secs(5),
            copy_poll_interval: Duration::from_secs(10),
            user_agent: USER_AGENT.to_string(),
            transport: None,
            credential: None,
        }
    }
}

impl ClientOptions {
    /// No retries and no poll waits: for tests.
    pub fn for_tests() -> ClientOptions {
        ClientOptions {
            retry: RetryPolicy::none(),
            min_poll_interval: Duration::ZERO,
            default_poll_interval: Duration::ZERO,
            copy_poll_interval: Duration::ZERO,
            ..ClientOptions::default()
        }
    }
}

/// The Azure Resource Manager client; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct ArmClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub endpoint: String,
    pub subscription_id: String,
    pub transport: Arc<dyn HttpTransport>,
    /// `None` sends no `Authorization` header (test servers only).
    pub auth: Option<Authenticator>,
    pub options: ClientOptions,
}

impl ArmClient {
    /// Build the client and its credential from the resolved configuration. Fails on an
    /// unreadable CA file or a credential that cannot be constructed; no request is sent.
    pub fn new(config: &ProviderConfig, options: ClientOptions) -> Result<ArmClient, AzureError> {
        let http = build_http_client(config.ca_cert_file.as_deref(), &options.user_agent)?;
        let auth = match &options.credential {
            Some(c) => Authenticator::from_credential(c.clone(), &config.arm_audience),
            None => Authenticator::from_config(config, http.clone())?,
        };
        let transport: Arc<dyn HttpTransport> = match &options.transport {
            Some(t) => t.clone(),
            None => Arc::new(ReqwestTransport { client: http }),
        };
        Ok(ArmClient {
            inner: Arc::new(Inner {
                endpoint: config.arm_endpoint.trim_end_matches('/').to_string(),
                subscription_id: config.subscription_id.clone(),
                transport,
                auth: Some(auth),
                options,
            }),
        })
    }

    /// A client that sends no credentials, for local test servers (plain http allowed).
    pub fn unauthenticated(
        endpoint: &str,
        subscription_id: &str,
        options: ClientOptions,
    ) -> Result<ArmClient, AzureError> {
        let transport: Arc<dyn HttpTransport> = match &options.transport {
            Some(t) => t.clone(),
            None => Arc::new(ReqwestTransport {
                client: build_http_client(None, &options.user_agent)?,
            }),
        };
        let auth = options
            .credential
            .clone()
            .map(|c| Authenticator::from_credential(c, "https://management.core.windows.net/"));
        Ok(ArmClient {
            inner: Arc::new(Inner {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                subscription_id: subscription_id.to_string(),
                transport,
                auth,
                options,
            }),
        })
    }

    pub fn subscription_id(&self) -> &str {
        &self.inner.subscription_id
    }

    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// `{endpoint}{path}?api-version={api_version}`.
    pub(crate) fn url(&self, path: &str, api_version: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "{}{path}{sep}api-version={api_version}",
            self.inner.endpoint
        )
    }

    /// Make `url` absolute against the ARM endpoint and give it an api-version if it has none.
    pub(crate) fn normalize_url(&self, url: &str, api_version: &str) -> String {
        let absolute = if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            match reqwest::Url::parse(&format!("{}/", self.inner.endpoint))
                .and_then(|base| base.join(url))
            {
                Ok(u) => u.to_string(),
                Err(_) => format!("{}/{}", self.inner.endpoint, url.trim_start_matches('/')),
            }
        };
        if has_api_version(&absolute) {
            absolute
        } else {
            let sep = if absolute.contains('?') { '&' } else { '?' };
            format!("{absolute}{sep}api-version={api_version}")
        }
    }

    /// Send one request through the pipeline (see the module doc). Answers below 400 are
    /// returned; error answers become [`AzureError`] after the retry policy gives up.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
        ctx: &OpContext,
        op: &Op,
    ) -> Result<HttpResponse, AzureError> {
        let inner = &self.inner;
        let policy = &inner.options.retry;
        // Per call.
        let request_id = retry::new_request_id();
        let mut headers = vec![
            ("x-ms-client-request-id".to_string(), request_id.clone()),
            (
                "x-ms-return-client-request-id".to_string(),
                "true".to_string(),
            ),
            ("user-agent".to_string(), inner.options.user_agent.clone()),
            ("accept".to_string(), "application/json".to_string()),
        ];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let log_url = url.split('?').next().unwrap_or(url).to_string();

        let mut retries = 0u32;
        let mut reauthenticated = false;
        loop {
            // Per try: bearer token.
            let mut try_headers = headers.clone();
            if let Some(auth) = &inner.auth {
                let token = race(ctx, op, auth.token()).await??;
                try_headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
            }
            let request = HttpRequest {
                method: method.clone(),
                url: url.to_string(),
                headers: try_headers,
                body: body.clone(),
            };
            // Per try: logging, then the transport.
            tracing::debug!(target: "datasnap::azure", %method, url = %log_url, request_id = %request_id, retries, "request");
            let sent = Instant::now();
            let outcome = if matches!(method, reqwest::Method::GET | reqwest::Method::HEAD) {
                race(ctx, op, inner.transport.send(request)).await?
            } else {
                // A write already on the wire is not abandoned on cancel: Azure may accept it,
                // and the caller must learn that (a partial create) rather than leak the
                // resource. It stays bounded by the deadline; the next wait sees the cancel.
                if ctx.cancel.is_cancelled() {
                    return Err(AzureError::Cancelled);
                }
                let send = inner.transport.send(request);
                tokio::pin!(send);
                tokio::select! {
                    _ = tokio::time::sleep_until(ctx.deadline) => return Err(op.timeout(ctx)),
                    out = &mut send => out,
                    _ = ctx.cancel.cancelled() => {
                        match tokio::time::timeout(CANCEL_GRACE, &mut send).await {
                            Ok(out) => out,
                            Err(_) => return Err(AzureError::Cancelled),
                        }
                    }
                }
            };
            let failure = match outcome {
                Ok(response) => {
                    tracing::debug!(
                        target: "datasnap::azure",
                        %method,
                        url = %log_url,
                        status = response.status,
                        request_id = %request_id,
                        arm_request_id = response.header("x-ms-request-id").unwrap_or(""),
                        elapsed_ms = sent.elapsed().as_millis() as u64,
                        "response"
                    );
                    if response.status < 400 {
                        return Ok(response);
                    }
                    if response.status == 401 && inner.auth.is_some() && !reauthenticated {
                        // A stale or revoked token: get a fresh one and try once more.
                        reauthenticated = true;
                        if let Some(auth) = &inner.auth {
                            auth.invalidate().await;
                        }
                        continue;
                    }
                    let retry_after = retry::retry_after(&response.headers);
                    let error = AzureError::from_response(
                        response.status,
                        response.header("x-ms-error-code"),
                        &response.body,
                        retry_after,
                    );
                    if !retry::is_retryable_status(response.status, error.code()) {
                        return Err(error);
                    }
                    (error, retry_after)
                }
                Err(e) => {
                    tracing::debug!(target: "datasnap::azure", %method, url = %log_url, request_id = %request_id, error = %e.message, "transport error");
                    (
                        AzureError::Transport {
                            message: format!("{method} {log_url}: {}", e.message),
                        },
                        None,
                    )
                }
            };
            // Retry: bounded by the count and the deadline.
            let (error, retry_after) = failure;
            if retries >= policy.max_retries {
                return Err(error);
            }
            let delay = retry_after.unwrap_or_else(|| policy.backoff(retries));
            if Instant::now() + delay >= ctx.deadline {
                return Err(error);
            }
            tracing::info!(
                target: "datasnap::azure",
                "{} {}: {} (retry {} of {} in {:?})",
                method,
                log_url,
                error.code().unwrap_or("transport error"),
                retries + 1,
                policy.max_retries,
                delay
            );
            wait(ctx, op, delay).await?;
            retries += 1;
        }
    }

    /// GET `url` and decode the JSON body.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        ctx: &OpContext,
        op: &Op,
    ) -> Result<T, AzureError> {
        let response = self.send(reqwest::Method::GET, url, None, ctx, op).await?;
        decode(&response, &op.name)
    }
}

/// Decode a JSON answer, naming what it was for in the error.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    response: &HttpResponse,
    what: &str,
) -> Result<T, AzureError> {
    serde_json::from_slice(&response.body).map_err(|e| AzureError::Decode {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// Serialize a request body.
pub(crate) fn encode<T: serde::Serialize>(body: &T, what: &str) -> Result<Vec<u8>, AzureError> {
    serde_json::to_vec(body).map_err(|e| AzureError::Decode {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// True when the URL carries an api-version (also after a stray `&` where `?` belongs, as in
/// Microsoft's DELETE examples).
fn has_api_version(url: &str) -> bool {
    url.split(['&', '?'])
        .skip(1)
        .any(|p| p.to_ascii_lowercase().starts_with("api-version="))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::testing::{client_with, ScriptedTransport};

    fn ctx() -> OpContext {
        OpContext::new(Duration::from_secs(60), CancelToken::new())
    }

    #[test]
    fn normalizes_relative_urls_and_api_version() {
        let (client, _t) = client_with(ClientOptions::for_tests(), vec![]);
        assert_eq!(
            client.normalize_url("/subscriptions/s/operations/1", API_VERSION),
            "http://arm.test/subscriptions/s/operations/1?api-version=2025-01-02"
        );
        assert_eq!(
            client.normalize_url("https://other/op?monitor=true", API_VERSION),
            "https://other/op?monitor=true&api-version=2025-01-02"
        );
        // Microsoft's examples write `&monitor=true&api-version=` without a `?`.
        assert_eq!(
            client.normalize_url(
                "https://x/operations/1&monitor=true&api-version=2025-01-02",
                API_VERSION
            ),
            "https://x/operations/1&monitor=true&api-version=2025-01-02"
        );
        assert_eq!(
            client.normalize_url("https://x/op?Api-Version=2020", API_VERSION),
            "https://x/op?Api-Version=2020"
        );
    }

    #[tokio::test]
    async fn sends_pipeline_headers_and_bearer_token() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![HttpResponse::new(200).with_json(&serde_json::json!({}))],
        );
        let url = client.url("/subscriptions/s/x", API_VERSION);
        client
            .send(
                reqwest::Method::GET,
                &url,
                None,
                &ctx(),
                &Op::new("reading x"),
            )
            .await
            .unwrap();
        let req = &t.requests()[0];
        assert!(req.url.ends_with("?api-version=2025-01-02"));
        assert_eq!(req.header("authorization"), Some("Bearer token-1"));
        assert_eq!(req.header("user-agent"), Some(USER_AGENT));
        assert_eq!(req.header("x-ms-client-request-id").map(str::len), Some(36));
    }

    #[tokio::test]
    async fn unauthorized_refreshes_token_once() {
        let (client, t) = client_with(
            ClientOptions::for_tests(),
            vec![
                HttpResponse::new(401).with_json(&serde_json::json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}})),
                HttpResponse::new(401).with_json(&serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "bad"}})),
                HttpResponse::new(200),
            ],
        );
        let err = client
            .send(
                reqwest::Method::GET,
                "http://arm.test/x?api-version=1",
                None,
                &ctx(),
                &Op::new("reading x"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::Unauthorized { .. }), "{err:?}");
        assert_eq!(err.code(), Some("InvalidAuthenticationToken"));
        let reqs = t.requests();
        assert_eq!(reqs.len(), 2, "exactly one re-send");
        assert_eq!(reqs[0].header("authorization"), Some("Bearer token-1"));
        assert_eq!(reqs[1].header("authorization"), Some("Bearer token-2"));
    }

    #[tokio::test]
    async fn cancel_stops_a_hanging_request() {
        let t = Arc::new(ScriptedTransport::hanging());
        let client = ArmClient::unauthenticated(
            "http://arm.test",
            "s",
            ClientOptions {
                transport: Some(t.clone()),
                ..ClientOptions::for_tests()
            },
        )
        .unwrap();
        let cancel = CancelToken::new();
        let ctx = OpContext::new(Duration::from_secs(3600), cancel.clone());
        let task = tokio::spawn(async move {
            client
                .send(
                    reqwest::Method::GET,
                    "http://arm.test/x",
                    None,
                    &ctx,
                    &Op::new("x"),
                )
                .await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = std::time::Instant::now();
        cancel.cancel();
        let out = tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("cancel is prompt")
            .unwrap();
        assert!(matches!(out, Err(AzureError::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_on_the_wire_finishes_despite_cancel() {
        let t = Arc::new(
            ScriptedTransport::new(vec![HttpResponse::new(202), HttpResponse::new(202)])
                .with_delay(Duration::from_millis(1500)),
        );
        let client = ArmClient::unauthenticated(
            "http://arm.test",
            "s",
            ClientOptions {
                transport: Some(t.clone()),
                ..ClientOptions::for_tests()
            },
        )
        .unwrap();
        let cancel = CancelToken::new();
        let ctx = OpContext::new(Duration::from_secs(3600), cancel.clone());
        let c2 = ctx.clone();
        let task = tokio::spawn(async move {
            client
                .send(
                    reqwest::Method::PUT,
                    "http://arm.test/x",
                    Some(b"{}".to_vec()),
                    &c2,
                    &Op::new("x"),
                )
                .await
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
        let out = task.await.unwrap().unwrap();
        assert_eq!(out.status, 202, "the PUT's answer is not thrown away");
        // A write not yet sent is not started after a cancel.
        let client = ArmClient::unauthenticated(
            "http://arm.test",
            "s",
            ClientOptions {
                transport: Some(t.clone()),
                ..ClientOptions::for_tests()
            },
        )
        .unwrap();
        let err = client
            .send(
                reqwest::Method::PUT,
                "http://arm.test/x",
                None,
                &ctx,
                &Op::new("x"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::Cancelled));
        assert_eq!(t.requests().len(), 1);

        // A write that does not answer within the grace second is abandoned.
        let slow = Arc::new(
            ScriptedTransport::new(vec![HttpResponse::new(202)])
                .with_delay(Duration::from_secs(30)),
        );
        let client = ArmClient::unauthenticated(
            "http://arm.test",
            "s",
            ClientOptions {
                transport: Some(slow),
                ..ClientOptions::for_tests()
            },
        )
        .unwrap();
        let cancel = CancelToken::new();
        let ctx = OpContext::new(Duration::from_secs(3600), cancel.clone());
        let task = tokio::spawn(async move {
            client
                .send(
                    reqwest::Method::PUT,
                    "http://arm.test/x",
                    None,
                    &ctx,
                    &Op::new("x"),
                )
                .await
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t0 = tokio::time::Instant::now();
        cancel.cancel();
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, AzureError::Cancelled));
        assert_eq!(t0.elapsed(), CANCEL_GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_bounds_a_hanging_request() {
        let t = Arc::new(ScriptedTransport::hanging());
        let client = ArmClient::unauthenticated(
            "http://arm.test",
            "s",
            ClientOptions {
                transport: Some(t),
                ..ClientOptions::for_tests()
            },
        )
        .unwrap();
        let ctx = OpContext::new(Duration::from_secs(300), CancelToken::new());
        let err = client
            .send(
                reqwest::Method::GET,
                "http://arm.test/x",
                None,
                &ctx,
                &Op::new("reading snapshot x"),
            )
            .await
            .unwrap_err();
        match err {
            AzureError::Timeout { operation, after } => {
                assert_eq!(operation, "reading snapshot x");
                assert_eq!(after, Duration::from_secs(300));
            }
            other => panic!("{other:?}"),
        }
    }
}
