//! W1–W4 (see `../shared/bench/peers/README.md`) on the real scheduler and SQLite store, with no-op
//! jobs, plus SQLite's own single-row commit rate (T1) measured in the same run for the ratio, and
//! T1 with every commit acknowledged to an awaiting task by a writer thread (the ceiling of a
//! sequential submitter on a thread-owned connection; see [`t1_round_trip`]), and the store's SQL
//! alone: W1-live's transactions on one connection in one thread ([`sql_alone`]).
//!
//! `cargo bench --no-default-features --features bench-internals --bench queue -- [--reps N] [--w1-jobs N] [--json]`
//! Prints one line per workload and repetition, then `median [min-max]` per figure. Every loop is
//! bounded in count and time. `--w1-live-only` runs T1 and W1-live alone (for profiling; `--no-t1`: W1-live only);
//! Everything runs on the runtime of the binary's headless commands (`app::runtime::build`);
//! `--rt-threads N` puts it on a multi-thread runtime with N workers instead, and W1-live is also
//! measured on tokio's default multi-thread runtime.
//! `QUEUE_BENCH_DEBUG=1` also prints, per W1-live rep, whether the completion subscriber kept up
//! and how long the last jobs ran after the last enqueue.

/// The binary's allocator (`src/main.rs`), so the store runs as it does in `crew-runner`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crew_runner::execution::{
    now_ms, AttemptOutput, BoxFuture, ExecutionError, ExecutionEvent, ExecutionId, Executor, Journal, NewExecution, Priority, RunOutput,
    RunRequest,
};
use crew_runner::scheduler::{ClaimScope, Scheduler, SchedulerConfig};
use crew_runner::store::{SqliteStore, Store};
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

/// What a benchmark job does, chosen by its `inputs.kind`.
#[derive(Default)]
struct BenchExecutor {
    /// Wall-clock start (µs since epoch) of each job body, by id.
    starts: Mutex<HashMap<ExecutionId, i64>>,
}

fn now_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64
}

impl Executor for BenchExecutor {
    fn execute(
        &self,
        request: RunRequest,
        _journal: Arc<dyn Journal>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        let t_start = now_us();
        self.starts.lock().unwrap().insert(request.execution.id.clone(), t_start);
        let kind = request.execution.inputs.get("kind").and_then(|v| v.as_str()).unwrap_or("noop").to_string();
        Box::pin(async move {
            match kind.as_str() {
                "sleep2ms" => tokio::time::sleep(Duration::from_millis(2)).await,
                "long" => {
                    // W4: a loop of 10 ms sleeps for at most 60 s.
                    for _ in 0..6001 {
                        if cancel.is_cancelled() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                _ => {}
            }
            Ok(RunOutput { output: format!("{{\"ok\":true,\"t_start\":{t_start}}}"), usage: Default::default() }.into())
        })
    }
}

fn job(kind: &str, priority: Priority) -> NewExecution {
    NewExecution {
        crew_name: "bench".into(),
        crew_source: "bench".into(),
        crew_spec: serde_json::json!({}).into(),
        inputs: [("kind".to_string(), serde_json::json!(kind))].into(),
        priority,
        max_attempts: 1,
        ..Default::default()
    }
}

async fn start(dir: &Path, concurrency: u32) -> (Scheduler, Arc<BenchExecutor>) {
    let (scheduler, executor, _) = start_counted(dir, concurrency).await;
    (scheduler, executor)
}

/// [`start`], also returning the store (for its commit counter).
async fn start_counted(dir: &Path, concurrency: u32) -> (Scheduler, Arc<BenchExecutor>, Arc<SqliteStore>) {
    let sqlite = Arc::new(SqliteStore::open(dir.join("bench.db")).expect("open store"));
    let store: Arc<dyn Store> = sqlite.clone();
    let executor = Arc::new(BenchExecutor::default());
    let config = SchedulerConfig { concurrency: Some(concurrency), scope: ClaimScope::All, ..SchedulerConfig::default() };
    let scheduler = Scheduler::start(store, executor.clone(), config).await.expect("start scheduler");
    (scheduler, executor, sqlite)
}

/// Waits until `n` executions reached a terminal state, counting `State` events.
async fn await_terminal(
    events: &mut tokio::sync::broadcast::Receiver<ExecutionEvent>,
    n: usize,
    scheduler: &Scheduler,
    ids: &[ExecutionId],
) {
    if !count_terminal(events, n).await {
        wait_each(scheduler, ids).await;
    }
}

/// Counts terminal `State` events until `n` were seen (`true`), or the receiver lagged (`false`).
async fn count_terminal(events: &mut tokio::sync::broadcast::Receiver<ExecutionEvent>, n: usize) -> bool {
    let mut done = 0usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while done < n {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(ExecutionEvent::State { state, .. })) if state.is_terminal() => done += 1,
            Ok(Ok(_)) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => return false,
            Ok(Err(_)) | Err(_) => panic!("W1: jobs did not finish within 120 s"),
        }
    }
    true
}

