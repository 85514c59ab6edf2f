//! `GET /v1/executions/{id}/events`: an execution's log and state as Server-Sent Events.
//!
//! Events, in order of commit per kind:
//! - `status` (data: `{id, status, attempt, priority, …}`: the state's fields as in an execution),
//!   first the current one, then each change: as this process's scheduler announces it, or, for an
//!   execution another process runs, when the runner's [`Watch`](crate::app::Watch) finds another
//!   process committed (within its 1 s tick) and the stored state differs from the last one sent;
//! - `progress` (data: `{id, completed_steps, total_steps, current_step?, current_agent?}`), first
//!   the current one, then each change, the same way;
//! - `log` (data: a log line, `id:` its `seq`), every line after the resume point, gap-free, from
//!   [`LogTail`](crate::app::LogTail) (also lines other processes write);
//! - `end` (data: `{status}`): the execution is terminal and every line was sent; the stream
//!   closes. Or `orphaned` (data: `{owner}`: its worker is gone and none runs to recover it) or
//!   `error` (data: `{message}`), after which it closes too.
//!
//! Resuming: the `Last-Event-ID` header (what browsers' `EventSource` sends on reconnect), else the
//! `after` query parameter, is the seq to continue after. The stream also ends when the server
//! shuts down. A comment is sent every 15 s of silence to keep proxies from closing it.

use std::convert::Infallible;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::app::{Change, LogStreamMessage, TailItem, Watch, MAX_HEARTBEAT};
use crate::execution::{Execution, ExecutionEvent, ExecutionId, ExecutionState, LogEntry, Priority, Progress};
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
    // Watch before the first read, so nothing committed in between is missed.
    let watch = state.runner.watch(MAX_HEARTBEAT)?;
    let execution = state.runner.get(&id)?;
    let (tx, rx) = mpsc::channel(BUFFER);
    let mut shown = Shown::default();
    let first = shown.changes(&execution);
    tokio::spawn(produce(state, execution.id, after, watch, first, shown, tx));
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

/// What the client was last sent of the execution's state and progress.
#[derive(Default)]
struct Shown {
    status: Option<(ExecutionState, u32, Priority)>,
    progress: Option<Progress>,
}

impl Shown {
    /// The `status` and `progress` events that bring the client to `e`, if it was not there.
    fn changes(&mut self, e: &Execution) -> Vec<Event> {
        let mut events = Vec::new();
        let status = (e.state.clone(), e.attempt, e.priority);
        if self.status.as_ref() != Some(&status) {
            events.push(status_event(&e.id, &e.state, e.attempt, e.priority));
            self.status = Some(status);
        }
        if self.progress.as_ref() != Some(&e.progress) {
            events.push(progress_event(&e.id, &e.progress));
            self.progress = Some(e.progress.clone());
        }
        events
    }

    /// The `status` or `progress` event of an announcement about `id` (none for anything else).
    fn announced(&mut self, id: &ExecutionId, event: ExecutionEvent) -> Option<Event> {
        match event {
            ExecutionEvent::State { id: of, state, attempt, priority } if of == *id => {
                let event = status_event(id, &state, attempt, priority);
                self.status = Some((state, attempt, priority));
                Some(event)
            }
            ExecutionEvent::Progress { id: of, progress } if of == *id => {
                let event = progress_event(id, &progress);
                self.progress = Some(progress);
                Some(event)
            }
            _ => None,
        }
    }
}

/// Sends the stream's events into `tx` until the log ends, the client goes away or the server
/// shuts down. `shown` is what `first` brings the client to.
async fn produce(state: ApiState, id: ExecutionId, after: u64, watch: Watch, first: Vec<Event>, mut shown: Shown, tx: mpsc::Sender<Event>) {
    for event in first {
        if !send(&tx, &state.shutdown, event).await {
            return;
        }
    }
    // One subscription for the log and the state: the tail follows the watch and tells what it
    // hears.
    let mut tail = state.runner.follow_logs_watching(&id, after, watch);
    loop {
        let item = tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tx.closed() => return,
            item = tail.next_or_change() => item,
        };
        // After the tail's last message the stream ends (changes heard before it are not sent).
        let last = matches!(&item, Some(TailItem::Log(message)) if message.is_last());
        let events: Vec<Event> = match item {
            None => return,
            Some(TailItem::Log(LogStreamMessage::Lines { entries })) => {
                entries.iter().map(|l| json_event("log", l).id(l.seq.to_string())).collect()
            }
            Some(TailItem::Log(LogStreamMessage::End { status })) => {
                // The final progress and state, unless already sent: `status` always precedes
                // `end`.
                let mut closing = state.runner.get(id.as_str()).map(|e| shown.changes(&e)).unwrap_or_default();
                closing.push(json_event("end", &EndData { status }));
                closing
            }
            Some(TailItem::Log(LogStreamMessage::Orphaned { owner })) => vec![json_event("orphaned", &OrphanedData { owner })],
            Some(TailItem::Log(LogStreamMessage::Error { message })) => vec![json_event("error", &StreamError { message })],
            Some(TailItem::Change(Change::Event(event))) => shown.announced(&id, event).into_iter().collect(),
            Some(TailItem::Change(Change::Refresh)) => state.runner.get(id.as_str()).map(|e| shown.changes(&e)).unwrap_or_default(),
        };
        for event in events {
            if !send(&tx, &state.shutdown, event).await {
                return;
            }
        }
        if last {
            return;
        }
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
