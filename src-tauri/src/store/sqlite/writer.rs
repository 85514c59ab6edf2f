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
//! A *waiting* command (a claim that waits for work, [`Writer::submit_waiting`]) may answer "not
//! yet": it is then kept and tried again at the end of every later batch, inside that batch's
//! transaction (so it sees what the batch wrote), until it answers. Kept commands are tried in
//! the order they arrived.
//!
//! The thread ends when every sender is dropped, after applying what was queued; commands still
//! waiting then are dropped (their receivers report `Closed`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpointer::{Checkpointer, CHECKPOINT_EVERY};
use crate::store::StoreError;

/// At most this many commands share one transaction.
pub(super) const MAX_BATCH: usize = 512;

/// How long the idle writer polls its channel before parking. Short, so an idle store costs no
/// CPU, but longer than the usual gap between an answer and the next write of a busy caller.
pub(super) const SPIN: std::time::Duration = std::time::Duration::from_micros(50);

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
    fn apply(&mut self, conn: &Connection, path: &Path) -> Applied;

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
pub(super) struct Command<T, W> {
    work: W,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, W> WriteCommand for Command<T, W>
where
    T: Send + 'static,
    W: FnMut(&Connection, &Path) -> Option<Result<T, StoreError>> + Send + 'static,
{
    fn apply(&mut self, conn: &Connection, path: &Path) -> Applied {
        let work = &mut self.work;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn, path))).unwrap_or_else(|_| Some(Err(panicked(path))));
        match result {
            None => Applied::Waiting,
            Some(result) => {
                let ok = result.is_ok();
                self.result = Some(result);
                Applied::Done(ok)
            }
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
    /// Transactions committed so far (one per batch).
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `conn` (already configured and migrated). It nudges
    /// `checkpointer`, when given, every [`CHECKPOINT_EVERY`] commits (and ends it when it ends).
    pub(super) fn spawn(conn: Connection, path: PathBuf, checkpointer: Option<Checkpointer>) -> std::io::Result<Writer> {
        let (tx, rx) = crossbeam_channel::unbounded::<Box<dyn WriteCommand>>();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        std::thread::Builder::new()
            .name("crew-runner-store-writer".into())
            .spawn(move || run(conn, path, rx, counter, checkpointer))?;
        Ok(Writer { tx, commits })
    }

    /// How many transactions the writer has committed.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// Enqueues `work` now; the receiver yields its result after the batch commits.
    pub(super) fn submit<T, W>(&self, work: W) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnOnce(&Connection, &Path) -> Result<T, StoreError> + Send + 'static,
    {
        let mut work = Some(work);
        self.submit_waiting(move |conn, path| Some(work.take().map_or(Err(StoreError::Closed), |work| work(conn, path))))
    }

    /// Enqueues a waiting write: `work` runs in the next batch and, for as long as it returns
    /// `None`, again at the end of every later batch (in that batch's transaction, after the
    /// batch's own commands). It must write nothing when it returns `None`. The receiver yields
    /// its result after the batch in which it returned `Some` commits.
    pub(super) fn submit_waiting<T, W>(&self, work: W) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        W: FnMut(&Connection, &Path) -> Option<Result<T, StoreError>> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        // If the thread is gone the command (and its reply sender) is dropped: the receiver
        // then reports `Closed`.
        let _ = self.tx.send(Box::new(Command { work, result: None, reply }));
        rx
    }
}

fn run(
    conn: Connection,
    path: PathBuf,
    rx: Receiver<Box<dyn WriteCommand>>,
    commits: Arc<AtomicU64>,
    checkpointer: Option<Checkpointer>,
) {
    // Waiting commands kept from earlier batches, oldest first.
    let mut waiting: Vec<Box<dyn WriteCommand>> = Vec::new();
    while let Some(first) = next_command(&rx) {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        let before = commits.load(Ordering::Relaxed);
        waiting = commit_batch(&conn, &path, batch, waiting, &commits);
        let after = commits.load(Ordering::Relaxed);
        if after != before && after % CHECKPOINT_EVERY == 0 {
            if let Some(checkpointer) = &checkpointer {
                checkpointer.nudge();
            }
        }
    }
}

