//! The store's SQL alone: a busy queue's transactions run straight on a write connection in the
//! calling thread, with no writer thread, channel, scheduler or runtime around them.
//!
//! The queue benchmark prints it beside W1-live, so that W1 can be told apart into what SQLite
//! spends on the store's statements (this) and what the rest of the process adds. It is not used
//! by the store itself.

use std::path::Path;
use std::time::{Duration, Instant};

use super::open::{open_writer, OpenOptions};
use super::statements::WriteConn;
use super::{claim_runs, write};
use crate::execution::{now_ms, NewExecution};
use crate::store::{ClaimFilter, ClaimRequest, Finish, StoreError};

const OWNER: &str = "ceiling:0:bench";

/// Runs `jobs` no-op jobs through a fresh store file at `path` as W1-live's busy queue commits
/// them: one transaction per job that inserts job *k*, claims it (it is the best waiting one)
/// and settles job *k − 1* as succeeded, each command after the first in its own savepoint as
/// the writer runs them. Returns the time the transactions took (the file's set-up excluded).
///
/// Every job is a clone of `job`; its `max_attempts` does not matter (they all succeed).
#[doc(hidden)]
pub fn sql_ceiling(path: &Path, jobs: usize, job: &NewExecution) -> Result<Duration, StoreError> {
    let conn = open_writer(path, &OpenOptions::default())?;
    let db = WriteConn::new(&conn);
    let sql = |e| StoreError::from_sqlite(path, e);
    let in_savepoint = |apply: &mut dyn FnMut() -> Result<(), StoreError>| -> Result<(), StoreError> {
        db.run_cached("SAVEPOINT command").map_err(sql)?;
        apply()?;
        db.run_cached("RELEASE command").map_err(sql)
    };
    let started = Instant::now();
    let mut previous = None;
    for _ in 0..jobs {
        db.begin().map_err(sql)?;
        write::insert(&db, path, job.clone(), now_ms())?;
        let mut claimed = Vec::new();
        in_savepoint(&mut || {
            let request = ClaimRequest { owner: OWNER.into(), now: now_ms(), lease_ms: 60_000, max: 1, filter: ClaimFilter::All };
            claimed = claim_runs(&db, path, &request)?;
            Ok(())
        })?;
        if let Some(id) = previous.take() {
            in_savepoint(&mut || {
                let done = Finish::Succeeded { output: "{\"ok\":true}".into(), usage: Default::default() };
                write::finish(&db, path, &id, OWNER, done, now_ms()).map(|_| ())
            })?;
        }
        previous = claimed.pop().map(|run| run.transition.execution.id);
        db.commit().map_err(sql)?;
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::Status;
    use crate::store::{SqliteStore, Store};

    #[test]
    fn every_job_but_the_last_ends_succeeded_with_its_three_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ceiling.db");
        sql_ceiling(&path, 5, &NewExecution { crew_name: "noop".into(), ..NewExecution::default() }).unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let counts = store.counts().unwrap();
        assert_eq!((counts.get(Status::Succeeded), counts.get(Status::Running)), (4, 1));
        let done = store.list(&Default::default()).unwrap().into_iter().find(|e| e.status() == Status::Succeeded).unwrap();
        assert_eq!(store.logs(&done.id, 0, 0).unwrap().len(), 3);
    }
}
