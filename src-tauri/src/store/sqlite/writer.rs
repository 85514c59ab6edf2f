//! The writer thread: the one owner of the write connection, committing in groups.
//!
//! Commands arrive over a `crossbeam-channel`. The thread waits for the first (polling the
//! channel for up to [`SPIN`] before it parks, so a command sent right after a commit is picked
//! up without a futex wake-up), drains whatever else is queued (up to [`MAX_BATCH`]) and applies
//! them all in one `BEGIN IMMEDIATE` transaction. A failing command (a constraint, a missing id)
//! is rolled back alone and the rest of the batch commits: every command after the first runs
//! inside its own savepoint; the first runs without one (a savepoint copies every page it
//! touches into its sub-journal), and when it fails the transaction is rolled back and begun
//! again, which undoes exactly that command. After `COMMIT` each command's result is delivered;
//! if a `BEGIN` or the `COMMIT` itself fails, every command still waiting in the batch gets that
//! error and nothing of the batch is kept.
//!
//! A *deferrable* command (an attempt's settlement, a waiting claim: writes no caller is blocked
//! on) that arrives right after a batch with other writes is *held* for up to [`HOLD`] for
//! company: a busy submitter's next write usually comes within tens of microseconds, and the two
//! then share one transaction instead of committing one each (Nagle's algorithm, for commits).
//! Only a batch of nothing but deferrable commands is held, and only once in a row, so a queue
//! that is only settling and claiming (draining) never waits; a held command's answer is
//! delayed by at most [`HOLD`].
//!
//! A *waiting* command (a claim that waits for work, [`Writer::submit_waiting`]) may answer "not
//! yet": it is then kept and tried again at the end of every later batch, inside that batch's
//! transaction (so it sees what the batch wrote), until it answers; and at the end of its own
//! batch too when a command after it in the batch wrote something (a claim, then the submission
//! it can take). Kept commands are tried in the order they arrived.
//!
//! A command may *announce* its result: after `COMMIT`, before any answer of the batch is sent,
//! each applied command's announcement runs on this thread in the order the commands were
//! applied, so announcements follow commit order exactly (the store announces committed state
//! transitions this way, see [`Store::listen`](crate::store::Store::listen)). Nothing is announced
//! for a failed command or a batch that did not commit.
//!
//! The thread ends when every sender is dropped, after applying what was queued; commands still
//! waiting then are dropped (their receivers report `Closed`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpointer::{Checkpointer, CHECKPOINT_EVERY};
use super::in_flight::InFlight;
use super::statements::WriteConn;
use crate::store::StoreError;

/// At most this many commands share one transaction.
pub(super) const MAX_BATCH: usize = 512;

/// How long the idle writer polls its channel before parking. Short, so an idle store costs no
/// CPU, but longer than the usual gap between an answer and the next write of a busy caller.
pub(super) const SPIN: Duration = Duration::from_micros(50);

/// How long a batch of only deferrable commands is held for company (see the module docs).
pub(super) const HOLD: Duration = Duration::from_micros(100);

/// What applying a command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Applied {
    /// It has its answer: `true` when it succeeded, `false` when it failed (and must be undone).
    Done(bool),
    /// A waiting command with nothing to do yet; it wrote nothing.
    Waiting,
}

/// One write, type-erased for the channel.
pub(super) trait WriteCommand: Send {
    /// Runs the write inside the batch transaction.
    fn apply(&mut self, conn: &WriteConn, path: &Path) -> Applied;

    /// Whether the command may be held for company before it is applied (see the module docs).
    fn deferrable(&self) -> bool;

    /// Announces the result (when it succeeded) after the batch committed, before any answer.
    fn announce(&mut self);
    /// Delivers the result after the batch committed.
    fn committed(self: Box<Self>);
    /// Delivers `error` instead: the batch as a whole failed.
    fn batch_failed(self: Box<Self>, error: &StoreError, path: &Path);
}

fn panicked(path: &Path) -> StoreError {
    StoreError::CommitFailed { path: path.to_path_buf(), message: "internal error: the write panicked".into() }
}