/// Waits on each id (store-backed): the fallback when the event subscription lagged.
async fn wait_each(scheduler: &Scheduler, ids: &[ExecutionId]) {
    for id in ids {
        scheduler.wait(id).await.expect("wait");
    }
}

/// W1-live: N no-op jobs, random priority, one submit (one transaction) each, concurrency 2,
/// warmed. Returns jobs/s, enqueue/s and the store's transactions per job.
async fn w1_live(n: usize) -> (f64, f64, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let (scheduler, _, sqlite) = start_counted(tmp.path(), 2).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(12345);
    for _ in 0..8 {
        let e = scheduler.submit(job("noop", Priority::Normal)).await.unwrap();
        scheduler.wait(&e.id).await.unwrap();
    }
    // Completions are observed while the submitter runs (as a Celery client's result listener
    // would be), so the subscription keeps up instead of lagging behind 10k jobs' events.
    let mut events = scheduler.subscribe();
    let observer = tokio::spawn(async move { count_terminal(&mut events, n).await });
    let commits0 = sqlite.commits();
    let t0 = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let p = Priority::ALL[rng.random_range(0..4)];
        ids.push(scheduler.submit(job("noop", p)).await.unwrap().id);
    }
    let enqueue = t0.elapsed().as_secs_f64();
    let kept_up = observer.await.expect("observer");
    if !kept_up {
        wait_each(&scheduler, &ids).await;
    }
    if std::env::var_os("QUEUE_BENCH_DEBUG").is_some() {
        eprintln!("w1-live: observer kept up: {kept_up}; tail after the last enqueue {:.3} s", t0.elapsed().as_secs_f64() - enqueue);
    }
    let wall = t0.elapsed().as_secs_f64();
    let commits = (sqlite.commits() - commits0) as f64 / n as f64;
    scheduler.shutdown().await.expect("shutdown");
    (n as f64 / wall, n as f64 / enqueue, commits)
}

/// W1-drain: N jobs enqueued while paused, then resumed; earliest body start -> last complete.
async fn w1_drain(n: usize) -> f64 {
    let tmp = tempfile::tempdir().unwrap();
    let (scheduler, executor) = start(tmp.path(), 2).await;
    scheduler.pause().await.unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(12345);
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let p = Priority::ALL[rng.random_range(0..4)];
        ids.push(scheduler.submit(job("noop", p)).await.unwrap().id);
    }
    let mut events = scheduler.subscribe();
    scheduler.resume().await.unwrap();
    await_terminal(&mut events, n, &scheduler, &ids).await;
    let end = now_us();
    let first = executor.starts.lock().unwrap().values().copied().min().unwrap();
    scheduler.shutdown().await.expect("shutdown");
    n as f64 / ((end - first) as f64 / 1e6)
}

/// W2: 1,000 sequential no-op jobs on an idle queue; submit->started and submit->completed (ms).
async fn w2() -> (Vec<f64>, Vec<f64>) {
    let tmp = tempfile::tempdir().unwrap();
    let (scheduler, executor) = start(tmp.path(), 2).await;
    for _ in 0..58 {
        let e = scheduler.submit(job("noop", Priority::Normal)).await.unwrap();
        scheduler.wait(&e.id).await.unwrap();
    }
    let (mut started, mut completed) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        let before = now_us();
        let e = scheduler.submit(job("noop", Priority::Normal)).await.unwrap();
        scheduler.wait(&e.id).await.unwrap();
        let after = now_us();
        let t_start = executor.starts.lock().unwrap()[&e.id];
        started.push((t_start - before) as f64 / 1000.0);
        completed.push((after - before) as f64 / 1000.0);
    }
    scheduler.shutdown().await.expect("shutdown");
    (started, completed)
}

