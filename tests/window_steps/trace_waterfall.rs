//! The trace waterfall in the real window: a finished run's tasks with their calls nested, a
//! call's messages opened, tokens streaming live into a running call's row from the mock LLM's
//! streamed answer, and the render time of a run with 2,000 LLM calls.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use super::{status_in_detail, submit_from_new_run, support, Driver, GIVE_UP, POLL};

/// In the detail of the finished offline run `id` (blog-writer: three tasks, a file tool): task
/// rows with LLM and tool calls nested, keyboard navigation, and an LLM call opened with what it
/// sent and received; screenshot `10-trace-waterfall`.
pub async fn finished_run(d: &Driver, id: &str) {
    d.go(&format!("#/run/{id}")).await;
    status_in_detail(d, "succeeded").await;
    let rows = d
        .until(
            "the waterfall",
            "const rows = [...document.querySelectorAll('.wf-row')];
             return rows.length > 3 && rows.map((r) => [r.dataset.kind, r.getAttribute('aria-level'), r.dataset.status]);",
            json!([]),
        )
        .await;
    let rows = rows.as_array().unwrap();
    let kinds = |k: &str| rows.iter().filter(|r| r[0] == k).count();
    assert_eq!(kinds("task"), 3, "{rows:?}");
    assert!(kinds("llm_call") >= 3 && kinds("tool_call") >= 1, "{rows:?}");
    assert!(rows.iter().all(|r| r[2] == "ok"), "every span of a succeeded run is ok: {rows:?}");
    assert!(rows.iter().filter(|r| r[0] != "task").all(|r| r[1] == "2"), "calls nest under tasks: {rows:?}");

    // Keyboard: focus the first row, go down to its first call, open it with Enter.
    d.js("document.querySelector('.wf-row').focus()", json!([])).await;
    d.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}))", json!([])).await;
    let focused = d.js("return document.activeElement.dataset.kind", json!([])).await;
    assert_eq!(focused, "llm_call");
    d.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}))", json!([])).await;
    let roles = d
        .until(
            "the call's messages",
            "const m = [...document.querySelectorAll('[data-testid=trace-messages] .wf-message')]; return m.length > 0 && m.map((e) => e.dataset.role);",
            json!([]),
        )
        .await;
    assert_eq!(roles.as_array().unwrap()[..2], [json!("system"), json!("user")], "{roles}");
    let answer = d.js("return document.querySelector('[data-testid=trace-response]').textContent", json!([])).await;
    assert!(!answer.as_str().unwrap().trim().is_empty(), "the first call (no tools offered) answers in text: {answer}");
    d.screenshot("10-trace-waterfall").await;
}

/// A run on the configured model (the mock LLM): the mock streams half its answer and holds; the
/// running call's row shows the streamed half live; once released the run succeeds and the call
/// opens with the messages the mock received. Screenshots `11-trace-live`, `12-trace-call`.
pub async fn live_tokens(d: &Driver, mock: &support::MockLlm, crew: &Path) {
    let answer = "Durable queues keep every job on disk so a crash loses nothing. \
                  Workers lease jobs and heartbeat while they run them. \
                  Retries back off so a failing endpoint is not hammered.";
    mock.push(support::Reply::StreamHeld(answer.to_string()));
    submit_from_new_run(d, crew, "topic", "streamed tokens", "configured").await;
    let started = Instant::now();
    while mock.held() == 0 {
        assert!(started.elapsed() < GIVE_UP, "the mock was never asked");
        tokio::time::sleep(POLL).await;
    }
    let live = d
        .until(
            "tokens in the running call's row",
            "const r = document.querySelector('.wf-row.kind-llm_call[data-status=running] .wf-live');
             return r && !r.hidden && r.textContent;",
            json!([]),
        )
        .await;
    let live = live.as_str().unwrap();
    assert!(answer.starts_with(live.trim_end()) && live.contains("Durable queues"), "the streamed half: {live:?}");
    assert!(!live.contains("Retries back off"), "only the first half was streamed yet: {live:?}");
    d.click(".wf-row.kind-llm_call[data-status=running]").await;
    d.until(
        "the live answer in the open detail",
        "const p = document.querySelector('[data-testid=live-answer]'); return p && p.textContent.includes('Durable queues');",
        json!([]),
    )
    .await;
    d.screenshot("11-trace-live").await;

    mock.release();
    status_in_detail(d, "succeeded").await;
    // The open call turns into its messages once it ended.
    let sent = d
        .until(
            "the ended call's messages",
            "const m = [...document.querySelectorAll('[data-testid=trace-messages] .wf-message')];
             const r = document.querySelector('[data-testid=trace-response]');
             return m.length > 1 && r && { roles: m.map((e) => e.dataset.role), user: m.find((e) => e.dataset.role === 'user').textContent, answer: r.textContent };",
            json!([]),
        )
        .await;
    assert_eq!(sent["answer"], answer, "{sent}");
    let received = mock.chat_requests().into_iter().last().unwrap();
    assert!(sent["user"].as_str().unwrap().contains(&received.last_user_message()[..40]), "{sent}");
    assert!(sent["user"].as_str().unwrap().contains("streamed tokens"));
    let page = d.js("return document.documentElement.outerHTML", json!([])).await;
    assert!(!page.as_str().unwrap().contains(super::CANARY_KEY), "the trace shows the key");
    d.screenshot("12-trace-call").await;
}

