//! Wall-clock steps: seen by comparing the wall clock with the machine's boot clock.
//!
//! Every timestamp the store keeps is wall-clock time ([`Millis`]), so that other processes and a
//! restarted machine read them alike. A step of the wall clock (an NTP correction, a manual
//! change, a virtual machine resumed) would otherwise make leases expire early (a forward step)
//! or retries wait for hours (a backward step). `CLOCK_BOOTTIME` never steps and counts suspend,
//! so *wall − boot* (the skew) stays constant on one boot unless the wall clock was stepped. The
//! store keeps the last skew it saw with the boot's id; when a process sees a different skew on
//! the same boot, it moves the due times of retries and the leases of running executions by the
//! step, in the same transaction that records the new skew (so the move happens once, whichever
//! process sees it first). See [`ClockCheck`]. The check runs first in every write that stores a
//! lease or a due time from the clock (lease renewal, a retry's schedule, recovery), so no value
//! written in the stepped clock is moved again; a claim's lease written in the window between
//! the step and the next such write (at most one heartbeat) is moved once too far, which only
//! lengthens that lease.

use crate::execution::Millis;

/// A change of skew larger than this is a step (slewing by NTP changes it by far less between
/// two heartbeats).
pub const STEP_THRESHOLD_MS: Millis = 2_000;

/// The clocks read together: which boot, and wall − boot in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockReading {
    pub boot: String,
    pub skew_ms: Millis,
}

impl ClockReading {
    /// Reads the wall clock (as the rest of the program does, [`crate::execution::now_ms`]) and
    /// the boot clock (straight from the kernel, not through the C library, so that only the wall
    /// clock is what a stepped clock or a time-faking preload changes). `None` where there is no
    /// boot clock (then no step is ever seen).
    pub fn now() -> Option<ClockReading> {
        let boot_ms = boot_clock_ms()?;
        let boot = boot_id()?;
        Some(ClockReading { boot, skew_ms: crate::execution::now_ms() - boot_ms })
    }
}

/// What to do about the stored reference given a new reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockCheck {
    /// Same boot, skew within [`STEP_THRESHOLD_MS`]: nothing to do.
    Steady,
    /// Same boot and the wall clock stepped by `step_ms` (positive: forward): move stored due
    /// times and leases by `step_ms`, and record the new reading.
    Stepped { step_ms: Millis },
    /// No reference yet, or another boot: record the new reading (nothing to move: after a
    /// reboot, the wall clock is the only reference there is).
    Record,
}

/// Compares a new reading with the stored one.
pub fn check(stored: Option<&ClockReading>, now: &ClockReading) -> ClockCheck {
    match stored {
        Some(stored) if stored.boot == now.boot => {
            let step_ms = now.skew_ms - stored.skew_ms;
            if step_ms.abs() > STEP_THRESHOLD_MS {
                ClockCheck::Stepped { step_ms }
            } else {
                ClockCheck::Steady
            }
        }
        _ => ClockCheck::Record,
    }
}

#[cfg(target_os = "linux")]
fn boot_clock_ms() -> Option<Millis> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: the raw syscall writes one timespec into `ts`, which we own. Called as a syscall so
    // that an LD_PRELOAD wrapper of clock_gettime (libfaketime in the tests) cannot change it.
    let rc = unsafe { libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_BOOTTIME, &mut ts as *mut libc::timespec) };
    (rc == 0).then(|| ts.tv_sec as Millis * 1000 + ts.tv_nsec as Millis / 1_000_000)
}

#[cfg(not(target_os = "linux"))]
fn boot_clock_ms() -> Option<Millis> {
    None
}

/// This boot's id (read once: it cannot change while the process runs).
fn boot_id() -> Option<String> {
    static BOOT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(boot: &str, skew_ms: Millis) -> ClockReading {
        ClockReading { boot: boot.into(), skew_ms }
    }

    #[test]
    fn steps_are_seen_on_one_boot_only() {
        assert_eq!(check(None, &reading("a", 5)), ClockCheck::Record);
        assert_eq!(check(Some(&reading("a", 1_000)), &reading("a", 2_500)), ClockCheck::Steady);
        assert_eq!(check(Some(&reading("a", 1_000)), &reading("a", 61_000)), ClockCheck::Stepped { step_ms: 60_000 });
        assert_eq!(check(Some(&reading("a", 3_600_000)), &reading("a", 0)), ClockCheck::Stepped { step_ms: -3_600_000 });
        assert_eq!(check(Some(&reading("a", 0)), &reading("b", 3_600_000)), ClockCheck::Record);
    }

    #[test]
    fn this_machine_has_a_steady_reading() {
        let (Some(a), Some(b)) = (ClockReading::now(), ClockReading::now()) else { return };
        assert_eq!(check(Some(&a), &b), ClockCheck::Steady);
    }
}
