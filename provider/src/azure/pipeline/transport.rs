//! The pipeline's last stage and what it carries: [`HttpRequest`] and [`HttpResponse`], the
//! [`HttpTransport`] trait, and the production transport (reqwest with rustls' ring provider
//! and the configured CA file). Tests inject their own transport through `ClientOptions`.
//!
//! `HttpRequest`'s `Debug` redacts credentials: `authorization` and any header whose name
//! contains `secret`, `token` or `assertion` print as `***`.

use crate::azure::errors::AzureError;
use crate::azure::pipeline::Call;
use std::path::Path;
use std::time::Duration;

/// An HTTP request as the pipeline hands it to the transport.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: reqwest::Method,
    pub url: String,
    /// Header names are lower case. Credential values are never logged or printed.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Whether a header carries a credential (its value is never printed).
fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["authorization", "secret", "token", "assertion"]
        .iter()
        .any(|word| name.contains(word))
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), if is_sensitive(k) { "***" } else { v.as_str() }))
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish()
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

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The request never got an answer (connect, TLS, reset, read timeout).
#[derive(Debug, Clone)]
pub struct TransportError {
    pub message: String,
    /// No connection was made (refused, unreachable, DNS): nothing of the request reached a
    /// server, and a host that is down is worth only a few quick retries.
    pub connect: bool,
}

/// Sends one HTTP request. Production uses reqwest; tests inject a scripted one.
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The last stage: hand the request to the transport; a request that got no answer becomes
/// [`AzureError::Transport`] naming the method and the URL without its query.
pub(crate) async fn send(
    transport: &dyn HttpTransport,
    call: &Call<'_>,
    request: HttpRequest,
) -> Result<HttpResponse, AzureError> {
    let method = request.method.clone();
    transport
        .send(request)
        .await
        .map_err(|e| AzureError::Transport {
            message: format!("{method} {}: {}", call.log_url, e.message),
            connect: e.connect,
        })
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
    let connect = e.is_connect();
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    TransportError { message, connect }
}

/// Install rustls' ring provider for the process; call before building any reqwest client.
///
/// reqwest is built without a default crypto provider (aws-lc-rs would need cmake), so a
/// client built before this panics. Installing twice is harmless (the second call is a no-op).
pub fn ensure_crypto_provider() {
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        // A provider is already installed (ours, by an earlier call, or the host's): that is
        // all this function needs.
        tracing::trace!(target: "datasnap::azure", "a rustls crypto provider was already installed");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_credentials() {
        let request = HttpRequest {
            method: reqwest::Method::POST,
            url: "https://login.test/token".into(),
            headers: vec![
                ("authorization".into(), "Bearer eyJ-bearer".into()),
                ("Proxy-Authorization".into(), "Basic cHJveHk=".into()),
                ("x-client-secret".into(), "s3cr3t".into()),
                ("x-ms-token-aad".into(), "tok-aad".into()),
                ("client-assertion".into(), "jwt-assert".into()),
                ("x-ms-client-request-id".into(), "req-1".into()),
            ],
            body: Some(b"client_secret=s3cr3t".to_vec()),
        };
        let printed = format!("{request:?}");
        for secret in ["eyJ-bearer", "cHJveHk=", "s3cr3t", "tok-aad", "jwt-assert"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert!(
            printed.contains("req-1"),
            "other headers still print: {printed}"
        );
        assert!(printed.contains("\"authorization\", \"***\""), "{printed}");
        assert!(printed.contains("body_bytes: Some(20)"), "{printed}");
    }
}
