//! `crew-runner trace ID` through the binary: a two-task crew with a tool call run against the mock
//! LLM; the trace nests each task's LLM and tool calls with the mock's tokens and a known cost;
//! `--call N` shows exactly the messages the mock received, the API key redacted (and it is in no
//! output and nowhere in the database); `trace_payloads = metadata` keeps no payloads; prune
//! counts them.

use crate::harness;
use crate::support;

use harness::{arg, Crew};
use serde_json::{json, Value};
use support::{MockLlm, Reply};

/// The key `Crew::new` gives the binary (`OPENAI_API_KEY`).
const KEY: &str = "sk-test-secret-key";

fn crew_file(crew: &Crew) -> std::path::PathBuf {
    std::fs::create_dir_all(crew.dir.path().join("crew/ws")).unwrap();
    std::fs::write(crew.dir.path().join("crew/ws/notes.txt"), "The queue is durable.").unwrap();
    crew.write(
        "crew/crew.yaml",
        "name: traced\nllm: openai/gpt-4o-mini\nworkspace: ws\nagents:\n  reader:\n    role: Reader\n    goal: Read notes\n    \
         backstory: Careful.\n    tools: [read_file]\ntasks:\n  read:\n    description: Read notes.txt.\n    expected_output: The note.\n    \
         agent: reader\n  sum_up:\n    description: Sum the note up.\n    expected_output: One line.\n    agent: reader\n",
    )
}

/// Runs the crew (the first task reads a file with a tool) and returns the execution's id.
fn run(crew: &Crew, mock: &MockLlm) -> String {
    mock.push(Reply::tool_call("read_file", json!({"path": "notes.txt"})));
    mock.push(Reply::text("Final Answer: The queue is durable."));
    mock.push(Reply::text("Final Answer: Durable queue."));
    let e = crew.json(&["--run", &arg(&crew_file(crew)), "--json"]);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    e["id"].as_str().unwrap().to_string()
}

fn spans_of<'a>(trace: &'a Value, kind: &str) -> Vec<&'a Value> {
    trace["spans"].as_array().unwrap().iter().filter(|s| s["kind"] == kind).collect()
}

