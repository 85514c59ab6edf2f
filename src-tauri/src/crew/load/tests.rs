//! Loading every format, and every error and warning the checks give.

use std::path::{Path, PathBuf};

use super::load;
use crate::crew::{validate, CrewFormat, Diagnostic, Process};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/crews").join(name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn errors(path: &Path) -> Vec<Diagnostic> {
    match load(path) {
        Ok(loaded) => panic!("expected errors, loaded {:?}", loaded.spec.name),
        Err(e) => e.diagnostics,
    }
}

/// The one diagnostic in `list` about `file` (suffix) and `field` whose message has `part`.
#[track_caller]
fn find<'a>(list: &'a [Diagnostic], file: &str, field: &str, part: &str) -> &'a Diagnostic {
    let found = list.iter().find(|d| d.file.ends_with(file) && d.field.as_deref() == Some(field) && d.message.contains(part));
    match found {
        Some(d) => {
            assert!(d.to_string().contains(file) && d.to_string().contains(field), "{d}");
            d
        }
        None => panic!(
            "no diagnostic for {file} / {field} / {part:?} in:\n{}",
            list.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
        ),
    }
}

const AGENTS: &str = "\
a:
  role: Role A
  goal: Goal A
  backstory: Story A
b:
  role: Role B
  goal: Goal B
  backstory: Story B
";

/// A project folder with `config/agents.yaml` = `agents` and `config/tasks.yaml` = `tasks`.
fn project(agents: &str, tasks: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config/agents.yaml", agents);
    write(dir.path(), "config/tasks.yaml", tasks);
    dir
}

// ---- formats ----

#[test]
fn crewai_peer_project_loads() {
    let loaded = load(&fixture("crewai-peer")).unwrap();
    let s = &loaded.spec;
    assert_eq!(s.name, "research_crew");
    assert_eq!(s.format, CrewFormat::YamlProject);
    assert_eq!(s.process, Process::Sequential);
    assert_eq!(s.llm.as_deref(), Some("openai/gpt-4o-mini"));
    assert_eq!(s.inputs["topic"], serde_json::json!("AI agent frameworks"));
    let agents: Vec<&str> = s.agents.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(agents, ["researcher", "reporting_analyst"]);
    assert_eq!(s.agents[0].role, "{topic} Research Specialist");
    assert_eq!(s.agents[0].max_iter, 25);
    let tasks: Vec<&str> = s.tasks.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(tasks, ["research_task", "reporting_task"]);
    assert_eq!(s.tasks[0].agent.as_deref(), Some("researcher"));
    assert_eq!(s.tasks[0].context, None);
    assert_eq!(s.tasks[1].context, Some(vec!["research_task".to_string()]));
    let dir = std::fs::canonicalize(fixture("crewai-peer")).unwrap();
    assert_eq!(s.source, dir.display().to_string());
    assert_eq!(s.workspace, dir.display().to_string());
    // `memory: false` and `verbose: false` ask nothing of us.
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn crew_yaml_path_loads_its_project() {
    let loaded = load(&fixture("crewai-peer/crew.yaml")).unwrap();
    assert_eq!(loaded.spec.format, CrewFormat::YamlProject);
    assert_eq!(loaded.spec.tasks.len(), 2);
}

#[test]
fn config_file_path_loads_its_project() {
    let loaded = load(&fixture("crewai-peer/config/tasks.yaml")).unwrap();
    assert_eq!(loaded.spec.format, CrewFormat::YamlProject);
    assert_eq!(loaded.spec.name, "research_crew");
    let loaded = load(&fixture("src-layout/src/latest_ai/config/agents.yaml")).unwrap();
    assert_eq!(loaded.spec.name, "src-layout");
}

#[test]
fn src_layout_project_binds_agents_and_tools_from_crew_py() {
    let report = validate(&fixture("src-layout")).unwrap();
    let s = &report.crew;
    assert_eq!(s.name, "src-layout");
    assert_eq!(s.tasks[0].agent.as_deref(), Some("researcher"));
    assert_eq!(s.tasks[1].agent.as_deref(), Some("reporting_analyst"));
    assert_eq!(s.tasks[1].output_file.as_deref(), Some("report.md"));
    assert_eq!(s.agents[0].tools, ["read_file", "serper_search"]);
    assert_eq!(s.agents[0].max_iter, 10);
    assert_eq!(s.agents[1].tools[0].name, "list_directory");
    assert_eq!(s.agents[1].tools[0].args["directory"], ".");
    assert_eq!(s.agents[1].llm.as_deref(), Some("offline"));
    let w = &report.warnings;
    find(w, "tasks.yaml", "tasks.reporting_task.markdown", "not supported");
    let names: Vec<&str> = report.required_inputs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["current_year", "topic"]);
    assert!(report.required_inputs.iter().all(|r| r.default.is_none()));
}

