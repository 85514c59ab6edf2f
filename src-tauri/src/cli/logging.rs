//! Tracing to stderr (level from RUST_LOG or -v) and to `<data dir>/logs/crew-runner.log`.
//!
//! Stderr gets ANSI colour only when it is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>); the file never does. A new file starts every day (UTC); at start,
//! files older than [`KEEP_DAYS_VAR`] days (default [`DEFAULT_KEEP_DAYS`]) are deleted.

use std::io::IsTerminal;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

use std::path::Path;

use super::args::GlobalArgs;
use super::CliError;
use crate::app::AppPaths;
use crate::execution::now_ms;

/// The variable that sets for how many days the daily log files are kept; 0 keeps them forever.
pub const KEEP_DAYS_VAR: &str = "CREW_RUNNER_LOG_KEEP_DAYS";
/// Days the log files are kept when [`KEEP_DAYS_VAR`] is unset.
pub const DEFAULT_KEEP_DAYS: u32 = 14;
/// The log files' name before the date (`crew-runner.log.2026-12-06`).
const FILE_PREFIX: &str = "crew-runner.log";

/// Keeps the file writer flushing until dropped (at exit).
pub struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

/// Installs the global subscriber. The file layer logs at `info` (or RUST_LOG) whatever -v says.
pub fn init(global: &GlobalArgs) -> Result<LogGuard, CliError> {
    let stderr_default = match global.verbose {
        0 if global.quiet => "error",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let stderr_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(stderr_default));
    let colour = use_colour(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
    let stderr =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(colour).with_filter(stderr_filter);

    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    let keep_days = keep_days(std::env::var(KEEP_DAYS_VAR).ok().as_deref())?;
    // A data dir where the log file cannot be created or opened (read-only, full, not a folder)
    // still lets read-only commands work: the file layer is left out and the store reports the
    // real problem.
    let appender = std::fs::create_dir_all(paths.log_dir()).ok().and_then(|()| {
        delete_old_logs(&paths.log_dir(), keep_days, now_ms().div_euclid(86_400_000));
        RollingFileAppender::builder().rotation(Rotation::DAILY).filename_prefix(FILE_PREFIX).build(paths.log_dir()).ok()
    });
    let (file_layer, guard) = match appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry().with(stderr).with(file_layer).try_init();
    Ok(LogGuard(guard))
}

/// The days to keep log files for a value of [`KEEP_DAYS_VAR`] (`None`: unset); 0 is forever.
/// A value that is not a whole number is a usage error.
fn keep_days(text: Option<&str>) -> Result<u32, CliError> {
    match text {
        None => Ok(DEFAULT_KEEP_DAYS),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| CliError::Usage(format!("{KEEP_DAYS_VAR} must be a whole number of days (0: keep forever), not `{text}`"))),
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
    let (y, m, d) = super::render::civil_from_days(today - i64::from(keep_days) + 1);
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

/// Whether stderr output is coloured: only on a terminal, and not when `NO_COLOR` (`no_color`) is
/// set to a non-empty value.
fn use_colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn keep_days_from_the_variable() {
        assert_eq!(keep_days(None).unwrap(), 14);
        assert_eq!(keep_days(Some("0")).unwrap(), 0);
        assert_eq!(keep_days(Some(" 30 ")).unwrap(), 30);
        for bad in ["", "-1", "2w", "1.5"] {
            assert!(matches!(keep_days(Some(bad)), Err(CliError::Usage(_))), "{bad}");
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

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
    }
}
