//! `GET /v1/executions/{id}/events`: an execution's log and state as Server-Sent Events.
//!
//! Events, in order of commit per kind:
//! - `status` (data: `{id, status, attempt, priority, …}`: the state's fields as in an execution),
//!   first the current one, then each change this process's scheduler announces;
//! - `progress` (data: `{id, completed_steps, total_steps, current_step?, current_agent?}`), first
//!   the current one, then each change announced;
//! - `log` (data: a log line, `id:` its `seq`), every line after the resume point, gap-free, from
//!   [`LogTail`](crate::app::LogTail) (also lines other processes write);
//! - `end` (data: `{status}`): the execution is terminal and every line was sent; the stream
//!   closes. Or `orphaned` (data: `{owner}`: its worker is gone and none runs to recover it) or
//!   `error` (data: `{message}`), after which it closes too.
//!
//! Resuming: the `Last-Event-ID` header (what browsers' `EventSource` sends on reconnect), else the
//! `after` query parameter, is the seq to continue after. State changes of executions run by
//! another process are not announced here (their log lines are); the stream also ends when the
//! server shuts down. A comment is sent every 15 s of silence to keep proxies from closing it.

use std::convert::Infallible;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::app::LogStreamMessage;
use crate::execution::{ExecutionEvent, ExecutionId, ExecutionState, LogEntry, Priority, Progress};
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::responses::{EndData, OrphanedData, ProgressData, StatusData, StreamError};
use crate::http::routes::{schema, SchemaFn};
use crate::http::state::ApiState;

/// Every event the stream sends, by name, and the type of its data (the OpenAPI document lists
/// them).
pub const EVENTS: &[(&str, SchemaFn)] = &[
    ("status", schema::<StatusData<'static>>()),
    ("progress", schema::<ProgressData<'static>>()),
    ("log", schema::<LogEntry>()),
    ("end", schema::<EndData>()),
    ("orphaned", schema::<OrphanedData>()),
    ("error", schema::<StreamError>()),
];

/// Events buffered per stream before the producer waits for the client.
const BUFFER: usize = 256;

/// The event stream (see the module docs); 404 for an unknown id, 400 for a bad resume point.
pub async fn events(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let after = match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| ApiError::invalid("Last-Event-ID: expected the seq of a log line"))?,
        None => query::events_after(raw.as_deref())?,
    };
    // Subscribe before the first read, so nothing committed in between is missed.
    let announcements = state.runner.subscribe();
    let execution = state.runner.get(&id)?;
    let (tx, rx) = mpsc::channel(BUFFER);
    let first = [
        status_event(&execution.id, &execution.state, execution.attempt, execution.priority),
        progress_event(&execution.id, &execution.progress),
    ];
    tokio::spawn(produce(state, execution.id, after, announcements, first, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|event| (Ok(event), rx)) });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn status_event(id: &ExecutionId, state: &ExecutionState, attempt: u32, priority: Priority) -> Event {
    json_event("status", &StatusData { id, state, attempt, priority })
}

fn progress_event(id: &ExecutionId, progress: &Progress) -> Event {
    json_event("progress", &ProgressData { id, progress })
}

/// The event `name` with `data` as JSON (one of [`EVENTS`]).
fn json_event(name: &str, data: &impl Serialize) -> Event {
    Event::default().event(name).data(serde_json::to_string(data).expect("event data serialises"))
}

/// Sends the stream's events into `tx` until the log ends, the client goes away or the server
/// shuts down.
async fn produce(
    state: ApiState,
    id: ExecutionId,
    after: u64,
    mut announcements: Option<tokio::sync::broadcast::Receiver<ExecutionEvent>>,
    first: [Event; 2],
    tx: mpsc::Sender<Event>,
) {
    for event in first {
        if !send(&tx, &state.shutdown, event).await {
            return;
        }
    }
    let mut tail = state.runner.follow_logs(&id, after);
    let mut terminal_sent = false;
    loop {
        let announced = async {
            match announcements.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let events: Vec<Event> = tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tx.closed() => return,
            message = tail.next() => match message {
                None => return,
                Some(LogStreamMessage::Lines { entries }) => entries
                    .iter()
                    .map(|l| json_event("log", l).id(l.seq.to_string()))
                    .collect(),
                Some(LogStreamMessage::End { status }) => {
                    let mut last = Vec::new();
                    // What was announced before the end, then the final state if no announcement
                    // carried it (another process ran it): `status` always precedes `end`.
                    while let Some(Ok(event)) = announcements.as_mut().map(|rx| rx.try_recv()) {
                        last.extend(announcement(&id, event, &mut terminal_sent));
                    }
                    if !terminal_sent {
                        if let Ok(e) = state.runner.get(id.as_str()) {
                            last.push(status_event(&id, &e.state, e.attempt, e.priority));
                        }
                    }
                    last.push(json_event("end", &EndData { status }));
                    last
                }
                Some(LogStreamMessage::Orphaned { owner }) => vec![json_event("orphaned", &OrphanedData { owner })],
                Some(LogStreamMessage::Error { message }) => vec![json_event("error", &StreamError { message })],
            },
            event = announced => match event {
                Ok(event) => announcement(&id, event, &mut terminal_sent).into_iter().collect(),
                Err(RecvError::Lagged(_)) => Vec::new(),
                Err(RecvError::Closed) => {
                    announcements = None;
                    Vec::new()
                }
            },
        };
        for event in events {
            if !send(&tx, &state.shutdown, event).await {
                return;
            }
        }
    }
}

/// The `status` or `progress` event of an announcement about `id` (none for anything else);
/// notes in `terminal_sent` when it carries a terminal state.
fn announcement(id: &ExecutionId, event: ExecutionEvent, terminal_sent: &mut bool) -> Option<Event> {
    match event {
        ExecutionEvent::State { id: of, state, attempt, priority } if of == *id => {
            *terminal_sent |= state.is_terminal();
            Some(status_event(id, &state, attempt, priority))
        }
        ExecutionEvent::Progress { id: of, progress } if of == *id => Some(progress_event(id, &progress)),
        _ => None,
    }
}

/// Queues `event` for the client; `false` when the client went away or the server shuts down
/// first (a client that stopped reading does not hold the shutdown up).
async fn send(tx: &mpsc::Sender<Event>, shutdown: &tokio_util::sync::CancellationToken, event: Event) -> bool {
    tokio::select! {
        sent = tx.send(event) => sent.is_ok(),
        _ = shutdown.cancelled() => false,
    }
}
