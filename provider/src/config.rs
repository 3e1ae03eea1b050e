//! Provider configuration: CheckConfig, DiffConfig and Configure's work (the server only
//! wires them), the config keys' environment fallbacks, validation, the choice of one
//! credential, and building the Azure client from the result.
//!
//! Every key falls back to the environment variables Pulumi's azure-native reads (`ARM_*`),
//! then azure-identity's (`AZURE_*`). [`ProviderConfig::resolve`] reports every problem at
//! once as per-key failures whose reason names the key, its environment variables and the fix.
//!
//! Credential order (the first that is configured wins; a configured method that fails later
//! is an error, never a silent fall-through to the next one):
//!
//! 1. client secret: `clientSecret` / `ARM_CLIENT_SECRET` / `AZURE_CLIENT_SECRET`
//!    (needs `clientId` and `tenantId`);
//! 2. client certificate: `clientCertificatePath` / `ARM_CLIENT_CERTIFICATE_PATH` (a PEM
//!    file with the certificate and its private key, or a PKCS#12 `.pfx`), with
//!    `clientCertificatePassword` / `ARM_CLIENT_CERTIFICATE_PASSWORD` for a protected file
//!    (needs `clientId` and `tenantId`);
//! 3. OIDC / client assertion (needs `clientId` and `tenantId`), when `useOidc` / `ARM_USE_OIDC`
//!    is true, or a token or token file is configured (`oidcToken` / `ARM_OIDC_TOKEN`,
//!    `oidcTokenFilePath` / `ARM_OIDC_TOKEN_FILE_PATH`, or workload identity's
//!    `AZURE_FEDERATED_TOKEN_FILE`). The assertion comes from, in order: the token, the token
//!    file (re-read for every token request), or GitHub Actions (`oidcRequestUrl` +
//!    `oidcRequestToken`, from `ARM_OIDC_REQUEST_URL`/`ACTIONS_ID_TOKEN_REQUEST_URL` and
//!    `ARM_OIDC_REQUEST_TOKEN`/`ACTIONS_ID_TOKEN_REQUEST_TOKEN`, audience `oidcAudience`,
//!    default `api://AzureADTokenExchange`);
//! 4. managed identity: `useMsi` / `ARM_USE_MSI` (with `clientId` for a user-assigned identity);
//! 5. Azure CLI: `useCli` / `ARM_USE_CLI` (default true; set false to require one of the above).
//!
//! `clientId` and `tenantId` with none of 1-4 is an error naming each way to finish the
//! service principal, not a fall-through to the Azure CLI (whose login would be a different
//! identity than the one configured); `useCli: true` asks for the CLI explicitly.

use std::path::PathBuf;

use crate::azure::{ArmClient, ClientOptions};
use crate::resource::{Change, ChangeKind, DiffResult, Failure};
use crate::resources::preflight::PreviewChecks;
use crate::schema;
use crate::value::{path_join, Props};

pub use crate::azure::settings::{CloudEnvironment, CredentialSource, ProviderConfig, Secret};

/// One configuration problem; `reason` names the key, its environment variables and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFailure {
    pub property: String,
    pub reason: String,
}

const DEFAULT_OIDC_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The environment variables that stand in for config key `name`: the schema's
/// `defaultInfo.environment`, the one place they are written down.
fn env_vars(name: &str) -> &'static [String] {
    // The names passed in are literals from this file, each of which the schema has (the
    // `every_key_read_is_in_the_schema` test); an unknown one simply has no variables.
    crate::schema::config_key(name).map_or(&[], |k| k.env.as_slice())
}

/// "`clientId` (or ARM_CLIENT_ID / AZURE_CLIENT_ID)".
fn key_and_env(name: &str) -> String {
    let vars = env_vars(name);
    if vars.is_empty() {
        format!("`{name}`")
    } else {
        format!("`{name}` (or {})", vars.join(" / "))
    }
}

/// Where a value came from, for messages.
struct Found {
    value: serde_json::Value,
    source: String,
}

