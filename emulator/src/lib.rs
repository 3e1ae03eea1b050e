//! datasnap-emulator: a local Azure for the demo and the tests: Azure Resource Manager
//! (resource groups; Microsoft.Compute disks and snapshots at DiskRP api-version
//! 2025-01-02, with long-running operations) plus an Entra ID token endpoint, over
//! HTTPS with a certificate generated at start.
//!
//! | module | job |
//! | --- | --- |
//! | [`config`] | settings, api-version sets, the shared [`config::AppState`] |
//! | [`world`] | the data: groups, resources, operations; lazy LRO completion |
//! | [`resource`] | a disk or snapshot: its typed ARM body |
//! | [`arm`] | the one ARM id parser and the handlers (groups, compute, locks, operations) |
//! | [`regions`] | Azure's public regions: location checks, Subscriptions_ListLocations |
//! | [`rules`] | Azure's name, tag and SKU rules as pure functions |
//! | [`auth`] | token endpoint, OIDC discovery, the bearer check |
//! | [`faults`] | fault rules and their layer |
//! | [`ratelimit`] | ARM's subscription token buckets and their headers |
//! | [`record`] | `--record DIR` in oav's LiveValidator format |
//! | [`control`] | `/_emulator/` control API |
//! | [`seed`] | the demo's resource group and dataset disk |
//! | [`tls`] | the generated CA and server certificate |
//! | [`error`] | ARM's error envelope |
//!
//! [`app`] builds the one service both `serve` and the tests use; [`serve`] runs it on a
//! listener (TLS or plain) until a shutdown future completes.

pub mod arm;
pub mod auth;
pub mod config;
pub mod control;
pub mod der;
pub mod error;
pub mod faults;
pub mod ratelimit;
pub mod record;
pub mod regions;
pub mod resource;
pub mod rules;
pub mod seed;
pub mod time;
pub mod tls;
pub mod world;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use config::AppState;
use faults::DropConnection;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The whole emulator as one axum service.
///
/// Layer order, outermost first (a request passes them top to bottom):
/// 1. request ids (whole app): `x-ms-request-id`, `x-ms-correlation-request-id`,
///    echoed `x-ms-client-request-id`;
/// 2. on ARM (`/subscriptions/...`) only:
///    recording (sees exactly what the client sees, faults included) ->
///    ARM subscription rate limits and their headers -> fault injection -> bearer auth (401 before anything else,
///    as ARM does) -> api-version check -> [`arm::handle`].
///
/// Token, OIDC and `/_emulator/` routes have no auth and no faults.
pub fn app(state: AppState) -> Router {
    // Router::layer wraps like an onion: the last `.layer` call is the outermost.
    let arm = Router::new()
        .fallback(arm::handle)
        .layer(from_fn(arm::api_version_layer))
        .layer(from_fn_with_state(state.clone(), auth::layer))
        .layer(from_fn_with_state(state.clone(), faults::layer))
        .layer(from_fn_with_state(state.clone(), ratelimit::layer))
        .layer(from_fn_with_state(state.clone(), record::layer))
        .with_state(state.clone());
    Router::new()
        .nest("/_emulator", control::router())
        .route("/{tenant}/oauth2/v2.0/token", post(auth::token))
        .route("/{tenant}/oauth2/token", post(auth::token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(auth::openid_configuration),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(auth::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(auth::jwks))
        .route("/_github/idtoken", get(auth::github_id_token))
        .route("/common/discovery/instance", get(auth::instance_discovery))
        .route("/metadata/endpoints", get(auth::cloud_metadata))
        .route(
            "/{tenant}/discovery/instance",
            get(auth::instance_discovery),
        )
        .fallback_service(arm)
        .layer(from_fn_with_state(state.clone(), request_ids))
        .with_state(state)
}

/// Layer body: the ids ARM stamps on every response.
async fn request_ids(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    let client_id = request.headers().get("x-ms-client-request-id").cloned();
    let correlation = request
        .headers()
        .get("x-ms-correlation-request-id")
        .cloned()
        .unwrap_or_else(new_id_header);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert("x-ms-request-id", new_id_header());
    headers.insert("x-ms-correlation-request-id", correlation);
    if let Some(id) = client_id {
        headers.insert("x-ms-client-request-id", id);
    }
    response
}

fn new_id_header() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .unwrap_or(HeaderValue::from_static("0"))
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct Dropped;

/// Serve `app` on `listener` (over TLS when `tls` is given) until `shutdown` completes;
/// then stop accepting and let in-flight connections finish (up to 5 s).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let app = app.clone();
                    async move {
                        let response = app.oneshot(request.map(axum::body::Body::new)).await;
                        let response = match response {
                            Ok(r) => r,
                            Err(never) => match never {},
                        };
                        if response.extensions().get::<DropConnection>().is_some() {
                            return Err(Dropped);
                        }
                        Ok(response)
                    }
                },
            );
            let builder = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls_stream) => {
                        let conn = builder.serve_connection(TokioIo::new(tls_stream), service);
                        let _ = watcher.watch(conn).await;
                    }
                    Err(e) => tracing::debug!("TLS handshake failed: {e}"),
                },
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(5)) => {},
    }
}
