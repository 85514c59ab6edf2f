//! Real-window steps of human review: a run pauses with the review panel, survives the app's
//! restart, and is answered from the panel (feedback, then Accept) until it succeeds.

use serde_json::json;

use super::{status_in_detail, submit_from_new_run, Driver};

/// Submits the reviewed crew from New run and waits for its review panel; returns the id.
pub async fn pause_for_review(d: &Driver, crew_cli: &crate::harness::Crew) -> String {
    let crew = crate::harness::fixture("gui/reviewed.yaml");
    let id = submit_from_new_run(d, &crew, "topic", "barn owls", "offline").await;
    status_in_detail(d, "awaiting input").await;
    d.until("the review panel", "const p = document.querySelector('[data-testid=review-panel]'); return p && p.textContent;", json!([]))
        .await;
    let stored = crew_cli.json(&["status", &id, "--json"]);
    assert_eq!((stored["status"].as_str(), stored["request"]["round"].as_u64()), (Some("awaiting_input"), Some(1)), "{stored}");
    let draft = d.js("return document.querySelector('[data-testid=review-draft]').textContent", json!([])).await;
    assert!(!draft.as_str().unwrap().trim().is_empty(), "the answer under review is shown");
    let task = d.js("return document.querySelector('tr[data-task=note] .badge').textContent", json!([])).await;
    assert_eq!(task, "awaiting_review");
    d.screenshot("9-run-detail-review").await;
    id
}

/// In the run's detail: sends feedback (the agent revises and it waits again), then accepts the
/// revision; the run succeeds with the accepted answer as its output.
pub async fn answer_review(d: &Driver, crew_cli: &crate::harness::Crew, id: &str) {
    d.go(&format!("#/run/{id}")).await;
    status_in_detail(d, "awaiting input").await;
    d.until("the review panel", "return document.querySelector('#review-feedback')", json!([])).await;
    d.js(
        "const box = document.querySelector('#review-feedback'); box.value = arguments[0]; box.dispatchEvent(new Event('input'));",
        json!(["Mention that barn owls hunt by sound."]),
    )
    .await;
    d.click("button[data-action='send-feedback']").await;
    d.until(
        "the revision to be asked about",
        "const p = document.querySelector('[data-testid=review-panel]'); return p && p.textContent.includes('revision 1 after your feedback');",
        json!([]),
    )
    .await;
    let revised = crew_cli.json(&["status", id, "--json"]);
    assert_eq!(revised["request"]["round"], 2, "{revised}");
    let logs = crew_cli.ok(&["logs", id]);
    assert!(logs.contains("Mention that barn owls hunt by sound."), "the feedback is in the log: {logs}");
    d.click("button[data-action='accept-review']").await;
    status_in_detail(d, "succeeded").await;
    let done = crew_cli.json(&["status", id, "--json"]);
    assert_eq!(done["output"], revised["request"]["draft"], "the accepted revision is the output: {done}");
    d.until("the output", "const o = document.querySelector('[data-testid=final-output]'); return o && o.textContent.trim();", json!([]))
        .await;
    d.screenshot("9b-run-detail-reviewed").await;
}
