//! Pruning old history: deleting finished executions with their logs, steps, attempt errors and
//! stored LLM call payloads (counted with their compressed bytes),
//! reporting the database's size, and `VACUUM`.
//!
//! # What is deleted
//! Only executions whose status is `succeeded`, `failed` or `cancelled`, and of those only the
//! ones the [`PruneFilter`] selects. `queued`, `running` and `retrying` executions are never
//! selected, whatever the filter says: the status condition is part of every statement. An
//! execution that reruns a deleted one keeps running; its `retry_of` becomes `null` (the schema's
//! `ON DELETE SET NULL`).
//!
//! # Batches
//! [`prune_batch`] deletes at most `max` executions (oldest first) in the writer's transaction
//! (`BEGIN IMMEDIATE`), so other writers wait for one bounded batch at a time rather than for the
//! whole prune. The selection is re-evaluated per batch (an execution that finished in between may
//! join it; `keep` is counted afresh).
//!
//! # Idempotency keys
//! A submission's idempotency key (`submit --idempotency-key`, or a batch's default key) lives
//! as long as any of the executions it created: the batch that deletes the last of them deletes
//! the key in the same transaction, so a repeat of the submission after that records it anew. A
//! key is found from a deleted execution by its `queue_seq` (the key's executions are the rows
//! `first_seq..=last_seq`). Should rows inserted later reuse part of that range (SQLite reuses the
//! highest rowids once they are deleted), the key may outlive its executions here; it is then
//! dropped at its next use (`write::insert_batch`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::read::status_is;
use super::rows::load_status;
use crate::execution::{ExecutionId, Millis, Status};
use crate::store::StoreError;

/// The statuses prune may delete; everything else is live work.
const FINISHED: [Status; 3] = [Status::Succeeded, Status::Failed, Status::Cancelled];

/// Which finished executions to delete. Every condition given must hold.
///
/// Built with [`PruneFilter::new`], which refuses live statuses and a filter without any
/// condition (that would delete all history by mistake).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PruneFilter {
    /// Finished statuses to consider (never empty; all three when none was named).
    statuses: Vec<Status>,
    /// Only executions that finished strictly before this time.
    finished_before: Option<Millis>,
    /// Spare the newest (by id, i.e. submission order) this many of the considered executions.
    keep_newest: Option<u64>,
}

/// A [`PruneFilter`] that cannot be built.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PruneFilterError {
    /// A status that is not finished was named: live work is never pruned.
    #[error("cannot prune {0} executions: only succeeded, failed and cancelled ones can be pruned")]
    LiveStatus(Status),
    /// No condition at all: pruning would delete every finished execution.
    #[error("say what to prune: give an age, a number to keep, or statuses")]
    NoCondition,
}

impl PruneFilter {
    /// A filter over the finished executions with one of `statuses` (any finished status when
    /// empty) that finished before `finished_before`, sparing the newest `keep_newest` of them.
    ///
    /// At least one condition must be given ([`PruneFilterError::NoCondition`]);
    /// `keep_newest: Some(0)` is a condition (keep none).
    pub fn new(statuses: &[Status], finished_before: Option<Millis>, keep_newest: Option<u64>) -> Result<PruneFilter, PruneFilterError> {
        if let Some(live) = statuses.iter().find(|s| !s.is_terminal()) {
            return Err(PruneFilterError::LiveStatus(*live));
        }
        if statuses.is_empty() && finished_before.is_none() && keep_newest.is_none() {
            return Err(PruneFilterError::NoCondition);
        }
        let statuses =
            if statuses.is_empty() { FINISHED.to_vec() } else { FINISHED.into_iter().filter(|s| statuses.contains(s)).collect() };
        Ok(PruneFilter { statuses, finished_before, keep_newest })
    }

    /// The finished statuses considered.
    pub fn statuses(&self) -> &[Status] {
        &self.statuses
    }

    /// The age limit: executions that finished before this time.
    pub fn finished_before(&self) -> Option<Millis> {
        self.finished_before
    }

