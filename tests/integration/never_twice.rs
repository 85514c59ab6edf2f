//! Issue 14, "never twice": an execution never runs in two places at once, crashes and clock
//! steps do not lose or duplicate work, and readers see what is true. Each case runs the real
//! binary (`worker`, `submit`, `status`, `list`, `logs`) on a real SQLite file against the mock
//! LLM on 127.0.0.1.
//!
//! - PID namespaces: a worker started under `unshare --pid --fork --mount-proc` (root only;
//!   skipped with a printed reason otherwise) leaves a live worker's executions alone.
//! - Fencing: a worker stopped (SIGSTOP) past its lease, running without an owner lock
//!   (`CREW_RUNNER_OWNER_LOCKS=off`, as on a file system without locks), loses the execution to
//!   another worker and, once resumed, writes nothing into it and makes no further LLM call.
//! - Clock steps (libfaketime, installed by `.ci/run`; skipped with a reason elsewhere, failed
//!   under CI): a +60 s step of both workers' wall clocks (one of them stopped across it) takes
//!   nothing from a live worker; a −1 h step does not stall a retry for an hour.
//! - Crashes: three SIGKILLs of the worker running an execution do not use up its three
//!   attempts; `--max-abandons` stops a poison pill.
//! - Readers: after its worker is SIGKILLed and no worker runs, `status` and `list` show the
//!   execution as orphaned and `logs --follow` ends with a clear line.
//!
//! Every wait is bounded ([`PROC_WAIT`]); the only polls read observable state (a status, a log
//! line on stderr), none sleeps to synchronise.

use crate::harness;
use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{fixture, signal, submitted_ids, write_item_rows, Crew, Spawned, PROC_WAIT};
use support::{MockLlm, Reply};

fn one_task() -> String {
    fixture("proc/one-task.yaml").display().to_string()
}

