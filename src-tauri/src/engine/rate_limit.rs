//! Requests-per-minute limits (`max_rpm`): a sliding window over the last minute's requests.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// The pure window: at most `limit` requests in any `window`. Time is passed in (an injected clock:
/// any monotonic duration since a fixed origin), so the logic is testable without waiting.
#[derive(Debug)]
pub struct RpmWindow {
    limit: usize,
    window: Duration,
    sent: VecDeque<Duration>,
}

impl RpmWindow {
    /// At most `per_minute` requests per minute (0 is treated as 1).
    pub fn per_minute(per_minute: u32) -> Self {
        RpmWindow { limit: per_minute.max(1) as usize, window: Duration::from_secs(60), sent: VecDeque::new() }
    }

    /// Takes a slot at `now`, or says how long to wait until one frees (then call again).
    pub fn try_acquire(&mut self, now: Duration) -> Result<(), Duration> {
        while let Some(&first) = self.sent.front() {
            if now >= first + self.window {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        if self.sent.len() < self.limit {
            self.sent.push_back(now);
            Ok(())
        } else {
            let first = self.sent.front().copied().unwrap_or(now);
            Err((first + self.window).saturating_sub(now))
        }
    }
}

/// A shared limiter over the tokio clock.
#[derive(Debug)]
pub struct RateLimiter {
    window: Mutex<RpmWindow>,
    origin: tokio::time::Instant,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32) -> Self {
        RateLimiter { window: Mutex::new(RpmWindow::per_minute(per_minute)), origin: tokio::time::Instant::now() }
    }

    /// Waits until a request may be sent and takes its slot. `on_wait` is called with each wait
    /// before it starts (for logging).
    ///
    /// Cancellation: dropping the future while it waits takes no slot.
    pub async fn acquire(&self, mut on_wait: impl FnMut(Duration)) {
        loop {
            let now = self.origin.elapsed();
            let wait = match self.window.lock() {
                Ok(mut w) => w.try_acquire(now),
                Err(poisoned) => poisoned.into_inner().try_acquire(now),
            };
            match wait {
                Ok(()) => return,
                Err(d) => {
                    on_wait(d);
                    tokio::time::sleep(d).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn allows_limit_per_window_then_says_how_long_to_wait() {
        let mut w = RpmWindow::per_minute(2);
        assert_eq!(w.try_acquire(s(0)), Ok(()));
        assert_eq!(w.try_acquire(s(10)), Ok(()));
        assert_eq!(w.try_acquire(s(20)), Err(s(40)));
        assert_eq!(w.try_acquire(s(59)), Err(s(1)));
        assert_eq!(w.try_acquire(s(60)), Ok(()));
        assert_eq!(w.try_acquire(s(61)), Err(s(9)));
        assert_eq!(w.try_acquire(s(70)), Ok(()));
    }

    #[test]
    fn zero_means_one() {
        let mut w = RpmWindow::per_minute(0);
        assert_eq!(w.try_acquire(s(0)), Ok(()));
        assert!(w.try_acquire(s(1)).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_waits_on_the_tokio_clock() {
        let limiter = RateLimiter::per_minute(1);
        let mut waits = Vec::new();
        limiter.acquire(|d| waits.push(d)).await;
        limiter.acquire(|d| waits.push(d)).await;
        assert_eq!(waits, vec![s(60)]);
    }
}
