//! [`announce`]: the scheduler's store listener, which broadcasts what the store commits.

use tokio::sync::broadcast;

use crate::execution::ExecutionEvent;
use crate::store::Committed;
#[cfg(doc)]
use crate::store::Store;

/// Broadcasts a committed change: a transition as its state then its log line (and traced), new
/// queue settings as a queue event. The scheduler's store listener ([`Store::listen`]): called
/// on the store's writer thread, in commit order, before the write that committed it is
/// answered.
pub(super) fn announce(events: &broadcast::Sender<ExecutionEvent>, change: Committed<'_>) {
    let transition = match change {
        Committed::Transition(transition) => transition,
        Committed::Queue(settings) => {
            let _ = events.send(ExecutionEvent::Queue { paused: settings.paused, concurrency: settings.concurrency });
            return;
        }
    };
    let e = &transition.execution;
    tracing::info!(execution = %e.id, crew = %e.crew_name, status = %e.status(), attempt = e.attempt, "{}", transition.log.event.message);
    let _ = events.send(ExecutionEvent::State { id: e.id.clone(), state: e.state.clone(), attempt: e.attempt, priority: e.priority });
    let _ = events.send(ExecutionEvent::Log { entry: transition.log.clone() });
}
