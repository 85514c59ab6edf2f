//! [`Watch`]: the one subscription a face follows to show the store live ([`Runner::watch`]).
//!
//! Every change a face shows comes through it, from three sources and nothing else:
//! - this process's scheduler events ([`Change::Event`]): the store's commit announcements
//!   ([`Store::listen`]), in commit order;
//! - other processes' commits ([`Change::Refresh`]): a [`CommitProbe`] (`PRAGMA data_version` on a
//!   connection of its own) at each tick; no row is read unless it says another connection
//!   committed;
//! - a worker process that died while running an execution ([`Change::Refresh`]): its death
//!   commits nothing (until a worker recovers the execution, which is a commit), yet a face shows
//!   the execution as stranded ([`owner_gone`](crate::execution::ExecutionState::Running)). So the
//!   owners of executions running in other processes are kept (read once at the start and again
//!   after each change another connection committed) and their owner locks asked at each tick (a
//!   `flock` each, no row read); there are none on an idle queue.
//!
//! Lost events (a lagging receiver) are a [`Change::Refresh`] too. A refresh is told only while
//! the face is looking (a visible window): one found while it is not is kept and told at the first
//! tick it looks again. Whether it looks is asked only when there is a refresh to tell (asking a
//! window is a round trip to the UI thread; an idle tick costs one `PRAGMA`).
//!
//! [`Runner::watch`]: super::Runner::watch
//! [`Store::listen`]: crate::store::Store::listen

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Interval, MissedTickBehavior};

use crate::execution::{ExecutionEvent, ExecutionFilter, ExecutionState, Status};
use crate::store::{CommitProbe, Liveness, Store, StoreError};

/// At most this many running executions are looked at for their owners (more than any set of
/// workers runs at once).
const RUNNING_LIMIT: u32 = 1000;

/// What changed, as a face hears it.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// One of this process's scheduler events, in commit order.
    Event(ExecutionEvent),
    /// Something changed that no event tells (another process's commit, a worker process that
    /// died, lost events): re-read what is shown.
    Refresh,
}

/// A face's subscription to changes (see the module docs). Made by
/// [`Runner::watch`](super::Runner::watch).
pub struct Watch {
    store: Arc<dyn Store>,
    events: Option<broadcast::Receiver<ExecutionEvent>>,
    probe: Box<dyn CommitProbe>,
    every: Duration,
    /// Made at the first [`next`](Watch::next) (a timer needs the runtime; the watch may be
    /// made outside it).
    tick: Option<Interval>,
    /// Owners of executions running in other processes, last seen alive (or of unknown liveness).
    owners: BTreeSet<String>,
    /// A refresh was found and not told yet (the face was not looking).
    pending: bool,
}

impl Watch {
    /// A watch of `store` with this process's scheduler `events` (none for a client), looking
    /// for other processes' changes `every` tick. Blocking: opens the probe's connection and reads
    /// the running executions once.
    pub(super) fn new(
        store: Arc<dyn Store>,
        events: Option<broadcast::Receiver<ExecutionEvent>>,
        every: Duration,
    ) -> Result<Watch, StoreError> {
        let probe = store.commit_probe()?;
        let owners = owners_to_watch(store.as_ref())?;
        Ok(Watch { store, events, probe, every: every.max(Duration::from_millis(1)), tick: None, owners, pending: false })
    }

    /// Goes on without this process's scheduler events (it stopped), looking at the store every
    /// `every` instead: [`next`](Self::next) then never returns `None`.
    pub(super) fn drop_events(&mut self, every: Duration) {
        self.events = None;
        self.every = every.max(Duration::from_millis(1));
        self.tick = None;
    }

