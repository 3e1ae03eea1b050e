//! The retry policy: send, and while the answer is transient (as [`crate::azure::retry`]
//! decides: 408, 429, 500, 502, 503, 504, 409 `AnotherOperationInProgress`, connection
//! errors) wait Azure's Retry-After or the backoff and send again. It stops at
//! `max_retries` or when the wait would pass the operation's deadline, and then hands back
//! the last answer (or connection error) unchanged. Every wait races the cancel token.
//!
//! A request that never connected (refused, unreachable) gets at most [`CONNECT_RETRIES`]:
//! an endpoint that is down, or a wrong `armEndpoint`, fails within seconds rather than
//! after minutes of backoff. Each retry is reported to the engine log (ephemeral) with what
//! is retried and how many attempts remain.

use crate::azure::context::wait;
use crate::azure::errors::AzureError;
use crate::azure::pipeline::{error_of, Call, HttpRequest, Next, Outcome, Policy};
use crate::azure::retry::{is_retryable_status, retry_after, RetryPolicy};
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// Retries after a connection that was never made (about 6 s of backoff in all).
pub(crate) const CONNECT_RETRIES: u32 = 3;

pub(crate) struct Retry {
    policy: RetryPolicy,
}

impl Retry {
    pub fn new(policy: RetryPolicy) -> Retry {
        Retry { policy }
    }
}

#[async_trait::async_trait]
impl Policy for Retry {
    async fn send(&self, call: &Call<'_>, request: HttpRequest, next: Next<'_>) -> Outcome {
        let method = request.method.clone();
        loop {
            let outcome = next.send(call, request.clone()).await;
            // Azure's error code (none for a connection error) and the wait Azure asked
            // for; anything that is not worth another try goes back up as it is.
            let (code, asked, connect) = match &outcome {
                Ok(response) if response.status < 400 => return outcome,
                Ok(response) => {
                    let code = error_of(response).code().map(str::to_string);
                    if !is_retryable_status(response.status, code.as_deref()) {
                        return outcome;
                    }
                    (code, retry_after(&response.headers), false)
                }
                Err(AzureError::Transport { connect, .. }) => (None, None, *connect),
                Err(_) => return outcome,
            };
            let retries = call.retries.load(Ordering::SeqCst);
            let limit = if connect {
                self.policy.max_retries.min(CONNECT_RETRIES)
            } else {
                self.policy.max_retries
            };
            if retries >= limit {
                return outcome;
            }
            let delay = asked.unwrap_or_else(|| self.policy.backoff(retries));
            if Instant::now() + delay >= call.ctx.deadline {
                return outcome;
            }
            let why = match (&code, connect) {
                (Some(code), _) => code.clone(),
                (None, true) => "no connection".to_string(),
                (None, false) => "no answer".to_string(),
            };
            call.ctx.report(format!(
                "retrying {} {} ({}) in {:.1} s: retry {} of {}, {} left",
                method,
                call.log_url,
                why,
                delay.as_secs_f64(),
                retries + 1,
                limit,
                limit - retries - 1
            ));
            wait(call.ctx, call.op, delay).await?;
            call.retries.store(retries + 1, Ordering::SeqCst);
        }
    }
}
