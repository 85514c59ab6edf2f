//! Storage faults seen through the real binary: a read-only data dir, a full disk (before a
//! command, and while a worker runs), a corrupted database page, a database locked by another
//! writer with work already committed.
//!
//! Each case: a clear one-line error naming the database, a non-zero exit, no panic, and after
//! the fault is removed everything committed before it is still there (`status`/`list`) and
//! `PRAGMA integrity_check` says `ok`.
//!
//! Real faults need mounts (a tmpfs of a few MB for a full disk, a read-only bind mount). The
//! tests try them and, where mounting is not permitted, print why and fall back: a full disk
//! is then simulated with a file-size limit (`RLIMIT_FSIZE`, set in the child before `exec`, or
//! with `prlimit` on a running worker), which makes SQLite's writes fail with `EFBIG` just as a
//! full disk makes them fail with `ENOSPC`. The limit cases also run where mounting works, so
//! both paths stay tested. Mounts are removed by a drop guard.

use crate::harness;
use crate::support;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use harness::{arg, fixture, Crew, Outcome, PROC_WAIT};
use serde_json::Value;
use support::{MockLlm, Reply};

fn one_task() -> String {
    arg(&fixture("proc/one-task.yaml"))
}

const DONE: &str = "Thought: done\nFinal Answer: noted.";

// ---- Mounts ----

/// A mount made by a test; unmounted (lazily if busy) when dropped.
struct Mounted {
    target: PathBuf,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.target).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.target).status();
        }
    }
}

/// Runs `mount ARGS`; `Err(why)` when this machine does not allow it.
fn mount(args: &[&str], target: &Path) -> Result<(), String> {
    let out = Command::new("mount").args(args).arg(target).output().map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("mount {args:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// A tmpfs of `size` (e.g. "2m") on `target` (created).
fn tmpfs(target: &Path, size: &str) -> Result<Mounted, String> {
    std::fs::create_dir_all(target).unwrap();
    mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"], target)?;
    Ok(Mounted { target: target.to_path_buf() })
}

/// `source` seen read-only at `target` (created): a bind mount, then a read-only remount.
fn read_only_view(source: &Path, target: &Path) -> Result<Mounted, String> {
    std::fs::create_dir_all(target).unwrap();
    mount(&["--bind", &arg(source)], target)?;
    let mounted = Mounted { target: target.to_path_buf() };
    mount(&["-o", "remount,ro,bind"], target)?;
    // Root ignores permissions, but not a read-only mount: prove it holds.
    match std::fs::write(target.join("probe"), "x") {
        Err(_) => Ok(mounted),
        Ok(()) => Err("the read-only remount still accepts writes".into()),
    }
}

/// Fills the file system holding `dir` with one file until it says it is full; returns it.
fn fill_up(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "filling {}: {e}", dir.display());
                break;
            }
        }
    }
    // Smaller pieces too, so not even one page is left.
    loop {
        match file.write(&[0u8; 512]) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = file.sync_all();
    path
}

// ---- Running the binary ----

/// A Crew whose data dir is `path`.
fn with_data_dir(crew: &mut Crew, path: &Path) {
    for (k, v) in &mut crew.env {
        if k == "CREW_RUNNER_DATA_DIR" {
            *v = path.display().to_string();
        }
    }
}

/// A started `crew-runner` whose stdout/stderr are piped (no file-size limit can hit them) and
/// collected by a thread. Killed if dropped before it ended.
struct Started {
    pid: u32,
    done: mpsc::Receiver<std::io::Result<std::process::Output>>,
    ended: bool,
}

impl Started {
    fn spawn(mut command: Command) -> Started {
        let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
        let pid = child.id();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        Started { pid, done, ended: false }
    }

