//! How a [`Scheduler`](super::Scheduler) runs.

use std::time::Duration;

use super::Backoff;

/// The longest heartbeat allowed: cancels and pauses from other processes, and work they submit,
/// are noticed within one heartbeat.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(1);

/// Which executions a scheduler claims and runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClaimScope {
    /// Any runnable execution in the database (workers, the GUI).
    #[default]
    All,
    /// Only executions submitted through this scheduler handle (`crew-runner --run`).
    Submitted,
    /// None: a submit-only client.
    None,
}

/// Scheduler settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// When set, written to the database at start (shared by every process). `None` keeps the
    /// database's value (4 in a new database).
    pub concurrency: Option<u32>,
    /// How long a claimed execution stays ours without a renewal. Default 10 s.
    pub lease: Duration,
    /// How often leases are renewed and other processes' changes picked up. Default 1 s;
    /// values above [`MAX_HEARTBEAT`] are lowered to it, zero is raised to 1 ms.
    pub heartbeat: Duration,
    /// The retry delay. Default 1 s doubling up to 60 s, full jitter.
    pub backoff: Backoff,
    pub scope: ClaimScope,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            concurrency: None,
            lease: Duration::from_secs(10),
            heartbeat: MAX_HEARTBEAT,
            backoff: Backoff::default(),
            scope: ClaimScope::All,
        }
    }
}

impl SchedulerConfig {
    /// The heartbeat actually used (clamped to `1 ms ..= MAX_HEARTBEAT`).
    pub fn effective_heartbeat(&self) -> Duration {
        self.heartbeat.clamp(Duration::from_millis(1), MAX_HEARTBEAT)
    }

    /// The lease in milliseconds (at least three heartbeats, so one slow beat does not lose it).
    pub fn lease_ms(&self) -> u64 {
        let floor = self.effective_heartbeat() * 3;
        u64::try_from(self.lease.max(floor).as_millis()).unwrap_or(u64::MAX)
    }
}