    /// How many of the newest considered executions are spared.
    pub fn keep_newest(&self) -> Option<u64> {
        self.keep_newest
    }
}

/// What a prune removed (or, for a preview, would remove).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneCounts {
    pub executions: u64,
    pub log_lines: u64,
    pub steps: u64,
    pub attempt_errors: u64,
    /// Stored LLM call payloads (prompts and answers) removed.
    #[serde(default)]
    pub payloads: u64,
    /// Their compressed size in bytes.
    #[serde(default)]
    pub payload_bytes: u64,
}

impl PruneCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &PruneCounts) {
        self.executions += other.executions;
        self.log_lines += other.log_lines;
        self.steps += other.steps;
        self.attempt_errors += other.attempt_errors;
        self.payloads += other.payloads;
        self.payload_bytes += other.payload_bytes;
    }
}

/// How much disk the database takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskUsage {
    /// The database file's size.
    pub file_bytes: u64,
    /// The write-ahead log's size (`-wal` file; 0 when absent).
    pub wal_bytes: u64,
    pub page_size: u64,
    /// Pages in the database (as of the last commit, WAL included).
    pub page_count: u64,
    /// Of those, pages free for reuse: what `VACUUM` would give back to the file system.
    pub free_pages: u64,
}

impl DiskUsage {
    /// File plus WAL.
    pub fn total_bytes(&self) -> u64 {
        self.file_bytes + self.wal_bytes
    }

    /// Bytes in free pages.
    pub fn free_bytes(&self) -> u64 {
        self.free_pages * self.page_size
    }
}

/// Where the newest `keep` executions start, per batch.
enum KeepBound {
    /// No keep condition (or keep 0): nothing spared.
    None,
    /// Only ids below this one are candidates.
    Below(String),
    /// Fewer than `keep` executions: nothing to delete.
    Everything,
}

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::from_sqlite(path, e)
}

/// `SELECT id FROM (…) UNION ALL …`: `part` for each status of `filter` (given its
/// `status = '…'` condition, see [`status_is`]), each a walk of that status's index in id order.
/// With `status IN (…)` SQLite would sort every finished execution of a large history for each
/// batch.
fn per_status(filter: &PruneFilter, part: impl Fn(&str) -> String) -> String {
    filter.statuses.iter().map(|s| format!("SELECT id FROM ({})", part(&status_is(*s)))).collect::<Vec<_>>().join(" UNION ALL ")
}

fn keep_bound(conn: &Connection, path: &Path, filter: &PruneFilter) -> Result<KeepBound, StoreError> {
    let keep = match filter.keep_newest {
        None | Some(0) => return Ok(KeepBound::None),
        Some(k) => i64::try_from(k).unwrap_or(i64::MAX),
    };
    // ?1: keep. The newest `keep` of each status, merged; the last of the newest `keep` overall.
    let args = vec![Value::Integer(keep)];
    let parts = per_status(filter, |status| format!("SELECT id FROM executions WHERE {status} ORDER BY id DESC LIMIT ?1"));
    let query = format!("SELECT id FROM ({parts}) ORDER BY id DESC LIMIT 1 OFFSET ?1 - 1");
    let newest_kept: Option<String> = conn
        .prepare(&query)
        .and_then(|mut s| s.query_row(rusqlite::params_from_iter(args), |r| r.get(0)).optional())
        .map_err(sql_err(path))?;
    Ok(newest_kept.map_or(KeepBound::Everything, KeepBound::Below))
}

