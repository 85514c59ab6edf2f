//! Atomic, idempotent batches through the real binary: `submit --inputs-file` records all rows
//! or none (also under SIGKILL at a random moment), a repeated batch records nothing and prints
//! the same ids, and `--idempotency-key` does the same for one submission, refusing the key for
//! another request.

use crate::harness;

use std::collections::BTreeSet;

use harness::{arg, fixture, Crew, PROC_WAIT};
use rand::{Rng, SeedableRng};

/// Rows in the large batches: enough that the insert takes a while, few enough to stay fast.
const ROWS: usize = 3_000;

fn one_step() -> String {
    arg(&fixture("cli/one-step.yaml"))
}

fn three_step() -> String {
    arg(&fixture("cli/three-step.yaml"))
}

/// A data dir whose crews resolve their model (nothing listens there: `submit` calls no model).
fn installation() -> Crew {
    Crew::new(Some("http://127.0.0.1:9/v1"))
}

/// Writes `n` JSON Lines rows `{"item": "<tag><i>"}` and returns the file's path.
fn rows_file(crew: &Crew, name: &str, tag: &str, n: usize) -> String {
    let rows: String = (0..n).map(|i| format!("{{\"item\": \"{tag}{i}\"}}\n")).collect();
    arg(&crew.write(name, &rows))
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// `(executions, their submitted log lines, idempotency keys)` in the database, read directly
/// (0 for a table a killed process had not created yet).
fn recorded(crew: &Crew) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(crew.database()).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let count = |table: &str, condition: &str| -> i64 {
        let exists: i64 =
            conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0)).unwrap();
        if exists == 0 {
            return 0;
        }
        conn.query_row(&format!("SELECT COUNT(*) FROM {table} WHERE {condition}"), [], |r| r.get(0)).unwrap()
    };
    (count("executions", "1"), count("execution_logs", "kind = 'submitted'"), count("idempotency_keys", "1"))
}

fn all_ids(crew: &Crew) -> BTreeSet<String> {
    crew.executions().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

/// `BATCH_KILL_SEED` when set, else a fresh seed from the clock.
fn seed() -> u64 {
    match std::env::var("BATCH_KILL_SEED") {
        Ok(text) => text.trim().parse().unwrap_or_else(|e| panic!("BATCH_KILL_SEED={text} is not a number: {e}")),
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0),
    }
}

#[test]
fn a_batch_with_an_invalid_last_row_records_nothing() {
    let crew = installation();
    let mut rows: String = (0..ROWS - 1).map(|i| format!("{{\"item\": \"r{i}\"}}\n")).collect();
    rows.push_str("{\"other\": \"no item\"}\n");
    let file = arg(&crew.write("rows.jsonl", &rows));
    let err = crew.usage_error(&["submit", &one_step(), "--inputs-file", &file]);
    assert!(err.contains(&format!("row {ROWS}")) && err.contains("item"), "{err}");
    crew.assert_nothing_recorded();
}

#[test]
fn a_batch_killed_at_any_moment_leaves_all_rows_or_none_and_a_rerun_completes_it_once() {
    let seed = seed();
    eprintln!("batch kills: seed {seed} (replay with BATCH_KILL_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // How long a whole submit runs from the moment its database exists (the rows are prepared,
    // the store is opening) to its exit, on this machine now: the kills fall within 1.5 times that.
    let window = {
        let crew = installation();
        let file = rows_file(&crew, "rows.jsonl", "k", ROWS);
        let mut submit = crew.spawn_logged("uncut", &["submit", &one_step(), "--inputs-file", &file]);
        let opened = until_the_database_exists(&crew, &mut submit);
        assert!(submit.wait_exit(PROC_WAIT).success(), "{}", submit.stderr());
        opened.elapsed()
    };
    let (mut none, mut all) = (0, 0);
    for round in 0..6 {
        let crew = installation();
        let file = rows_file(&crew, "rows.jsonl", "k", ROWS);
        let args = ["submit", &one_step(), "--inputs-file", &file];
        let mut submit = crew.spawn_logged("killed", &args);
        until_the_database_exists(&crew, &mut submit);
        std::thread::sleep(window.mul_f64(rng.random_range(0.0..1.5)));
        submit.kill_hard();
        if !crew.database().exists() {
            none += 1;
            continue;
        }

        let (executions, submitted, keys) = recorded(&crew);
        let printed = lines(&submit.stdout());
        match executions {
            0 => {
                assert_eq!((submitted, keys), (0, 0), "round {round} (seed {seed})");
                assert!(printed.is_empty(), "round {round}: ids printed for nothing committed: {printed:?}");
                none += 1;
            }
            n if n == ROWS as i64 => {
                assert_eq!((submitted, keys), (n, 1), "round {round} (seed {seed})");
                all += 1;
            }
            n => panic!("round {round} (seed {seed}): {n} of {ROWS} rows committed"),
        }

        // The rerun records the batch exactly once and prints every id, whatever the kill left.
        let out = crew.outcome(&args);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let ids = lines(&out.stdout);
        assert_eq!(ids.len(), ROWS);
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), all_ids(&crew));
        assert_eq!(recorded(&crew), (ROWS as i64, ROWS as i64, 1));
        assert_eq!(out.stderr.contains("submitted before"), executions > 0, "{}", out.stderr);
        let partial: BTreeSet<String> = printed.into_iter().filter(|l| l.len() == 26).collect();
        assert!(partial.is_subset(&ids.into_iter().collect()), "round {round}: the killed run printed ids that are not the batch's");
    }
    eprintln!("batch kills: {none} left nothing, {all} left every row (kills within {:?} of the database's creation)", window.mul_f64(1.5));
}

