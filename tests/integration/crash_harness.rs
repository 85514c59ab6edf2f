//! The crash harness (issue 5, "Crashes"): many three-task executions in `crew-runner worker`
//! processes that are SIGKILLed at random moments and restarted; afterwards the database must
//! show every execution terminal, every step stored once, nothing lost, no execution run by two
//! processes at once, and `PRAGMA integrity_check` = `ok`. Each variant prints a figures block.
//!
//! Variants:
//! - [`one_worker_killed_and_restarted`]: one worker at a time, killed `kills` times, restarted
//!   after each kill; a last `worker --until-idle` finishes the queue.
//! - [`two_workers_one_killed_repeatedly`]: a steady `worker --until-idle` runs throughout while a
//!   second worker on the same database is killed `kills` times and restarted; a last second
//!   worker runs to idle beside the steady one.
//!
//! Size: the short form (default, for CI) runs [`SHORT`]; `CREW_RUNNER_LONG_TESTS=1` runs
//! [`LONG`]; `CRASH_EXECUTIONS`, `CRASH_KILLS` and `CRASH_REPLY_DELAY_MS` override single numbers.
//! See the figures with `cargo test --no-default-features --test integration --
//! crash_harness:: --nocapture`.
//!
//! Random moments: a seeded SplitMix64 picks, for each kill, either (one time in five) a moment
//! within 100 ms of the worker's start (opening the database, recovering the previous worker's
//! executions, claiming), or a target number of chat requests served by the mock (stratified over
//! the run so the kills are spread from start to end) plus a small extra delay (at most three
//! reply delays). Every reply is delayed by [`Scale::reply_delay_ms`], so a kill lands
//! mid-request or between requests (while steps, logs and claims are written). The seed is
//! printed; `CRASH_SEED=N` replays the choices (scheduling jitter is not replayed). Every wait is
//! bounded by [`PROC_WAIT`]; the only sleeps place a kill, none synchronises a result.
//!
//! Answers: each (item, task) gets its own scripted, delayed answer, so a step's stored output
//! proves which execution it belongs to. A step is stored together with its `task_completed` log
//! line (one transaction), so every stored step must have exactly one such line.
//!
//! # How "no execution ran in two processes at once" is proven
//!
//! Every worker process gets its own endpoint, `http://127.0.0.1:PORT/p/<label>/v1`, so each
//! chat request the mock records names the process that sent it (its path), and the mock records
//! requests in arrival order. Each prompt names its task and the execution's item. For every
//! item, the harness checks:
//! 1. The processes that sent its requests form contiguous runs in arrival order (no `A … B …
//!    A`): no two processes' requests for one execution interleave.
//! 2. Where the sender changes from `A` to `B`, `A` is a process the harness SIGKILLed, and `B`'s
//!    first request for the item arrived after the harness started killing `A` (its index is at
//!    least the mock's request count read just before the kill). So `B` did not work on the
//!    execution while `A` was alive — the surviving worker did not take over a live owner's work.
//! 3. The database agrees: the execution's `started` log lines name the owners (`host:pid:nonce`)
//!    of attempts 1, 2, …; each attempt but the last is closed by a `recovered` line naming that
//!    attempt and its owner, with the reason "its worker process is gone", written before the
//!    next `started`; every such owner is a process the harness SIGKILLed; and the senders of the
//!    requests (mapped to pids) appear in the order of the attempts' owners.
//!
//! Overlap across a SIGKILL in the one-worker variant is impossible by construction (the dead
//! process does nothing); the two-worker variant is where checks 2 and 3 bite.

use crate::harness;
use crate::support;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use harness::{fixture, request_key, submitted_ids, write_item_rows, Crew, Spawned, PROC_WAIT};
use support::{MockLlm, RecordedRequest, Reply};

/// The crew's tasks, in order (`tests/fixtures/proc/three-tasks.yaml`).
const TASKS: [&str; 3] = ["step_one", "step_two", "step_three"];
/// Executions each worker runs at once.
const CONCURRENCY: usize = 4;

