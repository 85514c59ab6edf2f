//! `crew-runner prune` through the real binary: by age, by count, by status, never live work,
//! dry runs, VACUUM, usage errors, batches, and a worker running alongside.

use crate::harness;
use crate::support;

use std::collections::BTreeSet;

use harness::{arg, fixture, Crew, PROC_WAIT};
use serde_json::Value;
use support::{MockLlm, Reply};

const DAY_MS: i64 = 86_400_000;

fn one_step() -> String {
    arg(&fixture("cli/one-step.yaml"))
}

/// Runs `n` offline executions of the one-step crew in one process; returns their ids, oldest first.
fn finished(crew: &Crew, n: usize, tag: &str) -> Vec<String> {
    let rows: String = (0..n).map(|i| format!("{{\"item\": \"{tag}{i}\"}}\n")).collect();
    let file = crew.write(&format!("{tag}.jsonl"), &rows);
    let out = crew.outcome(&["--run", &one_step(), "--inputs-file", &arg(&file), "--model", "offline", "--concurrency", "1"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let mut ids: Vec<String> = crew
        .executions()
        .iter()
        .filter(|e| e["inputs"]["item"].as_str().is_some_and(|i| i.starts_with(tag)))
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), n);
    ids
}

/// Queues one execution (offline model, so no worker needs an endpoint); returns its id.
fn submit(crew: &Crew, item: &str) -> String {
    submit_with(crew, item, &["--model", "offline"])
}

fn submit_with(crew: &Crew, item: &str, extra: &[&str]) -> String {
    let input = format!("item={item}");
    let mut args = vec!["submit", "--json"];
    let one_step = one_step();
    args.extend_from_slice(&[one_step.as_str(), "--input", input.as_str()]);
    args.extend_from_slice(extra);
    crew.json(&args)["id"].as_str().unwrap().to_string()
}