/// Waits (bounded) until `submit` has created the database or ended; returns that moment.
fn until_the_database_exists(crew: &Crew, submit: &mut harness::Spawned) -> std::time::Instant {
    let deadline = std::time::Instant::now() + PROC_WAIT;
    while !crew.database().exists() && submit.child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "no database after {PROC_WAIT:?}: {}", submit.stderr());
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::time::Instant::now()
}

#[test]
fn a_repeated_batch_records_nothing_and_prints_the_same_ids() {
    let crew = installation();
    let jsonl = rows_file(&crew, "rows.jsonl", "r", 5);
    let first = lines(&crew.ok(&["submit", &one_step(), "--inputs-file", &jsonl, "--priority", "high"]));
    assert_eq!(first.len(), 5);
    let again = crew.outcome(&["submit", &one_step(), "--inputs-file", &jsonl, "--priority", "high"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(lines(&again.stdout), first);
    assert!(again.stderr.contains("idempotency key batch:") && again.stderr.contains("submitted before"), "{}", again.stderr);

    // The same rows as CSV are the same batch; --json says it is a replay, under which key.
    let csv = arg(&crew.write("rows.csv", &(0..5).fold("item\n".to_string(), |s, i| format!("{s}r{i}\n"))));
    let json = crew.json(&["submit", &one_step(), "--inputs-file", &csv, "--priority", "high", "--json"]);
    assert_eq!(json["ids"], serde_json::json!(first));
    assert_eq!(json["idempotent_replay"], true);
    assert!(json["idempotency_key"].as_str().unwrap().starts_with("batch:"), "{json}");
    assert_eq!(crew.executions().len(), 5);

    // Anything that shapes the executions makes another batch: an option, a row, the crew.
    let other_priority = crew.json(&["submit", &one_step(), "--inputs-file", &jsonl, "--json"]);
    assert_eq!(other_priority["idempotent_replay"], false);
    let more_rows = rows_file(&crew, "more.jsonl", "r", 6);
    assert_eq!(lines(&crew.ok(&["submit", &one_step(), "--inputs-file", &more_rows, "--priority", "high"])).len(), 6);
    let other_crew = lines(&crew.ok(&["submit", &three_step(), "--inputs-file", &jsonl, "--priority", "high"]));
    assert!(other_crew.iter().all(|id| !first.contains(id)));
    assert_eq!(crew.executions().len(), 5 + 5 + 6 + 5);
}

#[test]
fn an_idempotency_key_submits_once_and_is_refused_for_another_request() {
    let crew = installation();
    let submit = |args: &[&str]| {
        let mut all = vec!["submit"];
        all.extend_from_slice(args);
        crew.outcome(&all)
    };
    let (crew_path, other_crew) = (one_step(), three_step());
    let first = submit(&[&crew_path, "--input", "item=1", "--idempotency-key", "nightly-42"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let id = first.stdout.trim().to_string();
    let again = submit(&[&crew_path, "--input", "item=1", "--idempotency-key", "nightly-42", "--json"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let again: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(again, serde_json::json!({ "id": id, "idempotency_key": "nightly-42", "idempotent_replay": true }));

    // Other inputs, another crew, another option: refused (exit 2), naming the key.
    for other in [
        vec![crew_path.as_str(), "--input", "item=2"],
        vec![other_crew.as_str(), "--input", "item=1"],
        vec![crew_path.as_str(), "--input", "item=1", "--max-attempts", "5"],
    ] {
        let mut args = other.clone();
        args.extend(["--idempotency-key", "nightly-42"]);
        let out = submit(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("idempotency key `nightly-42`"), "{}", out.stderr);
    }
    assert_eq!(all_ids(&crew), BTreeSet::from([id.clone()]));

    // A key also covers a batch; a single submission without a key has none (twice is twice).
    let rows = rows_file(&crew, "rows.jsonl", "r", 3);
    let batch = lines(&submit(&[&crew_path, "--inputs-file", &rows, "--idempotency-key", "rows-1"]).stdout);
    assert_eq!(lines(&submit(&[&crew_path, "--inputs-file", &rows, "--idempotency-key", "rows-1"]).stdout), batch);
    let plain: Vec<String> = (0..2).map(|_| submit(&[&crew_path, "--input", "item=9"]).stdout.trim().to_string()).collect();
    assert_ne!(plain[0], plain[1]);
    assert_eq!(crew.executions().len(), 1 + 3 + 2);

    let err = crew.usage_error(&["submit", &crew_path, "--input", "item=1", "--idempotency-key", ""]);
    assert!(err.contains("--idempotency-key"), "{err}");
}

/// A submission whose endpoint URL carries credentials keeps them under a fresh name each time;
/// that is no difference to its key (it used to make every repeat a conflict).
#[test]
fn an_idempotency_key_replays_a_submission_with_credentials_in_its_endpoint() {
    let crew = installation();
    let crew_path = one_step();
    let base = "http://user:S3CRET-pw@127.0.0.1:9/v1?api-key=K3Y";
    let args = ["submit", crew_path.as_str(), "--input", "item=1", "--api-base", base, "--idempotency-key", "creds-1", "--json"];
    let first: serde_json::Value = serde_json::from_str(&crew.ok(&args)).unwrap();
    let again: serde_json::Value = serde_json::from_str(&crew.ok(&args)).unwrap();
    assert_eq!(again["id"], first["id"], "{again}");
    assert_eq!(again["idempotent_replay"], true, "{again}");
    assert_eq!(crew.executions().len(), 1);
}
