//! Running attempts: each the executor's future raced against cancellation and the timeout, as a
//! task of one [`JoinSet`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::journal::LeaseLoss;
use crate::execution::{AttemptOutput, ExecutionError, ExecutionId, Executor, Journal, RunRequest};

/// How an attempt's task ended.
#[derive(Clone, Debug)]
pub(super) enum AttemptEnd {
    /// The executor returned.
    Finished(Result<AttemptOutput, ExecutionError>),
    /// The timeout (in ms) elapsed first; the executor's future was dropped.
    TimedOut(u64),
    /// The cancellation token fired first; the executor's future was dropped.
    Stopped,
    /// The executor panicked (the message).
    Panicked(String),
}

/// An attempt's end, as the dispatcher takes it.
#[derive(Clone, Debug)]
pub(super) struct Ended {
    pub id: ExecutionId,
    /// The claim's fencing token: tells this attempt apart from a later claim of the same
    /// execution by the same worker.
    pub lease_token: i64,
    pub end: AttemptEnd,
    /// The store refused one of the attempt's writes: it lost its lease ([`LeaseLoss`]).
    pub lease_lost: bool,
}

/// A running attempt's handles.
struct Attempt {
    id: ExecutionId,
    lease_token: i64,
    token: CancellationToken,
    loss: Arc<LeaseLoss>,
}

/// The attempts a dispatcher runs: tasks of one [`JoinSet`], each with a child of one
/// dispatcher-wide [`CancellationToken`].
///
/// Cancellation: [`stop`](Attempts::stop) fires one attempt's token, [`stop_all`](Attempts::stop_all)
/// the dispatcher-wide one (every attempt's, also those spawned later: they start stopped). A
/// stopped attempt's executor future is dropped (aborting in-flight work) before its task ends,
/// so whatever the dispatcher commits afterwards happens after the executor stopped; the same
/// holds for a panic (tokio drops the future before the task's end is seen). Dropping
/// `Attempts` aborts the tasks still running.
pub(super) struct Attempts {
    tasks: JoinSet<AttemptEnd>,
    running: HashMap<Id, Attempt>,
    all: CancellationToken,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts { tasks: JoinSet::new(), running: HashMap::new(), all: CancellationToken::new() }
    }
}

impl Attempts {
    /// Spawns an attempt of `request` (whose claim's token is `lease_token`), recording into the
    /// journal `journal` makes from the attempt's [`LeaseLoss`].
    pub(super) fn spawn(
        &mut self,
        executor: Arc<dyn Executor>,
        request: RunRequest,
        lease_token: i64,
        journal: impl FnOnce(Arc<LeaseLoss>) -> Arc<dyn Journal>,
    ) {
        let id = request.execution.id.clone();
        let timeout = request.execution.timeout_ms;
        let token = self.all.child_token();
        let loss = LeaseLoss::new(token.clone());
        let journal = journal(loss.clone());
        let cancel = token.clone();
        let task = self.tasks.spawn(async move {
            // Creating the future runs executor code too: a panic there ends the task like one
            // in a poll.
            let work = executor.execute(request, journal, cancel.clone());
            let limited = async move {
                match timeout {
                    Some(ms) => tokio::time::timeout(Duration::from_millis(ms), work).await.map_err(|_| ms),
                    None => Ok(work.await),
                }
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => AttemptEnd::Stopped,
                ended = limited => match ended {
                    Ok(result) => AttemptEnd::Finished(result),
                    Err(ms) => AttemptEnd::TimedOut(ms),
                },
            }
        });
        self.running.insert(task.id(), Attempt { id, lease_token, token, loss });
    }

    /// Fires the token of attempt `lease_token` of `id`, if it runs.
    pub(super) fn stop(&self, id: &ExecutionId, lease_token: i64) {
        let attempt = self.running.values().find(|a| a.id == *id && a.lease_token == lease_token);
        if let Some(attempt) = attempt {
            attempt.token.cancel();
        }
    }

    /// Fires the dispatcher-wide token.
    pub(super) fn stop_all(&self) {
        self.all.cancel();
    }

    pub(super) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The next attempt to end; `None` at once when none runs.
    ///
    /// Cancellation: dropping the future loses nothing (an ended task stays in the set).
    pub(super) async fn join_next(&mut self) -> Option<Ended> {
        let joined = self.tasks.join_next_with_id().await?;
        Some(self.ended(joined))
    }

    /// An attempt that has ended already, if any (does not wait).
    pub(super) fn try_join_next(&mut self) -> Option<Ended> {
        let joined = self.tasks.try_join_next_with_id()?;
        Some(self.ended(joined))
    }