/// Every byte of the database and its write-ahead log.
fn database_bytes(crew: &Crew) -> Vec<u8> {
    let db = crew.database();
    let mut bytes = std::fs::read(&db).unwrap();
    let wal = db.with_extension("db-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn the_trace_nests_calls_under_tasks_and_a_call_shows_what_the_model_received() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let id = run(&crew, &mock);

    let trace = crew.json(&["trace", &id, "--json"]);
    assert_eq!((trace["execution_id"].as_str(), trace["status"].as_str()), (Some(id.as_str()), Some("succeeded")));
    assert_eq!(trace["payloads"], "full");
    let tasks = spans_of(&trace, "task");
    assert_eq!(tasks.iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), ["read", "sum_up"]);
    assert!(tasks.iter().all(|t| t["parent"].is_null() && t["status"] == "ok" && t["agent"] == "Reader"), "{trace:#}");
    let llm = spans_of(&trace, "llm_call");
    let tools = spans_of(&trace, "tool_call");
    assert_eq!((llm.len(), tools.len()), (3, 1), "{trace:#}");
    let parents: Vec<&Value> = llm.iter().map(|s| &s["parent"]).collect();
    assert_eq!(parents, [&tasks[0]["id"], &tasks[0]["id"], &tasks[1]["id"]]);
    assert_eq!(tools[0]["parent"], tasks[0]["id"]);
    assert_eq!(tools[0]["name"], "read_file");
    assert_eq!(tools[0]["detail"]["output"], "The queue is durable.");
    assert_eq!(tools[0]["status"], "ok");
    for span in trace["spans"].as_array().unwrap() {
        assert!(span["end_ms"].as_i64().unwrap() >= span["start_ms"].as_i64().unwrap(), "{span:#}");
        assert_eq!(span["attempt"], 1);
    }
    for s in &llm {
        assert_eq!(s["model"], "openai/gpt-4o-mini");
        assert!(s["usage"]["prompt_tokens"].as_u64().unwrap() > 0 && s["cost_usd"].as_f64().unwrap() > 0.0, "{s:#}");
        assert!(s["call"].is_u64(), "a payload was kept: {s:#}");
    }
    // The tokens are the mock's, as the execution counted them; the price is known.
    let usage = crew.status(&id)["usage"].clone();
    assert_eq!(trace["totals"]["total_tokens"], usage["total_tokens"]);
    assert_eq!(trace["totals"]["prompt_tokens"], usage["prompt_tokens"]);
    assert_eq!((trace["totals"]["llm_calls"].as_u64(), trace["totals"]["tool_calls"].as_u64()), (Some(3), Some(1)));
    let cost = trace["totals"]["cost_usd"].as_f64().unwrap();
    assert!((cost - usage["cost_usd"].as_f64().unwrap()).abs() < 1e-12, "{cost} vs {usage}");

    // The first call: exactly the messages the mock received, and its answer (a tool call).
    let first = llm[0]["call"].as_u64().unwrap().to_string();
    let call = crew.json(&["trace", &id, "--call", &first, "--json"]);
    let sent = &mock.chat_requests()[0].body["messages"];
    let got = call["messages"].as_array().unwrap();
    assert_eq!(got.len(), sent.as_array().unwrap().len());
    for (mine, theirs) in got.iter().zip(sent.as_array().unwrap()) {
        assert_eq!((&mine["role"], &mine["content"]), (&theirs["role"], &theirs["content"]));
    }
    assert_eq!((got[0]["role"].as_str(), got[1]["role"].as_str()), (Some("system"), Some("user")));
    assert_eq!(call["tools"], json!(["read_file"]));
    assert_eq!(call["response"]["tool_calls"], json!([{"name": "read_file", "arguments": "{\"path\":\"notes.txt\"}"}]));
    assert!(call["endpoint"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{call:#}");
    assert_eq!(call["usage"], llm[0]["usage"]);
    assert_eq!(call["model"], "openai/gpt-4o-mini");
    // The second call carries the tool's result back.
    let second = crew.json(&["trace", &id, "--call", &llm[1]["call"].as_u64().unwrap().to_string(), "--json"]);
    let roles: Vec<&str> = second["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool"]);
    assert_eq!(second["messages"][3]["content"], "The queue is durable.");
    assert_eq!(second["response"]["content"], "Final Answer: The queue is durable.");

    // Text: one line per span, calls marked; the call's messages under their roles.
    let text = crew.ok(&["trace", &id]);
    assert!(text.lines().any(|l| l.contains("task read (Reader)") && l.contains(" ok ")), "{text}");
    assert!(text.lines().any(|l| l.contains("llm openai/gpt-4o-mini [call ")), "{text}");
    assert!(text.lines().any(|l| l.contains("tool read_file: The queue is durable.")), "{text}");
    let shown = crew.ok(&["trace", &id, "--call", &first]);
    assert!(shown.contains("--- system ---") && shown.contains("--- user ---") && shown.contains("→ calls read_file("), "{shown}");

    // The key is in no output and nowhere in the database.
    for out in [&trace.to_string(), &call.to_string(), &second.to_string(), &text, &shown] {
        assert!(!out.contains(KEY));
    }
    assert!(!contains(&database_bytes(&crew), KEY), "the API key is stored");
}

#[test]
fn metadata_keeps_no_payloads_and_prune_counts_them() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let full = run(&crew, &mock);
    crew.ok(&["config", "set", "trace_payloads", "metadata"]);
    let lean = run(&crew, &mock);

    let trace = crew.json(&["trace", &lean, "--json"]);
    assert_eq!(trace["payloads"], "metadata");
    let llm = spans_of(&trace, "llm_call");
    assert_eq!(llm.len(), 3);
    assert!(llm.iter().all(|s| s["call"].is_null() && s["usage"]["total_tokens"].as_u64().unwrap() > 0), "{trace:#}");
    // The call numbers are the completion lines' seqs: ask for one of them.
    let completed = crew.logs(&lean).into_iter().find(|l| l["kind"] == "llm_call_completed").unwrap();
    let out = crew.outcome(&["trace", &lean, "--call", &completed["seq"].to_string()]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("were not kept"), "{}", out.stderr);
    let out = crew.outcome(&["trace", &lean, "--call", "1"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("has no LLM call 1"), "{}", out.stderr);

    // Unknown and malformed ids are refused as elsewhere.
    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    assert!(crew.usage_error(&["trace", unknown]).contains(unknown));
    crew.usage_error(&["trace", "nope"]);

    // Only the first run's three payloads are stored; prune removes and counts them.
    let report = crew.json(&["prune", "--keep", "0", "--json"]);
    assert_eq!(report["removed"]["executions"], 2, "{report:#}");
    assert_eq!(report["removed"]["payloads"], 3, "{report:#}");
    assert!(report["removed"]["payload_bytes"].as_u64().unwrap() > 0, "{report:#}");
    crew.usage_error(&["trace", &full]);
}
