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

/// The writes of this process: sent and not answered yet, and answered so far.
static WRITES: Counts = Counts::new();
/// Whether a thread is in [`wait_briefly_for_answers`] (one at a time: two pollers would take
/// both cores of a small machine from the writer).
static WAITING: AtomicBool = AtomicBool::new(false);

/// Counts of writes (one static for the process; tests make their own).
struct Counts {
    in_flight: AtomicU64,
    answered: AtomicU64,
}

impl Counts {
    const fn new() -> Counts {
        Counts { in_flight: AtomicU64::new(0), answered: AtomicU64::new(0) }
    }

    fn sent(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    fn answer_sent(&self) {
        self.answered.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Polls until an answer is sent, nothing is in flight, or `limit` has passed.
    fn wait_for_an_answer(&self, limit: Duration) {
        let answered = self.answered.load(Ordering::SeqCst);
        let start = Instant::now();
        let mut spins = 0u32;
        while self.answered.load(Ordering::SeqCst) == answered && self.in_flight.load(Ordering::SeqCst) > 0 {
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            // Reading the clock costs more than a poll: every 64 polls.
            if spins.is_multiple_of(64) && start.elapsed() >= limit {
                break;
            }
        }
    }
}

/// Counts one write from its sending until it is dropped (after its answer was sent, or unsent
/// when the writer is gone).
pub(super) struct InFlight(());

impl InFlight {
    pub(super) fn start() -> InFlight {
        WRITES.sent();
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        WRITES.answer_sent();
    }
}

/// Polls until an answer is sent, no write is in flight, or `limit` has passed; returns at once
/// when no write is in flight or another thread is already polling. Meant for the
/// `on_thread_park` hook of a current-thread runtime (see `app::runtime`): the answer's wake-up
/// then finds the thread awake.
pub fn wait_briefly_for_answers(limit: Duration) {
    if WRITES.in_flight.load(Ordering::SeqCst) == 0 || WAITING.swap(true, Ordering::Acquire) {
        return;
    }
    WRITES.wait_for_an_answer(limit);
    WAITING.store(false, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    // Counts of their own: the process-wide ones move with every other test's writes.

    #[test]
    fn nothing_in_flight_returns_at_once() {
        let counts = Counts::new();
        let start = Instant::now();
        counts.wait_for_an_answer(Duration::from_secs(60));
        // A wait that ignored "nothing in flight" would last the whole minute.
        assert!(start.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn an_unanswered_write_is_waited_for_until_the_limit() {
        let counts = Counts::new();
        counts.sent();
        let start = Instant::now();
        counts.wait_for_an_answer(Duration::from_millis(20));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn an_answer_from_another_thread_ends_the_wait() {
        let counts = Arc::new(Counts::new());
        // Never answered: something stays in flight, so only an answer can end the wait early.
        counts.sent();
        let stop = Arc::new(AtomicBool::new(false));
        let (answering, stopped) = (counts.clone(), stop.clone());
        // Other writes are sent and answered until the wait is over (whenever it started).
        let answers = std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                answering.sent();
                answering.answer_sent();
            }
        });
        let start = Instant::now();
        // If the answers were missed, this would wait the whole minute and fail.
        counts.wait_for_an_answer(Duration::from_secs(60));
        let waited = start.elapsed();
        stop.store(true, Ordering::SeqCst);
        answers.join().unwrap();
        assert!(waited < Duration::from_secs(60));
        assert_eq!(counts.in_flight.load(Ordering::SeqCst), 1);
    }
}
