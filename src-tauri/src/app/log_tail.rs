//! [`LogTail`]: a live tail of one execution's ExecutionLog, the same for every face.
//!
//! Lines are yielded in `seq` order without gaps or duplicates, as they are committed. The tail
//! follows one [`Watch`], the subscription every face shows the store through: with this process's
//! scheduler events (the desktop app, `--run`) each line arrives as its commit is announced;
//! other processes' lines (a CLI worker running the execution), a worker that died, and anything
//! missed when the broadcast lags are a [`Change::Refresh`], after which the lines are read back
//! from the store (as they are at every gap in the announced `seq`s). Nothing is read while
//! nothing changes: the watch asks `PRAGMA data_version` once per `recheck` interval (1 s with
//! events, 200 ms without: a one-shot `logs --follow` has nothing else to wake it). The tail ends after [`LogStreamMessage::End`] once the execution is
//! terminal and every line was yielded, after [`LogStreamMessage::Orphaned`] when its worker
//! process is gone and no worker is alive to recover it, or after [`LogStreamMessage::Error`].
//!
//! Cancellation: dropping the tail (or the future of [`LogTail::next`]) stops it; nothing is lost
//! that a new tail from the last `seq` would not yield again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use super::{Change, Watch};
use crate::execution::{Execution, ExecutionEvent, ExecutionId, ExecutionState, LogEntry, Status};
use crate::scheduler::MAX_HEARTBEAT;
use crate::store::{Store, StoreError};

/// Most lines read from the store per batch.
const BATCH: u32 = 1000;

/// How often a tail (or a wait) without this process's events asks the store whether another
/// process committed.
pub const POLL_WITHOUT_EVENTS: Duration = Duration::from_millis(200);

/// What a tail yields.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogStreamMessage {
    /// New lines, consecutive `seq`s following the last one yielded (or `after_seq`).
    Lines { entries: Vec<LogEntry> },
    /// The execution is terminal and every line was yielded; nothing follows.
    End { status: Status },
    /// The execution is running under a worker process that is gone, and no worker is alive to
    /// recover it: nothing will be written until one starts. Nothing follows.
    Orphaned { owner: String },
    /// Reading the store failed; nothing follows (tail again from the last `seq` to go on).
    Error { message: String },
}

impl LogStreamMessage {
    /// Whether nothing follows this message.
    pub fn is_last(&self) -> bool {
        !matches!(self, LogStreamMessage::Lines { .. })
    }
}

/// The owner of `e` when `e` is running under a worker process that is gone and no worker is
/// alive on `store` to recover it: nothing changes `e` until a worker (or the desktop app) starts.
pub fn stranded<'a>(store: &dyn Store, e: &'a Execution) -> Option<&'a str> {
    match &e.state {
        ExecutionState::Running { owner, owner_gone: true, .. } if !store.any_worker_alive() => Some(owner),
        _ => None,
    }
}

/// What [`LogTail::next_or_change`] yields: a message of the tail, or a change its watch heard.
#[derive(Clone, Debug, PartialEq)]
pub enum TailItem {
    /// The tail's next message (as [`LogTail::next`] yields it).
    Log(LogStreamMessage),
    /// A change of the store the tail's watch heard (about any execution), after the tail has
    /// queued the lines it brought: a face showing the execution's state beside its log follows
    /// both through this one subscription.
    Change(Change),
}

/// A live tail of one execution's log (see the module docs).
pub struct LogTail {
    store: Arc<dyn Store>,
    /// This process's scheduler events until the watch is made at the first [`next`](Self::next).
    events: Option<broadcast::Receiver<ExecutionEvent>>,
    watch: Option<Watch>,
    id: ExecutionId,
    last: u64,
    recheck: Duration,
    ready: VecDeque<TailItem>,
    started: bool,
    ended: bool,
}

