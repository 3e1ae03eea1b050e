//! The per-operation context every Azure call carries: one deadline, the cancel token, where
//! progress lines go, and the two helpers that make any wait honour them ([`race`], [`wait`]).
//!
//! One RPC has one deadline. [`OpContext::until`] builds a context on a deadline the caller
//! already holds; [`OpContext::narrowed`] derives a child context (a cleanup, a follow-up
//! read) that may end sooner but never later than its parent. Nothing in `azure/` starts a
//! fresh budget from an existing context.

use crate::azure::errors::AzureError;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A cancellation signal shared by every in-flight operation of a provider; cloning shares it.
#[derive(Clone, Debug)]
pub struct CancelToken {
    tx: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl CancelToken {
    pub fn new() -> CancelToken {
        let (tx, _rx) = tokio::sync::watch::channel(false);
        CancelToken { tx: Arc::new(tx) }
    }

    /// Cancel every operation holding this token (or a clone of it).
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`CancelToken::cancel`] has been called (at once if it already was).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` fails only when the sender is dropped; `self` holds it, so an error here
        // is impossible. Should it ever happen, never resolving is the safe reading: an
        // operation is not cancelled by a token that can no longer be cancelled.
        if rx.wait_for(|cancelled| *cancelled).await.is_err() {
            tracing::warn!(target: "datasnap::azure", "cancel token lost its sender; treating it as never cancelled");
            std::future::pending::<()>().await;
        }
    }
}

/// A sink for progress lines ("copying snapshot x ... 40%"); the provider sends them to the engine log.
pub type ProgressSink = Arc<dyn Fn(String) + Send + Sync>;

/// Per-operation context: the deadline (from Pulumi `customTimeouts`), the cancel signal and
/// where progress goes.
#[derive(Clone)]
pub struct OpContext {
    pub deadline: Instant,
    pub cancel: CancelToken,
    pub progress: Option<ProgressSink>,
}

impl OpContext {
    /// A context whose deadline is `timeout` from now: a new budget. Prefer
    /// [`OpContext::until`] when the RPC already has a deadline.
    pub fn new(timeout: Duration, cancel: CancelToken) -> OpContext {
        OpContext::until(Instant::now() + timeout, cancel)
    }

    /// A context ending at `deadline`: the RPC's one deadline, shared by every step of it.
    pub fn until(deadline: Instant, cancel: CancelToken) -> OpContext {
        OpContext {
            deadline,
            cancel,
            progress: None,
        }
    }

    /// A child context for a sub-step: the same cancel token and progress sink, and a deadline
    /// of at most `timeout` from now that never outlives this context's.
    pub fn narrowed(&self, timeout: Duration) -> OpContext {
        OpContext {
            deadline: self.deadline.min(Instant::now() + timeout),
            ..self.clone()
        }
    }

    pub fn with_progress(mut self, progress: ProgressSink) -> OpContext {
        self.progress = Some(progress);
        self
    }

    pub(crate) fn report(&self, line: String) {
        tracing::debug!(target: "datasnap::azure", "{line}");
        if let Some(p) = &self.progress {
            p(line);
        }
    }
}

/// The default operation timeouts of issue 4 (Pulumi's `customTimeouts` override them).
pub mod default_timeouts {
    use std::time::Duration;
    pub const CREATE: Duration = Duration::from_secs(30 * 60);
    pub const UPDATE: Duration = Duration::from_secs(30 * 60);
    pub const DELETE: Duration = Duration::from_secs(30 * 60);
    pub const READ: Duration = Duration::from_secs(5 * 60);
}

/// What a call is doing, for messages ("creating snapshot x") and the timeout's budget.
#[derive(Clone, Debug)]
pub(crate) struct Op {
    pub name: String,
    pub started: Instant,
}

impl Op {
    pub fn new(name: impl Into<String>) -> Op {
        Op {
            name: name.into(),
            started: Instant::now(),
        }
    }

    pub fn timeout(&self, ctx: &OpContext) -> AzureError {
        AzureError::Timeout {
            operation: self.name.clone(),
            after: ctx.deadline.saturating_duration_since(self.started),
        }
    }
}

/// Run `fut` unless the operation is cancelled or its deadline passes first.
pub(crate) async fn race<T>(
    ctx: &OpContext,
    op: &Op,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, AzureError> {
    if ctx.cancel.is_cancelled() {
        return Err(AzureError::Cancelled);
    }
    tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => Err(AzureError::Cancelled),
        _ = tokio::time::sleep_until(ctx.deadline) => Err(op.timeout(ctx)),
        out = fut => Ok(out),
    }
}

/// Sleep `delay`, or fail with `Cancelled` / `Timeout` if either comes first.
pub(crate) async fn wait(ctx: &OpContext, op: &Op, delay: Duration) -> Result<(), AzureError> {
    race(ctx, op, tokio::time::sleep(delay)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn until_keeps_the_given_deadline() {
        let deadline = Instant::now() + Duration::from_secs(90);
        tokio::time::advance(Duration::from_secs(30)).await;
        let ctx = OpContext::until(deadline, CancelToken::new());
        assert_eq!(ctx.deadline, deadline, "no fresh budget from `until`");
        let err = wait(&ctx, &Op::new("x"), Duration::from_secs(600))
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::Timeout { .. }), "{err:?}");
        assert_eq!(Instant::now(), deadline);
    }

    #[tokio::test(start_paused = true)]
    async fn a_child_never_outlives_its_parent() {
        let cancel = CancelToken::new();
        let parent = OpContext::new(Duration::from_secs(60), cancel.clone());
        tokio::time::advance(Duration::from_secs(50)).await;
        let child = parent.narrowed(Duration::from_secs(30 * 60));
        assert_eq!(child.deadline, parent.deadline);
        let short = parent.narrowed(Duration::from_secs(5));
        assert_eq!(short.deadline, Instant::now() + Duration::from_secs(5));
        cancel.cancel();
        assert!(
            child.cancel.is_cancelled(),
            "the child shares the cancel token"
        );
    }
}