/// A write and where its answer goes: `work` returns `None` for "not yet" (only a waiting write
/// does; a plain write is one that always answers).
pub(super) struct Command<T, W, A> {
    work: W,
    /// Runs once with a successful result after the commit (see the module docs).
    announce: Option<A>,
    deferrable: bool,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    /// Counts the write as in flight until its answer is sent (not for a waiting write).
    _in_flight: Option<InFlight>,
}

impl<T, W, A> WriteCommand for Command<T, W, A>
where
    T: Send + 'static,
    W: FnMut(&WriteConn, &Path) -> Option<Result<T, StoreError>> + Send + 'static,
    A: FnOnce(&T) + Send + 'static,
{
    fn apply(&mut self, conn: &WriteConn, path: &Path) -> Applied {
        let work = &mut self.work;
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn, path))).unwrap_or_else(|_| Some(Err(panicked(path))));
        match result {
            None => Applied::Waiting,
            Some(result) => {
                let ok = result.is_ok();
                self.result = Some(result);
                Applied::Done(ok)
            }
        }
    }

    fn deferrable(&self) -> bool {
        self.deferrable
    }

    fn announce(&mut self) {
        if let (Some(Ok(result)), Some(announce)) = (&self.result, self.announce.take()) {
            // A panicking announcement must not take the writer thread (and every write) with it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| announce(result)));
        }
    }

    fn committed(self: Box<Self>) {
        let result = self.result.unwrap_or(Err(StoreError::Closed));
        let _ = self.reply.send(result);
    }

    fn batch_failed(self: Box<Self>, error: &StoreError, path: &Path) {
        let _ = self.reply.send(Err(copy_error(error, path)));
    }
}

/// A handle to send commands to the writer thread.
#[derive(Clone)]
pub(super) struct Writer {
    tx: Sender<Box<dyn WriteCommand>>,
    /// The writer's `COMMIT`s, begun and done.
    commits: Arc<Commits>,
    /// Transactions begun after another connection may have committed (see
    /// [`others_seen`](Writer::others_seen)).
    others: Arc<AtomicU64>,
}

/// Counts of the writer's `COMMIT`s, so that a reader can tell whether a change it sees in the
/// file may be one of the writer's ([`SqliteCommitProbe`](super::probe::SqliteCommitProbe)).
#[derive(Default)]
pub(super) struct Commits {
    /// `COMMIT`s started: raised just before the `COMMIT` (so before the change is visible to
    /// any other connection), lowered again when it fails (it changed nothing).
    begun: AtomicU64,
    /// Transactions committed (one per batch): raised after the `COMMIT`, before anyone is
    /// answered.
    done: AtomicU64,
}

/// Whether a command may be held for company ([`HOLD`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Urgency {
    /// Someone waits on it: applied in the next batch.
    Now,
    /// Nobody is blocked on it (an attempt's settlement): may be held for company.
    Deferrable,
}

impl Writer {
    /// Starts the writer thread on `conn` (already configured and migrated). It nudges
    /// `checkpointer`, when given, every [`CHECKPOINT_EVERY`] commits (and ends it when it ends).
    pub(super) fn spawn(conn: Connection, path: PathBuf, checkpointer: Option<Checkpointer>) -> std::io::Result<Writer> {
        Writer::spawn_holding(conn, path, checkpointer, HOLD)
    }

    /// [`spawn`](Self::spawn) with another hold time (tests).
    fn spawn_holding(conn: Connection, path: PathBuf, checkpointer: Option<Checkpointer>, hold: Duration) -> std::io::Result<Writer> {
        let (tx, rx) = crossbeam_channel::unbounded::<Box<dyn WriteCommand>>();
        let commits = Arc::new(Commits::default());
        let others = Arc::new(AtomicU64::new(0));
        let (counter, others_counter) = (commits.clone(), others.clone());
        std::thread::Builder::new()
            .name("crew-runner-store-writer".into())
            .spawn(move || run(conn, path, rx, counter, others_counter, checkpointer, hold))?;
        Ok(Writer { tx, commits, others })
    }

    /// How many transactions the writer has committed.
    pub(super) fn commits(&self) -> u64 {
        self.commits.done.load(Ordering::SeqCst)
    }