#[test]
fn single_yaml_with_list_agents() {
    let report = validate(&fixture("single.yaml")).unwrap();
    let s = &report.crew;
    assert_eq!(s.name, "trip_planner");
    assert_eq!(s.format, CrewFormat::SingleFile);
    assert_eq!(s.process, Process::Hierarchical);
    assert_eq!(s.manager_llm.as_deref(), Some("openai/gpt-4o"));
    assert_eq!(s.agents.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["scout", "planner"]);
    assert_eq!(s.agents[0].tools, ["read_file", "scrape_website"]);
    assert_eq!(s.agents[1].max_iter, 5);
    assert_eq!(s.tasks[0].agent, None, "hierarchical: the manager picks");
    assert_eq!(s.tasks[1].context, Some(vec!["find_places".to_string()]));
    assert_eq!(s.tasks[1].output_file.as_deref(), Some("plans/{city}.md"));
    let dir = std::fs::canonicalize(fixture("")).unwrap();
    assert_eq!(s.workspace, dir.join("out").display().to_string());
    assert_eq!(s.source, dir.join("single.yaml").display().to_string());
    let inputs: Vec<(String, Option<serde_json::Value>)> =
        report.required_inputs.iter().map(|r| (r.name.clone(), r.default.clone())).collect();
    assert_eq!(
        inputs,
        [
            ("city".to_string(), Some(serde_json::json!("Lisbon"))),
            ("days".to_string(), Some(serde_json::json!(3))),
            ("traveller".to_string(), None),
        ]
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["crew"]["name"], "trip_planner");
    assert_eq!(json["required_inputs"][2]["name"], "traveller");
}

#[test]
fn single_jsonc_with_comments_and_trailing_commas() {
    let loaded = load(&fixture("single.jsonc")).unwrap();
    let s = &loaded.spec;
    assert_eq!(s.name, "blog");
    assert_eq!(s.agents[0].tools, ["write_file"]);
    assert_eq!(s.agents[0].backstory, "Writes clearly. Uses // and /* in text.");
    assert_eq!(s.tasks[1].context, Some(vec![]));
    assert!(s.tasks[1].output_json);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn graph_orders_tasks_topologically_and_assigns_agents() {
    let loaded = load(&fixture("graph.json")).unwrap();
    let s = &loaded.spec;
    assert_eq!(s.format, CrewFormat::Graph);
    assert_eq!(s.name, "graph_crew");
    assert_eq!(s.inputs["topic"], serde_json::json!("bees"));
    let order: Vec<&str> = s.tasks.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(order, ["research", "summarise", "intro"]);
    assert_eq!(s.task("research").unwrap().agent.as_deref(), Some("researcher"));
    assert_eq!(s.task("summarise").unwrap().agent.as_deref(), Some("writer"));
    assert_eq!(s.task("intro").unwrap().agent.as_deref(), Some("writer"));
    assert_eq!(s.task("summarise").unwrap().context, Some(vec!["research".to_string()]));
    assert_eq!(s.task("research").unwrap().context, Some(vec![]), "no edges = no context");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn graph_in_yaml_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "g.yaml",
        "nodes:\n  - {id: a, type: agent, data: {role: R, goal: G, backstory: B}}\n  - {id: t, type: task, data: {description: D, expected_output: E}}\nedges:\n  - {source: a, target: t}\n",
    );
    let loaded = load(&p).unwrap();
    assert_eq!(loaded.spec.format, CrewFormat::Graph);
    assert_eq!(loaded.spec.name, "g");
    let text = std::fs::read_to_string(&p).unwrap();
    let named = write(dir.path(), "named.yml", &format!("name: from_top\n{text}"));
    assert_eq!(load(&named).unwrap().spec.name, "from_top");
    assert_eq!(loaded.spec.tasks[0].agent.as_deref(), Some("a"));
}

// ---- validation errors, all formats ----

#[test]
fn unknown_agent_and_bad_contexts() {
    let dir = project(
        AGENTS,
        "\
t1:
  description: D1
  expected_output: E1
  agent: nobody
  context: [t2]
t2:
  description: D2
  expected_output: E2
  agent: a
  context: [ghost, t2]
",
    );
    let e = errors(dir.path());
    let d = find(&e, "tasks.yaml", "tasks.t1.agent", "unknown agent `nobody`");
    assert_eq!(d.line, Some(4));
    find(&e, "tasks.yaml", "tasks.t1.context[0]", "runs after");
    find(&e, "tasks.yaml", "tasks.t2.context[0]", "unknown task `ghost`");
    find(&e, "tasks.yaml", "tasks.t2.context[1]", "its own context");
    assert_eq!(e.len(), 4, "all errors at once: {e:?}");
}

