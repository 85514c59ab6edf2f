//! The daily log files in `<data dir>/logs/` (`crew-runner.log.YYYY-MM-DD`, UTC), written by
//! every face: the CLI (next to stderr) and the desktop app.
//!
//! A new file starts every day; when a face opens them ([`open`]), files older than
//! [`KEEP_DAYS_VAR`] days (default [`DEFAULT_KEEP_DAYS`]) are deleted. The file layer logs at
//! `info` (or `RUST_LOG`), whatever the face shows on stderr.

use std::path::Path;

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};

use super::AppPaths;
use crate::execution::now_ms;

/// The variable that sets for how many days the daily log files are kept; 0 keeps them forever.
pub const KEEP_DAYS_VAR: &str = "CREW_RUNNER_LOG_KEEP_DAYS";
/// Days the log files are kept when [`KEEP_DAYS_VAR`] is unset.
pub const DEFAULT_KEEP_DAYS: u32 = 14;
/// The log files' name before the date (`crew-runner.log.2026-12-06`).
const FILE_PREFIX: &str = "crew-runner.log";

/// [`KEEP_DAYS_VAR`] is not a whole number of days.
#[derive(Debug, thiserror::Error)]
#[error("{KEEP_DAYS_VAR} must be a whole number of days (0: keep forever), not `{0}`")]
pub struct KeepDaysError(pub String);

/// A writer to today's log file (rolling daily) and the guard that flushes it when dropped.
pub type LogFileWriter = (NonBlocking, WorkerGuard);

/// Opens the log files of `paths` for writing, after deleting the old ones (see the module docs).
///
/// `Ok(None)` when the log folder cannot be created or opened (read-only, full, not a folder): the
/// caller goes on without a file (the store reports the real problem). A bad [`KEEP_DAYS_VAR`] is
/// an error.
pub fn open(paths: &AppPaths) -> Result<Option<LogFileWriter>, KeepDaysError> {
    let keep_days = keep_days(std::env::var(KEEP_DAYS_VAR).ok().as_deref())?;
    let dir = paths.log_dir();
    let appender = std::fs::create_dir_all(&dir).ok().and_then(|()| {
        delete_old_logs(&dir, keep_days, now_ms().div_euclid(86_400_000));
        RollingFileAppender::builder().rotation(Rotation::DAILY).filename_prefix(FILE_PREFIX).build(&dir).ok()
    });
    Ok(appender.map(tracing_appender::non_blocking))
}

/// The days to keep log files for a value of [`KEEP_DAYS_VAR`] (`None`: unset); 0 is forever.
/// A value that is not a whole number is a usage error.
fn keep_days(text: Option<&str>) -> Result<u32, KeepDaysError> {
    match text {
        None => Ok(DEFAULT_KEEP_DAYS),
        Some(text) => text.trim().parse().map_err(|_| KeepDaysError(text.to_string())),
    }
}

/// Deletes the daily log files in `dir` (`crew-runner.log.YYYY-MM-DD`, UTC dates) dated `keep_days`
/// or more days before `today` (days since the Unix epoch): today's and the `keep_days - 1` before
/// it stay. `keep_days` 0 keeps every file. Other files are left alone; failures are ignored (the
/// next start tries again).
fn delete_old_logs(dir: &Path, keep_days: u32, today: i64) {
    if keep_days == 0 {
        return;
    }
    let (y, m, d) = crate::execution::civil_from_days(today - i64::from(keep_days) + 1);
    // Dates as `YYYY-MM-DD` compare as text.
    let oldest_kept = format!("{y:04}-{m:02}-{d:02}");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(date) = name.to_str().and_then(|n| n.strip_prefix(FILE_PREFIX)).and_then(|n| n.strip_prefix('.')) else { continue };
        let is_date =
            date.len() == 10 && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        if is_date && date < oldest_kept.as_str() && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_days_from_the_variable() {
        assert_eq!(keep_days(None).unwrap(), 14);
        assert_eq!(keep_days(Some("0")).unwrap(), 0);
        assert_eq!(keep_days(Some(" 30 ")).unwrap(), 30);
        for bad in ["", "-1", "2w", "1.5"] {
            assert!(keep_days(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn old_daily_files_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "crew-runner.log.2026-11-22", // 14 days before 2026-12-06: deleted
            "crew-runner.log.2026-11-23", // 13 days before: kept
            "crew-runner.log.2026-12-06",
            "crew-runner.log.2025-01-01",
            "crew-runner.log.old",
            "notes.2020-01-01",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("crew-runner.log.2020-01-01")).unwrap();
        let today = 1_796_515_200_000 / 86_400_000; // 2026-12-06
        delete_old_logs(dir.path(), 0, today);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 7, "0 keeps everything");
        delete_old_logs(dir.path(), 14, today);
        let mut left: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(
            left,
            [
                "crew-runner.log.2020-01-01",
                "crew-runner.log.2026-11-23",
                "crew-runner.log.2026-12-06",
                "crew-runner.log.old",
                "notes.2020-01-01",
            ]
        );
    }
}