/// W3: concurrency 1; 1,000 LOW (2 ms) jobs, then 100 ms later 10 HIGH; LOW jobs started between
/// the first HIGH enqueue and the last HIGH start.
async fn w3() -> (usize, f64, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let (scheduler, executor) = start(tmp.path(), 1).await;
    let w = scheduler.submit(job("noop", Priority::Normal)).await.unwrap();
    scheduler.wait(&w.id).await.unwrap();
    let mut lows = Vec::new();
    for _ in 0..1000 {
        lows.push(scheduler.submit(job("sleep2ms", Priority::Low)).await.unwrap().id);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t_hi0 = now_us();
    let mut highs = Vec::new();
    for _ in 0..10 {
        highs.push(scheduler.submit(job("sleep2ms", Priority::High)).await.unwrap().id);
    }
    for id in highs.iter().chain(lows.iter()) {
        scheduler.wait(id).await.unwrap();
    }
    let starts = executor.starts.lock().unwrap().clone();
    let high_starts: Vec<i64> = highs.iter().map(|id| starts[id]).collect();
    let last_high = *high_starts.iter().max().unwrap();
    let first_high = *high_starts.iter().min().unwrap();
    let slipped = lows
        .iter()
        .filter(|id| {
            let t = starts[*id];
            t > t_hi0 && t < last_high
        })
        .count();
    scheduler.shutdown().await.expect("shutdown");
    (slipped, (first_high - t_hi0) as f64 / 1000.0, (last_high - t_hi0) as f64 / 1000.0)
}

/// W4: a 60 s job of 10 ms sleeps; cancel 0.5 s after it started; cancel call -> terminal (ms).
async fn w4() -> (f64, String) {
    let tmp = tempfile::tempdir().unwrap();
    let (scheduler, _) = start(tmp.path(), 2).await;
    let mut events = scheduler.subscribe();
    let e = scheduler.submit(job("long", Priority::Normal)).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(ExecutionEvent::State { id, state, .. })) if id == e.id && state.status() == crew_runner::execution::Status::Running => {
                break
            }
            Ok(Ok(_)) => {}
            _ => panic!("W4: job did not start within 30 s"),
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    scheduler.cancel(&e.id).await.unwrap();
    let done = scheduler.wait(&e.id).await.unwrap();
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    scheduler.shutdown().await.expect("shutdown");
    (ms, done.status().to_string())
}

/// The peers' `sqlite-limit` table and index, in WAL mode with `synchronous=NORMAL`.
const T1_SCHEMA: &str = "PRAGMA synchronous=NORMAL; CREATE TABLE jobs(id INTEGER PRIMARY KEY, priority INTEGER NOT NULL, \
    state INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL, result TEXT, created_at INTEGER NOT NULL, started_at INTEGER, \
    finished_at INTEGER); CREATE INDEX jobs_ready ON jobs(state, priority DESC, id);";

/// The store's SQL alone: jobs/s of W1-live's transactions run by the store's own write code on
/// one connection in this thread, with no writer thread, scheduler or runtime
/// (`store::sqlite::direct`, the `bench-internals` feature): one transaction per job that inserts
/// job *k*, claims it (it is the best waiting one) and settles job *k − 1* as succeeded, each
/// command after the first in its own savepoint as the writer runs them. W1-live cannot beat it;
/// the gap is what the rest of the process costs.
fn sql_alone(n: usize) -> f64 {
    use crew_runner::store::sqlite::direct::with_writer;
    use crew_runner::store::{ClaimFilter, ClaimRequest, Finish};
    const OWNER: &str = "sql-alone:0:bench";
    let tmp = tempfile::tempdir().unwrap();
    let noop = job("noop", Priority::Normal);
    let took = with_writer(&tmp.path().join("alone.db"), |w| {
        let started = Instant::now();
        let mut previous = None;
        for _ in 0..n {
            w.begin()?;
            w.insert(noop.clone())?;
            let request = ClaimRequest { owner: OWNER.into(), now: now_ms(), lease_ms: 60_000, max: 1, filter: ClaimFilter::All };
            let mut claimed = w.in_savepoint(|| w.claim(&request))?;
            if let Some(id) = previous.take() {
                let done = Finish::Succeeded { output: "{\"ok\":true}".into(), usage: Default::default() };
                w.in_savepoint(|| w.finish(&id, OWNER, done))?;
            }
            previous = claimed.pop();
            w.commit()?;
        }
        Ok(started.elapsed())
    })
    .unwrap();
    n as f64 / took.as_secs_f64()
}

