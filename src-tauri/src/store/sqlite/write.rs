//! The write operations, run by the writer thread inside the batch transaction.
//!
//! Each function is one command: it either fully applies or returns an error (and the writer
//! rolls its savepoint back). State transitions append their ExecutionLog line here, in the same
//! transaction.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use rusqlite::{params, OptionalExtension};

use super::rows::{enum_name, execution_from_row, load_attempt_errors, load_status, require_execution, to_json, EXECUTION_COLUMNS};
use super::statements::WriteConn;
use crate::execution::{
    CompressedPayload, ErrorKind, EventKind, Execution, ExecutionError, ExecutionId, ExecutionState, InputAnswer, InputRequest, LogEntry,
    LogEvent, LogLevel, Millis, NewExecution, Priority, Progress, Status, StepOutput, Usage, DEFAULT_MAX_ABANDONS,
};
use crate::store::clock::{self, ClockCheck, ClockReading};
use crate::store::liveness::{self, Liveness};
use crate::store::{
    AttemptLease, BatchInserted, CancelOutcome, CancelResult, ClaimFilter, ClaimRequest, Finish, IdempotencyKey, LeaseRenewal,
    QueueSettings, RecoverRequest, StoreError, Transition,
};

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::from_sqlite(path, e)
}

/// Appends one ExecutionLog line with the next seq of the execution.
pub(super) fn append_log(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    attempt: u32,
    at: Millis,
    event: LogEvent,
) -> Result<LogEntry, StoreError> {
    // The writer usually wrote the execution's last line itself (see `Facts`).
    let known = conn.facts().last_log_seq(id);
    let seq: i64 = match known {
        Some(last) => last + 1,
        None => conn
            .cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM execution_logs WHERE execution_id = ?1")
            .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)))
            .map_err(sql_err(path))?,
    };
    insert_log(conn, path, id, seq, attempt, at, event)
}

/// Stores an LLM call's payload under the seq of its completion line (`call`).
pub(super) fn insert_payload(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    call: u64,
    payload: &CompressedPayload,
) -> Result<(), StoreError> {
    conn.cached("INSERT INTO call_payloads (execution_id, call, raw_bytes, body) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| s.execute(params![id.as_str(), call as i64, payload.raw_bytes as i64, payload.body]))
        .map_err(sql_err(path))?;
    Ok(())
}

/// Writes one ExecutionLog line with the given `seq` (the next one of the execution).
fn insert_log(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    seq: i64,
    attempt: u32,
    at: Millis,
    event: LogEvent,
) -> Result<LogEntry, StoreError> {
    let sql = sql_err(path);
    conn.cached(
        "INSERT INTO execution_logs (execution_id, seq, attempt, at, level, kind, task, agent, message, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id.as_str(),
            seq,
            attempt,
            at,
            enum_name(&event.level),
            enum_name(&event.kind),
            event.task,
            event.agent,
            event.message,
            to_json("log data", &event.data).unwrap_or_else(|_| "null".into()),
        ])
    })
    .map_err(&sql)?;
    conn.facts().logged(id, seq);
    Ok(LogEntry { execution_id: id.clone(), attempt, seq: seq as u64, at, event })
}

/// Logs `event` for the execution as it is now and returns the transition.
///
/// Every state change but a success ends here, so this is where the writer drops the row it
/// kept from the claim (a success is answered from it, see `succeed`).
fn transition(conn: &WriteConn, path: &Path, id: &ExecutionId, at: Millis, event: LogEvent) -> Result<Transition, StoreError> {
    conn.facts().touched(id);
    let execution = require_execution(conn, path, id)?;
    let log = append_log(conn, path, id, execution.attempt, at, event)?;
    if execution.state.is_terminal() {
        conn.facts().finished(id);
    }
    Ok(Transition { execution, log })
}

/// The JSON text of a crew snapshot, serialised once per run of rows that share it (the rows of a
/// batch hold one `Arc`): the last snapshot and its text stay with the writer thread.
fn crew_spec_text(spec: &Arc<serde_json::Value>) -> Result<Rc<str>, StoreError> {
    thread_local! {
        static LAST: RefCell<Option<(Arc<serde_json::Value>, Rc<str>)>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((_, text)) = last.as_ref().filter(|(seen, _)| Arc::ptr_eq(seen, spec)) {
            return Ok(text.clone());
        }
        let text: Rc<str> = to_json("crew_spec", &**spec)?.into();
        *last = Some((spec.clone(), text.clone()));
        Ok(text)
    })
}

pub(super) fn insert(conn: &WriteConn, path: &Path, new: NewExecution, now: Millis) -> Result<Transition, StoreError> {
    insert_row(conn, path, new, now).map(|(_, transition)| transition)
}

