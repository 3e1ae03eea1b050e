//! The one polling primitive behind every long-running wait: the LRO poller
//! ([`crate::azure::lro`]), a `CopyStart` copy reaching 100 % and a snapshot leaving a
//! non-terminal `provisioningState` ([`crate::azure::snapshots`]).
//!
//! A caller judges what it already has into a [`Probe`]; [`poll_until`] then loops: report
//! the probe's progress line (only when it changed), stop on [`Step::Done`], else wait the
//! probe's delay (racing the deadline and the cancel token) and probe again. A failure is the
//! probe's `Err`. State the probe needs from one round to the next (a moved `Location`, say)
//! travels by value in [`Step::Again`], so probes borrow nothing mutable.

use crate::azure::context::{wait, Op, OpContext};
use crate::azure::errors::AzureError;
use std::future::Future;
use std::time::Duration;

/// What to do after a probe.
pub(crate) enum Step<S, T> {
    /// Finished with this result.
    Done(T),
    /// Not yet: wait `delay`, then probe again with `state`.
    Again { state: S, delay: Duration },
}

/// One judgement of the operation's state, with an optional progress line for the user.
pub(crate) struct Probe<S, T> {
    pub step: Step<S, T>,
    pub progress: Option<String>,
}

impl<S, T> Probe<S, T> {
    pub fn done(result: T) -> Probe<S, T> {
        Probe {
            step: Step::Done(result),
            progress: None,
        }
    }

    pub fn again(state: S, delay: Duration) -> Probe<S, T> {
        Probe {
            step: Step::Again { state, delay },
            progress: None,
        }
    }

    /// Attach a progress line ("copying snapshot x ... 40%"), reported when it changes.
    pub fn reporting(mut self, line: Option<String>) -> Probe<S, T> {
        self.progress = line;
        self
    }
}

/// Start from `first` and probe until done, failed, cancelled or out of time (see the module
/// doc). Cancel and the deadline end a wait at once, as [`AzureError::Cancelled`] and
/// [`AzureError::Timeout`] naming `op`.
pub(crate) async fn poll_until<S, T, F, Fut>(
    ctx: &OpContext,
    op: &Op,
    first: Probe<S, T>,
    mut probe: F,
) -> Result<T, AzureError>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Result<Probe<S, T>, AzureError>>,
{
    let mut reported: Option<String> = None;
    let mut current = first;
    loop {
        if let Some(line) = current.progress.take() {
            if reported.as_ref() != Some(&line) {
                ctx.report(line.clone());
                reported = Some(line);
            }
        }
        match current.step {
            Step::Done(result) => return Ok(result),
            Step::Again { state, delay } => {
                wait(ctx, op, delay).await?;
                current = probe(state).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::context::CancelToken;
    use crate::azure::testing::timeout_of;
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    fn ctx_with_lines(timeout: Duration) -> (OpContext, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let ctx = OpContext::new(timeout, CancelToken::new())
            .with_progress(Arc::new(move |l| sink.lock().unwrap().push(l)));
        (ctx, lines)
    }

    /// Counts down from `n`, asking for `n` seconds before the next probe.
    async fn countdown(n: u64) -> Result<Probe<u64, &'static str>, AzureError> {
        Ok(match n {
            0 => Probe::done("done"),
            n => Probe::again(n - 1, Duration::from_secs(n)),
        }
        .reporting(Some(format!("{} left", n.min(2)))))
    }

    #[tokio::test(start_paused = true)]
    async fn waits_each_delay_and_reports_changes_only() {
        let (ctx, lines) = ctx_with_lines(Duration::from_secs(3600));
        let start = Instant::now();
        let first = Probe::again(3, Duration::from_secs(5)).reporting(Some("start".into()));
        let out = poll_until(&ctx, &Op::new("counting"), first, countdown)
            .await
            .unwrap();
        assert_eq!(out, "done");
        assert_eq!(start.elapsed(), Duration::from_secs(5 + 3 + 2 + 1));
        assert_eq!(
            *lines.lock().unwrap(),
            ["start", "2 left", "1 left", "0 left"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn done_at_first_needs_no_wait_or_probe() {
        let (ctx, _lines) = ctx_with_lines(Duration::from_secs(1));
        let start = Instant::now();
        let out = poll_until(&ctx, &Op::new("x"), Probe::<(), _>::done(7), |()| async {
            panic!("no probe when already done")
        })
        .await
        .unwrap();
        assert_eq!(out, 7);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_error_ends_polling() {
        let (ctx, _lines) = ctx_with_lines(Duration::from_secs(3600));
        let err = poll_until(
            &ctx,
            &Op::new("x"),
            Probe::<(), ()>::again((), Duration::ZERO),
            |()| async { Err(AzureError::Cancelled) },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AzureError::Cancelled));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_wait_with_a_timeout() {
        let (ctx, _lines) = ctx_with_lines(Duration::from_secs(100));
        let probes = Arc::new(Mutex::new(0));
        let seen = probes.clone();
        let err = poll_until(
            &ctx,
            &Op::new("waiting for x"),
            Probe::<(), ()>::again((), Duration::from_secs(60)),
            move |()| {
                *seen.lock().unwrap() += 1;
                async { Ok(Probe::again((), Duration::from_secs(60))) }
            },
        )
        .await
        .unwrap_err();
        assert_eq!(
            timeout_of(err),
            ("waiting for x".to_string(), Duration::from_secs(100))
        );
        assert_eq!(
            *probes.lock().unwrap(),
            1,
            "probed at 60 s, deadline at 100 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_ends_a_wait_at_once() {
        let (ctx, _lines) = ctx_with_lines(Duration::from_secs(3600));
        let cancel = ctx.cancel.clone();
        let task = tokio::spawn(async move {
            poll_until(
                &ctx,
                &Op::new("x"),
                Probe::<(), ()>::again((), Duration::from_secs(600)),
                |()| async { Ok(Probe::done(())) },
            )
            .await
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t0 = Instant::now();
        cancel.cancel();
        let out = task.await.unwrap();
        assert!(matches!(out, Err(AzureError::Cancelled)), "{out:?}");
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }
}
