//! The logging policy (per try): one `tracing` line when a request leaves and one when its
//! answer (or failure) comes back, with the method, the URL without its query, the status,
//! both request ids, the retry number and the elapsed time. Never a header value or a body.

use crate::azure::errors::AzureError;
use crate::azure::pipeline::{Call, HttpRequest, Next, Outcome, Policy};
use std::sync::atomic::Ordering;
use tokio::time::Instant;

pub(crate) struct Logging;

#[async_trait::async_trait]
impl Policy for Logging {
    async fn send(&self, call: &Call<'_>, request: HttpRequest, next: Next<'_>) -> Outcome {
        let method = request.method.clone();
        let url = &call.log_url;
        let request_id = request
            .header("x-ms-client-request-id")
            .unwrap_or_default()
            .to_string();
        let retries = call.retries.load(Ordering::SeqCst);
        tracing::debug!(target: "datasnap::azure", %method, %url, %request_id, retries, "request");
        let sent = Instant::now();
        let outcome = next.send(call, request).await;
        let elapsed_ms = sent.elapsed().as_millis() as u64;
        match &outcome {
            Ok(response) => tracing::debug!(
                target: "datasnap::azure",
                %method,
                %url,
                status = response.status,
                %request_id,
                arm_request_id = response.header("x-ms-request-id").unwrap_or(""),
                elapsed_ms,
                "response"
            ),
            Err(AzureError::Transport { message, .. }) => tracing::debug!(
                target: "datasnap::azure", %method, %url, %request_id, error = %message, elapsed_ms, "transport error"
            ),
            Err(error) => tracing::debug!(
                target: "datasnap::azure", %method, %url, %request_id, %error, elapsed_ms, "abandoned"
            ),
        }
        outcome
    }
}