/// [`insert`], also returning the new row's `queue_seq`.
fn insert_row(conn: &WriteConn, path: &Path, new: NewExecution, now: Millis) -> Result<(i64, Transition), StoreError> {
    let sql = sql_err(path);
    let id = ExecutionId::new();
    let max_attempts = new.max_attempts.max(1);
    let max_abandons = if new.max_abandons == 0 { DEFAULT_MAX_ABANDONS } else { new.max_abandons };
    // Stored as SQLite's signed integer; read back the same way.
    let timeout_ms = new.timeout_ms.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
    let progress = Progress::default();
    let usage = Usage::default();
    conn.cached(
        "INSERT INTO executions (id, crew_name, crew_source, crew_spec, inputs, priority, status,
             attempt, max_attempts, timeout_ms, progress, usage, llm, meta, retry_of, created_at, max_abandons, engine)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id.as_str(),
            new.crew_name,
            new.crew_source,
            crew_spec_text(&new.crew_spec).map_err(to_sql_input)?,
            to_json("inputs", &new.inputs).map_err(to_sql_input)?,
            new.priority.rank(),
            max_attempts,
            timeout_ms,
            to_json("progress", &progress).map_err(to_sql_input)?,
            to_json("usage", &usage).map_err(to_sql_input)?,
            to_json("llm", &new.llm).map_err(to_sql_input)?,
            to_json("meta", &new.meta).map_err(to_sql_input)?,
            new.retry_of.as_ref().map(|r| r.as_str()),
            now,
            max_abandons,
            new.engine.as_str(),
        ])
    })
    .map_err(&sql)?;
    let queue_seq = conn.last_insert_rowid();
    for step in new.seed_steps {
        save_step(conn, path, &id, step)?;
    }
    let event = LogEvent::info(EventKind::Submitted, format!("submitted with priority {}", new.priority))
        .with_data(serde_json::json!({ "priority": new.priority, "max_attempts": max_attempts }));
    // The first line of a new execution.
    let log = insert_log(conn, path, &id, 1, 0, now, event)?;
    // Built from what was just written rather than read back: the spec is moved, not re-parsed.
    let execution = Execution {
        id,
        crew_name: new.crew_name,
        crew_source: new.crew_source,
        engine: new.engine,
        crew_spec: new.crew_spec,
        inputs: new.inputs,
        priority: new.priority,
        state: ExecutionState::Queued,
        attempt: 0,
        max_attempts,
        abandons: 0,
        max_abandons,
        timeout_ms: timeout_ms.map(|v| v.max(0) as u64),
        llm: new.llm,
        meta: new.meta,
        cancel_requested: false,
        progress,
        usage,
        attempt_errors: Vec::new(),
        retry_of: new.retry_of,
        created_at: now,
        started_at: None,
    };
    Ok((queue_seq, Transition { execution, log }))
}

