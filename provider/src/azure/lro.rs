//! The one long-running-operation poller, following ARM's "Track asynchronous Azure
//! operations" rules.
//!
//! Headers followed, in order of preference: `Azure-AsyncOperation` (poll its `status`), then
//! `Location` (poll until it stops answering 202), then the resource itself (a 200/201 whose
//! `provisioningState` is not terminal, or a 202 with no headers, as in DiskRP's own
//! examples). A relative poll URL is made absolute and given an api-version when it lacks one.
//! Between polls we wait `max(Retry-After, min_poll_interval)` (`default_poll_interval` when
//! there is no Retry-After). Each of the three ways is a probe for the one polling primitive,
//! [`crate::azure::poll::poll_until`], which owns the waits, the deadline, cancel and progress. Status values parse case-insensitively and unknown ones are kept
//! and treated as still running. `Failed` and `Canceled` become
//! [`AzureError::OperationFailed`] with Azure's `error.code` and `error.message`. After
//! success, PUT and PATCH read the resource with a final GET.
//!
//! Also here, on top of the poller: `write_resource` (PUT or PATCH a typed body, follow it,
//! decode the resource) and `execute` (any method on any URL, JSON in and out).

use crate::azure::client::{decode, encode, ArmClient, HttpResponse, Op, OpContext, API_VERSION};
use crate::azure::errors::{error_from_value, AzureError};
use crate::azure::id::ResourceId;
use crate::azure::poll::{poll_until, Probe};
use crate::azure::retry;
use reqwest::Method;
use std::time::Duration;

/// An operation's state, from `status` (Azure-AsyncOperation) or `provisioningState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    Succeeded,
    Failed,
    Canceled,
    /// `InProgress`, `Accepted`, `Running`, `Updating`, `Creating`, ... or any unknown value.
    Running(String),
}

impl OperationStatus {
    pub fn parse(s: &str) -> OperationStatus {
        match s.trim().to_ascii_lowercase().as_str() {
            "succeeded" => OperationStatus::Succeeded,
            "failed" => OperationStatus::Failed,
            "canceled" | "cancelled" => OperationStatus::Canceled,
            _ => OperationStatus::Running(s.to_string()),
        }
    }

    pub fn is_terminal(&self) -> bool {
        !matches!(self, OperationStatus::Running(_))
    }
}

/// What the operation's result is once it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalState {
    /// GET the original resource URL (PUT, PATCH).
    ResourceGet,
    /// The last answer of the `Location` URL, or a GET of it (POST, `final-state-via: location`).
    Location,
    /// The body of the final Azure-AsyncOperation poll.
    AsyncOperation,
    /// Nothing (DELETE).
    None,
}

/// The body as JSON: `Null` when empty, an error when it is not JSON.
fn json_body(response: &HttpResponse, op: &Op) -> Result<serde_json::Value, AzureError> {
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&response.body).map_err(|e| AzureError::Decode {
        what: op.name.clone(),
        message: format!("HTTP {} with a body that is not JSON: {e}", response.status),
    })
}

/// `properties.provisioningState` (or a top-level one) of a resource body.
fn provisioning_state(body: &serde_json::Value) -> Option<OperationStatus> {
    body.get("properties")
        .and_then(|p| p.get("provisioningState"))
        .or_else(|| body.get("provisioningState"))
        .and_then(|v| v.as_str())
        .map(OperationStatus::parse)
}

/// The error for a `Failed`/`Canceled` status body (`error` at the top or under `properties`).
fn failure(status: &OperationStatus, body: &serde_json::Value, what: &str) -> AzureError {
    let err = body
        .get("error")
        .or_else(|| body.get("properties").and_then(|p| p.get("error")))
        .map(error_from_value)
        .unwrap_or_default();
    let (default_code, verb) = match status {
        OperationStatus::Canceled => ("Canceled", "was canceled"),
        _ => ("Failed", "failed"),
    };
    AzureError::OperationFailed {
        code: err.code.unwrap_or_else(|| default_code.to_string()),
        message: err
            .message
            .unwrap_or_else(|| format!("{what} {verb} in Azure without an error message")),
    }
}

