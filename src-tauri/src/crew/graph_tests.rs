//! The graph of each crew format, and warnings pinned to their nodes.

use std::path::{Path, PathBuf};

use super::*;
use crate::crew::{load, LoadedCrew};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn graph_of(path: &Path) -> (LoadedCrew, CrewGraph) {
    let loaded = load(path).unwrap_or_else(|e| panic!("{e}"));
    let graph = CrewGraph::build(&loaded.spec, &loaded.warnings);
    (loaded, graph)
}

/// `kind from→to` for each edge, with its note.
fn edges(g: &CrewGraph) -> Vec<String> {
    g.edges
        .iter()
        .map(|e| format!("{:?} {}->{}{}", e.kind, e.from, e.to, e.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()))
        .collect()
}

fn ids(g: &CrewGraph) -> Vec<&str> {
    g.nodes.iter().map(|n| n.id.as_str()).collect()
}

#[test]
fn a_yaml_project_has_its_agents_tasks_and_the_implicit_context() {
    let (_, g) = graph_of(&example("research-crew"));
    assert_eq!(ids(&g), ["agent:researcher", "agent:reporting_analyst", "task:research_task", "task:reporting_task"]);
    assert_eq!(g.nodes[0].kind, NodeKind::Agent);
    assert_eq!(g.nodes[0].label, "{topic} Senior Data Researcher");
    assert_eq!(g.nodes[2].kind, NodeKind::Task);
    assert_eq!(
        edges(&g),
        [
            "Performs task:research_task->agent:researcher",
            "Performs task:reporting_task->agent:reporting_analyst",
            "Context task:research_task->task:reporting_task (all earlier tasks)",
        ]
    );
    assert!(g.async_groups.is_empty());
}

#[test]
fn a_single_file_has_its_async_group_explicit_context_and_tools() {
    let (_, g) = graph_of(&example("blog-writer.yaml"));
    assert_eq!(g.async_groups, [AsyncGroup { tasks: vec!["task:market_research".into(), "task:tech_research".into()] }]);
    assert_eq!(g.node_by_id("task:market_research").unwrap().async_group, Some(0));
    assert_eq!(g.node_by_id("task:write_post").unwrap().async_group, None);
    let e = edges(&g);
    assert!(e.contains(&"Context task:market_research->task:write_post".to_string()), "{e:?}");
    assert!(e.contains(&"Context task:tech_research->task:write_post".to_string()), "{e:?}");
    assert!(!e.iter().any(|e| e.contains("all earlier")), "every task sets its context or is first: {e:?}");
    assert!(e.contains(&"Uses agent:writer->tool:write_file".to_string()), "{e:?}");
    assert_eq!(g.node_by_id("tool:write_file").unwrap().kind, NodeKind::Tool);
}

#[test]
fn a_hierarchical_graph_json_has_the_manager_delegating_to_its_coworkers() {
    let (loaded, g) = graph_of(&example("support-graph.json"));
    assert_eq!(loaded.spec.format, crate::crew::CrewFormat::Graph);
    assert_eq!(g.nodes[0].id, MANAGER);
    assert_eq!(g.nodes[0].kind, NodeKind::Manager);
    assert_eq!(g.nodes[0].key, None);
    let e = edges(&g);
    for want in [
        "Delegates manager->agent:triager",
        "Delegates manager->agent:engineer",
        "Performs task:classify->agent:triager",
        "Performs task:respond->agent:engineer",
        "Context task:classify->task:respond",
    ] {
        assert!(e.contains(&want.to_string()), "{want} in {e:?}");
    }
}

#[test]
fn a_manager_agent_is_the_manager_node_and_unassigned_tasks_go_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let crew = write(
        dir.path(),
        "h.yaml",
        "name: h\nprocess: hierarchical\nllm: offline\nmanager_agent: boss\nagents:\n  boss: {role: Boss, goal: G, backstory: B}\n  \
         worker: {role: Worker, goal: G, backstory: B}\ntasks:\n  t: {description: D, expected_output: E}\n",
    );
    let (_, g) = graph_of(&crew);
    assert_eq!(ids(&g), ["manager", "agent:worker", "task:t"]);
    assert_eq!(g.nodes[0].label, "Manager: Boss");
    assert_eq!(g.nodes[0].key.as_deref(), Some("boss"));
    assert_eq!(edges(&g), ["Delegates manager->agent:worker", "Performs task:t->manager"]);
}