/// Waits for the next command: polls for up to [`SPIN`], then blocks. `None` once every sender
/// is gone and the channel is empty.
fn next_command(rx: &Receiver<Box<dyn WriteCommand>>) -> Option<Box<dyn WriteCommand>> {
    let start = std::time::Instant::now();
    loop {
        match rx.try_recv() {
            Ok(command) => return Some(command),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) if start.elapsed() < SPIN => std::hint::spin_loop(),
            Err(crossbeam_channel::TryRecvError::Empty) => return rx.recv().ok(),
        }
    }
}

/// Applies and commits one batch (counted in `commits` before anyone is answered), then tries
/// the `waiting` commands kept from earlier batches in the same transaction. Returns the commands
/// still waiting afterwards (oldest first).
fn commit_batch(
    conn: &Connection,
    path: &Path,
    batch: Vec<Box<dyn WriteCommand>>,
    waiting: Vec<Box<dyn WriteCommand>>,
    commits: &AtomicU64,
) -> Vec<Box<dyn WriteCommand>> {
    let mut batch = batch.into_iter();
    // Commands already answered with their own error (a failing first command of a transaction).
    let mut answered = Vec::new();
    // Waiting commands of this batch that are still waiting (they wrote nothing).
    let mut still_waiting: Vec<Box<dyn WriteCommand>> = Vec::new();
    // The transaction's first command runs without a savepoint; if it fails, rolling the
    // transaction back undoes it alone, and the next command starts a fresh transaction.
    let mut applied: Vec<Box<dyn WriteCommand>> = loop {
        if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
            let error = StoreError::from_sqlite(path, e);
            answered.into_iter().for_each(|c: Box<dyn WriteCommand>| c.committed());
            batch.for_each(|c| c.batch_failed(&error, path));
            // Waiting commands wrote nothing: they go on waiting.
            still_waiting.extend(waiting);
            return still_waiting;
        }
        let Some(mut first) = batch.next() else {
            // Every command failed on its own, or waits: the waiting ones are tried below.
            break Vec::new();
        };
        match first.apply(conn, path) {
            Applied::Done(true) => break vec![first],
            Applied::Waiting => {
                still_waiting.push(first);
                break Vec::new();
            }
            Applied::Done(false) => {}
        }
        if let Err(e) = run_cached(conn, "ROLLBACK") {
            let error = StoreError::from_sqlite(path, e);
            first.batch_failed(&error, path);
            answered.into_iter().for_each(|c: Box<dyn WriteCommand>| c.committed());
            batch.for_each(|c| c.batch_failed(&error, path));
            still_waiting.extend(waiting);
            return still_waiting;
        }
        answered.push(first);
    };
    // The rest of the batch, then the commands kept waiting from earlier batches (which now see
    // what this batch wrote).
    let mut rest = batch.chain(waiting);
    while let Some(mut command) = rest.next() {
        match apply_in_savepoint(conn, path, command.as_mut()) {
            Ok(Applied::Waiting) => still_waiting.push(command),
            Ok(Applied::Done(_)) => applied.push(command),
            Err(e) => {
                // The savepoint machinery itself failed: give up on the whole batch (a waiting
                // command that got its answer in it gets the error too).
                let _ = run_cached(conn, "ROLLBACK");
                answered.into_iter().for_each(|c| c.committed());
                applied.into_iter().chain(std::iter::once(command)).chain(rest).for_each(|c| c.batch_failed(&e, path));
                return still_waiting;
            }
        }
    }
    // Answers of commands that failed alone; their own error is the answer whatever the COMMIT does.
    answered.into_iter().for_each(|c| c.committed());
    if applied.is_empty() {
        // Every command failed alone or waits: nothing was written.
        let _ = run_cached(conn, "ROLLBACK");
        return still_waiting;
    }
    match run_cached(conn, "COMMIT") {
        Ok(()) => {
            commits.fetch_add(1, Ordering::SeqCst);
            applied.into_iter().for_each(|c| c.committed());
        }
        Err(e) => {
            let _ = run_cached(conn, "ROLLBACK");
            let error = StoreError::from_sqlite(path, e);
            applied.into_iter().for_each(|c| c.batch_failed(&error, path));
        }
    }
    still_waiting
}

