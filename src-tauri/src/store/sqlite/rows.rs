//! Mapping between rows and the domain types (`Execution`, `LogEntry`, `StepOutput`).
//!
//! The state columns are read into an [`ExecutionState`] that carries only what is true in that
//! state: owner and lease only when running, the error only when retrying or failed, and so on.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Row};
use serde::de::DeserializeOwned;

use crate::execution::{
    AttemptError, EventKind, Execution, ExecutionError, ExecutionId, ExecutionState, InputReview, LogEntry, LogEvent, LogLevel, Priority,
    Status, StepOutput,
};
use crate::store::StoreError;

/// The `executions` columns [`execution_from_row`] expects, in order.
pub(super) const EXECUTION_COLUMNS: &str = "id, crew_name, crew_source, crew_spec, inputs, priority, status, \
     attempt, max_attempts, timeout_ms, next_run_at, owner, lease_expires_at, attempt_started_at, \
     cancel_requested, was_running, progress, output, error, usage, llm, meta, retry_of, created_at, \
     started_at, finished_at, lease_token, abandons, max_abandons, engine, awaiting_input";

/// The `execution_logs` columns [`log_from_row`] expects.
pub(super) const LOG_COLUMNS: &str = "execution_id, attempt, seq, at, level, kind, task, agent, message, data";

/// The `step_outputs` columns [`step_from_row`] expects.
pub(super) const STEP_COLUMNS: &str = "step, agent, output, json, usage, attempt, completed_at";

fn corrupt(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt { path: path.to_path_buf(), detail: detail.into() }
}

fn json<T: DeserializeOwned>(path: &Path, column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(path, format!("column {column} holds invalid JSON: {e}")))
}

/// Encodes a value as JSON text for a column.
pub(super) fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode { what, source })
}

fn u32_of(path: &Path, column: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(path, format!("column {column} holds {v}")))
}

/// The crew snapshot of a row (column 3 of [`EXECUTION_COLUMNS`]), parsed once per run of equal
/// texts on this thread: the rows of a batch hold the same crew, and a claim, a list or the
/// executions of a run read them one after another, so they share one parsed copy instead of
/// parsing (and holding) the same JSON each. The last text and its value stay with the thread.
fn crew_spec(path: &Path, row: &Row<'_>) -> Result<Arc<serde_json::Value>, StoreError> {
    thread_local! {
        static LAST: RefCell<Option<(String, Arc<serde_json::Value>)>> = const { RefCell::new(None) };
    }
    let value = row.get_ref(3).map_err(|e| StoreError::from_sqlite(path, e))?;
    let text = value.as_str().map_err(|e| corrupt(path, format!("column crew_spec: {e}")))?;
    LAST.with_borrow_mut(|last| {
        if let Some((_, parsed)) = last.as_ref().filter(|(seen, _)| seen == text) {
            return Ok(parsed.clone());
        }
        let parsed = Arc::new(json::<serde_json::Value>(path, "crew_spec", text)?);
        *last = Some((text.to_string(), parsed.clone()));
        Ok(parsed)
    })
}

