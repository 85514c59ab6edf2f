//! Read queries. They run on a read connection (WAL: they never block the writer) or, for the
//! answers of writes, on the writer's connection inside its transaction.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::rows::{execution_from_row, load_attempt_errors, log_from_row, step_from_row, EXECUTION_COLUMNS, LOG_COLUMNS, STEP_COLUMNS};
use crate::execution::{CompressedPayload, Execution, ExecutionFilter, ExecutionId, LogEntry, Millis, Status, StepOutput};
use crate::store::{QueueSettings, StatusCounts, StoreError};

/// Page size when a filter's limit is 0.
pub const DEFAULT_LIST_LIMIT: u32 = 50;

pub(super) fn list(conn: &Connection, path: &Path, filter: &ExecutionFilter) -> Result<Vec<Execution>, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    // The crew's argument; its clause depends on the status it goes with (`crew_is`).
    let crew_arg = filter.crew_name.as_ref().map(|crew| {
        args.push(Value::Text(crew.clone()));
        args.len()
    });
    for (key, value) in &filter.meta {
        args.push(Value::Text(key.clone()));
        args.push(Value::Text(value.clone()));
        let (k, v) = (args.len() - 1, args.len());
        clauses.push(format!("EXISTS (SELECT 1 FROM json_each(executions.meta) WHERE json_each.key = ?{k} AND json_each.value = ?{v})"));
    }
    if let Some(before) = &filter.before {
        args.push(Value::Text(before.as_str().to_string()));
        clauses.push(format!("id < ?{}", args.len()));
    }
    let limit = if filter.limit == 0 { DEFAULT_LIST_LIMIT } else { filter.limit };
    args.push(Value::Integer(i64::from(limit)));
    let limit_arg = args.len();
    let query = match filter.statuses.as_slice() {
        [] | [_] => {
            let status = filter.statuses.first().copied();
            clauses.extend(crew_arg.map(|arg| crew_is(arg, status)));
            clauses.extend(status.map(status_is));
            let where_clause = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
            let table = listed_from(status);
            format!("SELECT {EXECUTION_COLUMNS} FROM {table} {where_clause} ORDER BY id DESC LIMIT ?{limit_arg}")
        }
        // Several statuses: the newest `limit` of each status (one walk of its index range each),
        // merged. SQLite cannot walk several ranges of an index in one order; with `status IN
        // (…)` it would sort every matching row of a large history to return a page.
        statuses => {
            let and_clauses: String = clauses.iter().map(|c| format!(" AND {c}")).collect();
            let parts: Vec<String> = statuses
                .iter()
                .map(|status| {
                    let crew: String = crew_arg.map(|arg| format!(" AND {}", crew_is(arg, Some(*status)))).unwrap_or_default();
                    format!(
                        "SELECT id FROM (SELECT id FROM {} WHERE {}{crew}{and_clauses} ORDER BY id DESC LIMIT ?{limit_arg})",
                        listed_from(Some(*status)),
                        status_is(*status)
                    )
                })
                .collect();
            format!(
                "SELECT {EXECUTION_COLUMNS} FROM executions WHERE id IN ({}) ORDER BY id DESC LIMIT ?{limit_arg}",
                parts.join(" UNION ALL ")
            )
        }
    };

    let mut stmt = conn.prepare(&query).map_err(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(sql)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        out.push(execution_from_row(path, row)?);
    }
    for execution in &mut out {
        execution.attempt_errors = load_attempt_errors(conn, path, &execution.id)?;
    }
    Ok(out)
}

/// The crew condition on argument `?arg`, beside `status`. With `queued`, `running` or
/// `retrying` (as many rows as the work waiting and in flight) the crew's list index is kept out
/// of the plan (`+crew_name`), so the page comes from that status's own index and a sort of its
/// rows; otherwise SQLite walked the crew's whole history newest first looking for rows of that
/// status.
pub(super) fn crew_is(arg: usize, status: Option<Status>) -> String {
    match status {
        Some(Status::Queued | Status::Running | Status::Retrying) => format!("+crew_name = ?{arg}"),
        _ => format!("crew_name = ?{arg}"),
    }
}

/// The table a list of `status` reads: the retrying rows through their own index (in due-time
/// order, so the page is a sort of those few rows), which SQLite would otherwise pass over for a
/// walk of the whole id index newest first.
pub(super) fn listed_from(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Retrying) => "executions INDEXED BY executions_retrying",
        _ => "executions",
    }
}

/// `status = '<status>'`, with the status written into the SQL rather than bound: the partial
/// index of that status's rows (migration 0004) is only usable when the query names the status
/// itself. (A fixed set of names from [`Status`], never user text.)
pub(super) fn status_is(status: Status) -> String {
    format!("status = '{}'", status.as_str())
}

