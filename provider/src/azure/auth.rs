//! Bearer tokens for ARM: builds the one configured credential with `azure_identity` and
//! caches its token until five minutes before expiry.
//!
//! `azure_identity` 1.0 does the Entra ID work: `ClientSecretCredential`,
//! `ClientAssertionCredential` (fed by our four assertion sources: a client certificate's
//! signed JWT ([`crate::azure::certificate`]), a static OIDC token, a token file re-read each
//! time, GitHub Actions' id-token endpoint), `ManagedIdentityCredential`
//! and `AzureCliCredential`. Its HTTP goes through our reqwest client (ring TLS, the configured
//! CA file) and a custom cloud configuration carrying `authorityHost`.
//!
//! `azure_identity`'s own cache cannot be invalidated, so after a 401 from ARM we drop the
//! whole credential object and build a fresh one: the next token is really new. Token
//! failures are `AzureError::Credential` naming the config keys; they are never retried by the
//! ARM retry loop (so a wrong secret gives one clear error, not a retry storm).

use crate::azure::certificate::ClientCertificate;
use crate::azure::errors::AzureError;
use crate::azure::settings::{CredentialSource, ProviderConfig, Secret};
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, TokenCredential};
use azure_core::http::{
    ClientMethodOptions, ClientOptions, ExponentialRetryOptions, RetryOptions, Transport,
};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use std::path::PathBuf;
use std::sync::Arc;

type Factory = Box<dyn Fn() -> azure_core::Result<Arc<dyn TokenCredential>> + Send + Sync>;

/// Hands out ARM bearer tokens for one credential.
pub(crate) struct Authenticator {
    scope: String,
    describe: String,
    factory: Factory,
    /// A tokio mutex: held across the token request so concurrent callers wait for one
    /// request instead of each sending their own. It cannot be poisoned (tokio's mutex has
    /// no poisoning), so no lock error is hidden here; a panic mid-request leaves at worst no
    /// token cached, and the next caller asks again.
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    credential: Option<Arc<dyn TokenCredential>>,
    token: Option<AccessToken>,
}

/// Refresh this long before the token expires.
const REFRESH_MARGIN: azure_core::time::Duration = azure_core::time::Duration::minutes(5);

