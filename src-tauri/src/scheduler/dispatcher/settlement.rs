//! How an ended attempt is settled: the one write that takes it out of `running`.

use std::time::Duration;

use rand::Rng;

use super::super::attempt::AttemptEnd;
use super::super::Backoff;
use crate::execution::{AttemptOutput, ErrorKind, ExecutionError, InputRequest, Millis};
use crate::store::Finish;

/// Why the dispatcher fired an attempt's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StopReason {
    Cancel,
    Shutdown,
    /// The lease was lost (another process recovered the execution): drop it, write nothing.
    LeaseLost,
}

/// The write that ends an attempt.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Settlement {
    Finish(Finish),
    Retry {
        error: ExecutionError,
        next_run_at: Millis,
    },
    /// Back to `queued` with the attempt refunded (the worker is shutting down).
    Requeue,
    /// A task's answer waits for human review (the slot is freed).
    AwaitInput(InputRequest),
}

/// The attempt an ended task ran, as far as settling it needs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ran {
    /// The attempt's number (1-based).
    pub attempt: u32,
    pub max_attempts: u32,
    /// Why the dispatcher stopped it, if it did (the first reason given).
    pub stop: Option<StopReason>,
}

/// How an attempt that ended with `end` is settled; `None` when nothing is written (its lease was
/// lost: another worker owns the execution now).
///
/// An answer the executor returned wins over a stop that came too late to drop it (a success
/// stays a success, a review request stays one); otherwise a cancel ends it `cancelled`, a stop
/// for shutdown (or by no one: the token of a task that was never told) requeues it, a timeout or
/// a panic fails it, and an error goes to [`after_failure`].
pub(super) fn settle(ran: Ran, end: AttemptEnd, backoff: &Backoff, rng: &mut impl Rng, now: Millis) -> Option<Settlement> {
    let settlement = match (ran.stop, end) {
        (Some(StopReason::LeaseLost), _) => return None,
        (_, AttemptEnd::Finished(Ok(AttemptOutput::Finished(out)))) => {
            Settlement::Finish(Finish::Succeeded { output: out.output, usage: out.usage })
        }
        (_, AttemptEnd::Finished(Ok(AttemptOutput::AwaitingInput(request)))) => Settlement::AwaitInput(request),
        (Some(StopReason::Cancel), _) => Settlement::Finish(Finish::Cancelled),
        (Some(StopReason::Shutdown) | None, AttemptEnd::Stopped) => Settlement::Requeue,
        (_, AttemptEnd::Finished(Err(error))) => after_failure(ran, error, backoff, rng, now),
        (_, AttemptEnd::TimedOut(ms)) => Settlement::Finish(Finish::Failed {
            error: ExecutionError::new(ErrorKind::Timeout, format!("the attempt exceeded its timeout of {ms} ms"))
                .with_details(serde_json::json!({ "timeout_ms": ms })),
            usage: None,
        }),
        (_, AttemptEnd::Panicked(message)) => Settlement::Finish(Finish::Failed {
            error: ExecutionError::new(ErrorKind::Internal, format!("the executor panicked: {message}")),
            usage: None,
        }),
    };
    Some(settlement)
}

/// A retryable error while attempts remain is retried, due after `max(full-jitter backoff,
/// Retry-After)` from `now`; any other error fails the execution.
pub(super) fn after_failure(ran: Ran, error: ExecutionError, backoff: &Backoff, rng: &mut impl Rng, now: Millis) -> Settlement {
    if error.retryable && ran.attempt < ran.max_attempts {
        let retry_after = error.retry_after_ms.map(Duration::from_millis);
        let delay = backoff.delay(ran.attempt, retry_after, rng);
        let delay_ms = Millis::try_from(delay.as_millis()).unwrap_or(Millis::MAX);
        Settlement::Retry { error, next_run_at: now.saturating_add(delay_ms) }
    } else {
        Settlement::Finish(Finish::Failed { error, usage: None })
    }
}