    fn ended(&mut self, joined: Result<(Id, AttemptEnd), JoinError>) -> Ended {
        let (task, end) = match joined {
            Ok((task, end)) => (task, end),
            Err(e) if e.is_panic() => (e.id(), AttemptEnd::Panicked(panic_message(e.into_panic()))),
            // Aborted: only when the set is dropped, so never seen; taken as stopped.
            Err(e) => (e.id(), AttemptEnd::Stopped),
        };
        let attempt = self.running.remove(&task).expect("every task of the set is recorded when spawned");
        Ended { id: attempt.id, lease_token: attempt.lease_token, end, lease_lost: attempt.loss.is_lost() }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the executor panicked".to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::test_support::{crew, execution, MemoryJournal};
    use crate::execution::BoxFuture;

    type Run = BoxFuture<'static, Result<AttemptOutput, ExecutionError>>;

    /// An executor whose attempt is the closure's future (called when the attempt starts).
    struct Scripted<F>(F);

    impl<F> Executor for Scripted<F>
    where
        F: Fn(CancellationToken) -> Run + Send + Sync + 'static,
    {
        fn execute(&self, _: RunRequest, _: Arc<dyn Journal>, cancel: CancellationToken) -> Run {
            (self.0)(cancel)
        }
    }

    fn spawn(attempts: &mut Attempts, name: &str, lease_token: i64, timeout_ms: Option<u64>, executor: Arc<dyn Executor>) {
        let mut execution = execution(&crew(vec![], vec![], Path::new(".")), 1);
        execution.id = ExecutionId::from(name);
        execution.timeout_ms = timeout_ms;
        let request = RunRequest { execution, completed_steps: vec![], reviews: vec![] };
        attempts.spawn(executor, request, lease_token, |_| Arc::new(MemoryJournal::default()));
    }

    fn forever() -> Arc<dyn Executor> {
        Arc::new(Scripted(|_| -> Run { Box::pin(std::future::pending()) }))
    }

    #[tokio::test]
    async fn a_panic_ends_the_attempt_with_its_message_whether_in_a_poll_or_making_the_future() {
        let mut attempts = Attempts::default();
        spawn(&mut attempts, "a", 7, None, Arc::new(Scripted(|_| -> Run { Box::pin(async { panic!("boom in a poll") }) })));
        let ended = attempts.join_next().await.unwrap();
        assert_eq!((ended.id.as_str(), ended.lease_token, ended.lease_lost), ("a", 7, false));
        assert!(matches!(&ended.end, AttemptEnd::Panicked(m) if m == "boom in a poll"), "{ended:?}");
        spawn(&mut attempts, "b", 8, None, Arc::new(Scripted(|_| -> Run { panic!("boom at {}", "once") })));
        let ended = attempts.join_next().await.unwrap();
        assert!(matches!(&ended.end, AttemptEnd::Panicked(m) if m == "boom at once"), "{ended:?}");
        assert!(attempts.is_empty());
        assert!(attempts.join_next().await.is_none(), "none runs");
    }

    #[tokio::test]
    async fn a_stop_drops_only_its_attempt_and_stop_all_also_stops_later_ones() {
        let mut attempts = Attempts::default();
        spawn(&mut attempts, "a", 1, None, forever());
        spawn(&mut attempts, "b", 2, None, forever());
        attempts.stop(&ExecutionId::from("a"), 99);
        attempts.stop(&ExecutionId::from("a"), 1);
        let ended = attempts.join_next().await.unwrap();
        assert_eq!(ended.id.as_str(), "a");
        assert!(matches!(ended.end, AttemptEnd::Stopped));
        assert!(attempts.try_join_next().is_none(), "b runs on");
        attempts.stop_all();
        spawn(&mut attempts, "c", 3, None, forever());
        let mut ids: Vec<String> = Vec::new();
        while let Some(ended) = attempts.join_next().await {
            assert!(matches!(ended.end, AttemptEnd::Stopped));
            ids.push(ended.id.to_string());
        }
        ids.sort();
        assert_eq!(ids, ["b", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_timeout_drops_the_future_and_a_tripped_lease_is_reported() {
        let mut attempts = Attempts::default();
        spawn(&mut attempts, "a", 1, Some(50), forever());
        assert!(matches!(attempts.join_next().await.unwrap().end, AttemptEnd::TimedOut(50)));
        let mut execution = execution(&crew(vec![], vec![], Path::new(".")), 1);
        execution.id = ExecutionId::from("b");
        let request = RunRequest { execution, completed_steps: vec![], reviews: vec![] };
        attempts.spawn(forever(), request, 2, |loss| {
            loss.trip(&crate::store::StoreError::Fenced { id: ExecutionId::from("b"), attempt: 1 });
            Arc::new(MemoryJournal::default())
        });
        let ended = attempts.join_next().await.unwrap();
        assert!(ended.lease_lost && matches!(ended.end, AttemptEnd::Stopped), "{ended:?}");
    }
}
