//! The SQLite store's [`CommitProbe`]: `PRAGMA data_version` on a connection of its own.
//!
//! SQLite's `data_version` of a connection changes when *another* connection committed a change
//! to the file since that connection's previous look (it is per connection, so the probe keeps
//! one connection for all its looks). A transaction that changed no page (the heartbeat's lease
//! renewal with nothing running, an empty flush) does not move it.
//!
//! The probe's connection is another connection than this store's writer, so this process's own
//! commits move it too. They are told apart with the writer's counters: its commits done and
//! the transactions it began after another connection's commit, both read *before* the version,
//! and its commits begun, read *after* it (raised before each `COMMIT`, so a commit of the
//! writer that the version shows is counted there even when the look falls between its `COMMIT`
//! and the count of commits done):
//! - the version did not move: nothing was committed;
//! - it moved and every commit the writer had begun by this look was done before the previous
//!   look: another connection committed;
//! - it moved and the writer may have committed in between: the writer's count of transactions that began after
//!   another connection's commit ([`Writer::others_seen`]) decides. Each of the writer's `BEGIN`s
//!   compares the file's version with the one its previous `COMMIT` left, so another connection's
//!   commit between two of the writer's transactions is counted at the second one. One after the
//!   writer's last transaction is caught by an empty write transaction the probe has the writer
//!   run (a flush); it begins after every commit the version read showed. So a commit of another
//!   connection is never taken for the writer's, at the price of one empty transaction (no page
//!   written, no fsync) when this process did write.
//!
//! A change may be reported twice (a commit counted at a `BEGIN` of the writer that comes after the
//! probe's look, when the version moves again): that costs the face one extra re-read, never a
//! missed change.

use std::path::PathBuf;

use rusqlite::Connection;

use super::writer::{Urgency, Writer};
use crate::execution::BoxFuture;
use crate::store::{CommitProbe, StoreError};

/// What the probe has seen: the writer's counters, read before the connection's data version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    /// [`Writer::commits`], read before the version.
    pub(super) own_done: u64,
    /// [`Writer::commits_begun`], read after the version.
    pub(super) own_begun: u64,
    /// [`Writer::others_seen`].
    pub(super) others_seen: u64,
    /// `PRAGMA data_version` of the probe's connection.
    pub(super) version: i64,
}

/// What a look says, against the look before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing was committed.
    Unchanged,
    /// Another connection committed.
    Others,
    /// This store's writer committed, and another connection may have: flush the writer and
    /// compare [`Seen::others_seen`] again ([`after_flush`]).
    Ask,
}

/// Compares two looks (see the module docs).
pub(super) fn verdict(before: Seen, now: Seen) -> Verdict {
    if now.version == before.version {
        Verdict::Unchanged
    } else if now.own_begun == before.own_done || now.others_seen != before.others_seen {
        Verdict::Others
    } else {
        Verdict::Ask
    }
}

/// After [`Verdict::Ask`] and a flush of the writer: whether another connection committed, given
/// the writer's [`others_seen`](Writer::others_seen) before the look and after the flush.
pub(super) fn after_flush(others_before: u64, others_after: u64) -> bool {
    others_after != others_before
}

/// A probe over its own read connection and this store's writer.
pub(super) struct SqliteCommitProbe {
    conn: Connection,
    path: PathBuf,
    /// Kept to read its counters and flush it. It keeps the writer thread running while the
    /// probe lives.
    writer: Writer,
    seen: Seen,
}

impl SqliteCommitProbe {
    /// A probe on `conn` (a read connection of its own, used for nothing else) whose baseline is
    /// now.
    pub(super) fn new(conn: Connection, path: PathBuf, writer: Writer) -> Result<SqliteCommitProbe, StoreError> {
        let mut probe = SqliteCommitProbe { conn, path, writer, seen: Seen { own_done: 0, own_begun: 0, others_seen: 0, version: 0 } };
        probe.seen = probe.look()?;
        Ok(probe)
    }

    fn look(&self) -> Result<Seen, StoreError> {
        let own_done = self.writer.commits();
        let others_seen = self.writer.others_seen();
        let version =
            self.conn.pragma_query_value(None, "data_version", |r| r.get(0)).map_err(|e| StoreError::from_sqlite(&self.path, e))?;
        let own_begun = self.writer.commits_begun();
        Ok(Seen { own_done, own_begun, others_seen, version })
    }