impl LogTail {
    /// A tail of `id`'s log after `after_seq`, woken by `events` when this process has a
    /// scheduler (subscribe before the tail's first read, as [`Runner::follow_logs`] does, so
    /// nothing committed in between is missed).
    ///
    /// [`Runner::follow_logs`]: super::Runner::follow_logs
    pub fn new(store: Arc<dyn Store>, events: Option<broadcast::Receiver<ExecutionEvent>>, id: ExecutionId, after_seq: u64) -> LogTail {
        let recheck = if events.is_some() { MAX_HEARTBEAT } else { POLL_WITHOUT_EVENTS };
        LogTail { store, events, watch: None, id, last: after_seq, recheck, ready: VecDeque::new(), started: false, ended: false }
    }

    /// A tail of `id`'s log after `after_seq` that follows `watch` (made before the caller's
    /// first read of the execution, so nothing committed since is missed), for a face that also
    /// shows what else the watch hears ([`next_or_change`](Self::next_or_change)): one
    /// subscription, one probe of other processes' commits.
    pub fn with_watch(store: Arc<dyn Store>, watch: Watch, id: ExecutionId, after_seq: u64) -> LogTail {
        LogTail { watch: Some(watch), ..LogTail::new(store, None, id, after_seq) }
    }

    /// The same tail, asking the store for other processes' commits every `recheck` instead
    /// (for a tail that makes its own watch: not one made [`with_watch`](Self::with_watch)).
    pub fn with_recheck(mut self, recheck: Duration) -> LogTail {
        self.recheck = recheck;
        self
    }

    /// The next message; `None` once a last message ([`LogStreamMessage::is_last`]) was yielded.
    ///
    /// Cancel-safe: dropping the future loses nothing (the watch keeps what it has not told).
    pub async fn next(&mut self) -> Option<LogStreamMessage> {
        loop {
            match self.next_or_change().await? {
                TailItem::Log(message) => return Some(message),
                TailItem::Change(_) => {}
            }
        }
    }

