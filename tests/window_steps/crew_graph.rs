//! The crew graph in the real window: New run draws a crew with a loader warning, the badge on the
//! node it concerns and its details on Enter; Run detail colours a finished run's tasks `done`.
//! A CrewAI project folder and the visual editor's graph JSON are drawn too, each with a warning
//! on its node; the CrewAI engine's Python crews are covered by `tests/gui_commands.rs`.

use std::path::Path;

use serde_json::json;

use super::Driver;

/// A single-file crew whose agent `writer` names a tool the loader drops (a warning about
/// `agents.writer.tools`), with two async tasks and a context edge.
const WARNED_CREW: &str = "name: warned_graph
llm: offline
agents:
  researcher: {role: Researcher, goal: Find facts, backstory: B}
  writer: {role: Writer, goal: Write, backstory: B, tools: [MagicTool]}
tasks:
  market: {description: Market facts, expected_output: Facts, agent: researcher, async_execution: true}
  tech: {description: Tech facts, expected_output: Facts, agent: researcher, async_execution: true}
  post: {description: Write the post, expected_output: A post, agent: writer, context: [market, tech]}
";

/// Shows the graph of a crew with a warning in New run (the crew is written into `dir`), then the
/// graph of the finished execution `finished` in Run detail; screenshots of both.
pub(crate) async fn shown_in_new_run_and_run_detail(d: &Driver, dir: &Path, finished: &str) {
    let crew = dir.join("warned-graph.yaml");
    std::fs::write(&crew, WARNED_CREW).unwrap();
    d.go("#/new").await;
    d.until("new run", "return document.querySelector('#crew-path')", json!([])).await;
    d.js("document.querySelector('#crew-path').value = arguments[0]; document.querySelector('#engine').value = 'native';", json!([crew]))
        .await;
    d.click("#validate-crew").await;
    d.until(
        "the crew graph",
        "return document.querySelector('[data-testid=crew-graph]:not([hidden]) [data-node=\"task:post\"]')",
        json!([]),
    )
    .await;
    let drawn = d
        .js(
            "const g = document.querySelector('[data-testid=crew-graph]');
             const badges = [...g.querySelectorAll('.graph-warning')];
             return {
               nodes: [...g.querySelectorAll('[data-node]')].map((n) => n.getAttribute('data-node')).sort(),
               badged: badges.map((b) => b.closest('[data-node]').getAttribute('data-node')),
               edges: g.querySelectorAll('path.graph-edge').length,
               groups: g.querySelectorAll('.graph-async-group').length,
               tabStops: [...g.querySelectorAll('[data-node]')].filter((n) => n.getAttribute('tabindex') === '0').length,
             };",
            json!([]),
        )
        .await;
    assert_eq!(
        drawn["nodes"],
        json!(["agent:researcher", "agent:writer", "task:market", "task:post", "task:tech"]),
        "the dropped tool is not drawn: {drawn}"
    );
    assert_eq!(drawn["badged"], json!(["agent:writer"]), "{drawn}");
    assert_eq!(drawn["edges"], 5, "3 performs + 2 context: {drawn}");
    assert_eq!(drawn["groups"], 1, "{drawn}");
    assert_eq!(drawn["tabStops"], 1, "{drawn}");
    // Keyboard: focus the writer, Enter shows its details with the warning.
    d.js(
        "const n = document.querySelector('[data-node=\"agent:writer\"]'); n.focus();
         n.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));",
        json!([]),
    )
    .await;
    let details = d
        .until(
            "the writer's details",
            "const t = document.querySelector('[data-testid=graph-details]').textContent; return t.includes('MagicTool') && t;",
            json!([]),
        )
        .await;
    assert!(details.as_str().unwrap().contains("agent: Writer"), "{details}");
    let focused = d.js("return document.activeElement && document.activeElement.getAttribute('data-node')", json!([])).await;
    assert_eq!(focused, "agent:writer");
    d.js("const g = document.querySelector('[data-testid=crew-graph]'); window.scrollTo(0, g.getBoundingClientRect().top + window.scrollY - 90);", json!([])).await;
    d.screenshot("2b-crew-graph-new-run").await;

    d.go(&format!("#/run/{finished}")).await;
    let states = d
        .until(
            "the run's graph coloured",
            "const ns = [...document.querySelectorAll('[data-testid=crew-graph] [data-node^=\"task:\"]')];
             return ns.length > 0 && ns.every((n) => n.classList.contains('state-done')) && ns.map((n) => n.getAttribute('data-state'));",
            json!([]),
        )
        .await;
    assert_eq!(states, json!(["done", "done", "done"]));
    d.js("const g = document.querySelector('[data-testid=crew-graph]'); window.scrollTo(0, g.getBoundingClientRect().top + window.scrollY - 90);", json!([])).await;
    d.screenshot("2c-crew-graph-run-detail").await;
}