/// Applies `command` inside a savepoint, rolled back when it fails.
fn apply_in_savepoint(conn: &Connection, path: &Path, command: &mut dyn WriteCommand) -> Result<Applied, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    run_cached(conn, "SAVEPOINT command").map_err(sql)?;
    let applied = command.apply(conn, path);
    if applied == Applied::Done(false) {
        run_cached(conn, "ROLLBACK TO command").map_err(sql)?;
    }
    run_cached(conn, "RELEASE command").map_err(sql)?;
    Ok(applied)
}

/// Runs a statement without parameters through the statement cache (these run for every command,
/// and parsing them each time was a measurable part of a small write).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
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
        w.submit(move |c, p| c.execute("INSERT INTO t VALUES (?1)", [x]).map_err(|e| StoreError::from_sqlite(p, e)))
    }

    #[tokio::test]
    async fn queued_commands_share_one_commit_and_fail_alone() {
        let w = writer();
        let (running_tx, running_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = w.submit(move |_, _| {
            running_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok(())
        });
        running_rx.recv().unwrap(); // the writer is inside the first batch now
        let mut pending: Vec<_> = (0..20).map(|x| insert(&w, x)).collect();
        pending.push(insert(&w, 5)); // duplicate: violates UNIQUE
        pending.push(w.submit(|_, _| -> Result<usize, StoreError> { panic!("a bug") }));
        pending.push(insert(&w, 99));
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let results: Vec<_> = futures_all(pending).await;
        assert!(results[..20].iter().all(|r| r.is_ok()));
        assert!(matches!(results[20], Err(StoreError::Sqlite { .. })));
        assert!(matches!(results[21], Err(StoreError::CommitFailed { .. })));
        assert!(results[22].is_ok());
        assert_eq!(w.commits(), 2, "the blocker's batch, then one batch for everything queued behind it");
        let count = w.submit(|c, p| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)).map_err(|e| StoreError::from_sqlite(p, e)));
        assert_eq!(count.await.unwrap().unwrap(), 21);
    }

    #[tokio::test]
    async fn a_failing_first_command_is_undone_alone() {
        let w = writer();
        let (running_tx, running_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = w.submit(move |c, p| {
            running_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            c.execute("INSERT INTO t VALUES (1)", []).map_err(|e| StoreError::from_sqlite(p, e))
        });
        running_rx.recv().unwrap();
        // The next batch starts with a command that writes, then fails (no savepoint around it),
        // then one that violates UNIQUE, then two good ones.
        let partial = w.submit(|c, p| -> Result<usize, StoreError> {
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
        let rows = w.submit(|c, p| {
            let mut stmt = c.prepare("SELECT x FROM t ORDER BY x").map_err(|e| StoreError::from_sqlite(p, e))?;
            let xs = stmt.query_map([], |r| r.get::<_, i64>(0)).and_then(|r| r.collect::<Result<Vec<_>, _>>());
            xs.map_err(|e| StoreError::from_sqlite(p, e))
        });
        assert_eq!(rows.await.unwrap().unwrap(), vec![1, 2, 3]);
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

    async fn futures_all(pending: Vec<oneshot::Receiver<Result<usize, StoreError>>>) -> Vec<Result<usize, StoreError>> {
        let mut out = Vec::new();
        for rx in pending {
            out.push(rx.await.unwrap_or(Err(StoreError::Closed)));
        }
        out
    }
}
