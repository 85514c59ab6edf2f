//! Several `crew-runner worker` processes on one data dir: every execution runs exactly once.

use crate::harness;
use crate::support;

use std::collections::BTreeMap;

use harness::{fixture, submitted_ids, write_item_rows, Crew, PROC_WAIT};
use support::MockLlm;

const ROWS: usize = 500;

/// `row` followed by four digits: every item has the same width, so none is a prefix of another.
fn item(i: usize) -> String {
    format!("row{i:04}")
}

/// The items (`rowNNNN`) named in `text`.
fn items_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("row") {
        let tail = &rest[at + 3..];
        let digits: String = tail.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.len() == 4 {
            found.push(format!("row{digits}"));
        }
        rest = tail;
    }
    found
}

#[test]
fn two_workers_run_500_executions_each_exactly_once() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let items: Vec<String> = (0..ROWS).map(item).collect();
    let rows = crew.dir.path().join("rows.jsonl");
    write_item_rows(&rows, &items);

    let crew_file = fixture("proc/one-task.yaml");
    let submitted = crew.json(&["submit", crew_file.to_str().unwrap(), "--inputs-file", rows.to_str().unwrap(), "--json"]);
    let ids = submitted_ids(&submitted);
    assert_eq!(ids.len(), ROWS);

    let args = ["worker", "--until-idle", "--concurrency", "4"];
    let mut a = crew.spawn_logged("worker-a", &args);
    let mut b = crew.spawn_logged("worker-b", &args);
    let status_a = a.wait_exit(PROC_WAIT * 3);
    let status_b = b.wait_exit(PROC_WAIT * 3);
    assert_eq!(status_a.code(), Some(0), "worker a: {}", a.stderr());
    assert_eq!(status_b.code(), Some(0), "worker b: {}", b.stderr());
    assert!(!a.stderr().contains("panicked") && !b.stderr().contains("panicked"));

    // Every execution succeeded on its first attempt.
    let executions = crew.executions();
    assert_eq!(executions.len(), ROWS);
    for e in &executions {
        assert_eq!(e["status"], "succeeded", "{e}");
        assert_eq!(e["attempt"], 1, "{e}");
    }

    // The mock saw exactly one request per item.
    let mut per_item: BTreeMap<String, usize> = BTreeMap::new();
    for r in mock.chat_requests() {
        let named = items_in(&r.last_user_message());
        assert!(!named.is_empty(), "a request names no item: {}", r.last_user_message());
        for i in named.into_iter().collect::<std::collections::BTreeSet<_>>() {
            *per_item.entry(i).or_default() += 1;
        }
    }
    assert_eq!(mock.chat_count(), ROWS, "one request per execution");
    for i in &items {
        assert_eq!(per_item.get(i), Some(&1), "item {i}");
    }

    // Exactly one `started` line per execution (read from the database the workers wrote).
    let conn = rusqlite::Connection::open(crew.database()).expect("open the database");
    let mut stmt = conn
        .prepare(
            "SELECT e.id, (SELECT count(*) FROM execution_logs l WHERE l.execution_id = e.id AND l.kind = 'started') FROM executions e",
        )
        .unwrap();
    let started: Vec<(String, i64)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(started.len(), ROWS);
    for (id, n) in &started {
        assert_eq!(*n, 1, "execution {id} has {n} `started` lines");
    }
    // And through the binary, for a sample.
    for id in ids.iter().step_by(100) {
        let kinds = harness::log_kinds(&crew.logs_json(id));
        assert_eq!(kinds.iter().filter(|k| *k == "started").count(), 1, "{id}: {kinds:?}");
    }
}

/// The ids running under the worker process `pid` (owner `host:pid:nonce`), read from the database.
fn running_under(crew: &Crew, pid: u32) -> Vec<String> {
    let conn = rusqlite::Connection::open(crew.database()).expect("open the database");
    let mut stmt = conn.prepare("SELECT id FROM executions WHERE status = 'running' AND owner LIKE ?1").unwrap();
    let pattern = format!("%:{pid}:%");
    stmt.query_map([pattern], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_surviving_worker_recovers_what_a_killed_one_was_running() {
    use support::Reply;
    const N: usize = 40;
    let mock = MockLlm::start();
    for _ in 0..N + 10 {
        mock.push(Reply::delay(30, Reply::text("Thought: done\nFinal Answer: noted.")));
    }
    let crew = Crew::new(Some(&mock.base_url()));
    let items: Vec<String> = (0..N).map(item).collect();
    let rows = crew.dir.path().join("rows.jsonl");
    write_item_rows(&rows, &items);
    let crew_file = fixture("proc/one-task.yaml");
    crew.ok(&["submit", crew_file.to_str().unwrap(), "--inputs-file", rows.to_str().unwrap()]);

    let args = ["worker", "--until-idle", "--concurrency", "2"];
    let mut doomed = crew.spawn_logged("worker-doomed", &args);
    let mut survivor = crew.spawn_logged("worker-survivor", &args);
    // Wait (bounded) until the doomed worker runs something, then SIGKILL it.
    let deadline = std::time::Instant::now() + PROC_WAIT;
    while running_under(&crew, doomed.id()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "the doomed worker never ran anything: {}", doomed.stderr());
        assert!(doomed.child.try_wait().unwrap().is_none(), "the doomed worker ended early: {}", doomed.stderr());
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = doomed.id();
    doomed.kill_hard();
    let orphans = running_under(&crew, pid);

    let status = survivor.wait_exit(PROC_WAIT * 2);
    assert_eq!(status.code(), Some(0), "{}", survivor.stderr());
    for e in crew.executions() {
        assert_eq!(e["status"], "succeeded", "{e}");
    }
    for id in &orphans {
        let lines = crew.logs_json(id);
        let recovered: Vec<_> = lines.iter().filter(|l| l["kind"] == "recovered").collect();
        assert_eq!(recovered.len(), 1, "{id}: {:?}", harness::log_kinds(&lines));
        let message = recovered[0]["message"].as_str().unwrap();
        assert!(message.contains("worker process is gone"), "recovered without waiting for the lease: {message}");
    }
    // Redone: at most what the killed worker had in flight (its concurrency), each at most once.
    let mut per_item: BTreeMap<String, usize> = BTreeMap::new();
    for r in mock.chat_requests() {
        for i in items_in(&r.last_user_message()).into_iter().collect::<std::collections::BTreeSet<_>>() {
            *per_item.entry(i).or_default() += 1;
        }
    }
    assert_eq!(per_item.len(), N);
    assert!(per_item.values().all(|n| *n <= 2), "{per_item:?}");
    assert!(mock.chat_count() <= N + 2, "{} requests for {N} executions", mock.chat_count());
}
