//! Listeners told of each change a store commits, in commit order ([`Store::listen`]).
//!
//! [`Store::listen`]: super::Store::listen

use std::sync::{Arc, Mutex, Weak};

use super::types::{BatchInserted, CancelResult, ClaimedRun, QueueSettings, Transition};

/// A change a store committed, as its listeners hear it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Committed<'a> {
    /// A state transition of one execution, with the ExecutionLog line written with it.
    Transition(&'a Transition),
    /// The queue settings as a pause, resume or concurrency change left them.
    Queue(QueueSettings),
}

/// Called with each change a store's writes commit (see [`Store::listen`](super::Store::listen)).
pub type CommitListener = dyn Fn(Committed<'_>) + Send + Sync;

/// The listeners of one store, held weakly: a listener whose last `Arc` was dropped is
/// forgotten at the next announcement.
#[derive(Clone, Default)]
pub(crate) struct CommitListeners(Arc<Mutex<Vec<Weak<CommitListener>>>>);

impl CommitListeners {
    pub(crate) fn add(&self, listener: &Arc<CommitListener>) {
        self.lock().push(Arc::downgrade(listener));
    }

    /// Tells every live listener of each change in `answer`, in order. The listeners are called
    /// without the lock held (one may register another).
    pub(crate) fn announce(&self, answer: &impl Announced) {
        let live: Vec<Arc<CommitListener>> = {
            let mut listeners = self.lock();
            if listeners.is_empty() {
                return;
            }
            listeners.retain(|l| l.strong_count() > 0);
            listeners.iter().filter_map(Weak::upgrade).collect()
        };
        answer.changes(&mut |change| live.iter().for_each(|listener| listener(change)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Weak<CommitListener>>> {
        // A poisoned lock only means a registration panicked; the list itself is whole.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A write's answer seen as the changes it committed, in commit order.
pub(crate) trait Announced {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>));
}

impl Announced for Transition {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>)) {
        each(Committed::Transition(self));
    }
}

impl Announced for Vec<Transition> {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>)) {
        self.iter().for_each(|t| each(Committed::Transition(t)));
    }
}

impl Announced for BatchInserted {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>)) {
        self.transitions.iter().for_each(|t| each(Committed::Transition(t)));
    }
}

impl Announced for Vec<ClaimedRun> {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>)) {
        self.iter().for_each(|run| each(Committed::Transition(&run.transition)));
    }
}

impl Announced for CancelResult {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>)) {
        self.transition.iter().for_each(|t| each(Committed::Transition(t)));
    }
}

impl Announced for QueueSettings {
    fn changes(&self, each: &mut dyn FnMut(Committed<'_>)) {
        each(Committed::Queue(*self));
    }
}