#[test]
fn duplicate_keys_in_mappings_and_lists() {
    let dir = project(
        &format!("{AGENTS}a:\n  role: R\n  goal: G\n  backstory: B\n  role: again\n"),
        "t:\n  description: D\n  expected_output: E\n  agent: a\n",
    );
    let e = errors(dir.path());
    find(&e, "agents.yaml", "agents.a", "duplicate agent `a`");
    find(&e, "agents.yaml", "agents.a.role", "duplicate key `role`");

    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "crew.json",
        r#"{"agents": [{"name": "x", "role": "R", "goal": "G", "backstory": "B"}, {"name": "x", "role": "R", "goal": "G", "backstory": "B"}],
            "tasks": [{"id": "t", "description": "D", "expected_output": "E", "agent": "x"}]}"#,
    );
    find(&errors(&p), "crew.json", "agents.x", "duplicate agent `x`");
    let p = write(dir.path(), "strings.yaml", "agents: [writer]\ntasks: {}\n");
    find(&errors(&p), "strings.yaml", "agents[0]", "expected a mapping of fields, found a string");
}

#[test]
fn empty_and_missing_required_fields() {
    let dir = project("a:\n  role: ''\n  backstory: >\n    \n", "t:\n  description: ' '\n  agent: a\n");
    let e = errors(dir.path());
    find(&e, "agents.yaml", "agents.a.role", "must not be empty");
    find(&e, "agents.yaml", "agents.a.goal", "`goal` is required");
    find(&e, "agents.yaml", "agents.a.backstory", "must not be empty");
    find(&e, "tasks.yaml", "tasks.t.description", "must not be empty");
    find(&e, "tasks.yaml", "tasks.t.expected_output", "is required");
}

#[test]
fn wrong_types_name_the_field_path() {
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstory: B\n  max_iter: \"x\"\n  tools: 5\n  allow_delegation: maybe\n  max_rpm: -1\n",
        "t:\n  description: D\n  expected_output: E\n  agent: a\n  context: t0\n  tools: [1]\n  async_execution: 1\n",
    );
    let e = errors(dir.path());
    let d = find(&e, "agents.yaml", "agents.a.max_iter", "expected a whole number");
    assert_eq!(d.line, Some(5));
    find(&e, "agents.yaml", "agents.a.tools", "expected a list");
    find(&e, "agents.yaml", "agents.a.allow_delegation", "true or false");
    find(&e, "agents.yaml", "agents.a.max_rpm", "found -1");
    find(&e, "tasks.yaml", "tasks.t.context", "expected a list");
    find(&e, "tasks.yaml", "tasks.t.tools[0]", "expected text");
    find(&e, "tasks.yaml", "tasks.t.async_execution", "true or false");
}

#[test]
fn no_tasks_and_no_agents() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "crew.yaml", "name: empty\nagents: {}\n");
    let e = errors(&p);
    find(&e, "crew.yaml", "tasks", "no tasks");
    find(&e, "crew.yaml", "agents", "no agents");
}

#[test]
fn hierarchical_manager_rules() {
    let dir = tempfile::tempdir().unwrap();
    let agents = "agents:\n  a: {role: R, goal: G, backstory: B}\n  b: {role: R, goal: G, backstory: B}\n";
    let tasks = "tasks:\n  t: {description: D, expected_output: E}\n";
    // No manager_llm, no manager_agent, no llm: fine (the manager uses the crew's model).
    let ok = write(dir.path(), "ok.yaml", &format!("process: hierarchical\n{agents}{tasks}"));
    assert_eq!(load(&ok).unwrap().spec.process, Process::Hierarchical);
    let bad = write(dir.path(), "bad.yaml", &format!("process: hierarchical\nmanager_agent: boss\n{agents}{tasks}"));
    let e = errors(&bad);
    let d = find(&e, "bad.yaml", "manager_agent", "unknown agent `boss`");
    assert_eq!(d.line, Some(2));
    let good = write(dir.path(), "good.yaml", &format!("process: Hierarchical\nmanager_agent: a\n{agents}{tasks}"));
    assert_eq!(load(&good).unwrap().spec.manager_agent.as_deref(), Some("a"));
    let proc = write(dir.path(), "proc.yaml", &format!("process: parallel\n{agents}{tasks}"));
    find(&errors(&proc), "proc.yaml", "process", "unknown process `parallel`");
}

#[test]
fn sequential_task_without_agent() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = "tasks:\n  t: {description: D, expected_output: E}\n";
    let two = write(
        dir.path(),
        "two.yaml",
        &format!("agents:\n  a: {{role: R, goal: G, backstory: B}}\n  b: {{role: R, goal: G, backstory: B}}\n{tasks}"),
    );
    find(&errors(&two), "two.yaml", "tasks.t", "no agent given");
    let one = write(dir.path(), "one.yaml", &format!("agents:\n  a: {{role: R, goal: G, backstory: B}}\n{tasks}"));
    let loaded = load(&one).unwrap();
    assert_eq!(loaded.spec.tasks[0].agent.as_deref(), Some("a"));
    find(&loaded.warnings, "one.yaml", "tasks.t", "assigned the only agent");
}