pub(super) fn logs(conn: &Connection, path: &Path, id: &ExecutionId, after_seq: u64, limit: u32) -> Result<Vec<LogEntry>, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let limit = if limit == 0 { -1 } else { i64::from(limit) };
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {LOG_COLUMNS} FROM execution_logs WHERE execution_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"))
        .map_err(sql)?;
    let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
    let mut rows = stmt.query(rusqlite::params![id.as_str(), after, limit]).map_err(sql)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        out.push(log_from_row(path, row)?);
    }
    Ok(out)
}

/// The stored payload of the call whose completion line has seq `call`, if one was kept.
pub(super) fn call_payload(conn: &Connection, path: &Path, id: &ExecutionId, call: u64) -> Result<Option<CompressedPayload>, StoreError> {
    let call = i64::try_from(call).unwrap_or(i64::MAX);
    conn.prepare_cached("SELECT raw_bytes, body FROM call_payloads WHERE execution_id = ?1 AND call = ?2")
        .and_then(|mut s| {
            s.query_row(rusqlite::params![id.as_str(), call], |r| {
                Ok(CompressedPayload { raw_bytes: r.get::<_, i64>(0)?.max(0) as u64, body: r.get(1)? })
            })
            .optional()
        })
        .map_err(|e| StoreError::from_sqlite(path, e))
}

pub(super) fn steps(conn: &Connection, path: &Path, id: &ExecutionId) -> Result<Vec<StepOutput>, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    static STEPS: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("SELECT {STEP_COLUMNS} FROM step_outputs WHERE execution_id = ?1 ORDER BY rowid"));
    let mut stmt = conn.prepare_cached(&STEPS).map_err(sql)?;
    let mut rows = stmt.query([id.as_str()]).map_err(sql)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        out.push(step_from_row(path, row)?);
    }
    Ok(out)
}

pub(super) fn queue_settings(conn: &Connection, path: &Path) -> Result<QueueSettings, StoreError> {
    let (paused, concurrency): (i64, i64) = conn
        .query_row("SELECT paused, concurrency FROM queue_state WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    Ok(QueueSettings { paused: paused != 0, concurrency: u32::try_from(concurrency.max(1)).unwrap_or(u32::MAX) })
}

pub(super) fn counts(conn: &Connection, path: &Path) -> Result<StatusCounts, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    // Every status but `succeeded` from its partial index; `succeeded` is the rest of the total
    // (counted off the narrowest index). No index is led by the status (see migration 0004).
    static COUNTS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let others: Vec<String> = Status::ALL
            .iter()
            .filter(|s| **s != Status::Succeeded)
            .map(|s| format!("(SELECT COUNT(*) FROM executions WHERE {})", status_is(*s)))
            .collect();
        format!("SELECT (SELECT COUNT(*) FROM executions), {}", others.join(", "))
    });
    let mut stmt = conn.prepare_cached(&COUNTS).map_err(sql)?;
    let (total, others) = stmt
        .query_row([], |r| {
            let mut others = Vec::new();
            for i in 1..Status::ALL.len() {
                others.push(r.get::<_, i64>(i)?.max(0) as u64);
            }
            Ok((r.get::<_, i64>(0)?.max(0) as u64, others))
        })
        .map_err(sql)?;
    let mut counts = StatusCounts::default();
    let mut rest = total;
    for (status, n) in Status::ALL.iter().filter(|s| **s != Status::Succeeded).zip(others) {
        counts.add(*status, n);
        rest = rest.saturating_sub(n);
    }
    counts.add(Status::Succeeded, rest);
    Ok(counts)
}

pub(super) fn secret_refs(conn: &Connection, path: &Path) -> Result<std::collections::BTreeSet<String>, StoreError> {
    conn.prepare_cached(
        "SELECT DISTINCT json_extract(llm, '$.secret_ref') FROM executions
          WHERE llm LIKE '%\"secret_ref\"%' AND json_extract(llm, '$.secret_ref') IS NOT NULL",
    )
    .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
    .map_err(|e| StoreError::from_sqlite(path, e))
}

pub(super) fn next_retry_at(conn: &Connection, path: &Path, after: Millis) -> Result<Option<Millis>, StoreError> {
    conn.prepare_cached(
        "SELECT MIN(next_run_at) FROM executions INDEXED BY executions_retrying
          WHERE status = 'retrying' AND next_run_at > ?1",
    )
    .and_then(|mut s| s.query_row([after], |r| r.get(0)))
    .map_err(|e| StoreError::from_sqlite(path, e))
}
