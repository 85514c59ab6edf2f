//! The `crew-runner` binary on the examples and on invalid crews and inputs: what runs offline, and
//! what is refused with exit 2 before anything is recorded.

use crate::harness;
use crate::support;

use harness::{arg, copy_tree, fixture, repo_root, Crew};
use support::MockLlm;

/// Copies `examples/<name>` into the crew's temp dir (crews write into their workspace).
fn example(crew: &Crew, name: &str) -> std::path::PathBuf {
    let dest = crew.dir.path().join("examples").join(name);
    copy_tree(&repo_root().join("examples").join(name), &dest);
    dest
}

fn only_execution(crew: &Crew) -> serde_json::Value {
    let all = crew.executions();
    assert_eq!(all.len(), 1, "one execution expected: {all:#?}");
    all[0].clone()
}

#[test]
fn research_crew_example_runs_offline() {
    let crew = Crew::new(None);
    let dir = example(&crew, "research-crew");
    let out = crew.ok(&["--run", &arg(&dir)]);
    assert!(!out.trim().is_empty(), "no output");
    assert_eq!(only_execution(&crew)["status"], "succeeded");
}

#[test]
fn blog_writer_example_writes_its_files() {
    let crew = Crew::new(None);
    let file = example(&crew, "blog-writer.yaml");
    let out = crew.ok(&["--run", &arg(&file)]);
    assert!(!out.trim().is_empty(), "no output");
    let workspace = file.parent().unwrap().join("workspace/blog-writer");
    for name in ["post.md", "post-final.md"] {
        let text = std::fs::read_to_string(workspace.join(name)).unwrap_or_else(|e| panic!("{name} not written: {e}"));
        assert!(!text.trim().is_empty(), "{name} is empty");
    }
}

#[test]
fn graph_example_runs_and_logs_delegations() {
    let crew = Crew::new(None);
    let file = example(&crew, "support-graph.json");
    let out = crew.ok(&["--run", &arg(&file)]);
    assert!(!out.trim().is_empty(), "no output");
    let e = only_execution(&crew);
    assert_eq!(e["status"], "succeeded");
    let logs = crew.logs(e["id"].as_str().unwrap());
    assert!(logs.iter().any(|l| l["kind"] == "delegation"), "no delegation lines: {logs:#?}");
}

#[test]
fn yaml_syntax_error_is_refused_naming_the_file() {
    let crew = Crew::new(None);
    let file = crew.write("broken.yaml", "name: broken\nagents:\n  worker: [unclosed\ntasks: {}\n");
    let err = crew.usage_error(&["--run", &arg(&file)]);
    assert!(err.contains("broken.yaml"), "stderr does not name the file: {err}");
    crew.assert_nothing_recorded();
}

#[test]
fn unknown_agent_is_refused_naming_file_and_field() {
    let crew = Crew::new(None);
    let text = std::fs::read_to_string(fixture("cli/one-step.yaml")).unwrap().replace("agent: worker", "agent: nobody");
    let file = crew.write("unknown-agent.yaml", &text);
    let err = crew.usage_error(&["--run", &arg(&file), "--input", "item=1"]);
    assert!(err.contains("unknown-agent.yaml"), "stderr does not name the file: {err}");
    assert!(err.contains("nobody"), "stderr does not name the unknown agent: {err}");
    assert!(err.contains("only_step"), "stderr does not name the task: {err}");
    crew.assert_nothing_recorded();
}

#[test]
fn missing_crew_file_is_refused() {
    let crew = Crew::new(None);
    let missing = crew.dir.path().join("no-such-crew.yaml");
    let err = crew.usage_error(&["--run", &arg(&missing)]);
    assert!(err.contains("no-such-crew.yaml"), "stderr does not name the file: {err}");
    let err = crew.usage_error(&["submit", &arg(&missing)]);
    assert!(err.contains("no-such-crew.yaml"), "stderr does not name the file: {err}");
    crew.assert_nothing_recorded();
}