#[test]
fn output_file_must_stay_in_the_workspace() {
    let dir = project(
        AGENTS,
        "t1:\n  description: D\n  expected_output: E\n  agent: a\n  output_file: /etc/passwd\nt2:\n  description: D\n  expected_output: E\n  agent: a\n  output_file: ../up.md\n",
    );
    let e = errors(dir.path());
    find(&e, "tasks.yaml", "tasks.t1.output_file", "relative path");
    find(&e, "tasks.yaml", "tasks.t2.output_file", "`..`");
}

#[test]
fn tools_are_mapped_and_unknown_ones_dropped() {
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstory: B\n  tools: [FileReadTool, DirectoryReadTool, write_file, BraveSearchTool, MagicTool, read_file, FirecrawlSearchTool]\n",
        "t:\n  description: D\n  expected_output: E\n  agent: a\n  tools: [FileWriterTool, SerperDevTool]\n",
    );
    let loaded = load(dir.path()).unwrap();
    assert!(loaded.spec.allow_network_tools, "on by default");
    assert_eq!(loaded.spec.agents[0].tools, ["read_file", "list_directory", "write_file", "brave_search"]);
    assert_eq!(loaded.spec.tasks[0].tools, ["write_file", "serper_search"]);
    find(&loaded.warnings, "agents.yaml", "agents.a.tools", "unknown tool `MagicTool`");
    find(&loaded.warnings, "agents.yaml", "agents.a.tools[6]", "needs the network; not available");

    write(dir.path(), "crew.yaml", "allow_network_tools: false\n");
    let loaded = load(dir.path()).unwrap();
    assert_eq!(loaded.spec.agents[0].tools, ["read_file", "list_directory", "write_file"]);
    assert_eq!(loaded.spec.tasks[0].tools, ["write_file"]);
    let w =
        loaded.warnings.iter().find(|w| w.message.contains("tool `SerperDevTool` needs the network")).expect("the dropped tool is named");
    assert!(w.message.contains("tasks.t.tools") && w.message.contains("allow_network_tools: false"), "{w}");
}

#[test]
fn unsupported_and_unknown_fields_warn() {
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstroy: B\n  backstory: B\n  memory: true\n  knowledge_sources: [x]\n",
        "t:\n  description: D\n  expected_output: E\n  agent: a\n  human_input: true\n  output_pydantic: Report\n",
    );
    write(dir.path(), "crew.yaml", "planning: true\nmemory: false\n");
    let loaded = load(dir.path()).unwrap();
    let w = &loaded.warnings;
    find(w, "agents.yaml", "agents.a.backstroy", "unknown field");
    find(w, "agents.yaml", "agents.a.memory", "not supported");
    find(w, "agents.yaml", "agents.a.knowledge_sources", "not supported");
    assert!(!w.iter().any(|d| d.field.as_deref() == Some("tasks.t.human_input")), "human_input is applied: {w:?}");
    assert!(loaded.spec.tasks[0].human_input);
    find(w, "tasks.yaml", "tasks.t.output_pydantic", "no Pydantic model `Report`");
    find(w, "crew.yaml", "planning", "not supported");
    assert!(!w.iter().any(|d| d.field.as_deref() == Some("memory")), "memory: false asks nothing: {w:?}");
}

#[test]
fn crew_yaml_config_paths_and_relative_workspace() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cfg/a.yaml", AGENTS);
    write(dir.path(), "cfg/t.yaml", "t:\n  description: D\n  expected_output: E\n  agent: b\n");
    write(dir.path(), "crew.yaml", "agents_config: cfg/a.yaml\ntasks_config: cfg/t.yaml\nworkspace: ./work/../ws\n");
    let loaded = load(dir.path()).unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(loaded.spec.workspace, root.join("ws").display().to_string());
    assert_eq!(loaded.spec.tasks[0].agent.as_deref(), Some("b"));
    write(dir.path(), "crew.yaml", "agents_config: cfg/missing.yaml\ntasks_config: cfg/t.yaml\n");
    find(&errors(dir.path()), "crew.yaml", "agents_config", "not found");
}

#[test]
fn folder_without_config_is_not_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let e = errors(dir.path());
    assert!(e[0].message.contains("not a CrewAI project"), "{e:?}");
    assert_eq!(e[0].file, std::fs::canonicalize(dir.path()).unwrap().display().to_string());
}

// ---- syntax, size, garbage ----