impl Authenticator {
    /// The configured credential (see `config.rs` for the order).
    pub fn from_config(
        config: &ProviderConfig,
        http: reqwest::Client,
    ) -> Result<Authenticator, AzureError> {
        let source = config.credential.clone();
        let tenant = config.tenant_id.clone().unwrap_or_default();
        let client_id = config.client_id.clone().unwrap_or_default();
        let authority = config.authority_host.clone();
        let describe = source.describe().to_string();
        let assertion_http = http.clone();
        let options = move || client_options(&authority, http.clone());
        let factory: Factory = match source {
            CredentialSource::ClientSecret { secret } => Box::new(move || {
                let c: Arc<dyn TokenCredential> = ClientSecretCredential::new(
                    &tenant,
                    client_id.clone(),
                    secret.expose().to_string().into(),
                    Some(ClientSecretCredentialOptions {
                        client_options: options(),
                    }),
                )?;
                Ok(c)
            }),
            CredentialSource::ClientCertificate { path, password } => {
                let cert = ClientCertificate::load(&path, password.as_ref().map(Secret::expose))
                    .map_err(|message| AzureError::Credential { message })?;
                tracing::debug!(target: "datasnap::azure", thumbprint = %cert.thumbprint(), "client certificate loaded");
                let cert = Arc::new(cert);
                let audience = format!(
                    "{}/{}/oauth2/v2.0/token",
                    config.authority_host.trim_end_matches('/'),
                    tenant
                );
                let issuer = client_id.clone();
                assertion_factory(tenant, client_id, options, move |_| {
                    Assertion::Certificate {
                        cert: cert.clone(),
                        client_id: issuer.clone(),
                        audience: audience.clone(),
                    }
                })
            }
            CredentialSource::OidcToken { token } => {
                assertion_factory(tenant, client_id, options, move |_| {
                    Assertion::Static(token.clone())
                })
            }
            CredentialSource::OidcTokenFile { path } => {
                assertion_factory(tenant, client_id, options, move |_| {
                    Assertion::File(path.clone())
                })
            }
            CredentialSource::GitHubOidc {
                url,
                token,
                audience,
            } => {
                // The same client: GitHub's endpoint is public, the extra CA does no harm.
                let gh_http = assertion_http;
                assertion_factory(tenant, client_id, options, move |_| Assertion::GitHub {
                    url: url.clone(),
                    token: token.clone(),
                    audience: audience.clone(),
                    http: gh_http.clone(),
                })
            }
            CredentialSource::ManagedIdentity { client_id } => Box::new(move || {
                let c: Arc<dyn TokenCredential> =
                    ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                        user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                        client_options: options(),
                    }))?;
                Ok(c)
            }),
            CredentialSource::AzureCli => {
                let tenant = (!tenant.is_empty()).then_some(tenant);
                Box::new(move || {
                    let c: Arc<dyn TokenCredential> =
                        AzureCliCredential::new(Some(AzureCliCredentialOptions {
                            tenant_id: tenant.clone(),
                            ..Default::default()
                        }))?;
                    Ok(c)
                })
            }
        };
        // Build once now so a malformed setting fails Configure, not the first request; the
        // first credential object then serves the first token.
        let first = factory().map_err(|e| credential_failure(&describe, &e))?;
        Ok(Authenticator {
            scope: scope_for(&config.arm_audience),
            describe,
            factory,
            state: tokio::sync::Mutex::new(State {
                credential: Some(first),
                token: None,
            }),
        })
    }

    /// A fixed credential (tests, or callers that bring their own).
    pub fn from_credential(credential: Arc<dyn TokenCredential>, audience: &str) -> Authenticator {
        Authenticator {
            scope: scope_for(audience),
            describe: "the supplied credential".into(),
            factory: Box::new(move || Ok(credential.clone())),
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// A bearer token for ARM, from the cache while it has more than five minutes left.
    pub async fn token(&self) -> Result<Secret, AzureError> {
        let mut state = self.state.lock().await;
        if let Some(t) = &state.token {
            if t.expires_on > azure_core::time::OffsetDateTime::now_utc() + REFRESH_MARGIN {
                return Ok(Secret::new(t.token.secret()));
            }
        }
        let credential = match &state.credential {
            Some(c) => c.clone(),
            None => {
                let c = (self.factory)().map_err(|e| self.error(&e))?;
                state.credential = Some(c.clone());
                c
            }
        };
        let token = credential
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| self.error(&e))?;
        tracing::debug!(target: "datasnap::azure", credential = %self.describe, expires_on = %token.expires_on, "got an ARM token");
        let secret = Secret::new(token.token.secret());
        state.token = Some(token);
        Ok(secret)
    }

    /// Forget the token and the credential object (with its internal cache): after a 401.
    pub async fn invalidate(&self) {
        let mut state = self.state.lock().await;
        state.token = None;
        state.credential = None;
    }

    fn error(&self, e: &azure_core::Error) -> AzureError {
        credential_failure(&self.describe, e)
    }
}

/// A credential failure naming the credential (`describe`) and azure_identity's short reason.
fn credential_failure(describe: &str, e: &azure_core::Error) -> AzureError {
    AzureError::Credential {
        message: format!(
            "could not get an Azure token with the {describe}: {}",
            first_lines(&e.to_string())
        ),
    }
}

/// The claims of a JWT access token (its middle part), unverified: only to read who the
/// token is for (`tid`, `oid`, `appid`). An opaque or malformed token has none.
pub(crate) fn token_claims(token: &str) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