/// Inserts every row of a batch (see [`insert`]) in this one command, so that they commit
/// together or not at all, and records `key` with their ids; or, when `key` was recorded
/// before, inserts nothing and answers with its ids (see `Store::insert_batch`).
pub(super) fn insert_batch(
    conn: &WriteConn,
    path: &Path,
    news: Vec<NewExecution>,
    key: Option<&IdempotencyKey>,
    now: Millis,
) -> Result<BatchInserted, StoreError> {
    if let Some(key) = key {
        if let Some(ids) = recorded_key(conn, path, key)? {
            return Ok(BatchInserted { ids, transitions: Vec::new(), replayed: true });
        }
    }
    let mut seqs = (i64::MAX, i64::MIN);
    let mut transitions = Vec::with_capacity(news.len());
    for new in news {
        let (seq, transition) = insert_row(conn, path, new, now)?;
        seqs = (seqs.0.min(seq), seqs.1.max(seq));
        transitions.push(transition);
    }
    let ids: Vec<ExecutionId> = transitions.iter().map(|t| t.execution.id.clone()).collect();
    if let (Some(key), false) = (key, ids.is_empty()) {
        conn.cached(
            "INSERT INTO idempotency_keys (key, request_hash, ids, first_seq, last_seq, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| s.execute(params![key.key, key.request_hash, to_json("ids", &ids).map_err(to_sql_input)?, seqs.0, seqs.1, now]))
        .map_err(sql_err(path))?;
    }
    Ok(BatchInserted { ids, transitions, replayed: false })
}

/// The ids recorded under `key`, if it was recorded and any of its executions is left;
/// [`StoreError::IdempotencyConflict`] when it was recorded for another request. A key whose
/// executions are all gone (pruned) is deleted here, and `None` returned.
fn recorded_key(conn: &WriteConn, path: &Path, key: &IdempotencyKey) -> Result<Option<Vec<ExecutionId>>, StoreError> {
    let sql = sql_err(path);
    let found: Option<(String, String, bool)> = conn
        .cached(
            "SELECT request_hash, ids, EXISTS (SELECT 1 FROM executions WHERE queue_seq BETWEEN k.first_seq AND k.last_seq)
             FROM idempotency_keys AS k WHERE key = ?1",
        )
        .and_then(|mut s| s.query_row([&key.key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
        .map_err(&sql)?;
    let Some((request_hash, ids, any_left)) = found else { return Ok(None) };
    if !any_left {
        conn.execute_cached("DELETE FROM idempotency_keys WHERE key = ?1", [&key.key]).map_err(&sql)?;
        return Ok(None);
    }
    if request_hash != key.request_hash {
        return Err(StoreError::IdempotencyConflict { key: key.key.clone() });
    }
    let ids: Vec<ExecutionId> = serde_json::from_str(&ids)
        .map_err(|e| StoreError::Corrupt { path: path.to_path_buf(), detail: format!("idempotency key `{}`: ids: {e}", key.key) })?;
    Ok(Some(ids))
}

fn to_sql_input(e: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// The best queued execution (`queue_seq`, priority): the first entry of the `queued` range of a
/// partial index that holds only the queued and running rows, in claim order, so a claim costs
/// O(log n) however many executions the file holds (`INDEXED BY` because without statistics the
/// planner may prefer a list index and sort every waiting row).
pub(super) const BEST_QUEUED: &str = "SELECT queue_seq, priority FROM executions INDEXED BY executions_active
      WHERE status = 'queued' ORDER BY priority DESC, queue_seq LIMIT 1";

/// When the earliest retrying execution is due (NULL: none is retrying): one step into its
/// partial index. The writer keeps the answer while it is the only one to change it (`Facts`).
pub(super) const EARLIEST_RETRY: &str = "SELECT MIN(next_run_at) FROM executions INDEXED BY executions_retrying
      WHERE status = 'retrying'";

/// The best due retrying execution (`queue_seq`, priority; `?1` = now). It sorts the due rows
/// (their index is in time order), so it runs only when [`EARLIEST_RETRY`] is due.
pub(super) const BEST_RETRY_DUE: &str = "SELECT queue_seq, priority FROM executions INDEXED BY executions_retrying
      WHERE status = 'retrying' AND next_run_at <= ?1 ORDER BY priority DESC, queue_seq LIMIT 1";

/// The best waiting execution of all (`None`: none): the better of [`BEST_QUEUED`] and
/// [`BEST_RETRY_DUE`], higher priority first, then the earlier submission. (One statement over
/// both, a `UNION ALL` under an `ORDER BY`, built two temporary sorters per claim.)
fn best_waiting(conn: &WriteConn, now: Millis) -> rusqlite::Result<Option<i64>> {
    let queued: Option<(i64, i64)> = conn.cached(BEST_QUEUED)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let known = conn.facts().earliest_retry();
    let earliest = match known {
        Some(earliest) => earliest,
        None => {
            let earliest: Option<Millis> = conn.cached(EARLIEST_RETRY)?.query_row([], |r| r.get(0))?;
            conn.facts().set_earliest_retry(earliest);
            earliest
        }
    };
    let any_due = earliest.is_some_and(|at| at <= now);
    let retry: Option<(i64, i64)> = if any_due {
        // Whether or not the claim takes it, the earliest is asked again next time.
        conn.facts().retry_left();
        conn.cached(BEST_RETRY_DUE)?.query_row([now], |r| Ok((r.get(0)?, r.get(1)?))).optional()?
    } else {
        None
    };
    // Claim order: priority descending, then queue_seq ascending.
    let best = [queued, retry].into_iter().flatten().min_by_key(|&(seq, priority)| (std::cmp::Reverse(priority), seq));
    Ok(best.map(|(seq, _)| seq))
}

/// The waiting executions among the ids listed in the JSON array `?2`, looked up by their
/// index, in claim order ([`best_waiting`]'s), at most `?3`. Read once per claim: the claim's
/// transaction holds the write lock, so the list stays true while it is worked through (asking
/// for the best one per claimed row read the whole list each time: 200 listed rows took 40,000
/// index lookups).
const CANDIDATES_LISTED: &str = "SELECT queue_seq FROM executions
      WHERE id IN (SELECT value FROM json_each(?2))
        AND (status = 'queued' OR (status = 'retrying' AND next_run_at <= ?1))
      ORDER BY priority DESC, queue_seq LIMIT ?3";

/// Starts an attempt of the waiting row `?4` (guarded: it must still be waiting).
const START_ATTEMPT: &str = "UPDATE executions
    SET status = 'running', owner = ?1, lease_expires_at = ?2, attempt_started_at = ?3,
        attempt = attempt + 1, started_at = COALESCE(started_at, ?3), next_run_at = NULL, error = NULL,
        lease_token = ?5
  WHERE queue_seq = ?4 AND status IN ('queued', 'retrying')";

/// The whole row by `queue_seq`.
static ROW_BY_SEQ: LazyLock<String> = LazyLock::new(|| format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE queue_seq = ?1"));

/// Reads one execution (without attempt errors) by `queue_seq`.
fn execution_by_seq(conn: &WriteConn, path: &Path, seq: i64) -> Result<Execution, StoreError> {
    let sql = sql_err(path);
    let mut stmt = conn.cached(&ROW_BY_SEQ).map_err(&sql)?;
    let mut rows = stmt.query([seq]).map_err(&sql)?;
    let row = rows
        .next()
        .map_err(&sql)?
        .ok_or_else(|| StoreError::Corrupt { path: path.to_path_buf(), detail: format!("execution row {seq} vanished") })?;
    execution_from_row(path, row)
}

/// The errors of the attempts before the execution's current one (none before a first attempt:
/// no query).
fn earlier_attempt_errors(conn: &WriteConn, path: &Path, execution: &Execution) -> Result<Vec<crate::execution::AttemptError>, StoreError> {
    if execution.attempt <= 1 {
        return Ok(Vec::new());
    }
    load_attempt_errors(conn, path, &execution.id)
}

/// A fresh fencing token for a claim: random, positive, never 0 (which rows written before
/// tokens existed read as).
fn new_lease_token() -> i64 {
    (rand::random::<i64>() & i64::MAX).max(1)
}

pub(super) fn claim(conn: &WriteConn, path: &Path, request: &ClaimRequest) -> Result<Vec<Transition>, StoreError> {
    let sql = sql_err(path);
    // A pause written by any process wins: checked in the claim's own transaction, so nothing is
    // claimed after a `pause` has committed (the dispatcher also stops asking at its heartbeat).
    let known = conn.facts().paused();
    let paused: bool = match known {
        Some(paused) => paused,
        None => {
            let paused = conn
                .cached("SELECT paused FROM queue_state WHERE id = 1")
                .and_then(|mut st| st.query_row([], |r| r.get(0)))
                .map_err(&sql)?;
            conn.facts().set_paused(paused);
            paused
        }
    };
    if paused {
        return Ok(Vec::new());
    }
    let lease_until = request.now.saturating_add(i64::try_from(request.lease_ms).unwrap_or(i64::MAX));
    // The candidates: see `best_waiting` and `CANDIDATES_LISTED`.
    let mut listed: Option<std::vec::IntoIter<i64>> = match &request.filter {
        ClaimFilter::All => None,
        ClaimFilter::Only(ids) => {
            let ids = to_json("claim scope", &ids)?;
            let mut stmt = conn.cached(CANDIDATES_LISTED).map_err(&sql)?;
            let seqs = stmt.query_map(params![request.now, ids, request.max], |r| r.get(0)).map_err(&sql)?;
            Some(seqs.collect::<rusqlite::Result<Vec<i64>>>().map_err(&sql)?.into_iter())
        }
    };
    // Found, guarded and re-read in this transaction, which holds the write lock (`BEGIN
    // IMMEDIATE`): no other writer can take the row in between. (One `UPDATE … RETURNING` would
    // say the same, but SQLite builds a temporary b-tree for every RETURNING statement, which
    // cost more than the claim itself.)
    let mut claimed = Vec::new();
    for _ in 0..request.max {
        let seq: Option<i64> = match &mut listed {
            None => best_waiting(conn, request.now).map_err(&sql)?,
            Some(seqs) => seqs.next(),
        };
        let Some(seq) = seq else { break };
        if listed.is_some() {
            // It may be a retrying execution: the earliest retry is asked again next time.
            conn.facts().retry_left();
        }
        let lease_token = new_lease_token();
        let started =
            conn.execute_cached(START_ATTEMPT, params![request.owner, lease_until, request.now, seq, lease_token]).map_err(&sql)?;
        if started != 1 {
            break;
        }
        let mut execution = execution_by_seq(conn, path, seq)?;
        execution.attempt_errors = earlier_attempt_errors(conn, path, &execution)?;
        // Kept so that its success is answered without reading the row back.
        conn.facts().claimed(&execution);
        let event = LogEvent::info(EventKind::Started, format!("attempt {} of {} started", execution.attempt, execution.max_attempts))
            .with_data(serde_json::json!({ "owner": request.owner }));
        let log = append_log(conn, path, &execution.id, execution.attempt, request.now, event)?;
        claimed.push(Transition { execution, log });
    }
    Ok(claimed)
}

pub(super) fn renew_leases(conn: &WriteConn, path: &Path, owner: &str, now: Millis, lease_ms: u64) -> Result<LeaseRenewal, StoreError> {
    // Leases written below are in the clock as it is now: move the others first if it stepped.
    rebase_on_clock_step(conn, path)?;
    let sql = sql_err(path);
    let lease_until = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
    let mut stmt = conn
        .cached(
            "UPDATE executions SET lease_expires_at = ?2 WHERE status = 'running' AND owner = ?1
             RETURNING id, cancel_requested",
        )
        .map_err(&sql)?;
    let rows = stmt.query_map(params![owner, lease_until], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(&sql)?;
    let mut renewal = LeaseRenewal::default();
    for row in rows {
        let (id, cancel) = row.map_err(&sql)?;
        let id = ExecutionId::from(id.as_str());
        conn.facts().lease_renewed(&id, lease_until, cancel != 0);
        if cancel != 0 {
            renewal.cancel_requested.push(id.clone());
        }
        renewal.running.push(id);
    }
    drop(stmt);
    renewal.running.sort();
    renewal.cancel_requested.sort();
    Ok(renewal)
}

/// Fails unless the execution is running under `owner`.
fn require_owned(conn: &WriteConn, path: &Path, id: &ExecutionId, owner: &str) -> Result<(u32, bool), StoreError> {
    let row: Option<(String, Option<String>, i64, i64)> = conn
        .cached("SELECT status, owner, attempt, cancel_requested FROM executions WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))))
        .optional()
        .map_err(sql_err(path))?;
    match row {
        None => Err(StoreError::NotFound(id.clone())),
        Some((status, Some(current), attempt, cancel)) if status == "running" && current == owner => {
            Ok((u32::try_from(attempt).unwrap_or(0), cancel != 0))
        }
        Some(_) => Err(StoreError::NotOwner { id: id.clone(), owner: owner.to_string() }),
    }
}

fn record_attempt_error(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    attempt: u32,
    at: Millis,
    error: &ExecutionError,
) -> Result<(), StoreError> {
    conn.cached("INSERT INTO attempt_errors (execution_id, attempt, at, error) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| s.execute(params![id.as_str(), attempt, at, to_json("error", error).map_err(to_sql_input)?]))
        .map_err(sql_err(path))?;
    Ok(())
}

/// Clears what only a running attempt has.
const RELEASE: &str = "owner = NULL, lease_expires_at = NULL, attempt_started_at = NULL, next_run_at = NULL, cancel_requested = 0";

/// [`finish`] with success, the common case: one statement checks the owner, ends the attempt
/// and returns the row (no separate ownership check or re-read).
fn succeed(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    owner: &str,
    output: String,
    usage: Usage,
    now: Millis,
) -> Result<Transition, StoreError> {
    let sql = sql_err(path);
    static SUCCEED: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE executions SET status = 'succeeded', output = ?2, usage = ?3, error = NULL, finished_at = ?4, {RELEASE}
              WHERE id = ?1 AND status = 'running' AND owner = ?5"
        )
    });
    static ROW_BY_ID: LazyLock<String> = LazyLock::new(|| format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = ?1"));
    let changed = conn.execute_cached(&SUCCEED, params![id.as_str(), output, to_json("usage", &usage)?, now, owner]).map_err(&sql)?;
    if changed == 0 {
        // Nothing changed: say why (gone, or no longer running under `owner`).
        require_owned(conn, path, id, owner)?;
        return Err(StoreError::NotOwner { id: id.clone(), owner: owner.to_string() });
    }
    let kept = conn.facts().take_running(id);
    let execution = match kept {
        // What `SUCCEED` made of the row this connection claimed (see `Facts`).
        Some(running) if matches!(&running.state, ExecutionState::Running { owner: o, .. } if o == owner) => {
            Execution { state: ExecutionState::Succeeded { output, finished_at: now }, usage, cancel_requested: false, ..running }
        }
        // Re-read in the same transaction (cheaper than RETURNING, see `claim`).
        _ => {
            let mut stmt = conn.cached(&ROW_BY_ID).map_err(&sql)?;
            let mut rows = stmt.query([id.as_str()]).map_err(&sql)?;
            let row = rows.next().map_err(&sql)?.ok_or_else(|| StoreError::NotFound(id.clone()))?;
            let mut execution = execution_from_row(path, row)?;
            execution.attempt_errors = earlier_attempt_errors(conn, path, &execution)?;
            execution
        }
    };
    let event = LogEvent::info(EventKind::Succeeded, format!("succeeded on attempt {}", execution.attempt));
    let log = append_log(conn, path, id, execution.attempt, now, event)?;
    conn.facts().finished(id);
    Ok(Transition { execution, log })
}

pub(super) fn finish(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    owner: &str,
    finish: Finish,
    now: Millis,
) -> Result<Transition, StoreError> {
    let sql = sql_err(path);
    let owned_attempt = || require_owned(conn, path, id, owner).map(|(attempt, _)| attempt);
    let event = match finish {
        Finish::Succeeded { output, usage } => {
            return succeed(conn, path, id, owner, output, usage, now);
        }
        Finish::Failed { error, usage } => {
            let attempt = owned_attempt()?;
            record_attempt_error(conn, path, id, attempt, now, &error)?;
            let usage = usage.map(|u| to_json("usage", &u)).transpose()?;
            static FAIL: LazyLock<String> = LazyLock::new(|| {
                format!("UPDATE executions SET status = 'failed', error = ?2, usage = COALESCE(?3, usage), finished_at = ?4, {RELEASE} WHERE id = ?1")
            });
            conn.execute_cached(&FAIL, params![id.as_str(), to_json("error", &error)?, usage, now]).map_err(&sql)?;
            LogEvent::info(EventKind::Failed, format!("failed on attempt {attempt}: {}", error.message))
                .with_level(LogLevel::Error)
                .with_data(serde_json::to_value(&error).unwrap_or_default())
        }
        Finish::Cancelled => {
            let attempt = owned_attempt()?;
            static CANCEL_RUNNING: LazyLock<String> = LazyLock::new(|| {
                format!("UPDATE executions SET status = 'cancelled', was_running = 1, finished_at = ?2, {RELEASE} WHERE id = ?1")
            });
            conn.execute_cached(&CANCEL_RUNNING, params![id.as_str(), now]).map_err(&sql)?;
            LogEvent::info(EventKind::Cancelled, format!("cancelled during attempt {attempt}")).with_level(LogLevel::Warn)
        }
    };
    transition(conn, path, id, now, event)
}

pub(super) fn schedule_retry(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    owner: &str,
    error: ExecutionError,
    next_run_at: Millis,
    now: Millis,
) -> Result<Transition, StoreError> {
    let (attempt, cancel_requested) = require_owned(conn, path, id, owner)?;
    // `next_run_at` is in the clock as it is now: move the stored ones first if it stepped.
    rebase_on_clock_step(conn, path)?;
    record_attempt_error(conn, path, id, attempt, now, &error)?;
    if cancel_requested {
        // A cancel arrived while the attempt was failing: honour it rather than retry.
        return finish(conn, path, id, owner, Finish::Cancelled, now);
    }
    conn.execute_cached(
        "UPDATE executions SET status = 'retrying', next_run_at = ?2, error = ?3, owner = NULL,
             lease_expires_at = NULL, attempt_started_at = NULL WHERE id = ?1",
        params![id.as_str(), next_run_at, to_json("error", &error)?],
    )
    .map_err(sql_err(path))?;
    conn.facts().retry_scheduled(next_run_at);
    let delay = (next_run_at - now).max(0);
    let event = LogEvent::info(EventKind::RetryScheduled, format!("attempt {attempt} failed: {}; retrying in {delay} ms", error.message))
        .with_level(LogLevel::Warn)
        .with_data(serde_json::json!({ "next_run_at": next_run_at, "error": error }));
    transition(conn, path, id, now, event)
}

pub(super) fn requeue(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    owner: &str,
    reason: &str,
    now: Millis,
) -> Result<Transition, StoreError> {
    let (attempt, cancel_requested) = require_owned(conn, path, id, owner)?;
    if cancel_requested {
        // Someone asked to cancel it while it was being interrupted: honour that instead.
        return finish(conn, path, id, owner, Finish::Cancelled, now);
    }
    conn.execute_cached(
        "UPDATE executions SET status = 'queued', attempt = MAX(attempt - 1, 0), owner = NULL,
             lease_expires_at = NULL, attempt_started_at = NULL WHERE id = ?1",
        [id.as_str()],
    )
    .map_err(sql_err(path))?;
    let event =
        LogEvent::info(EventKind::Interrupted, format!("attempt {attempt} interrupted ({reason}); back in the queue, attempt refunded"))
            .with_level(LogLevel::Warn);
    transition(conn, path, id, now, event)
}

/// Ends the owner's attempt with a task's answer waiting for human review: `awaiting_input`
/// with `request`, no owner or lease (no slot held), the attempt refunded (answering it is not a
/// retry). A cancel requested meanwhile is honoured instead.
pub(super) fn await_input(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    owner: &str,
    request: InputRequest,
    now: Millis,
) -> Result<Transition, StoreError> {
    let (attempt, cancel_requested) = require_owned(conn, path, id, owner)?;
    if cancel_requested {
        return finish(conn, path, id, owner, Finish::Cancelled, now);
    }
    static AWAIT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE executions SET status = 'awaiting_input', awaiting_input = ?2, attempt = MAX(attempt - 1, 0), {RELEASE} WHERE id = ?1"
        )
    });
    conn.execute_cached(&AWAIT, params![id.as_str(), to_json("awaiting_input", &request)?]).map_err(sql_err(path))?;
    let event = LogEvent::info(
        EventKind::AwaitingInput,
        format!("task `{}` awaits human review (round {}); attempt {attempt} paused", request.task, request.round),
    )
    .with_task(request.task.clone())
    .with_agent(request.agent.clone())
    .with_data(serde_json::json!({"round": request.round, "usage": request.usage}));
    transition(conn, path, id, now, event)
}

/// Answers an execution's human review: keeps the answered request in `input_reviews` and queues
/// the execution again (in its old place: same priority and submission order). Refused
/// ([`StoreError::InvalidState`]) unless it is awaiting input.
pub(super) fn answer_input(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    answer: InputAnswer,
    now: Millis,
) -> Result<Transition, StoreError> {
    let execution = require_execution(conn, path, id)?;
    let ExecutionState::AwaitingInput { request } = execution.state else {
        return Err(StoreError::InvalidState { id: id.clone(), status: execution.state.status(), operation: "answer" });
    };
    let sql = sql_err(path);
    conn.execute_cached(
        "INSERT INTO input_reviews (execution_id, task, round, request, answer, answered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.as_str(),
            request.task,
            request.round,
            to_json("input_reviews.request", &request)?,
            to_json("input_reviews.answer", &answer)?,
            now
        ],
    )
    .map_err(&sql)?;
    conn.execute_cached("UPDATE executions SET status = 'queued', awaiting_input = NULL WHERE id = ?1", [id.as_str()]).map_err(&sql)?;
    let message = match &answer {
        InputAnswer::Accepted => format!("task `{}` accepted by its reviewer (round {}); back in the queue", request.task, request.round),
        InputAnswer::Feedback { text } => {
            format!("task `{}` sent back by its reviewer (round {}): {text}; back in the queue", request.task, request.round)
        }
    };
    let event = LogEvent::info(EventKind::InputAnswered, message)
        .with_task(request.task.clone())
        .with_agent(request.agent.clone())
        .with_data(serde_json::to_value(&answer).unwrap_or_default());
    transition(conn, path, id, now, event)
}

pub(super) fn request_cancel(conn: &WriteConn, path: &Path, id: &ExecutionId, now: Millis) -> Result<CancelResult, StoreError> {
    let sql = sql_err(path);
    let status = load_status(conn, path, id)?;
    match status {
        Status::Queued | Status::Retrying => {
            if status == Status::Retrying {
                conn.facts().retry_left();
            }
            conn.execute_cached(
                "UPDATE executions SET status = 'cancelled', was_running = 0, finished_at = ?2, next_run_at = NULL WHERE id = ?1",
                params![id.as_str(), now],
            )
            .map_err(&sql)?;
            let event = LogEvent::info(EventKind::Cancelled, format!("cancelled while {status}")).with_level(LogLevel::Warn);
            Ok(CancelResult { outcome: CancelOutcome::Cancelled, transition: Some(transition(conn, path, id, now, event)?) })
        }
        Status::Running => {
            let changed = conn
                .execute("UPDATE executions SET cancel_requested = 1 WHERE id = ?1 AND cancel_requested = 0", [id.as_str()])
                .map_err(&sql)?;
            let transition = if changed == 1 {
                let event = LogEvent::info(EventKind::CancelRequested, "cancel requested; the running attempt will stop");
                Some(transition(conn, path, id, now, event)?)
            } else {
                None
            };
            Ok(CancelResult { outcome: CancelOutcome::Requested, transition })
        }
        Status::AwaitingInput => {
            conn.execute_cached(
                "UPDATE executions SET status = 'cancelled', was_running = 1, awaiting_input = NULL, finished_at = ?2 WHERE id = ?1",
                params![id.as_str(), now],
            )
            .map_err(&sql)?;
            let event = LogEvent::info(EventKind::Cancelled, "cancelled while awaiting input").with_level(LogLevel::Warn);
            Ok(CancelResult { outcome: CancelOutcome::Cancelled, transition: Some(transition(conn, path, id, now, event)?) })
        }
        finished => Ok(CancelResult { outcome: CancelOutcome::AlreadyFinished(finished), transition: None }),
    }
}

pub(super) fn set_priority(
    conn: &WriteConn,
    path: &Path,
    id: &ExecutionId,
    priority: Priority,
    now: Millis,
) -> Result<Transition, StoreError> {
    let before = require_execution(conn, path, id)?;
    let status = before.status();
    if !matches!(status, Status::Queued | Status::Retrying) {
        return Err(StoreError::InvalidState { id: id.clone(), status, operation: "change the priority of" });
    }
    conn.execute_cached("UPDATE executions SET priority = ?2 WHERE id = ?1", params![id.as_str(), priority.rank()])
        .map_err(sql_err(path))?;
    let event = LogEvent::info(EventKind::PriorityChanged, format!("priority changed from {} to {priority}", before.priority))
        .with_data(serde_json::json!({ "from": before.priority, "to": priority }));
    transition(conn, path, id, now, event)
}

pub(super) fn recover(conn: &WriteConn, path: &Path, request: &RecoverRequest) -> Result<Vec<Transition>, StoreError> {
    let sql = sql_err(path);
    // Leases and due times are moved first when the wall clock stepped, so a forward step does
    // not make live leases look expired here.
    rebase_on_clock_step(conn, path)?;
    let candidates: Vec<(String, String, i64, i64, i64, i64)> = {
        let mut stmt = conn
            .cached(
                "SELECT id, owner, lease_expires_at, attempt, abandons, max_abandons FROM executions
                  WHERE status = 'running' AND (?1 IS NULL OR owner IS NOT ?1)",
            )
            .map_err(&sql)?;
        let rows = stmt
            .query_map([request.exclude_owner.as_deref()], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(&sql)?;
        rows.collect::<Result<_, _>>().map_err(&sql)?
    };
    let mut liveness: std::collections::HashMap<String, Liveness> = std::collections::HashMap::new();
    let mut recovered = Vec::new();
    for (id, owner, lease, attempt, abandons, max_abandons) in candidates {
        let alive = *liveness.entry(owner.clone()).or_insert_with(|| liveness::probe(path, &owner));
        let Some(reason) = liveness::takeover_reason(alive, lease < request.now) else { continue };
        let id = ExecutionId::from(id.as_str());
        let attempt_u32 = u32::try_from(attempt).unwrap_or(0);
        let abandons = abandons + 1;
        let error = ExecutionError::new(ErrorKind::Abandoned, format!("attempt {attempt} was abandoned: {reason} ({owner})"));
        record_attempt_error(conn, path, &id, attempt_u32, request.now, &error)?;
        let message = if abandons >= max_abandons {
            let error = ExecutionError::new(
                ErrorKind::Abandoned,
                format!(
                    "abandoned {abandons} times (--max-abandons {max_abandons}): its worker died during every one of these attempts, \
                     last because {reason} ({owner}); the crew may be killing its worker"
                ),
            )
            .with_details(serde_json::json!({ "abandons": abandons, "max_abandons": max_abandons }));
            conn.execute_cached(
                "UPDATE executions SET status = 'failed', error = ?2, finished_at = ?3, abandons = ?4, owner = NULL,
                     lease_expires_at = NULL, attempt_started_at = NULL, cancel_requested = 0 WHERE id = ?1",
                params![id.as_str(), to_json("error", &error)?, request.now, abandons],
            )
            .map_err(&sql)?;
            format!("recovered: {reason} ({owner}); abandoned {abandons} of at most {max_abandons} times, failed")
        } else {
            // A pending cancel request is honoured rather than requeued. The abandoned attempt is
            // refunded: a crash is not one of the crew's attempts.
            conn.execute_cached(
                "UPDATE executions SET
                     status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
                     finished_at = CASE WHEN cancel_requested = 1 THEN ?2 ELSE NULL END,
                     was_running = cancel_requested,
                     attempt = CASE WHEN cancel_requested = 1 THEN attempt ELSE MAX(attempt - 1, 0) END,
                     abandons = ?3,
                     owner = NULL, lease_expires_at = NULL, attempt_started_at = NULL WHERE id = ?1",
                params![id.as_str(), request.now, abandons],
            )
            .map_err(&sql)?;
            format!(
                "recovered: {reason} ({owner}); attempt {attempt} abandoned ({abandons} of at most {max_abandons}), not counted; back in the queue"
            )
        };
        let event = LogEvent::info(EventKind::Recovered, message)
            .with_level(LogLevel::Warn)
            .with_data(serde_json::json!({ "owner": owner, "attempt": attempt, "abandons": abandons, "reason": reason }));
        recovered.push(transition(conn, path, &id, request.now, event)?);
    }
    // Every running execution of the owners found gone was taken over above: their lock files
    // have told what they had to. Owners seen alive or unknown above keep theirs (one may have
    // died since; the next recovery takes its executions over). No folder walk on the writer
    // thread at every heartbeat when nothing was gone.
    if !liveness.values().any(|l| *l == Liveness::Gone) {
        return Ok(recovered);
    }
    let keep: std::collections::HashSet<String> = liveness
        .iter()
        .filter(|(_, l)| **l != Liveness::Gone)
        .filter_map(|(owner, _)| crate::store::OwnerId::parse(owner).map(|o| o.nonce))
        .collect();
    liveness::sweep_gone(path, |nonce| keep.contains(nonce));
    Ok(recovered)
}

/// Compares the clocks with the reference kept in `queue_state` and, when the wall clock stepped
/// on this boot, moves the due times of retrying executions and the leases of running ones by the
/// step (see `store/clock.rs`); records the new reference.
fn rebase_on_clock_step(conn: &WriteConn, path: &Path) -> Result<(), StoreError> {
    let Some(now) = ClockReading::now() else { return Ok(()) };
    let sql = sql_err(path);
    let stored: (Option<String>, Option<i64>) = conn
        .cached("SELECT clock_boot, clock_skew_ms FROM queue_state WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(&sql)?;
    let stored = match stored {
        (Some(boot), Some(skew_ms)) => Some(ClockReading { boot, skew_ms }),
        _ => None,
    };
    match clock::check(stored.as_ref(), &now) {
        ClockCheck::Steady => return Ok(()),
        ClockCheck::Stepped { step_ms } => {
            let moved_retries = conn
                .execute_cached("UPDATE executions SET next_run_at = next_run_at + ?1 WHERE status = 'retrying'", [step_ms])
                .map_err(&sql)?;
            let moved_leases = conn
                .execute_cached("UPDATE executions SET lease_expires_at = lease_expires_at + ?1 WHERE status = 'running'", [step_ms])
                .map_err(&sql)?;
            // The writer's remembered rows and earliest retry are stale now.
            conn.facts().forget();
            tracing::warn!(
                step_ms,
                moved_retries,
                moved_leases,
                "the wall clock stepped by {step_ms} ms; moved the due times of retries and the leases of running executions with it"
            );
        }
        ClockCheck::Record => {}
    }
    conn.execute_cached("UPDATE queue_state SET clock_boot = ?1, clock_skew_ms = ?2 WHERE id = 1", params![now.boot, now.skew_ms])
        .map_err(&sql)?;
    Ok(())
}

/// Refuses the write of an attempt whose lease is no longer current ([`StoreError::Fenced`]):
/// the execution must still be running under the claim that issued `lease.token`. A lease
/// without a token (not an attempt's write) is not checked.
pub(super) fn check_lease(conn: &WriteConn, path: &Path, id: &ExecutionId, lease: AttemptLease) -> Result<(), StoreError> {
    let Some(token) = lease.token else { return Ok(()) };
    let current: Option<(String, Option<i64>)> = conn
        .cached("SELECT status, lease_token FROM executions WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(sql_err(path))?;
    match current {
        None => Err(StoreError::NotFound(id.clone())),
        Some((status, Some(current))) if status == "running" && current == token => Ok(()),
        Some(_) => Err(StoreError::Fenced { id: id.clone(), attempt: lease.attempt }),
    }
}

pub(super) fn update_progress(conn: &WriteConn, path: &Path, id: &ExecutionId, progress: &Progress) -> Result<(), StoreError> {
    let changed = conn
        .cached("UPDATE executions SET progress = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id.as_str(), to_json("progress", progress).map_err(to_sql_input)?]))
        .map_err(sql_err(path))?;
    if changed == 0 {
        return Err(StoreError::NotFound(id.clone()));
    }
    conn.facts().progressed(id, progress);
    Ok(())
}

pub(super) fn save_step(conn: &WriteConn, path: &Path, id: &ExecutionId, step: StepOutput) -> Result<bool, StoreError> {
    let changed = conn
        .cached(
            "INSERT INTO step_outputs (execution_id, step, agent, output, json, usage, attempt, completed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (execution_id, step) DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                id.as_str(),
                step.step,
                step.agent,
                step.output,
                to_json("step json", &step.json).map_err(to_sql_input)?,
                to_json("step usage", &step.usage).map_err(to_sql_input)?,
                step.attempt,
                step.completed_at,
            ])
        })
        .map_err(sql_err(path))?;
    Ok(changed == 1)
}

pub(super) fn set_queue(
    conn: &WriteConn,
    path: &Path,
    paused: Option<bool>,
    concurrency: Option<u32>,
    now: Millis,
) -> Result<QueueSettings, StoreError> {
    conn.execute_cached(
        "UPDATE queue_state SET paused = COALESCE(?1, paused), concurrency = COALESCE(?2, concurrency), updated_at = ?3 WHERE id = 1",
        params![paused, concurrency.map(|c| c.max(1)), now],
    )
    .map_err(sql_err(path))?;
    let settings = super::read::queue_settings(conn, path)?;
    conn.facts().set_paused(settings.paused);
    Ok(settings)
}
