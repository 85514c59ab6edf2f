//! `prune`: delete old finished executions (with their logs and steps) and report the database size.
//!
//! Deletion goes through the store's writer in batches of `--batch-size` executions, one
//! transaction each, so workers on the same database wait for one batch at a time. Interrupting a
//! prune keeps the batches already committed; the one in progress is rolled back.

use super::args::{GlobalArgs, PruneCommand};
use super::runtime::client;
use super::CliError;
use crate::app::{AppPaths, Runner, RunnerError};
use crate::app::{DiskUsage, PruneCounts, PruneFilter};
use crate::execution::now_ms;
use crate::llm::endpoint_secrets;

/// What `prune --json` prints.
#[derive(Debug, serde::Serialize)]
struct PruneReport {
    dry_run: bool,
    /// Removed, or with --dry-run what would be.
    removed: PruneCounts,
    /// Transactions that removed something.
    batches: u64,
    vacuumed: bool,
    before: SizeReport,
    after: SizeReport,
}

#[derive(Debug, serde::Serialize)]
struct SizeReport {
    #[serde(flatten)]
    usage: DiskUsage,
    total_bytes: u64,
    free_bytes: u64,
}

impl From<DiskUsage> for SizeReport {
    fn from(usage: DiskUsage) -> Self {
        SizeReport { usage, total_bytes: usage.total_bytes(), free_bytes: usage.free_bytes() }
    }
}

/// A long prune copies the WAL back into the file this often, so the WAL (which grows by about
/// what is deleted) stays bounded.
const CHECKPOINT_EVERY_BATCHES: u64 = 20;

/// Runs a blocking maintenance call (checkpoint, VACUUM) off the async runtime's threads.
async fn blocking(runner: &Runner, f: impl FnOnce(&Runner) -> Result<(), RunnerError> + Send + 'static) -> Result<(), CliError> {
    let runner = runner.clone();
    tokio::task::spawn_blocking(move || f(&runner))
        .await
        .map_err(|e| CliError::Failure(format!("the database maintenance stopped: {e}")))?
        .map_err(CliError::runner)
}

pub async fn prune(global: &GlobalArgs, c: PruneCommand) -> Result<i32, CliError> {
    let finished_before = c.older_than.map(|age| now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)));
    let filter = PruneFilter::new(&c.status, finished_before, c.keep)
        .map_err(|e| CliError::Usage(format!("{e} (--older-than DURATION, --keep N, --status S; see `crew-runner prune --help`)")))?;
    let runner = client(global)?;
    let before = runner.disk_usage().map_err(CliError::runner)?;

    let mut removed = PruneCounts::default();
    let mut batches = 0;
    if c.dry_run {
        removed = runner.prune_preview(&filter).map_err(CliError::runner)?;
    } else {
        loop {
            let batch = runner.prune_batch(&filter, c.batch_size).await.map_err(CliError::runner)?;
            if batch.executions > 0 {
                batches += 1;
                removed.add(&batch);
            }
            if batch.executions < u64::from(c.batch_size) {
                break;
            }
            if batches % CHECKPOINT_EVERY_BATCHES == 0 {
                blocking(&runner, Runner::checkpoint).await?;
            }
        }
    }
    let vacuumed = c.vacuum && !c.dry_run;
    if vacuumed {
        blocking(&runner, Runner::vacuum).await?;
    } else if batches > 0 {
        blocking(&runner, Runner::checkpoint).await?;
    }
    let after = runner.disk_usage().map_err(CliError::runner)?;
    if batches > 0 {
        // The endpoint credentials of the executions just removed (reruns share them).
        let in_use = runner.secret_refs().map_err(CliError::runner)?;
        let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
        endpoint_secrets::sweep(&paths.secrets_dir(), &in_use).map_err(CliError::failure)?;
    }

    let report = PruneReport { dry_run: c.dry_run, removed, batches, vacuumed, before: before.into(), after: after.into() };
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&report).expect("a prune report serialises"));
    } else {
        out!("{}", render(&report));
    }
    Ok(0)
}

fn render(r: &PruneReport) -> String {
    let n = &r.removed;
    let verb = if r.dry_run { "would remove" } else { "removed" };
    let mut text = format!(
        "{verb} {} execution(s): {} log line(s), {} step(s), {} attempt error(s), {} call payload(s) ({})",
        n.executions,
        n.log_lines,
        n.steps,
        n.attempt_errors,
        n.payloads,
        bytes(n.payload_bytes)
    );
    if !r.dry_run {
        text.push_str(&format!(" in {} batch(es)", r.batches));
    }
    text.push('\n');
    text.push_str(&format!(
        "database: {} before, {} after{}\n",
        bytes(r.before.total_bytes),
        bytes(r.after.total_bytes),
        if r.vacuumed { " (vacuumed)" } else { "" }
    ));
    if !r.vacuumed && r.after.free_bytes > 0 {
        text.push_str(&format!(
            "{} of it is free space that new history reuses; `--vacuum` gives it back to the file system\n",
            bytes(r.after.free_bytes)
        ));
    }
    text
}

/// A byte count for people: `812 B`, `3.4 KiB`, `1.2 GiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(3 * 1024 + 512), "3.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
