//! The history at full size: 100,000 executions and about 5,000,000 log lines, then p50/p99 of
//! `list` (first page, filters, deep pages), `status`, `logs`, the GUI's paths and the binary's
//! `list --json` / `status --json` / `logs --json` process times, the database size and the query
//! plans; then a prune of the older half (as `crew-runner prune` does it) and a VACUUM, timed.
//!
//! `cargo bench --no-default-features --bench history -- [--executions N] [--calls N] [--process-calls N] [--dir DIR]`
//! (the binary must be built: `cargo build --no-default-features --release` or the bench profile's).

#[path = "../../tests/load/mod.rs"]
mod load;

/// The binary's allocator (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use crew_runner::execution::now_ms;
use crew_runner::store::{PruneFilter, SqliteStore, Store};
use load::fill::{fill, Shape};
use load::measure::{self, Calls};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(|v| v.parse().expect("a number")).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let executions = arg(&args, "--executions", 100_000);
    let calls = Calls { store: arg(&args, "--calls", 200), process: arg(&args, "--process-calls", 50) };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());

    let shape = Shape { executions, lines_per_execution: 50, big_log_lines: 50_000 };
    let filled = fill(&dir.join("data"), shape, 1);
    let report = measure::run(&filled, calls, std::path::Path::new(env!("CARGO_BIN_EXE_crew-runner")));
    measure::print(&filled, &report);

    // Prune what finished more than 45 days ago (about half) as `crew-runner prune` does: batches
    // of 200 executions, a WAL checkpoint every 20 batches and at the end; then VACUUM.
    const BATCH: u32 = 200;
    let store = SqliteStore::open(&filled.database).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let filter = PruneFilter::new(&[], Some(now_ms() - 45 * 86_400_000), None).expect("a filter");
    let t = Instant::now();
    let preview = store.prune_preview(&filter).expect("preview");
    let preview_s = t.elapsed().as_secs_f64();
    let before = store.disk_usage().expect("size");
    let t = Instant::now();
    let mut removed = crew_runner::store::PruneCounts::default();
    let mut batch_times = Vec::new();
    let mut checkpoint_times = Vec::new();
    let mut wal_max = 0;
    loop {
        let started = Instant::now();
        let batch = rt.block_on(store.prune(&filter, BATCH)).expect("prune");
        batch_times.push(started.elapsed());
        removed.add(&batch);
        wal_max = wal_max.max(store.disk_usage().expect("size").wal_bytes);
        if batch.executions < u64::from(BATCH) || batch_times.len() % 20 == 0 {
            let started = Instant::now();
            store.checkpoint().expect("checkpoint");
            checkpoint_times.push(started.elapsed());
        }
        if batch.executions < u64::from(BATCH) {
            break;
        }
    }
    let prune_s = t.elapsed().as_secs_f64();
    assert_eq!(removed, preview, "the preview matches what was removed");
    let pruned = store.disk_usage().expect("size");
    let t = Instant::now();
    store.vacuum().expect("vacuum");
    let vacuum_s = t.elapsed().as_secs_f64();
    let after = store.disk_usage().expect("size");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    batch_times.sort();
    checkpoint_times.sort();
    let pct = |v: &[std::time::Duration], q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    println!(
        "prune --older-than 45d: preview {preview_s:.2} s; removed {} executions, {} log lines, {} steps, {} attempt errors in {} batches, {prune_s:.2} s",
        removed.executions, removed.log_lines, removed.steps, removed.attempt_errors, batch_times.len()
    );
    println!(
        "  one batch of {BATCH} (what other writers wait at most): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} checkpoints: p50 {:.1} ms, max {:.1} ms; WAL peaked at {:.1} MiB",
        ms(pct(&batch_times, 0.5)), ms(pct(&batch_times, 0.99)), ms(batch_times[batch_times.len() - 1]),
        checkpoint_times.len(), ms(pct(&checkpoint_times, 0.5)), ms(checkpoint_times[checkpoint_times.len() - 1]), mib(wal_max)
    );
    println!(
        "database: {:.1} MiB (+ WAL {:.1} MiB) before; after the prune {:.1} MiB (+ WAL {:.1} MiB), {:.1} MiB of it free",
        mib(before.file_bytes),
        mib(before.wal_bytes),
        mib(pruned.file_bytes),
        mib(pruned.wal_bytes),
        mib(pruned.free_bytes())
    );
    println!("vacuum: {vacuum_s:.2} s; database {:.1} MiB (+ WAL {:.1} MiB) after", mib(after.file_bytes), mib(after.wal_bytes));
}
