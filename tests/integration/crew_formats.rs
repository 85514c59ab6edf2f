//! The crew loader's public API, from outside the crate: the three formats and the inputs readers
//! on the fixtures under `tests/fixtures/crews/`.

use std::path::{Path, PathBuf};

use crew_runner::crew::{self, inputs, CrewFormat, Process};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/crews").join(name)
}

#[test]
fn the_crewai_peer_benchmark_crew_loads() {
    let report = crew::validate(&fixture("crewai-peer")).unwrap();
    assert_eq!(report.crew.format, CrewFormat::YamlProject);
    assert_eq!(report.crew.process, Process::Sequential);
    assert_eq!(report.crew.agents.len(), 2);
    assert_eq!(report.crew.tasks[1].context.as_deref(), Some(&["research_task".to_string()][..]));
    assert_eq!(report.required_inputs.len(), 1);
    assert_eq!(report.required_inputs[0].name, "topic");
    assert_eq!(report.required_inputs[0].default, Some(serde_json::json!("AI agent frameworks")));
    // The report is what `validate --json` prints.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["crew"]["format"], "yaml_project");
    assert_eq!(json["required_inputs"][0]["default"], "AI agent frameworks");

    // Filling the placeholders from the defaults gives runnable text.
    let filled = crew::interpolate(&report.crew, &Default::default()).unwrap();
    assert_eq!(filled.agents[0].role, "AI agent frameworks Research Specialist");
}

#[test]
fn every_format_loads_through_one_entry_point() {
    for (name, format) in [
        ("crewai-peer", CrewFormat::YamlProject),
        ("src-layout", CrewFormat::YamlProject),
        ("single.yaml", CrewFormat::SingleFile),
        ("single.jsonc", CrewFormat::SingleFile),
        ("graph.json", CrewFormat::Graph),
    ] {
        let loaded = crew::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.spec.format, format, "{name}");
        assert!(Path::new(&loaded.spec.source).is_absolute(), "{name}");
        assert!(Path::new(&loaded.spec.workspace).is_absolute(), "{name}");
        assert!(!loaded.spec.tasks.is_empty(), "{name}");
    }
}

#[test]
fn errors_print_one_line_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crew.yaml");
    std::fs::write(
        &path,
        "agents:\n  a: {role: R, goal: G, backstory: B, max_iter: x}\ntasks:\n  t: {description: D, expected_output: E, agent: b}\n",
    )
    .unwrap();
    let err = crew::load(&path).unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let shown = std::fs::canonicalize(&path).unwrap().display().to_string();
    assert!(lines[0].starts_with(&format!("{shown}:2: agents.a.max_iter: ")), "{text}");
    assert!(lines[1].starts_with(&format!("{shown}:4: tasks.t.agent: unknown agent `b`")), "{text}");
}

#[test]
fn inputs_from_pairs_and_files() {
    assert_eq!(inputs::parse_input_pair("n=2").unwrap(), ("n".to_string(), serde_json::json!(2)));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, "topic\nbees\n\"ants, mostly\"\n").unwrap();
    let rows = inputs::read_inputs_rows(&csv).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["topic"], serde_json::json!("ants, mostly"));
}
