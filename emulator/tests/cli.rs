//! The process contract: `serve` prints one JSON start line before serving (and the
//! endpoints in it work over HTTPS with the CA file it names); `seed --state FILE`
//! writes the demo's world; `--seed` flags name the group and disk.

mod common;
use common::json_of;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_datasnap-emulator");

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, Value) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("start line");
    let parsed: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("start line {line:?}: {e}"));
    (Running(child), parsed)
}

#[tokio::test]
async fn serve_prints_the_start_line_and_serves_https() {
    let (_child, line) = start(&[
        "--port",
        "0",
        "--seed",
        "--seed-resource-group",
        "data-rg",
        "--seed-disk",
        "images",
        "--seed-disk-size-gb",
        "128",
        "--client-id",
        "my-app",
        "--client-secret",
        "s3cret",
        "--op-duration-ms",
        "0",
    ]);
    for key in [
        "armEndpoint",
        "authorityHost",
        "caCertFile",
        "tenantId",
        "subscriptionId",
        "clientId",
        "clientSecret",
    ] {
        assert!(line[key].is_string(), "{key} in {line}");
    }
    assert_eq!(
        line.as_object().unwrap().len(),
        7,
        "exactly the documented keys"
    );
    let arm = line["armEndpoint"].as_str().unwrap();
    assert!(arm.starts_with("https://127.0.0.1:"));
    assert_eq!(line["clientId"], "my-app");
    let client = common::client_for(std::path::Path::new(line["caCertFile"].as_str().unwrap()));
    let token: Value = json_of(
        client
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                line["authorityHost"].as_str().unwrap(),
                line["tenantId"].as_str().unwrap()
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "my-app"),
                ("client_secret", "s3cret"),
                ("scope", "https://management.azure.com/.default"),
            ]),
    )
    .await;
    let disk: Value = json_of(client
        .get(format!(
            "{arm}/subscriptions/{}/resourceGroups/data-rg/providers/Microsoft.Compute/disks/images?api-version=2025-01-02",
            line["subscriptionId"].as_str().unwrap()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())).await;
    assert_eq!(disk["properties"]["diskSizeGB"], 128);
}

#[tokio::test]
async fn plain_http_mode_for_debugging() {
    let (_child, line) = start(&[
        "--plain-http",
        "--deny-action",
        "Microsoft.Authorization/locks/write",
        "--deny-action=Microsoft.Authorization/locks/delete",
    ]);
    let arm = line["armEndpoint"].as_str().unwrap();
    assert!(arm.starts_with("http://127.0.0.1:"));
    assert!(line["caCertFile"].is_null());
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(
            tokio_rustls::rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                tokio_rustls::rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
        .no_proxy()
        .build()
        .unwrap();
    let health: Value = json_of(client.get(format!("{arm}/_emulator/health"))).await;
    assert_eq!(health["status"], "ok");
    // `--deny-action` (repeatable) sets what `/_emulator/denied-actions` reports.
    let denied: Value = json_of(client.get(format!("{arm}/_emulator/denied-actions"))).await;
    assert_eq!(
        denied["actions"],
        serde_json::json!([
            "Microsoft.Authorization/locks/write",
            "Microsoft.Authorization/locks/delete"
        ])
    );
}

#[test]
fn seed_command_writes_the_state_file() {
    let dir = common::temp_dir("seed-cli");
    let state = dir.join("state.json");
    let out = Command::new(BIN)
        .args([
            "seed",
            "--state",
            state.to_str().unwrap(),
            "--seed-disk",
            "my-data",
            "--seed-location",
            "eastus",
        ])
        .output()
        .expect("seed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let world: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(world["resourceGroups"]["datasets-rg"]["location"], "eastus");
    assert_eq!(world["resources"][0]["body"]["name"], "my-data");
    assert_eq!(
        world["resources"][0]["body"]["properties"]["diskSizeGB"],
        64
    );
    // A seed meets the rules a PUT would: an Azure region, a size the SKU allows.
    for (flag, value, says) in [
        (
            "--seed-location",
            "marsnorth",
            "LocationNotAvailableForResourceGroup",
        ),
        ("--seed-disk-size-gb", "40000", "InvalidParameter"),
    ] {
        let out = Command::new(BIN)
            .args(["seed", "--state", state.to_str().unwrap(), flag, value])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{flag}"
        );
    }
    let bad = Command::new(BIN)
        .args(["serve", "--bogus"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown argument '--bogus'"));
}
