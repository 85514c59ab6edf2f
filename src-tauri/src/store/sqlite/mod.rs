//! [`SqliteStore`]: the store over one SQLite file.
//!
//! # Connections
//! One writer thread owns the only write connection and commits in groups (`sqlite/writer.rs`); reads
//! use a separate connection (WAL readers never block the writer, nor it them). Each
//! [`CommitProbe`] has a read connection of its own (`sqlite/probe.rs`). Several
//! processes may open the same file: writes serialise on SQLite's write lock (`BEGIN IMMEDIATE`,
//! waiting up to the busy timeout), so a claim never hands one execution to two processes.
//!
//! # Durability
//! The file runs in WAL mode with `synchronous=NORMAL`: a COMMIT appends to the WAL without
//! waiting for `fsync`; the WAL is synced at checkpoints. So a committed write survives a crash
//! of the *process* at any point (the OS still has it), but on a *power loss* or an OS crash the
//! transactions committed since the last sync may be rolled back. The database stays consistent;
//! it just looks as of a moment earlier: a just-submitted execution may vanish, log lines may be
//! missing at the end, or a finished execution may be back to `running`, in which case its lease
//! expires and it is recovered and run again.
//!
//! # Checkpoints
//! A checkpointer thread copies the WAL into the file every few hundred commits, off the commit
//! path (`sqlite/checkpointer.rs`). The writer connection checkpoints inside a commit only when
//! the WAL has grown to 16,384 pages (64 MiB): under a writer that is never idle the WAL could
//! otherwise not start over, and grew without bound.
//!
//! # Pragmas
//! `journal_mode=WAL`, `synchronous=NORMAL`, `foreign_keys=ON` and `busy_timeout` (5 s unless
//! [`OpenOptions`] says otherwise) are set on open and read back; if one did not take, opening
//! fails with [`StoreError::Pragma`].
//!
//! # Migrations
//! `migrations/NNNN_name.sql` are embedded and applied in order on open, each in one
//! transaction, recorded in `schema_migrations` and `PRAGMA user_version`. A file whose
//! `user_version` is newer than this binary knows is refused ([`StoreError::TooNew`]) before
//! anything is written to it.

mod checkpointer;
#[cfg(any(test, feature = "bench-internals"))]
#[doc(hidden)]
pub mod direct;
mod facts;
mod in_flight;
mod open;
mod probe;
mod prune;
mod read;
mod rows;
mod statements;
mod wal_batching;
mod write;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use statements::WriteConn;
use tokio::sync::oneshot;

pub use in_flight::wait_briefly_for_answers;
pub use open::{OpenOptions, SCHEMA_VERSION};
pub use prune::{DiskUsage, PruneCounts, PruneFilter, PruneFilterError};
pub use read::DEFAULT_LIST_LIMIT;

use crate::execution::{
    now_ms, BoxFuture, CompressedPayload, Execution, ExecutionError, ExecutionFilter, ExecutionId, InputAnswer, InputRequest, InputReview,
    LogEntry, LogEvent, Millis, NewExecution, Priority, Progress, StepOutput,
};
use crate::store::listeners::{Announced, CommitListeners};
use crate::store::liveness::{self, Liveness, OwnerLock};
use crate::store::{
    AttemptLease, BatchInserted, CancelResult, ClaimRequest, ClaimSlots, ClaimedRun, Finish, IdempotencyKey, LeaseRenewal, OwnerId,
    QueueSettings, RecoverRequest, StatusCounts, Store, StoreError, Transition,
};
use crate::store::{CommitListener, CommitProbe};
use checkpointer::Checkpointer;
use writer::{Urgency, Writer};