/// Reads one `executions` row (selected with [`EXECUTION_COLUMNS`]) without its attempt errors.
pub(super) fn execution_from_row(path: &Path, row: &Row<'_>) -> Result<Execution, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let id: String = row.get(0).map_err(sql)?;
    let status_text: String = row.get(6).map_err(sql)?;
    let status: Status = status_text.parse().map_err(|_| corrupt(path, format!("execution {id} has status {status_text}")))?;
    let rank: i64 = row.get(5).map_err(sql)?;
    let priority = Priority::from_rank(rank).ok_or_else(|| corrupt(path, format!("execution {id} has priority {rank}")))?;
    let error_text: Option<String> = row.get(18).map_err(sql)?;
    let error: Option<ExecutionError> = error_text.as_deref().map(|t| json(path, "error", t)).transpose()?;
    let finished_at: Option<i64> = row.get(25).map_err(sql)?;
    let missing = |what: &str| corrupt(path, format!("execution {id} is {status} without {what}"));

    let state = match status {
        Status::Queued => ExecutionState::Queued,
        Status::Running => ExecutionState::Running {
            owner: row.get::<_, Option<String>>(11).map_err(sql)?.ok_or_else(|| missing("owner"))?,
            lease_expires_at: row.get::<_, Option<i64>>(12).map_err(sql)?.ok_or_else(|| missing("lease"))?,
            started_at: row.get::<_, Option<i64>>(13).map_err(sql)?.ok_or_else(|| missing("attempt start"))?,
            lease_token: row.get::<_, Option<i64>>(26).map_err(sql)?.unwrap_or(0),
            owner_gone: false,
        },
        Status::Retrying => ExecutionState::Retrying {
            next_run_at: row.get::<_, Option<i64>>(10).map_err(sql)?.ok_or_else(|| missing("next_run_at"))?,
            last_error: error.ok_or_else(|| missing("error"))?,
        },
        Status::Succeeded => ExecutionState::Succeeded {
            output: row.get::<_, Option<String>>(17).map_err(sql)?.unwrap_or_default(),
            finished_at: finished_at.ok_or_else(|| missing("finished_at"))?,
        },
        Status::Failed => ExecutionState::Failed {
            error: error.ok_or_else(|| missing("error"))?,
            finished_at: finished_at.ok_or_else(|| missing("finished_at"))?,
        },
        Status::Cancelled => ExecutionState::Cancelled {
            finished_at: finished_at.ok_or_else(|| missing("finished_at"))?,
            was_running: row.get::<_, i64>(15).map_err(sql)? != 0,
        },
        Status::AwaitingInput => ExecutionState::AwaitingInput {
            request: json(path, "awaiting_input", &row.get::<_, Option<String>>(30).map_err(sql)?.ok_or_else(|| missing("its request"))?)?,
        },
    };

    let text = |i: usize| -> Result<String, StoreError> { row.get::<_, String>(i).map_err(sql) };
    Ok(Execution {
        id: ExecutionId::from(id.as_str()),
        crew_name: text(1)?,
        crew_source: text(2)?,
        engine: text(29)?.parse().map_err(|e| corrupt(path, format!("execution {id}: {e}")))?,
        crew_spec: crew_spec(path, row)?,
        inputs: json(path, "inputs", &text(4)?)?,
        priority,
        state,
        attempt: u32_of(path, "attempt", row.get(7).map_err(sql)?)?,
        max_attempts: u32_of(path, "max_attempts", row.get(8).map_err(sql)?)?,
        abandons: u32_of(path, "abandons", row.get(27).map_err(sql)?)?,
        max_abandons: u32_of(path, "max_abandons", row.get(28).map_err(sql)?)?,
        timeout_ms: row.get::<_, Option<i64>>(9).map_err(sql)?.map(|v| v.max(0) as u64),
        llm: json(path, "llm", &text(20)?)?,
        meta: json(path, "meta", &text(21)?)?,
        cancel_requested: row.get::<_, i64>(14).map_err(sql)? != 0,
        progress: json(path, "progress", &text(16)?)?,
        usage: json(path, "usage", &text(19)?)?,
        attempt_errors: Vec::new(),
        retry_of: row.get::<_, Option<String>>(22).map_err(sql)?.map(|s| ExecutionId::from(s.as_str())),
        created_at: row.get(23).map_err(sql)?,
        started_at: row.get(24).map_err(sql)?,
    })
}

/// Loads one execution with its attempt errors.
pub(super) fn load_execution(conn: &Connection, path: &Path, id: &ExecutionId) -> Result<Option<Execution>, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let mut stmt = conn.prepare_cached(&format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = ?1")).map_err(sql)?;
    let mut rows = stmt.query([id.as_str()]).map_err(sql)?;
    let Some(row) = rows.next().map_err(sql)? else { return Ok(None) };
    let mut execution = execution_from_row(path, row)?;
    execution.attempt_errors = load_attempt_errors(conn, path, id)?;
    Ok(Some(execution))
}

/// Loads an execution that must exist.
pub(super) fn require_execution(conn: &Connection, path: &Path, id: &ExecutionId) -> Result<Execution, StoreError> {
    load_execution(conn, path, id)?.ok_or_else(|| StoreError::NotFound(id.clone()))
}