/// A run with 2,000 LLM calls (2,000 one-call tasks on the configured model, the mock LLM: 4,000
/// rows), submitted from the CLI and run by the app; prints how long fetching its trace and drawing
/// the waterfall take in the window (medians of 5) and writes them to `trace-render.json` beside
/// the screenshots. Nothing is asserted about the times.
pub async fn two_thousand_calls(d: &Driver, crew_cli: &crate::harness::Crew, out_dir: &Path) {
    let mut yaml = String::from(
        "name: two_thousand_calls\nprocess: sequential\nllm: openai/gpt-4o-mini\nagents:\n  writer:\n    role: Writer\n    goal: Answer briefly\n    backstory: Writes one line.\ntasks:\n",
    );
    for i in 0..2000 {
        yaml.push_str(&format!("  t{i}:\n    description: Say one thing about owls ({i}).\n    expected_output: One line.\n    agent: writer\n    context: []\n"));
    }
    let crew = crew_cli.write("two-thousand-calls.yaml", &yaml);
    let id = crew_cli.ok(&["submit", crew.to_str().unwrap()]).trim().to_string();
    // Run by the app while the window shows the Queue; the finished run's detail is measured.
    d.go("#/queue").await;
    crew_cli.ok(&["wait", &id, "--timeout", "5m"]);
    d.go(&format!("#/run/{id}")).await;
    status_in_detail(d, "succeeded").await;
    let rows = d
        .until(
            "the big waterfall",
            "const w = document.querySelector('.waterfall'); return w && Number(w.dataset.rows) >= 4000 && Number(w.dataset.rows);",
            json!([]),
        )
        .await;
    assert_eq!(rows, 4000, "2,000 tasks of one LLM call each");
    let measured = d
        .js_async(
            "const done = arguments[arguments.length - 1];
             const id = arguments[0];
             const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
             const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
             (async () => {
               const fetches = [], draws = [], shows = [];
               for (let i = 0; i < 5; i++) {
                 const t0 = performance.now();
                 const trace = await window.__TAURI_INTERNALS__.invoke('get_execution_trace', { id });
                 fetches.push(performance.now() - t0);
                 if (trace.totals.llm_calls !== 2000) throw new Error('llm_calls ' + trace.totals.llm_calls);
               }
               for (let i = 0; i < 10; i++) {
                 // Collapse or expand the first task: the whole waterfall is drawn again.
                 await frame();
                 const t0 = performance.now();
                 document.querySelector('.wf-row .wf-toggle').click();
                 document.body.offsetHeight;
                 await frame();
                 if (i % 2 === 1) { draws.push(performance.now() - t0); shows.push(Number(document.querySelector('.waterfall').dataset.renderMs)); }
               }
               const size = JSON.stringify(await window.__TAURI_INTERNALS__.invoke('get_execution_trace', { id })).length;
               const w = document.querySelector('.waterfall');
               done({ fetch_ms: median(fetches), draw_ms: median(draws), show_ms: median(shows), rows: Number(w.dataset.rows), drawn_rows: document.querySelectorAll('.wf-row').length, trace_bytes: size });
             })().catch((e) => done({ error: String(e) }));",
            json!([id]),
        )
        .await;
    eprintln!("2,000-call waterfall: {measured}");
    assert!(measured.get("error").is_none(), "{measured}");
    assert_eq!(measured["rows"], 4000, "{measured}");
    assert!(measured["drawn_rows"].as_u64().unwrap() < 200, "only the rows in view are drawn: {measured}");
    // The keyboard reaches the last row: it is scrolled into view and drawn.
    d.js("document.querySelector('.wf-row').focus(); document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'End', bubbles: true}))", json!([])).await;
    let last = d.until("the last row focused", "return document.activeElement && document.activeElement.dataset.index", json!([])).await;
    assert_eq!(last, "3999");
    std::fs::write(out_dir.join("trace-render.json"), serde_json::to_string_pretty(&measured).unwrap()).unwrap();
}