    /// How many `COMMIT`s the writer has started (committed, or committing now). Read after
    /// seeing a change in the file, it counts every commit of the writer that change can hold.
    pub(super) fn commits_begun(&self) -> u64 {
        self.commits.begun.load(Ordering::SeqCst)
    }

    /// How many of the writer's transactions began after another connection may have committed
    /// since the writer's previous commit (SQLite's data version of the file had moved on, or
    /// could not be compared). Raised at the `BEGIN`, before any command of that transaction is
    /// answered: once a write submitted after another connection's commit is answered, this
    /// count has moved past what it was before that commit.
    pub(super) fn others_seen(&self) -> u64 {
        self.others.load(Ordering::SeqCst)
    }

    /// Enqueues `work` now; the receiver yields its result after the batch commits.
    pub(super) fn submit<T, W>(&self, urgency: Urgency, work: W) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnOnce(&WriteConn, &Path) -> Result<T, StoreError> + Send + 'static,
    {
        self.submit_announcing(urgency, work, |_: &T| {})
    }

    /// [`submit`](Self::submit) whose successful result is given to `announce` on the writer
    /// thread right after the commit, in commit order, before any answer is sent.
    pub(super) fn submit_announcing<T, W, A>(&self, urgency: Urgency, work: W, announce: A) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnOnce(&WriteConn, &Path) -> Result<T, StoreError> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        let mut work = Some(work);
        let work = move |conn: &WriteConn, path: &Path| Some(work.take().map_or(Err(StoreError::Closed), |work| work(conn, path)));
        self.send(urgency, Some(InFlight::start()), work, announce)
    }

    /// Enqueues a waiting write: `work` runs in the next batch and, for as long as it returns
    /// `None`, again at the end of every later batch (in that batch's transaction, after the
    /// batch's own commands). It must write nothing when it returns `None`. The receiver yields
    /// its result after the batch in which it returned `Some` commits; a successful result is
    /// given to `announce` first, as for [`submit_announcing`](Self::submit_announcing).
    pub(super) fn submit_waiting<T, W, A>(&self, work: W, announce: A) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnMut(&WriteConn, &Path) -> Option<Result<T, StoreError>> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        // It waits anyway: holding it costs nothing. Not counted in flight: it may wait long.
        self.send(Urgency::Deferrable, None, work, announce)
    }

    fn send<T, W, A>(&self, urgency: Urgency, in_flight: Option<InFlight>, work: W, announce: A) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnMut(&WriteConn, &Path) -> Option<Result<T, StoreError>> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let deferrable = urgency == Urgency::Deferrable;
        // If the thread is gone the command (and its reply sender) is dropped: the receiver
        // then reports `Closed`.
        let _ = self.tx.send(Box::new(Command { work, announce: Some(announce), deferrable, result: None, reply, _in_flight: in_flight }));
        rx
    }
}

fn run(
    conn: Connection,
    path: PathBuf,
    rx: Receiver<Box<dyn WriteCommand>>,
    commits: Arc<Commits>,
    others: Arc<AtomicU64>,
    checkpointer: Option<Checkpointer>,
    hold: Duration,
) {
    // Dropped (its statements finalized) before `conn` closes.
    let db = WriteConn::counting_others(&conn, others);
    // Waiting commands kept from earlier batches, oldest first.
    let mut waiting: Vec<Box<dyn WriteCommand>> = Vec::new();
    // Deferrable commands held for company, and until when.
    let mut held: Vec<Box<dyn WriteCommand>> = Vec::new();
    let mut held_until: Option<Instant> = None;
    // Whether the last batch carried a command that was not deferrable (someone is writing).
    let mut busy = false;
    loop {
        let next = match held_until {
            None => match next_command(&rx) {
                Some(command) => Some(command),
                None => break,
            },
            // `None`: the hold is over (or every sender is gone); the held batch commits alone.
            Some(deadline) => next_command_until(&rx, deadline),
        };
        let arrived = next.is_some();
        let mut batch = std::mem::take(&mut held);
        batch.extend(next);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        let deferrable = batch.iter().all(|c| c.deferrable());
        let deadline = match held_until.take() {
            // Still only deferrable commands and time left: go on holding.
            Some(deadline) if arrived && deferrable && batch.len() < MAX_BATCH => Some(deadline),
            Some(_) => None,
            None if busy && deferrable && !hold.is_zero() => Some(Instant::now() + hold),
            None => None,
        };
        if deadline.is_some() {
            held = batch;
            held_until = deadline;
            continue;
        }
        busy = !deferrable;
        let before = commits.done.load(Ordering::Relaxed);
        waiting = commit_batch(&db, &path, batch, waiting, &commits);
        let after = commits.done.load(Ordering::Relaxed);
        if after != before && after.is_multiple_of(CHECKPOINT_EVERY) {
            if let Some(checkpointer) = &checkpointer {
                checkpointer.nudge();
            }
        }
    }
}

