//! The deadline and cancel policy (per try). A read (GET, HEAD) races the operation's
//! deadline and cancel token and is dropped the moment either fires. A write (PUT, PATCH,
//! DELETE, POST) is not started after a cancel; once on the wire it gets up to
//! [`CANCEL_GRACE`] more to answer, so a create Azure accepted is reported as accepted (the
//! caller records a partial create instead of leaking the resource) and the next wait sees
//! the cancel. Both stay bounded by the deadline.

use crate::azure::context::race;
use crate::azure::errors::AzureError;
use crate::azure::pipeline::{Call, HttpRequest, Next, Outcome, Policy};
use std::time::Duration;

/// How long a write already on the wire may still take after a cancel before it is abandoned.
pub(crate) const CANCEL_GRACE: Duration = Duration::from_secs(1);

pub(crate) struct Deadline;

#[async_trait::async_trait]
impl Policy for Deadline {
    async fn send(&self, call: &Call<'_>, request: HttpRequest, next: Next<'_>) -> Outcome {
        let (ctx, op) = (call.ctx, call.op);
        if matches!(request.method, reqwest::Method::GET | reqwest::Method::HEAD) {
            return race(ctx, op, next.send(call, request)).await?;
        }
        if ctx.cancel.is_cancelled() {
            return Err(AzureError::Cancelled);
        }
        let send = next.send(call, request);
        tokio::pin!(send);
        tokio::select! {
            _ = tokio::time::sleep_until(ctx.deadline) => Err(op.timeout(ctx)),
            out = &mut send => out,
            _ = ctx.cancel.cancelled() => {
                match tokio::time::timeout(CANCEL_GRACE, &mut send).await {
                    Ok(out) => out,
                    Err(_) => Err(AzureError::Cancelled),
                }
            }
        }
    }
}