#[test]
fn syntax_errors_give_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let y = write(dir.path(), "bad.yaml", "name: x\nagents:\n  a: [unclosed\n");
    let d = &errors(&y)[0];
    assert!(d.file.ends_with("bad.yaml") && d.line.is_some(), "{d}");
    let j = write(dir.path(), "bad.json", "{\n  \"name\": \"x\",\n  \"agents\": {,}\n}\n");
    let d = &errors(&j)[0];
    assert_eq!(d.line, Some(3), "{d}");
    assert!(d.to_string().starts_with(&format!("{}:3: invalid JSON", j.display())), "{d}");
    // JSONC: comments keep the line numbers.
    let c = write(dir.path(), "bad.jsonc", "// one\n/* two\n three */\n{\"name\": \"x\",\n \"agents\": [}\n");
    assert_eq!(errors(&c)[0].line, Some(5));
    // Comments are not allowed in plain .json.
    let jc = write(dir.path(), "comment.json", "// no\n{}\n");
    assert!(errors(&jc)[0].message.contains("invalid JSON"));
}

#[test]
fn too_large_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.yaml");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(crate::crew::MAX_FILE_BYTES + 1).unwrap(); // sparse: no 10 MB written
    let d = &errors(&p)[0];
    assert!(d.message.contains("too large"), "{d}");
    assert!(d.file.ends_with("huge.yaml"));
}

#[test]
fn binary_garbage_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        bytes.push((x >> 16) as u8);
    }
    bytes[10] = 0;
    let p = dir.path().join("garbage.json");
    std::fs::write(&p, &bytes).unwrap();
    let d = &errors(&p)[0];
    assert!(d.message.contains("not a text file"), "{d}");
}

#[test]
fn billion_laughs_and_deep_nesting_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    let p = write(dir.path(), "laughs.yaml", &text);
    assert!(errors(&p)[0].message.starts_with("invalid YAML"));
    let deep = write(dir.path(), "deep.json", &format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)));
    assert!(errors(&deep)[0].message.contains("recursion limit"));
}

#[test]
fn unknown_extension_and_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "crew.toml", "x = 1");
    assert!(errors(&p)[0].message.contains("not a crew"));
    let p = write(dir.path(), "empty.yaml", "");
    assert!(errors(&p)[0].message.contains("empty"));
    let p = write(dir.path(), "list.yaml", "- a\n- b\n");
    assert!(errors(&p)[0].message.contains("mapping at the top level"));
    assert!(load(&dir.path().join("missing.yaml")).unwrap_err().to_string().contains("cannot open"));
}

// ---- graphs ----

fn graph(dir: &Path, nodes: &str, edges: &str) -> PathBuf {
    write(dir, "g.json", &format!("{{\n\"nodes\": [\n{nodes}\n],\n\"edges\": [\n{edges}\n]\n}}\n"))
}

const A1: &str = r#"{"id": "a1", "type": "agent", "data": {"role": "R", "goal": "G", "backstory": "B"}}"#;
const A2: &str = r#"{"id": "a2", "type": "agent", "data": {"role": "R", "goal": "G", "backstory": "B"}}"#;

fn task_node(id: &str) -> String {
    format!(r#"{{"id": "{id}", "type": "task", "data": {{"description": "D", "expected_output": "E"}}}}"#)
}

#[test]
fn graph_cycle_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = [A1.to_string(), task_node("t1"), task_node("t2"), task_node("t3")].join(",\n");
    let edges = r#"{"source": "a1", "target": "t1"}, {"source": "a1", "target": "t2"}, {"source": "a1", "target": "t3"},
{"source": "t1", "target": "t2"}, {"source": "t2", "target": "t3"}, {"source": "t3", "target": "t2"}"#;
    let e = errors(&graph(dir.path(), &nodes, edges));
    let d = e.iter().find(|d| d.message.contains("cycle")).unwrap_or_else(|| panic!("{e:?}"));
    assert!(d.message.contains("t2 -> t3 -> t2") || d.message.contains("t3 -> t2 -> t3"), "{d}");
    assert!(d.file.ends_with("g.json") && d.field.as_deref().unwrap().starts_with("nodes["), "{d}");
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn graph_structure_errors_name_the_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = [
        A1.to_string(),
        A2.to_string(),
        task_node("t1"),
        task_node("t2"),
        task_node("t3"),
        task_node("t1"),
        r#"{"id": "c1", "type": "crew", "data": {"name": "x"}}"#.to_string(),
        r#"{"id": "c2", "type": "crew", "data": {}}"#.to_string(),
    ]
    .join(",\n");
    let edges = r#"{"source": "a1", "target": "t1"},
{"source": "a1", "target": "t2"}, {"source": "a2", "target": "t2"},
{"source": "a1", "target": "a2"},
{"source": "t1", "target": "a1"},
{"source": "t1", "target": "nowhere"}"#;
    let e = errors(&graph(dir.path(), &nodes, edges));
    find(&e, "g.json", "nodes[5] (id t1).id", "duplicate node id `t1`");
    find(&e, "g.json", "nodes[7] (id c2)", "more than one crew node");
    find(&e, "g.json", "nodes[3] (id t2)", "several agents: `a1`, `a2`");
    find(&e, "g.json", "nodes[4] (id t3).data", "no agent given");
    find(&e, "g.json", "edges[3]", "from agent `a1` to agent `a2`");
    find(&e, "g.json", "edges[4]", "from task `t1` to agent `a1`");
    let d = find(&e, "g.json", "edges[5].target", "dangling edge: no node has id `nowhere`");
    assert_eq!(d.line, Some(17));
}