/// Submits one execution of the one-task crew per item (with `extra` options) and returns ids.
fn submit(crew: &Crew, items: &[&str], extra: &[&str]) -> Vec<String> {
    let rows = crew.dir.path().join(format!("rows-{}.jsonl", items.join("-")));
    write_item_rows(&rows, &items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let crew_file = one_task();
    let mut args = vec!["submit", crew_file.as_str(), "--inputs-file", rows.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    submitted_ids(&crew.json(&args))
}

fn kinds(crew: &Crew, id: &str) -> Vec<String> {
    crew.logs_json(id).iter().map(|l| l["kind"].as_str().unwrap_or_default().to_string()).collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

/// Polls `status` until `accept` holds (bounded by [`PROC_WAIT`]).
fn wait_until(crew: &Crew, id: &str, what: &str, accept: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = std::time::Instant::now() + PROC_WAIT;
    loop {
        let e = crew.status_json(id);
        if accept(&e) {
            return e;
        }
        assert!(std::time::Instant::now() < deadline, "{id}: never {what} within {PROC_WAIT:?}: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn owner_pid(e: &serde_json::Value) -> Option<u32> {
    e["owner"].as_str()?.rsplit(':').nth(1)?.parse().ok()
}

#[test]
fn a_worker_in_another_pid_namespace_leaves_a_live_worker_s_executions_alone() {
    let root = effective_uid() == 0;
    let unshare = std::process::Command::new("unshare").args(["--pid", "--fork", "--mount-proc", "true"]).status();
    if !root || !unshare.as_ref().is_ok_and(|s| s.success()) {
        eprintln!("skipped: needs root and `unshare --pid --fork --mount-proc` (root: {root}, unshare: {unshare:?})");
        return;
    }
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: one.")));
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: two.")));
    let crew = Crew::new(Some(&mock.base_url()));
    let ids = submit(&crew, &["a", "b"], &[]);

    let a = crew.spawn_logged("worker-a", &["worker", "--concurrency", "2"]);
    assert!(mock.wait_for_held(2, PROC_WAIT), "worker A never asked the model: {}", a.stderr());
    // Worker B in its own PID namespace: A's pid means nothing (or another process) there.
    // `--kill-child`: the worker (PID 1 of the namespace) dies with `unshare` when `b` is dropped.
    let mut b = crew.spawn_command(
        "worker-b",
        crew.cmd_via(&["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"], &["-v", "worker", "--concurrency", "2"]),
    );
    // Its start-up recovery (and the first claim) has run once it says it started.
    b.wait_stderr(&["worker started"], PROC_WAIT);
    for id in &ids {
        let e = crew.status_json(id);
        assert_eq!(e["status"], "running", "{e}");
        assert_eq!(owner_pid(&e), Some(a.id()), "{id} was taken from its live worker: {e}");
        assert_eq!(count(&kinds(&crew, id), "recovered"), 0, "{id}: {:?}", kinds(&crew, id));
    }
    mock.release();
    for id in &ids {
        wait_until(&crew, id, "succeeded", |e| e["status"] == "succeeded");
        let k = kinds(&crew, id);
        assert_eq!((count(&k, "started"), count(&k, "recovered")), (1, 0), "{id}: {k:?}");
    }
    assert_eq!(mock.chat_count(), 2, "each execution ran once");
    drop(b);
}

fn effective_uid() -> u32 {
    // The tests' own check of who runs them (root may unshare namespaces).
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

#[test]
fn a_stopped_worker_that_lost_its_lease_writes_nothing_after_the_takeover() {
    let mock = MockLlm::start();
    // Worker A's first request is held while A is stopped; worker B's answers come after a
    // delay, so B's attempt is in flight when A resumes and gets its (stale) answer.
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: STALE answer of the stopped worker.")));
    mock.push(Reply::delay(3_000, Reply::text("Thought: done\nFinal Answer: FRESH answer of the new worker.")));
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew.write(
        "two-tasks.yaml",
        concat!(
            "name: fenced\nllm: openai/mock-model\nagents:\n  w:\n    role: W\n    goal: G\n    backstory: B\n",
            "tasks:\n  first:\n    description: First step\n    expected_output: A note\n    agent: w\n",
            "  second:\n    description: Second step\n    expected_output: A note\n    agent: w\n",
        ),
    );
    let id = submitted_ids(&crew.json(&["submit", file.to_str().unwrap(), "--json"])).remove(0);

    let mut a_cmd = crew.cmd(&["worker", "--concurrency", "1"]);
    // No owner lock (as on a file system without locks), and patient with a locked database.
    a_cmd.env("CREW_RUNNER_OWNER_LOCKS", "off").env("CREW_RUNNER_BUSY_TIMEOUT_MS", "60000");
    let mut a = crew.spawn_command("worker-a", a_cmd);
    assert!(mock.wait_for_held(1, PROC_WAIT), "worker A never asked the model: {}", a.stderr());
    signal(&a.child, "STOP");
    let b = crew.spawn_logged("worker-b", &["worker", "--concurrency", "1"]);
    // A's lease (10 s) expires; A holds no lock, so B takes the execution over.
    let taken = wait_until(&crew, &id, "taken over by worker B", |e| owner_pid(e) == Some(b.id()));
    assert_eq!(taken["status"], "running");
    assert!(mock.wait_for_chat_count(2, PROC_WAIT), "worker B never asked the model");
    // On resuming, A's heartbeat would notice the takeover at once and drop its attempt before
    // its answer is handled. Holding the database's write lock for a moment keeps that renewal
    // waiting while A handles its answer and sends the step's write after it: the write then
    // reaches the store after the takeover, as when a stopped worker resumes mid-request. (The
    // pause only gives A the chance to write; what is checked holds whatever A does.)
    let blocker = rusqlite::Connection::open(crew.database()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    signal(&a.child, "CONT");
    mock.release();
    std::thread::sleep(Duration::from_millis(1_000));
    blocker.execute_batch("COMMIT").unwrap();
    drop(blocker);
    // A learns it lost the execution: its write is refused (or its heartbeat sees the lease gone).
    a.wait_stderr(&["no longer holds its lease", "was taken over by another worker"], PROC_WAIT);
    let done = wait_until(&crew, &id, "succeeded", |e| e["status"] == "succeeded");
    assert_eq!(owner_pid(&taken), Some(b.id()));

    let lines = crew.logs_json(&id);
    let first_done: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "task_completed" && l["task"] == "first").collect();
    assert_eq!(first_done.len(), 1, "{lines:#?}");
    let text = serde_json::to_string(&lines).unwrap();
    assert!(!text.contains("STALE"), "a write of the stopped worker landed: {lines:#?}");
    assert!(done["output"].as_str().is_some_and(|o| !o.contains("STALE")), "{done}");
    // The stopped worker made no further LLM call: one request of A, two of B.
    assert_eq!(mock.chat_count(), 3, "{:#?}", mock.chat_requests().iter().map(|r| r.last_user_message()).collect::<Vec<_>>());
    drop(b);
}

/// libfaketime's preload library, if installed (Debian package `faketime`).
fn libfaketime() -> Option<PathBuf> {
    let found = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "libfaketime is missing: .ci/run installs the `faketime` package");
        eprintln!("skipped: libfaketime is not installed (apt-get install faketime)");
    }
    found
}

/// A worker command whose wall clock is offset by the contents of `clock` (libfaketime; the
/// monotonic clocks are left alone).
fn faked_worker(crew: &Crew, lib: &Path, clock: &Path, args: &[&str]) -> std::process::Command {
    let mut c = crew.cmd(args);
    c.env("LD_PRELOAD", lib).env("FAKETIME_TIMESTAMP_FILE", clock).env("FAKETIME_NO_CACHE", "1").env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    c
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn a_forward_clock_step_takes_no_execution_from_its_live_worker() {
    let Some(lib) = libfaketime() else { return };
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: one.")));
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: two.")));
    let crew = Crew::new(Some(&mock.base_url()));
    let clock = crew.write("clock", "+0\n");
    let ids = submit(&crew, &["a", "b"], &["--max-attempts", "1"]);

    let args = ["-v", "worker", "--concurrency", "1"];
    let a = crew.spawn_command("worker-a", faked_worker(&crew, &lib, &clock, &args));
    let b = crew.spawn_command("worker-b", faked_worker(&crew, &lib, &clock, &args));
    assert!(mock.wait_for_held(2, PROC_WAIT), "the workers never asked the model:\n{}\n{}", a.stderr(), b.stderr());
    let owners: Vec<Option<u32>> = ids.iter().map(|id| owner_pid(&crew.status_json(id))).collect();

    // Worker A is stopped across the step (a laptop lid closed while the clock is corrected):
    // its lease, renewed before the step, looks a minute old to B afterwards.
    signal(&a.child, "STOP");
    std::fs::write(&clock, "+60\n").unwrap();
    // B renews its own lease twice in the stepped clock: it has since run a whole heartbeat
    // (renewal, then recovery of others' work) after the step.
    let b_own = ids.iter().find(|id| owner_pid(&crew.status_json(id)) == Some(b.id())).expect("B runs one").clone();
    let first = wait_until(&crew, &b_own, "renewed after the step", |e| e["lease_expires_at"].as_i64().unwrap_or(0) > now_ms() + 40_000);
    let seen = first["lease_expires_at"].as_i64().unwrap();
    wait_until(&crew, &b_own, "renewed again", |e| e["lease_expires_at"].as_i64().unwrap_or(0) > seen);
    for (id, owner) in ids.iter().zip(&owners) {
        let e = crew.status_json(id);
        assert_eq!((e["status"].as_str(), owner_pid(&e)), (Some("running"), *owner), "{id} changed hands: {e}");
    }
    signal(&a.child, "CONT");
    let stepped = [a.stderr(), b.stderr()].concat();
    // The step as measured (wall − boot clock, in ms, read a few µs apart: 59,999 or 60,000).
    let step: Option<i64> = stepped.split("wall clock stepped by ").nth(1).and_then(|rest| rest.split(' ').next()?.parse().ok());
    assert!(step.is_some_and(|ms| (ms - 60_000).abs() < 1_000), "no worker saw the +60 s step ({step:?}):\n{stepped}");
    mock.release();
    for id in &ids {
        wait_until(&crew, id, "succeeded", |e| e["status"] == "succeeded");
        let k = kinds(&crew, id);
        assert_eq!((count(&k, "started"), count(&k, "recovered")), (1, 0), "{id}: {k:?}");
    }
    assert_eq!(mock.chat_count(), 2);
}

#[test]
fn a_backward_clock_step_does_not_stall_a_retry() {
    let Some(lib) = libfaketime() else { return };
    let mock = MockLlm::start();
    // Rate limited with Retry-After 5 s: the retry is due 5 s later (in the worker's clock).
    mock.push(Reply::rate_limited("5"));
    let crew = Crew::new(Some(&mock.base_url()));
    let clock = crew.write("clock", "+0\n");
    let id = submit(&crew, &["a"], &[]).remove(0);
    let mut w = crew.spawn_command("worker", faked_worker(&crew, &lib, &clock, &["-v", "worker"]));
    wait_until(&crew, &id, "retrying", |e| e["status"] == "retrying");
    std::fs::write(&clock, "-3600\n").unwrap();
    // Before: due in 1 h 5 s of the stepped clock. Now: moved with the step, due in seconds.
    let done = wait_until(&crew, &id, "succeeded", |e| e["status"] == "succeeded");
    assert_eq!(done["attempt"], 2, "{done}");
    w.wait_stderr(&["the wall clock stepped by -3"], PROC_WAIT);
}

#[test]
fn crashes_do_not_use_up_attempts_and_a_poison_pill_stops_after_max_abandons() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let held = || Reply::held(Reply::text("Thought: done\nFinal Answer: never sent."));
    // Kills the worker running the (only) queued execution `kills` times, each while its
    // request is held by the mock; `aborts` counts the mock's dropped requests so far.
    let kill_each_time = |label: &str, kills: usize, aborts: usize| {
        for round in 1..=kills {
            let mut w = crew.spawn_logged(&format!("{label}-{round}"), &["worker", "--concurrency", "1"]);
            assert!(mock.wait_for_held(1, PROC_WAIT), "{label} {round}: nothing ran: {}", w.stderr());
            w.kill_hard();
            assert!(mock.wait_for_aborts(aborts + round, PROC_WAIT), "{label} {round}: the held request was not dropped");
        }
    };
    let run_to_idle = |label: &str| {
        let mut last = crew.spawn_logged(label, &["worker", "--until-idle"]);
        assert_eq!(last.wait_exit(PROC_WAIT).code(), Some(0), "{}", last.stderr());
    };

    // A crew that kills its worker every time stops at --max-abandons, with a clear error.
    let poison = submit(&crew, &["poison"], &["--max-abandons", "2"]).remove(0);
    mock.push(held());
    mock.push(held());
    kill_each_time("poison", 2, 0);
    run_to_idle("poison-last");
    let e = crew.status_json(&poison);
    assert_eq!(
        (e["status"].as_str(), e["error"]["kind"].as_str(), e["abandons"].as_u64()),
        (Some("failed"), Some("abandoned"), Some(2)),
        "{e}"
    );
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("abandoned 2 times (--max-abandons 2)"), "{message}");

    // Default --max-attempts (3): three crashes used to fail a healthy execution for good.
    let healthy = submit(&crew, &["healthy"], &[]).remove(0);
    for _ in 0..3 {
        mock.push(held());
    }
    kill_each_time("healthy", 3, 2);
    // Any later request gets the mock's default answer.
    mock.release();
    run_to_idle("healthy-last");
    let e = crew.status_json(&healthy);
    assert_eq!((e["status"].as_str(), e["attempt"].as_u64(), e["abandons"].as_u64()), (Some("succeeded"), Some(1), Some(3)), "{e}");
    assert_eq!(count(&kinds(&crew, &healthy), "recovered"), 3);
    let text = crew.ok(&["status", &healthy]);
    assert!(text.contains("abandoned:  3/5"), "{text}");
}

#[test]
fn readers_see_an_orphaned_execution_and_logs_follow_ends() {
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: never sent.")));
    let crew = Crew::new(Some(&mock.base_url()));
    let id = submit(&crew, &["orphan"], &[]).remove(0);
    let mut w: Spawned = crew.spawn_logged("worker", &["worker", "--concurrency", "1"]);
    assert!(mock.wait_for_held(1, PROC_WAIT), "{}", w.stderr());
    let follow = crew.spawn_logged("follow", &["logs", &id, "--follow"]);
    w.kill_hard();

    // Read-only: nothing writes to the database (no worker runs), yet the readers know.
    let e = crew.status_json(&id);
    assert_eq!((e["status"].as_str(), e["owner_gone"].as_bool()), (Some("running"), Some(true)), "{e}");
    let text = crew.ok(&["status", &id]);
    assert!(text.contains("its worker process") && text.contains("is gone"), "{text}");
    let list = crew.ok(&["list"]);
    assert!(list.contains("orphaned"), "{list}");
    let mut follow = follow;
    let code = follow.wait_exit(PROC_WAIT).code();
    assert_eq!(code, Some(1), "{}", follow.stderr());
    assert!(follow.stderr().contains("is gone and no worker is running"), "{}", follow.stderr());

    // A worker recovers it; it is no longer shown as orphaned.
    mock.release();
    let mut last = crew.spawn_logged("worker-last", &["worker", "--until-idle"]);
    assert_eq!(last.wait_exit(PROC_WAIT).code(), Some(0), "{}", last.stderr());
    let e = crew.status_json(&id);
    assert_eq!(e["status"], "succeeded");
    assert!(e.get("owner_gone").is_none(), "{e}");
}
