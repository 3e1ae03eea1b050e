//! Runs the ARM client's LRO poller and retry policy against Microsoft's AutoRest test server
//! (`@microsoft.azure/autorest.testserver`, pinned in tests/lro-testserver/package.json).
//!
//! Needs `node` and `npm ci --prefix provider/tests/lro-testserver`; without them the test
//! says so and passes (set `DATASNAP_REQUIRE_LRO_TESTSERVER=1` to make that a failure). The
//! server is plain http and keeps per-scenario state in cookies, so the test brings a small
//! cookie-keeping transport; everything else is the production pipeline and poller.

use datasnap_provider::azure::{
    ArmClient, AzureError, CancelToken, ClientOptions, FinalState, HttpRequest, HttpResponse,
    HttpTransport, OpContext, RetryPolicy, TransportError,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// reqwest plus a cookie jar (the test server tracks scenario progress in cookies).
struct CookieTransport {
    client: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
}

#[async_trait::async_trait]
impl HttpTransport for CookieTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = self.client.request(request.method.clone(), &request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let cookie = {
            let jar = self.jar.lock().unwrap();
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        if !cookie.is_empty() {
            builder = builder.header("cookie", cookie);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(|e| TransportError {
            message: e.to_string(),
            connect: e.is_connect(),
        })?;
        {
            let mut jar = self.jar.lock().unwrap();
            for v in response.headers().get_all("set-cookie") {
                let text = String::from_utf8_lossy(v.as_bytes()).to_string();
                let first = text.split(';').next().unwrap_or_default();
                if let Some((name, value)) = first.split_once('=') {
                    let expired = text.contains("1970") || value.is_empty();
                    if expired {
                        jar.remove(name.trim());
                    } else {
                        jar.insert(name.trim().to_string(), value.trim().to_string());
                    }
                }
            }
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).to_string(),
                )
            })
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError {
                message: e.to_string(),
                connect: false,
            })?
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Succeeds; for PUT/PATCH the final resource reads `provisioningState: Succeeded` (or has none).
    Succeeds,
    /// Succeeds with this top-level field in the final body.
    SucceedsWith(&'static str),
    /// Fails with an error (Failed/Canceled status, HTTP error, or an unreadable answer).
    Fails,
}

use Expect::*;

