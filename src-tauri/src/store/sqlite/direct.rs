//! The store's write commands on a connection in the caller's thread, with no writer thread,
//! channel, scheduler or runtime around them: for the queue benchmark's "SQL alone" row
//! (`benches/queue.rs`), which runs W1-live's transactions through the same code the writer runs,
//! so that W1 can be split into what SQLite spends on the store's statements and what the rest of
//! the process adds.
//!
//! Compiled only with the `bench-internals` feature (and for its own test): the product never uses it, and it offers
//! nothing the [`Store`](crate::store::Store) does not (it skips the writer's ordering, group
//! commit and announcements, so it is not a way to write a database another process uses).

use std::path::Path;

use super::open::{open_writer, OpenOptions};
use super::statements::WriteConn;
use super::{claim_runs, write};
use crate::execution::{now_ms, ExecutionId, NewExecution};
use crate::store::{ClaimRequest, Finish, StoreError};

/// The write connection of [`with_writer`]: transactions and savepoints by hand, and the store's
/// insert, claim and finish commands inside them.
pub struct DirectWriter<'c> {
    db: WriteConn<'c>,
    path: &'c Path,
}

/// Opens (creating and migrating it) the database at `path` with a write connection in this
/// thread and runs `work` on it.
pub fn with_writer<T>(path: &Path, work: impl FnOnce(&DirectWriter<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
    let conn = open_writer(path, &OpenOptions::default())?;
    let writer = DirectWriter { db: WriteConn::new(&conn), path };
    work(&writer)
}

impl DirectWriter<'_> {
    fn sql(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(self.path, e)
    }

    /// `BEGIN IMMEDIATE`, as the writer begins each group.
    pub fn begin(&self) -> Result<(), StoreError> {
        self.db.begin().map_err(|e| self.sql(e))
    }

    /// `COMMIT`.
    pub fn commit(&self) -> Result<(), StoreError> {
        self.db.commit().map_err(|e| self.sql(e))
    }

    /// Runs `command` in a savepoint, as the writer runs every command of a group after the
    /// first (released on success; on an error the transaction is left to the caller).
    pub fn in_savepoint<T>(&self, command: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.db.run_cached("SAVEPOINT command").map_err(|e| self.sql(e))?;
        let out = command()?;
        self.db.run_cached("RELEASE command").map_err(|e| self.sql(e))?;
        Ok(out)
    }

    /// The store's insert (`Store::insert`): the row and its `submitted` line.
    pub fn insert(&self, new: NewExecution) -> Result<ExecutionId, StoreError> {
        Ok(write::insert(&self.db, self.path, new, now_ms())?.execution.id)
    }

    /// The store's claim (`Store::claim`): the ids of the executions started.
    pub fn claim(&self, request: &ClaimRequest) -> Result<Vec<ExecutionId>, StoreError> {
        Ok(claim_runs(&self.db, self.path, request)?.into_iter().map(|run| run.transition.execution.id).collect())
    }

    /// The store's finish (`Store::finish`) of an attempt `owner` runs.
    pub fn finish(&self, id: &ExecutionId, owner: &str, finish: Finish) -> Result<(), StoreError> {
        write::finish(&self.db, self.path, id, owner, finish, now_ms()).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::Status;
    use crate::store::{ClaimFilter, SqliteStore, Store};

    #[test]
    fn commands_run_as_the_store_runs_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("direct.db");
        let owner = "direct:0:test";
        with_writer(&path, |w| {
            let request = ClaimRequest { owner: owner.into(), now: now_ms(), lease_ms: 60_000, max: 1, filter: ClaimFilter::All };
            w.begin()?;
            let first = w.insert(NewExecution { crew_name: "noop".into(), ..NewExecution::default() })?;
            assert_eq!(w.in_savepoint(|| w.claim(&request))?, vec![first.clone()]);
            w.commit()?;
            w.begin()?;
            w.insert(NewExecution { crew_name: "noop".into(), ..NewExecution::default() })?;
            w.in_savepoint(|| w.finish(&first, owner, Finish::Succeeded { output: "{}".into(), usage: Default::default() }))?;
            w.commit()
        })
        .unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let counts = store.counts().unwrap();
        assert_eq!((counts.get(Status::Succeeded), counts.get(Status::Queued)), (1, 1));
        let done = store.list(&Default::default()).unwrap().into_iter().find(|e| e.status() == Status::Succeeded).unwrap();
        assert_eq!(store.logs(&done.id, 0, 0).unwrap().len(), 3, "submitted, started, succeeded");
    }
}