/// How big a run is.
#[derive(Clone, Copy, Debug)]
struct Scale {
    executions: usize,
    kills: usize,
    /// Every mock reply waits this long, so requests are in flight at the kills.
    reply_delay_ms: u64,
}

/// The short form (CI): the full 300 executions and 10 kills.
const SHORT: Scale = Scale { executions: 300, kills: 10, reply_delay_ms: 10 };
/// The long form (`CREW_RUNNER_LONG_TESTS=1`).
const LONG: Scale = Scale { executions: 1000, kills: 30, reply_delay_ms: 10 };

impl Scale {
    /// [`SHORT`], or [`LONG`] with `CREW_RUNNER_LONG_TESTS=1`; then `CRASH_EXECUTIONS`,
    /// `CRASH_KILLS` and `CRASH_REPLY_DELAY_MS` override single numbers (for hunting locally).
    fn from_env() -> Scale {
        let mut scale = match std::env::var("CREW_RUNNER_LONG_TESTS") {
            Ok(v) if !v.is_empty() && v != "0" => LONG,
            _ => SHORT,
        };
        let number = |name: &str| std::env::var(name).ok().map(|v| v.trim().parse::<u64>().unwrap_or_else(|e| panic!("{name}={v}: {e}")));
        if let Some(n) = number("CRASH_EXECUTIONS") {
            scale.executions = (n as usize).max(1);
        }
        if let Some(n) = number("CRASH_KILLS") {
            scale.kills = n as usize;
        }
        if let Some(n) = number("CRASH_REPLY_DELAY_MS") {
            scale.reply_delay_ms = n;
        }
        scale
    }
}

/// SplitMix64: a tiny seeded generator, so a run's random choices replay from its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// `CRASH_SEED` (decimal or `0x` hex) when set, else a fresh seed from the clock.
fn seed() -> u64 {
    match std::env::var("CRASH_SEED") {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            };
            parsed.unwrap_or_else(|e| panic!("CRASH_SEED={text} is not a number: {e}"))
        }
        Err(_) => {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

fn item(i: usize) -> String {
    format!("row{i:05}")
}

/// The text in the prompt of `task` for `item` (the fixture's task description), unique per pair.
fn prompt_key(item: &str, task: &str) -> String {
    format!("TASK-{task} for row {item}")
}

/// The final answer the mock gives for `task` of `item`: what the step's stored output must be.
fn answer(item: &str, task: &str) -> String {
    format!("answer {task} of {item}")
}

/// The label of the worker process that sent a request: its path is `/p/<label>/v1/…`.
fn sender(request: &RecordedRequest) -> Option<String> {
    let rest = request.path.strip_prefix("/p/")?;
    Some(rest.split('/').next()?.to_string())
}

/// The pid in an owner id `host:pid:nonce`.
fn owner_pid(owner: &str) -> Option<u32> {
    owner.rsplit(':').nth(1)?.parse().ok()
}

/// A worker process the harness started, and how it ended.
struct Worker {
    label: String,
    pid: u32,
    /// Set when the harness SIGKILLed it.
    killed: Option<Kill>,
}

/// When a worker is killed.
#[derive(Clone, Copy, Debug)]
enum KillMoment {
    /// This many milliseconds after it was started, whatever it is doing.
    AtStartup { after_ms: u64 },
    /// This many milliseconds after the mock has served `target` chat requests (from any process).
    AfterRequests { target: usize, extra_ms: u64 },
}

/// A SIGKILL the harness sent.
#[derive(Clone, Copy, Debug)]
struct Kill {
    /// The mock's chat-request count read just before the signal was sent.
    at_request: usize,
    moment: KillMoment,
}

/// Scripted replies: one delayed, item-specific answer per (item, task), topped up so that a
/// request redone after a kill still finds one (an unscripted request would get the mock's
/// default answer, which the output check would reject).
struct Script {
    delay_ms: u64,
    pushed: HashMap<(String, String), usize>,
}

impl Script {
    /// Keeps at least two unused replies for every (item, task): enough for the first request and
    /// one redo until the next top-up (the harness tops up after every kill).
    fn top_up(&mut self, mock: &MockLlm, items: &[String]) {
        let mut requested: HashMap<(String, String), usize> = HashMap::new();
        for r in mock.chat_requests() {
            if let Some(key) = request_key(&r.last_user_message()) {
                *requested.entry(key).or_default() += 1;
            }
        }
        for item in items {
            for task in TASKS {
                let key = (item.clone(), task.to_string());
                let used = requested.get(&key).copied().unwrap_or(0);
                let pushed = self.pushed.entry(key).or_default();
                while *pushed < used + 2 {
                    let text = format!("Thought: I now know the final answer\nFinal Answer: {}", answer(item, task));
                    mock.push_for(&prompt_key(item, task), Reply::delay(self.delay_ms, Reply::text(text)));
                    *pushed += 1;
                }
            }
        }
    }
}

/// Which processes run the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// One worker at a time, killed and restarted.
    OneWorker,
    /// A steady worker plus a second one that is killed and restarted.
    TwoWorkers,
}