/// `{audience}/.default` (one slash).
fn scope_for(audience: &str) -> String {
    format!("{}/.default", audience.trim_end_matches('/'))
}

/// azure_identity appends a troubleshooting link and multi-line detail; keep it short.
fn first_lines(s: &str) -> String {
    let lines: Vec<&str> = s
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("aka.ms/azsdk"))
        .take(3)
        .collect();
    lines.join(" ")
}

fn client_options(authority_host: &str, http: reqwest::Client) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority_host.to_string();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(http))),
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        // A few quick retries: azure_core's default (8, up to a minute) would keep a wrong or
        // unreachable authorityHost silent for a minute before the error names it.
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: 3,
            max_total_elapsed: azure_core::time::Duration::seconds(15),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn assertion_factory(
    tenant: String,
    client_id: String,
    options: impl Fn() -> ClientOptions + Send + Sync + 'static,
    make: impl Fn(()) -> Assertion + Send + Sync + 'static,
) -> Factory {
    Box::new(move || {
        let c: Arc<dyn TokenCredential> = ClientAssertionCredential::new(
            tenant.clone(),
            client_id.clone(),
            make(()),
            Some(ClientAssertionCredentialOptions {
                client_options: options(),
            }),
        )?;
        Ok(c)
    })
}

/// Where the OIDC client assertion comes from. `Debug` shows no secret (`Secret` prints `***`).
#[derive(Debug)]
enum Assertion {
    /// Signed here, fresh for every token request.
    Certificate {
        cert: Arc<ClientCertificate>,
        client_id: String,
        audience: String,
    },
    Static(Secret),
    /// Re-read for every token request (workload identity rotates the file).
    File(PathBuf),
    GitHub {
        url: String,
        token: Secret,
        audience: String,
        http: reqwest::Client,
    },
}

fn credential_error(message: String) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
}

#[async_trait::async_trait]
impl ClientAssertion for Assertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        match self {
            Assertion::Certificate {
                cert,
                client_id,
                audience,
            } => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                cert.assertion(client_id, audience, now)
                    .map_err(credential_error)
            }
            Assertion::Static(token) => Ok(token.expose().to_string()),
            Assertion::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    credential_error(format!(
                        "cannot read the OIDC token file {} (oidcTokenFilePath / ARM_OIDC_TOKEN_FILE_PATH / AZURE_FEDERATED_TOKEN_FILE): {e}",
                        path.display()
                    ))
                })?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(credential_error(format!(
                        "the OIDC token file {} is empty",
                        path.display()
                    )));
                }
                Ok(text.to_string())
            }
            Assertion::GitHub {
                url,
                token,
                audience,
                http,
            } => github_id_token(http, url, token, audience).await,
        }
    }
}

/// `GET {url}&audience=...` with `Authorization: Bearer {token}` -> `{"value": "<jwt>"}`.
async fn github_id_token(
    http: &reqwest::Client,
    url: &str,
    token: &Secret,
    audience: &str,
) -> azure_core::Result<String> {
    let mut parsed = reqwest::Url::parse(url).map_err(|e| {
        credential_error(format!(
            "oidcRequestUrl (ACTIONS_ID_TOKEN_REQUEST_URL) is not a URL: {e}"
        ))
    })?;
    parsed.query_pairs_mut().append_pair("audience", audience);
    let response = http
        .get(parsed)
        .bearer_auth(token.expose())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            credential_error(format!(
                "GitHub Actions' id-token request failed: {}",
                e.without_url()
            ))
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(credential_error(format!(
            "GitHub Actions' id-token endpoint answered HTTP {status}; check that the job has `permissions: id-token: write` and that oidcRequestToken (ACTIONS_ID_TOKEN_REQUEST_TOKEN) is current"
        )));
    }
    let body: serde_json::Value = response.json().await.map_err(|e| {
        credential_error(format!(
            "GitHub Actions' id-token endpoint answered with a body that is not JSON: {}",
            e.without_url()
        ))
    })?;
    body.get("value")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            credential_error("GitHub Actions' id-token endpoint answered without a `value`".into())
        })
}