#[test]
fn mcp_servers_are_nodes_used_by_their_agents() {
    let dir = tempfile::tempdir().unwrap();
    let crew = write(
        dir.path(),
        "m.yaml",
        "name: m\nllm: offline\nmcp_servers:\n  files: {command: npx, args: [server]}\n  unused: {url: \"https://mcp.example.com/mcp\"}\n\
         agents:\n  a: {role: A, goal: G, backstory: B, mcps: [\"files#read\", \"https://other.example.com/mcp\"]}\n\
         tasks:\n  t: {description: D, expected_output: E, agent: a, tools: [FileReadTool]}\n",
    );
    let (_, g) = graph_of(&crew);
    assert_eq!(ids(&g), ["agent:a", "task:t", "tool:read_file", "mcp:files", "mcp:https://other.example.com/mcp", "mcp:unused"]);
    assert_eq!(g.node_by_id("mcp:files").unwrap().kind, NodeKind::McpServer);
    assert_eq!(
        edges(&g),
        [
            "Performs task:t->agent:a",
            "Uses task:t->tool:read_file",
            "Uses agent:a->mcp:files (#read)",
            "Uses agent:a->mcp:https://other.example.com/mcp",
        ]
    );
}

#[test]
fn warnings_are_pinned_to_the_node_their_field_names() {
    let dir = tempfile::tempdir().unwrap();
    let crew = write(
        dir.path(),
        "w.yaml",
        "name: w\nllm: offline\nplanning_typo: 1\nagents:\n  a: {role: A, goal: G, backstory: B, tools: [MagicTool]}\n  \
         ab: {role: AB, goal: G, backstory: B}\ntasks:\n  t: {description: D, expected_output: E, agent: ab, callback: x}\n",
    );
    let (loaded, g) = graph_of(&crew);
    let on = |id: &str| g.node_by_id(id).unwrap().warnings.iter().map(|w| w.message.clone()).collect::<Vec<_>>();
    assert!(on("agent:a").iter().any(|m| m.contains("MagicTool")), "{:?}", loaded.warnings);
    assert!(on("agent:ab").is_empty(), "`a` is not `ab`'s prefix match: {:?}", on("agent:ab"));
    assert!(!on("task:t").is_empty(), "{:?}", loaded.warnings);
    assert!(
        g.warnings.iter().any(|w| w.message.contains("planning_typo") || w.field.as_deref() == Some("planning_typo")),
        "{:?}",
        g.warnings
    );
    let pinned: usize = g.nodes.iter().map(|n| n.warnings.len()).sum();
    assert_eq!(pinned + g.warnings.len(), loaded.warnings.len(), "each warning once");
}

#[test]
fn a_graph_json_warning_is_pinned_by_its_node_id() {
    let dir = tempfile::tempdir().unwrap();
    let crew = write(
        dir.path(),
        "g.json",
        r#"{"nodes": [
  {"id": "a1", "type": "agent", "data": {"role": "R", "goal": "G", "backstory": "B", "tools": ["MagicTool"]}},
  {"id": "t1", "type": "task", "data": {"description": "D", "expected_output": "E", "callback": "x"}}
], "edges": [{"source": "a1", "target": "t1"}]}"#,
    );
    let (loaded, g) = graph_of(&crew);
    assert!(!g.node_by_id("agent:a1").unwrap().warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(!g.node_by_id("task:t1").unwrap().warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn field_keys_match_whole_segments_only() {
    let keys = ["a", "ab", "a.b"];
    assert_eq!(longest_key("agents.ab.tools", "agents.", keys.into_iter()), Some("ab"));
    assert_eq!(longest_key("agents.a.b.llm", "agents.", keys.into_iter()), Some("a.b"));
    assert_eq!(longest_key("agents.a[0]", "agents.", keys.into_iter()), Some("a"));
    assert_eq!(longest_key("agents.abc", "agents.", keys.into_iter()), None);
    assert_eq!(longest_key("tasks.a", "agents.", keys.into_iter()), None);
}

#[test]
fn an_async_task_without_context_reads_the_task_before_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let crew = write(
        dir.path(),
        "a.yaml",
        "name: a\nllm: offline\nagents:\n  a: {role: A, goal: G, backstory: B}\ntasks:\n  \
         first: {description: D, expected_output: E, agent: a}\n  \
         x: {description: D, expected_output: E, agent: a, async_execution: true}\n  \
         y: {description: D, expected_output: E, agent: a, async_execution: true}\n  \
         last: {description: D, expected_output: E, agent: a}\n",
    );
    let (_, g) = graph_of(&crew);
    let context: Vec<String> = edges(&g).into_iter().filter(|e| e.starts_with("Context")).collect();
    assert_eq!(
        context,
        [
            "Context task:first->task:x (all earlier tasks)",
            "Context task:first->task:y (all earlier tasks)",
            "Context task:y->task:last (all earlier tasks)",
        ]
    );
    assert_eq!(g.async_groups, [AsyncGroup { tasks: vec!["task:x".into(), "task:y".into()] }]);
}
