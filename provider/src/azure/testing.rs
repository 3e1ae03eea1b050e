//! Test doubles for the Azure layer: a scripted in-memory transport and a counting credential,
//! so the pipeline, retry and LRO logic run on a paused tokio clock without sockets.

use crate::azure::client::{
    ArmClient, ClientOptions, HttpRequest, HttpResponse, HttpTransport, TransportError,
};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

type Handler = Box<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// Answers requests from a queue (or a handler) and records what was sent and when.
pub(crate) struct ScriptedTransport {
    queue: Mutex<VecDeque<Result<HttpResponse, TransportError>>>,
    handler: Option<Handler>,
    hang: bool,
    delay: std::time::Duration,
    log: Mutex<Vec<(Instant, HttpRequest)>>,
}

impl ScriptedTransport {
    pub fn new(responses: Vec<HttpResponse>) -> ScriptedTransport {
        ScriptedTransport {
            queue: Mutex::new(responses.into_iter().map(Ok).collect()),
            handler: None,
            hang: false,
            delay: std::time::Duration::ZERO,
            log: Mutex::new(Vec::new()),
        }
    }

    /// Never answers.
    pub fn hanging() -> ScriptedTransport {
        ScriptedTransport {
            hang: true,
            ..ScriptedTransport::new(vec![])
        }
    }

    /// Answers each request after `delay`.
    pub fn with_delay(mut self, delay: std::time::Duration) -> ScriptedTransport {
        self.delay = delay;
        self
    }

    pub fn push(&self, response: HttpResponse) {
        self.queue.lock().unwrap().push_back(Ok(response));
    }

    pub fn push_transport_error(&self, message: &str) {
        self.queue.lock().unwrap().push_back(Err(TransportError {
            message: message.to_string(),
            connect: false,
        }));
    }

    /// A request refused before it reached a server (nothing listening).
    pub fn push_refused(&self) {
        self.queue.lock().unwrap().push_back(Err(TransportError {
            message: "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)".into(),
            connect: true,
        }));
    }

    pub fn requests(&self) -> Vec<HttpRequest> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn request_times(&self) -> Vec<Instant> {
        self.log.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }

    /// "METHOD path" of every request, without the query.
    pub fn lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| {
                let path = r.url.split('?').next().unwrap_or_default();
                let path = path.strip_prefix("http://arm.test").unwrap_or(path);
                format!("{} {}", r.method, path)
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl HttpTransport for ScriptedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.log
            .lock()
            .unwrap()
            .push((Instant::now(), request.clone()));
        if self.hang {
            std::future::pending::<()>().await;
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let next = self.queue.lock().unwrap().pop_front();
        match next {
            Some(r) => r,
            None => match &self.handler {
                Some(h) => Ok(h(&request)),
                None => panic!("unexpected request {} {}", request.method, request.url),
            },
        }
    }
}

/// Hands out `token-1`, `token-2`, ... one per call, valid for an hour.
#[derive(Debug, Default)]
pub(crate) struct CountingCredential {
    pub calls: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenCredential for CountingCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(AccessToken::new(
            format!("token-{n}"),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// A client on `http://arm.test` (subscription `sub`) with a counting credential and a
/// scripted transport answering `responses` in order.
pub(crate) fn client_with(
    options: ClientOptions,
    responses: Vec<HttpResponse>,
) -> (ArmClient, Arc<ScriptedTransport>) {
    transport_client(options, Arc::new(ScriptedTransport::new(responses)))
}

pub(crate) fn transport_client(
    options: ClientOptions,
    transport: Arc<ScriptedTransport>,
) -> (ArmClient, Arc<ScriptedTransport>) {
    let client = ArmClient::unauthenticated(
        "http://arm.test",
        "sub",
        ClientOptions {
            transport: Some(transport.clone()),
            credential: Some(Arc::new(CountingCredential::default())),
            ..options
        },
    )
    .unwrap();
    (client, transport)
}

/// GET `http://arm.test/x` through the client's pipeline, as "reading x".
pub(crate) async fn get_x(
    client: &ArmClient,
    ctx: &crate::azure::client::OpContext,
) -> Result<HttpResponse, crate::azure::AzureError> {
    client
        .send(
            reqwest::Method::GET,
            "http://arm.test/x?api-version=1",
            None,
            ctx,
            &crate::azure::client::Op::new("reading x"),
        )
        .await
}

/// The operation and budget of a `Timeout`; any other error fails the test.
pub(crate) fn timeout_of(err: crate::azure::AzureError) -> (String, std::time::Duration) {
    match err {
        crate::azure::AzureError::Timeout { operation, after } => (operation, after),
        other => panic!("expected a timeout, got {other:?}"),
    }
}