/// The SQLite store. Cheap to share behind an `Arc`; dropping the last handle stops the writer
/// thread after it has committed what was queued.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    reader: Arc<Mutex<Connection>>,
    listeners: CommitListeners,
    /// What it was opened with (a [`CommitProbe`]'s connection is opened the same way).
    options: OpenOptions,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options.
    /// The folder must exist. Blocking: call it before or outside the async runtime's hot path.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, OpenOptions::default())
    }

    /// Opens the database at `path`: checks the schema version, sets and verifies the pragmas,
    /// applies migrations and starts the writer thread.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let write_conn = open::open_writer(&path, &options)?;
        let reader = open::open_reader(&path, &options)?;
        let checkpointer = Checkpointer::spawn(open::open_checkpointer(&path, &options)?)
            .map_err(|e| StoreError::CommitFailed { path: path.clone(), message: format!("cannot start the checkpointer thread: {e}") })?;
        let writer = Writer::spawn(write_conn, path.clone(), Some(checkpointer))
            .map_err(|e| StoreError::CommitFailed { path: path.clone(), message: format!("cannot start the writer thread: {e}") })?;
        Ok(SqliteStore { path, writer, reader: Arc::new(Mutex::new(reader)), listeners: CommitListeners::default(), options })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many transactions this handle's writer has committed (each holds a whole batch of
    /// writes; a diagnostic for group commit).
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// The migrations recorded in the file, oldest first: `(version, name)`.
    pub fn applied_migrations(&self) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(|conn, path| open::applied_migrations(conn).map_err(|e| StoreError::from_sqlite(path, e)))
    }

    /// The busy timeout this store was opened with (read back from its read connection).
    fn busy_timeout(&self) -> Result<std::time::Duration, StoreError> {
        let ms: i64 = self
            .read(|conn, path| conn.pragma_query_value(None, "busy_timeout", |r| r.get(0)).map_err(|e| StoreError::from_sqlite(path, e)))?;
        Ok(std::time::Duration::from_millis(ms.max(0) as u64))
    }

    fn read<T>(&self, f: impl FnOnce(&Connection, &Path) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A poisoned lock only means another reader panicked; the connection itself is fine.
        let conn = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn, &self.path)
    }

    fn write<T, W>(&self, work: W) -> BoxFuture<'static, Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnOnce(&WriteConn, &Path) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_with(Urgency::Now, work)
    }

    fn write_with<T, W>(&self, urgency: Urgency, work: W) -> BoxFuture<'static, Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnOnce(&WriteConn, &Path) -> Result<T, StoreError> + Send + 'static,
    {
        let rx: oneshot::Receiver<Result<T, StoreError>> = self.writer.submit(urgency, work);
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Closed)) })
    }

    /// [`write_with`](Self::write_with) of a change the listeners hear ([`Store::listen`]): what
    /// it committed is announced to them right after the commit.
    fn write_announced<T, W>(&self, urgency: Urgency, work: W) -> BoxFuture<'static, Result<T, StoreError>>
    where
        T: Announced + Send + 'static,
        W: FnOnce(&WriteConn, &Path) -> Result<T, StoreError> + Send + 'static,
    {
        let listeners = self.listeners.clone();
        let rx = self.writer.submit_announcing(urgency, work, move |answer: &T| listeners.announce(answer));
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Closed)) })
    }
}

/// Claims as `request` says and reads each claimed execution's completed steps, in the
/// caller's transaction.
fn claim_runs(conn: &WriteConn, path: &Path, request: &ClaimRequest) -> Result<Vec<ClaimedRun>, StoreError> {
    write::claim(conn, path, request)?
        .into_iter()
        .map(|transition| {
            let completed_steps = read::steps(conn, path, &transition.execution.id)?;
            let reviews = rows::load_reviews(conn, path, &transition.execution.id)?;
            Ok(ClaimedRun { transition, completed_steps, reviews })
        })
        .collect()
}

