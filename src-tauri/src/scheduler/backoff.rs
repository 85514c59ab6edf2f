//! The retry delay: exponential backoff with full jitter.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with full jitter: after failed attempt `n` (1-based) the next attempt
/// waits a uniformly random time in `[0, min(cap, base × factorⁿ⁻¹)]`, but never less than the
/// server's Retry-After.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub factor: u32,
    pub cap: Duration,
}

impl Default for Backoff {
    /// 1 s, doubling, capped at 60 s.
    fn default() -> Self {
        Backoff { base: Duration::from_secs(1), factor: 2, cap: Duration::from_secs(60) }
    }
}

impl Backoff {
    /// The upper bound of the delay after failed attempt `attempt` (1-based; 0 counts as 1).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1);
        let growth = u128::from(self.factor).checked_pow(exponent).unwrap_or(u128::MAX);
        let millis = self.base.as_millis().saturating_mul(growth);
        let millis = millis.min(self.cap.as_millis());
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// A full-jitter delay after failed attempt `attempt`: uniform in `[0, ceiling(attempt)]`.
    pub fn jittered(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(0..=ceiling))
    }

    /// The wait before the next attempt: the jittered delay, or `retry_after` when longer.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        self.jittered(attempt, rng).max(retry_after.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_base_up_to_the_cap() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=9).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.ceiling(0), Duration::from_secs(1));
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(60), "no overflow");
    }

    #[test]
    fn jitter_stays_within_the_ceiling_and_spreads() {
        let b = Backoff::default();
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 1..=8 {
            let delays: Vec<Duration> = (0..200).map(|_| b.jittered(attempt, &mut rng)).collect();
            assert!(delays.iter().all(|d| *d <= b.ceiling(attempt)));
            let distinct: std::collections::HashSet<_> = delays.iter().collect();
            assert!(distinct.len() > 50, "full jitter spreads the delays (attempt {attempt})");
        }
    }

    #[test]
    fn the_schedule_is_reproducible_with_a_seed() {
        let b = Backoff::default();
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (1..=5).map(|n| b.jittered(n, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn retry_after_is_a_lower_bound() {
        let b = Backoff { base: Duration::from_millis(10), factor: 2, cap: Duration::from_millis(20) };
        let mut rng = StdRng::seed_from_u64(1);
        for attempt in 1..5 {
            let d = b.delay(attempt, Some(Duration::from_secs(5)), &mut rng);
            assert_eq!(d, Duration::from_secs(5));
            assert!(b.delay(attempt, None, &mut rng) <= Duration::from_millis(20));
        }
    }
}