/// One harness run: the data dir, the mock, the processes.
struct Run {
    scale: Scale,
    layout: Layout,
    seed: u64,
    mock: MockLlm,
    crew: Crew,
    items: Vec<String>,
    workers: Vec<Worker>,
    script: Script,
}

impl Run {
    fn new(layout: Layout) -> Run {
        let scale = Scale::from_env();
        let seed = seed();
        eprintln!("crash harness ({layout:?}): seed {seed} (replay with CRASH_SEED={seed})");
        let mock = MockLlm::start();
        // The base URL is replaced per process (see `spawn`); this one is for the CLI commands.
        let crew = Crew::new(Some(&mock.base_url()));
        let items: Vec<String> = (0..scale.executions).map(item).collect();
        let script = Script { delay_ms: scale.reply_delay_ms, pushed: HashMap::new() };
        Run { scale, layout, seed, mock, crew, items, workers: Vec::new(), script }
    }

    /// Submits one execution per item with the default `--max-attempts` (a killed worker's
    /// attempts are abandoned, not counted) and `--max-abandons` enough to survive every kill
    /// (the harness kills on purpose; the bound is for a crew that kills its worker).
    fn submit(&mut self) -> Vec<String> {
        let rows = self.crew.dir.path().join("rows.jsonl");
        write_item_rows(&rows, &self.items);
        let crew_file = fixture("proc/three-tasks.yaml");
        let max_abandons = (self.scale.kills + 2).to_string();
        let submitted = self.crew.json(&[
            "submit",
            crew_file.to_str().unwrap(),
            "--inputs-file",
            rows.to_str().unwrap(),
            "--max-abandons",
            &max_abandons,
            "--json",
        ]);
        let ids = submitted_ids(&submitted);
        assert_eq!(ids.len(), self.scale.executions);
        ids
    }

    /// Starts `crew-runner worker` (with `extra` args) whose LLM endpoint names `label`.
    fn spawn(&mut self, label: &str, extra: &[&str]) -> Spawned {
        self.script.top_up(&self.mock, &self.items);
        let concurrency = CONCURRENCY.to_string();
        let mut args = vec!["worker", "--concurrency", &concurrency];
        args.extend_from_slice(extra);
        let stdout_path = self.crew.dir.path().join(format!("{label}.stdout"));
        let stderr_path = self.crew.dir.path().join(format!("{label}.stderr"));
        let out = std::fs::File::create(&stdout_path).expect("stdout file");
        let err = std::fs::File::create(&stderr_path).expect("stderr file");
        let base = format!("http://{}/p/{label}/v1", self.mock.addr());
        let child = self.crew.cmd(&args).env("OPENAI_API_BASE", base).stdout(out).stderr(err).spawn().expect("the binary starts");
        self.workers.push(Worker { label: label.to_string(), pid: child.id(), killed: None });
        Spawned { child, stdout_path, stderr_path }
    }