#[test]
fn graph_data_errors_name_node_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = [
        r#"{"id": "a1", "type": "agent", "data": {"role": "R", "goal": "G", "backstory": "B", "max_iter": "lots"}}"#.to_string(),
        r#"{"id": "t1", "type": "task", "data": {"description": "D", "expected_output": "E", "agent": "ghost", "context": ["x"]}}"#
            .to_string(),
        r#"{"id": "t2", "type": "thing"}"#.to_string(),
    ]
    .join(",\n");
    let p = graph(dir.path(), &nodes, "");
    let e = errors(&p);
    find(&e, "g.json", "nodes[0] (id a1).data.max_iter", "whole number");
    find(&e, "g.json", "nodes[1] (id t1).data.agent", "unknown agent `ghost`");
    find(&e, "g.json", "nodes[2] (id t2).type", "`agent`, `task` or `crew`");
}

// ---- scale: many members or many findings load in one pass ----

#[test]
fn many_members_and_many_errors_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5_000;
    let agents: Vec<String> = (0..n).map(|i| format!(r#"{{"name": "a{i}", "role": "R", "goal": "G", "backstory": "B"}}"#)).collect();
    let tasks: Vec<String> = (0..n).map(|i| format!(r#"{{"name": "t{i}", "description": "D", "agent": "x{i}"}}"#)).collect();
    let p = write(dir.path(), "big.json", &format!("{{\"agents\": [{}],\n\"tasks\": [{}]}}", agents.join(",\n"), tasks.join(",\n")));
    let e = errors(&p);
    assert_eq!(e.len(), crate::crew::diagnostic::MAX_DIAGNOSTICS + 1);
    assert!(e.last().unwrap().message.contains("more errors not shown"), "{:?}", e.last());

    // A long chain of tasks in a graph, listed backwards.
    let mut nodes = vec![A1.to_string()];
    let mut edges = Vec::new();
    for i in (0..n).rev() {
        nodes.push(task_node(&format!("t{i}")));
        edges.push(format!(r#"{{"source": "a1", "target": "t{i}"}}"#));
        if i > 0 {
            edges.push(format!(r#"{{"source": "t{}", "target": "t{i}"}}"#, i - 1));
        }
    }
    let g = graph(dir.path(), &nodes.join(",\n"), &edges.join(",\n"));
    let loaded = load(&g).unwrap();
    assert_eq!(loaded.spec.tasks.len(), n);
    assert_eq!(loaded.spec.tasks[0].key, "t0");
    assert_eq!(loaded.spec.tasks[n - 1].key, format!("t{}", n - 1));
}

#[test]
fn a_created_project_is_read_whole_without_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/projects/created");
    let report = validate(&dir).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let s = &report.crew;
    assert_eq!(s.tasks[1].output_file.as_deref(), Some("report.md"));
    assert_eq!(s.inputs["topic"], "AI LLMs");
    assert!(s.inputs["current_year"].as_str().is_some_and(|y| y.len() == 4), "{:?}", s.inputs);
    let topic = report.required_inputs.iter().find(|i| i.name == "topic").unwrap();
    assert!(topic.default_from.as_deref().is_some_and(|f| f.ends_with("src/demo/main.py:16")), "{topic:?}");
    let researcher = report.fields.iter().find(|f| f.entry == "agents.researcher").unwrap();
    assert!(researcher.applied.contains(&"role".to_string()), "{researcher:?}");
    assert!(researcher.applied.iter().any(|a| a.starts_with("verbose (crew.py:")), "{researcher:?}");
}

#[test]
fn crewai_1x_fields_llm_mappings_and_prefixed_tools() {
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstory: B\n  skills: [x]\n  checkpoint: true\n  planning: true\n  tool_failure_policy: stop\n  tools: ['crewai_tools:FileReadTool']\n  llm:\n    model: ollama/llama3.1\n    temperature: 0.3\n    max_tokens: 200\n    base_url: http://127.0.0.1:11434\n    api_key_env: MY_KEY\n",
        "t:\n  description: D\n  expected_output: ''\n  agent: a\n",
    );
    let loaded = load(dir.path()).unwrap();
    let w = &loaded.warnings;
    for field in ["skills", "checkpoint", "planning", "tool_failure_policy"] {
        find(w, "agents.yaml", &format!("agents.a.{field}"), "not supported by the native engine");
    }
    assert!(!w.iter().any(|d| d.message.contains("typo") || d.field.as_deref() == Some("agents.a.llm")), "{w:?}");
    find(w, "tasks.yaml", "tasks.t.expected_output", "empty");
    let a = &loaded.spec.agents[0];
    assert_eq!(a.tools, ["read_file"]);
    assert_eq!(a.llm.as_deref(), Some("ollama/llama3.1"));
    assert_eq!(a.llm_settings.temperature, Some(0.3));
    assert_eq!(a.llm_settings.max_tokens, Some(200));
    assert_eq!(a.llm_settings.base_url.as_deref(), Some("http://127.0.0.1:11434"));
    assert_eq!(a.llm_settings.api_key_env.as_deref(), Some("MY_KEY"));
}

#[test]
fn script_style_bindings_and_pydantic_outputs_from_yaml() {
    let dir = project(
        "spamfilter:\n  role: R\n  goal: G\n  backstory: B\n",
        "task0:\n  description: D\n  expected_output: E\n  output_pydantic: Verdict\n",
    );
    write(
        dir.path(),
        "models.py",
        "from pydantic import BaseModel\nclass Verdict(BaseModel):\n    spam: bool\n    reason: str | None = None\n",
    );
    write(
        dir.path(),
        "script.py",
        "spamfilter = Agent(config=agents_config['spamfilter'], llm=my_llm)\nmy_llm = 3\ntask0 = Task(config=tasks_config['task0'], agent=spamfilter, callback=log)\n",
    );
    let loaded = load(dir.path()).unwrap();
    let t = &loaded.spec.tasks[0];
    assert_eq!(t.agent.as_deref(), Some("spamfilter"));
    assert!(t.output_json);
    assert_eq!(t.output_schema.as_ref().unwrap()["required"], serde_json::json!(["spam"]));
    find(&loaded.warnings, "script.py", "tasks.task0.callback", "not supported by the native engine");
    let llm = find(&loaded.warnings, "script.py", "agents.spamfilter.llm", "the crew's model is used");
    assert_eq!(llm.line, Some(1));
}

#[test]
fn a_decorated_method_built_another_way_is_named() {
    let dir = project("a:\n  role: R\n  goal: G\n  backstory: B\n", "t:\n  description: D\n  expected_output: E\n  agent: a\n");
    write(dir.path(), "crew.py", "class C:\n    @agent\n    def a(self) -> Agent:\n        built = make_agent()\n        return built\n");
    let loaded = load(dir.path()).unwrap();
    let w = loaded.warnings.iter().find(|d| d.message.contains("`a` returns no Agent(...)")).expect("warned");
    assert_eq!(w.line, Some(3));
}

#[test]
fn guardrails_and_inline_schemas_are_read() {
    let dir = project(
        AGENTS,
        "t1:\n  description: D\n  expected_output: E\n  agent: a\n  guardrail: \"must cite sources\"\n  guardrail_max_retries: 1\n  output_schema:\n    type: object\n    properties:\n      title: {type: string}\n    required: [title]\nt2:\n  description: D\n  expected_output: E\n  agent: a\n",
    );
    let loaded = load(dir.path()).unwrap();
    let (t1, t2) = (&loaded.spec.tasks[0], &loaded.spec.tasks[1]);
    assert_eq!(t1.guardrail.as_deref(), Some("must cite sources"));
    assert_eq!(t1.guardrail_max_retries, 1);
    assert_eq!(t1.output_schema.as_ref().unwrap()["required"], serde_json::json!(["title"]));
    assert_eq!((t2.guardrail.as_deref(), t2.guardrail_max_retries, t2.output_schema.as_ref()), (None, 3, None));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_schema_that_does_not_compile_and_a_function_guardrail_are_errors() {
    let dir = project(
        AGENTS,
        "t1:\n  description: D\n  expected_output: E\n  agent: a\n  output_schema:\n    type: nonsense\nt2:\n  description: D\n  expected_output: E\n  agent: a\n  output_schema: Report\n  guardrail: [check]\n",
    );
    let e = errors(dir.path());
    find(&e, "tasks.yaml", "tasks.t1.output_schema", "not a valid JSON Schema");
    find(&e, "tasks.yaml", "tasks.t2.output_schema", "expected a mapping");
    find(&e, "tasks.yaml", "tasks.t2.guardrail", "needs the CrewAI engine");
}

#[test]
fn mcp_servers_mcps_and_command_tools_are_read_and_checked() {
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstory: B\n  tools: [shout, read_file, nothing_here]\n  mcps: [files, \"files#read\", \"https://mcp.example.com/mcp#search\"]\n",
        "t:\n  description: D\n  expected_output: E\n  agent: a\n",
    );
    write(
        dir.path(),
        "crew.yaml",
        "mcp_servers:\n  files: {command: npx, args: [x], env: {T: \"${T}\"}}\n  remote: {url: \"https://h/mcp\", headers: {A: b}}\n\
         command_tools:\n  shout: {description: Shouts, command: [scripts/shout.sh]}\n",
    );
    let loaded = load(dir.path()).unwrap();
    let spec = &loaded.spec;
    assert_eq!(spec.mcp_servers.len(), 2);
    assert_eq!(spec.command_tools["shout"].command, ["scripts/shout.sh"]);
    assert_eq!(spec.agents[0].tools, ["shout", "read_file"]);
    let mcps: Vec<String> = spec.agents[0].mcps.iter().map(ToString::to_string).collect();
    assert_eq!(mcps, ["files", "files#read", "https://mcp.example.com/mcp#search"]);
    find(&loaded.warnings, "agents.yaml", "agents.a.tools", "unknown tool `nothing_here`");
    // A snapshot round-trips, and one without the new fields still loads.
    let json = serde_json::to_value(spec).unwrap();
    assert_eq!(serde_json::from_value::<crate::crew::CrewSpec>(json.clone()).unwrap(), *spec);
    let mut old = json;
    old.as_object_mut().unwrap().retain(|k, _| k != "mcp_servers" && k != "command_tools");
    old["agents"][0].as_object_mut().unwrap().remove("mcps");
    assert!(serde_json::from_value::<crate::crew::CrewSpec>(old).unwrap().mcp_servers.is_empty());

    write(
        dir.path(),
        "crew.yaml",
        "mcp_servers:\n  files: {command: npx, shell: true}\n  remote: {url: \"ftp://h\"}\n  empty: {}\ncommand_tools:\n  bad: {description: d, command: []}\n",
    );
    let e = errors(dir.path());
    let expected = [
        ("crew.yaml", "mcp_servers.files", "shell"),
        ("crew.yaml", "mcp_servers.remote", "not an http(s):// URL"),
        ("crew.yaml", "mcp_servers.empty", "needs a `command`"),
        ("crew.yaml", "command_tools.bad", "must name a program"),
        ("agents.yaml", "agents.a.mcps", "unknown MCP server `files`"),
    ];
    for (file, field, part) in expected {
        find(&e, file, field, part);
    }
}

#[test]
fn a_crew_level_llm_mapping_is_the_default_of_agents_without_their_own() {
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstory: B\nb:\n  role: R2\n  goal: G\n  backstory: B\n  llm: ollama/llama3.1\n",
        "t:\n  description: D\n  expected_output: E\n  agent: a\n",
    );
    write(
        dir.path(),
        "crew.yaml",
        "llm:\n  model: openai/gpt-4o\n  temperature: 0.5\nmanager_llm:\n  model: openai/o3\n  max_tokens: 99\n",
    );
    let spec = load(dir.path()).unwrap().spec;
    assert_eq!(spec.llm.as_deref(), Some("openai/gpt-4o"));
    assert_eq!(spec.agents[0].llm_settings.temperature, Some(0.5), "no model of its own: the crew's settings");
    assert!(spec.agents[1].llm_settings.is_empty(), "its own model, its own settings");
    assert_eq!((spec.manager_llm.as_deref(), spec.manager_llm_settings.max_tokens), (Some("openai/o3"), Some(99)));
}

#[test]
fn respect_context_window_is_read_from_yaml_crew_py_and_graphs() {
    // YAML: true by default (CrewAI's), false when written.
    let dir = project(
        "a:\n  role: R\n  goal: G\n  backstory: B\n  respect_context_window: false\nb:\n  role: R\n  goal: G\n  backstory: B\n",
        "t:\n  description: D\n  expected_output: E\n  agent: a\n",
    );
    let loaded = load(dir.path()).unwrap();
    let flags: Vec<bool> = loaded.spec.agents.iter().map(|a| a.respect_context_window).collect();
    assert_eq!(flags, [false, true]);
    assert!(loaded.warnings.is_empty(), "applied, not warned about: {:?}", loaded.warnings);

    // crew.py: the keyword argument overrides the YAML.
    let dir = project("a:\n  role: R\n  goal: G\n  backstory: B\n", "t:\n  description: D\n  expected_output: E\n  agent: a\n");
    write(
        dir.path(),
        "crew.py",
        "class C:\n    @agent\n    def a(self) -> Agent:\n        return Agent(config=self.agents_config['a'], respect_context_window=False)\n",
    );
    let loaded = load(dir.path()).unwrap();
    assert!(!loaded.spec.agents[0].respect_context_window);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    // Graph JSON: an agent node's data.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "g.json",
        r#"{"nodes": [{"id": "a", "type": "agent", "data": {"role": "R", "goal": "G", "backstory": "B", "respect_context_window": false}},
                      {"id": "t", "type": "task", "data": {"description": "D", "expected_output": "E"}}],
            "edges": [{"source": "a", "target": "t"}]}"#,
    );
    let loaded = load(&p).unwrap();
    assert!(!loaded.spec.agents[0].respect_context_window);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}