/// The answered human reviews of an execution, in the order they were answered.
pub(super) fn load_reviews(conn: &Connection, path: &Path, id: &ExecutionId) -> Result<Vec<InputReview>, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let mut stmt = conn
        .prepare_cached("SELECT request, answer, answered_at FROM input_reviews WHERE execution_id = ?1 ORDER BY answered_at, task, round")
        .map_err(sql)?;
    let mut rows = stmt.query([id.as_str()]).map_err(sql)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        out.push(InputReview {
            request: json(path, "input_reviews.request", &row.get::<_, String>(0).map_err(sql)?)?,
            answer: json(path, "input_reviews.answer", &row.get::<_, String>(1).map_err(sql)?)?,
            answered_at: row.get(2).map_err(sql)?,
        });
    }
    Ok(out)
}

/// Every attempt's error, oldest first.
pub(super) fn load_attempt_errors(conn: &Connection, path: &Path, id: &ExecutionId) -> Result<Vec<AttemptError>, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let mut stmt = conn
        .prepare_cached("SELECT attempt, at, error FROM attempt_errors WHERE execution_id = ?1 ORDER BY attempt, rowid")
        .map_err(sql)?;
    let mut rows = stmt.query([id.as_str()]).map_err(sql)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        let text: String = row.get(2).map_err(sql)?;
        out.push(AttemptError {
            attempt: u32_of(path, "attempt", row.get(0).map_err(sql)?)?,
            at: row.get(1).map_err(sql)?,
            error: json(path, "attempt_errors.error", &text)?,
        });
    }
    Ok(out)
}

/// The status of an execution, or `NotFound`.
pub(super) fn load_status(conn: &Connection, path: &Path, id: &ExecutionId) -> Result<Status, StoreError> {
    let text: Option<String> = conn
        .query_row("SELECT status FROM executions WHERE id = ?1", [id.as_str()], |r| r.get(0))
        .optional()
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    let text = text.ok_or_else(|| StoreError::NotFound(id.clone()))?;
    text.parse().map_err(|_| corrupt(path, format!("execution {id} has status {text}")))
}

/// Reads one `execution_logs` row (selected with [`LOG_COLUMNS`]).
pub(super) fn log_from_row(path: &Path, row: &Row<'_>) -> Result<LogEntry, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let level: String = row.get(4).map_err(sql)?;
    let kind: String = row.get(5).map_err(sql)?;
    let data: String = row.get(9).map_err(sql)?;
    let id: String = row.get(0).map_err(sql)?;
    Ok(LogEntry {
        execution_id: ExecutionId::from(id.as_str()),
        attempt: u32_of(path, "attempt", row.get(1).map_err(sql)?)?,
        seq: row.get::<_, i64>(2).map_err(sql)?.max(0) as u64,
        at: row.get(3).map_err(sql)?,
        event: LogEvent {
            level: enum_from_name::<LogLevel>(path, "level", &level)?,
            kind: enum_from_name::<EventKind>(path, "kind", &kind)?,
            task: row.get(6).map_err(sql)?,
            agent: row.get(7).map_err(sql)?,
            message: row.get(8).map_err(sql)?,
            data: json(path, "data", &data)?,
        },
    })
}

/// Reads one `step_outputs` row (selected with [`STEP_COLUMNS`]).
pub(super) fn step_from_row(path: &Path, row: &Row<'_>) -> Result<StepOutput, StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let json_text: String = row.get(3).map_err(sql)?;
    let usage_text: String = row.get(4).map_err(sql)?;
    Ok(StepOutput {
        step: row.get(0).map_err(sql)?,
        agent: row.get(1).map_err(sql)?,
        output: row.get(2).map_err(sql)?,
        json: json(path, "json", &json_text)?,
        usage: json(path, "usage", &usage_text)?,
        attempt: u32_of(path, "attempt", row.get(5).map_err(sql)?)?,
        completed_at: row.get(6).map_err(sql)?,
    })
}

/// The snake_case serde name of a unit enum variant (how `level` and `kind` are stored).
pub(super) fn enum_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn enum_from_name<T: DeserializeOwned>(path: &Path, column: &str, name: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| corrupt(path, format!("column {column} holds unknown value {name}")))
}
