//! `--record DIR`: every ARM request/response pair written as one JSON file in the
//! form Microsoft's oav LiveValidator reads (`liveRequest` / `liveResponse`, status
//! code as a string, URLs rewritten to the public ARM host). Authorization headers
//! are never written.

use crate::config::AppState;
use crate::faults::DropConnection;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The host recorded URLs carry: the validator matches paths against the public cloud's.
pub const RECORDED_HOST: &str = "https://management.azure.com";

pub struct Recorder {
    dir: PathBuf,
    next: AtomicU64,
}

impl Recorder {
    pub fn new(dir: PathBuf) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(&dir)?;
        let existing = std::fs::read_dir(&dir)?.count() as u64;
        Ok(Recorder {
            dir,
            next: AtomicU64::new(existing + 1),
        })
    }

    fn write(&self, method: &str, pair: &Value) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{n:06}-{method}.json"));
        let text = serde_json::to_string_pretty(pair).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            tracing::error!("cannot record {}: {e}", path.display());
        }
    }
}

fn headers_json(headers: &axum::http::HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        if name == "authorization" {
            continue;
        }
        if let Ok(v) = value.to_str() {
            map.insert(name.as_str().to_string(), json!(v));
        }
    }
    Value::Object(map)
}

fn body_json(bytes: &Bytes) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(bytes))))
}

/// Layer body: buffer both bodies, write the pair, pass both on unchanged.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(recorder) = &state.recorder else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let request_bytes = axum::body::to_bytes(body, 8 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut live_request = json!({
        "url": format!("{RECORDED_HOST}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")),
        "method": parts.method.as_str(),
        "headers": headers_json(&parts.headers),
    });
    if let Some(b) = body_json(&request_bytes) {
        live_request["body"] = b;
    }
    let method = parts.method.as_str().to_string();
    let response = next
        .run(Request::from_parts(parts, Body::from(request_bytes)))
        .await;
    if response.extensions().get::<DropConnection>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let response_bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut live_response = json!({
        "statusCode": parts.status.as_u16().to_string(),
        "headers": headers_json(&parts.headers),
    });
    if let Some(b) = body_json(&response_bytes) {
        live_response["body"] = b;
    }
    recorder.write(
        &method,
        &json!({"liveRequest": live_request, "liveResponse": live_response}),
    );
    Response::from_parts(parts, Body::from(response_bytes))
}