    async fn changed_now(&mut self) -> Result<bool, StoreError> {
        let now = self.look()?;
        let changed = match verdict(self.seen, now) {
            Verdict::Unchanged => false,
            Verdict::Others => true,
            Verdict::Ask => {
                let flushed = self.writer.submit(Urgency::Now, |_, _| Ok(()));
                flushed.await.unwrap_or(Err(StoreError::Closed))?;
                after_flush(self.seen.others_seen, self.writer.others_seen())
            }
        };
        // Only now (the future may be dropped at the flush): the next look compares with this one.
        self.seen = now;
        Ok(changed)
    }
}

impl CommitProbe for SqliteCommitProbe {
    fn changed(&mut self) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.changed_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::NewExecution;
    use crate::store::{SqliteStore, Store};

    fn seen(own_done: u64, own_begun: u64, others_seen: u64, version: i64) -> Seen {
        Seen { own_done, own_begun, others_seen, version }
    }

    #[test]
    fn the_version_decides_and_the_writers_counters_tell_whose_change_it_was() {
        let before = seen(5, 5, 2, 7);
        assert_eq!(verdict(before, seen(9, 9, 3, 7)), Verdict::Unchanged, "no page changed: nothing to show");
        assert_eq!(verdict(before, seen(5, 5, 2, 8)), Verdict::Others, "the writer committed nothing");
        assert_eq!(verdict(before, seen(6, 6, 3, 8)), Verdict::Others, "a begin of the writer saw another's commit");
        assert_eq!(verdict(before, seen(6, 6, 2, 8)), Verdict::Ask);
        // The look fell between a COMMIT of the writer and its count of commits done: the
        // version shows the writer's commit, which only the count of commits begun holds.
        assert_eq!(verdict(before, seen(5, 6, 2, 8)), Verdict::Ask, "the writer was committing");
        // A commit begun before the previous look and done after it may be what moved the version.
        assert_eq!(verdict(seen(5, 6, 2, 7), seen(6, 6, 2, 8)), Verdict::Ask);
        assert!(!after_flush(2, 2));
        assert!(after_flush(2, 3));
    }

    fn job() -> NewExecution {
        NewExecution { crew_name: "c".into(), crew_source: "c.yaml".into(), max_attempts: 1, ..NewExecution::default() }
    }

    fn pair() -> (tempfile::TempDir, SqliteStore, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crew.db");
        let (ours, theirs) = (SqliteStore::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
        (dir, ours, theirs)
    }

    #[tokio::test]
    async fn another_connections_commit_is_seen_once_and_our_reads_and_writes_are_not() {
        let (_dir, ours, theirs) = pair();
        let mut probe = ours.commit_probe().unwrap();
        assert!(!probe.changed().await.unwrap(), "nothing since the probe was made");

        // Our own reads and writes (announced to listeners already) are not "others".
        ours.list(&Default::default()).unwrap();
        ours.counts().unwrap();
        ours.insert(job()).await.unwrap();
        ours.set_paused(true).await.unwrap();
        assert!(!probe.changed().await.unwrap(), "only our writer committed");
        // A write that changes no page (the heartbeat's renewal with nothing running).
        ours.renew_leases("nobody", 1, 1000).await.unwrap();
        ours.flush().await.unwrap();
        assert!(!probe.changed().await.unwrap());

        theirs.insert(job()).await.unwrap();
        assert!(probe.changed().await.unwrap(), "another connection's commit");
        assert!(!probe.changed().await.unwrap(), "reported once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn looks_racing_our_commits_never_take_them_for_anothers() {
        let (_dir, ours, _theirs) = pair();
        let mut probe = ours.commit_probe().unwrap();
        let writing = tokio::spawn(async move {
            for _ in 0..300 {
                ours.insert(job()).await.unwrap();
            }
        });
        // Looks as fast as they go, so some fall between a COMMIT and its count.
        let mut looks = 0;
        while !writing.is_finished() {
            assert!(!probe.changed().await.unwrap(), "our own commit taken for another's after {looks} looks");
            looks += 1;
        }
        writing.await.unwrap();
        assert!(!probe.changed().await.unwrap());
    }

    #[tokio::test]
    async fn another_connections_commit_among_ours_is_not_taken_for_ours() {
        let (_dir, ours, theirs) = pair();
        let mut probe = ours.commit_probe().unwrap();
        // Theirs between two of ours: the second one's BEGIN sees it.
        ours.insert(job()).await.unwrap();
        theirs.insert(job()).await.unwrap();
        ours.insert(job()).await.unwrap();
        assert!(probe.changed().await.unwrap());
        // Theirs after our last commit: the probe's flush sees it.
        ours.insert(job()).await.unwrap();
        theirs.insert(job()).await.unwrap();
        assert!(probe.changed().await.unwrap());
        assert!(!probe.changed().await.unwrap());
    }
}
