//! Test executors and helpers shared by the scheduler integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crew_runner::execution::{
    now_ms, AttemptOutput, BoxFuture, ErrorKind, EventKind, ExecutionError, ExecutionEvent, ExecutionId, Executor, Journal, LogEvent,
    NewExecution, Priority, RunOutput, RunRequest, StepOutput, Usage,
};
use crew_runner::scheduler::{Backoff, ClaimScope, Scheduler, SchedulerConfig};
use crew_runner::store::{SqliteStore, Store};
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

/// A safety net so a broken test fails instead of hanging; never used to synchronise.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn temp_store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("crew.db")).unwrap());
    (dir, store)
}

/// Fast settings: 50 ms heartbeat, millisecond backoff.
pub fn fast_config(concurrency: u32) -> SchedulerConfig {
    SchedulerConfig {
        concurrency: Some(concurrency),
        lease: Duration::from_secs(10),
        heartbeat: Duration::from_millis(50),
        backoff: Backoff { base: Duration::from_millis(5), factor: 2, cap: Duration::from_millis(20) },
        scope: ClaimScope::All,
    }
}

pub fn job(name: &str, priority: Priority) -> NewExecution {
    NewExecution {
        crew_name: name.into(),
        crew_source: format!("{name}.yaml"),
        crew_spec: serde_json::json!({ "name": name }).into(),
        priority,
        max_attempts: 3,
        ..NewExecution::default()
    }
}

/// Waits (bounded by [`PATIENCE`]) for the first event `pick` maps to `Some`.
pub async fn next_event<T>(events: &mut broadcast::Receiver<ExecutionEvent>, mut pick: impl FnMut(&ExecutionEvent) -> Option<T>) -> T {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("the expected event never came")
}

pub async fn wait(scheduler: &Scheduler, id: &ExecutionId) -> crew_runner::execution::Execution {
    tokio::time::timeout(PATIENCE, scheduler.wait(id)).await.expect("never finished").unwrap()
}

/// Succeeds at once, recording the crew names in start order.
#[derive(Default)]
pub struct Noop {
    pub started: Mutex<Vec<String>>,
}

impl Executor for Noop {
    fn execute(
        &self,
        request: RunRequest,
        _: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        self.started.lock().unwrap().push(request.execution.crew_name.clone());
        Box::pin(async move { Ok(RunOutput { output: format!("done {}", request.execution.crew_name), usage: Usage::default() }.into()) })
    }
}

/// Sets its flag when dropped (with the executor's future).
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Never finishes on its own and ignores the token: only dropping its future stops it.
/// Reports each start; its future's drop sets `dropped` (counted in `drops`).
pub struct WaitsForCancel {
    pub started: mpsc::UnboundedSender<ExecutionId>,
    pub dropped: Arc<AtomicBool>,
    pub drops: Arc<AtomicUsize>,
}