/// Waits for the next command: polls for up to [`SPIN`], then blocks. `None` once every sender
/// is gone and the channel is empty.
fn next_command(rx: &Receiver<Box<dyn WriteCommand>>) -> Option<Box<dyn WriteCommand>> {
    let deadline = Instant::now() + SPIN;
    match next_command_until(rx, deadline) {
        Some(command) => Some(command),
        None => rx.recv().ok(),
    }
}

/// The next command if one comes before `deadline` (polling: holds are short). `None` at the
/// deadline, or once every sender is gone.
fn next_command_until(rx: &Receiver<Box<dyn WriteCommand>>, deadline: Instant) -> Option<Box<dyn WriteCommand>> {
    let mut polls = 0u32;
    loop {
        match rx.try_recv() {
            Ok(command) => return Some(command),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) => {
                // The clock costs more than a poll of the channel: read it every 32 polls.
                polls = polls.wrapping_add(1);
                if polls.is_multiple_of(32) && Instant::now() >= deadline {
                    return None;
                }
                std::hint::spin_loop();
            }
        }
    }
}

/// Applies and commits one batch (counted in `commits` before anyone is answered), then tries
/// the `waiting` commands kept from earlier batches in the same transaction, then again those of
/// this batch that waited while a later command of the batch wrote something (a claim followed by
/// the submission it can take). Returns the commands still waiting afterwards (oldest first).
fn commit_batch(
    conn: &WriteConn,
    path: &Path,
    batch: Vec<Box<dyn WriteCommand>>,
    waiting: Vec<Box<dyn WriteCommand>>,
    commits: &Commits,
) -> Vec<Box<dyn WriteCommand>> {
    let mut batch = batch.into_iter();
    // Commands already answered with their own error (a failing first command of a transaction).
    let mut answered = Vec::new();
    // Waiting commands of this batch that did not answer when tried (they wrote nothing), each
    // with how many commands had been applied by then.
    let mut new_waiting: Vec<(Box<dyn WriteCommand>, usize)> = Vec::new();
    // Everything that wrote nothing goes on waiting when the batch cannot be applied.
    let keep_waiting = |waiting: Vec<Box<dyn WriteCommand>>, new_waiting: Vec<(Box<dyn WriteCommand>, usize)>| {
        waiting.into_iter().chain(new_waiting.into_iter().map(|(c, _)| c)).collect::<Vec<_>>()
    };
    // The transaction's first command runs without a savepoint; if it fails, rolling the
    // transaction back undoes it alone, and the next command starts a fresh transaction.
    let mut applied: Vec<Box<dyn WriteCommand>> = loop {
        if let Err(e) = conn.begin() {
            let error = StoreError::from_sqlite(path, e);
            answered.into_iter().for_each(|c: Box<dyn WriteCommand>| c.committed());
            batch.for_each(|c| c.batch_failed(&error, path));
            return keep_waiting(waiting, new_waiting);
        }
        let Some(mut first) = batch.next() else {
            // Every command failed on its own, or waits: the waiting ones are tried below.
            break Vec::new();
        };
        match first.apply(conn, path) {
            Applied::Done(true) => break vec![first],
            Applied::Waiting => {
                new_waiting.push((first, 0));
                break Vec::new();
            }
            Applied::Done(false) => {}
        }
        if let Err(e) = conn.run_cached("ROLLBACK") {
            let error = StoreError::from_sqlite(path, e);
            first.batch_failed(&error, path);
            answered.into_iter().for_each(|c: Box<dyn WriteCommand>| c.committed());
            batch.for_each(|c| c.batch_failed(&error, path));
            return keep_waiting(waiting, new_waiting);
        }
        answered.push(first);
    };
    // Gives up on the whole batch when the savepoint machinery itself failed: every command
    // applied or still to try gets `error` (a waiting command too: its answer may be in it).
    fn abandon(conn: &WriteConn, path: &Path, error: StoreError, answered: Vec<Box<dyn WriteCommand>>, rest: Vec<Box<dyn WriteCommand>>) {
        let _ = conn.run_cached("ROLLBACK");
        answered.into_iter().for_each(|c| c.committed());
        rest.into_iter().for_each(|c| c.batch_failed(&error, path));
    }
    // The rest of the batch.
    while let Some(mut command) = batch.next() {
        match apply_in_savepoint(conn, path, command.as_mut()) {
            Ok(Applied::Waiting) => new_waiting.push((command, applied.len())),
            Ok(Applied::Done(_)) => applied.push(command),
            Err(e) => {
                let rest = applied.into_iter().chain(std::iter::once(command)).chain(batch).chain(keep_waiting(waiting, new_waiting));
                abandon(conn, path, e, answered, rest.collect());
                return Vec::new();
            }
        }
    }
    // Then the commands kept waiting from earlier batches (which now see what this batch wrote),
    // then this batch's waiting ones that a later command of the batch may have made ready.
    let written = applied.len();
    let mut still_waiting: Vec<Box<dyn WriteCommand>> = Vec::new();
    let mut tries = waiting.into_iter().map(|c| (c, true)).chain(new_waiting.into_iter().map(|(c, n)| (c, written > n)));
    while let Some((mut command, try_again)) = tries.next() {
        if !try_again {
            still_waiting.push(command);
            continue;
        }
        match apply_in_savepoint(conn, path, command.as_mut()) {
            Ok(Applied::Waiting) => still_waiting.push(command),
            Ok(Applied::Done(_)) => applied.push(command),
            Err(e) => {
                let rest = applied.into_iter().chain(std::iter::once(command)).chain(tries.map(|(c, _)| c));
                abandon(conn, path, e, answered, rest.collect());
                return still_waiting;
            }
        }
    }
    // Answers of commands that failed alone; their own error is the answer whatever the COMMIT does.
    answered.into_iter().for_each(|c| c.committed());
    if applied.is_empty() {
        // Every command failed alone or waits: nothing was written.
        let _ = conn.run_cached("ROLLBACK");
        return still_waiting;
    }
    commits.begun.fetch_add(1, Ordering::SeqCst);
    match conn.commit() {
        Ok(()) => {
            commits.done.fetch_add(1, Ordering::SeqCst);
            // Announcements first, in the order the commands were applied (commit order).
            applied.iter_mut().for_each(|c| c.announce());
            // Someone waits on each command that is not deferrable (a submission): answered
            // first, so that caller goes on while the settlements' and claims' answers are sent.
            // Deferrable answers keep their order among themselves (the dispatcher relies on it).
            let (now, deferred): (Vec<_>, Vec<_>) = applied.into_iter().partition(|c| !c.deferrable());
            now.into_iter().chain(deferred).for_each(|c| c.committed());
        }
        Err(e) => {
            commits.begun.fetch_sub(1, Ordering::SeqCst);
            let _ = conn.run_cached("ROLLBACK");
            let error = StoreError::from_sqlite(path, e);
            applied.into_iter().for_each(|c| c.batch_failed(&error, path));
        }
    }
    still_waiting
}