impl ArmClient {
    /// Send `method` to `path_or_url` (a path is joined to the ARM endpoint; a missing
    /// api-version is added) with an optional JSON body, through the pipeline, and follow the
    /// long-running operation it starts. Returns the final JSON for `final_state` (`None` for
    /// [`FinalState::None`] or an empty body). The generic form of the typed operations, for
    /// resource types without one and for Microsoft's LRO test server.
    pub async fn execute(
        &self,
        method: Method,
        path_or_url: &str,
        body: Option<&serde_json::Value>,
        final_state: FinalState,
        ctx: &OpContext,
    ) -> Result<Option<serde_json::Value>, AzureError> {
        let url = self.normalize_url(path_or_url, API_VERSION);
        let op = Op::new(format!(
            "{method} {}",
            path_or_url.split('?').next().unwrap_or_default()
        ));
        let body = body.map(|b| b.to_string().into_bytes());
        let initial = self.send(method.clone(), &url, body, ctx, &op).await?;
        let last = self
            .poll_lro(initial, method, &url, final_state, API_VERSION, ctx, &op)
            .await?;
        match last {
            Some(r) => Ok(Some(json_body(&r, &op)?).filter(|v| !v.is_null())),
            None => Ok(None),
        }
    }

    /// PUT or PATCH `body` to the resource `id`, follow the operation it starts and decode
    /// the resource it ends with (with a final GET when the last answer has no body). For a
    /// PUT, a failure after Azure accepted the request is [`AzureError::AfterAccepted`], so
    /// the caller can record a partial create.
    pub(crate) async fn write_resource<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        id: &ResourceId,
        body: &B,
        ctx: &OpContext,
        op: &Op,
    ) -> Result<T, AzureError> {
        let url = self.resource_url(id);
        let initial = self
            .send(method.clone(), &url, Some(encode(body, &op.name)?), ctx, op)
            .await?;
        let is_put = method == Method::PUT;
        let followed = async {
            let last = self
                .poll_lro(
                    initial,
                    method,
                    &url,
                    FinalState::ResourceGet,
                    API_VERSION,
                    ctx,
                    op,
                )
                .await?;
            match last {
                Some(r) => decode(&r, &op.name),
                None => self.get_json(&url, ctx, op).await,
            }
        }
        .await;
        match followed {
            Err(e) if is_put => Err(e.after_accepted(id)),
            other => other,
        }
    }

    /// The wait before the next poll, from the Retry-After headers of the last answer.
    fn poll_delay(&self, answer: &HttpResponse) -> Duration {
        let o = self.options();
        retry::retry_after(&answer.headers)
            .unwrap_or(o.default_poll_interval)
            .max(o.min_poll_interval)
    }

    /// Follow the operation that `initial` (the answer to `method` on `resource_url`) started,
    /// until it ends; return the final answer for `final_state` (`None` for [`FinalState::None`]).
    // The arguments are the operation's identity (method, URL, final state, api-version) plus
    // the usual context; bundling them would only move the list elsewhere.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn poll_lro(
        &self,
        initial: HttpResponse,
        method: Method,
        resource_url: &str,
        final_state: FinalState,
        api_version: &str,
        ctx: &OpContext,
        op: &Op,
    ) -> Result<Option<HttpResponse>, AzureError> {
        let async_url = initial
            .header("azure-asyncoperation")
            .map(|u| self.normalize_url(u, api_version));
        let location = initial
            .header("location")
            .map(|u| self.normalize_url(u, api_version));
        let first_delay = self.poll_delay(&initial);
        let initial_body = json_body(&initial, op)?;
        let is_delete = method == Method::DELETE;
        let mut last_location_response: Option<HttpResponse> = None;
        let mut async_body = serde_json::Value::Null;

        // 0. A 200/201 that already reads terminal is done, whatever poll headers it carries.
        if matches!(initial.status, 200 | 201) {
            match provisioning_state(&initial_body) {
                Some(OperationStatus::Succeeded) => {
                    return Ok((final_state != FinalState::None).then_some(initial));
                }
                Some(s @ (OperationStatus::Failed | OperationStatus::Canceled)) => {
                    return Err(failure(&s, &initial_body, &op.name));
                }
                _ => {}
            }
        }

        if let Some(url) = &async_url {
            // 1. Azure-AsyncOperation: poll `status`.
            async_body = poll_until(
                ctx,
                op,
                Probe::again((), first_delay),
                move |()| async move {
                    let response = self.send(Method::GET, url, None, ctx, op).await?;
                    let delay = self.poll_delay(&response);
                    let body = json_body(&response, op)?;
                    let Some(status) = body.get("status").and_then(|s| s.as_str()) else {
                        return Err(AzureError::Decode {
                            what: format!("the status of {}", op.name),
                            message: "the Azure-AsyncOperation answer has no `status`".into(),
                        });
                    };
                    let status = OperationStatus::parse(status);
                    let progress = body
                        .get("percentComplete")
                        .and_then(|p| p.as_f64())
                        .map(|p| format!("{} ... {p:.0}%", op.name));
                    let probe = match status {
                        OperationStatus::Succeeded => Probe::done(body),
                        OperationStatus::Failed | OperationStatus::Canceled => {
                            return Err(failure(&status, &body, &op.name));
                        }
                        OperationStatus::Running(_) => Probe::again((), delay),
                    };
                    Ok(probe.reporting(progress))
                },
            )
            .await?;
        } else if let (Some(url), 202) = (&location, initial.status) {
            // 2. Location: poll until it stops answering 202 (it may move the Location).
            let first = Probe::again(url.clone(), first_delay);
            let last = poll_until(ctx, op, first, move |url: String| async move {
                let response = match self.send(Method::GET, &url, None, ctx, op).await {
                    // Only the resource's own URL answering 404 means "deleted"; a 404 from an
                    // operation URL is a broken poll and stays an error.
                    Err(e) if is_delete && url == resource_url && e.is_not_found() => {
                        return Ok(Probe::done(None));
                    }
                    other => other?,
                };
                let delay = self.poll_delay(&response);
                let url = match response.header("location") {
                    Some(next) => self.normalize_url(next, api_version),
                    None => url,
                };
                if response.status == 202 {
                    return Ok(Probe::again(url, delay));
                }
                let body = json_body(&response, op)?;
                match provisioning_state(&body) {
                    Some(s @ (OperationStatus::Failed | OperationStatus::Canceled)) => {
                        Err(failure(&s, &body, &op.name))
                    }
                    Some(OperationStatus::Running(_)) if response.status != 204 => {
                        Ok(Probe::again(url, delay))
                    }
                    _ => Ok(Probe::done(Some(response))),
                }
            })
            .await?;
            match last {
                Some(response) => last_location_response = Some(response),
                None => return Ok(None),
            }
        } else {
            // 3. The resource itself: a non-terminal provisioningState, or a bare 202.
            let status = provisioning_state(&initial_body);
            if let Some(s @ (OperationStatus::Failed | OperationStatus::Canceled)) = &status {
                return Err(failure(s, &initial_body, &op.name));
            }
            let running = match &status {
                Some(s) => !s.is_terminal(),
                None => initial.status == 202,
            };
            let pollable = matches!(method, Method::PUT | Method::PATCH | Method::DELETE);
            if running && !pollable {
                return Err(AzureError::Decode {
                    what: op.name.clone(),
                    message: format!(
                        "HTTP {} without an Azure-AsyncOperation or Location header to poll",
                        initial.status
                    ),
                });
            }
            if !running {
                if is_delete {
                    return Ok(None);
                }
                if final_state == FinalState::ResourceGet
                    && initial.status != 202
                    && initial_body.is_object()
                {
                    // Finished on the first answer, which is the resource.
                    return Ok(Some(initial));
                }
            } else {
                let first = Probe::again((), first_delay);
                return poll_until(ctx, op, first, move |()| async move {
                    let response = match self.send(Method::GET, resource_url, None, ctx, op).await {
                        Err(e) if is_delete && e.is_not_found() => return Ok(Probe::done(None)),
                        other => other?,
                    };
                    let delay = self.poll_delay(&response);
                    let body = json_body(&response, op)?;
                    match provisioning_state(&body) {
                        Some(s @ (OperationStatus::Failed | OperationStatus::Canceled)) => {
                            return Err(failure(&s, &body, &op.name));
                        }
                        // A DELETE is done when the resource is gone, not when it reads Succeeded.
                        _ if is_delete => return Ok(Probe::again((), delay)),
                        Some(OperationStatus::Running(_)) => return Ok(Probe::again((), delay)),
                        _ => {}
                    }
                    Ok(Probe::done(match final_state {
                        FinalState::ResourceGet | FinalState::Location => Some(response),
                        _ => None,
                    }))
                })
                .await;
            }
        }

        match final_state {
            FinalState::None => Ok(None),
            FinalState::AsyncOperation => Ok(Some(HttpResponse::new(200).with_json(&async_body))),
            FinalState::Location => {
                if let Some(r) = last_location_response {
                    return Ok(Some(r));
                }
                match &location {
                    Some(url) => Ok(Some(self.send(Method::GET, url, None, ctx, op).await?)),
                    None => Ok(None),
                }
            }
            FinalState::ResourceGet => {
                // Location polling that ended with a body: that body is the result.
                if let Some(r) = last_location_response {
                    if json_body(&r, op)?.is_object() {
                        return Ok(Some(r));
                    }
                }
                let response = self.send(Method::GET, resource_url, None, ctx, op).await?;
                let body = json_body(&response, op)?;
                if let Some(s @ (OperationStatus::Failed | OperationStatus::Canceled)) =
                    provisioning_state(&body)
                {
                    return Err(failure(&s, &body, &op.name));
                }
                Ok(Some(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::client::{CancelToken, ClientOptions, HttpResponse};
    use crate::azure::testing::client_with;
    use serde_json::json;
    use tokio::time::Instant;

    const RES: &str = "http://arm.test/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/snapshots/s1?api-version=2025-01-02";

    fn ctx() -> OpContext {
        OpContext::new(Duration::from_secs(3600), CancelToken::new())
    }

    fn snap(state: &str) -> HttpResponse {
        HttpResponse::new(200).with_json(&json!({"name": "s1", "location": "westus", "properties": {"provisioningState": state, "creationData": {"createOption": "Copy"}}}))
    }

    fn polling_options(min: u64) -> ClientOptions {
        ClientOptions {
            min_poll_interval: Duration::from_secs(min),
            default_poll_interval: Duration::from_secs(5),
            ..ClientOptions::for_tests()
        }
    }

    async fn run(
        client: &ArmClient,
        initial: HttpResponse,
        method: Method,
        final_state: FinalState,
    ) -> Result<Option<HttpResponse>, AzureError> {
        client
            .poll_lro(
                initial,
                method,
                RES,
                final_state,
                API_VERSION,
                &ctx(),
                &Op::new("creating snapshot s1"),
            )
            .await
    }

    #[test]
    fn status_parsing_is_case_insensitive_and_keeps_unknowns() {
        assert_eq!(
            OperationStatus::parse("SUCCEEDED"),
            OperationStatus::Succeeded
        );
        assert_eq!(OperationStatus::parse("failed"), OperationStatus::Failed);
        assert_eq!(
            OperationStatus::parse("Cancelled"),
            OperationStatus::Canceled
        );
        assert_eq!(
            OperationStatus::parse("Hydrating"),
            OperationStatus::Running("Hydrating".into())
        );
        assert!(!OperationStatus::parse("InProgress").is_terminal());
    }

    #[tokio::test(start_paused = true)]
    async fn async_operation_header_wins_and_retry_after_sets_the_pace() {
        let initial = HttpResponse::new(202)
            .with_header("Azure-AsyncOperation", "/subscriptions/sub/providers/Microsoft.Compute/locations/westus/DiskOperations/op1")
            .with_header("Location", "http://arm.test/ignored")
            .with_header("Retry-After", "10");
        let (client, t) = client_with(
            polling_options(1),
            vec![
                HttpResponse::new(200)
                    .with_header("Retry-After", "20")
                    .with_json(&json!({"status": "InProgress", "percentComplete": 40})),
                HttpResponse::new(200).with_json(&json!({"status": "succeeded"})),
                snap("Succeeded"),
            ],
        );
        let start = Instant::now();
        let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = progress.clone();
        let ctx = ctx().with_progress(std::sync::Arc::new(move |l| sink.lock().unwrap().push(l)));
        let out = client
            .poll_lro(
                initial,
                Method::PUT,
                RES,
                FinalState::ResourceGet,
                API_VERSION,
                &ctx,
                &Op::new("creating snapshot s1"),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.json()["name"], "s1");
        assert_eq!(
            t.lines(),
            [
                "GET /subscriptions/sub/providers/Microsoft.Compute/locations/westus/DiskOperations/op1",
                "GET /subscriptions/sub/providers/Microsoft.Compute/locations/westus/DiskOperations/op1",
                "GET /subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/snapshots/s1",
            ]
        );
        assert!(
            t.requests()[0].url.ends_with("?api-version=2025-01-02"),
            "api-version added"
        );
        let times = t.request_times();
        assert_eq!(times[0] - start, Duration::from_secs(10));
        assert_eq!(times[1] - times[0], Duration::from_secs(20));
        assert_eq!(*progress.lock().unwrap(), ["creating snapshot s1 ... 40%"]);
    }

    #[tokio::test(start_paused = true)]
    async fn min_poll_interval_beats_a_zero_retry_after() {
        let initial = HttpResponse::new(202)
            .with_header("Azure-AsyncOperation", "http://arm.test/op")
            .with_header("Retry-After", "0");
        let (client, t) = client_with(
            polling_options(3),
            vec![HttpResponse::new(200).with_json(&json!({"status": "Succeeded"}))],
        );
        let start = Instant::now();
        run(&client, initial, Method::DELETE, FinalState::None)
            .await
            .unwrap();
        assert_eq!(t.request_times()[0] - start, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn failed_operation_keeps_azure_code() {
        let initial =
            HttpResponse::new(202).with_header("Azure-AsyncOperation", "http://arm.test/op");
        let (client, _t) = client_with(
            polling_options(0),
            vec![HttpResponse::new(200).with_json(&json!({"status": "Failed", "error": {"code": "InternalDiskManagementError", "message": "boom"}}))],
        );
        let err = run(&client, initial, Method::PUT, FinalState::ResourceGet)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InternalDiskManagementError"));
        assert!(err.to_string().contains("boom"));

        let initial =
            HttpResponse::new(202).with_header("Azure-AsyncOperation", "http://arm.test/op");
        let (client, _t) = client_with(
            polling_options(0),
            vec![HttpResponse::new(200).with_json(&json!({"status": "Canceled"}))],
        );
        let err = run(&client, initial, Method::PUT, FinalState::ResourceGet)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("Canceled"));
    }

    #[tokio::test(start_paused = true)]
    async fn location_polling_until_not_202() {
        let initial = HttpResponse::new(202).with_header("Location", "/subscriptions/sub/providers/Microsoft.Compute/locations/westus/operations/o1?monitor=true");
        let (client, t) = client_with(
            polling_options(0),
            vec![
                HttpResponse::new(202).with_header("Location", "http://arm.test/op2"),
                HttpResponse::new(200).with_json(&json!({"accessSAS": "x"})),
            ],
        );
        let out = run(&client, initial, Method::POST, FinalState::Location)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.json()["accessSAS"], "x");
        let reqs = t.requests();
        assert_eq!(reqs[0].url, "http://arm.test/subscriptions/sub/providers/Microsoft.Compute/locations/westus/operations/o1?monitor=true&api-version=2025-01-02");
        assert_eq!(reqs[1].url, "http://arm.test/op2?api-version=2025-01-02");
    }

    #[tokio::test(start_paused = true)]
    async fn provisioning_state_on_the_resource() {
        // DiskRP's examples: 200 (or 202 without headers) with provisioningState Updating.
        let (client, t) = client_with(
            polling_options(0),
            vec![snap("Updating"), snap("Succeeded")],
        );
        let out = run(
            &client,
            snap("Updating"),
            Method::PUT,
            FinalState::ResourceGet,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(out.json()["properties"]["provisioningState"], "Succeeded");
        assert_eq!(t.requests().len(), 2);

        let (client, _t) = client_with(polling_options(0), vec![snap("Failed")]);
        let mut initial = snap("Updating");
        initial.status = 202;
        let err = run(&client, initial, Method::PUT, FinalState::ResourceGet)
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::OperationFailed { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn immediate_success_needs_no_poll() {
        let (client, t) = client_with(polling_options(0), vec![]);
        let out = run(
            &client,
            snap("Succeeded"),
            Method::PUT,
            FinalState::ResourceGet,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(out.json()["name"], "s1");
        assert!(t.requests().is_empty());
        // No provisioningState at all means success.
        let out = run(
            &client,
            HttpResponse::new(200).with_json(&json!({"name": "s1"})),
            Method::PATCH,
            FinalState::ResourceGet,
        )
        .await
        .unwrap();
        assert!(out.is_some());
        assert!(t.requests().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn delete_polls_until_gone() {
        let gone = HttpResponse::new(404)
            .with_json(&json!({"error": {"code": "ResourceNotFound", "message": "gone"}}));
        let (client, t) = client_with(polling_options(0), vec![snap("Deleting"), gone]);
        let out = run(
            &client,
            HttpResponse::new(202),
            Method::DELETE,
            FinalState::None,
        )
        .await
        .unwrap();
        assert!(out.is_none());
        assert_eq!(t.requests().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_ends_polling_with_timeout() {
        let initial = HttpResponse::new(202)
            .with_header("Azure-AsyncOperation", "http://arm.test/op")
            .with_header("Retry-After", "60");
        let (client, t) = client_with(polling_options(0), vec![]);
        for _ in 0..10 {
            t.push(
                HttpResponse::new(200)
                    .with_header("Retry-After", "60")
                    .with_json(&json!({"status": "InProgress"})),
            );
        }
        let ctx = OpContext::new(Duration::from_secs(150), CancelToken::new());
        let err = client
            .poll_lro(
                initial,
                Method::PUT,
                RES,
                FinalState::ResourceGet,
                API_VERSION,
                &ctx,
                &Op::new("creating snapshot s1"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::Timeout { .. }), "{err:?}");
        assert_eq!(
            t.requests().len(),
            2,
            "polled at 60 s and 120 s, then the deadline at 150 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_interrupts_polling() {
        let initial = HttpResponse::new(202)
            .with_header("Azure-AsyncOperation", "http://arm.test/op")
            .with_header("Retry-After", "600");
        let (client, _t) = client_with(polling_options(0), vec![]);
        let cancel = CancelToken::new();
        let ctx = OpContext::new(Duration::from_secs(3600), cancel.clone());
        let task = tokio::spawn(async move {
            client
                .poll_lro(
                    initial,
                    Method::PUT,
                    RES,
                    FinalState::ResourceGet,
                    API_VERSION,
                    &ctx,
                    &Op::new("x"),
                )
                .await
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t0 = Instant::now();
        cancel.cancel();
        let out = task.await.unwrap();
        assert!(matches!(out, Err(AzureError::Cancelled)));
        assert!(t0.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn terminal_200_ignores_poll_headers() {
        let mut initial = snap("Succeeded");
        initial = initial.with_header("Azure-AsyncOperation", "http://arm.test/never");
        let (client, t) = client_with(polling_options(0), vec![]);
        let out = run(&client, initial, Method::PATCH, FinalState::ResourceGet)
            .await
            .unwrap();
        assert!(out.is_some());
        assert!(t.requests().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn delete_404_on_an_operation_url_is_an_error() {
        let initial = HttpResponse::new(202).with_header("Location", "/foo");
        let (client, _t) = client_with(polling_options(0), vec![HttpResponse::new(404)]);
        let err = run(&client, initial, Method::DELETE, FinalState::None)
            .await
            .unwrap_err();
        assert!(err.is_not_found());
    }

    #[tokio::test(start_paused = true)]
    async fn async_status_without_status_field_is_an_error() {
        let initial =
            HttpResponse::new(202).with_header("Azure-AsyncOperation", "http://arm.test/op");
        let (client, _t) = client_with(
            polling_options(0),
            vec![HttpResponse::new(200).with_json(&json!({"state": "ok"}))],
        );
        let err = run(&client, initial, Method::PUT, FinalState::ResourceGet)
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::Decode { .. }));
    }
}