pub struct CountDrop(pub Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl WaitsForCancel {
    pub fn new() -> (Arc<WaitsForCancel>, mpsc::UnboundedReceiver<ExecutionId>) {
        let (started, rx) = mpsc::unbounded_channel();
        let exec = WaitsForCancel { started, dropped: Arc::new(AtomicBool::new(false)), drops: Arc::new(AtomicUsize::new(0)) };
        (Arc::new(exec), rx)
    }
}

impl Executor for WaitsForCancel {
    fn execute(
        &self,
        request: RunRequest,
        _: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        let flag = DropFlag(self.dropped.clone());
        let count = CountDrop(self.drops.clone());
        let started = self.started.clone();
        Box::pin(async move {
            let _guards = (flag, count);
            let _ = started.send(request.execution.id.clone());
            std::future::pending::<()>().await;
            unreachable!()
        })
    }
}

/// Fails with a retryable error (HTTP 5xx, optionally with Retry-After) on its first `n`
/// attempts, then succeeds.
pub struct FailsNTimes {
    pub n: u32,
    pub retry_after_ms: Option<u64>,
}

impl Executor for FailsNTimes {
    fn execute(
        &self,
        request: RunRequest,
        _: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        let (n, retry_after) = (self.n, self.retry_after_ms);
        Box::pin(async move {
            if request.execution.attempt <= n {
                let mut e = ExecutionError::new(ErrorKind::LlmServer, format!("502 on attempt {}", request.execution.attempt));
                if let Some(ms) = retry_after {
                    e = e.with_retry_after_ms(ms);
                }
                Err(e)
            } else {
                Ok(RunOutput { output: "finally".into(), usage: Usage::default() }.into())
            }
        })
    }
}

/// Fails with an error that is not retryable.
pub struct FailsPermanently;

impl Executor for FailsPermanently {
    fn execute(
        &self,
        _: RunRequest,
        _: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        Box::pin(async { Err(ExecutionError::new(ErrorKind::LlmClient, "401 unauthorized")) })
    }
}

/// Attempt 1 logs, reports progress, saves step `research` and fails (retryable); later
/// attempts record the completed steps they were given and succeed.
#[derive(Default)]
pub struct SavesStepsThenFails {
    pub given: Mutex<Vec<Vec<String>>>,
}

impl Executor for SavesStepsThenFails {
    fn execute(
        &self,
        request: RunRequest,
        journal: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        self.given.lock().unwrap().push(request.completed_steps.iter().map(|s| s.step.clone()).collect());
        let attempt = request.execution.attempt;
        Box::pin(async move {
            if attempt > 1 {
                journal.log(LogEvent::info(EventKind::TaskSkipped, "research").with_task("research"));
                return Ok(RunOutput { output: "written".into(), usage: Usage::default() }.into());
            }
            journal.log(LogEvent::info(EventKind::TaskStarted, "research").with_task("research"));
            journal
                .progress(crew_runner::execution::Progress {
                    completed_steps: 1,
                    total_steps: 2,
                    current_step: Some("write".into()),
                    current_agent: None,
                })
                .await
                .map_err(ExecutionError::from)?;
            save_research(journal.as_ref(), "facts", attempt).await?;
            Err(ExecutionError::new(ErrorKind::LlmConnection, "connection reset"))
        })
    }
}

/// Counts executions running at once; each waits for a permit the test hands out.
pub struct Gated {
    pub running: Arc<AtomicUsize>,
    pub max_running: Arc<AtomicUsize>,
    pub permits: Arc<Semaphore>,
    pub started: mpsc::UnboundedSender<usize>,
}

impl Gated {
    pub fn new() -> (Arc<Gated>, mpsc::UnboundedReceiver<usize>) {
        let (started, rx) = mpsc::unbounded_channel();
        let gated = Gated {
            running: Arc::new(AtomicUsize::new(0)),
            max_running: Arc::new(AtomicUsize::new(0)),
            permits: Arc::new(Semaphore::new(0)),
            started,
        };
        (Arc::new(gated), rx)
    }
}

impl Executor for Gated {
    fn execute(
        &self,
        _: RunRequest,
        _: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let _ = self.started.send(now);
        let (permits, running) = (self.permits.clone(), self.running.clone());
        Box::pin(async move {
            permits.acquire().await.expect("semaphore open").forget();
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(RunOutput::default().into())
        })
    }
}

pub fn store_dyn(store: &Arc<SqliteStore>) -> Arc<dyn Store> {
    store.clone()
}

/// The next message (bounded by [`PATIENCE`]).
pub async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, rx.recv()).await.expect("nothing came").expect("channel closed")
}

/// Waits for the test's go, then saves one step and, if that was accepted, "calls the model"
/// again (counted in `later_calls`) before succeeding. Reports its start on `started` and its
/// future's drop on `dropped` (a stopped attempt's future is dropped).
pub struct WritesAfterGo {
    pub go: Arc<tokio::sync::Notify>,
    pub later_calls: Arc<AtomicUsize>,
    pub started: mpsc::UnboundedSender<ExecutionId>,
    pub dropped: mpsc::UnboundedSender<ExecutionId>,
}

/// Sends the execution id on its channel when dropped.
struct SendOnDrop(mpsc::UnboundedSender<ExecutionId>, ExecutionId);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(self.1.clone());
    }
}

impl Executor for WritesAfterGo {
    fn execute(
        &self,
        request: RunRequest,
        journal: Arc<dyn Journal>,
        _: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        let (go, later_calls, started) = (self.go.clone(), self.later_calls.clone(), self.started.clone());
        let guard = SendOnDrop(self.dropped.clone(), request.execution.id.clone());
        let (id, attempt) = (request.execution.id.clone(), request.execution.attempt);
        Box::pin(async move {
            let _guard = guard;
            let _ = started.send(id);
            go.notified().await;
            save_research(journal.as_ref(), "stale facts", attempt).await?;
            later_calls.fetch_add(1, Ordering::SeqCst);
            Ok(RunOutput { output: "done".into(), usage: Usage::default() }.into())
        })
    }
}

/// Saves the step `research` with `output` for `attempt`, with its completion line.
async fn save_research(journal: &dyn Journal, output: &str, attempt: u32) -> Result<(), ExecutionError> {
    let step = StepOutput {
        step: "research".into(),
        agent: "researcher".into(),
        output: output.into(),
        json: serde_json::Value::Null,
        usage: Usage::default(),
        attempt,
        completed_at: now_ms(),
    };
    let completed = LogEvent::info(EventKind::TaskCompleted, "research").with_task("research");
    journal.save_step(step, completed).await.map_err(ExecutionError::from)
}