/// Applies `command` inside a savepoint, rolled back when it fails.
fn apply_in_savepoint(conn: &WriteConn, path: &Path, command: &mut dyn WriteCommand) -> Result<Applied, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    conn.run_cached("SAVEPOINT command").map_err(sql)?;
    let applied = command.apply(conn, path);
    if applied == Applied::Done(false) {
        // What the writer had learnt inside the command may have been undone with it.
        conn.facts().forget();
        conn.run_cached("ROLLBACK TO command").map_err(sql)?;
    }
    conn.run_cached("RELEASE command").map_err(sql)?;
    Ok(applied)
}

/// A batch-wide error for one command of the batch (errors are not `Clone`).
fn copy_error(error: &StoreError, path: &Path) -> StoreError {
    match error {
        StoreError::Locked { path } => StoreError::Locked { path: path.clone() },
        StoreError::ReadOnly { path, detail } => StoreError::ReadOnly { path: path.clone(), detail: detail.clone() },
        StoreError::Closed => StoreError::Closed,
        other => StoreError::CommitFailed { path: path.to_path_buf(), message: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").unwrap();
        Writer::spawn(conn, PathBuf::from(":memory:"), None).unwrap()
    }

    fn insert(w: &Writer, x: i64) -> oneshot::Receiver<Result<usize, StoreError>> {
        w.submit(Urgency::Now, move |c, p| c.execute("INSERT INTO t VALUES (?1)", [x]).map_err(|e| StoreError::from_sqlite(p, e)))
    }

    /// Holds the writer inside a batch until the returned sender is signalled: whatever is sent
    /// meanwhile lands in the next batch.
    fn block(w: &Writer) -> (oneshot::Receiver<Result<(), StoreError>>, std::sync::mpsc::Sender<()>) {
        let (running_tx, running_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = w.submit(Urgency::Now, move |_, _| {
            running_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok(())
        });
        running_rx.recv().unwrap(); // the writer is inside that batch now
        (blocker, release_tx)
    }

    #[tokio::test]
    async fn queued_commands_share_one_commit_and_fail_alone() {
        let w = writer();
        let (blocker, release_tx) = block(&w);
        let mut pending: Vec<_> = (0..20).map(|x| insert(&w, x)).collect();
        pending.push(insert(&w, 5)); // duplicate: violates UNIQUE
        pending.push(w.submit(Urgency::Now, |_, _| -> Result<usize, StoreError> { panic!("a bug") }));
        pending.push(insert(&w, 99));
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let results: Vec<_> = futures_all(pending).await;
        assert!(results[..20].iter().all(|r| r.is_ok()));
        assert!(matches!(results[20], Err(StoreError::Sqlite { .. })));
        assert!(matches!(results[21], Err(StoreError::CommitFailed { .. })));
        assert!(results[22].is_ok());
        assert_eq!(w.commits(), 2, "the blocker's batch, then one batch for everything queued behind it");
        let count = w.submit(Urgency::Now, |c, p| {
            c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)).map_err(|e| StoreError::from_sqlite(p, e))
        });
        assert_eq!(count.await.unwrap().unwrap(), 21);
    }

    #[tokio::test]
    async fn a_failing_first_command_is_undone_alone() {
        let w = writer();
        let (running_tx, running_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = w.submit(Urgency::Now, move |c, p| {
            running_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            c.execute("INSERT INTO t VALUES (1)", []).map_err(|e| StoreError::from_sqlite(p, e))
        });
        running_rx.recv().unwrap();
        // The next batch starts with a command that writes, then fails (no savepoint around it),
        // then one that violates UNIQUE, then two good ones.
        let partial = w.submit(Urgency::Now, |c, p| -> Result<usize, StoreError> {
            c.execute("INSERT INTO t VALUES (10)", []).map_err(|e| StoreError::from_sqlite(p, e))?;
            Err(StoreError::Closed)
        });
        let pending = vec![partial, insert(&w, 1), insert(&w, 2), insert(&w, 3)];
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let results = futures_all(pending).await;
        assert!(matches!(results[0], Err(StoreError::Closed)));
        assert!(matches!(results[1], Err(StoreError::Sqlite { .. })), "{:?}", results[1]);
        assert!(results[2].is_ok() && results[3].is_ok());
        assert_eq!(w.commits(), 2, "the blocker's batch, then one for the two good inserts");
        let rows = w.submit(Urgency::Now, |c, p| {
            let mut stmt = c.prepare("SELECT x FROM t ORDER BY x").map_err(|e| StoreError::from_sqlite(p, e))?;
            let xs = stmt.query_map([], |r| r.get::<_, i64>(0)).and_then(|r| r.collect::<Result<Vec<_>, _>>());
            xs.map_err(|e| StoreError::from_sqlite(p, e))
        });
        assert_eq!(rows.await.unwrap().unwrap(), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn facts_learnt_by_a_command_that_fails_are_forgotten() {
        use crate::execution::ExecutionId;
        let w = writer();
        let id = ExecutionId::from("x");
        let learn = |seq: i64, fail: bool| {
            let id = id.clone();
            w.submit(Urgency::Now, move |c, p| -> Result<usize, StoreError> {
                c.execute("INSERT INTO t VALUES (?1)", [seq]).map_err(|e| StoreError::from_sqlite(p, e))?;
                c.facts().logged(&id, seq);
                if fail {
                    Err(StoreError::Closed)
                } else {
                    Ok(0)
                }
            })
        };
        let known = || {
            let id = id.clone();
            w.submit(Urgency::Now, move |c, _| Ok(c.facts().last_log_seq(&id)))
        };
        learn(1, false).await.unwrap().unwrap();
        assert_eq!(known().await.unwrap().unwrap(), Some(1), "kept from one commit to the next transaction");

        // Failing first in its transaction (rolled back whole), then failing inside a savepoint
        // after a command that succeeds: neither leaves what it learnt.
        assert!(learn(2, true).await.unwrap().is_err());
        assert_eq!(known().await.unwrap().unwrap(), None);
        learn(3, false).await.unwrap().unwrap();
        let (blocker, release_tx) = block(&w);
        let pending = vec![learn(4, false), learn(5, true)];
        let after = known();
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let results = futures_all(pending).await;
        assert!(results[0].is_ok() && results[1].is_err());
        assert_eq!(after.await.unwrap().unwrap(), None, "forgotten at the savepoint's rollback");
    }

    #[tokio::test]
    async fn a_batch_of_only_failing_commands_commits_nothing() {
        let w = writer();
        insert(&w, 1).await.unwrap().unwrap();
        let commits = w.commits();
        assert!(matches!(insert(&w, 1).await.unwrap(), Err(StoreError::Sqlite { .. })));
        assert_eq!(w.commits(), commits);
        insert(&w, 2).await.unwrap().unwrap();
        assert_eq!(w.commits(), commits + 1);
    }

    fn holding_writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").unwrap();
        // Far longer than any test: a held write only commits early when company comes.
        Writer::spawn_holding(conn, PathBuf::from(":memory:"), None, Duration::from_secs(600)).unwrap()
    }

    fn insert_with(w: &Writer, urgency: Urgency, x: i64) -> oneshot::Receiver<Result<usize, StoreError>> {
        w.submit(urgency, move |c, p| c.execute("INSERT INTO t VALUES (?1)", [x]).map_err(|e| StoreError::from_sqlite(p, e)))
    }

    /// Bounds a wait that must not take the hold time (fails the test instead of hanging).
    async fn soon<T>(rx: oneshot::Receiver<T>) -> T {
        tokio::time::timeout(Duration::from_secs(60), rx).await.expect("answered before the hold ended").unwrap()
    }

    #[tokio::test]
    async fn a_settlement_after_a_write_is_held_and_shares_the_next_commit() {
        let w = holding_writer();
        soon(insert_with(&w, Urgency::Now, 1)).await.unwrap();
        assert_eq!(w.commits(), 1);
        let held = insert_with(&w, Urgency::Deferrable, 2);
        let company = insert_with(&w, Urgency::Now, 3);
        soon(company).await.unwrap();
        soon(held).await.unwrap();
        assert_eq!(w.commits(), 2, "the held settlement committed with the write that came after it");
    }

    #[tokio::test]
    async fn settlements_are_not_held_when_nothing_else_is_written() {
        let w = holding_writer();
        // Nothing was written before: not held.
        soon(insert_with(&w, Urgency::Deferrable, 1)).await.unwrap();
        // After a batch of only settlements (a queue draining): not held either.
        soon(insert_with(&w, Urgency::Deferrable, 2)).await.unwrap();
        assert_eq!(w.commits(), 2);
    }

    #[tokio::test]
    async fn a_waiting_command_sees_what_a_later_command_of_its_batch_wrote() {
        let w = writer();
        let (blocker, release_tx) = block(&w);
        // A waiting command (answers once the table has a row), then the insert that adds one:
        // both in the next batch, the waiting one first.
        let waiting = w.submit_waiting(
            |c, p| {
                let n: i64 = match c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)) {
                    Ok(n) => n,
                    Err(e) => return Some(Err(StoreError::from_sqlite(p, e))),
                };
                (n > 0).then_some(Ok(n as usize))
            },
            |_: &usize| {},
        );
        let insert = insert(&w, 7);
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        soon(insert).await.unwrap();
        assert_eq!(soon(waiting).await.unwrap(), 1);
        assert_eq!(w.commits(), 2, "the blocker's batch, then one for the insert and the waiting command's answer");
    }

    #[tokio::test]
    async fn announcements_follow_the_order_of_application_and_come_before_any_answer() {
        let w = writer();
        let announced = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let note = |name: &'static str| {
            let announced = announced.clone();
            move |x: &usize| announced.lock().unwrap().push(format!("{name}:{x}"))
        };
        let insert_announcing = |urgency, x: i64, name| {
            w.submit_announcing(
                urgency,
                move |c, p| c.execute("INSERT INTO t VALUES (?1)", [x]).map_err(|e| StoreError::from_sqlite(p, e)),
                note(name),
            )
        };
        let (blocker, release_tx) = block(&w);
        // In the next batch: a waiting command (ready once the table has two rows), a settlement,
        // a submission, a submission that fails (UNIQUE), a panicking announcement.
        let waiting = w.submit_waiting(
            |c, p| {
                let n: i64 = match c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)) {
                    Ok(n) => n,
                    Err(e) => return Some(Err(StoreError::from_sqlite(p, e))),
                };
                (n >= 2).then_some(Ok(n as usize))
            },
            note("waiting"),
        );
        let settlement = insert_announcing(Urgency::Deferrable, 1, "settlement");
        let submission = insert_announcing(Urgency::Now, 2, "submission");
        let failed = insert_announcing(Urgency::Now, 2, "failed");
        let panicky = w.submit_announcing(
            Urgency::Now,
            |c, p| c.execute("INSERT INTO t VALUES (3)", []).map_err(|e| StoreError::from_sqlite(p, e)),
            |_: &usize| panic!("a bug"),
        );
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        // The submission is answered before the settlement; every announcement came before it,
        // in the order the commands were applied (the waiting one last: it was tried again after
        // the batch's writes). Nothing is announced for the failed command.
        soon(submission).await.unwrap();
        let expected = ["settlement:1", "submission:1", "waiting:3"];
        assert_eq!(*announced.lock().unwrap(), expected);
        assert!(soon(failed).await.is_err());
        soon(panicky).await.unwrap();
        soon(settlement).await.unwrap();
        assert_eq!(soon(waiting).await.unwrap(), 3);
        assert_eq!(w.commits(), 2, "the blocker's batch, then one for the rest");
        // The writer outlived the panicking announcement.
        soon(insert(&w, 4)).await.unwrap();
        assert_eq!(*announced.lock().unwrap(), expected);
    }

    #[tokio::test]
    async fn a_held_settlement_commits_when_the_writer_closes() {
        let w = holding_writer();
        soon(insert_with(&w, Urgency::Now, 1)).await.unwrap();
        let held = insert_with(&w, Urgency::Deferrable, 2);
        drop(w);
        soon(held).await.unwrap();
    }

    async fn futures_all(pending: Vec<oneshot::Receiver<Result<usize, StoreError>>>) -> Vec<Result<usize, StoreError>> {
        let mut out = Vec::new();
        for rx in pending {
            out.push(rx.await.unwrap_or(Err(StoreError::Closed)));
        }
        out
    }
}