/// The `SELECT id …` of the executions `filter` selects (oldest first, at most `max` when given),
/// and its arguments; `None` when nothing can match.
fn selection(conn: &Connection, path: &Path, filter: &PruneFilter, max: Option<u32>) -> Result<Option<(String, Vec<Value>)>, StoreError> {
    let bound = keep_bound(conn, path, filter)?;
    // ?1: the batch size (-1: no limit).
    let mut args = vec![Value::Integer(max.map_or(-1, i64::from))];
    let mut conditions = String::new();
    if let Some(before) = filter.finished_before {
        args.push(Value::Integer(before));
        conditions.push_str(&format!(" AND finished_at < ?{}", args.len()));
    }
    match bound {
        KeepBound::None => {}
        KeepBound::Everything => return Ok(None),
        KeepBound::Below(id) => {
            args.push(Value::Text(id));
            conditions.push_str(&format!(" AND id < ?{}", args.len()));
        }
    }
    let parts = per_status(filter, |status| format!("SELECT id FROM executions WHERE {status}{conditions} ORDER BY id LIMIT ?1"));
    Ok(Some((format!("SELECT id FROM ({parts}) ORDER BY id LIMIT ?1"), args)))
}

/// Deletes up to `max` executions that `filter` selects, oldest first, with their logs, steps
/// and attempt errors. Runs inside the caller's transaction (the writer's batch).
pub(super) fn prune_batch(conn: &Connection, path: &Path, filter: &PruneFilter, max: u32) -> Result<PruneCounts, StoreError> {
    let sql = sql_err(path);
    let mut counts = PruneCounts::default();
    let Some((query, args)) = selection(conn, path, filter, Some(max))? else { return Ok(counts) };
    let ids: Vec<String> = {
        let mut stmt = conn.prepare(&query).map_err(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0)).map_err(&sql)?;
        rows.collect::<Result<_, _>>().map_err(&sql)?
    };
    let delete = |statement: &str, id: &str| -> Result<u64, StoreError> {
        conn.prepare_cached(statement).and_then(|mut s| s.execute([id])).map(|n| n as u64).map_err(&sql)
    };
    let mut deleted: Vec<i64> = Vec::with_capacity(ids.len());
    for id in &ids {
        let payload_bytes: i64 = conn
            .prepare_cached("SELECT COALESCE(SUM(length(body)), 0) FROM call_payloads WHERE execution_id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(&sql)?;
        counts.payloads += delete("DELETE FROM call_payloads WHERE execution_id = ?1", id)?;
        counts.payload_bytes += payload_bytes.max(0) as u64;
        counts.log_lines += delete("DELETE FROM execution_logs WHERE execution_id = ?1", id)?;
        counts.steps += delete("DELETE FROM step_outputs WHERE execution_id = ?1", id)?;
        counts.attempt_errors += delete("DELETE FROM attempt_errors WHERE execution_id = ?1", id)?;
        // The status condition again: the selection ran in this transaction, so it cannot have
        // changed, but deleting live work must be impossible, not just unlikely. Failing here
        // rolls the whole batch back (the writer's savepoint).
        let gone: Option<i64> = conn
            .prepare_cached("DELETE FROM executions WHERE id = ?1 AND status IN ('succeeded', 'failed', 'cancelled') RETURNING queue_seq")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(&sql)?;
        let Some(queue_seq) = gone else {
            let id = ExecutionId::from(id.as_str());
            let status = load_status(conn, path, &id)?;
            return Err(StoreError::InvalidState { id, status, operation: "prune" });
        };
        deleted.push(queue_seq);
        counts.executions += 1;
    }
    forget_idempotency_keys(conn, path, &deleted)?;
    Ok(counts)
}