    /// The next change. At each tick the store is looked at; when that finds a refresh,
    /// `looking` is asked, and while it says no (a hidden window) the refresh is kept and asked
    /// about again at each later tick. Events are told at once, looking or not.
    ///
    /// `None` once this process's scheduler has stopped (never for a client). A failing probe or
    /// read is logged and answered as a [`Change::Refresh`] (the face's re-read shows the error).
    /// Cancel-safe: dropping the future loses no event and no change (the probe's baseline moves
    /// only when a look completes).
    pub async fn next(&mut self, looking: &(dyn Fn() -> bool + Send + Sync)) -> Option<Change> {
        let Watch { store, events, probe, every, tick, owners, pending } = self;
        let tick = tick.get_or_insert_with(|| {
            let mut tick = tokio::time::interval(*every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick
        });
        loop {
            tokio::select! {
                event = recv(events) => return match event {
                    Ok(event) => Some(Change::Event(event)),
                    Err(RecvError::Lagged(_)) => {
                        *pending = false;
                        Some(Change::Refresh)
                    }
                    Err(RecvError::Closed) => None,
                },
                _ = tick.tick() => {}
            }
            if !*pending {
                *pending = look(probe.as_mut(), store.as_ref(), owners).await;
            }
            if *pending && looking() {
                *pending = false;
                return Some(Change::Refresh);
            }
        }
    }
}

/// One tick's look at `store`: whether a face should re-read (another connection committed, or an
/// owner in `owners` is gone). Re-reads `owners` after another connection's commit; forgets the
/// owners found gone.
async fn look(probe: &mut dyn CommitProbe, store: &dyn Store, owners: &mut BTreeSet<String>) -> bool {
    let committed = match probe.changed().await {
        Ok(committed) => committed,
        Err(e) => {
            tracing::warn!("could not ask the store for other processes' changes: {e}");
            return true;
        }
    };
    if committed {
        *owners = owners_to_watch(store).unwrap_or_default();
        return true;
    }
    let gone: Vec<String> = owners.iter().filter(|o| store.owner_liveness(o) == Liveness::Gone).cloned().collect();
    if gone.is_empty() {
        return false;
    }
    owners.retain(|o| !gone.contains(o));
    true
}

/// The next event of `events`; pending forever when there are none (a client).
async fn recv(events: &mut Option<broadcast::Receiver<ExecutionEvent>>) -> Result<ExecutionEvent, RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

/// The owners of running executions that are not known to be gone (those already are shown so).
fn owners_to_watch(store: &dyn Store) -> Result<BTreeSet<String>, StoreError> {
    let running = store.list(&ExecutionFilter { statuses: vec![Status::Running], limit: RUNNING_LIMIT, ..ExecutionFilter::default() })?;
    Ok(running.into_iter().filter_map(|e| watched_owner(e.state)).collect())
}

/// The owner whose death a face must hear of: a running execution's, while it is not gone.
fn watched_owner(state: ExecutionState) -> Option<String> {
    match state {
        ExecutionState::Running { owner, owner_gone: false, .. } => Some(owner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::NewExecution;
    use crate::store::{ClaimRequest, OwnerId, SqliteStore};

    fn job() -> NewExecution {
        NewExecution { crew_name: "c".into(), crew_source: "c.yaml".into(), max_attempts: 1, ..NewExecution::default() }
    }

    fn pair() -> (tempfile::TempDir, Arc<dyn Store>, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crew.db");
        let ours: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        (dir, ours, SqliteStore::open(&path).unwrap())
    }

    async fn next_soon(watch: &mut Watch, looking: &(dyn Fn() -> bool + Send + Sync)) -> Option<Change> {
        tokio::time::timeout(Duration::from_millis(300), watch.next(looking)).await.ok().flatten()
    }

    #[tokio::test]
    async fn other_connections_commits_are_a_refresh_and_nothing_else_is() {
        let (_dir, ours, theirs) = pair();
        let mut watch = Watch::new(ours.clone(), None, Duration::from_millis(10)).unwrap();
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let counting = || asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < usize::MAX;
        assert_eq!(next_soon(&mut watch, &counting).await, None, "idle: nothing");
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 0, "the face is not asked whether it looks when idle");
        ours.insert(job()).await.unwrap();
        assert_eq!(next_soon(&mut watch, &|| true).await, None, "our own commits come as events, not refreshes");
        theirs.insert(job()).await.unwrap();
        assert_eq!(next_soon(&mut watch, &|| true).await, Some(Change::Refresh));
        assert_eq!(next_soon(&mut watch, &|| true).await, None, "once");
    }

    #[tokio::test]
    async fn changes_made_while_not_looking_come_when_looking_again() {
        let (_dir, ours, theirs) = pair();
        let mut watch = Watch::new(ours, None, Duration::from_millis(10)).unwrap();
        theirs.set_paused(true).await.unwrap();
        assert_eq!(next_soon(&mut watch, &|| false).await, None);
        assert_eq!(next_soon(&mut watch, &|| true).await, Some(Change::Refresh));
    }

    #[tokio::test]
    async fn events_come_in_order_and_a_closed_scheduler_ends_the_watch() {
        let (_dir, ours, _theirs) = pair();
        let (tx, rx) = broadcast::channel(4);
        let mut watch = Watch::new(ours, Some(rx), Duration::from_secs(3600)).unwrap();
        let queue = ExecutionEvent::Queue { paused: true, concurrency: 2 };
        tx.send(queue.clone()).unwrap();
        assert_eq!(next_soon(&mut watch, &|| true).await, Some(Change::Event(queue)));
        for _ in 0..6 {
            tx.send(ExecutionEvent::Queue { paused: false, concurrency: 1 }).unwrap();
        }
        assert_eq!(next_soon(&mut watch, &|| true).await, Some(Change::Refresh), "lost events");
        drop(tx);
        let mut ended = false;
        for _ in 0..6 {
            if next_soon(&mut watch, &|| true).await.is_none() {
                ended = true;
                break;
            }
        }
        assert!(ended);
    }

    #[tokio::test]
    async fn a_running_executions_worker_dying_is_a_refresh() {
        let (_dir, ours, theirs) = pair();
        // "Their" worker claims under its owner lock, then dies without committing anything.
        theirs.insert(job()).await.unwrap();
        let owner = OwnerId::current();
        let lock = theirs.lock_owner(&owner).unwrap();
        let now = crate::execution::now_ms();
        let request = ClaimRequest { owner: owner.to_string(), now, lease_ms: 60_000, max: 1, filter: Default::default() };
        assert_eq!(theirs.claim(request).await.unwrap().len(), 1);
        let mut watch = Watch::new(ours.clone(), None, Duration::from_millis(10)).unwrap();
        assert_eq!(next_soon(&mut watch, &|| true).await, None, "its worker is alive");
        // A crash leaves the lock file, unlocked (a clean stop removes it).
        let file = crate::store::liveness::owners_dir(theirs.path()).join(format!("{}.lock", owner.nonce));
        drop(lock);
        std::fs::write(&file, owner.to_string()).unwrap();
        assert_eq!(ours.owner_liveness(&owner.to_string()), Liveness::Gone);
        assert_eq!(next_soon(&mut watch, &|| true).await, Some(Change::Refresh));
        assert_eq!(next_soon(&mut watch, &|| true).await, None, "once");
    }
}
