//! Writes in flight, process-wide: what lets a runtime thread wait a moment for the writer's
//! answer instead of going to sleep.
//!
//! Every write a caller awaits (not a waiting claim, which may wait for minutes) is counted from
//! the moment it is sent to the writer thread until its answer has been sent back. A runtime
//! thread with nothing to run would otherwise park in the kernel, and on a virtual machine waking
//! a sleeping thread (and its idle vCPU) costs tens of microseconds, about as long as the commit
//! itself: [`wait_briefly_for_answers`], called by the runtime just before it parks, polls instead
//! while a write is in flight, for at most the given time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Writes sent and not answered yet.
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
/// Answers sent so far.
static ANSWERED: AtomicU64 = AtomicU64::new(0);
/// Whether a thread is in [`wait_briefly_for_answers`] (one at a time: two pollers would take
/// both cores of a small machine from the writer).
static WAITING: AtomicBool = AtomicBool::new(false);

/// Counts one write from its sending until it is dropped (after its answer was sent, or unsent
/// when the writer is gone).
pub(super) struct InFlight(());

impl InFlight {
    pub(super) fn start() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        ANSWERED.fetch_add(1, Ordering::SeqCst);
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Polls until an answer is sent, no write is in flight, or `limit` has passed; returns at once
/// when no write is in flight or another thread is already polling. Meant for the
/// `on_thread_park` hook of a current-thread runtime (see `app::runtime`): the answer's wake-up
/// then finds the thread awake.
pub fn wait_briefly_for_answers(limit: Duration) {
    if IN_FLIGHT.load(Ordering::SeqCst) == 0 || WAITING.swap(true, Ordering::Acquire) {
        return;
    }
    let answered = ANSWERED.load(Ordering::SeqCst);
    let start = Instant::now();
    let mut spins = 0u32;
    while ANSWERED.load(Ordering::SeqCst) == answered && IN_FLIGHT.load(Ordering::SeqCst) > 0 {
        std::hint::spin_loop();
        spins = spins.wrapping_add(1);
        // Reading the clock costs more than a poll: every 64 polls.
        if spins % 64 == 0 && start.elapsed() >= limit {
            break;
        }
    }
    WAITING.store(false, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_until_an_answer_is_sent_or_the_limit() {
        // Nothing of ours in flight: returns at once (other tests' writes may be in flight; then
        // this waits at most the limit).
        wait_briefly_for_answers(Duration::from_millis(50));
        // A write nobody answers: the limit ends the wait.
        let unanswered = InFlight::start();
        let start = Instant::now();
        wait_briefly_for_answers(Duration::from_millis(20));
        assert!(start.elapsed() >= Duration::from_millis(20) || ANSWERED.load(Ordering::SeqCst) > 0);
        // An answer from another thread ends it long before the limit (if the answer were
        // missed, this would wait the whole minute and fail).
        let answer = std::thread::spawn(move || drop(unanswered));
        let start = Instant::now();
        wait_briefly_for_answers(Duration::from_secs(60));
        answer.join().unwrap();
        assert!(start.elapsed() < Duration::from_secs(60));
    }
}
