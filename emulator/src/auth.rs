//! Entra ID, emulated: the v2.0 token endpoint (client_credentials with a client secret
//! or a client assertion), the OpenID Connect discovery documents that Microsoft's
//! identity libraries read first, and the ARM bearer-token check. Tokens are HS256 JWTs
//! signed with the emulator's key, so checking one needs no lookup table.

use crate::config::AppState;
use crate::error::ArmError;
use crate::time::{arm_message_time, now_ms};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

fn oauth_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let trace = uuid::Uuid::new_v4().to_string();
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace}"),
            "error_codes": [code],
            "timestamp": crate::time::rfc3339(now_ms()),
            "trace_id": trace,
            "correlation_id": uuid::Uuid::new_v4().to_string(),
        })),
    )
        .into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` (and the v1 `/{tenant}/oauth2/token`, which takes `resource`).
pub async fn token(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    body: String,
) -> Response {
    let form: HashMap<String, String> = match serde_urlencoded_parse(&body) {
        Some(f) => f,
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must be application/x-www-form-urlencoded.",
            )
        }
    };
    let cfg = &state.config;
    if !tenant.eq_ignore_ascii_case(&cfg.tenant_id) && tenant != "organizations" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        );
    }
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            )
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        }
    }
    let Some(client_id) = form.get("client_id") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if !client_id.eq_ignore_ascii_case(&cfg.client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        );
    }
    if let Some(assertion) = form.get("client_assertion") {
        let type_ok = form.get("client_assertion_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        if !type_ok || !looks_like_jwt(assertion) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                50027,
                "JWT token is invalid or malformed.",
            );
        }
        // A certificate credential names its certificate (`x5t`); a federated (OIDC) token
        // does not, and is accepted as the app's federated credential, which for a GitHub
        // token means Entra ID's audience (as a federated identity credential requires).
        if let Some(claims) = jwt_part(assertion, 1) {
            if claims["iss"] == crate::config::GITHUB_ISSUER
                && claims["aud"] != crate::config::FEDERATED_AUDIENCE
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    700212,
                    &format!(
                        "No matching federated identity record found for presented assertion audience '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
                        claims["aud"].as_str().unwrap_or_default()
                    ),
                );
            }
        }
        if let Some(x5t) =
            jwt_part(assertion, 0).and_then(|h| h["x5t"].as_str().map(str::to_string))
        {
            let audience = format!("{}/{}/oauth2/v2.0/token", cfg.base_url, tenant);
            if let Err((code, description)) =
                check_certificate_assertion(cfg, assertion, &x5t, client_id, &audience)
            {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    code,
                    &description,
                );
            }
        }
    } else if let Some(secret) = form.get("client_secret") {
        if secret != &cfg.client_secret {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
    } else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let audience = if let Some(scope) = form.get("scope") {
        let first = scope.split_whitespace().next().unwrap_or_default();
        match first.strip_suffix("/.default") {
            Some(resource) => format!("{}/", resource.trim_end_matches('/')),
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    &format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
                )
            }
        }
    } else if let Some(resource) = form.get("resource") {
        resource.clone()
    } else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    let (ttl, early) = {
        let faults = state.faults();
        (
            faults.spec.token_ttl_secs.unwrap_or(cfg.token_ttl_secs),
            faults.spec.token_expires_early_secs,
        )
    };
    let now = now_ms();
    // `tokenExpiresEarlySecs`: the token says `expires_in: ttl` but stops working sooner.
    let real_ttl = early.map_or(ttl, |e| e.min(ttl));
    let access_token = issue(&state, &audience, now, ttl, real_ttl);
    Json(json!({
        "token_type": "Bearer",
        "expires_in": ttl,
        "ext_expires_in": ttl,
        "expires_on": now / 1000 + ttl,
        "access_token": access_token,
    }))
    .into_response()
}

/// Minimal `application/x-www-form-urlencoded` parser (`+` is a space, `%XX` a byte).
fn serde_urlencoded_parse(body: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k)?, percent_decode(v)?);
    }
    Some(out)
}

pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Part `i` (0 header, 1 claims) of a JWT, decoded.
fn jwt_part(token: &str, i: usize) -> Option<Value> {
    let p = token.split('.').nth(i)?;
    let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Entra ID's checks of a certificate credential's assertion, with its error codes: the
/// thumbprint names a registered certificate, the RS256 signature verifies with that
/// certificate's key, `iss` and `sub` are the client id, `aud` is the token endpoint, and
/// the time is within `nbf`..`exp`.
fn check_certificate_assertion(
    cfg: &crate::config::Config,
    assertion: &str,
    x5t: &str,
    client_id: &str,
    audience: &str,
) -> Result<(), (u32, String)> {
    let thumbprint = URL_SAFE_NO_PAD
        .decode(x5t.trim_end_matches('='))
        .unwrap_or_default();
    let hex: String = thumbprint.iter().map(|b| format!("{b:02X}")).collect();
    let cert = cfg.client_certificates.iter().find(|der| {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref()
            == thumbprint.as_slice()
    });
    let Some(cert) = cert else {
        return Err((700027, format!("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{hex}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]")));
    };
    let header = jwt_part(assertion, 0).unwrap_or_default();
    if header["alg"] != "RS256" {
        return Err((5002738, format!("Invalid JWT token. '{}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, RS384, RS512'", header["alg"].as_str().unwrap_or_default())));
    }
    let (signed, signature) = assertion.rsplit_once('.').unwrap_or_default();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    let key = crate::der::rsa_public_key(cert).ok_or((700027, "Client assertion failed signature validation. [Reason - The certificate's key could not be read.]".to_string()))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| (700027, format!("Client assertion failed signature validation. [Reason - The key was found but the signature does not verify., Thumbprint of key used by client: '{hex}']")))?;
    let claims = jwt_part(assertion, 1).unwrap_or_default();
    if claims["iss"] != client_id || claims["sub"] != client_id {
        return Err((700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .".into()));
    }
    if claims["aud"] != audience {
        return Err((700016, format!("Invalid client assertion audience '{}': it must be the token endpoint '{audience}'.", claims["aud"].as_str().unwrap_or_default())));
    }
    let now = now_ms() / 1000;
    let nbf = claims["nbf"].as_u64().unwrap_or(0);
    let exp = claims["exp"].as_u64().unwrap_or(0);
    if now + 300 < nbf || now >= exp {
        return Err((
            700024,
            "Client assertion is not within its valid time range.".into(),
        ));
    }
    Ok(())
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
        && (0..2).all(|i| jwt_part(token, i).is_some_and(|v| v.is_object()))
}

/// Sign a token for `audience` that claims `ttl_secs` from `now` (ms) and works for `real_ttl_secs`.
pub fn issue(
    state: &AppState,
    audience: &str,
    now: u64,
    ttl_secs: u64,
    real_ttl_secs: u64,
) -> String {
    let cfg = &state.config;
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", cfg.tenant_id),
        "iat": now / 1000,
        "nbf": now / 1000,
        "exp": now / 1000 + ttl_secs,
        "iat_ms": now,
        "exp_ms": now + real_ttl_secs * 1000,
        "appid": cfg.client_id,
        "oid": cfg.object_id,
        "sub": cfg.client_id,
        "tid": cfg.tenant_id,
        "idtyp": "app",
        "ver": "1.0",
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let tag = ring::hmac::sign(&state.token_key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn unauthorized(code: &str, message: String, state: &AppState) -> ArmError {
    ArmError::new(StatusCode::UNAUTHORIZED, code, message).with_header(
        "www-authenticate",
        format!(
            "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"The authentication failed because of missing 'Authorization' header or an invalid token.\"",
            state.config.base_url, state.config.tenant_id
        ),
    )
}

/// Check a bearer token as ARM does; `Ok` carries nothing, `Err` is the 401 to send.
pub fn check(state: &AppState, header: Option<&str>, now: u64) -> Result<(), ArmError> {
    let Some(header) = header else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".into(),
            state,
        ));
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        return Err(unauthorized(
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format."
                .into(),
            state,
        ));
    };
    let invalid = || {
        unauthorized(
            "InvalidAuthenticationToken",
            "The access token is invalid.".into(),
            state,
        )
    };
    let (signing_input, signature) = token.trim().rsplit_once('.').ok_or_else(invalid)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
    ring::hmac::verify(&state.token_key, signing_input.as_bytes(), &signature)
        .map_err(|_| invalid())?;
    let payload = signing_input.split('.').nth(1).ok_or_else(invalid)?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(invalid)?;
    check_audience(state, &claims)?;
    // `exp` is in whole seconds; `exp_ms` (ours) keeps sub-second lifetimes exact.
    let exp_ms = match claims["exp_ms"].as_u64() {
        Some(ms) => ms,
        None => claims["exp"].as_u64().ok_or_else(invalid)? * 1000,
    };
    let issued_ms = claims["iat_ms"].as_u64().unwrap_or(0);
    let revoked_before = state.tokens_revoked_before_ms.load(Ordering::Relaxed);
    let effective_exp = if issued_ms < revoked_before {
        exp_ms.min(revoked_before - 1)
    } else {
        exp_ms
    };
    if effective_exp <= now {
        return Err(unauthorized(
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                arm_message_time(effective_exp),
                arm_message_time(now)
            ),
            state,
        ));
    }
    Ok(())
}

/// The audiences public ARM accepts, each with and without its trailing slash.
const ARM_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// The `aud` claim must name ARM: one of [`ARM_AUDIENCES`] or this emulator's own ARM
/// endpoint (with or without its trailing slash), exactly, as ARM compares it.
fn check_audience(state: &AppState, claims: &Value) -> Result<(), ArmError> {
    let audience = claims["aud"].as_str().unwrap_or_default();
    let base = state.config.base_url.trim_end_matches('/');
    let own = [format!("{base}/"), base.to_string()];
    if ARM_AUDIENCES.contains(&audience) || own.iter().any(|a| a == audience) {
        return Ok(());
    }
    let allowed = ARM_AUDIENCES
        .iter()
        .map(|a| a.to_string())
        .chain(own)
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(",");
    Err(unauthorized(
        "InvalidAuthenticationTokenAudience",
        format!(
            "The access token has been obtained for wrong audience or resource '{audience}'. \
             It should exactly match with one of the allowed audiences {allowed}."
        ),
        state,
    ))
}

/// Layer body for ARM routes: 401 with ARM's error body unless the bearer token is good.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    match check(&state, header, now_ms()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration` (and the v1 form without `v2.0`).
pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Response {
    let base = &state.config.base_url;
    let t = if tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("organizations")
    {
        state.config.tenant_id.clone()
    } else {
        tenant
    };
    Json(json!({
        "token_endpoint": format!("{base}/{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{t}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
        "kerberos_endpoint": format!("{base}/{t}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "emulator.local",
        "cloud_graph_host_name": "graph.emulator.local",
        "msgraph_host": "graph.emulator.local",
        "rbac_url": "https://pas.emulator.local"
    }))
    .into_response()
}

/// `GET /_github/idtoken?audience=...`: GitHub Actions' id-token endpoint, as a job sees it
/// through `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: the bearer
/// token must be the job's, and the answer is `{"count": n, "value": "<jwt>"}`, an OIDC token
/// from GitHub's issuer for the requested audience and a fixed repository subject.
pub async fn github_id_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if presented != state.config.actions_token {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials: ACTIONS_ID_TOKEN_REQUEST_TOKEN is not this job's token"})),
        )
            .into_response();
    }
    let audience = query
        .get("audience")
        .cloned()
        .unwrap_or_else(|| "https://github.com/datasnap".into());
    let now = now_ms() / 1000;
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = json!({
        "iss": crate::config::GITHUB_ISSUER,
        "aud": audience,
        "sub": "repo:datasnap/datasets:ref:refs/heads/main",
        "repository": "datasnap/datasets",
        "ref": "refs/heads/main",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let tag = ring::hmac::sign(&state.token_key, input.as_bytes());
    let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    Json(json!({"count": 1, "value": jwt})).into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`: no asymmetric keys (tokens are HS256, opaque to clients).
pub async fn jwks() -> Response {
    Json(json!({"keys": []})).into_response()
}

/// `GET /common/discovery/instance`: MSAL's instance discovery, pointing back at us.
pub async fn instance_discovery(State(state): State<AppState>) -> Response {
    let base = &state.config.base_url;
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(base.as_str())
        .to_string();
    Json(json!({
        "tenant_discovery_endpoint": format!("{base}/{}/v2.0/.well-known/openid-configuration", state.config.tenant_id),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
    }))
    .into_response()
}

/// `GET /metadata/endpoints`: the cloud-metadata document Azure CLI and SDKs read to
/// register a custom cloud (`az cloud register --endpoint-resource-manager …`).
pub async fn cloud_metadata(State(state): State<AppState>) -> Response {
    let base = &state.config.base_url;
    Json(json!({
        "galleryEndpoint": format!("{base}/"),
        "graphEndpoint": format!("{base}/"),
        "portalEndpoint": format!("{base}/"),
        "authentication": {
            "loginEndpoint": format!("{base}/"),
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "resourceManager": format!("{base}/"),
        "name": "DatasnapEmulator",
        "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.azure.net"}
    }))
    .into_response()
}