#[test]
fn missing_inputs_are_all_listed() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let file = arg(&fixture("cli/two-inputs.yaml"));
    let err = crew.usage_error(&["--run", &file]);
    assert!(err.contains("topic") && err.contains("audience"), "not every missing input named: {err}");
    let err = crew.usage_error(&["--run", &file, "--input", "topic=queues"]);
    assert!(err.contains("audience"), "missing input not named: {err}");
    assert!(!err.contains("topic"), "a given input is reported missing: {err}");
    let err = crew.usage_error(&["submit", &file, "--input", "audience=engineers"]);
    assert!(err.contains("topic"), "missing input not named: {err}");
    crew.assert_nothing_recorded();
}

#[test]
fn inputs_from_flags_and_from_a_json_file_fill_the_placeholders() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = arg(&fixture("cli/two-inputs.yaml"));
    let inputs = crew.write("inputs.json", r#"{"topic": "durable queues", "audience": "file readers"}"#);
    crew.ok(&["--run", &file, "--inputs", &arg(&inputs), "--input", "audience=flag readers"]);
    let prompts: Vec<String> = mock.chat_requests().iter().map(|r| r.last_user_message()).collect();
    assert_eq!(prompts.len(), 1, "{prompts:#?}");
    assert!(prompts[0].contains("Write about durable queues for flag readers"), "inputs not filled: {}", prompts[0]);
    let e = only_execution(&crew);
    assert_eq!(e["inputs"]["topic"], "durable queues");
    assert_eq!(e["inputs"]["audience"], "flag readers");
}

#[test]
fn inputs_that_no_placeholder_uses_are_warned_about_and_the_run_goes_on() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = arg(&fixture("cli/two-inputs.yaml"));
    let out = crew.outcome(&["--run", &file, "--input", "topic=queues", "--input", "audience=ops", "--input", "tpoic=typo"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let warnings: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "one warning expected: {}", out.stderr);
    assert!(warnings[0].contains("two-inputs.yaml") && warnings[0].contains("tpoic"), "{}", warnings[0]);
    assert!(!warnings[0].contains("input topic") && !warnings[0].contains("audience,"), "a used input is named: {}", warnings[0]);
    let e = only_execution(&crew);
    assert_eq!((e["status"].as_str(), e["inputs"]["tpoic"].as_str()), (Some("succeeded"), Some("typo")));

    // Every input used: no warning.
    let out = crew.outcome(&["--run", &file, "--input", "topic=queues", "--input", "audience=ops"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);

    // A batch: each row's unused inputs named, each distinct warning once.
    let rows = crew.write("rows.jsonl", "{\"x\": 1}\n{\"y\": 2}\n{\"x\": 3}\n");
    let out = crew.outcome(&["--run", &file, "--input", "topic=queues", "--input", "audience=ops", "--inputs-file", &arg(&rows)]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let warnings: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 2, "{}", out.stderr);
    assert!(warnings[0].contains("input x ") && warnings[1].contains("input y "), "{warnings:#?}");
}

#[test]
fn unreadable_inputs_file_is_refused() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let file = arg(&fixture("cli/two-inputs.yaml"));
    let bad = crew.write("inputs.json", "[1, 2]");
    let err = crew.usage_error(&["--run", &file, "--inputs", &arg(&bad)]);
    assert!(err.contains("inputs.json"), "stderr does not name the file: {err}");
    crew.usage_error(&["--run", &file, "--inputs", &arg(&crew.dir.path().join("absent.json"))]);
    crew.assert_nothing_recorded();
}

#[test]
fn validate_lists_required_inputs() {
    let crew = Crew::new(None);
    let file = arg(&fixture("cli/two-inputs.yaml"));
    let text = crew.ok(&["validate", &file]);
    assert!(text.contains("required inputs:"), "{text}");
    assert!(text.contains("audience") && text.contains("topic"), "{text}");
    let report = crew.json(&["validate", &file, "--json"]);
    let names: Vec<&str> = report["required_inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["audience", "topic"]);
    assert_eq!(report["crew"]["name"], "two_inputs");
}

#[test]
fn validate_refuses_an_invalid_crew() {
    let crew = Crew::new(None);
    let file = crew.write("broken.yaml", "name: x\ntasks: [\n");
    let err = crew.usage_error(&["validate", &arg(&file)]);
    assert!(err.contains("broken.yaml"), "{err}");
    crew.usage_error(&["validate", &arg(&crew.dir.path().join("absent.yaml"))]);
}

#[test]
fn unknown_model_provider_is_refused_at_submit() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let file = arg(&fixture("cli/one-step.yaml"));
    let err = crew.usage_error(&["--run", &file, "--input", "item=1", "--model", "foo/bar"]);
    assert!(err.contains("foo"), "stderr does not name the provider: {err}");
    crew.usage_error(&["submit", &file, "--input", "item=1", "--model", "foo/bar"]);
    crew.assert_nothing_recorded();
}

