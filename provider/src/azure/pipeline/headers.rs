//! Per-call headers: a fresh `x-ms-client-request-id` (a v4 UUID from `azure_core`, shared
//! by every try of the call so Azure's logs tie the tries together), asking Azure to echo it,
//! the `User-Agent`, `Accept: application/json`, and `Content-Type` when there is a body.

use crate::azure::pipeline::{Call, HttpRequest, Next, Outcome, Policy};

pub(crate) struct RequestHeaders {
    user_agent: String,
}

impl RequestHeaders {
    pub fn new(user_agent: &str) -> RequestHeaders {
        RequestHeaders {
            user_agent: user_agent.to_string(),
        }
    }
}

/// A random (version 4) UUID for `x-ms-client-request-id`.
pub(crate) fn new_request_id() -> String {
    azure_core::Uuid::new_v4().to_string()
}

#[async_trait::async_trait]
impl Policy for RequestHeaders {
    async fn send(&self, call: &Call<'_>, mut request: HttpRequest, next: Next<'_>) -> Outcome {
        let set = [
            ("x-ms-client-request-id", new_request_id()),
            ("x-ms-return-client-request-id", "true".to_string()),
            ("user-agent", self.user_agent.clone()),
            ("accept", "application/json".to_string()),
        ];
        request
            .headers
            .extend(set.into_iter().map(|(k, v)| (k.to_string(), v)));
        if request.body.is_some() {
            request
                .headers
                .push(("content-type".into(), "application/json".into()));
        }
        next.send(call, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(id, id.to_ascii_lowercase());
        assert_ne!(id, new_request_id());
    }
}