    /// The next message or change ([`TailItem`]); `None` once a last message and the changes
    /// heard before it were yielded. The lines a change brings come before the change.
    ///
    /// Cancel-safe, as [`next`](Self::next).
    pub async fn next_or_change(&mut self) -> Option<TailItem> {
        if !self.started {
            self.started = true;
            if self.watch.is_none() {
                // The watch before the first read: a commit after the read is then a change.
                match Watch::new(self.store.clone(), self.events.take(), self.recheck) {
                    Ok(watch) => self.watch = Some(watch),
                    Err(e) => {
                        self.ended = true;
                        return Some(TailItem::Log(LogStreamMessage::Error { message: e.to_string() }));
                    }
                }
            }
            self.catch_up();
        }
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            let watch = self.watch.as_mut().expect("made at the first call");
            let Some(change) = watch.next(&|| true).await else {
                // The scheduler stopped: from now on only the store tells.
                watch.drop_events(POLL_WITHOUT_EVENTS);
                self.catch_up();
                continue;
            };
            match &change {
                Change::Event(ExecutionEvent::Log { entry }) if entry.execution_id == self.id => {
                    if entry.seq == self.last + 1 {
                        self.last = entry.seq;
                        self.push(LogStreamMessage::Lines { entries: vec![entry.clone()] });
                    } else if entry.seq > self.last {
                        self.catch_up();
                    }
                }
                Change::Event(ExecutionEvent::State { id, state, .. }) if *id == self.id && state.is_terminal() => self.catch_up(),
                Change::Event(_) => {}
                Change::Refresh => self.catch_up(),
            }
            self.ready.push_back(TailItem::Change(change));
        }
    }

    fn push(&mut self, message: LogStreamMessage) {
        self.ready.push_back(TailItem::Log(message));
    }

    /// Queues every stored line after `last`, then the end when the execution is terminal (or
    /// orphaned with no worker alive).
    fn catch_up(&mut self) {
        if self.ended {
            return;
        }
        loop {
            match self.read() {
                // Stranded, but lines came with it: read once more before saying so (see `read`).
                Ok(again) if again => continue,
                Ok(_) => return,
                Err(e) => {
                    self.push(LogStreamMessage::Error { message: e.to_string() });
                    self.ended = true;
                    return;
                }
            }
        }
    }

    /// Queues the lines after `last` and, if the execution is over, how. Returns whether to read
    /// again at once: the execution looked stranded but lines were read, so the state (read
    /// before them) may be older than they are (a worker recovering it writes lines); only a read
    /// that finds no new line says it is stranded. (No change may come to wake the tail: a worker
    /// that died before the watch was made is not one it watches.)
    fn read(&mut self) -> Result<bool, StoreError> {
        // The state first: lines committed before a terminal state are then all readable.
        let execution = self.store.get(&self.id)?.ok_or_else(|| StoreError::NotFound(self.id.clone()))?;
        let mut read_any = false;
        loop {
            let entries = self.store.logs(&self.id, self.last, BATCH)?;
            let Some(last) = entries.last() else { break };
            self.last = last.seq;
            read_any = true;
            let full = entries.len() as u32 == BATCH;
            self.push(LogStreamMessage::Lines { entries });
            if !full {
                break;
            }
        }
        if execution.state.is_terminal() {
            self.push(LogStreamMessage::End { status: execution.status() });
            self.ended = true;
        } else if let Some(owner) = stranded(self.store.as_ref(), &execution) {
            if read_any {
                return Ok(true);
            }
            self.push(LogStreamMessage::Orphaned { owner: owner.to_string() });
            self.ended = true;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{EventKind, LogEvent, NewExecution};
    use crate::store::SqliteStore;

    #[tokio::test]
    async fn one_watch_brings_the_lines_then_the_changes_it_heard() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("crew.db")).unwrap());
        let new = NewExecution { crew_name: "c".into(), crew_source: "c.yaml".into(), max_attempts: 1, ..NewExecution::default() };
        let id = store.insert(new.clone()).await.unwrap().execution.id;
        let other = store.insert(new).await.unwrap().execution.id;
        let (tx, rx) = broadcast::channel(16);
        let watch = Watch::new(store.clone(), Some(rx), Duration::from_secs(3600)).unwrap();
        let mut tail = LogTail::with_watch(store.clone(), watch, id.clone(), 0);
        // Its "submitted" line (seq 1) is read from the store first.
        let stored = store.logs(&id, 0, 10).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(next(&mut tail).await, Some(TailItem::Log(LogStreamMessage::Lines { entries: stored })));
        let line = |of: &ExecutionId| LogEntry {
            execution_id: of.clone(),
            attempt: 1,
            seq: 2,
            at: 0,
            event: LogEvent::info(EventKind::Started, "started"),
        };
        let ours = ExecutionEvent::Log { entry: line(&id) };
        let theirs = ExecutionEvent::Progress { id: other.clone(), progress: Default::default() };
        tx.send(ours.clone()).unwrap();
        tx.send(theirs.clone()).unwrap();
        assert_eq!(next(&mut tail).await, Some(TailItem::Log(LogStreamMessage::Lines { entries: vec![line(&id)] })));
        assert_eq!(next(&mut tail).await, Some(TailItem::Change(Change::Event(ours))), "after the line it brought");
        assert_eq!(next(&mut tail).await, Some(TailItem::Change(Change::Event(theirs))), "changes of any execution");
        // `next` skips the changes: another execution's event yields nothing, our next line does.
        let mut second = line(&id);
        second.seq = 3;
        tx.send(ExecutionEvent::Progress { id: other, progress: Default::default() }).unwrap();
        tx.send(ExecutionEvent::Log { entry: second.clone() }).unwrap();
        let message = tokio::time::timeout(Duration::from_secs(5), tail.next()).await.unwrap();
        assert_eq!(message, Some(LogStreamMessage::Lines { entries: vec![second] }));
    }

    async fn next(tail: &mut LogTail) -> Option<TailItem> {
        tokio::time::timeout(Duration::from_secs(5), tail.next_or_change()).await.expect("an item comes")
    }
}
