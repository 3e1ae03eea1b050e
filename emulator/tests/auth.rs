//! The token endpoint, OIDC discovery, and ARM's 401s (missing, wrong, expired token).

mod common;

use common::Emu;
use reqwest::Method;
use serde_json::Value;

async fn token_request(emu: &Emu, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = emu
        .client
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            emu.base, emu.state.config.tenant_id
        ))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn token_endpoint_flows() {
    let emu = Emu::start().await;
    let cfg = emu.state.config.clone();
    let scope = "https://management.azure.com/.default";
    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["ext_expires_in"].is_number());
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);

    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", "wrong"),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS7000215"));
    assert_eq!(body["error_codes"][0], 7000215);

    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "someone-else"),
            ("client_secret", &cfg.client_secret),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "unauthorized_client")
    );

    // Client assertion (workload identity / GitHub OIDC): any well-formed JWT for our client id.
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOngifQ.c2ln";
    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_assertion", assertion),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_assertion", "not-a-jwt"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = token_request(
        &emu,
        &[("grant_type", "password"), ("client_id", &cfg.client_id)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "unsupported_grant_type")
    );
    let (status, body) = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
            ("scope", "user.read"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_scope")
    );
    let resp = emu
        .client
        .post(format!("{}/other-tenant/oauth2/v2.0/token", emu.base))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    emu.stop().await;
}

#[tokio::test]
async fn openid_configuration_points_at_the_emulator() {
    let emu = Emu::start().await;
    let tenant = emu.state.config.tenant_id.clone();
    let doc: Value = emu
        .get_json(&format!("/{tenant}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/{tenant}/oauth2/v2.0/token", emu.base)
    );
    assert_eq!(doc["issuer"], format!("{}/{tenant}/v2.0", emu.base));
    assert!(doc["authorization_endpoint"]
        .as_str()
        .unwrap()
        .starts_with(&emu.base));
    let instance: Value = emu
        .get_json("/common/discovery/instance?api-version=1.1")
        .await;
    assert!(instance["tenant_discovery_endpoint"]
        .as_str()
        .unwrap()
        .starts_with(&emu.base));
    let cloud: Value = emu
        .get_json("/metadata/endpoints?api-version=2019-05-01")
        .await;
    assert_eq!(cloud["resourceManager"], format!("{}/", emu.base));
    assert_eq!(
        cloud["authentication"]["loginEndpoint"],
        format!("{}/", emu.base)
    );
    emu.stop().await;
}

#[tokio::test]
async fn arm_rejects_missing_wrong_and_expired_tokens() {
    let emu = Emu::start_with(|c| c.token_ttl_secs = 1).await;
    let path = emu.group_path("rg");
    let r = emu.send(Method::GET, &path, None, None).await;
    assert_eq!(r.refused(), (401, "AuthenticationFailed"));
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer authorization_uri="));
    let r = emu.send(Method::GET, &path, None, Some("garbage")).await;
    assert_eq!(r.refused(), (401, "InvalidAuthenticationToken"));
    // A token with a forged signature.
    let mut forged = emu.token.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let r = emu.send(Method::GET, &path, None, Some(&forged)).await;
    assert_eq!(r.refused(), (401, "InvalidAuthenticationToken"));
    // The good token works, then expires.
    assert_eq!(emu.get(&path).await.status, 404);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = emu.get(&path).await;
    assert_eq!(r.refused(), (401, "ExpiredAuthenticationToken"));
    assert!(r.message().contains("is earlier than current UTC time"));
    // The token endpoint and control API need no token.
    assert_eq!(emu.control(Method::GET, "/health", None).await.status, 200);
    emu.stop().await;
}

/// A token for `audience`, through the v2 form (`scope`) or the v1 form (`resource`).
async fn token_for(emu: &Emu, key: &str, audience: &str) -> String {
    let cfg = emu.state.config.clone();
    let (status, body) = token_request(
        emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
            (key, audience),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn arm_accepts_only_arm_audiences() {
    let emu = Emu::start().await;
    let path = emu.group_path("rg");
    let own = emu.base.clone();
    for scope in [
        "https://management.azure.com/.default",
        "https://management.core.windows.net//.default",
        &format!("{own}/.default"),
    ] {
        let token = token_for(&emu, "scope", scope).await;
        let r = emu.send(Method::GET, &path, None, Some(&token)).await;
        assert_eq!(r.status, 404, "{scope}: {:?}", r.body);
    }
    for resource in [
        "https://management.core.windows.net",
        "https://management.azure.com",
        own.as_str(),
    ] {
        let token = token_for(&emu, "resource", resource).await;
        let r = emu.send(Method::GET, &path, None, Some(&token)).await;
        assert_eq!(r.status, 404, "{resource}: {:?}", r.body);
    }
    for (key, audience, aud) in [
        (
            "scope",
            "https://graph.microsoft.com/.default",
            "https://graph.microsoft.com/",
        ),
        (
            "resource",
            "https://vault.azure.net",
            "https://vault.azure.net",
        ),
        (
            "resource",
            "https://management.azure.com/extra",
            "https://management.azure.com/extra",
        ),
    ] {
        let token = token_for(&emu, key, audience).await;
        let r = emu.send(Method::GET, &path, None, Some(&token)).await;
        assert_eq!(
            r.refused(),
            (401, "InvalidAuthenticationTokenAudience"),
            "{audience}"
        );
        assert!(
            r.message().starts_with(&format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. \
                 It should exactly match with one of the allowed audiences \
                 'https://management.core.windows.net/','https://management.core.windows.net',\
                 'https://management.azure.com/','https://management.azure.com'"
            )),
            "{}",
            r.message()
        );
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer authorization_uri="));
    }
    emu.stop().await;
}
