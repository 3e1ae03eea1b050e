//! The ARM request pipeline: an ordered list of small [`Policy`]s, each owning one concern
//! and calling [`Next`] to pass the request on; the transport ends the chain.
//!
//! Built once per client in [`Pipeline::new`]; the order, outermost first:
//!
//! 1. [`headers`]  (per call)  `x-ms-client-request-id` (one id for every try), the
//!    `User-Agent`, `Accept` and, with a body, `Content-Type`;
//! 2. [`retry`]    (per call)  retries what [`crate::azure::retry`] says is transient, waiting
//!    its backoff or Azure's Retry-After, bounded by a count and by the deadline;
//! 3. [`auth`]     (per try)   the bearer token; on a 401, invalidate it and re-send once per call;
//! 4. [`logging`]  (per try)   `tracing` lines: method, URL without query, status, ids, never a
//!    header value or body;
//! 5. [`deadline`] (per try)   races the deadline and the cancel token; a write already on the
//!    wire gets `CANCEL_GRACE` to answer after a cancel;
//! 6. [`transport`]            reqwest, or an injected [`HttpTransport`] in tests.
//!
//! The shape is the Azure SDK's (`Policy::send(request, next)`), written here: azure_core's
//! own `Policy` works on its `Request`, `Context` and `RawResponse` types and its pipeline
//! would bring its own retry and logging, so of azure_core we use the pieces that stand
//! alone: the Retry-After parser ([`crate::azure::retry`]) and `Uuid` ([`headers`]).
//!
//! Policies pass every HTTP answer back up, whatever its status; `ArmClient::send` turns an
//! answer of 400 or more into an [`AzureError`] once the pipeline has given up on it.

pub(crate) mod auth;
pub(crate) mod deadline;
pub(crate) mod headers;
pub(crate) mod logging;
pub(crate) mod retry;
pub(crate) mod transport;

use crate::azure::auth::Authenticator;
use crate::azure::context::{Op, OpContext};
use crate::azure::errors::AzureError;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::Arc;
pub use transport::{HttpRequest, HttpResponse, HttpTransport};

/// One call through the pipeline: its context and what policies share across tries.
pub(crate) struct Call<'a> {
    pub ctx: &'a OpContext,
    pub op: &'a Op,
    /// The URL without its query, for logs and messages.
    pub log_url: String,
    /// Retries so far (set by the retry policy, read by logging).
    pub retries: AtomicU32,
    /// Whether the auth policy already re-authenticated once in this call.
    pub reauthenticated: AtomicBool,
}

impl<'a> Call<'a> {
    pub fn new(ctx: &'a OpContext, op: &'a Op, url: &str) -> Call<'a> {
        Call {
            ctx,
            op,
            log_url: url.split('?').next().unwrap_or(url).to_string(),
            retries: AtomicU32::new(0),
            reauthenticated: AtomicBool::new(false),
        }
    }
}

/// What every stage hands back: the HTTP answer, whatever its status, or why there is none.
pub(crate) type Outcome = Result<HttpResponse, AzureError>;

/// One concern of the pipeline. A policy may change the request, call `next` (any number of
/// times, for retries), look at the answer, or answer itself without calling `next`.
#[async_trait::async_trait]
pub(crate) trait Policy: Send + Sync {
    async fn send(&self, call: &Call<'_>, request: HttpRequest, next: Next<'_>) -> Outcome;
}

/// The rest of the pipeline after the current policy.
#[derive(Clone, Copy)]
pub(crate) struct Next<'a> {
    policies: &'a [Box<dyn Policy>],
    transport: &'a dyn HttpTransport,
}

impl Next<'_> {
    pub async fn send(self, call: &Call<'_>, request: HttpRequest) -> Outcome {
        match self.policies.split_first() {
            Some((policy, policies)) => {
                let next = Next {
                    policies,
                    transport: self.transport,
                };
                policy.send(call, request, next).await
            }
            None => transport::send(self.transport, call, request).await,
        }
    }
}

/// The policies in order (see the module doc) and the transport that ends them.
pub(crate) struct Pipeline {
    policies: Vec<Box<dyn Policy>>,
    transport: Arc<dyn HttpTransport>,
}

impl Pipeline {
    /// The one place the order is decided; keep it in step with the module doc.
    pub fn new(
        user_agent: &str,
        retry: crate::azure::retry::RetryPolicy,
        auth: Option<Arc<Authenticator>>,
        transport: Arc<dyn HttpTransport>,
    ) -> Pipeline {
        let mut policies: Vec<Box<dyn Policy>> = vec![
            Box::new(headers::RequestHeaders::new(user_agent)),
            Box::new(retry::Retry::new(retry)),
        ];
        if let Some(auth) = auth {
            policies.push(Box::new(auth::BearerToken::new(auth)));
        }
        policies.push(Box::new(logging::Logging));
        policies.push(Box::new(deadline::Deadline));
        Pipeline {
            policies,
            transport,
        }
    }

    pub async fn send(&self, call: &Call<'_>, request: HttpRequest) -> Outcome {
        let next = Next {
            policies: &self.policies,
            transport: self.transport.as_ref(),
        };
        next.send(call, request).await
    }
}

/// The error an answer of 400 or more stands for (with Azure's code and Retry-After).
pub(crate) fn error_of(response: &HttpResponse) -> AzureError {
    AzureError::from_response(
        response.status,
        response.header("x-ms-error-code"),
        &response.body,
        crate::azure::retry::retry_after(&response.headers),
    )
}

#[cfg(test)]
mod tests {
    use crate::azure::client::ClientOptions;
    use crate::azure::context::{CancelToken, OpContext};
    use crate::azure::retry::RetryPolicy;
    use crate::azure::testing::{client_with, get_x};
    use crate::azure::HttpResponse;
    use serde_json::json;
    use std::time::Duration;

    /// The order shows in what each try carries: one request id for every try (the headers
    /// policy runs outside retry) and one re-auth per call, not per try.
    #[tokio::test(start_paused = true)]
    async fn one_request_id_and_one_reauth_per_call() {
        let unauthorized = || {
            HttpResponse::new(401).with_json(
                &json!({"error": {"code": "ExpiredAuthenticationToken", "message": "x"}}),
            )
        };
        let (client, t) = client_with(
            ClientOptions {
                retry: RetryPolicy {
                    max_retries: 3,
                    initial_delay: Duration::from_secs(1),
                    max_delay: Duration::from_secs(1),
                },
                ..ClientOptions::for_tests()
            },
            vec![
                HttpResponse::new(503),
                unauthorized(),
                HttpResponse::new(503),
                unauthorized(),
            ],
        );
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new());
        let err = get_x(&client, &ctx).await.unwrap_err();
        assert_eq!(err.code(), Some("ExpiredAuthenticationToken"));
        let reqs = t.requests();
        let tokens: Vec<_> = reqs.iter().map(|r| r.header("authorization")).collect();
        assert_eq!(
            tokens,
            [
                Some("Bearer token-1"),
                Some("Bearer token-1"),
                Some("Bearer token-2"),
                Some("Bearer token-2"),
            ],
            "re-auth once, after the first 401 only"
        );
        let ids: std::collections::HashSet<_> = reqs
            .iter()
            .map(|r| r.header("x-ms-client-request-id"))
            .collect();
        assert_eq!(ids.len(), 1, "one request id for every try of the call");
        assert!(reqs.iter().all(|r| r.header("user-agent").is_some()));
    }
}
