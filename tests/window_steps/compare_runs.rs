//! The Compare view in the real window: two runs of one crew that differ in their second task,
//! picked with the Queue's checkboxes, compared side by side with that task highlighted.

use std::path::Path;

use serde_json::json;

use super::{harness, Driver};

/// Runs the `compare-topic` crew twice (submitted from the CLI, run by the app) with different
/// topics, selects both in the Queue, opens Compare and checks the highlighted first difference
/// (`article`) and its word diff; screenshot `9-compare`.
pub(crate) async fn compare_two_runs(d: &Driver, crew_cli: &harness::Crew) {
    let crew = harness::repo_root().join("tests/fixtures/gui/compare-topic.yaml");
    let a = submit(crew_cli, &crew, "job queues");
    let b = submit(crew_cli, &crew, "file locks");
    d.go("#/queue").await;
    for id in [&a, &b] {
        d.until(
            "a compared run to finish",
            "const r = document.querySelector(`tr[data-id=\"${arguments[0]}\"]`); return r && r.dataset.status === 'succeeded';",
            json!([id]),
        )
        .await;
    }
    d.until("the compare button disabled with no pick", "return document.querySelector('#compare-selected').disabled", json!([])).await;
    d.click(&format!("input.compare-pick[data-id=\"{a}\"]")).await;
    d.click(&format!("input.compare-pick[data-id=\"{b}\"]")).await;
    d.until("the compare button enabled", "const c = document.querySelector('#compare-selected'); return c && !c.disabled;", json!([]))
        .await;
    d.click("#compare-selected").await;

    let first = d
        .until(
            "the first difference highlighted",
            "const r = document.querySelector('.compare-tasks tr.first-difference'); return r && r.dataset.task;",
            json!([]),
        )
        .await;
    assert_eq!(first, json!("article"));
    let view = d
        .js(
            "const rows = [...document.querySelectorAll('.compare-tasks tbody tr')];
             const first = document.querySelector('.compare-tasks tr.first-difference').getBoundingClientRect();
             return {
               hash: location.hash,
               rows: rows.map((r) => [r.dataset.task, r.className]),
               note: document.querySelector('#first-difference').textContent,
               deleted: [...document.querySelectorAll('.task-diff.first-difference pre.diff del')].map((e) => e.textContent).join(' ').toLowerCase(),
               inserted: [...document.querySelectorAll('.task-diff.first-difference pre.diff ins')].map((e) => e.textContent).join(' ').toLowerCase(),
               visible: first.top >= 0 && first.bottom <= window.innerHeight,
               inputs: [...document.querySelectorAll('.compare-summary tbody tr')].find((r) => r.firstChild.textContent === 'Inputs').textContent,
             };",
            json!([]),
        )
        .await;
    eprintln!("compare view: {view}");
    assert_eq!(view["hash"], format!("#/compare/{a}/{b}"), "{view}");
    assert_eq!(view["rows"], json!([["outline", "same"], ["article", "differs first-difference"]]), "{view}");
    assert_eq!(view["note"], "First difference: task article", "{view}");
    assert!(view["deleted"].as_str().unwrap().contains("queues") && view["inserted"].as_str().unwrap().contains("locks"), "{view}");
    assert_eq!(view["visible"], true, "the first difference is scrolled into view: {view}");
    assert!(view["inputs"].as_str().unwrap().contains("topic=job queues"), "{view}");
    d.screenshot("9-compare").await;
}

fn submit(crew_cli: &harness::Crew, crew: &Path, topic: &str) -> String {
    crew_cli.ok(&["submit", crew.to_str().unwrap(), "--input", &format!("topic={topic}")]).trim().to_string()
}