    /// Waits for the exit, at most [`PROC_WAIT`]; a hang kills it and fails the test.
    fn wait(mut self) -> Outcome {
        match self.done.recv_timeout(PROC_WAIT) {
            Ok(out) => {
                self.ended = true;
                let out = out.expect("wait for the binary");
                Outcome {
                    code: out.status.code(),
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                }
            }
            Err(_) => panic!("crew-runner (pid {}) did not exit within {PROC_WAIT:?}", self.pid),
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if !self.ended {
            // Still ours: the collecting thread has not reaped it.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// Runs `command` to its end, at most [`PROC_WAIT`] (a hang kills it and fails the test).
fn bounded(command: Command) -> Outcome {
    Started::spawn(command).wait()
}

/// A command whose process may write files of at most `bytes` bytes (writes beyond fail with
/// `EFBIG`; `SIGXFSZ` is ignored so the process sees the error instead of dying).
fn with_file_size_limit(mut command: Command, bytes: u64) -> Command {
    unsafe {
        command.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: libc::RLIM_INFINITY };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

/// Only ignores `SIGXFSZ` (so a limit set later with `prlimit` gives `EFBIG`, not a kill).
fn ignoring_sigxfsz(mut command: Command) -> Command {
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    command
}

/// Asserts a failed command: non-zero exit (not a signal), no panic, exactly one line on
/// stderr that starts `crew-runner: ` and names `needle`. Returns that line.
fn one_line_failure(out: &Outcome, needle: &str) -> String {
    assert!(out.code.is_some(), "killed by a signal: {}", out.stderr);
    assert_ne!(out.code, Some(0), "expected a failure; stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {}", out.stderr);
    assert!(lines[0].starts_with("crew-runner: "), "{}", out.stderr);
    assert!(lines[0].contains(needle), "the error should name {needle:?}: {}", out.stderr);
    lines[0].to_string()
}

/// Asserts a failed command that may have logged warnings first (a worker, `run`): non-zero
/// exit (not a signal), no panic, every line but the last a log line (`WARN`/`ERROR`), and the
/// last one `crew-runner: …` naming `needle`. Returns that line.
fn final_failure(out: &Outcome, needle: &str) -> String {
    assert!(out.code.is_some(), "killed by a signal: {}", out.stderr);
    assert_ne!(out.code, Some(0), "expected a failure; stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let (last, before) = lines.split_last().unwrap_or_else(|| panic!("no error line: {}", out.stderr));
    for line in before {
        assert!(
            line.contains("WARN") || line.contains("ERROR") || line.starts_with("task ") || line.starts_with("started "),
            "unexpected line {line:?} in:\n{}",
            out.stderr
        );
    }
    assert!(last.starts_with("crew-runner: "), "{}", out.stderr);
    assert!(last.contains(needle), "the error should name {needle:?}: {}", out.stderr);
    last.to_string()
}

/// Folds the WAL into the database file and empties it, so that whatever is written next must
/// grow a file (overwriting space a file already has would succeed even on a full disk).
fn checkpoint(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).unwrap();
    assert_eq!(busy, 0, "the checkpoint completed");
}

/// `PRAGMA integrity_check` on the database file.
fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap()
}

/// Submits `n` executions (rows `item=<prefix>N`); returns their ids.
fn submit_rows(crew: &Crew, prefix: &str, n: usize) -> Vec<String> {
    let rows = crew.dir.path().join(format!("{prefix}.jsonl"));
    let items: Vec<String> = (0..n).map(|i| format!("{prefix}{i:03}")).collect();
    harness::write_item_rows(&rows, &items);
    let v = crew.json(&["submit", &one_task(), "--inputs-file", &arg(&rows), "--json"]);
    harness::submitted_ids(&v)
}

/// Everything in `list --json`, by id: status and the number of finished steps.
fn snapshot(crew: &Crew) -> Vec<(String, String, u64)> {
    let mut all: Vec<(String, String, u64)> = crew
        .executions()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
                e["progress"]["completed_steps"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    all.sort();
    all
}

/// Work committed before a fault: a succeeded execution (id, output) and a queued one.
struct Committed {
    done: String,
    output: Value,
    queued: String,
}

fn committed_work(crew: &Crew) -> Committed {
    let done = crew.json(&["run", &one_task(), "--input", "item=before", "--json"]);
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let queued = submit_rows(crew, "queued", 1).remove(0);
    Committed { done: done["id"].as_str().unwrap().to_string(), output: done["output"].clone(), queued }
}

/// Asserts the work from [`committed_work`] is intact.
fn assert_committed_work(crew: &Crew, work: &Committed) {
    let e = crew.status_json(&work.done);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["output"], work.output);
    assert_eq!(crew.logs_json(&work.done).iter().filter(|l| l["kind"] == "task_completed").count(), 1);
    assert_eq!(crew.status_json(&work.queued)["status"], "queued");
}

/// The database file of `crew` (wherever its data dir points).
fn database(crew: &Crew) -> PathBuf {
    let dir = crew.env.iter().find(|(k, _)| k == "CREW_RUNNER_DATA_DIR").map(|(_, v)| PathBuf::from(v)).unwrap();
    dir.join("crew-runner.db")
}

/// Commands that each must fail with the one-line error while the fault lasts.
fn commands() -> Vec<Vec<String>> {
    vec![
        vec!["submit".into(), one_task(), "--input".into(), "item=during".into()],
        vec!["run".into(), one_task(), "--input".into(), "item=during".into()],
        vec!["worker".into(), "--until-idle".into()],
        vec!["pause".into()],
    ]
}

fn args_of(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

// ---- Read-only data dir ----

#[test]
fn read_only_data_dir_is_a_clear_error_and_loses_nothing() {
    let mock = MockLlm::start();
    mock.push(Reply::text(DONE));
    let mut crew = Crew::new(Some(&mock.base_url()));
    let work = committed_work(&crew);
    let before = snapshot(&crew);
    let writable = crew.data_dir();
    let view = crew.dir.path().join("ro-view");
    let shm = writable.join("crew-runner.db-shm");
    // Both ways a WAL database may be left: closed cleanly by its last process (no `-shm` file:
    // SQLite cannot even read it on a read-only file system), or with its `-shm` still there
    // (a process that exited without closing, or one still running elsewhere).
    for with_shm in [false, true] {
        checkpoint(&database(&crew)); // the last connection to close removes `-wal` and `-shm`
        let holder = with_shm.then(|| {
            let conn = rusqlite::Connection::open(database(&crew)).unwrap();
            conn.query_row("SELECT COUNT(*) FROM executions", [], |r| r.get::<_, i64>(0)).unwrap();
            conn
        });
        assert_eq!(shm.exists(), with_shm);
        let mounted = match read_only_view(&writable, &view) {
            Ok(m) => m,
            Err(why) => {
                eprintln!("SKIPPED read_only_data_dir_is_a_clear_error_and_loses_nothing: {why}");
                return;
            }
        };
        with_data_dir(&mut crew, &view);
        let db = view.join("crew-runner.db");
        let mut all = commands();
        all.push(vec!["list".into()]);
        for args in &all {
            let line = one_line_failure(&bounded(crew.cmd(&args_of(args))), &arg(&db));
            assert!(line.contains("read-only"), "{args:?} (-shm file present: {with_shm}): {line}");
            assert!(line.contains("is on a read-only file system"), "{args:?} (-shm file present: {with_shm}): {line}");
        }
        drop(mounted);
        drop(holder);
        with_data_dir(&mut crew, &writable);
    }
    assert_eq!(snapshot(&crew), before, "nothing changed, nothing lost");
    assert_committed_work(&crew, &work);
    assert_eq!(integrity(&database(&crew)), "ok");
    assert_eq!(mock.chat_count(), 1, "no crew ran while read-only");
}

// ---- Full disk ----

/// Asserts that every command that writes fails with the one-line error naming the database
/// while the disk is full (`run` runs each one under the fault).
fn assert_writes_fail(crew: &Crew, run: impl Fn(&[&str]) -> Outcome, work: &Committed) {
    let db = database(crew);
    let mut all = commands();
    all.push(vec!["retry".into(), work.done.clone()]);
    for args in &all {
        let out = run(&args_of(args));
        // A worker that got as far as starting its scheduler logs the failure before it stops.
        let line = if args[0] == "worker" || args[0] == "run" { final_failure(&out, &arg(&db)) } else { one_line_failure(&out, &arg(&db)) };
        assert!(line.contains("full"), "{args:?}: the error should say the disk may be full: {line}");
        eprintln!("{args:?} on a full disk: {line}");
    }
}

#[test]
fn full_disk_tmpfs_is_a_clear_error_and_loses_nothing() {
    let mock = MockLlm::start();
    let mut crew = Crew::new(Some(&mock.base_url()));
    let fs = crew.dir.path().join("small-fs");
    let mounted = match tmpfs(&fs, "2m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("SKIPPED full_disk_tmpfs_is_a_clear_error_and_loses_nothing (the file-size-limit case covers it): {why}");
            return;
        }
    };
    with_data_dir(&mut crew, &fs.join("data"));
    let work = committed_work(&crew);
    let before = snapshot(&crew);
    checkpoint(&database(&crew));
    let filler = fill_up(&fs);

    assert_writes_fail(&crew, |args| bounded(crew.cmd(args)), &work);

    std::fs::remove_file(&filler).unwrap();
    assert_eq!(snapshot(&crew), before, "nothing lost");
    assert_committed_work(&crew, &work);
    assert_eq!(integrity(&database(&crew)), "ok");
    // With space again the queued work runs.
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status_json(&work.queued)["status"], "succeeded");
    drop(mounted);
}

#[test]
fn file_size_limit_is_a_clear_error_and_loses_nothing() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let work = committed_work(&crew);
    let before = snapshot(&crew);
    checkpoint(&crew.database());
    let limit = 4096;
    assert_writes_fail(&crew, |args| bounded(with_file_size_limit(crew.cmd(args), limit)), &work);

    assert_eq!(snapshot(&crew), before, "nothing lost");
    assert_committed_work(&crew, &work);
    assert_eq!(integrity(&database(&crew)), "ok");
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status_json(&work.queued)["status"], "succeeded");
}

// ---- Corrupted database ----

/// The database's page size and the root page of `table`.
fn page_of(db: &Path, table: &str) -> (usize, usize) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let root: i64 = conn.query_row("SELECT rootpage FROM sqlite_master WHERE name = ?1", [table], |r| r.get(0)).unwrap();
    (size as usize, root as usize)
}

