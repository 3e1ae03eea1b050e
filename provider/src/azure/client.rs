//! The ARM client: holds the endpoint, the subscription and the one request pipeline
//! ([`crate::azure::pipeline`]: request headers, retry, bearer token, logging, deadline and
//! cancel, transport), built once in [`ArmClient::new`] / [`ArmClient::unauthenticated`].
//! [`ArmClient::send`] puts one request through it and turns an answer of 400 or more into
//! an [`AzureError`]; URL building and JSON (de)coding live here too.
//!
//! The per-operation context ([`OpContext`], [`CancelToken`]) lives in
//! [`crate::azure::context`] and the HTTP types in [`crate::azure::pipeline::transport`]; both
//! are re-exported here so callers keep one import path.

use crate::azure::auth::{token_claims, Authenticator};
use crate::azure::context::race;
use crate::azure::errors::AzureError;
use crate::azure::pipeline::transport::ReqwestTransport;
use crate::azure::pipeline::{error_of, Call, Pipeline};
use crate::azure::retry::RetryPolicy;
use crate::azure::settings::ProviderConfig;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::azure::context::Op;
pub use crate::azure::context::{default_timeouts, CancelToken, OpContext, ProgressSink};
pub(crate) use crate::azure::pipeline::transport::build_http_client;
pub use crate::azure::pipeline::transport::{
    ensure_crypto_provider, HttpRequest, HttpResponse, HttpTransport, TransportError,
};

/// The DiskRP api-version used for every Microsoft.Compute call.
pub const API_VERSION: &str = "2025-01-02";

/// The api-version for `Microsoft.Resources/resourceGroups`.
pub const RESOURCE_GROUPS_API_VERSION: &str = "2021-04-01";

/// The default `User-Agent`.
pub const USER_AGENT: &str = concat!("pulumi-resource-datasnap/", env!("CARGO_PKG_VERSION"));

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

/// Who the provider is in Azure: see [`ArmClient::client_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub subscription_id: String,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// The principal's object id, when the token carries one (`oid`).
    pub object_id: Option<String>,
}

/// The Azure Resource Manager client; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct ArmClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub endpoint: String,
    pub subscription_id: String,
    /// The configured tenant and client ids (getClientConfig); the token fills the gaps.
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// The credential the bearer-token policy uses, shared so getClientConfig can read the
    /// token's claims without a request of its own.
    pub auth: Option<Arc<Authenticator>>,
    /// Every request goes through it; see [`crate::azure::pipeline`] for the order.
    pub pipeline: Pipeline,
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
        Ok(ArmClient::with_pipeline(
            &config.arm_endpoint,
            &config.subscription_id,
            (config.tenant_id.clone(), config.client_id.clone()),
            Some(Arc::new(auth)),
            transport,
            options,
        ))
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
        let auth = options.credential.clone().map(|c| {
            Arc::new(Authenticator::from_credential(
                c,
                "https://management.core.windows.net/",
            ))
        });
        Ok(ArmClient::with_pipeline(
            endpoint,
            subscription_id,
            (None, None),
            auth,
            transport,
            options,
        ))
    }

    /// Build the pipeline once; `auth: None` sends no `Authorization` header (test servers).
    /// The tenant and client ids are the configured ones, for getClientConfig.
    fn with_pipeline(
        endpoint: &str,
        subscription_id: &str,
        (tenant_id, client_id): (Option<String>, Option<String>),
        auth: Option<Arc<Authenticator>>,
        transport: Arc<dyn HttpTransport>,
        options: ClientOptions,
    ) -> ArmClient {
        ArmClient {
            inner: Arc::new(Inner {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                subscription_id: subscription_id.to_string(),
                tenant_id,
                client_id,
                auth: auth.clone(),
                pipeline: Pipeline::new(
                    &options.user_agent,
                    options.retry.clone(),
                    auth,
                    transport,
                ),
                options,
            }),
        }
    }

    pub fn subscription_id(&self) -> &str {
        &self.inner.subscription_id
    }

    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Who the provider is in Azure (getClientConfig): the configured subscription, tenant
    /// and client ids, with the tenant, client and object ids the ARM token carries filling
    /// what configuration leaves out (a managed identity, the Azure CLI). Gets a token (the
    /// cached one when it is fresh) but sends no ARM request.
    pub async fn client_config(&self, ctx: &OpContext) -> Result<ClientConfig, AzureError> {
        let claims = match &self.inner.auth {
            Some(auth) => {
                let op = Op::new("getting an Azure token for getClientConfig");
                let token = race(ctx, &op, auth.token()).await??;
                token_claims(token.expose())
            }
            None => serde_json::Map::new(),
        };
        let claim = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(ClientConfig {
            subscription_id: self.inner.subscription_id.clone(),
            tenant_id: self.inner.tenant_id.clone().or_else(|| claim("tid")),
            client_id: self
                .inner
                .client_id
                .clone()
                .or_else(|| claim("appid"))
                .or_else(|| claim("azp")),
            object_id: claim("oid"),
        })
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

    /// The URL of an ARM resource, with the DiskRP api-version.
    pub(crate) fn resource_url(&self, id: &crate::azure::id::ResourceId) -> String {
        self.url(&id.to_string(), API_VERSION)
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
                Err(e) => {
                    // The endpoint was validated at Configure, so this is a malformed relative
                    // URL from Azure; joining by hand keeps the poll going and the log says why.
                    tracing::debug!(target: "datasnap::azure", %url, error = %e, "cannot join the URL to the endpoint; joining it by hand");
                    format!("{}/{}", self.inner.endpoint, url.trim_start_matches('/'))
                }
            }
        };
        if has_api_version(&absolute) {
            absolute
        } else {
            let sep = if absolute.contains('?') { '&' } else { '?' };
            format!("{absolute}{sep}api-version={api_version}")
        }
    }

    /// Send one request through the pipeline. Answers below 400 are returned; an answer of
    /// 400 or more becomes an [`AzureError`] once the retry policy has given up on it.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
        ctx: &OpContext,
        op: &Op,
    ) -> Result<HttpResponse, AzureError> {
        let call = Call::new(ctx, op, url);
        let request = HttpRequest {
            method,
            url: url.to_string(),
            headers: Vec::new(),
            body,
        };
        let response = self.inner.pipeline.send(&call, request).await?;
        if response.status >= 400 {
            return Err(error_of(&response));
        }
        Ok(response)
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
    use crate::azure::testing::{client_with, get_x, timeout_of, ScriptedTransport};

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
        let err = get_x(&client, &ctx()).await.unwrap_err();
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
        assert_eq!(t0.elapsed(), crate::azure::pipeline::deadline::CANCEL_GRACE);
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
        assert_eq!(
            timeout_of(err),
            ("reading snapshot x".to_string(), Duration::from_secs(300))
        );
    }
}
