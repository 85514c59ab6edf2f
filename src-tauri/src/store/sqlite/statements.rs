//! The writer's connection and what it knows about the database ([`Facts`]).
//!
//! It keeps the writer's [`Facts`] (see there), checked at every `BEGIN` against SQLite's data
//! version of the file and recorded at every `COMMIT` ([`WriteConn::commit`]). Statements come
//! from rusqlite's statement cache (`prepare_cached`, sized at open to hold every statement of
//! the store). A cache keyed by the address of the SQL text instead of the text saved its hashing
//! and copying (~10 % of the writer's profile) but not measurably W1-live's jobs/s, so it went.

use std::cell::{RefCell, RefMut};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::{CachedStatement, Connection};

use super::facts::Facts;

/// A borrowed write connection with the writer's [`Facts`].
///
/// Derefs to the [`Connection`], so everything else (a one-off `prepare`, `query_row`, the
/// readers' helpers) works on it unchanged.
pub(super) struct WriteConn<'c> {
    conn: &'c Connection,
    facts: RefCell<Facts>,
    /// Counts the transactions that began after another connection may have committed (see
    /// [`begin`](Self::begin)).
    others: Arc<AtomicU64>,
}

impl<'c> WriteConn<'c> {
    #[cfg(any(test, feature = "bench-internals"))]
    pub(super) fn new(conn: &'c Connection) -> WriteConn<'c> {
        WriteConn::counting_others(conn, Arc::default())
    }

    /// [`new`](Self::new) that adds one to `others` at each [`begin`](Self::begin) that finds
    /// another connection may have committed since this one's last commit.
    /// The data version the connection's last transaction (the migrations, at open) left is the
    /// one its first `BEGIN` expects: only another connection's commit since then counts.
    pub(super) fn counting_others(conn: &'c Connection, others: Arc<AtomicU64>) -> WriteConn<'c> {
        let db = WriteConn { conn, facts: RefCell::default(), others };
        let version = db.data_version();
        db.facts.borrow_mut().committed(version);
        db
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE`), forgetting the [`Facts`] when another
    /// connection has committed since this one's last commit, and then counting one more in the
    /// `others` counter (also when that cannot be told: see [`Facts::begin`]). The count is
    /// raised before the transaction's commands run, so before any of them is answered.
    pub(super) fn begin(&self) -> rusqlite::Result<()> {
        let begun = self.run_cached("BEGIN IMMEDIATE");
        // Read after BEGIN: starting the transaction is when SQLite notices others' commits.
        let version = if begun.is_ok() { self.data_version() } else { None };
        if self.facts.borrow_mut().begin(version) {
            self.others.fetch_add(1, Ordering::SeqCst);
        }
        begun
    }

    /// Commits the transaction (`COMMIT`) and records the data version it left, which the next
    /// [`begin`](Self::begin) expects.
    pub(super) fn commit(&self) -> rusqlite::Result<()> {
        let committed = self.run_cached("COMMIT");
        let version = if committed.is_ok() { self.data_version() } else { None };
        self.facts.borrow_mut().committed(version);
        committed
    }

    /// What the writer knows about the database (see [`Facts`]).
    pub(super) fn facts(&self) -> RefMut<'_, Facts> {
        self.facts.borrow_mut()
    }

    /// SQLite's data version of the main database file: it changes whenever any connection
    /// commits a change to it (`SQLITE_FCNTL_DATA_VERSION`). `None` when it cannot be read.
    fn data_version(&self) -> Option<u32> {
        let mut version: u32 = 0;
        // SAFETY: the handle is this open connection's; the file control writes one u32 through
        // the pointer, which lives for the call.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_file_control(
                self.conn.handle(),
                c"main".as_ptr(),
                rusqlite::ffi::SQLITE_FCNTL_DATA_VERSION,
                (&mut version as *mut u32).cast(),
            )
        };
        (rc == rusqlite::ffi::SQLITE_OK).then_some(version)
    }

    /// The prepared statement for `sql` from the connection's statement cache, prepared on its
    /// first use. It goes back when dropped; a second use of the same text while the first is
    /// alive prepares another statement.
    pub(super) fn cached(&self, sql: &'static str) -> rusqlite::Result<CachedStatement<'c>> {
        self.conn.prepare_cached(sql)
    }

    /// Runs `sql` (a statement without parameters) through [`cached`](Self::cached).
    pub(super) fn run_cached(&self, sql: &'static str) -> rusqlite::Result<()> {
        self.cached(sql)?.execute([]).map(|_| ())
    }

    /// Runs `sql` with `params` through [`cached`](Self::cached); the number of rows changed.
    pub(super) fn execute_cached<P: rusqlite::Params>(&self, sql: &'static str, params: P) -> rusqlite::Result<usize> {
        self.cached(sql)?.execute(params)
    }
}

impl Deref for WriteConn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_statements_run_again_and_again() {
        let conn = Connection::open_in_memory().unwrap();
        let db = WriteConn::new(&conn);
        db.run_cached("CREATE TABLE t (x INTEGER)").unwrap();
        const INSERT: &str = "INSERT INTO t (x) VALUES (?1)";
        for i in 0..3 {
            assert_eq!(db.execute_cached(INSERT, [i]).unwrap(), 1);
        }
        let sum: i64 = db.cached("SELECT SUM(x) FROM t").unwrap().query_row([], |r| r.get(0)).unwrap();
        assert_eq!(sum, 3);
    }

    #[test]
    fn facts_outlive_this_connections_commits_but_not_anothers() {
        use crate::execution::ExecutionId;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let other = Connection::open(&path).unwrap();
        let db = WriteConn::new(&conn);
        let id = ExecutionId::from("e");
        let write = |x: i64| {
            db.begin().unwrap();
            db.execute_cached("INSERT INTO t VALUES (?1)", [x]).unwrap();
            db.facts().logged(&id, x);
            db.commit().unwrap();
        };

        write(1);
        write(2);
        db.begin().unwrap();
        assert_eq!(db.facts().last_log_seq(&id), Some(2), "only this connection wrote");
        db.commit().unwrap();

        other.execute("INSERT INTO t VALUES (3)", []).unwrap();
        db.begin().unwrap();
        assert_eq!(db.facts().last_log_seq(&id), None, "another connection committed");
        db.run_cached("ROLLBACK").unwrap();

        write(4);
        db.begin().unwrap();
        db.run_cached("ROLLBACK").unwrap();
        db.begin().unwrap();
        assert_eq!(db.facts().last_log_seq(&id), None, "a transaction ended without a commit");
        db.run_cached("ROLLBACK").unwrap();
    }

    #[test]
    fn nested_uses_of_one_text_each_get_a_statement() {
        let conn = Connection::open_in_memory().unwrap();
        let db = WriteConn::new(&conn);
        const ONE: &str = "SELECT 1";
        let mut outer = db.cached(ONE).unwrap();
        let inner: i64 = db.cached(ONE).unwrap().query_row([], |r| r.get(0)).unwrap();
        let outer_value: i64 = outer.query_row([], |r| r.get(0)).unwrap();
        assert_eq!((inner, outer_value), (1, 1));
        drop(outer);
    }
}