    /// Waits for `moment` (bounded) and SIGKILLs `worker` (reaping it).
    fn kill_at(&mut self, worker: &mut Spawned, moment: KillMoment) {
        let label = self.label_of(worker.id());
        let extra = match moment {
            KillMoment::AtStartup { after_ms } => after_ms,
            KillMoment::AfterRequests { target, extra_ms } => {
                assert!(
                    self.mock.wait_for_chat_count(target, PROC_WAIT),
                    "seed {}: {label} did not bring the mock to {target} requests (at {})\nstderr: {}",
                    self.seed,
                    self.mock.chat_count(),
                    worker.stderr()
                );
                extra_ms
            }
        };
        // Not a synchronisation: only moves the kill to a random point.
        std::thread::sleep(Duration::from_millis(extra));
        assert!(
            worker.child.try_wait().expect("try_wait").is_none(),
            "seed {}: {label} ended before its kill: {}",
            self.seed,
            worker.stderr()
        );
        let before = self.mock.chat_count();
        worker.kill_hard();
        let pid = worker.id();
        let record = self.workers.iter_mut().find(|w| w.pid == pid).expect("a spawned worker");
        record.killed = Some(Kill { at_request: before, moment });
        assert!(!worker.stderr().contains("panicked"), "{label}: {}", worker.stderr());
    }

    fn label_of(&self, pid: u32) -> String {
        self.workers.iter().find(|w| w.pid == pid).map(|w| w.label.clone()).unwrap_or_else(|| format!("pid {pid}"))
    }

    /// The kill targets: one per kill, stratified over the `3 × executions` requests the run
    /// needs at least, so the kills are spread over the run.
    fn targets(&self, rng: &mut SplitMix64) -> Vec<usize> {
        let needed = (self.scale.executions * TASKS.len()) as u64;
        let kills = self.scale.kills as u64;
        (0..kills)
            .map(|k| {
                let (lo, hi) = (needed * k / kills, needed * (k + 1) / kills);
                (lo + rng.below((hi - lo).max(1))).min(needed - 1) as usize
            })
            .collect()
    }

    /// When to kill the worker just started: one time in five while it starts up (opening the
    /// database, recovering its predecessor's executions, claiming), within 100 ms; otherwise
    /// when the mock has served `planned` requests (but at least a few after now, so the worker
    /// gets to work, and fewer than the run needs, so the target is reached), plus at most three
    /// reply delays.
    fn next_moment(&self, planned: usize, rng: &mut SplitMix64) -> KillMoment {
        if rng.below(5) == 0 {
            return KillMoment::AtStartup { after_ms: rng.below(101) };
        }
        let needed = self.scale.executions * TASKS.len();
        let soon = self.mock.chat_count() + 1 + rng.below(2 * CONCURRENCY as u64) as usize;
        let target = planned.max(soon).min(needed - 1);
        KillMoment::AfterRequests { target, extra_ms: rng.below(3 * self.scale.reply_delay_ms + 1) }
    }

    /// Runs the layout's kill rounds and lets the last processes finish the queue.
    fn drive(&mut self) {
        let mut rng = SplitMix64(self.seed);
        let targets = self.targets(&mut rng);
        let mut steady = match self.layout {
            Layout::OneWorker => None,
            Layout::TwoWorkers => Some(self.spawn("steady", &["--until-idle"])),
        };
        for (round, planned) in targets.into_iter().enumerate() {
            let mut worker = self.spawn(&format!("w{round:02}"), &[]);
            let moment = self.next_moment(planned, &mut rng);
            self.kill_at(&mut worker, moment);
        }
        let mut last = self.spawn("last", &["--until-idle"]);
        let status = last.wait_exit(PROC_WAIT * 3);
        assert_eq!(status.code(), Some(0), "seed {}: the last worker: {}", self.seed, last.stderr());
        assert!(!last.stderr().contains("panicked"), "{}", last.stderr());
        if let Some(steady) = steady.as_mut() {
            let status = steady.wait_exit(PROC_WAIT * 3);
            assert_eq!(status.code(), Some(0), "seed {}: the steady worker: {}", self.seed, steady.stderr());
            assert!(!steady.stderr().contains("panicked"), "{}", steady.stderr());
        }
    }
}