/// (name, method, path, final state, expectation)
fn scenarios() -> Vec<(&'static str, Method, &'static str, FinalState, Expect)> {
    let put = Method::PUT;
    let patch = Method::PATCH;
    let del = Method::DELETE;
    let post = Method::POST;
    use FinalState::{
        AsyncOperation as Async, Location as Loc, None as Nothing, ResourceGet as Get,
    };
    vec![
        // LROs (happy paths)
        (
            "LROPutInlineComplete",
            put.clone(),
            "/lro/put/200/succeeded",
            Get,
            Succeeds,
        ),
        (
            "LROPatchInlineCompleteIgnoreHeaders",
            patch.clone(),
            "/lro/patch/200/succeeded/ignoreheaders",
            Get,
            Succeeds,
        ),
        (
            "LROPatch201WithAsyncHeader",
            patch.clone(),
            "/lro/patch/201/retry/onlyAsyncHeader",
            Get,
            Succeeds,
        ),
        (
            "LROPatch202WithAsyncAndLocationHeader",
            patch.clone(),
            "/lro/patch/202/retry/asyncAndLocationHeader",
            Get,
            Succeeds,
        ),
        (
            "LROPutInlineComplete201",
            put.clone(),
            "/lro/put/201/succeeded",
            Get,
            Succeeds,
        ),
        (
            "LROPostAndGetList",
            post.clone(),
            "/lro/list",
            Loc,
            Succeeds,
        ),
        (
            "LROPut200InlineCompleteNoState",
            put.clone(),
            "/lro/put/200/succeeded/nostate",
            Get,
            Succeeds,
        ),
        (
            "LROPut202Retry200",
            put.clone(),
            "/lro/put/202/retry/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutSucceededWithBody",
            put.clone(),
            "/lro/put/201/creating/succeeded/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutSucceededNoBody",
            put.clone(),
            "/lro/put/200/updating/succeeded/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutFailed",
            put.clone(),
            "/lro/put/201/created/failed/200",
            Get,
            Fails,
        ),
        (
            "LROPutCanceled",
            put.clone(),
            "/lro/put/200/accepted/canceled/200",
            Get,
            Fails,
        ),
        (
            "LROPutNoHeaderInRetry",
            put.clone(),
            "/lro/put/noheader/202/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutAsyncRetrySucceeded",
            put.clone(),
            "/lro/putasync/retry/succeeded",
            Get,
            Succeeds,
        ),
        (
            "LROPutAsyncNoRetrySucceeded",
            put.clone(),
            "/lro/putasync/noretry/succeeded",
            Get,
            Succeeds,
        ),
        (
            "LROPutAsyncRetryFailed",
            put.clone(),
            "/lro/putasync/retry/failed",
            Get,
            Fails,
        ),
        (
            "LROPutAsyncNoRetryCanceled",
            put.clone(),
            "/lro/putasync/noretry/canceled",
            Get,
            Fails,
        ),
        (
            "LROPutAsyncNoHeaderInRetry",
            put.clone(),
            "/lro/putasync/noheader/201/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutNonResourceInRetry",
            put.clone(),
            "/lro/putnonresource/202/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutNonResourceAsyncInRetry",
            put.clone(),
            "/lro/putnonresourceasync/202/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutSubResourceInRetry",
            put.clone(),
            "/lro/putsubresource/202/200",
            Get,
            Succeeds,
        ),
        (
            "LROPutSubResourceAsyncInRetry",
            put.clone(),
            "/lro/putsubresourceasync/202/200",
            Get,
            Succeeds,
        ),
        (
            "LRODeleteProvisioningSucceededWithBody",
            del.clone(),
            "/lro/delete/provisioning/202/accepted/200/succeeded",
            Nothing,
            Succeeds,
        ),
        (
            "LRODeleteProvisioningFailed",
            del.clone(),
            "/lro/delete/provisioning/202/deleting/200/failed",
            Nothing,
            Fails,
        ),
        (
            "LRODeleteProvisioningCanceled",
            del.clone(),
            "/lro/delete/provisioning/202/deleting/200/canceled",
            Nothing,
            Fails,
        ),
        (
            "LRODeleteInlineComplete",
            del.clone(),
            "/lro/delete/204/succeeded",
            Nothing,
            Succeeds,
        ),
        (
            "LRODelete200",
            del.clone(),
            "/lro/delete/202/retry/200",
            Nothing,
            Succeeds,
        ),
        (
            "LRODelete204",
            del.clone(),
            "/lro/delete/202/noretry/204",
            Nothing,
            Succeeds,
        ),
        (
            "LRODeleteNoHeaderInRetry",
            del.clone(),
            "/lro/delete/noheader",
            Nothing,
            Succeeds,
        ),
        (
            "LRODeleteAsyncNoHeaderInRetry",
            del.clone(),
            "/lro/deleteasync/noheader/202/204",
            Nothing,
            Succeeds,
        ),
        (
            "LRODeleteAsyncRetrySucceeded",
            del.clone(),
            "/lro/deleteasync/retry/succeeded",
            Nothing,
            Succeeds,
        ),
        (
            "LRODeleteAsyncNoRetrySucceeded",
            del.clone(),
            "/lro/deleteasync/noretry/succeeded",
            Nothing,
            Succeeds,
        ),
        (
            "LRODeleteAsyncRetryFailed",
            del.clone(),
            "/lro/deleteasync/retry/failed",
            Nothing,
            Fails,
        ),
        (
            "LRODeleteAsyncRetryCanceled",
            del.clone(),
            "/lro/deleteasync/retry/canceled",
            Nothing,
            Fails,
        ),
        (
            "LROPostSuccededWithBody",
            post.clone(),
            "/lro/post/payload/200",
            Loc,
            SucceedsWith("id"),
        ),
        (
            "LROPost200",
            post.clone(),
            "/lro/post/202/retry/200",
            Loc,
            Succeeds,
        ),
        (
            "LROPostSuccededNoBody",
            post.clone(),
            "/lro/post/202/noretry/204",
            Loc,
            Succeeds,
        ),
        (
            "LROPostDoubleHeadersFinalLocationGet",
            post.clone(),
            "/lro/LROPostDoubleHeadersFinalLocationGet",
            Loc,
            SucceedsWith("id"),
        ),
        (
            "LROPostDoubleHeadersFinalAzureHeaderGet",
            post.clone(),
            "/lro/LROPostDoubleHeadersFinalAzureHeaderGet",
            Async,
            SucceedsWith("id"),
        ),
        (
            "LROPostDoubleHeadersFinalAzureHeaderGetDefault",
            post.clone(),
            "/lro/LROPostDoubleHeadersFinalAzureHeaderGetDefault",
            Loc,
            SucceedsWith("id"),
        ),
        (
            "LROPostAsyncRetrySucceeded",
            post.clone(),
            "/lro/postasync/retry/succeeded",
            Loc,
            Succeeds,
        ),
        (
            "LROPostAsyncNoRetrySucceeded",
            post.clone(),
            "/lro/postasync/noretry/succeeded",
            Loc,
            Succeeds,
        ),
        (
            "LROPostAsyncRetryFailed",
            post.clone(),
            "/lro/postasync/retry/failed",
            Loc,
            Fails,
        ),
        (
            "LROPostAsyncRetryCanceled",
            post.clone(),
            "/lro/postasync/retry/canceled",
            Loc,
            Fails,
        ),
        // LROs whose first try or a poll answers 500 once (the retry policy must absorb it)
        (
            "LRORetryPutSucceededWithBody",
            put.clone(),
            "/lro/retryerror/put/201/creating/succeeded/200",
            Get,
            Succeeds,
        ),
        (
            "LRORetryErrorPutAsyncSucceeded",
            put.clone(),
            "/lro/retryerror/putasync/retry/succeeded",
            Get,
            Succeeds,
        ),
        (
            "LRORetryErrorDelete202Accepted200Succeeded",
            del.clone(),
            "/lro/retryerror/delete/provisioning/202/accepted/200/succeeded",
            Nothing,
            Succeeds,
        ),
        (
            "LRORetryErrorDelete202Retry200Succeeded",
            del.clone(),
            "/lro/retryerror/delete/202/retry/200",
            Nothing,
            Succeeds,
        ),
        (
            "LRORetryErrorDeleteAsyncRetrySucceeded",
            del.clone(),
            "/lro/retryerror/deleteasync/retry/succeeded",
            Nothing,
            Succeeds,
        ),
        (
            "LRORetryErrorPost202Retry200Succeeded",
            post.clone(),
            "/lro/retryerror/post/202/retry/200",
            Loc,
            Succeeds,
        ),
        (
            "LRORetryErrorPostAsyncRetrySucceeded",
            post.clone(),
            "/lro/retryerror/postasync/retry/succeeded",
            Loc,
            Succeeds,
        ),
        // Non-retryable errors
        (
            "LRONonRetryPut400",
            put.clone(),
            "/lro/nonretryerror/put/400",
            Get,
            Fails,
        ),
        (
            "LRONonRetryPut201Creating400",
            put.clone(),
            "/lro/nonretryerror/put/201/creating/400",
            Get,
            Fails,
        ),
        (
            "LRONonRetryPut201Creating400InvalidJson",
            put.clone(),
            "/lro/nonretryerror/put/201/creating/400/invalidjson",
            Get,
            Fails,
        ),
        (
            "LRONonRetryPutAsyncRetry400",
            put.clone(),
            "/lro/nonretryerror/putasync/retry/400",
            Get,
            Fails,
        ),
        (
            "LRONonRetryDelete400",
            del.clone(),
            "/lro/nonretryerror/delete/400",
            Nothing,
            Fails,
        ),
        (
            "LRONonRetryDelete202Retry400",
            del.clone(),
            "/lro/nonretryerror/delete/202/retry/400",
            Nothing,
            Fails,
        ),
        (
            "LRONonRetryDeleteAsyncRetry400",
            del.clone(),
            "/lro/nonretryerror/deleteasync/retry/400",
            Nothing,
            Fails,
        ),
        (
            "LRONonRetryPost400",
            post.clone(),
            "/lro/nonretryerror/post/400",
            Loc,
            Fails,
        ),
        (
            "LRONonRetryPost202Retry400",
            post.clone(),
            "/lro/nonretryerror/post/202/retry/400",
            Loc,
            Fails,
        ),
        (
            "LRONonRetryPostAsyncRetry400",
            post.clone(),
            "/lro/nonretryerror/postasync/retry/400",
            Loc,
            Fails,
        ),
        // Malformed answers
        (
            "LROErrorPut201NoProvisioningStatePayload",
            put.clone(),
            "/lro/error/put/201/noprovisioningstatepayload",
            Get,
            Succeeds,
        ),
        (
            "LROErrorPutAsyncNoPollingStatus",
            put.clone(),
            "/lro/error/putasync/retry/nostatus",
            Get,
            Fails,
        ),
        (
            "LROErrorPutAsyncNoPollingStatusPayload",
            put.clone(),
            "/lro/error/putasync/retry/nostatuspayload",
            Get,
            Fails,
        ),
        (
            "LROErrorDeleteNoLocation",
            del.clone(),
            "/lro/error/delete/204/nolocation",
            Nothing,
            Succeeds,
        ),
        (
            "LROErrorDeleteAsyncNoPollingStatus",
            del.clone(),
            "/lro/error/deleteasync/retry/nostatus",
            Nothing,
            Fails,
        ),
        (
            "LROErrorPostNoLocation",
            post.clone(),
            "/lro/error/post/202/nolocation",
            Loc,
            Fails,
        ),
        (
            "LROErrorPostAsyncNoPollingPayload",
            post.clone(),
            "/lro/error/postasync/retry/nopayload",
            Loc,
            Fails,
        ),
        (
            "LROErrorPut200InvalidJson",
            put.clone(),
            "/lro/error/put/200/invalidjson",
            Get,
            Fails,
        ),
        (
            "LROErrorPutAsyncInvalidHeader",
            put.clone(),
            "/lro/error/putasync/retry/invalidheader",
            Get,
            Fails,
        ),
        (
            "LROErrorPutAsyncInvalidJsonPolling",
            put.clone(),
            "/lro/error/putasync/retry/invalidjsonpolling",
            Get,
            Fails,
        ),
        (
            "LROErrorDelete202RetryInvalidHeader",
            del.clone(),
            "/lro/error/delete/202/retry/invalidheader",
            Nothing,
            Fails,
        ),
        (
            "LROErrorDeleteAsyncInvalidHeader",
            del.clone(),
            "/lro/error/deleteasync/retry/invalidheader",
            Nothing,
            Fails,
        ),
        (
            "LROErrorDeleteAsyncInvalidJsonPolling",
            del.clone(),
            "/lro/error/deleteasync/retry/invalidjsonpolling",
            Nothing,
            Fails,
        ),
        (
            "LROErrorPost202RetryInvalidHeader",
            post.clone(),
            "/lro/error/post/202/retry/invalidheader",
            Loc,
            Fails,
        ),
        (
            "LROErrorPostAsyncInvalidHeader",
            post.clone(),
            "/lro/error/postasync/retry/invalidheader",
            Loc,
            Fails,
        ),
        (
            "LROErrorPostAsyncInvalidJsonPolling",
            post.clone(),
            "/lro/error/postasync/retry/invalidjsonpolling",
            Loc,
            Fails,
        ),
        // Plain retries (one failure, then 200)
        (
            "HttpRetry408Head",
            Method::HEAD,
            "/http/retry/408",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry502Get",
            Method::GET,
            "/http/retry/502",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry502Options",
            Method::OPTIONS,
            "/http/retry/502",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry500Put",
            put.clone(),
            "/http/retry/500",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry500Patch",
            patch.clone(),
            "/http/retry/500",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry503Post",
            post.clone(),
            "/http/retry/503",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry503Delete",
            del.clone(),
            "/http/retry/503",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry504Put",
            put.clone(),
            "/http/retry/504",
            Nothing,
            Succeeds,
        ),
        (
            "HttpRetry504Patch",
            patch,
            "/http/retry/504",
            Nothing,
            Succeeds,
        ),
    ]
}