impl Store for SqliteStore {
    fn insert(&self, new: NewExecution) -> BoxFuture<'static, Result<Transition, StoreError>> {
        self.write_announced(Urgency::Now, move |conn, path| write::insert(conn, path, new, now_ms()))
    }

    fn insert_batch(&self, news: Vec<NewExecution>, key: Option<IdempotencyKey>) -> BoxFuture<'static, Result<BatchInserted, StoreError>> {
        // One command, so one savepoint: a failing row rolls back every row before it.
        self.write_announced(Urgency::Now, move |conn, path| write::insert_batch(conn, path, news, key.as_ref(), now_ms()))
    }

    fn claim(&self, request: ClaimRequest) -> BoxFuture<'static, Result<Vec<Transition>, StoreError>> {
        self.write_announced(Urgency::Now, move |conn, path| write::claim(conn, path, &request))
    }

    fn claim_runs(&self, request: ClaimRequest) -> BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>> {
        self.write_announced(Urgency::Now, move |conn, path| claim_runs(conn, path, &request))
    }

    fn claim_when_ready(
        &self,
        mut request: ClaimRequest,
        slots: Arc<ClaimSlots>,
    ) -> BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>> {
        let listeners = self.listeners.clone();
        let work = move |conn: &WriteConn, path: &Path| {
            request.max = slots.get();
            if request.max == 0 {
                return Some(Ok(Vec::new()));
            }
            request.now = now_ms();
            match claim_runs(conn, path, &request) {
                Ok(claimed) if claimed.is_empty() => None,
                other => Some(other),
            }
        };
        let rx = self.writer.submit_waiting(work, move |claimed: &Vec<ClaimedRun>| listeners.announce(claimed));
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Closed)) })
    }

    fn renew_leases(&self, owner: &str, now: Millis, lease_ms: u64) -> BoxFuture<'static, Result<LeaseRenewal, StoreError>> {
        let owner = owner.to_string();
        self.write(move |conn, path| write::renew_leases(conn, path, &owner, now, lease_ms))
    }

    fn finish(&self, id: &ExecutionId, owner: &str, finish: Finish) -> BoxFuture<'static, Result<Transition, StoreError>> {
        let (id, owner) = (id.clone(), owner.to_string());
        self.write_announced(Urgency::Deferrable, move |conn, path| write::finish(conn, path, &id, &owner, finish, now_ms()))
    }

    fn schedule_retry(
        &self,
        id: &ExecutionId,
        owner: &str,
        error: ExecutionError,
        next_run_at: Millis,
    ) -> BoxFuture<'static, Result<Transition, StoreError>> {
        let (id, owner) = (id.clone(), owner.to_string());
        self.write_announced(Urgency::Deferrable, move |conn, path| {
            write::schedule_retry(conn, path, &id, &owner, error, next_run_at, now_ms())
        })
    }

    fn requeue(&self, id: &ExecutionId, owner: &str, reason: &str) -> BoxFuture<'static, Result<Transition, StoreError>> {
        let (id, owner, reason) = (id.clone(), owner.to_string(), reason.to_string());
        self.write_announced(Urgency::Deferrable, move |conn, path| write::requeue(conn, path, &id, &owner, &reason, now_ms()))
    }

    fn await_input(&self, id: &ExecutionId, owner: &str, request: InputRequest) -> BoxFuture<'static, Result<Transition, StoreError>> {
        let (id, owner) = (id.clone(), owner.to_string());
        self.write_announced(Urgency::Deferrable, move |conn, path| write::await_input(conn, path, &id, &owner, request, now_ms()))
    }

    fn answer_input(&self, id: &ExecutionId, answer: InputAnswer) -> BoxFuture<'static, Result<Transition, StoreError>> {
        let id = id.clone();
        self.write_announced(Urgency::Now, move |conn, path| write::answer_input(conn, path, &id, answer, now_ms()))
    }

    fn reviews(&self, id: &ExecutionId) -> Result<Vec<InputReview>, StoreError> {
        self.read(|conn, path| rows::load_reviews(conn, path, id))
    }

    fn request_cancel(&self, id: &ExecutionId) -> BoxFuture<'static, Result<CancelResult, StoreError>> {
        let id = id.clone();
        self.write_announced(Urgency::Now, move |conn, path| write::request_cancel(conn, path, &id, now_ms()))
    }

    fn set_priority(&self, id: &ExecutionId, priority: Priority) -> BoxFuture<'static, Result<Transition, StoreError>> {
        let id = id.clone();
        self.write_announced(Urgency::Now, move |conn, path| write::set_priority(conn, path, &id, priority, now_ms()))
    }

    fn recover(&self, request: RecoverRequest) -> BoxFuture<'static, Result<Vec<Transition>, StoreError>> {
        self.write_announced(Urgency::Now, move |conn, path| write::recover(conn, path, &request))
    }

    fn lock_owner(&self, owner: &OwnerId) -> Result<OwnerLock, StoreError> {
        OwnerLock::acquire(&self.path, owner)
            .map_err(|e| StoreError::OwnerLock { path: liveness::owners_dir(&self.path), detail: e.to_string() })
    }

    fn owner_liveness(&self, owner: &str) -> Liveness {
        liveness::probe(&self.path, owner)
    }

    fn listen(&self, listener: &Arc<CommitListener>) {
        self.listeners.add(listener);
    }

    fn commit_probe(&self) -> Result<Box<dyn CommitProbe>, StoreError> {
        let conn = open::open_reader(&self.path, &self.options)?;
        Ok(Box::new(probe::SqliteCommitProbe::new(conn, self.path.clone(), self.writer.clone())?))
    }

    fn update_progress(&self, id: &ExecutionId, lease: AttemptLease, progress: Progress) -> BoxFuture<'static, Result<(), StoreError>> {
        let id = id.clone();
        self.write(move |conn, path| {
            write::check_lease(conn, path, &id, lease)?;
            write::update_progress(conn, path, &id, &progress)
        })
    }

    fn append_logs(
        &self,
        id: &ExecutionId,
        lease: AttemptLease,
        events: Vec<LogEvent>,
    ) -> BoxFuture<'static, Result<Vec<LogEntry>, StoreError>> {
        let id = id.clone();
        self.write(move |conn, path| {
            write::check_lease(conn, path, &id, lease)?;
            let at = now_ms();
            events.into_iter().map(|event| write::append_log(conn, path, &id, lease.attempt, at, event)).collect()
        })
    }

    fn append_call_log(
        &self,
        id: &ExecutionId,
        lease: AttemptLease,
        event: LogEvent,
        payload: Option<CompressedPayload>,
    ) -> BoxFuture<'static, Result<LogEntry, StoreError>> {
        let id = id.clone();
        self.write(move |conn, path| {
            write::check_lease(conn, path, &id, lease)?;
            let entry = write::append_log(conn, path, &id, lease.attempt, now_ms(), event)?;
            if let Some(payload) = payload {
                write::insert_payload(conn, path, &id, entry.seq, &payload)?;
            }
            Ok(entry)
        })
    }

    fn call_payload(&self, id: &ExecutionId, call: u64) -> Result<Option<CompressedPayload>, StoreError> {
        self.read(|conn, path| read::call_payload(conn, path, id, call))
    }

    fn save_step(&self, id: &ExecutionId, step: StepOutput) -> BoxFuture<'static, Result<bool, StoreError>> {
        let id = id.clone();
        self.write(move |conn, path| write::save_step(conn, path, &id, step))
    }

    fn save_step_logged(
        &self,
        id: &ExecutionId,
        lease: AttemptLease,
        step: StepOutput,
        completion: LogEvent,
    ) -> BoxFuture<'static, Result<Option<LogEntry>, StoreError>> {
        let id = id.clone();
        self.write(move |conn, path| {
            write::check_lease(conn, path, &id, lease)?;
            if !write::save_step(conn, path, &id, step)? {
                return Ok(None);
            }
            write::append_log(conn, path, &id, lease.attempt, now_ms(), completion).map(Some)
        })
    }

    fn set_paused(&self, paused: bool) -> BoxFuture<'static, Result<QueueSettings, StoreError>> {
        self.write_announced(Urgency::Now, move |conn, path| write::set_queue(conn, path, Some(paused), None, now_ms()))
    }

    fn set_concurrency(&self, concurrency: u32) -> BoxFuture<'static, Result<QueueSettings, StoreError>> {
        self.write_announced(Urgency::Now, move |conn, path| write::set_queue(conn, path, None, Some(concurrency), now_ms()))
    }

    fn flush(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        self.write(|_, _| Ok(()))
    }

    fn get(&self, id: &ExecutionId) -> Result<Option<Execution>, StoreError> {
        let mut found = self.read(|conn, path| rows::load_execution(conn, path, id))?;
        liveness::mark_gone_owners(&self.path, found.as_mut());
        Ok(found)
    }

    fn list(&self, filter: &ExecutionFilter) -> Result<Vec<Execution>, StoreError> {
        let mut listed = self.read(|conn, path| read::list(conn, path, filter))?;
        liveness::mark_gone_owners(&self.path, listed.iter_mut());
        Ok(listed)
    }

    fn any_worker_alive(&self) -> bool {
        liveness::any_worker_alive(&self.path)
    }

    fn logs(&self, id: &ExecutionId, after_seq: u64, limit: u32) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|conn, path| read::logs(conn, path, id, after_seq, limit))
    }

    fn steps(&self, id: &ExecutionId) -> Result<Vec<StepOutput>, StoreError> {
        self.read(|conn, path| read::steps(conn, path, id))
    }

    fn queue_settings(&self) -> Result<QueueSettings, StoreError> {
        self.read(read::queue_settings)
    }

    fn counts(&self) -> Result<StatusCounts, StoreError> {
        self.read(read::counts)
    }

    fn next_retry_at(&self, after: Millis) -> Result<Option<Millis>, StoreError> {
        self.read(|conn, path| read::next_retry_at(conn, path, after))
    }

    fn prune(&self, filter: &PruneFilter, max: u32) -> BoxFuture<'static, Result<PruneCounts, StoreError>> {
        let filter = filter.clone();
        self.write(move |conn, path| {
            // It deletes executions and their logs behind the writer's facts.
            conn.facts().forget();
            prune::prune_batch(conn, path, &filter, max)
        })
    }

    fn prune_preview(&self, filter: &PruneFilter) -> Result<PruneCounts, StoreError> {
        self.read(|conn, path| prune::prune_preview(conn, path, filter))
    }

    fn secret_refs(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        self.read(read::secret_refs)
    }

    fn disk_usage(&self) -> Result<DiskUsage, StoreError> {
        self.read(prune::disk_usage)
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        prune::checkpoint(&self.path, self.busy_timeout()?)
    }

    fn vacuum(&self) -> Result<(), StoreError> {
        prune::vacuum(&self.path, self.busy_timeout()?)
    }
}

#[cfg(test)]
mod tests;