#[test]
fn database_with_a_corrupted_page_is_a_clear_error() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let ids = submit_rows(&crew, "row", 40);
    let db = crew.database();
    let (page_size, root) = page_of(&db, "executions");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = (root - 1) * page_size;
    // Overwrite bytes inside the page (not its header): the first cell, where the content area
    // starts (the header says where).
    let header = if root == 1 { page + 100 } else { page };
    let content_start = u16::from_be_bytes([bytes[header + 5], bytes[header + 6]]) as usize;
    assert!(content_start > 12 && content_start < page_size, "content area at {content_start}");
    let at = page + content_start;
    for b in &mut bytes[at..at + 24] {
        *b = 0xFF;
    }
    std::fs::write(&db, &bytes).unwrap();

    // Reading every execution reads the broken page.
    let line = one_line_failure(&bounded(crew.cmd(&["list"])), &arg(&db));
    assert!(line.contains("malformed"), "{line}");
    // SQLite finds corruption only where it reads: a command that does not touch the broken
    // cell may work; one that does must fail the same clear way. Neither may panic or hang.
    let mut outcomes = Vec::new();
    for args in [
        vec!["status", ids[0].as_str()],
        vec!["status", ids[39].as_str()],
        vec!["logs", ids[0].as_str()],
        vec!["submit", &one_task(), "--input", "item=x"],
        vec!["run", &one_task(), "--input", "item=y"],
    ] {
        let out = bounded(crew.cmd(&args));
        if out.code != Some(0) {
            let line = final_failure(&out, &arg(&db));
            assert!(line.contains("malformed"), "{args:?}: {line}");
        }
        assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        outcomes.push((args.join(" "), out.code));
    }
    eprintln!("on the corrupted database: {outcomes:?}");
    // A worker reads and rewrites the executions: it meets the broken page, stops with the
    // error (it used to retry forever) and does not hang.
    let line = final_failure(&bounded(crew.cmd(&["worker", "--until-idle"])), &arg(&db));
    assert!(line.contains("malformed") && line.contains("stopped"), "{line}");
    let line = final_failure(&bounded(crew.cmd(&["worker"])), &arg(&db));
    assert!(line.contains("malformed") && line.contains("stopped"), "a worker without --until-idle stops too: {line}");
}