struct Resolver<'a> {
    inputs: &'a serde_json::Map<String, serde_json::Value>,
    env: &'a dyn Fn(&str) -> Option<String>,
    failures: Vec<ConfigFailure>,
}

impl Resolver<'_> {
    fn fail(&mut self, property: &str, reason: String) {
        self.failures.push(ConfigFailure {
            property: property.to_string(),
            reason,
        });
    }

    /// The key's value from the inputs, else the first non-empty environment variable.
    fn lookup(&self, name: &str) -> Option<Found> {
        if let Some(v) = self.inputs.get(name) {
            let empty = v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
            if !empty {
                return Some(Found {
                    value: v.clone(),
                    source: format!("config `datasnap:{name}`"),
                });
            }
        }
        for var in env_vars(name) {
            if let Some(v) = (self.env)(var) {
                if !v.trim().is_empty() {
                    return Some(Found {
                        value: serde_json::Value::String(v),
                        source: format!("environment variable {var}"),
                    });
                }
            }
        }
        None
    }

    fn string(&mut self, name: &str) -> Option<String> {
        let found = self.lookup(name)?;
        match found.value {
            serde_json::Value::String(s) => Some(s.trim().to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            other => {
                let kind = json_kind(&other);
                self.fail(
                    name,
                    format!(
                        "{} must be a string, but {} is {kind}; set it to a string value",
                        key_and_env(name),
                        found.source
                    ),
                );
                None
            }
        }
    }

    fn boolean(&mut self, name: &str) -> Option<bool> {
        let found = self.lookup(name)?;
        let parsed = match &found.value {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.fail(
                name,
                format!(
                    "{} must be true or false, but {} is {}; set it to true or false",
                    key_and_env(name),
                    found.source,
                    display_value(&found.value)
                ),
            );
        }
        parsed
    }

    fn url(&mut self, name: &str) -> Option<String> {
        let raw = self.string(name)?;
        match reqwest::Url::parse(&raw) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some() => {
                Some(raw.trim_end_matches('/').to_string())
            }
            Ok(u) if u.scheme() == "http" && u.host_str().is_some_and(is_loopback) => {
                Some(raw.trim_end_matches('/').to_string())
            }
            Ok(_) => {
                self.fail(
                    name,
                    format!(
                        "{} must be an https:// URL (plain http is allowed only for 127.0.0.1/localhost), got {raw:?}",
                        key_and_env(name)
                    ),
                );
                None
            }
            Err(e) => {
                self.fail(
                    name,
                    format!(
                        "{} is not a valid URL ({e}): {raw:?}; set it to a URL such as https://management.azure.com",
                        key_and_env(name)
                    ),
                );
                None
            }
        }
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

fn display_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{:?}", crate::azure::errors::truncate(s, 40)),
        other => json_kind(other).to_string(),
    }
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex).
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A tenant is a GUID or a domain name (`contoso.onmicrosoft.com`).
fn is_tenant(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl ProviderConfig {
    /// Resolve the configuration from the provider config keys (camelCase, secrets unwrapped,
    /// bools possibly sent as strings) with `env` as the environment fallback. Returns every
    /// problem found, each naming its key and environment variables.
    pub fn resolve(
        inputs: &serde_json::Map<String, serde_json::Value>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, Vec<ConfigFailure>> {
        let mut r = Resolver {
            inputs,
            env,
            failures: Vec::new(),
        };

        // How previews check creates (read by `preview_checks`; validated here).
        if let Some(v) = r.string("previewChecks") {
            if PreviewChecks::parse(&v).is_none() {
                r.fail(
                    "previewChecks",
                    format!(
                        "{} is {v:?}; use warn (the default), strict or off",
                        key_and_env("previewChecks")
                    ),
                );
            }
        }

        // Cloud and endpoints.
        let environment = match r.string("environment") {
            None => Some(CloudEnvironment::Public),
            Some(s) => {
                let parsed = CloudEnvironment::parse(&s);
                if parsed.is_none() {
                    r.fail(
                        "environment",
                        format!(
                            "{} is {s:?}, which is not a known Azure cloud; use public, usgovernment or china",
                            key_and_env("environment")
                        ),
                    );
                }
                parsed
            }
        };
        let cloud = environment.unwrap_or(CloudEnvironment::Public);
        let arm_endpoint = r
            .url("armEndpoint")
            .unwrap_or_else(|| cloud.arm_endpoint().to_string());
        let authority_host = r
            .url("authorityHost")
            .unwrap_or_else(|| cloud.authority_host().to_string());
        let ca_cert_file = r.string("caCertFile").map(PathBuf::from);
        if let Some(path) = &ca_cert_file {
            if let Err(e) = std::fs::metadata(path) {
                r.fail(
                    "caCertFile",
                    format!(
                        "{} names {}, which cannot be read ({e}); point it at a PEM certificate file",
                        key_and_env("caCertFile"),
                        path.display()
                    ),
                );
            }
        }

        // Identity.
        let subscription_id = r.string("subscriptionId");
        match &subscription_id {
            None => r.fail(
                "subscriptionId",
                format!(
                    "the Azure subscription is not configured: set {} (for example `pulumi config set datasnap:subscriptionId <uuid>`)",
                    key_and_env("subscriptionId")
                ),
            ),
            Some(s) if !is_uuid(s) => r.fail(
                "subscriptionId",
                format!(
                    "{} must be a subscription id (a UUID such as 00000000-0000-0000-0000-000000000000), got {s:?}",
                    key_and_env("subscriptionId")
                ),
            ),
            Some(_) => {}
        }
        let tenant_id = r.string("tenantId");
        if let Some(t) = &tenant_id {
            if !is_tenant(t) {
                r.fail(
                    "tenantId",
                    format!(
                        "{} must be a tenant id (a UUID) or domain, got {t:?}",
                        key_and_env("tenantId")
                    ),
                );
            }
        }
        let client_id = r.string("clientId");

        let credential = resolve_credential(&mut r, tenant_id.is_some(), client_id.is_some());

        if !r.failures.is_empty() {
            return Err(r.failures);
        }
        match (subscription_id, environment, credential) {
            (Some(subscription_id), Some(environment), Some(credential)) => Ok(ProviderConfig {
                subscription_id,
                tenant_id,
                client_id,
                environment,
                arm_endpoint,
                authority_host,
                arm_audience: environment.arm_audience().to_string(),
                ca_cert_file,
                credential,
            }),
            // Every `None` above recorded a failure, so this arm is not reached; answer with a
            // failure rather than panicking all the same.
            _ => Err(vec![ConfigFailure {
                property: "subscriptionId".into(),
                reason: "provider bug: configuration incomplete without a reported failure".into(),
            }]),
        }
    }
}

/// Pick the credential in the documented order; record failures for missing companions.
fn resolve_credential(
    r: &mut Resolver<'_>,
    has_tenant: bool,
    has_client: bool,
) -> Option<CredentialSource> {
    let need_sp = |r: &mut Resolver<'_>, what: &str| {
        if !has_client {
            r.fail(
                "clientId",
                format!(
                    "{what} needs the service principal's client id: set {}",
                    key_and_env("clientId")
                ),
            );
        }
        if !has_tenant {
            r.fail(
                "tenantId",
                format!(
                    "{what} needs the tenant id: set {}",
                    key_and_env("tenantId")
                ),
            );
        }
    };

    // 1. Client secret.
    if let Some(secret) = r.string("clientSecret") {
        need_sp(r, "authenticating with a client secret");
        return Some(CredentialSource::ClientSecret {
            secret: Secret::new(secret),
        });
    }

    // 2. Client certificate.
    if let Some(path) = r.string("clientCertificatePath") {
        need_sp(r, "authenticating with a client certificate");
        return Some(CredentialSource::ClientCertificate {
            path: PathBuf::from(path),
            password: r.string("clientCertificatePassword").map(Secret::new),
        });
    }
    if r.string("clientCertificatePassword").is_some() {
        r.fail(
            "clientCertificatePassword",
            format!(
                "a certificate password is set but no certificate: set {} to the PEM or PFX file",
                key_and_env("clientCertificatePath")
            ),
        );
        return None;
    }

    // 3. OIDC / client assertion.
    let use_oidc = r.boolean("useOidc");
    let token = r.string("oidcToken");
    let token_file = r.string("oidcTokenFilePath");
    if use_oidc == Some(true) || token.is_some() || token_file.is_some() {
        need_sp(r, "authenticating with OIDC");
        if let Some(token) = token {
            return Some(CredentialSource::OidcToken {
                token: Secret::new(token),
            });
        }
        if let Some(path) = token_file {
            return Some(CredentialSource::OidcTokenFile {
                path: PathBuf::from(path),
            });
        }
        let url = r.string("oidcRequestUrl");
        let request_token = r.string("oidcRequestToken");
        let audience = r
            .string("oidcAudience")
            .unwrap_or_else(|| DEFAULT_OIDC_AUDIENCE.to_string());
        return match (url, request_token) {
            (Some(url), Some(token)) => Some(CredentialSource::GitHubOidc {
                url,
                token: Secret::new(token),
                audience,
            }),
            (url, _) => {
                let missing = if url.is_none() {
                    "oidcRequestUrl"
                } else {
                    "oidcRequestToken"
                };
                r.fail(
                    missing,
                    format!(
                        "useOidc is true but no OIDC token is available: set {}, {}, or, in GitHub Actions, give the job `permissions: id-token: write` so {} and {} are set",
                        key_and_env("oidcToken"),
                        key_and_env("oidcTokenFilePath"),
                        key_and_env("oidcRequestUrl"),
                        key_and_env("oidcRequestToken"),
                    ),
                );
                None
            }
        };
    }

    // 4. Managed identity.
    if r.boolean("useMsi") == Some(true) {
        let client_id = r.string("clientId");
        return Some(CredentialSource::ManagedIdentity { client_id });
    }

    // 5. Azure CLI.
    let use_cli = r.boolean("useCli");
    if has_client && has_tenant && use_cli != Some(true) {
        // In GitHub Actions with `id-token: write` the token is there but, as with
        // azure-native, OIDC is used only when asked for: say exactly that.
        let github = r.string("oidcRequestUrl").is_some() && r.string("oidcRequestToken").is_some();
        let hint = if github {
            " GitHub Actions' id-token variables (ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN) are set: to sign in with them set ARM_USE_OIDC=true (or `useOidc: true`), as azure-native also requires."
        } else {
            ""
        };
        r.fail(
            "clientId",
            format!(
                "clientId and tenantId name a service principal, but no credential for it is configured: set {}, {}, or {}; for a user-assigned managed identity set {} (clientId selects it); or set {} to use the Azure CLI's login instead.{hint}",
                key_and_env("clientSecret"),
                key_and_env("clientCertificatePath"),
                key_and_env("useOidc"),
                key_and_env("useMsi"),
                key_and_env("useCli"),
            ),
        );
        return None;
    }
    if use_cli == Some(false) {
        r.fail(
            "clientSecret",
            format!(
                "no Azure credential is configured and useCli is false: set {} with clientId and tenantId, or useOidc, or useMsi",
                key_and_env("clientSecret")
            ),
        );
        return None;
    }
    Some(CredentialSource::AzureCli)
}

/// The provider input that makes this stack's claims its own: two stacks of the same
/// name in different state backends have the same URNs, but never the same salt. Made once
/// per stack by CheckConfig and kept in the provider's state.
pub const CLAIM_SALT: &str = "claimSalt";

/// Reads one environment variable (the process's, or a test's stand-in).
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// CheckConfig: the schema's types, then (when every value is known; the engine does not
/// Configure a preview with unknown config) the whole resolution, so a bad key fails before
/// any resource is touched. Keys the schema marks secret become secret even when set as
/// plain config, so credentials are encrypted in the stack's state.
///
/// It also keeps the stack's claim salt ([`CLAIM_SALT`]): the one recorded in the provider's
/// state, or, on a stack's first deployment, a new random one.
pub fn check(news: Props, olds: &Props, env: &EnvLookup) -> (Props, Vec<Failure>) {
    let config = &schema::schema().config;
    let mut news = news;
    // The engine gives CheckConfig no random seed, so a new stack's salt is made here,
    // once: from then on the provider's state holds it and every deployment keeps it.
    let salt = match olds.values.get(CLAIM_SALT).and_then(|v| v.as_str()) {
        Some(s) if !s.is_empty() => Some(s.to_string()),
        _ => Some(azure_core::Uuid::new_v4().simple().to_string()[..12].to_string()),
    };
    if let Some(salt) = salt {
        news.values
            .entry(CLAIM_SALT)
            .or_insert(serde_json::Value::String(salt));
    }
    let mut plain = news.values.clone();
    plain.remove("version");
    let mut failures = config.check_types(&plain);
    if failures.is_empty() && news.is_known() {
        if let Err(fails) = ProviderConfig::resolve(&plain, env) {
            failures.extend(
                fails
                    .into_iter()
                    .map(|c| Failure::new(c.property, c.reason)),
            );
        }
    }
    let secret: Vec<String> = news
        .values
        .keys()
        .filter(|k| config.properties.get(*k).is_some_and(|p| p.secret))
        .map(|k| path_join("", k))
        .collect();
    news.secrets.extend(secret);
    (news, failures)
}

/// DiffConfig: one update per key whose value changed or is not known yet.
pub fn diff(olds: &Props, news: &Props) -> DiffResult {
    let unknown: Vec<String> = news
        .unknowns
        .iter()
        .map(|u| u.split(['.', '[']).next().unwrap_or(u).to_string())
        .collect();
    let mut keys: Vec<&String> = olds
        .values
        .keys()
        .chain(news.values.keys())
        .chain(unknown.iter())
        // The plugin `version` is the engine's; the claim salt is bookkeeping that the
        // state keeps (a same step stores the new inputs), never a change to show.
        .filter(|k| k.as_str() != "version" && k.as_str() != CLAIM_SALT)
        .collect();
    keys.sort();
    keys.dedup();
    DiffResult {
        changes: keys
            .into_iter()
            .filter(|k| olds.values.get(*k) != news.values.get(*k) || unknown.contains(k))
            .map(|k| Change {
                path: k.clone(),
                kind: ChangeKind::Update,
                replace: false,
            })
            .collect(),
        delete_before_replace: false,
        note: None,
    }
}

/// Configure: resolves the configuration and builds the ARM client (no request is sent).
/// The error lists every problem, each naming its key, its environment variables and the
/// fix.
pub fn client(args: &Props, env: &EnvLookup) -> Result<ArmClient, String> {
    let mut plain = args.values.clone();
    plain.remove("version");
    let config = ProviderConfig::resolve(&plain, env).map_err(|fails| {
        let lines: Vec<String> = fails
            .into_iter()
            .map(|f| format!("datasnap:{}: {}", f.property, f.reason))
            .collect();
        format!(
            "the datasnap provider configuration is invalid:\n  {}",
            lines.join("\n  ")
        )
    })?;
    ArmClient::new(&config, client_options(env)).map_err(|e| e.to_string())
}

/// How previews check creates: `previewChecks`, else `DATASNAP_PREVIEW_CHECKS`, else warn
/// (a bad value was already refused by CheckConfig).
pub fn preview_checks(args: &Props, env: &EnvLookup) -> PreviewChecks {
    let mut r = Resolver {
        inputs: &args.values,
        env,
        failures: Vec::new(),
    };
    r.string("previewChecks")
        .and_then(|v| PreviewChecks::parse(&v))
        .unwrap_or_default()
}

/// Client options; `DATASNAP_POLL_INTERVAL_MS` lowers the LRO poll floor (the emulator's
/// operations take milliseconds, Azure's take seconds).
fn client_options(env: &EnvLookup) -> ClientOptions {
    let mut o = ClientOptions::default();
    if let Some(ms) = env("DATASNAP_POLL_INTERVAL_MS").and_then(|v| v.parse::<u64>().ok()) {
        let d = std::time::Duration::from_millis(ms);
        o.min_poll_interval = d;
        o.default_poll_interval = d;
        o.copy_poll_interval = d;
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    const SUB: &str = "00000000-1111-2222-3333-444444444444";

    fn resolve(
        inputs: serde_json::Value,
        env: &[(&str, &str)],
    ) -> Result<ProviderConfig, Vec<ConfigFailure>> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let inputs = inputs.as_object().cloned().unwrap_or_default();
        ProviderConfig::resolve(&inputs, &move |k| env.get(k).cloned())
    }

    #[test]
    fn every_key_read_is_in_the_schema() {
        for name in [
            "subscriptionId",
            "tenantId",
            "clientId",
            "clientSecret",
            "clientCertificatePath",
            "clientCertificatePassword",
            "useOidc",
            "oidcToken",
            "oidcTokenFilePath",
            "oidcRequestUrl",
            "oidcRequestToken",
            "oidcAudience",
            "useMsi",
            "useCli",
            "environment",
            "armEndpoint",
            "authorityHost",
            "caCertFile",
            "previewChecks",
        ] {
            let key = crate::schema::config_key(name).expect(name);
            assert!(!key.env.is_empty(), "{name} has no environment variables");
        }
        assert_eq!(crate::schema::schema().config.properties.len(), 20);
    }

    #[test]
    fn missing_subscription_names_key_and_env() {
        let err = resolve(json!({}), &[]).unwrap_err();
        let f = err.iter().find(|f| f.property == "subscriptionId").unwrap();
        assert!(f.reason.contains("ARM_SUBSCRIPTION_ID"), "{}", f.reason);
        assert!(f.reason.contains("AZURE_SUBSCRIPTION_ID"), "{}", f.reason);
    }

    #[test]
    fn defaults_to_public_cloud_and_cli() {
        let c = resolve(json!({"subscriptionId": SUB}), &[]).unwrap();
        assert_eq!(c.environment, CloudEnvironment::Public);
        assert_eq!(c.arm_endpoint, "https://management.azure.com");
        assert_eq!(c.authority_host, "https://login.microsoftonline.com");
        assert_eq!(c.credential, CredentialSource::AzureCli);
    }

    #[test]
    fn config_wins_over_arm_env_over_azure_env() {
        let c = resolve(
            json!({}),
            &[
                ("ARM_SUBSCRIPTION_ID", SUB),
                ("AZURE_SUBSCRIPTION_ID", "bad"),
                ("AZURE_TENANT_ID", "t1"),
            ],
        )
        .unwrap();
        assert_eq!(c.subscription_id, SUB);
        assert_eq!(c.tenant_id.as_deref(), Some("t1"));
        let c = resolve(
            json!({"tenantId": "t0"}),
            &[("ARM_SUBSCRIPTION_ID", SUB), ("ARM_TENANT_ID", "t1")],
        )
        .unwrap();
        assert_eq!(c.tenant_id.as_deref(), Some("t0"));
    }

    #[test]
    fn client_secret_needs_client_and_tenant_and_is_hidden() {
        let err = resolve(
            json!({"subscriptionId": SUB, "clientSecret": "hunter2"}),
            &[],
        )
        .unwrap_err();
        let props: Vec<_> = err.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(props, ["clientId", "tenantId"]);
        assert!(err[0].reason.contains("ARM_CLIENT_ID"));
        assert!(!format!("{err:?}").contains("hunter2"));

        let c = resolve(
            json!({"subscriptionId": SUB, "clientId": "c", "tenantId": "t"}),
            &[("AZURE_CLIENT_SECRET", "hunter2")],
        )
        .unwrap();
        assert!(
            matches!(&c.credential, CredentialSource::ClientSecret { secret } if secret.expose() == "hunter2")
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(format!("{}", Secret::new("x")), "***");
    }

    #[test]
    fn certificate_and_service_principal_without_credential() {
        let sp = [
            ("ARM_SUBSCRIPTION_ID", SUB),
            ("ARM_CLIENT_ID", "c"),
            ("ARM_TENANT_ID", "t"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = sp.to_vec();
            v.extend_from_slice(extra);
            resolve(json!({}), &v)
        };
        let c = with(&[
            ("ARM_CLIENT_CERTIFICATE_PATH", "/sp.pfx"),
            ("ARM_CLIENT_CERTIFICATE_PASSWORD", "pw"),
        ])
        .unwrap();
        assert!(
            matches!(&c.credential, CredentialSource::ClientCertificate { path, password: Some(p) }
            if path == std::path::Path::new("/sp.pfx") && p.expose() == "pw")
        );
        assert!(!format!("{c:?}").contains("\"pw\""));
        // A password alone names the missing path.
        let err = with(&[("ARM_CLIENT_CERTIFICATE_PASSWORD", "pw")]).unwrap_err();
        assert_eq!(err[0].property, "clientCertificatePassword");
        assert!(
            err[0].reason.contains("ARM_CLIENT_CERTIFICATE_PATH"),
            "{}",
            err[0].reason
        );
        // A certificate without the service principal names what is missing.
        let err = resolve(
            json!({}),
            &[
                ("ARM_SUBSCRIPTION_ID", SUB),
                ("ARM_CLIENT_CERTIFICATE_PATH", "/sp.pem"),
            ],
        )
        .unwrap_err();
        assert!(err.iter().any(|f| f.property == "clientId"), "{err:?}");
        assert!(err.iter().any(|f| f.property == "tenantId"), "{err:?}");
        // clientId + tenantId and nothing else: an error, unless the CLI is asked for.
        let err = with(&[]).unwrap_err();
        assert_eq!(err[0].property, "clientId");
        assert!(err[0].reason.contains("no credential"), "{}", err[0].reason);
        assert_eq!(
            with(&[("ARM_USE_CLI", "true")]).unwrap().credential,
            CredentialSource::AzureCli
        );
        // A user-assigned managed identity is selected by clientId.
        let c = with(&[("ARM_USE_MSI", "true")]).unwrap();
        assert_eq!(
            c.credential,
            CredentialSource::ManagedIdentity {
                client_id: Some("c".into())
            }
        );
    }

    #[test]
    fn oidc_sources_in_order() {
        let base = [
            ("ARM_SUBSCRIPTION_ID", SUB),
            ("ARM_CLIENT_ID", "c"),
            ("ARM_TENANT_ID", "t"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            resolve(json!({}), &v)
        };
        let c = with(&[
            ("ARM_USE_OIDC", "true"),
            ("ARM_OIDC_TOKEN", "jwt"),
            ("ARM_OIDC_TOKEN_FILE_PATH", "/f"),
        ])
        .unwrap();
        assert!(matches!(c.credential, CredentialSource::OidcToken { .. }));
        let c = with(&[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")]).unwrap();
        assert_eq!(
            c.credential,
            CredentialSource::OidcTokenFile {
                path: "/var/run/token".into()
            }
        );
        let c = with(&[
            ("ARM_USE_OIDC", "TRUE"),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://gh.example/token?x=1",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ghs"),
        ])
        .unwrap();
        assert!(
            matches!(&c.credential, CredentialSource::GitHubOidc { url, audience, .. }
            if url == "https://gh.example/token?x=1" && audience == "api://AzureADTokenExchange")
        );
        // The GitHub variables alone do not switch OIDC on, and a service principal with no
        // credential is an error naming each way to give it one, not the Azure CLI.
        let err = with(&[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ghs"),
        ])
        .unwrap_err();
        for key in [
            "clientSecret",
            "clientCertificatePath",
            "useOidc",
            "useMsi",
            "useCli",
        ] {
            assert!(err[0].reason.contains(key), "{}", err[0].reason);
        }
        assert!(
            err[0].reason.contains("ARM_USE_OIDC=true"),
            "{}",
            err[0].reason
        );
        let err = with(&[("ARM_USE_OIDC", "true")]).unwrap_err();
        assert!(
            err[0].reason.contains("id-token: write"),
            "{}",
            err[0].reason
        );
    }

    #[test]
    fn secret_beats_oidc_and_msi_and_msi_beats_cli() {
        let c = resolve(
            json!({"subscriptionId": SUB, "clientId": "c", "tenantId": "t", "clientSecret": "s", "useOidc": true, "oidcToken": "j", "useMsi": true}),
            &[],
        )
        .unwrap();
        assert!(matches!(
            c.credential,
            CredentialSource::ClientSecret { .. }
        ));
        let c = resolve(
            json!({"subscriptionId": SUB, "useMsi": "true", "clientId": "uami"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.credential,
            CredentialSource::ManagedIdentity {
                client_id: Some("uami".into())
            }
        );
        let err = resolve(json!({"subscriptionId": SUB, "useCli": false}), &[]).unwrap_err();
        assert_eq!(err[0].property, "clientSecret");
    }

    #[test]
    fn bools_accept_strings_and_reject_garbage() {
        let c = resolve(json!({"subscriptionId": SUB, "useMsi": "True"}), &[]).unwrap();
        assert!(matches!(
            c.credential,
            CredentialSource::ManagedIdentity { client_id: None }
        ));
        let err = resolve(json!({"subscriptionId": SUB, "useMsi": "maybe"}), &[]).unwrap_err();
        assert_eq!(err[0].property, "useMsi");
        assert!(err[0].reason.contains("ARM_USE_MSI"));
    }

    #[test]
    fn environments_and_endpoints() {
        for (name, env) in [
            ("azurecloud", CloudEnvironment::Public),
            ("usgov", CloudEnvironment::UsGovernment),
            ("AzureUSGovernment", CloudEnvironment::UsGovernment),
            ("china", CloudEnvironment::China),
            ("AzureChinaCloud", CloudEnvironment::China),
        ] {
            let c = resolve(json!({"subscriptionId": SUB, "environment": name}), &[]).unwrap();
            assert_eq!(c.environment, env);
            assert_eq!(c.arm_endpoint, env.arm_endpoint());
        }
        let err = resolve(
            json!({"subscriptionId": SUB}),
            &[("ARM_ENVIRONMENT", "mars")],
        )
        .unwrap_err();
        assert_eq!(err[0].property, "environment");
        let c = resolve(
            json!({"subscriptionId": SUB, "armEndpoint": "https://127.0.0.1:8443/", "authorityHost": "https://127.0.0.1:8443/login"}),
            &[],
        )
        .unwrap();
        assert_eq!(c.arm_endpoint, "https://127.0.0.1:8443");
        assert_eq!(c.authority_host, "https://127.0.0.1:8443/login");
        let err = resolve(
            json!({"subscriptionId": SUB, "armEndpoint": "http://example.com"}),
            &[],
        )
        .unwrap_err();
        assert_eq!(err[0].property, "armEndpoint");
        let err = resolve(
            json!({"subscriptionId": SUB, "caCertFile": "/nonexistent/ca.pem"}),
            &[],
        )
        .unwrap_err();
        assert_eq!(err[0].property, "caCertFile");
        assert!(err[0].reason.contains("ARM_CA_CERT_FILE"));
    }

    #[test]
    fn invalid_subscription() {
        let err = resolve(json!({"subscriptionId": "my-sub"}), &[]).unwrap_err();
        assert!(err[0].reason.contains("UUID"));
    }
}
