//! Fault injection: the rules set through `POST /_emulator/faults` (or `--faults`),
//! and the layer that applies them to ARM requests. A rule fires for the next `count`
//! matching requests, or for a `fraction` of them, or (with neither) for every one
//! until `DELETE /_emulator/faults`. Filters: `methods`, `pathContains` and
//! `bodyContains` (which tells apart two clients writing the same resource).

use crate::config::AppState;
use crate::error::ArmError;
use crate::world::Outcome;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
    /// Matches only requests whose body contains this text (case-sensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// serverError: 500 (default) or 503.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// lroFailure: "Failed" (default) or "Canceled".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// throttle and 503: the Retry-After seconds (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// slow: added latency (default 2000 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// lroFailure / serverError: the error code and message to report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Rule {
    fn matches(&self, method: &str, path: &str, body: &[u8]) -> bool {
        let body_ok = self.body_contains.as_ref().is_none_or(|needle| {
            !needle.is_empty() && body.windows(needle.len()).any(|w| w == needle.as_bytes())
        });
        let method_ok = self
            .methods
            .as_ref()
            .is_none_or(|ms| ms.iter().any(|m| m.eq_ignore_ascii_case(method)));
        let path_ok = self
            .path_contains
            .as_ref()
            .is_none_or(|p| path.to_ascii_lowercase().contains(&p.to_ascii_lowercase()));
        method_ok && path_ok && body_ok
    }
}

/// The body of `POST /_emulator/faults`; fields present replace the current ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_error: Option<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_connection: Option<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lro_failure: Option<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<Rule>,
    /// Overrides `--op-duration-ms` for operations started from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_duration_ms: Option<u64>,
    /// Overrides `--token-ttl-secs` for tokens issued from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ttl_secs: Option<u64>,
    /// Tokens issued from now on still advertise the normal `expires_in` but stop
    /// working after this many seconds (a client must handle the 401 and refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_early_secs: Option<u64>,
    /// Action, not stored: every token issued so far is expired from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_tokens: Option<bool>,
}

#[derive(Debug, Default)]
pub struct Faults {
    pub spec: FaultSpec,
    /// How many times each kind fired since the last DELETE.
    pub injected: BTreeMap<&'static str, u64>,
    rng: u64,
}

/// Decide whether `rule` fires now, consuming one of its `count`.
fn fire(
    rule: &mut Option<Rule>,
    method: &str,
    path: &str,
    body: &[u8],
    rng: &mut u64,
) -> Option<Rule> {
    let r = rule.as_mut()?;
    if !r.matches(method, path, body) {
        return None;
    }
    let fired = r.clone();
    if let Some(n) = r.count {
        if n <= 1 {
            *rule = None;
        } else {
            r.count = Some(n - 1);
        }
        return Some(fired);
    }
    if let Some(fraction) = r.fraction {
        return (next_unit(rng) < fraction).then_some(fired);
    }
    Some(fired)
}

/// xorshift64*: good enough to pick "a fraction of requests" without a rand crate.
fn next_unit(state: &mut u64) -> f64 {
    if *state == 0 {
        *state = crate::time::now_ms() | 1;
    }
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

impl Faults {
    pub fn apply(&mut self, spec: FaultSpec) {
        macro_rules! take {
            ($($f:ident),*) => { $( if spec.$f.is_some() { self.spec.$f = spec.$f; } )* };
        }
        take!(
            throttle,
            server_error,
            drop_connection,
            lro_failure,
            slow,
            op_duration_ms,
            token_ttl_secs,
            token_expires_early_secs
        );
    }

    pub fn clear(&mut self) {
        self.spec = FaultSpec::default();
        self.injected.clear();
    }

    fn count(&mut self, kind: &'static str) {
        *self.injected.entry(kind).or_default() += 1;
    }

    /// The outcome for an operation starting now (`lroFailure`), if a rule fires.
    pub fn take_lro(&mut self, method: &str, path: &str) -> Option<Outcome> {
        // Operations are planned without the body: `bodyContains` never matches here.
        let rule = fire(&mut self.spec.lro_failure, method, path, &[], &mut self.rng)?;
        self.count("lroFailure");
        let canceled = rule
            .outcome
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("canceled"));
        Some(if canceled {
            Outcome::Canceled {
                code: rule.code.unwrap_or_else(|| "OperationCanceled".into()),
                message: rule
                    .message
                    .unwrap_or_else(|| "The operation was canceled.".into()),
            }
        } else {
            Outcome::Failed {
                code: rule.code.unwrap_or_else(|| "InternalOperationError".into()),
                message: rule.message.unwrap_or_else(|| {
                    "The operation failed because of an internal error (injected by the emulator)."
                        .into()
                }),
            }
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"faults": self.spec, "injected": self.injected})
    }
}

/// Marker on a response meaning "close the connection without answering"; the
/// connection loop in `serve` honours it (in-process tests see a 503 carrying it).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

enum Action {
    Drop,
    Throttle(Rule),
    ServerError(Rule),
}

