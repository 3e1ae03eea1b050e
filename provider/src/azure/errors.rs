//! The one error type of the Azure layer: every failure keeps the HTTP status and Azure's
//! error code, and its message names the code and the next step for the user.
//!
//! Callers branch on variants (`NotFound`, `Conflict`, `AfterAccepted`...), never on text.
//! No variant ever carries a secret or a bearer token.

use std::time::Duration;

/// A failure of an Azure call, shaped for the caller.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// HTTP 404: `ResourceNotFound`, `ResourceGroupNotFound`, ...
    #[error("Azure answered 404 {code}: {message} Check the resource group, the name and the subscription.")]
    NotFound { code: String, message: String },

    /// HTTP 400: an invalid or immutable property (`InvalidParameter`, `PropertyChangeNotAllowed`).
    #[error("Azure rejected the request (400 {code}{}): {message} Fix the input the message names and run again.", target_suffix(.target))]
    BadRequest {
        code: String,
        message: String,
        target: Option<String>,
    },

    /// HTTP 409 that is not retried (or ran out of retries).
    #[error("Azure answered 409 {code}: {message} Another operation holds the resource or the request conflicts with its state; wait for it to finish and run again.")]
    Conflict { code: String, message: String },

    /// HTTP 401 even after a fresh token.
    #[error("Azure refused the credentials (401 {code}): {message} Check tenantId, clientId and the credential settings (ARM_TENANT_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET or the OIDC/MSI/CLI settings).")]
    Unauthorized { code: String, message: String },

    /// HTTP 403: the identity lacks a role.
    #[error("Azure denied access (403 {code}): {message} Give the identity a role that allows Microsoft.Compute/snapshots and disks (for example Disk Snapshot Contributor and Disk Restore Operator) on the resource group.")]
    Forbidden { code: String, message: String },

    /// HTTP 429 (or 408) and retries ran out or the deadline was too near to wait.
    #[error("Azure kept throttling the request (HTTP {status} {code}): {message} Retries ran out; wait a few minutes or lower `pulumi up --parallel`, then run again.")]
    Throttled {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },

    /// HTTP 5xx after retries.
    #[error("Azure failed with HTTP {status} {code}: {message} This is usually transient; run the command again.")]
    Server {
        status: u16,
        code: String,
        message: String,
    },

    /// Any other HTTP error status.
    #[error("Azure answered HTTP {status} {code}: {message}")]
    Http {
        status: u16,
        code: String,
        message: String,
    },

    /// A long-running operation ended `Failed` or `Canceled`, or a snapshot copy failed.
    #[error("the Azure operation failed with {code}: {message}")]
    OperationFailed { code: String, message: String },

    /// The operation's deadline (Pulumi `customTimeouts`) passed.
    #[error("{operation} did not finish within {}; raise the resource's customTimeouts or check the resource in Azure.", human_duration(*.after))]
    Timeout { operation: String, after: Duration },

    /// The engine cancelled the operation (pulumi cancel, SIGINT).
    #[error("the operation was cancelled; run `pulumi refresh` then `pulumi up` to converge")]
    Cancelled,

    /// The request never got an HTTP answer (DNS, connect, TLS, reset).
    #[error("could not reach Azure: {message} Check armEndpoint (ARM_ENDPOINT), the network and caCertFile (ARM_CA_CERT_FILE).")]
    Transport { message: String, connect: bool },

    /// No token could be obtained; the message names the config key and environment variable.
    #[error("{message}")]
    Credential { message: String },

    /// The client could not be built from the configuration (bad URL, unreadable CA file).
    #[error("{message}")]
    Config { message: String },

    /// Azure's answer could not be read.
    #[error("could not read Azure's answer to {what}: {message}. This is a provider bug; please report it.")]
    Decode { what: String, message: String },

    /// Azure accepted the create, but a later step (polling, copy, final read) failed: the
    /// resource exists and must be tracked as a partial create.
    #[error("Azure accepted {id} but a later step failed: {source}")]
    AfterAccepted {
        id: String,
        #[source]
        source: Box<AzureError>,
    },
}

fn target_suffix(target: &Option<String>) -> String {
    match target {
        Some(t) if !t.is_empty() => format!(" at {t}"),
        _ => String::new(),
    }
}

fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs > 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl AzureError {
    /// This failure, marked as coming after Azure accepted a create of `id`.
    pub(crate) fn after_accepted(self, id: &crate::azure::id::ResourceId) -> AzureError {
        AzureError::AfterAccepted {
            id: id.to_string(),
            source: Box::new(self),
        }
    }

    /// Azure's error code (`ResourceNotFound`, `AnotherOperationInProgress`, ...), when Azure sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AzureError::NotFound { code, .. }
            | AzureError::BadRequest { code, .. }
            | AzureError::Conflict { code, .. }
            | AzureError::Unauthorized { code, .. }
            | AzureError::Forbidden { code, .. }
            | AzureError::Throttled { code, .. }
            | AzureError::Server { code, .. }
            | AzureError::Http { code, .. }
            | AzureError::OperationFailed { code, .. } => Some(code.as_str()),
            AzureError::AfterAccepted { source, .. } => source.code(),
            _ => None,
        }
    }

    /// The HTTP status Azure answered with, for errors that came from an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            AzureError::NotFound { .. } => Some(404),
            AzureError::BadRequest { .. } => Some(400),
            AzureError::Conflict { .. } => Some(409),
            AzureError::Unauthorized { .. } => Some(401),
            AzureError::Forbidden { .. } => Some(403),
            AzureError::Throttled { status, .. }
            | AzureError::Server { status, .. }
            | AzureError::Http { status, .. } => Some(*status),
            AzureError::AfterAccepted { source, .. } => source.status(),
            _ => None,
        }
    }

    /// True for a 404 (the resource or its group does not exist).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AzureError::NotFound { .. })
    }

    /// True when the engine cancelled the operation (also inside `AfterAccepted`).
    pub fn is_cancelled(&self) -> bool {
        match self {
            AzureError::Cancelled => true,
            AzureError::AfterAccepted { source, .. } => source.is_cancelled(),
            _ => false,
        }
    }

    /// Build the error for an HTTP error answer from its status, `x-ms-error-code` header and body.
    pub(crate) fn from_response(
        status: u16,
        header_code: Option<&str>,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> AzureError {
        let parsed = parse_error_body(body);
        let code = parsed
            .code
            .clone()
            .or_else(|| header_code.map(str::to_string))
            .unwrap_or_else(|| default_code(status).to_string());
        let message = parsed.message.unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                format!("(no error body; HTTP {status})")
            } else {
                truncate(text, 500)
            }
        });
        let message = if message.ends_with('.') || message.ends_with(')') {
            message
        } else {
            format!("{message}.")
        };
        match status {
            400 => AzureError::BadRequest {
                code,
                message,
                target: parsed.target,
            },
            401 => AzureError::Unauthorized { code, message },
            403 => AzureError::Forbidden { code, message },
            404 => AzureError::NotFound { code, message },
            409 => AzureError::Conflict { code, message },
            408 | 429 => AzureError::Throttled {
                status,
                code,
                message,
                retry_after,
            },
            500..=599 => AzureError::Server {
                status,
                code,
                message,
            },
            _ => AzureError::Http {
                status,
                code,
                message,
            },
        }
    }
}

fn default_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "HttpError",
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The parts of ARM's `CloudError` envelope that we show.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub target: Option<String>,
}

/// Parse `{"error": {"code","message","target","details"}}` (also a bare `{"code","message"}`).
pub(crate) fn parse_error_body(body: &[u8]) -> ErrorBody {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return ErrorBody::default();
    };
    let err = value.get("error").unwrap_or(&value);
    error_from_value(err)
}

/// Read `code`, `message`, `target` from an ARM error object; adds the first detail's message.
pub(crate) fn error_from_value(err: &serde_json::Value) -> ErrorBody {
    let text = |k: &str| {
        err.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut message = text("message");
    if let Some(details) = err.get("details").and_then(|d| d.as_array()) {
        let extra: Vec<String> = details
            .iter()
            .filter_map(|d| {
                let code = d.get("code").and_then(|v| v.as_str()).unwrap_or_default();
                let msg = d.get("message").and_then(|v| v.as_str())?;
                Some(if code.is_empty() {
                    msg.to_string()
                } else {
                    format!("{code}: {msg}")
                })
            })
            .collect();
        if !extra.is_empty() {
            let joined = extra.join("; ");
            message = Some(match message {
                Some(m) => format!("{m} ({joined})"),
                None => joined,
            });
        }
    }
    ErrorBody {
        code: text("code"),
        message,
        target: text("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_status_and_keeps_code() {
        let body = br#"{"error":{"code":"ResourceNotFound","message":"The Resource 'Microsoft.Compute/snapshots/x' under resource group 'rg' was not found."}}"#;
        let e = AzureError::from_response(404, None, body, None);
        assert!(e.is_not_found());
        assert_eq!(e.code(), Some("ResourceNotFound"));
        assert_eq!(e.status(), Some(404));
        let text = e.to_string();
        assert!(text.contains("ResourceNotFound"), "{text}");
        assert!(text.contains("Check"), "{text}");
    }

    #[test]
    fn header_code_when_body_has_none() {
        let e = AzureError::from_response(409, Some("AnotherOperationInProgress"), b"", None);
        assert_eq!(e.code(), Some("AnotherOperationInProgress"));
        assert!(matches!(e, AzureError::Conflict { .. }));
    }

    #[test]
    fn bad_request_keeps_target_and_details() {
        let body = br#"{"error":{"code":"InvalidParameter","message":"bad","target":"tags","details":[{"code":"X","message":"inner"}]}}"#;
        let e = AzureError::from_response(400, None, body, None);
        match &e {
            AzureError::BadRequest {
                code,
                message,
                target,
            } => {
                assert_eq!(code, "InvalidParameter");
                assert_eq!(target.as_deref(), Some("tags"));
                assert!(message.contains("X: inner"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.to_string().contains("at tags"));
    }

    #[test]
    fn non_json_body_and_status_classes() {
        let e = AzureError::from_response(503, None, b"upstream down", None);
        assert!(matches!(e, AzureError::Server { status: 503, .. }));
        assert_eq!(e.code(), Some("ServiceUnavailable"));
        let e = AzureError::from_response(429, None, b"", Some(Duration::from_secs(3)));
        assert!(matches!(e, AzureError::Throttled { .. }));
        let e = AzureError::from_response(
            403,
            None,
            br#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#,
            None,
        );
        assert!(e.to_string().contains("role"));
    }

    #[test]
    fn after_accepted_delegates() {
        let inner = AzureError::OperationFailed {
            code: "CopySourceNotFound".into(),
            message: "gone".into(),
        };
        let e = AzureError::AfterAccepted {
            id: "/subscriptions/s/x".into(),
            source: Box::new(inner),
        };
        assert_eq!(e.code(), Some("CopySourceNotFound"));
        assert!(e.to_string().contains("/subscriptions/s/x"));
        let t = AzureError::Timeout {
            operation: "creating snapshot a".into(),
            after: Duration::from_secs(1800),
        };
        assert!(t.to_string().contains("30m"));
    }
}