/// T1: SQLite single-row INSERT commits/s, WAL, synchronous=NORMAL (20,000 rows or 5 s).
fn t1_sqlite() -> f64 {
    let tmp = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(tmp.path().join("t1.db")).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    c.execute_batch(T1_SCHEMA).unwrap();
    let mut st = c.prepare("INSERT INTO jobs(priority, payload, created_at) VALUES (?1, ?2, ?3)").unwrap();
    let t0 = Instant::now();
    let mut n = 0u64;
    while n < 20_000 && t0.elapsed() < Duration::from_secs(5) {
        st.execute(rusqlite::params![(n % 10) as i64, "{\"noop\":true}", now_us()]).unwrap();
        n += 1;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

/// T1 with each commit acknowledged across threads, as every write of the store is: the same
/// single-row inserts, each sent over a crossbeam channel to a writer thread (which polls its
/// channel for 50 µs after a commit before it parks, like the store's) and answered over a tokio
/// oneshot to the submitter awaiting it on a current-thread runtime. Nothing else runs: this is
/// the ceiling of one awaiting submitter on a thread-owned connection, before any queue work.
/// `poll`: the runtime thread polls up to `app::runtime::PARK_POLL` for the answer before it parks,
/// as the binary's runtime does; otherwise it parks at once (tokio's default).
fn t1_round_trip(poll: bool) -> f64 {
    use std::sync::atomic::{AtomicBool, Ordering};
    // A commit in flight (the bench's own counterpart of the store's count).
    static PENDING: AtomicBool = AtomicBool::new(false);
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if poll {
        builder.on_thread_park(|| {
            let start = Instant::now();
            while PENDING.load(Ordering::SeqCst) && start.elapsed() < crew_runner::app::runtime::PARK_POLL {
                std::hint::spin_loop();
            }
        });
    }
    let rt = builder.build().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(tmp.path().join("t1.db")).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    c.execute_batch(T1_SCHEMA).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded::<(i64, tokio::sync::oneshot::Sender<()>)>();
    let writer = std::thread::spawn(move || {
        let mut st = c.prepare("INSERT INTO jobs(priority, payload, created_at) VALUES (?1, ?2, ?3)").unwrap();
        loop {
            let polled = Instant::now();
            let next = loop {
                match rx.try_recv() {
                    Ok(v) => break Some(v),
                    Err(crossbeam_channel::TryRecvError::Empty) if polled.elapsed() < Duration::from_micros(50) => std::hint::spin_loop(),
                    Err(_) => break rx.recv().ok(),
                }
            };
            let Some((n, reply)) = next else { return };
            st.execute(rusqlite::params![n % 10, "{\"noop\":true}", now_us()]).unwrap();
            let _ = reply.send(());
            PENDING.store(false, Ordering::SeqCst);
        }
    });
    let rate = rt.block_on(async move {
        let t0 = Instant::now();
        let mut n = 0i64;
        while n < 20_000 && t0.elapsed() < Duration::from_secs(5) {
            let (reply, answer) = tokio::sync::oneshot::channel();
            PENDING.store(true, Ordering::SeqCst);
            tx.send((n, reply)).unwrap();
            answer.await.unwrap();
            n += 1;
        }
        n as f64 / t0.elapsed().as_secs_f64()
    });
    writer.join().unwrap();
    rate
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = p / 100.0 * (s.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (rank - lo as f64)
}

fn summary(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!("{:.1} [{:.1}-{:.1}]", percentile(&s, 50.0), s[0], s[s.len() - 1])
}

/// Like [`summary`] with three decimals (latencies in ms).
fn summary_ms(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!("{:.3} [{:.3}-{:.3}]", percentile(&s, 50.0), s[0], s[s.len() - 1])
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    crew_runner::app::memory::no_transparent_huge_pages();
    let reps = arg("--reps", 3);
    let n = arg("--w1-jobs", 10_000);
    // The default: the runtime the binary's headless commands run on (`app::runtime::build`: one
    // thread, polling briefly for store answers before it parks). `--rt-threads N` (N >= 1) runs
    // everything on a multi-thread runtime with N workers instead.
    let rt = match arg("--rt-threads", 0) {
        0 => crew_runner::app::runtime::build().unwrap(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build().unwrap(),
    };
    // W1-live is also measured on tokio's default runtime (`#[tokio::main]`: a worker per core, no
    // polling before parking), for comparison.
    let multi = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (mut t1, mut live, mut enq, mut drain, mut w1_ratio) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut round_trips, mut round_trips_parking) = (vec![], vec![]);
    let (mut live_multi, mut alone) = (vec![], vec![]);
    let (mut p50s, mut p99s, mut c99s, mut slips, mut cancels) = (vec![], vec![], vec![], vec![], vec![]);
    println!("crew-runner queue benchmark: {reps} reps, W1 N={n}, 2 worker slots (W3: 1)");
    if std::env::args().any(|a| a == "--w1-live-only") {
        // Iterating on W1-live alone (profiling): no other workload, no summary.
        // `--no-t1`: W1-live alone, so a profile holds nothing else.
        let with_t1 = !std::env::args().any(|a| a == "--no-t1");
        for rep in 1..=reps {
            let (t, r, a) = if with_t1 { (t1_sqlite(), t1_round_trip(true), sql_alone(n)) } else { (f64::NAN, f64::NAN, f64::NAN) };
            let (l, e, c) = rt.block_on(w1_live(n));
            println!("rep {rep}: T1 sqlite {t:.0} commits/s, round trip {r:.0}/s | store SQL alone {a:.0} jobs/s | W1-live {l:.0} jobs/s (enqueue {e:.0}/s) {c:.2} transactions/job");
        }
        return;
    }
    for rep in 1..=reps {
        let t = t1_sqlite();
        let r = t1_round_trip(true);
        let rp = t1_round_trip(false);
        let a = sql_alone(n);
        let (l, e, c) = rt.block_on(w1_live(n));
        let (lm, _, _) = multi.block_on(w1_live(n));
        let d = rt.block_on(w1_drain(n));
        let (started, completed) = rt.block_on(w2());
        let (slipped, first_hi, last_hi) = rt.block_on(w3());
        let (cancel_ms, final_state) = rt.block_on(w4());
        println!(
            "rep {rep}: T1 sqlite {t:.0} commits/s, round trip {r:.0}/s (parking at once {rp:.0}/s) | store SQL alone {a:.0} jobs/s | W1-live {l:.0} jobs/s (enqueue {e:.0}/s) {c:.2} transactions/job | \
             W1-live multi-thread {lm:.0} jobs/s | W1-drain {d:.0} jobs/s | \
             W2 submit->started p50/p95/p99 {:.3}/{:.3}/{:.3} ms, submit->completed p50/p99 {:.3}/{:.3} ms max {:.2} | \
             W3 low slipped {slipped}, first/last high start +{first_hi:.1}/+{last_hi:.1} ms | W4 cancel->terminal {cancel_ms:.1} ms ({final_state})",
            percentile(&started, 50.0), percentile(&started, 95.0), percentile(&started, 99.0),
            percentile(&completed, 50.0), percentile(&completed, 99.0), percentile(&completed, 100.0),
        );
        t1.push(t);
        round_trips.push(r);
        round_trips_parking.push(rp);
        alone.push(a);
        live.push(l);
        live_multi.push(lm);
        enq.push(e);
        drain.push(d);
        w1_ratio.push(l / t);
        p50s.push(percentile(&started, 50.0));
        p99s.push(percentile(&started, 99.0));
        c99s.push(percentile(&completed, 99.0));
        slips.push(slipped as f64);
        cancels.push(cancel_ms);
    }
    println!("\nmedian [min-max] over {reps} reps");
    println!("T1 SQLite single-row commit (WAL, NORMAL)  {} commits/s", summary(&t1));
    println!("T1 acknowledged across threads             {} commits/s", summary(&round_trips));
    println!("  the same, awaiting thread parks at once    {} commits/s", summary(&round_trips_parking));
    println!("store SQL alone (W1's transactions, 1 thread) {} jobs/s", summary(&alone));
    println!("W1-live                                    {} jobs/s", summary(&live));
    println!("W1-live, tokio's multi-thread runtime      {} jobs/s", summary(&live_multi));
    println!("W1-live enqueue                            {} jobs/s", summary(&enq));
    println!("W1-drain                                   {} jobs/s", summary(&drain));
    println!("W1-live / T1 (same rep)                    {}", summary(&w1_ratio.iter().map(|r| r * 100.0).collect::<Vec<_>>()) + " %");
    println!("W2 submit->started p50                     {} ms", summary_ms(&p50s));
    println!("W2 submit->started p99                     {} ms", summary_ms(&p99s));
    println!("W2 submit->completed p99                   {} ms", summary_ms(&c99s));
    println!("W3 LOW started after HIGH was queued       {}", summary(&slips));
    println!("W4 cancel running -> terminal              {} ms", summary_ms(&cancels));
}