#[test]
fn missing_api_key_is_refused_at_submit() {
    let crew = Crew::new(None);
    let file = arg(&fixture("cli/one-step.yaml"));
    let err = crew.usage_error(&["--run", &file, "--input", "item=1"]);
    assert!(err.contains("OPENAI_API_KEY") && err.contains("agents.worker.llm"), "{err}");
    crew.usage_error(&["submit", &file, "--input", "item=1"]);
    crew.assert_nothing_recorded();
}

#[test]
fn offline_model_overrides_the_crew_model_without_a_key() {
    let crew = Crew::new(None);
    let file = arg(&fixture("cli/one-step.yaml"));
    let out = crew.ok(&["--run", &file, "--input", "item=7", "--model", "offline"]);
    assert!(!out.trim().is_empty());
    assert_eq!(only_execution(&crew)["status"], "succeeded");
}

/// The node of `graph` with this id.
fn node<'a>(graph: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    graph["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap_or_else(|| panic!("no node {id}: {graph:#}"))
}

fn edge_kinds(graph: &serde_json::Value) -> std::collections::BTreeSet<String> {
    graph["edges"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

#[test]
fn validate_json_draws_the_crew_graph_of_every_format_with_warnings_on_their_nodes() {
    let crew = Crew::new(None);
    // A single file: context edge, async group, a tool, and two warnings pinned to the agent.
    let file = crew.write(
        "warned.yaml",
        "name: warned\nprocess: sequential\nllm: offline\nagents:\n  writer:\n    role: Writer\n    goal: Write\n    backstory: Writes.\n    mystery_field: 3\n    tools: [FileReadTool]\ntasks:\n  draft:\n    description: Draft it.\n    expected_output: A draft.\n    agent: writer\n    async_execution: true\n  review:\n    description: Review it.\n    expected_output: A review.\n    agent: writer\n    context: [draft]\n",
    );
    let report = crew.json(&["validate", &arg(&file), "--json"]);
    let graph = &report["graph"];
    let writer = node(graph, "agent:writer");
    assert_eq!(writer["kind"], "agent");
    let pinned: Vec<&str> = writer["warnings"].as_array().unwrap().iter().map(|w| w["field"].as_str().unwrap()).collect();
    assert_eq!(pinned, ["agents.writer.mystery_field"], "{graph:#}");
    assert_eq!(writer["warnings"][0]["line"], 9, "the warning keeps its line");
    assert_eq!(node(graph, "task:draft")["warnings"], serde_json::json!([]));
    assert_eq!(edge_kinds(graph), ["context", "performs", "uses"].map(String::from).into(), "{graph:#}");
    assert!(graph["edges"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"from": "task:draft", "kind": "context", "to": "task:review"})));
    assert_eq!(graph["async_groups"], serde_json::json!([{"tasks": ["task:draft"]}]));
    assert!(graph["nodes"].as_array().unwrap().iter().any(|n| n["kind"] == "tool"), "{graph:#}");

    // A CrewAI project folder and the visual editor's graph JSON (a hierarchical manager).
    let project = crew.json(&["validate", &arg(&example(&crew, "research-crew")), "--json"]);
    assert!(edge_kinds(&project["graph"]).contains("context"), "{:#}", project["graph"]);
    let editor = crew.json(&["validate", &arg(&example(&crew, "support-graph.json")), "--json"]);
    let editor_graph = &editor["graph"];
    assert!(editor_graph["nodes"].as_array().unwrap().iter().any(|n| n["kind"] == "manager"), "{editor_graph:#}");
    assert!(edge_kinds(editor_graph).contains("delegates"), "{editor_graph:#}");
    // Nothing was recorded by validating.
    assert!(crew.executions().is_empty());
}