fn all_ids(crew: &Crew) -> BTreeSet<String> {
    crew.executions().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Moves the finish time of `id` `days` into the past (the only way to age history in a test).
fn backdate(crew: &Crew, id: &str, days: i64) {
    let conn = rusqlite::Connection::open(crew.database()).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let now: i64 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let n = conn.execute("UPDATE executions SET finished_at = ?1 WHERE id = ?2", rusqlite::params![now - days * DAY_MS, id]).unwrap();
    assert_eq!(n, 1);
}

fn table_count(crew: &Crew, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(crew.database()).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

fn prune(crew: &Crew, args: &[&str]) -> Value {
    let mut all = vec!["prune", "--json"];
    all.extend_from_slice(args);
    crew.json(&all)
}

#[test]
fn by_age_removes_only_what_finished_before_the_limit_with_its_logs() {
    let crew = Crew::new(None);
    let ids = finished(&crew, 4, "age");
    backdate(&crew, &ids[0], 40);
    backdate(&crew, &ids[1], 31);
    backdate(&crew, &ids[2], 29);
    let lines_of_pruned = crew.logs(&ids[0]).len() + crew.logs(&ids[1]).len();
    let lines_before = table_count(&crew, "execution_logs");

    let report = prune(&crew, &["--older-than", "30d"]);
    assert_eq!(report["removed"]["executions"], 2, "{report}");
    assert_eq!(report["removed"]["log_lines"], lines_of_pruned as u64);
    assert_eq!(report["removed"]["steps"], 2, "one step each");
    assert_eq!(report["dry_run"], false);
    assert_eq!(all_ids(&crew), set(&[&ids[2], &ids[3]]));
    assert_eq!(table_count(&crew, "execution_logs"), lines_before - lines_of_pruned as i64);
    assert_eq!(table_count(&crew, "step_outputs"), 2);
    crew.usage_error(&["status", &ids[0]]);
    crew.usage_error(&["logs", &ids[1]]);
    assert_eq!(crew.status(&ids[2])["status"], "succeeded");

    // Units: 29 days ago is not older than 4 weeks + 2 days, but is older than 4 weeks - 1 hour.
    assert_eq!(prune(&crew, &["--older-than", "4w2d"])["removed"]["executions"], 0);
    assert_eq!(prune(&crew, &["--older-than", "27d23h"])["removed"]["executions"], 1);
    assert_eq!(all_ids(&crew), set(&[&ids[3]]));
}

#[test]
fn by_count_keeps_the_newest_and_batches_are_bounded() {
    let crew = Crew::new(None);
    let ids = finished(&crew, 5, "count");
    let report = prune(&crew, &["--keep", "2", "--batch-size", "2"]);
    assert_eq!(report["removed"]["executions"], 3, "{report}");
    assert_eq!(report["batches"], 2, "3 executions in batches of at most 2: {report}");
    assert_eq!(report["after"]["wal_bytes"], 0, "the WAL was not copied back and truncated: {report}");
    assert_eq!(all_ids(&crew), set(&[&ids[3], &ids[4]]));
    // Keeping more than there are removes nothing.
    assert_eq!(prune(&crew, &["--keep", "2"])["removed"]["executions"], 0);
    assert_eq!(prune(&crew, &["--keep", "10"])["removed"]["executions"], 0);
    assert_eq!(all_ids(&crew).len(), 2);
}

#[test]
fn the_status_filter_selects_and_combines_with_keep_and_age() {
    let crew = Crew::new(None);
    let done = finished(&crew, 3, "ok");
    let mut cancelled: Vec<String> = (0..3).map(|i| submit(&crew, &format!("c{i}"))).collect();
    cancelled.sort(); // newest = largest id
    for id in &cancelled {
        assert_eq!(crew.json(&["cancel", id, "--json"])["outcome"], "cancelled");
    }
    // Keep the newest cancelled one; the succeeded ones are not considered at all.
    let report = prune(&crew, &["--status", "cancelled", "--keep", "1"]);
    assert_eq!(report["removed"]["executions"], 2, "{report}");
    let mut expected: Vec<&String> = done.iter().collect();
    expected.push(&cancelled[2]);
    assert_eq!(all_ids(&crew), set(&expected));

    // Age and status together: only an old succeeded one.
    backdate(&crew, &done[0], 10);
    backdate(&crew, &cancelled[2], 10);
    let report = prune(&crew, &["--status", "succeeded", "--older-than", "7d"]);
    assert_eq!(report["removed"]["executions"], 1, "{report}");
    assert_eq!(all_ids(&crew), set(&[&done[1], &done[2], &cancelled[2]]));
}

#[test]
fn live_work_is_never_touched_and_a_dry_run_deletes_nothing() {
    let crew = Crew::new(None);
    let old = finished(&crew, 3, "old");
    let queued: Vec<String> = (0..2).map(|i| submit(&crew, &format!("q{i}"))).collect();
    for id in old.iter().chain(&queued) {
        // Even an absurd age on a live row does not make it prunable.
        let conn = rusqlite::Connection::open(crew.database()).unwrap();
        conn.execute("UPDATE executions SET finished_at = 1 WHERE id = ?1", [id]).unwrap();
    }
    let before = crew.executions();
    let lines = table_count(&crew, "execution_logs");

    let preview = prune(&crew, &["--keep", "0", "--older-than", "1d", "--dry-run"]);
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["removed"]["executions"], 3, "{preview}");
    assert_eq!(preview["batches"], 0);
    assert_eq!(crew.executions(), before, "a dry run changed the executions");
    assert_eq!(table_count(&crew, "execution_logs"), lines, "a dry run removed log lines");
    let text = crew.ok(&["prune", "--keep", "0", "--dry-run"]);
    assert!(text.starts_with("would remove 3 execution(s)"), "{text}");

    let report = prune(&crew, &["--keep", "0", "--older-than", "1d"]);
    assert_eq!(report["removed"], preview["removed"], "the dry run reported what the prune then removed");
    assert_eq!(all_ids(&crew), queued.iter().cloned().collect());
    for id in &queued {
        assert_eq!(crew.status(id)["status"], "queued");
        assert_eq!(crew.logs(id).len(), 1, "the submitted line");
    }
    // Naming a live status is a usage error, not a silent no-op.
    for status in ["queued", "running", "retrying"] {
        let err = crew.usage_error(&["prune", "--status", status]);
        assert!(err.contains("only succeeded, failed and cancelled"), "{err}");
    }
    assert_eq!(all_ids(&crew).len(), 2);
}

#[test]
fn bad_arguments_exit_2_and_delete_nothing() {
    let crew = Crew::new(None);
    let ids = finished(&crew, 2, "bad");
    let err = crew.usage_error(&["prune"]);
    assert!(err.contains("say what to prune"), "{err}");
    crew.usage_error(&["prune", "--json"]);
    crew.usage_error(&["prune", "--vacuum"]);
    crew.usage_error(&["prune", "--older-than", "30"]);
    crew.usage_error(&["prune", "--older-than", "soon"]);
    crew.usage_error(&["prune", "--keep", "many"]);
    crew.usage_error(&["prune", "--status", "done"]);
    crew.usage_error(&["prune", "--keep", "0", "--batch-size", "0"]);
    crew.usage_error(&["prune", "--keep", "0", "--dry-run", "--vacuum"]);
    assert_eq!(all_ids(&crew), ids.iter().cloned().collect());
    let help = crew.ok(&["prune", "--help"]);
    assert!(help.contains("--older-than") && help.contains("When --vacuum helps"), "{help}");
}

#[test]
fn vacuum_shrinks_the_file() {
    let crew = Crew::new(None);
    finished(&crew, 40, "vac");
    let on_disk = |crew: &Crew| -> u64 {
        let wal = crew.data_dir().join("crew-runner.db-wal");
        std::fs::metadata(crew.database()).unwrap().len() + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    };
    let size_before = on_disk(&crew);

    let plain = prune(&crew, &["--keep", "30"]);
    assert_eq!(plain["removed"]["executions"], 10);
    assert!(plain["after"]["free_pages"].as_u64().unwrap() > 0, "deleting freed no pages: {plain}");

    let report = prune(&crew, &["--keep", "0", "--vacuum"]);
    assert_eq!(report["removed"]["executions"], 30);
    assert_eq!(report["vacuumed"], true);
    assert_eq!(report["after"]["free_pages"], 0, "{report}");
    assert_eq!(report["after"]["wal_bytes"], 0, "{report}");
    let (before, after) = (report["before"]["total_bytes"].as_u64().unwrap(), report["after"]["total_bytes"].as_u64().unwrap());
    assert!(after < before, "{report}");
    assert!(on_disk(&crew) < size_before, "the files on disk did not shrink: {} -> {}", size_before, on_disk(&crew));
    assert_eq!(crew.executions(), Vec::<Value>::new());
    // The database still works after VACUUM.
    finished(&crew, 1, "again");
}

#[test]
fn a_running_worker_is_unaffected() {
    let mock = MockLlm::start();
    mock.push_for("Handle item live", Reply::StreamStall("I am still thinking".into()));
    let crew = Crew::new(Some(&mock.base_url()));
    let old = finished(&crew, 5, "old");
    let live = submit_with(&crew, "live", &[]);
    let mut worker = crew.spawn_logged("worker", &["worker", "--until-idle", "--concurrency", "2"]);
    assert!(mock.wait_for_chat_count(1, PROC_WAIT), "the worker never called the LLM: {}", worker.stderr());
    assert_eq!(crew.status(&live)["status"], "running");

    let report = prune(&crew, &["--keep", "0", "--batch-size", "2", "--vacuum"]);
    assert_eq!(report["removed"]["executions"], 5, "{report}");
    assert_eq!(report["batches"], 3);
    assert!(old.iter().all(|id| !all_ids(&crew).contains(id)));
    assert_eq!(crew.status(&live)["status"], "running", "prune touched the running execution");

    // The worker still claims, runs and records: a new submission succeeds, and the stalled one
    // honours a cancel. Then the worker is idle and exits on its own.
    let next = submit_with(&crew, "next", &[]);
    assert!(mock.wait_for_chat_count(2, PROC_WAIT), "the worker did not run the next one: {}", worker.stderr());
    crew.ok(&["cancel", &live]);
    let status = worker.wait_exit(PROC_WAIT);
    assert_eq!(status.code(), Some(0), "worker: {}", worker.stderr());
    assert_eq!(crew.status(&next)["status"], "succeeded");
    assert_eq!(crew.status(&live)["status"], "cancelled");
    let kinds: Vec<String> = crew.logs(&next).iter().map(|l| l["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("submitted"));
    assert_eq!(kinds.last().map(String::as_str), Some("succeeded"));
}