#[cfg(test)]
mod tests {

    #[test]
    fn token_claims_reads_the_payload_and_tolerates_opaque_tokens() {
        use base64::Engine;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let t = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"none"}"#),
            enc(r#"{"tid":"t","oid":"o","appid":"a"}"#)
        );
        let c = token_claims(&t);
        assert_eq!(c["tid"], "t");
        assert_eq!(c["oid"], "o");
        assert!(token_claims("opaque").is_empty());
        assert!(token_claims("a.!!!.c").is_empty());
    }
    use super::*;
    use crate::azure::testing::CountingCredential;

    #[tokio::test]
    async fn caches_until_invalidated() {
        let cred = Arc::new(CountingCredential::default());
        let auth =
            Authenticator::from_credential(cred.clone(), "https://management.core.windows.net/");
        assert_eq!(auth.scope, "https://management.core.windows.net/.default");
        assert_eq!(auth.token().await.unwrap().expose(), "token-1");
        assert_eq!(auth.token().await.unwrap().expose(), "token-1");
        auth.invalidate().await;
        assert_eq!(auth.token().await.unwrap().expose(), "token-2");
    }

    #[tokio::test]
    async fn token_file_is_reread() {
        let dir = std::env::temp_dir().join(format!("datasnap-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "jwt-1\n").unwrap();
        let a = Assertion::File(path.clone());
        assert_eq!(a.secret(None).await.unwrap(), "jwt-1");
        std::fs::write(&path, "jwt-2").unwrap();
        assert_eq!(a.secret(None).await.unwrap(), "jwt-2");
        std::fs::remove_file(&path).unwrap();
        let err = a.secret(None).await.unwrap_err().to_string();
        let _ = std::fs::remove_dir(&dir);
        assert!(err.contains("ARM_OIDC_TOKEN_FILE_PATH"), "{err}");
        let s = format!("{:?}", Assertion::Static(Secret::new("jwt")));
        assert!(!s.contains("jwt\""), "{s}");
    }

    #[test]
    fn builds_each_configured_credential() {
        let base = |credential| ProviderConfig {
            subscription_id: "00000000-0000-0000-0000-000000000000".into(),
            tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
            client_id: Some("c".into()),
            environment: crate::azure::settings::CloudEnvironment::Public,
            arm_endpoint: "https://management.azure.com".into(),
            authority_host: "https://login.microsoftonline.com".into(),
            arm_audience: "https://management.core.windows.net/".into(),
            ca_cert_file: None,
            credential,
        };
        let http = crate::azure::client::build_http_client(None, "t").unwrap();
        for source in [
            CredentialSource::ClientSecret {
                secret: Secret::new("s"),
            },
            CredentialSource::OidcToken {
                token: Secret::new("j"),
            },
            CredentialSource::OidcTokenFile {
                path: "/tmp/x".into(),
            },
            CredentialSource::GitHubOidc {
                url: "https://gh/x".into(),
                token: Secret::new("t"),
                audience: "api://AzureADTokenExchange".into(),
            },
            CredentialSource::ManagedIdentity { client_id: None },
            CredentialSource::AzureCli,
        ] {
            let what = format!("{source:?}");
            Authenticator::from_config(&base(source), http.clone())
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        // An http authority is refused by azure_identity and reported as a credential error.
        let mut c = base(CredentialSource::ClientSecret {
            secret: Secret::new("s"),
        });
        c.authority_host = "http://127.0.0.1:1".into();
        let err = Authenticator::from_config(&c, http).err().unwrap();
        assert!(matches!(err, AzureError::Credential { .. }), "{err:?}");
        assert!(!err.to_string().contains("\"s\""));
    }
}
