//! Storage failures seen through the binary: a clear one-line error, a non-zero exit, no panic,
//! and the database left as it was.

use crate::harness;
use crate::support;

use std::path::Path;
use std::process::Output;

use harness::{fixture, stderr_of, Crew};
use support::MockLlm;

/// An installation whose LLM variables are set (so crews validate); the mock is never asked.
fn crew_with_llm(mock: &MockLlm) -> Crew {
    Crew::new(Some(&mock.base_url()))
}

fn one_task() -> String {
    fixture("proc/one-task.yaml").display().to_string()
}

/// Asserts a failed command with exactly one line on stderr, naming `needle`, and no panic;
/// returns that line.
fn one_line_failure(out: &Output, needle: &str) -> String {
    let stderr = stderr_of(out);
    assert_ne!(out.status.code(), Some(0), "expected a failure; stderr: {stderr}");
    assert!(out.status.code().is_some(), "killed by a signal: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(lines[0].starts_with("crew-runner: "), "{stderr}");
    assert!(lines[0].contains(needle), "the error should mention {needle:?}: {stderr}");
    lines[0].to_string()
}

/// A Crew whose data dir is `path` instead of the temp dir's `data`.
fn with_data_dir(crew: &mut Crew, path: &Path) {
    for (k, v) in &mut crew.env {
        if k == "CREW_RUNNER_DATA_DIR" {
            *v = path.display().to_string();
        }
    }
}

#[test]
fn data_dir_that_is_a_file_is_a_clear_error() {
    let mock = MockLlm::start();
    let mut crew = crew_with_llm(&mock);
    let file = crew.dir.path().join("not-a-dir");
    std::fs::write(&file, "I am a file").unwrap();
    with_data_dir(&mut crew, &file);
    for args in [vec!["list"], vec!["submit", &one_task(), "--input", "item=x"], vec!["worker", "--until-idle"]] {
        let line = one_line_failure(&crew.run(&args), &file.display().to_string());
        assert!(line.contains("is not a directory"), "{line}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "I am a file");
}

#[test]
fn data_dir_that_cannot_be_created_is_a_clear_error() {
    let mut crew = Crew::new(None);
    let file = crew.dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    // Below a regular file nothing can be created, whoever runs the test (root included).
    let below = file.join("data");
    with_data_dir(&mut crew, &below);
    let line = one_line_failure(&crew.run(&["list"]), &below.display().to_string());
    assert!(line.contains("cannot create data directory"), "{line}");
}

#[test]
fn database_from_a_newer_schema_is_refused_and_left_unchanged() {
    let mock = MockLlm::start();
    let crew = crew_with_llm(&mock);
    std::fs::create_dir_all(crew.data_dir()).unwrap();
    let db = crew.database();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (1); PRAGMA user_version = 999;").unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for args in [vec!["list"], vec!["submit", &one_task(), "--input", "item=x"], vec!["worker", "--until-idle"]] {
        let line = one_line_failure(&crew.run(&args), &db.display().to_string());
        assert!(line.contains("schema version 999"), "names the file's version: {line}");
        let supported = format!("supports ({})", crew_runner::store::sqlite::SCHEMA_VERSION);
        assert!(line.contains(&supported), "names the supported version: {line}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file must not change");
    assert!(!db.with_extension("db-wal").exists(), "no WAL was created beside it");
}

#[test]
fn database_locked_by_another_writer_fails_after_the_busy_timeout() {
    let mock = MockLlm::start();
    let mut crew = crew_with_llm(&mock);
    crew.env.push(("CREW_RUNNER_BUSY_TIMEOUT_MS".into(), "300".into()));
    crew.ok(&["list"]); // creates and migrates the database
    let db = crew.database();
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();

    let line = one_line_failure(&crew.run(&["submit", &one_task(), "--input", "item=x"]), &db.display().to_string());
    assert!(line.contains("locked"), "{line}");
    // Readers are not blocked by a writer (WAL).
    let listed = crew.json(&["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 0);
    for args in [vec!["pause"], vec!["worker", "--until-idle"]] {
        let line = one_line_failure(&crew.run(&args), &db.display().to_string());
        assert!(line.contains("locked"), "{args:?}: {line}");
    }

    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    // Nothing half-written: no execution, no log line, no step, the queue not paused.
    let conn = rusqlite::Connection::open(&db).unwrap();
    for table in ["executions", "execution_logs", "step_outputs", "attempt_errors"] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // And once the lock is gone the same submit works.
    crew.ok(&["submit", &one_task(), "--input", "item=x"]);
    assert_eq!(crew.executions().len(), 1);
}

#[test]
fn bad_busy_timeout_value_is_a_usage_error() {
    let mut crew = Crew::new(None);
    crew.env.push(("CREW_RUNNER_BUSY_TIMEOUT_MS".into(), "soon".into()));
    let out = crew.run(&["list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    one_line_failure(&out, "CREW_RUNNER_BUSY_TIMEOUT_MS");
}

#[test]
fn garbage_database_file_is_a_clear_error() {
    let mock = MockLlm::start();
    let crew = crew_with_llm(&mock);
    std::fs::create_dir_all(crew.data_dir()).unwrap();
    let db = crew.database();
    let garbage: Vec<u8> = (0..16384u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    for args in [vec!["list"], vec!["submit", &one_task(), "--input", "item=x"]] {
        let line = one_line_failure(&crew.run(&args), &db.display().to_string());
        assert!(line.contains("not a database"), "{line}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), garbage, "the file must not change");
}

#[test]
fn truncated_database_file_is_a_clear_error() {
    let mock = MockLlm::start();
    let crew = crew_with_llm(&mock);
    crew.ok(&["submit", &one_task(), "--input", "item=x"]);
    let db = crew.database();
    // Fold the WAL into the file, then cut the file inside its first page.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;").unwrap();
    }
    let bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 4096);
    std::fs::write(&db, &bytes[..1000]).unwrap();
    for args in [vec!["list"], vec!["submit", &one_task(), "--input", "item=y"], vec!["worker", "--until-idle"]] {
        let line = one_line_failure(&crew.run(&args), &db.display().to_string());
        assert!(line.contains("malformed"), "{line}");
    }
}

/// Polls a growing text file until it contains `needle`; fails the test after `timeout`.
fn wait_for_text(path: &Path, needle: &str, timeout: std::time::Duration) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "{} never said {needle:?}:\n{text}", path.display());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_running_worker_survives_a_temporarily_locked_database() {
    use support::Reply;
    let mock = MockLlm::start();
    for _ in 0..4 {
        mock.push(Reply::delay(300, Reply::text("Thought: done\nFinal Answer: noted.")));
    }
    let mut crew = crew_with_llm(&mock);
    crew.env.push(("CREW_RUNNER_BUSY_TIMEOUT_MS".into(), "100".into()));
    let rows = crew.dir.path().join("rows.jsonl");
    let items: Vec<String> = (0..4).map(|i| format!("row{i:04}")).collect();
    harness::write_item_rows(&rows, &items);
    crew.ok(&["submit", &one_task(), "--inputs-file", rows.to_str().unwrap()]);

    let mut worker = crew.spawn_logged("worker", &["worker", "--until-idle", "--concurrency", "4"]);
    assert!(mock.wait_for_chat_count(4, harness::PROC_WAIT), "{}", worker.stderr());
    let holder = rusqlite::Connection::open(crew.database()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The replies arrive while the lock is held: the worker cannot record them yet.
    wait_for_text(&worker.stderr_path, "locked", harness::PROC_WAIT);
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);

    let status = worker.wait_exit(harness::PROC_WAIT);
    assert_eq!(status.code(), Some(0), "{}", worker.stderr());
    assert!(!worker.stderr().contains("panicked"), "{}", worker.stderr());
    // Every execution succeeded with its one step recorded once. An attempt whose step could
    // not be recorded while the lock was held failed as a retryable `storage` error and its
    // LLM call was redone: the only extra requests allowed are one per such attempt.
    let mut storage_failures = 0;
    for e in crew.executions() {
        let id = e["id"].as_str().unwrap();
        assert_eq!(e["status"], "succeeded", "{e}\nworker stderr: {}", worker.stderr());
        assert_eq!(e["progress"]["completed_steps"], 1, "{e}");
        for failure in e["attempt_errors"].as_array().unwrap() {
            assert_eq!(failure["error"]["kind"], "storage", "{e}");
            assert!(failure["error"]["message"].as_str().unwrap().contains("locked"), "{e}");
            storage_failures += 1;
        }
        let lines = crew.logs_json(id);
        assert_eq!(lines.iter().filter(|l| l["kind"] == "task_completed").count(), 1, "{id}: {:?}", harness::log_kinds(&lines));
    }
    assert_eq!(mock.chat_count(), 4 + storage_failures, "only attempts that failed on the lock were redone");
}
