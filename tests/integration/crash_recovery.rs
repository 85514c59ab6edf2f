//! SIGKILL a `crew-runner worker` mid-run, restart it, and check nothing is lost or duplicated.

use crate::harness;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use harness::{fixture, log_kinds, request_key, submitted_ids, write_item_rows, Crew, PROC_WAIT};
use support::{MockLlm, Reply};

const TASKS: [&str; 3] = ["step_one", "step_two", "step_three"];
const CONCURRENCY: usize = 4;

fn item(i: usize) -> String {
    format!("row{i:04}")
}

/// Runs `executions` three-task executions, SIGKILLing the worker `kills` times while requests
/// are in flight, then lets a restarted `worker --until-idle` finish; checks the outcome.
fn kill_and_restart(executions: usize, kills: usize) {
    let mock = MockLlm::start();
    // Every scripted reply waits 20 ms, so some requests are always in flight; more than enough
    // for all steps plus the ones redone after each kill (the rest get the default answer).
    for _ in 0..executions * TASKS.len() + kills * CONCURRENCY + 20 {
        mock.push(Reply::delay(20, Reply::text("Thought: I now know the final answer\nFinal Answer: step noted.")));
    }
    let crew = Crew::new(Some(&mock.base_url()));
    let items: Vec<String> = (0..executions).map(item).collect();
    let rows = crew.dir.path().join("rows.jsonl");
    write_item_rows(&rows, &items);
    let crew_file = fixture("proc/three-tasks.yaml");
    // Enough attempts that an execution interrupted by every kill still has one left.
    let max_attempts = (kills + 2).to_string();
    let submitted = crew.json(&[
        "submit",
        crew_file.to_str().unwrap(),
        "--inputs-file",
        rows.to_str().unwrap(),
        "--max-attempts",
        &max_attempts,
        "--json",
    ]);
    let ids = submitted_ids(&submitted);
    assert_eq!(ids.len(), executions);

    let concurrency = CONCURRENCY.to_string();
    let mut interrupted: BTreeSet<String> = BTreeSet::new();
    for round in 0..kills {
        let mut worker = crew.spawn_logged(&format!("worker-{round}"), &["worker", "--concurrency", &concurrency]);
        let target = mock.chat_count() + 8;
        assert!(mock.wait_for_chat_count(target, PROC_WAIT), "round {round}: the worker sent no requests\n{}", worker.stderr());
        worker.kill_hard();
        // What the dead worker left `running` must be recovered by the next one.
        let running = crew.json(&["list", "--json", "--status", "running", "--limit", "1000"]);
        let running: Vec<String> = running.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
        assert!(!running.is_empty(), "round {round}: nothing was running at the kill");
        assert!(running.len() <= CONCURRENCY);
        interrupted.extend(running);
    }

    let mut last = crew.spawn_logged("worker-final", &["worker", "--until-idle", "--concurrency", &concurrency]);
    let status = last.wait_exit(PROC_WAIT);
    assert_eq!(status.code(), Some(0), "final worker: {}", last.stderr());
    assert!(!last.stderr().contains("panicked"), "{}", last.stderr());

    // Every execution finished, successfully, with all three steps once.
    let all = crew.executions();
    assert_eq!(all.len(), executions);
    for e in &all {
        assert_eq!(e["status"], "succeeded", "{e}");
        assert_eq!(e["progress"]["completed_steps"], 3, "{e}");
        assert_eq!(e["progress"]["total_steps"], 3, "{e}");
    }
    for id in &ids {
        let lines = crew.logs_json(id);
        for task in TASKS {
            let completed = lines.iter().filter(|l| l["kind"] == "task_completed" && l["task"] == task).count();
            assert_eq!(completed, 1, "{id}: task {task} completed {completed} times: {:?}", log_kinds(&lines));
        }
        let recovered: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "recovered").collect();
        if interrupted.contains(id) {
            assert!(!recovered.is_empty(), "{id} was interrupted but has no `recovered` line: {:?}", log_kinds(&lines));
            for r in &recovered {
                // Recovered at start-up because its owner is gone (its lock is free), not after the lease.
                let message = r["message"].as_str().unwrap_or_default();
                assert!(message.contains("worker process is gone"), "{id}: {message}");
            }
        } else {
            assert!(recovered.is_empty(), "{id} was not interrupted but was recovered");
        }
    }
    // Each step's output is stored once (the table would refuse a second one; count anyway).
    let conn = rusqlite::Connection::open(crew.database()).unwrap();
    let steps: i64 = conn.query_row("SELECT count(*) FROM step_outputs", [], |r| r.get(0)).unwrap();
    assert_eq!(steps as usize, executions * TASKS.len());

    // The mock: every (item, task) asked at least once; redone at most once per kill; the extra
    // requests no more than what can be in flight at the kills.
    let mut per_key: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in mock.chat_requests() {
        let prompt = r.last_user_message();
        let key = request_key(&prompt).unwrap_or_else(|| panic!("a request names no task/item: {prompt}"));
        *per_key.entry(key).or_default() += 1;
    }
    assert_eq!(per_key.len(), executions * TASKS.len(), "{per_key:?}");
    for (key, n) in &per_key {
        assert!(*n <= 1 + kills, "{key:?} was requested {n} times");
        if kills == 1 {
            assert!(*n <= 2, "{key:?} was requested {n} times");
        }
    }
    let extra = mock.chat_count() - executions * TASKS.len();
    eprintln!("{kills} kill(s): {} interrupted executions, {extra} requests redone, {} aborted", interrupted.len(), mock.aborts());
    assert!(extra <= kills * CONCURRENCY, "{extra} extra requests after {kills} kill(s)");
}

#[test]
fn sigkill_mid_run_then_restart_finishes_everything_once() {
    kill_and_restart(30, 1);
}

#[test]
fn three_sigkills_in_a_row_still_finish_everything_once() {
    kill_and_restart(40, 3);
}
