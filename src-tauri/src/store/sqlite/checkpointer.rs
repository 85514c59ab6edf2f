//! The checkpointer thread: copies the WAL back into the database file off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, so every few
//! hundred commits one write (and everything queued behind it) waited for the copy and its two
//! `fsync`s. The writer connection therefore nudges this thread every [`CHECKPOINT_EVERY`]
//! commits; the thread runs a `PASSIVE` checkpoint on its own connection, concurrently with
//! further commits and reads. `PASSIVE` never waits for (or blocks) readers or the writer:
//! frames it cannot copy yet are copied by a later run, and the next write after a checkpoint
//! that copied everything starts the WAL over.
//!
//! That restart needs a moment in which the WAL is fully copied when a write begins. A writer
//! that is never idle (a long burst of jobs) appends frames while every checkpoint runs, so the
//! WAL never started over: it grew by about 60 KiB per job (190 MB for 3,000 no-op jobs), and
//! every frame then extended the file. The writer connection therefore keeps SQLite's automatic
//! checkpoint at a high threshold ([`WAL_BOUND_PAGES`](super::open::WAL_BOUND_PAGES)): the commit
//! that reaches it copies what this thread has not copied yet, and the next write starts the WAL
//! over (in the W1 burst of 10,000 jobs the WAL then stayed under 68 MB and started over 9 times).
//! Durability is unchanged (see the [module docs](super)): a checkpoint only moves committed
//! pages from the WAL into the main file.
//!
//! The thread ends when its [`Checkpointer`] handle is dropped (with the writer thread).

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rusqlite::Connection;

/// The writer nudges the checkpointer once per this many commits (a commit of the store appends
/// a handful of pages, so the WAL stays around the size SQLite's default threshold keeps it).
pub(super) const CHECKPOINT_EVERY: u64 = 128;

/// A handle that wakes the checkpointer thread.
pub(super) struct Checkpointer {
    nudges: Sender<()>,
}

impl Checkpointer {
    /// Starts the thread on `conn` (a connection of its own to the database file).
    pub(super) fn spawn(conn: Connection) -> std::io::Result<Checkpointer> {
        // One pending nudge is enough: a checkpoint copies whatever is in the WAL when it runs.
        let (nudges, rx) = crossbeam_channel::bounded::<()>(1);
        std::thread::Builder::new().name("crew-runner-store-checkpointer".into()).spawn(move || run(conn, rx))?;
        Ok(Checkpointer { nudges })
    }

    /// Asks for a checkpoint; returns at once (a nudge already pending absorbs this one).
    pub(super) fn nudge(&self) {
        match self.nudges.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }
}

fn run(conn: Connection, nudges: Receiver<()>) {
    while nudges.recv().is_ok() {
        // Returns (busy, wal frames, frames copied); a failure only delays the copy to the next run.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!("WAL checkpoint failed (retried at the next one): {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nudge_copies_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let writer = Connection::open(&path).unwrap();
        let mode: String = writer.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
        let before = std::fs::metadata(&path).unwrap().len();

        let (nudges, rx) = crossbeam_channel::bounded(1);
        let conn = Connection::open(&path).unwrap();
        let thread = std::thread::spawn(move || run(conn, rx));
        Checkpointer { nudges }.nudge(); // sends, then drops the handle: the thread ends after it
        thread.join().unwrap();

        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after > before, "the table's pages reached the main file ({before} -> {after} bytes)");
        assert_eq!(writer.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 1);
    }
}