/// Deletes the idempotency keys that one of the executions just deleted (`deleted`: their
/// `queue_seq`s) belonged to and none of whose executions is left (see the module docs).
fn forget_idempotency_keys(conn: &Connection, path: &Path, deleted: &[i64]) -> Result<(), StoreError> {
    let sql = sql_err(path);
    let mut keys: Vec<String> = Vec::new();
    for &seq in deleted {
        // The key whose range starts nearest before it: one step into the index.
        let nearest: Option<(String, i64)> = conn
            .prepare_cached("SELECT key, last_seq FROM idempotency_keys WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1")
            .and_then(|mut s| s.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(&sql)?;
        match nearest {
            Some((key, last_seq)) if last_seq >= seq && !keys.contains(&key) => keys.push(key),
            _ => {}
        }
    }
    for key in keys {
        conn.prepare_cached(
            "DELETE FROM idempotency_keys WHERE key = ?1
               AND NOT EXISTS (SELECT 1 FROM executions WHERE queue_seq BETWEEN first_seq AND last_seq)",
        )
        .and_then(|mut s| s.execute([key]))
        .map_err(&sql)?;
    }
    Ok(())
}

/// Counts what [`prune_batch`] would delete if it ran until nothing is left, without deleting.
pub(super) fn prune_preview(conn: &Connection, path: &Path, filter: &PruneFilter) -> Result<PruneCounts, StoreError> {
    let Some((query, args)) = selection(conn, path, filter, None)? else { return Ok(PruneCounts::default()) };
    let counted = format!(
        "WITH doomed AS MATERIALIZED ({query})
         SELECT (SELECT COUNT(*) FROM doomed),
                (SELECT COUNT(*) FROM execution_logs WHERE execution_id IN (SELECT id FROM doomed)),
                (SELECT COUNT(*) FROM step_outputs WHERE execution_id IN (SELECT id FROM doomed)),
                (SELECT COUNT(*) FROM attempt_errors WHERE execution_id IN (SELECT id FROM doomed)),
                (SELECT COUNT(*) FROM call_payloads WHERE execution_id IN (SELECT id FROM doomed)),
                (SELECT COALESCE(SUM(length(body)), 0) FROM call_payloads WHERE execution_id IN (SELECT id FROM doomed))"
    );
    let n = |v: i64| v.max(0) as u64;
    conn.prepare(&counted)
        .and_then(|mut s| {
            s.query_row(rusqlite::params_from_iter(args), |r| {
                Ok(PruneCounts {
                    executions: n(r.get(0)?),
                    log_lines: n(r.get(1)?),
                    steps: n(r.get(2)?),
                    attempt_errors: n(r.get(3)?),
                    payloads: n(r.get(4)?),
                    payload_bytes: n(r.get(5)?),
                })
            })
        })
        .map_err(sql_err(path))
}

/// The database's size on disk and in pages (read on `conn`, any connection to `path`).
pub(super) fn disk_usage(conn: &Connection, path: &Path) -> Result<DiskUsage, StoreError> {
    let sql = sql_err(path);
    let pragma = |name: &str| -> Result<u64, StoreError> {
        conn.pragma_query_value(None, name, |r| r.get::<_, i64>(0)).map(|v| v.max(0) as u64).map_err(&sql)
    };
    let size_of = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    Ok(DiskUsage {
        file_bytes: size_of(path),
        wal_bytes: size_of(&wal_path(path)),
        page_size: pragma("page_size")?,
        page_count: pragma("page_count")?,
        free_pages: pragma("freelist_count")?,
    })
}

fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}

/// Copies the WAL into the database file and truncates the WAL (`wal_checkpoint(TRUNCATE)`), on
/// a connection of its own. Waits up to `busy_timeout` for the writers and readers
/// of the moment to finish their transactions; the WAL stays as it is when another process still
/// reads an older snapshot (it is copied at a later checkpoint).
pub(super) fn checkpoint(path: &Path, busy_timeout: Duration) -> Result<(), StoreError> {
    let conn = own_connection(path, busy_timeout)?;
    // (busy, WAL frames, frames copied): busy is not an error, see above.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(sql_err(path))
}

/// Rebuilds the database file without its free pages (`VACUUM`), then [`checkpoint`]s so the
/// file system gets the space back.
///
/// Runs on a connection of its own (VACUUM cannot run inside a transaction, and the writer's
/// connection always is in one while it works). Blocking; for a large database it takes a while:
/// it holds the write lock throughout (other writers, in any process, wait up to their busy
/// timeout, then fail with [`StoreError::Locked`]), needs free disk of about twice the database's
/// size (a temporary copy, then the WAL), and waits up to `busy_timeout` for the lock itself.
/// Readers are not blocked.
pub(super) fn vacuum(path: &Path, busy_timeout: Duration) -> Result<(), StoreError> {
    let conn = own_connection(path, busy_timeout)?;
    conn.execute_batch("VACUUM").map_err(sql_err(path))?;
    drop(conn);
    checkpoint(path, busy_timeout)
}

