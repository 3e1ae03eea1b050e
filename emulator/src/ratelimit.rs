//! ARM's subscription token buckets (`--arm-rate-limits`): reads hold 250 and refill
//! 25 per second; writes and deletes hold 200 and refill 10 per second. Every ARM
//! answer reports what is left in `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`;
//! an empty bucket answers 429 with the Retry-After that refills one token. Without the
//! flag the buckets are not enforced and the headers show a full bucket less one.

use crate::arm::id::ArmPath;
use crate::config::AppState;
use crate::error::ArmError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: u64,
}

/// The three buckets of the one emulated subscription.
#[derive(Debug)]
pub struct Buckets {
    reads: Bucket,
    writes: Bucket,
    deletes: Bucket,
}

impl Default for Buckets {
    fn default() -> Self {
        let now = crate::time::now_ms();
        Buckets {
            reads: Bucket {
                tokens: 250.0,
                last_ms: now,
            },
            writes: Bucket {
                tokens: 200.0,
                last_ms: now,
            },
            deletes: Bucket {
                tokens: 200.0,
                last_ms: now,
            },
        }
    }
}

#[derive(Clone, Copy)]
enum Class {
    Reads,
    Writes,
    Deletes,
}

impl Class {
    /// The name `GET /_emulator/requests` counts it under.
    fn name(self) -> &'static str {
        match self {
            Class::Reads => "reads",
            Class::Writes => "writes",
            Class::Deletes => "deletes",
        }
    }

    fn of(method: &Method) -> Class {
        match *method {
            Method::GET | Method::HEAD => Class::Reads,
            Method::DELETE => Class::Deletes,
            _ => Class::Writes,
        }
    }
    fn header(self) -> &'static str {
        match self {
            Class::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Class::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Class::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
    /// (capacity, refill per second)
    fn limits(self) -> (f64, f64) {
        match self {
            Class::Reads => (250.0, 25.0),
            Class::Writes | Class::Deletes => (200.0, 10.0),
        }
    }
}

impl Buckets {
    /// Take one token; `Ok(remaining)` or `Err(seconds until one is back)`.
    fn take(&mut self, class: Class, now: u64) -> Result<u64, u64> {
        let (capacity, rate) = class.limits();
        let bucket = match class {
            Class::Reads => &mut self.reads,
            Class::Writes => &mut self.writes,
            Class::Deletes => &mut self.deletes,
        };
        let elapsed = now.saturating_sub(bucket.last_ms) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.last_ms = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(bucket.tokens.floor() as u64)
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// Layer body: enforce (with `--arm-rate-limits`) and report the subscription buckets.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let class = Class::of(request.method());
    *state
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(class.name())
        .or_default() += 1;
    let remaining = if state.config.arm_rate_limits {
        let taken = state
            .buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(class, crate::time::now_ms());
        match taken {
            Ok(n) => n,
            Err(retry) => {
                return ArmError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    format!(
                        "Number of requests for subscription '{}' exceeded the limit. Please try again after '{retry}' seconds.",
                        state.config.subscription_id
                    ),
                )
                .with_header("retry-after", retry.to_string())
                .with_header(class.header(), "0")
                .into_response();
            }
        }
    } else {
        class.limits().0 as u64 - 1
    };
    // Compute's own per-resource counters, as DiskRP reports them (static here).
    let path = ArmPath::parse(request.uri().path()).filter(|p| p.in_namespace("Microsoft.Compute"));
    let compute = if path.as_ref().is_some_and(|p| p.is(2, "diskoperations")) {
        Some("Microsoft.Compute/GetOperation3Min;49999,Microsoft.Compute/GetOperation30Min;399999")
    } else if path
        .as_ref()
        .is_some_and(|p| p.is(0, "snapshots") && p.rest.len() == 2)
        && request.method() == Method::PUT
    {
        Some("Microsoft.Compute/HighCostSnapshotCreateHydrate3Min;239,Microsoft.Compute/HighCostSnapshotCreateHydrate30Min;1918")
    } else {
        None
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(class.header())
        .or_insert(HeaderValue::from(remaining));
    if let Some(v) = compute {
        headers
            .entry("x-ms-ratelimit-remaining-resource")
            .or_insert(HeaderValue::from_static(v));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_drain_and_refill() {
        let mut b = Buckets::default();
        let t0 = b.writes.last_ms;
        for i in 0..200 {
            assert_eq!(b.take(Class::Writes, t0), Ok(199 - i));
        }
        assert_eq!(b.take(Class::Writes, t0), Err(1));
        assert_eq!(b.take(Class::Reads, t0), Ok(249), "buckets are separate");
        assert_eq!(
            b.take(Class::Writes, t0 + 1000),
            Ok(9),
            "10 per second come back"
        );
    }
}