/// What the database and the mock show after a run (the figures block).
#[derive(Debug, Default)]
struct Figures {
    executions: usize,
    processes: usize,
    kills: usize,
    kills_at_startup: usize,
    recoveries: usize,
    retries: usize,
    succeeded: usize,
    failed: usize,
    other_status: usize,
    requests: usize,
    redone: usize,
    aborted_by_kill: usize,
    steps_stored: usize,
    steps_twice: usize,
    steps_reused: usize,
    completion_lines_missing: usize,
    lost: usize,
    two_processes: usize,
    integrity: String,
    elapsed: Duration,
}

/// One execution's row and journal, read from the database.
struct Stored {
    id: String,
    item: String,
    status: String,
    attempt: u32,
    /// Attempts abandoned by a killed worker (refunded: not in `attempt`).
    abandons: u32,
    /// `(step, output)` in completion order.
    steps: Vec<(String, String)>,
    /// The log, in order.
    logs: Vec<LogLine>,
}

/// One line of an execution's log.
struct LogLine {
    seq: i64,
    attempt: u32,
    kind: String,
    task: Option<String>,
    message: String,
    data: serde_json::Value,
}

/// Reads every execution with its steps and log from the database (read-only).
fn read_database(crew: &Crew) -> (Vec<Stored>, String, usize) {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(crew.database(), flags).expect("open the database read-only");
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    let twice: i64 = conn
        .query_row("SELECT count(*) FROM (SELECT 1 FROM step_outputs GROUP BY execution_id, step HAVING count(*) > 1)", [], |r| r.get(0))
        .unwrap();
    let mut executions: Vec<Stored> = conn
        .prepare("SELECT id, json_extract(inputs, '$.item'), status, attempt, abandons FROM executions ORDER BY queue_seq")
        .unwrap()
        .query_map([], |r| {
            Ok(Stored {
                id: r.get(0)?,
                item: r.get(1)?,
                status: r.get(2)?,
                attempt: r.get(3)?,
                abandons: r.get(4)?,
                steps: Vec::new(),
                logs: Vec::new(),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut index: HashMap<String, usize> = executions.iter().enumerate().map(|(i, e)| (e.id.clone(), i)).collect();
    let mut steps = conn.prepare("SELECT execution_id, step, output FROM step_outputs ORDER BY rowid").unwrap();
    let rows = steps.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))).unwrap();
    for row in rows {
        let (id, step, output) = row.unwrap();
        let at = *index.get(&id).unwrap_or_else(|| panic!("a step of an unknown execution {id}"));
        executions[at].steps.push((step, output));
    }
    let mut logs = conn
        .prepare("SELECT execution_id, seq, kind, task, message, data, attempt FROM execution_logs ORDER BY execution_id, seq")
        .unwrap();
    let rows = logs
        .query_map([], |r| {
            let data: String = r.get(5)?;
            let line = LogLine {
                seq: r.get(1)?,
                attempt: r.get(6)?,
                kind: r.get(2)?,
                task: r.get(3)?,
                message: r.get(4)?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            };
            Ok((r.get::<_, String>(0)?, line))
        })
        .unwrap();
    for row in rows {
        let (id, line) = row.unwrap();
        let at = *index.get(&id).unwrap_or_else(|| panic!("a log line of an unknown execution {id}"));
        executions[at].logs.push(line);
    }
    index.clear();
    (executions, integrity, twice as usize)
}

/// Checks everything the issue asks for and returns the figures with every violation found
/// (described with the execution, its item and the seed).
fn check(run: &Run, started: Instant) -> (Figures, Vec<String>) {
    let seed = run.seed;
    let mut problems: Vec<String> = Vec::new();
    macro_rules! ensure {
        ($cond:expr, $($why:tt)*) => {
            if !$cond {
                problems.push(format!($($why)*));
            }
        };
    }
    let (executions, integrity, steps_twice) = read_database(&run.crew);
    let requests = run.mock.chat_requests();
    let pid_of: HashMap<&str, u32> = run.workers.iter().map(|w| (w.label.as_str(), w.pid)).collect();
    let killed: HashMap<u32, usize> = run.workers.iter().filter_map(|w| Some((w.pid, w.killed?.at_request))).collect();

    let mut figures = Figures {
        executions: executions.len(),
        processes: run.workers.len(),
        kills: killed.len(),
        kills_at_startup: run
            .workers
            .iter()
            .filter(|w| matches!(w.killed, Some(Kill { moment: KillMoment::AtStartup { .. }, .. })))
            .count(),
        requests: requests.len(),
        redone: requests.len().saturating_sub(executions.len() * TASKS.len()),
        aborted_by_kill: run.mock.aborts(),
        steps_twice,
        integrity,
        elapsed: started.elapsed(),
        ..Figures::default()
    };
    ensure!(figures.integrity == "ok", "PRAGMA integrity_check: {}", figures.integrity);
    ensure!(steps_twice == 0, "{steps_twice} steps are stored twice");
    ensure!(
        executions.len() == run.scale.executions,
        "{} executions in the database, {} submitted",
        executions.len(),
        run.scale.executions
    );
    let distinct_items = executions.iter().map(|e| e.item.as_str()).collect::<BTreeSet<_>>().len();
    ensure!(distinct_items == run.scale.executions, "{distinct_items} distinct items");

    // The requests per item, in arrival order, with their senders.
    let mut per_item: HashMap<String, Vec<(usize, String, String)>> = HashMap::new();
    for (index, r) in requests.iter().enumerate() {
        let (Some((item, task)), Some(from)) = (request_key(&r.last_user_message()), sender(r)) else {
            problems.push(format!("request #{index} names no task/item or comes from no known path: {} {}", r.path, r.last_user_message()));
            continue;
        };
        ensure!(pid_of.contains_key(from.as_str()), "request #{index} from an unknown process {from}");
        per_item.entry(item).or_default().push((index, from, task));
    }

    for e in &executions {
        let at = format!("{} ({})", e.id, e.item);
        let kinds: Vec<&str> = e.logs.iter().map(|l| l.kind.as_str()).collect();
        let mut intact = true;
        // The log's sequence numbers are 1..n without gaps.
        let gap_free = e.logs.iter().enumerate().all(|(i, l)| l.seq == i as i64 + 1);
        ensure!(gap_free, "{at}: log sequence numbers have gaps");
        // Terminal, and (with attempts enough for every kill) succeeded.
        match e.status.as_str() {
            "succeeded" => figures.succeeded += 1,
            "failed" => figures.failed += 1,
            _ => figures.other_status += 1,
        }
        ensure!(matches!(e.status.as_str(), "succeeded" | "failed" | "cancelled"), "{at}: not terminal: {} {kinds:?}", e.status);
        ensure!(e.status == "succeeded", "{at}: {} {kinds:?}", e.status);
        intact &= e.status == "succeeded";

        // All three steps, once each, each the mock's answer for this item.
        figures.steps_stored += e.steps.len();
        let stored: Vec<&str> = e.steps.iter().map(|s| s.0.as_str()).collect();
        ensure!(stored == TASKS, "{at}: steps stored {stored:?}");
        intact &= stored == TASKS;
        for (step, output) in &e.steps {
            let expected = answer(&e.item, step);
            ensure!(output.trim() == expected, "{at}: output of {step} is {output:?}, not {expected:?}");
            intact &= output.trim() == expected;
        }
        if !intact {
            figures.lost += 1;
        }
        figures.steps_reused += kinds.iter().filter(|k| **k == "task_skipped").count();
        // A stored step and its `task_completed` line commit in one transaction: every stored step
        // has exactly one, and no line exists without its step.
        let completed: BTreeSet<&str> = e.logs.iter().filter(|l| l.kind == "task_completed").filter_map(|l| l.task.as_deref()).collect();
        let stored: BTreeSet<&str> = e.steps.iter().map(|s| s.0.as_str()).collect();
        figures.completion_lines_missing += stored.difference(&completed).count();
        ensure!(completed.is_subset(&stored), "{at}: task_completed lines {completed:?} without stored steps {stored:?}");
        for task in TASKS {
            let n = e.logs.iter().filter(|l| l.kind == "task_completed" && l.task.as_deref() == Some(task)).count();
            let want = usize::from(stored.contains(task));
            ensure!(n == want, "{at}: task {task} completed {n} times (stored: {}): {kinds:?}", want == 1);
        }

        // The attempts, from the journal: `started` names the owner; every attempt but the last
        // is closed by `recovered` naming it and its owner (a killed process) before the next.
        let mut owners: Vec<u32> = Vec::new();
        let mut open: Option<(u32, String)> = None;
        for LogLine { kind, message, data, attempt: line_attempt, .. } in &e.logs {
            match kind.as_str() {
                "started" => {
                    ensure!(open.is_none(), "{at}: attempt {} started while attempt {open:?} was open: {kinds:?}", owners.len() + 1);
                    let owner = data["owner"].as_str().unwrap_or_default();
                    let pid = owner_pid(owner).unwrap_or(0);
                    ensure!(pid_of.values().any(|p| *p == pid), "{at}: started by an unknown process {owner:?}");
                    owners.push(pid);
                    // Abandoned attempts are refunded: the attempt number is the `started` line's.
                    open = Some((*line_attempt, owner.to_string()));
                }
                "recovered" => {
                    figures.recoveries += 1;
                    let Some((attempt, owner)) = open.take() else {
                        problems.push(format!("{at}: `recovered` with no open attempt: {kinds:?}"));
                        continue;
                    };
                    ensure!(data["attempt"].as_u64() == Some(u64::from(attempt)), "{at}: attempt {attempt} closed by {message}");
                    ensure!(data["owner"].as_str() == Some(owner.as_str()), "{at}: attempt of {owner} closed by {message}");
                    ensure!(message.contains("its worker process is gone"), "{at}: recovered for another reason: {message}");
                    let pid = owner_pid(&owner).unwrap_or(0);
                    ensure!(killed.contains_key(&pid), "{at}: recovered from {} which was not killed: {message}", run.label_of(pid));
                }
                "succeeded" | "failed" | "cancelled" => {
                    ensure!(open.take().is_some(), "{at}: `{kind}` with no open attempt: {kinds:?}");
                }
                _ => {}
            }
        }
        ensure!(open.is_none(), "{at}: an attempt never ended: {kinds:?}");
        // Each claim started an attempt: those that ended plus those abandoned.
        ensure!(
            owners.len() as u32 == e.attempt + e.abandons,
            "{at}: {} `started` lines for {} attempts and {} abandoned",
            owners.len(),
            e.attempt,
            e.abandons
        );
        ensure!(e.attempt == 1, "{at}: {} attempts counted; a killed worker's attempts must not count", e.attempt);
        figures.retries += owners.len().saturating_sub(1);

        // The mock's view: contiguous runs per sender, each change only after the previous
        // sender was killed, in the order of the attempts' owners.
        let sent = per_item.get(&e.item).map(Vec::as_slice).unwrap_or_default();
        let mut asked: BTreeSet<&str> = BTreeSet::new();
        let mut runs: Vec<(&str, usize, usize)> = Vec::new(); // (sender, first index, last index)
        for (index, from, task) in sent {
            asked.insert(task.as_str());
            match runs.last_mut() {
                Some((last, _, end)) if *last == from.as_str() => *end = *index,
                _ => runs.push((from.as_str(), *index, *index)),
            }
        }
        ensure!(asked.len() == TASKS.len(), "{at}: tasks asked of the mock: {asked:?}");
        let run_senders: Vec<&str> = runs.iter().map(|r| r.0).collect();
        let distinct: BTreeSet<&str> = run_senders.iter().copied().collect();
        let mut overlapped = distinct.len() != runs.len();
        ensure!(!overlapped, "{at}: requests of two processes interleave: {runs:?}");
        for pair in runs.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let a_pid = pid_of.get(a.0).copied().unwrap_or(0);
            match killed.get(&a_pid) {
                None => {
                    overlapped = true;
                    problems.push(format!("{at}: {} took over from {} which was never killed: {runs:?}", b.0, a.0));
                }
                Some(killed_at) if b.1 < *killed_at => {
                    overlapped = true;
                    problems.push(format!("{at}: {} sent request #{} before {} was killed (at #{killed_at}): {runs:?}", b.0, b.1, a.0));
                }
                Some(_) => {}
            }
        }
        if overlapped {
            figures.two_processes += 1;
        }
        // Senders appear in the order of the attempts' owners (a subsequence: an attempt may
        // have been killed before it sent anything).
        let mut attempt_owners = owners.iter();
        for from in &run_senders {
            let pid = pid_of.get(from).copied().unwrap_or(0);
            ensure!(
                attempt_owners.any(|o| *o == pid),
                "{at}: requests from {from} do not follow the attempts' owners {owners:?}: {runs:?}"
            );
        }
    }
    for p in problems.iter_mut() {
        *p = format!("seed {seed}: {p}");
    }
    (figures, problems)
}