/// The crew graph of the other formats in New run, each with a loader warning on its node: a
/// CrewAI project folder (an unknown field on an agent in `config/agents.yaml`) and the visual
/// editor's graph JSON (a hierarchical crew: the manager drawn; an unknown field on an agent
/// node). Copies of the examples are written into `dir`; screenshot `2d-crew-graph-graph-json`.
pub(crate) async fn other_formats_in_new_run(d: &Driver, dir: &Path) {
    let root = crate::harness::repo_root().join("examples");
    let project = dir.join("warned-research-crew");
    crate::harness::copy_tree(&root.join("research-crew"), &project);
    let agents = project.join("config/agents.yaml");
    let text = std::fs::read_to_string(&agents).unwrap().replacen("researcher:\n", "researcher:\n  mystery_field: 1\n", 1);
    std::fs::write(&agents, text).unwrap();
    let mut graph: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("support-graph.json")).unwrap()).unwrap();
    for node in graph["nodes"].as_array_mut().unwrap() {
        if node["id"] == "engineer" {
            node["data"]["mystery_field"] = json!(1);
        }
    }
    let editor = dir.join("warned-support-graph.json");
    std::fs::write(&editor, graph.to_string()).unwrap();

    for (crew, badged, must_have) in [
        (&project, "agent:researcher", vec!["agent:reporting_analyst", "task:research_task", "task:reporting_task"]),
        (&editor, "agent:engineer", vec!["manager", "agent:triager", "task:classify", "task:respond"]),
    ] {
        d.go("#/new").await;
        d.until("new run", "return document.querySelector('#crew-path')", json!([])).await;
        d.js(
            "document.querySelector('#crew-path').value = arguments[0]; document.querySelector('#engine').value = 'native';",
            json!([crew]),
        )
        .await;
        d.click("#validate-crew").await;
        let drawn = d
            .until(
                "the crew graph of another format",
                "const g = document.querySelector('[data-testid=crew-graph]:not([hidden])');
                 const nodes = g && [...g.querySelectorAll('[data-node]')].map((n) => n.getAttribute('data-node'));
                 return nodes && nodes.includes(arguments[0]) && {
                   nodes,
                   badged: [...g.querySelectorAll('.graph-warning')].map((b) => b.closest('[data-node]').getAttribute('data-node')),
                   delegates: g.querySelectorAll('path.graph-edge.edge-delegates').length,
                 };",
                json!([badged]),
            )
            .await;
        eprintln!("crew graph of {}: {drawn}", crew.display());
        assert_eq!(drawn["badged"], json!([badged]), "{drawn}");
        for id in must_have {
            assert!(drawn["nodes"].as_array().unwrap().contains(&json!(id)), "{id} drawn: {drawn}");
        }
    }
    let delegates =
        d.js("return document.querySelectorAll('[data-testid=crew-graph] path.graph-edge.edge-delegates').length", json!([])).await;
    assert!(delegates.as_u64().unwrap() >= 2, "the manager delegates to its coworkers: {delegates}");
    d.js("const g = document.querySelector('[data-testid=crew-graph]'); window.scrollTo(0, g.getBoundingClientRect().top + window.scrollY - 90);", json!([])).await;
    d.screenshot("2d-crew-graph-graph-json").await;
}