fn server_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lro-testserver")
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("DATASNAP_REQUIRE_LRO_TESTSERVER").is_none(),
        "LRO test server unavailable: {why}"
    );
    eprintln!("skipping: {why}");
}

#[tokio::test]
async fn autorest_testserver_lro_and_retry_scenarios() {
    let cli =
        server_dir().join("node_modules/@microsoft.azure/autorest.testserver/dist/cli/cli.js");
    if !cli.is_file() {
        return skip("run `npm ci --prefix provider/tests/lro-testserver` first");
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let spawned = tokio::process::Command::new("node")
        .arg(&cli)
        .args(["run", "--port", &port.to_string()])
        .current_dir(server_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let Ok(mut server) = spawned else {
        return skip("`node` is not installed");
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the test server did not start on {base}");

    datasnap_provider::azure::client::ensure_crypto_provider();
    let transport = Arc::new(CookieTransport {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jar: Mutex::new(BTreeMap::new()),
    });
    let options = ClientOptions {
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
        min_poll_interval: Duration::ZERO,
        default_poll_interval: Duration::ZERO,
        transport: Some(transport.clone()),
        ..ClientOptions::for_tests()
    };
    let client = ArmClient::unauthenticated(&base, "sub", options).unwrap();

    let mut results = Vec::new();
    for (name, method, path, final_state, expect) in scenarios() {
        transport.jar.lock().unwrap().clear();
        let body =
            matches!(method, Method::PUT | Method::PATCH).then(|| json!({"location": "West US"}));
        let ctx = OpContext::new(Duration::from_secs(30), CancelToken::new());
        let out = client
            .execute(method.clone(), path, body.as_ref(), final_state, &ctx)
            .await;
        let pass = match (&out, expect) {
            (Ok(v), Succeeds) => v.as_ref().is_none_or(|v| {
                v.pointer("/properties/provisioningState")
                    .is_none_or(|s| s == "Succeeded")
            }),
            (Ok(v), SucceedsWith(field)) => v.as_ref().is_some_and(|v| v.get(field).is_some()),
            (Err(e), Fails) => {
                !matches!(e, AzureError::Timeout { .. } | AzureError::Transport { .. })
            }
            _ => false,
        };
        let detail = match &out {
            Ok(Some(v)) => format!("ok {}", truncate(&v.to_string())),
            Ok(None) => "ok (no body)".to_string(),
            Err(e) => format!("error {}", truncate(&e.to_string())),
        };
        results.push((name, method, path, pass, detail));
    }

    // The server's own coverage counters for the scenarios we ran.
    let mut coverage: BTreeMap<String, i64> = BTreeMap::new();
    for report in ["/report", "/report/azure", "/report/optional"] {
        if let Ok(r) = reqwest::get(format!("{base}{report}")).await {
            if let Ok(Value::Object(m)) = r.json::<Value>().await {
                for (k, v) in m {
                    *coverage.entry(k).or_default() += v.as_i64().unwrap_or(0);
                }
            }
        }
    }
    let _ = server.start_kill();

    let mut failed = Vec::new();
    println!("| scenario | request | ours | server coverage | outcome |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, method, path, pass, detail) in &results {
        let cov = coverage
            .get(*name)
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "| {name} | {method} {path} | {} | {cov} | {} |",
            if *pass { "pass" } else { "FAIL" },
            detail.replace('|', "/")
        );
        if !pass {
            failed.push(*name);
        }
    }
    println!(
        "{} passed, {} failed",
        results.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "scenarios failed: {failed:?}");
}

fn truncate(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.len() > 110 {
        let mut end = 110;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s
    }
}
