//! Several `crew-runner worker` processes on one data dir: every execution runs exactly once.

mod harness;
mod support;

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
        .prepare("SELECT e.id, (SELECT count(*) FROM execution_logs l WHERE l.execution_id = e.id AND l.kind = 'started') FROM executions e")
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