impl Figures {
    /// The figures block (for docs/RELIABILITY.md).
    fn render(&self, run: &Run) -> String {
        let layout = match run.layout {
            Layout::OneWorker => "one worker, SIGKILLed and restarted",
            Layout::TwoWorkers => "two workers on one database, one SIGKILLed repeatedly",
        };
        let scale = run.scale;
        let needed = self.executions * TASKS.len();
        let mut s = String::new();
        let _ = writeln!(s, "crash harness: {layout}");
        let _ = writeln!(s, "  seed                     {} (replay: CRASH_SEED={})", run.seed, run.seed);
        let _ = writeln!(
            s,
            "  executions               {} (3 tasks each, concurrency {CONCURRENCY} per worker, reply delay {} ms)",
            self.executions, scale.reply_delay_ms
        );
        let _ = writeln!(s, "  worker processes         {}", self.processes);
        let _ = writeln!(s, "  kills (SIGKILL)          {} ({} while starting up)", self.kills, self.kills_at_startup);
        let _ = writeln!(s, "  recoveries in the logs   {}", self.recoveries);
        let _ = writeln!(s, "  retries (attempts > 1)   {}", self.retries);
        let _ = writeln!(s, "  succeeded / failed       {} / {}", self.succeeded, self.failed);
        let _ = writeln!(s, "  not terminal             {}", self.other_status);
        let _ = writeln!(
            s,
            "  LLM requests             {} ({needed} needed, {} redone, {} cut off by a kill)",
            self.requests, self.redone, self.aborted_by_kill
        );
        let _ = writeln!(
            s,
            "  steps stored             {} ({} stored twice, {} reused after a recovery)",
            self.steps_stored, self.steps_twice, self.steps_reused
        );
        let _ =
            writeln!(s, "  task_completed missing   {} (must be 0: a step and its line commit together)", self.completion_lines_missing);
        let _ = writeln!(s, "  lost                     {}", self.lost);
        let _ = writeln!(s, "  ran in two processes     {}", self.two_processes);
        let _ = writeln!(s, "  PRAGMA integrity_check   {}", self.integrity);
        let _ = writeln!(s, "  wall time                {:.1} s", self.elapsed.as_secs_f64());
        s
    }
}

fn crash_harness(layout: Layout) {
    let started = Instant::now();
    let mut run = Run::new(layout);
    run.submit();
    run.drive();
    let (figures, problems) = check(&run, started);
    for w in &run.workers {
        match w.killed {
            Some(kill) => eprintln!("  {} (pid {}): killed at request #{}, {:?}", w.label, w.pid, kill.at_request, kill.moment),
            None => eprintln!("  {} (pid {}): ran to idle", w.label, w.pid),
        }
    }
    println!("{}", figures.render(&run));
    let shown: Vec<&String> = problems.iter().take(20).collect();
    assert!(problems.is_empty(), "{} problem(s), the first ones:\n{shown:#?}", problems.len());
}

#[test]
fn one_worker_killed_and_restarted() {
    crash_harness(Layout::OneWorker);
}

#[test]
fn two_workers_one_killed_repeatedly() {
    crash_harness(Layout::TwoWorkers);
}
