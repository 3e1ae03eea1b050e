//! The retry policy as data: which answers are retried and how long to wait (Azure's
//! Retry-After first, else exponential backoff with jitter).
//!
//! Retried: 408, 429, 500, 502, 503, 504, 409 `AnotherOperationInProgress`, and connection
//! errors. Waits honour `retry-after-ms`, `x-ms-retry-after-ms` and `Retry-After` (seconds or
//! an HTTP date), parsed by `azure_core`. The loop itself is the retry policy of the pipeline
//! ([`crate::azure::pipeline::retry`]), bounded by `max_retries` and by the deadline; the LRO
//! poller reads the same headers for its pace.

use azure_core::http::headers::{
    HeaderName, Headers, RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS,
};
use std::time::Duration;

/// How often and how long to retry.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first try (0 = never retry).
    pub max_retries: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 retries, 800 ms doubling to at most 60 s (ARM's write buckets refill at 10/s).
    fn default() -> Self {
        RetryPolicy {
            max_retries: 8,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry (tests).
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            initial_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// The wait before retry number `retry` (0-based): `initial * 2^retry`, capped, with
    /// +-20 % jitter so parallel resources do not retry in lockstep.
    ///
    /// Our own rather than azure_core's: its exponential and fixed policies are private to
    /// the crate, and its public `RetryPolicy` trait drives its own `Request`/`Context`
    /// pipeline, not ours; only the header parsing below fits as it is.
    pub fn backoff(&self, retry: u32) -> Duration {
        let base = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let jitter = 0.8 + 0.4 * random_unit();
        base.mul_f64(jitter).min(self.max_delay)
    }
}

/// Whether an error answer is worth another try.
pub(crate) fn is_retryable_status(status: u16, code: Option<&str>) -> bool {
    match status {
        408 | 429 | 500 | 502 | 503 | 504 => true,
        409 => code.is_some_and(|c| c.eq_ignore_ascii_case("AnotherOperationInProgress")),
        _ => false,
    }
}

/// The headers that say how long to wait, in the order they are believed: Azure's two
/// millisecond headers, then the standard `Retry-After` (seconds or an HTTP date).
const RETRY_AFTER_HEADERS: [HeaderName; 3] = [RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS, RETRY_AFTER];

/// The server's requested wait, parsed by `azure_core`'s `get_retry_after`: whole milliseconds
/// for the `*-ms` headers, whole seconds or an HTTP date for `Retry-After` (a date in the past
/// is no wait). A value that does not parse is skipped; a negative one means no wait.
pub(crate) fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let mut wanted = Headers::new();
    for name in &RETRY_AFTER_HEADERS {
        // Header names compare ignoring case (RFC 9110).
        if let Some((_, value)) = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_str()))
        {
            wanted.insert(name.clone(), value.trim().to_string());
        }
    }
    let wait = azure_core::http::policies::get_retry_after(
        &wanted,
        azure_core::time::OffsetDateTime::now_utc,
        &RETRY_AFTER_HEADERS,
    )?;
    // `time::Duration` is signed; a negative wait (a past date is already clamped by
    // azure_core, a negative number is not) means "now".
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A uniformly random number in [0, 1), from the 53 low bits of a v4 UUID (all random; the
/// version and variant bits sit higher up).
fn random_unit() -> f64 {
    let (_, low) = azure_core::Uuid::new_v4().as_u64_pair();
    (low & ((1u64 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::client::{CancelToken, ClientOptions, HttpResponse, OpContext};
    use crate::azure::errors::AzureError;
    use crate::azure::testing::{client_with, get_x};
    use serde_json::json;
    use tokio::time::Instant;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn retry_after_headers_in_order() {
        assert_eq!(
            retry_after(&h(&[("Retry-After", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "3"), ("x-ms-retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&h(&[
                ("retry-after-ms", "10"),
                ("x-ms-retry-after-ms", "250")
            ])),
            Some(Duration::from_millis(10))
        );
        assert_eq!(
            retry_after(&h(&[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&h(&[("Retry-After", "soon")])), None);
        // A header that does not parse gives way to the next one.
        assert_eq!(
            retry_after(&h(&[("retry-after-ms", "later"), ("Retry-After", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&h(&[("x-ms-retry-after-ms", "-5")])),
            Some(Duration::ZERO)
        );
        let soon =
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1);
        let wait =
            retry_after(&h(&[("Retry-After", &azure_core::time::to_rfc7231(&soon))])).unwrap();
        assert!(
            wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600),
            "{wait:?}"
        );
        assert_eq!(retry_after(&h(&[])), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s, None), "{s}");
        }
        assert!(is_retryable_status(409, Some("AnotherOperationInProgress")));
        assert!(!is_retryable_status(409, Some("Conflict")));
        for s in [400, 401, 403, 404, 501] {
            assert!(!is_retryable_status(s, None), "{s}");
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_retries: 10,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
        };
        for (retry, base) in [(0u32, 1.0f64), (1, 2.0), (2, 4.0), (3, 8.0)] {
            let d = p.backoff(retry).as_secs_f64();
            assert!(
                d >= base * 0.8 - 1e-9 && d <= (base * 1.2).min(10.0) + 1e-9,
                "{retry}: {d}"
            );
        }
        assert!(p.backoff(30) <= Duration::from_secs(10));
        let samples: std::collections::HashSet<u128> =
            (0..20).map(|_| p.backoff(0).as_nanos()).collect();
        assert!(samples.len() > 1, "jitter varies");
    }

    fn throttled(retry_after: &str) -> HttpResponse {
        HttpResponse::new(429)
            .with_header("Retry-After", retry_after)
            .with_json(&json!({"error": {"code": "TooManyRequests", "message": "slow down"}}))
    }

    fn retrying(max_retries: u32) -> ClientOptions {
        ClientOptions {
            retry: RetryPolicy {
                max_retries,
                initial_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
            },
            ..ClientOptions::for_tests()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after_then_succeeds() {
        let (client, t) = client_with(
            retrying(3),
            vec![
                throttled("7"),
                HttpResponse::new(503),
                HttpResponse::new(200),
            ],
        );
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new());
        let start = Instant::now();
        let resp = get_x(&client, &ctx).await.unwrap();
        assert_eq!(resp.status, 200);
        let elapsed = start.elapsed();
        // 7 s from Retry-After, then the second backoff step (2 s +-20 %).
        assert!(
            elapsed >= Duration::from_millis(8600) && elapsed <= Duration::from_millis(9400),
            "{elapsed:?}"
        );
        let times = t.request_times();
        assert_eq!(times.len(), 3);
        assert_eq!(times[1] - times[0], Duration::from_secs(7));
        // Every try carries the same client request id.
        let reqs = t.requests();
        assert_eq!(
            reqs[0].header("x-ms-client-request-id"),
            reqs[2].header("x-ms-client-request-id")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_retries_with_the_last_error() {
        let (client, t) = client_with(
            retrying(2),
            vec![
                throttled("1"),
                throttled("1"),
                throttled("1"),
                HttpResponse::new(200),
            ],
        );
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new());
        let err = get_x(&client, &ctx).await.unwrap_err();
        assert!(
            matches!(err, AzureError::Throttled { status: 429, .. }),
            "{err:?}"
        );
        assert_eq!(t.requests().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_bounds_retries() {
        let (client, t) = client_with(retrying(8), vec![throttled("120"), HttpResponse::new(200)]);
        let ctx = OpContext::new(Duration::from_secs(60), CancelToken::new());
        let start = Instant::now();
        let err = get_x(&client, &ctx).await.unwrap_err();
        assert!(matches!(err, AzureError::Throttled { .. }), "{err:?}");
        assert_eq!(t.requests().len(), 1, "no wait past the deadline");
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn another_operation_in_progress_is_retried_but_conflict_is_not() {
        let busy = HttpResponse::new(409).with_json(
            &json!({"error": {"code": "AnotherOperationInProgress", "message": "busy"}}),
        );
        let conflict = HttpResponse::new(409)
            .with_json(&json!({"error": {"code": "Conflict", "message": "attached"}}));
        let (client, t) = client_with(retrying(3), vec![busy, conflict]);
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new());
        let err = get_x(&client, &ctx).await.unwrap_err();
        assert_eq!(err.code(), Some("Conflict"));
        assert_eq!(t.requests().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn connection_errors_are_retried() {
        let (client, t) = client_with(retrying(3), vec![]);
        t.push_transport_error("connection refused");
        t.push(HttpResponse::new(200));
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new());
        assert_eq!(get_x(&client, &ctx).await.unwrap().status, 200);
        assert_eq!(t.requests().len(), 2);
    }

    /// Nothing listening: a few quick retries (not the throttle budget), each reported to
    /// the engine log with what is retried and how many attempts remain.
    #[tokio::test(start_paused = true)]
    async fn a_refused_connection_gets_few_retries_each_reported() {
        let (client, t) = client_with(retrying(8), vec![]);
        for _ in 0..10 {
            t.push_refused();
        }
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new()).with_progress(
            std::sync::Arc::new(move |l: String| sink.lock().unwrap().push(l)),
        );
        let started = Instant::now();
        let err = get_x(&client, &ctx).await.unwrap_err();
        assert!(
            matches!(err, AzureError::Transport { connect: true, .. }),
            "{err:?}"
        );
        assert_eq!(
            t.requests().len(),
            1 + crate::azure::pipeline::retry::CONNECT_RETRIES as usize
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].contains("no connection") && lines[0].contains("retry 1 of 3, 2 left"),
            "{lines:?}"
        );
        assert!(lines[2].contains("retry 3 of 3, 0 left"), "{lines:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_fail_at_once() {
        let (client, t) = client_with(
            retrying(5),
            vec![HttpResponse::new(400)
                .with_json(&json!({"error": {"code": "InvalidParameter", "message": "no"}}))],
        );
        let ctx = OpContext::new(Duration::from_secs(600), CancelToken::new());
        let err = get_x(&client, &ctx).await.unwrap_err();
        assert_eq!(err.code(), Some("InvalidParameter"));
        assert_eq!(t.requests().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_interrupts_a_backoff_wait() {
        let (client, _t) = client_with(retrying(3), vec![throttled("300"), HttpResponse::new(200)]);
        let cancel = CancelToken::new();
        let ctx = OpContext::new(Duration::from_secs(3600), cancel.clone());
        let task = tokio::spawn(async move { get_x(&client, &ctx).await });
        tokio::time::sleep(Duration::from_secs(5)).await;
        cancel.cancel();
        let out = task.await.unwrap();
        assert!(matches!(out, Err(AzureError::Cancelled)), "{out:?}");
    }
}