/// Layer body: slow, then drop, throttle or fail, else pass the request on.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    // The body is read only when a rule filters on it (ARM bodies are small).
    let wants_body = {
        let faults = state.faults();
        let s = &faults.spec;
        [&s.slow, &s.drop_connection, &s.throttle, &s.server_error]
            .iter()
            .any(|r| r.as_ref().is_some_and(|r| r.body_contains.is_some()))
    };
    let (request, body) = if wants_body {
        let (parts, b) = request.into_parts();
        let bytes = axum::body::to_bytes(b, 64 << 20).await.unwrap_or_default();
        (
            Request::from_parts(parts, axum::body::Body::from(bytes.clone())),
            bytes,
        )
    } else {
        (request, Default::default())
    };
    let (delay, action) = {
        let mut faults = state.faults();
        let f = &mut *faults;
        let delay = fire(&mut f.spec.slow, &method, &path, &body, &mut f.rng)
            .map(|r| r.delay_ms.unwrap_or(2000));
        if delay.is_some() {
            f.count("slow");
        }
        let action = if fire(
            &mut f.spec.drop_connection,
            &method,
            &path,
            &body,
            &mut f.rng,
        )
        .is_some()
        {
            f.count("dropConnection");
            Some(Action::Drop)
        } else if let Some(r) = fire(&mut f.spec.throttle, &method, &path, &body, &mut f.rng) {
            f.count("throttle");
            Some(Action::Throttle(r))
        } else if let Some(r) = fire(&mut f.spec.server_error, &method, &path, &body, &mut f.rng) {
            f.count("serverError");
            Some(Action::ServerError(r))
        } else {
            None
        };
        (delay, action)
    };
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    match action {
        None => next.run(request).await,
        Some(Action::Drop) => {
            let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
            response.extensions_mut().insert(DropConnection);
            response
        }
        Some(Action::Throttle(rule)) => {
            let retry = rule.retry_after_secs.unwrap_or(1);
            let bucket = match method.as_str() {
                "GET" | "HEAD" => "reads",
                "DELETE" => "deletes",
                _ => "writes",
            };
            ArmError::new(
                StatusCode::TOO_MANY_REQUESTS,
                rule.code.unwrap_or_else(|| "TooManyRequests".into()),
                rule.message.unwrap_or_else(|| {
                    format!(
                        "The request is being throttled as the limit has been reached for operation type - {bucket}. \
                         Retry after {retry} seconds."
                    )
                }),
            )
            .with_header("retry-after", retry.to_string())
            .with_header(
                match bucket {
                    "reads" => "x-ms-ratelimit-remaining-subscription-reads",
                    "deletes" => "x-ms-ratelimit-remaining-subscription-deletes",
                    _ => "x-ms-ratelimit-remaining-subscription-writes",
                },
                "0",
            )
            .with_header(
                "x-ms-ratelimit-remaining-resource",
                "Microsoft.Compute/HighCostSnapshotCreateHydrate3Min;0",
            )
            .into_response()
        }
        Some(Action::ServerError(rule)) => {
            let status = match rule.status {
                Some(503) => StatusCode::SERVICE_UNAVAILABLE,
                Some(502) => StatusCode::BAD_GATEWAY,
                Some(504) => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let (code, message) = if status == StatusCode::INTERNAL_SERVER_ERROR {
                ("InternalServerError", "Encountered internal server error. Diagnostic information: injected by the emulator.")
            } else {
                ("ServiceUnavailable", "The service is temporarily unavailable (injected by the emulator). Please retry later.")
            };
            let mut err = ArmError::new(
                status,
                rule.code.unwrap_or_else(|| code.into()),
                rule.message.unwrap_or_else(|| message.into()),
            );
            if status != StatusCode::INTERNAL_SERVER_ERROR {
                err = err.with_header(
                    "retry-after",
                    rule.retry_after_secs.unwrap_or(1).to_string(),
                );
            }
            err.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_rules_fire_then_clear() {
        let mut rule = Some(Rule {
            count: Some(2),
            ..Rule::default()
        });
        let mut rng = 7;
        assert!(fire(&mut rule, "GET", "/x", &[], &mut rng).is_some());
        assert!(fire(&mut rule, "GET", "/x", &[], &mut rng).is_some());
        assert!(rule.is_none());
        assert!(fire(&mut rule, "GET", "/x", &[], &mut rng).is_none());
    }

    #[test]
    fn filters_and_fractions() {
        let mut rule = Some(Rule {
            methods: Some(vec!["put".into()]),
            path_contains: Some("/snapshots/".into()),
            ..Rule::default()
        });
        let mut rng = 7;
        assert!(fire(&mut rule, "GET", "/a/snapshots/s", &[], &mut rng).is_none());
        assert!(fire(&mut rule, "PUT", "/a/disks/d", &[], &mut rng).is_none());
        assert!(fire(&mut rule, "PUT", "/a/Snapshots/s", &[], &mut rng).is_some());
        let mut half = Some(Rule {
            fraction: Some(0.5),
            ..Rule::default()
        });
        let fired = (0..1000)
            .filter(|_| fire(&mut half, "GET", "/", &[], &mut rng).is_some())
            .count();
        assert!((350..650).contains(&fired), "{fired}");
    }

    #[test]
    fn body_filters_tell_two_writers_apart() {
        let mut rule = Some(Rule {
            body_contains: Some("stack-a".into()),
            ..Rule::default()
        });
        let mut rng = 7;
        let b = br#"{"tags":{"datasnap.claim":"urn:pulumi:dev::stack-b::x"}}"#;
        let a = br#"{"tags":{"datasnap.claim":"urn:pulumi:dev::stack-a::x"}}"#;
        assert!(fire(&mut rule, "PUT", "/s", b, &mut rng).is_none());
        assert!(fire(&mut rule, "PUT", "/s", &[], &mut rng).is_none());
        assert!(fire(&mut rule, "PUT", "/s", a, &mut rng).is_some());
    }
}