// ---- Locked by another writer, with work committed ----

#[test]
fn database_locked_past_the_busy_timeout_loses_nothing_committed() {
    let mock = MockLlm::start();
    mock.push(Reply::text(DONE));
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("CREW_RUNNER_BUSY_TIMEOUT_MS".into(), "200".into()));
    let work = committed_work(&crew);
    let before = snapshot(&crew);
    let db = crew.database();
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    for args in commands() {
        let line = one_line_failure(&bounded(crew.cmd(&args_of(&args))), &arg(&db));
        assert!(line.contains("locked"), "{args:?}: {line}");
    }
    // Reads go on while it is locked.
    assert_eq!(snapshot(&crew), before);
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(snapshot(&crew), before, "nothing lost, nothing half-written");
    assert_committed_work(&crew, &work);
    assert_eq!(integrity(&db), "ok");
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status_json(&work.queued)["status"], "succeeded");
}

// ---- Full disk while a worker runs ----

/// How the disk fills under a running worker.
enum DiskFill {
    /// A real full disk: the data dir is on a small tmpfs that the test fills up.
    Tmpfs { fs: PathBuf },
    /// Simulated: `prlimit` lowers the running worker's file-size limit to 0, so every write
    /// to a file fails with `EFBIG` (the next process starts without the limit).
    FileSizeLimit,
}

