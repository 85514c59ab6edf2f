//! Live ExecutionLog tailing: a task per follower pushes new lines to a sink (a Tauri `Channel` in
//! the app) as they are committed, in `seq` order, without gaps or duplicates.
//!
//! Lines come from this process's scheduler events; other processes' lines (a CLI worker running
//! the execution) and anything missed when the broadcast lags are read back from the store, which
//! is checked at every event gap and once per `recheck` interval. A follower ends after sending
//! [`LogStreamMessage::End`] once the execution is terminal and every line is sent, when the sink
//! refuses a message (the page went away), or when it is stopped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use crate::execution::{ExecutionEvent, ExecutionId, LogEntry, Status};
use crate::store::{Store, StoreError};

/// Most lines read from the store per batch.
const BATCH: u32 = 1000;

/// What a follower sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogStreamMessage {
    /// New lines, consecutive `seq`s following the last one sent (or `after_seq`).
    Lines { entries: Vec<LogEntry> },
    /// The execution is terminal and every line was sent; nothing follows.
    End { status: Status },
    /// Reading the store failed; nothing follows (re-follow from the last `seq` to go on).
    Error { message: String },
}

/// The running followers, by subscription number.
#[derive(Default)]
pub struct LogFollowers {
    next: AtomicU64,
    running: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

impl LogFollowers {
    /// Starts following `id`'s log after `after_seq` on the current tokio runtime; returns the
    /// subscription number for [`stop`](Self::stop). `sink` returns false to end the follower.
    pub fn follow(
        &self,
        store: Arc<dyn Store>,
        events: broadcast::Receiver<ExecutionEvent>,
        id: ExecutionId,
        after_seq: u64,
        recheck: Duration,
        sink: impl FnMut(LogStreamMessage) -> bool + Send + 'static,
    ) -> u64 {
        let sub = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let token = CancellationToken::new();
        self.lock().insert(sub, token.clone());
        let running = self.running.clone();
        tokio::spawn(async move {
            let mut follower = Follower { store, id, last: after_seq, sink };
            follower.run(events, token, recheck).await;
            // Unregistered before the sink is dropped: whoever sees the stream close sees it gone.
            running.lock().unwrap_or_else(|p| p.into_inner()).remove(&sub);
            drop(follower);
        });
        sub
    }

    /// Stops one follower; false when it was not running (already ended).
    pub fn stop(&self, sub: u64) -> bool {
        match self.lock().remove(&sub) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops every follower (the page reloaded, the app is closing).
    pub fn stop_all(&self) {
        for (_, token) in self.lock().drain() {
            token.cancel();
        }
    }

    /// How many followers are running.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancellationToken>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Follower<S> {
    store: Arc<dyn Store>,
    id: ExecutionId,
    last: u64,
    sink: S,
}

/// Whether the follower goes on.
enum Next {
    Continue,
    Done,
}

impl<S: FnMut(LogStreamMessage) -> bool> Follower<S> {
    async fn run(&mut self, mut events: broadcast::Receiver<ExecutionEvent>, stop: CancellationToken, recheck: Duration) {
        // Subscribed before the first read: nothing committed after it can be missed.
        if let Next::Done = self.catch_up() {
            return;
        }
        let mut tick = tokio::time::interval(recheck);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next = tokio::select! {
                _ = stop.cancelled() => Next::Done,
                _ = tick.tick() => self.catch_up(),
                event = events.recv() => match event {
                    Ok(ExecutionEvent::Log { entry }) if entry.execution_id == self.id => {
                        if entry.seq == self.last + 1 {
                            self.last = entry.seq;
                            if (self.sink)(LogStreamMessage::Lines { entries: vec![entry] }) { Next::Continue } else { Next::Done }
                        } else if entry.seq <= self.last {
                            Next::Continue
                        } else {
                            self.catch_up()
                        }
                    }
                    Ok(ExecutionEvent::State { id, state, .. }) if id == self.id && state.is_terminal() => self.catch_up(),
                    Ok(_) => Next::Continue,
                    Err(RecvError::Lagged(_)) => self.catch_up(),
                    Err(RecvError::Closed) => {
                        // The scheduler stopped: send what is stored and end.
                        let _ = self.catch_up();
                        Next::Done
                    }
                },
            };
            if let Next::Done = next {
                return;
            }
        }
    }

    /// Sends every stored line after `last`; ends the stream when the execution is terminal.
    fn catch_up(&mut self) -> Next {
        match self.read_and_send() {
            Ok(next) => next,
            Err(e) => {
                (self.sink)(LogStreamMessage::Error { message: e.to_string() });
                Next::Done
            }
        }
    }

    fn read_and_send(&mut self) -> Result<Next, StoreError> {
        // Read the status first: lines committed before a terminal state are then all readable.
        let status = self.store.get(&self.id)?.ok_or_else(|| StoreError::NotFound(self.id.clone()))?.status();
        loop {
            let entries = self.store.logs(&self.id, self.last, BATCH)?;
            let Some(last) = entries.last() else { break };
            self.last = last.seq;
            let full = entries.len() as u32 == BATCH;
            if !(self.sink)(LogStreamMessage::Lines { entries }) {
                return Ok(Next::Done);
            }
            if !full {
                break;
            }
        }
        if status.is_terminal() {
            (self.sink)(LogStreamMessage::End { status });
            return Ok(Next::Done);
        }
        Ok(Next::Continue)
    }
}
