//! Tracing to stderr (level from RUST_LOG or -v) and to the data dir's daily log files
//! ([`log_files`](crate::app::log_files)).
//!
//! Stderr gets ANSI colour only when it is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>); the file never does.

use std::io::IsTerminal;

use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

use super::args::GlobalArgs;
use super::CliError;
use crate::app::{log_files, AppPaths};

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
    // A data dir where the log file cannot be created or opened (read-only, full, not a folder)
    // still lets read-only commands work: the file layer is left out and the store reports the
    // real problem.
    let (file_layer, guard) = match log_files::open(&paths).map_err(CliError::usage)? {
        Some((writer, guard)) => {
            let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry().with(stderr).with(file_layer).try_init();
    Ok(LogGuard(guard))
}

/// Whether output to a stream (stderr here, stdout for `diff`) is coloured: only on a terminal
/// (`terminal`), and not when `NO_COLOR` (`no_color`) is set to a non-empty value.
pub fn use_colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
    }
}