fn own_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    conn.busy_timeout(busy_timeout).map_err(sql_err(path))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{
        now_ms, ErrorKind, EventKind, ExecutionError, ExecutionFilter, ExecutionId, LogEvent, NewExecution, StepOutput, Usage,
    };
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AttemptLease, ClaimFilter, ClaimRequest, Finish, Store};

    const OWNER: &str = "prunehost:1:test";

    fn open_temp() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("crew.db")).unwrap();
        (dir, store)
    }

    fn new(name: &str) -> NewExecution {
        NewExecution {
            crew_name: name.into(),
            crew_source: format!("{name}.yaml"),
            crew_spec: serde_json::json!({ "name": name }).into(),
            max_attempts: 1,
            ..NewExecution::default()
        }
    }

    fn step(name: &str) -> StepOutput {
        StepOutput {
            step: name.into(),
            agent: "writer".into(),
            output: "out".into(),
            json: serde_json::Value::Null,
            usage: Usage::default(),
            attempt: 1,
            completed_at: 1,
        }
    }

    /// Inserts and claims one execution (running under [`OWNER`]) with `lines` extra log lines and a step.
    async fn running(store: &SqliteStore, name: &str, lines: usize) -> ExecutionId {
        let id = store.insert(new(name)).await.unwrap().execution.id;
        let claim = ClaimRequest {
            owner: OWNER.into(),
            now: crate::execution::now_ms(),
            lease_ms: 60_000,
            max: 1,
            filter: ClaimFilter::Only(vec![id.clone()]),
        };
        assert_eq!(store.claim(claim).await.unwrap().len(), 1);
        let events = (0..lines).map(|i| LogEvent::info(EventKind::AgentStep, format!("line {i}"))).collect();
        store.append_logs(&id, AttemptLease::unfenced(1), events).await.unwrap();
        assert!(store.save_step(&id, step("research")).await.unwrap());
        id
    }

    async fn succeeded(store: &SqliteStore, name: &str) -> ExecutionId {
        let id = running(store, name, 3).await;
        store.finish(&id, OWNER, Finish::Succeeded { output: "done".into(), usage: Usage::default() }).await.unwrap();
        id
    }

    async fn failed(store: &SqliteStore, name: &str) -> ExecutionId {
        let id = running(store, name, 3).await;
        let error = ExecutionError {
            kind: ErrorKind::Tool,
            message: "boom".into(),
            retryable: false,
            details: serde_json::Value::Null,
            retry_after_ms: None,
        };
        store.finish(&id, OWNER, Finish::Failed { error, usage: None }).await.unwrap();
        id
    }

    fn ids(store: &SqliteStore) -> Vec<ExecutionId> {
        let mut ids: Vec<_> =
            store.list(&ExecutionFilter { limit: 1000, ..ExecutionFilter::default() }).unwrap().into_iter().map(|e| e.id).collect();
        ids.sort();
        ids
    }

    fn count(store: &SqliteStore, table: &str) -> i64 {
        store.read(|c, _| Ok(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap())).unwrap()
    }

    #[test]
    fn a_filter_needs_a_condition_and_only_finished_statuses() {
        assert_eq!(PruneFilter::new(&[], None, None), Err(PruneFilterError::NoCondition));
        assert_eq!(PruneFilter::new(&[Status::Running], Some(1), None), Err(PruneFilterError::LiveStatus(Status::Running)));
        assert_eq!(PruneFilter::new(&[Status::Queued], None, None), Err(PruneFilterError::LiveStatus(Status::Queued)));
        let f = PruneFilter::new(&[], None, Some(0)).unwrap();
        assert_eq!(f.statuses(), &FINISHED);
        let f = PruneFilter::new(&[Status::Failed, Status::Failed], None, None).unwrap();
        assert_eq!(f.statuses(), &[Status::Failed]);
    }

    #[tokio::test]
    async fn keep_spares_the_newest_and_live_work_is_never_touched() {
        let (_dir, store) = open_temp();
        let mut finished = Vec::new();
        for i in 0..5 {
            finished.push(succeeded(&store, &format!("c{i}")).await);
        }
        // "Newest" is by id; ids made within one millisecond are not in insertion order.
        finished.sort();
        let queued = store.insert(new("waiting")).await.unwrap().execution.id;
        let live = running(&store, "live", 2).await;

        let filter = PruneFilter::new(&[], None, Some(2)).unwrap();
        let preview = store.prune_preview(&filter).unwrap();
        // Each finished one: submitted, claimed, 3 lines, finished = 6 lines; 1 step.
        assert_eq!(preview, PruneCounts { executions: 3, log_lines: 18, steps: 3, attempt_errors: 0, ..PruneCounts::default() });
        assert_eq!(ids(&store).len(), 7, "a preview deletes nothing");

        let removed = store.prune(&filter, 100).await.unwrap();
        assert_eq!(removed, preview);
        let mut expected = vec![finished[3].clone(), finished[4].clone(), queued.clone(), live.clone()];
        expected.sort();
        assert_eq!(ids(&store), expected);
        assert_eq!(store.logs(&finished[0], 0, 0).unwrap(), vec![]);
        assert_eq!(store.steps(&finished[0]).unwrap(), vec![]);
        assert_eq!(store.logs(&live, 0, 0).unwrap().len(), 4);

        // Keep 0 removes every finished one, still never the live ones.
        let all = PruneFilter::new(&[], None, Some(0)).unwrap();
        assert_eq!(store.prune(&all, 100).await.unwrap().executions, 2);
        let mut live_ids = vec![queued, live];
        live_ids.sort();
        assert_eq!(ids(&store), live_ids);
        assert_eq!(store.prune_preview(&all).unwrap(), PruneCounts::default());
    }

    #[tokio::test]
    async fn call_payloads_go_with_their_execution_and_are_counted() {
        let (_dir, store) = open_temp();
        let id = running(&store, "traced", 0).await;
        let payload = crate::execution::CompressedPayload { raw_bytes: 100, body: vec![7u8; 40] };
        let line = || LogEvent::info(EventKind::LlmCallCompleted, "m answered");
        let kept = store.append_call_log(&id, AttemptLease::unfenced(1), line(), Some(payload.clone())).await.unwrap();
        store.append_call_log(&id, AttemptLease::unfenced(1), line(), None).await.unwrap();
        store.append_call_log(&id, AttemptLease::unfenced(1), line(), Some(payload.clone())).await.unwrap();
        assert_eq!(store.call_payload(&id, kept.seq).unwrap(), Some(payload));
        assert_eq!(store.call_payload(&id, kept.seq + 1).unwrap(), None, "metadata only");
        store.finish(&id, OWNER, Finish::Succeeded { output: "done".into(), usage: Usage::default() }).await.unwrap();

        let all = PruneFilter::new(&[], None, Some(0)).unwrap();
        let preview = store.prune_preview(&all).unwrap();
        assert_eq!((preview.payloads, preview.payload_bytes), (2, 80));
        assert_eq!(store.prune(&all, 10).await.unwrap(), preview);
        assert_eq!(count(&store, "call_payloads"), 0);
    }

    #[tokio::test]
    async fn status_and_age_select_and_batches_are_bounded() {
        let (_dir, store) = open_temp();
        let old_ok = succeeded(&store, "a").await;
        let old_failed = failed(&store, "b").await;
        let new_ok = succeeded(&store, "c").await;
        let extra: Vec<_> = [succeeded(&store, "d").await, succeeded(&store, "e").await].into();
        // Age: only `old_*` finished long ago.
        for id in [&old_ok, &old_failed] {
            let id = id.as_str().to_string();
            store
                .write(move |c, p| {
                    c.execute("UPDATE executions SET finished_at = 1000 WHERE id = ?1", [id]).map_err(|e| StoreError::from_sqlite(p, e))
                })
                .await
                .unwrap();
        }
        let failed_only = PruneFilter::new(&[Status::Failed], None, None).unwrap();
        assert_eq!(
            store.prune_preview(&failed_only).unwrap(),
            PruneCounts { executions: 1, log_lines: 6, steps: 1, attempt_errors: 1, ..PruneCounts::default() }
        );
        assert_eq!(store.prune(&failed_only, 10).await.unwrap().executions, 1);
        assert!(store.get(&old_failed).unwrap().is_none());

        let old = PruneFilter::new(&[], Some(2000), None).unwrap();
        assert_eq!(store.prune(&old, 10).await.unwrap().executions, 1);
        assert!(store.get(&old_ok).unwrap().is_none());
        assert!(store.get(&new_ok).unwrap().is_some());

        let rest = PruneFilter::new(&[Status::Succeeded], None, None).unwrap();
        assert_eq!(store.prune(&rest, 2).await.unwrap().executions, 2, "at most `max` per batch");
        assert_eq!(store.prune(&rest, 2).await.unwrap().executions, 1);
        assert_eq!(store.prune(&rest, 2).await.unwrap().executions, 0);
        assert!(extra.iter().all(|id| store.get(id).unwrap().is_none()));
        for table in ["executions", "execution_logs", "step_outputs", "attempt_errors"] {
            assert_eq!(count(&store, table), 0, "{table}");
        }
    }

    #[tokio::test]
    async fn every_selection_walks_an_index() {
        let (_dir, store) = open_temp();
        for _ in 0..3 {
            succeeded(&store, "a").await;
        }
        let filters = [
            PruneFilter::new(&[], Some(now_ms()), Some(1)).unwrap(),
            PruneFilter::new(&[Status::Failed], None, Some(1)).unwrap(),
            PruneFilter::new(&[], Some(now_ms()), None).unwrap(),
        ];
        for filter in &filters {
            let plans: Vec<Vec<String>> = store
                .read(|conn, path| {
                    let mut plans = Vec::new();
                    if let Some(keep) = filter.keep_newest {
                        let args = vec![Value::Integer(keep as i64)];
                        let parts =
                            per_status(filter, |status| format!("SELECT id FROM executions WHERE {status} ORDER BY id DESC LIMIT ?1"));
                        plans.push(plan(conn, &format!("SELECT id FROM ({parts}) ORDER BY id DESC LIMIT 1 OFFSET ?1 - 1"), args));
                    }
                    if let Some((query, args)) = selection(conn, path, filter, Some(10))? {
                        plans.push(plan(conn, &query, args));
                    }
                    Ok(plans)
                })
                .unwrap();
            assert!(!plans.is_empty());
            for plan in plans {
                for (i, step) in plan.iter().enumerate().filter(|(_, s)| s.contains("executions")) {
                    assert!(step.contains("INDEX"), "{filter:?}: {plan:?}");
                    // Rows come in id order off the index; only a subquery's bounded output is
                    // sorted (for the merge), never the whole range.
                    assert_ne!(plan.get(i + 1).map(String::as_str), Some("USE TEMP B-TREE FOR ORDER BY"), "{filter:?}: {plan:?}");
                }
            }
        }
    }

    fn plan(conn: &Connection, query: &str, args: Vec<Value>) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {query}")).unwrap();
        stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect()
    }

    #[tokio::test]
    async fn an_idempotency_key_goes_with_the_last_of_its_executions() {
        use crate::store::IdempotencyKey;
        let (_dir, store) = open_temp();
        let key = |k: &str| Some(IdempotencyKey { key: k.into(), request_hash: "h".into() });
        let keys = |store: &SqliteStore| -> Vec<String> {
            store
                .read(|c, _| {
                    let mut stmt = c.prepare("SELECT key FROM idempotency_keys ORDER BY key").unwrap();
                    Ok(stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect())
                })
                .unwrap()
        };
        let finish = |id: ExecutionId, ok: bool| {
            let store = &store;
            async move {
                let claim = ClaimRequest {
                    owner: OWNER.into(),
                    now: now_ms(),
                    lease_ms: 60_000,
                    max: 1,
                    filter: ClaimFilter::Only(vec![id.clone()]),
                };
                assert_eq!(store.claim(claim).await.unwrap().len(), 1);
                let end = if ok {
                    Finish::Succeeded { output: "done".into(), usage: Usage::default() }
                } else {
                    Finish::Failed { error: ExecutionError::new(ErrorKind::Tool, "boom"), usage: None }
                };
                store.finish(&id, OWNER, end).await.unwrap();
            }
        };
        // Key a: two executions, one succeeds, one fails. Key b: one execution, still queued.
        // Then executions without a key after both (their queue_seqs follow b's).
        let a = store.insert_batch(vec![new("a1"), new("a2")], key("a")).await.unwrap().ids;
        let b = store.insert_batch(vec![new("b1")], key("b")).await.unwrap().ids;
        finish(a[0].clone(), true).await;
        finish(a[1].clone(), false).await;
        let plain = succeeded(&store, "plain").await;
        assert_eq!(keys(&store), ["a", "b"]);

        // Half of a's executions pruned: a stays (a repeat still names both ids).
        let succeeded_only = PruneFilter::new(&[Status::Succeeded], None, None).unwrap();
        assert_eq!(store.prune(&succeeded_only, 10).await.unwrap().executions, 2);
        assert!(store.get(&plain).unwrap().is_none());
        assert_eq!(keys(&store), ["a", "b"]);
        let replay = store.insert_batch(vec![new("a1"), new("a2")], key("a")).await.unwrap();
        assert!(replay.replayed);
        assert_eq!(replay.ids, a);

        // The last of a's executions pruned: a goes in that transaction; b (live) is untouched.
        assert_eq!(store.prune(&PruneFilter::new(&[], None, Some(0)).unwrap(), 10).await.unwrap().executions, 1);
        assert_eq!(keys(&store), ["b"]);
        assert_eq!(ids(&store), b);
        let anew = store.insert_batch(vec![new("a1"), new("a2")], key("a")).await.unwrap();
        assert!(!anew.replayed);
        assert_ne!(anew.ids, a);
    }

    #[tokio::test]
    async fn a_rerun_of_a_pruned_execution_loses_only_its_link() {
        let (_dir, store) = open_temp();
        let original = succeeded(&store, "a").await;
        let rerun = store.insert(NewExecution { retry_of: Some(original.clone()), ..new("a") }).await.unwrap().execution.id;
        let filter = PruneFilter::new(&[], None, Some(0)).unwrap();
        assert_eq!(store.prune(&filter, 10).await.unwrap().executions, 1);
        let kept = store.get(&rerun).unwrap().unwrap();
        assert_eq!(kept.retry_of, None);
    }

    #[tokio::test]
    async fn vacuum_gives_free_pages_back() {
        let (_dir, store) = open_temp();
        for i in 0..20 {
            let id = running(&store, &format!("c{i}"), 200).await;
            store.finish(&id, OWNER, Finish::Cancelled).await.unwrap();
        }
        assert!(store.disk_usage().unwrap().wal_bytes > 0);
        store.checkpoint().unwrap();
        assert_eq!(store.disk_usage().unwrap().wal_bytes, 0, "checkpoint truncates the WAL");
        let filter = PruneFilter::new(&[Status::Cancelled], None, None).unwrap();
        assert_eq!(store.prune(&filter, 1000).await.unwrap().log_lines, 20 * 203, "submitted, started, 200 lines, cancelled");
        let before = store.disk_usage().unwrap();
        assert!(before.free_pages > 10, "{before:?}");
        store.vacuum().unwrap();
        let after = store.disk_usage().unwrap();
        assert_eq!(after.free_pages, 0, "{after:?}");
        assert_eq!(after.wal_bytes, 0, "{after:?}");
        assert!(after.file_bytes < before.file_bytes, "{before:?} -> {after:?}");
        assert_eq!(after.file_bytes, after.page_count * after.page_size);
    }
}
