//! The bearer-token policy (per try): put `Authorization: Bearer ...` from the
//! [`Authenticator`] on the request (waiting for a token races the deadline and cancel); on a
//! 401, invalidate the token and credential and re-send once per call, since a stale or
//! revoked token is the usual cause. A second 401 goes back up as the answer.

use crate::azure::auth::Authenticator;
use crate::azure::context::race;
use crate::azure::pipeline::{Call, HttpRequest, Next, Outcome, Policy};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(crate) struct BearerToken {
    auth: Arc<Authenticator>,
}

impl BearerToken {
    pub fn new(auth: Arc<Authenticator>) -> BearerToken {
        BearerToken { auth }
    }
}

#[async_trait::async_trait]
impl Policy for BearerToken {
    async fn send(&self, call: &Call<'_>, request: HttpRequest, next: Next<'_>) -> Outcome {
        loop {
            let token = race(call.ctx, call.op, self.auth.token()).await??;
            let mut authorized = request.clone();
            authorized
                .headers
                .push(("authorization".into(), format!("Bearer {}", token.expose())));
            let response = next.send(call, authorized).await?;
            if response.status == 401 && !call.reauthenticated.swap(true, Ordering::SeqCst) {
                tracing::debug!(target: "datasnap::azure", url = %call.log_url, "401: getting a fresh token and sending once more");
                self.auth.invalidate().await;
                continue;
            }
            return Ok(response);
        }
    }
}
