//! The async runtime the headless commands run on.
//!
//! One thread runs every task (the dispatcher, the attempts, their HTTP streams, the CLI's
//! output), beside the store's writer and checkpointer threads. The work of a crew is waiting on
//! LLM servers, so one runtime thread is plenty, and on a small machine it leaves the other core
//! to the writer: with a worker thread per core the runtime's threads and the writer took turns on
//! two cores and handed work to each other across them (W1 in `docs/BENCHMARKS.md`: about 10 %
//! more jobs/s on this runtime).
//!
//! Before the thread parks with nothing to run, it polls for up to [`PARK_POLL`] while a store
//! write is in flight ([`wait_briefly_for_answers`]): the commit's answer then finds it awake
//! instead of waking a sleeping thread (and its idle vCPU on a virtual machine), which costs
//! about as long as the commit itself. An idle runtime (nothing in flight) parks at once.
//! [`PARK_POLL`] is longer than a busy commit (a batch of the queue takes ~50–100 µs here): with
//! 50 µs the thread often gave up just before the answer came, and W1 ran at 10k instead of 13k
//! jobs/s.
//!
//! The poll belongs on a current-thread runtime only: there a task woken while the thread polls
//! makes the following park return at once, while tokio's multi-thread scheduler does not wake a
//! worker that is about to park for a task queued in the meantime.

use std::time::Duration;

use crate::store::wait_briefly_for_answers;

/// The longest the runtime thread polls for a store answer before it parks.
pub const PARK_POLL: Duration = Duration::from_micros(200);

/// Builds the runtime: current-thread, with I/O and time, polling briefly for store answers
/// before parking.
pub fn build() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().on_thread_park(|| wait_briefly_for_answers(PARK_POLL)).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_tasks_timers_and_blocking_work() {
        let rt = build().unwrap();
        let sum = rt.block_on(async {
            let spawned = tokio::spawn(async { 1 });
            tokio::time::sleep(Duration::from_millis(1)).await;
            let blocking = tokio::task::spawn_blocking(|| 2);
            spawned.await.unwrap() + blocking.await.unwrap()
        });
        assert_eq!(sum, 3);
    }
}