/// Four executions are running (their LLM replies held) when the disk fills; then the replies
/// come. The worker must stop with a clear error (not hang, not panic), nothing committed may
/// be lost, and once space is back a new worker finishes all four.
fn full_disk_under_a_running_worker(fill: DiskFill) {
    let mock = MockLlm::start();
    for _ in 0..4 {
        mock.push(Reply::held(Reply::text(DONE)));
    }
    let mut crew = Crew::new(Some(&mock.base_url()));
    let mut mounted = None;
    if let DiskFill::Tmpfs { fs } = &fill {
        match tmpfs(fs, "4m") {
            Ok(m) => mounted = Some(m),
            Err(why) => {
                eprintln!("SKIPPED full disk on a tmpfs under a running worker (the file-size-limit case covers it): {why}");
                return;
            }
        }
        with_data_dir(&mut crew, &fs.join("data"));
    }
    let db = database(&crew);
    let ids = submit_rows(&crew, "row", 4);
    let before = snapshot(&crew);
    checkpoint(&db);

    let worker = Started::spawn(ignoring_sigxfsz(crew.cmd(&["worker", "--until-idle", "--concurrency", "4"])));
    assert!(mock.wait_for_held(4, PROC_WAIT), "four attempts running");
    let filler = match &fill {
        DiskFill::Tmpfs { fs } => Some(fill_up(fs)),
        DiskFill::FileSizeLimit => {
            let zero = libc::rlimit { rlim_cur: 0, rlim_max: libc::RLIM_INFINITY };
            let rc = unsafe { libc::prlimit(worker.pid as libc::pid_t, libc::RLIMIT_FSIZE, &zero, std::ptr::null_mut()) };
            assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
            None
        }
    };
    mock.release();
    let out = worker.wait();
    let line = final_failure(&out, &arg(&db));
    assert!(line.contains("stopped") && line.contains("full"), "{line}");
    eprintln!("the worker said: {line}");

    // Space again.
    if let Some(filler) = filler {
        std::fs::remove_file(filler).unwrap();
    }
    assert_eq!(integrity(&db), "ok");
    let after: Vec<String> = snapshot(&crew).into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(after, before.iter().map(|(id, _, _)| id.clone()).collect::<Vec<_>>(), "every execution is still there");
    let restarted = bounded(crew.cmd(&["worker", "--until-idle"]));
    assert_eq!(restarted.code, Some(0), "{}", restarted.stderr);
    for id in &ids {
        let e = crew.status_json(id);
        assert_eq!(e["status"], "succeeded", "{e:#}");
        assert_eq!(e["progress"]["completed_steps"], 1);
        let completed = crew.logs_json(id).iter().filter(|l| l["kind"] == "task_completed").count();
        assert_eq!(completed, 1, "{id}: one recorded completion");
    }
    assert_eq!(integrity(&db), "ok");
    drop(mounted);
}

#[test]
fn disk_filling_under_a_running_worker_tmpfs() {
    let dir = tempfile::tempdir().unwrap();
    full_disk_under_a_running_worker(DiskFill::Tmpfs { fs: dir.path().join("small-fs") });
}

#[test]
fn disk_filling_under_a_running_worker_file_size_limit() {
    full_disk_under_a_running_worker(DiskFill::FileSizeLimit);
}

#[test]
fn disk_filling_under_run_stops_it_and_a_worker_finishes_later() {
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text(DONE)));
    let crew = Crew::new(Some(&mock.base_url()));
    crew.ok(&["list"]); // creates the database
    let db = crew.database();
    checkpoint(&db);
    let run = Started::spawn(ignoring_sigxfsz(crew.cmd(&["run", &one_task(), "--input", "item=held"])));
    assert!(mock.wait_for_held(1, PROC_WAIT), "the attempt is running");
    let zero = libc::rlimit { rlim_cur: 0, rlim_max: libc::RLIM_INFINITY };
    let rc = unsafe { libc::prlimit(run.pid as libc::pid_t, libc::RLIMIT_FSIZE, &zero, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    mock.release();
    let out = run.wait();
    let line = final_failure(&out, &arg(&db));
    assert!(line.contains("stopped") && line.contains("full"), "{line}");
    assert_eq!(out.code, Some(1));

    assert_eq!(integrity(&db), "ok");
    let all = crew.executions();
    assert_eq!(all.len(), 1, "the execution was recorded before the fault: {all:#?}");
    let id = all[0]["id"].as_str().unwrap().to_string();
    let restarted = bounded(crew.cmd(&["worker", "--until-idle"]));
    assert_eq!(restarted.code, Some(0), "{}", restarted.stderr);
    assert_eq!(crew.status_json(&id)["status"], "succeeded");
}
