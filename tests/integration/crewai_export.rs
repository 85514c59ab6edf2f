//! `crew-runner export`: crews of every format written as CrewAI projects, checked as files and,
//! when `CREW_RUNNER_TEST_PYTHON` names a Python with crewai, loaded by CrewAI itself (no LLM call).

use crate::harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::{arg, fixture, Crew};
use serde_json::{json, Value};

/// The fixtures exported, one or more of each format.
const FIXTURES: &[&str] = &["crews/crewai-peer", "crews/src-layout", "crews/single.yaml", "crews/single.jsonc", "crews/graph.json"];

/// Loads the exported project and prints what CrewAI made of it. Without `crewai_tools` installed
/// (the tools are optional: `crewai[tools]`), stand-in tool classes are used.
const CREWAI_PROBE: &str = r#"
import importlib, json, sys, types
try:
    import crewai_tools
except ImportError:
    from crewai.tools import BaseTool
    stub = types.ModuleType("crewai_tools")
    def stand_in(name):
        if name.startswith("__"):
            raise AttributeError(name)
        body = {"__annotations__": {"name": str, "description": str}, "name": name, "description": "stand-in", "_run": lambda self, **kw: ""}
        tool = type(name, (BaseTool,), body)
        setattr(stub, name, tool)
        return tool
    stub.__getattr__ = stand_in  # any class the export imports (FileReadTool, SerperDevTool, ...)
    sys.modules["crewai_tools"] = stub
    print("crewai_tools is not installed: stand-in tool classes", file=sys.stderr)
package, cls = sys.argv[1], sys.argv[2]
crew = getattr(importlib.import_module(package + ".crew"), cls)().crew()
main = importlib.import_module(package + ".main")
print(json.dumps({
    "name": crew.name,
    "process": crew.process.value,
    "agents": [a.role for a in crew.agents],
    "manager": crew.manager_agent.role if crew.manager_agent else None,
    "manager_llm": getattr(crew.manager_llm, "model", crew.manager_llm),
    "max_rpm": crew.max_rpm,
    "tasks": [{
        "name": t.name,
        "description": t.description,
        "expected_output": t.expected_output,
        "agent": t.agent.role if t.agent else None,
        "context": [c.name for c in t.context] if isinstance(t.context, list) else None,
        "async": t.async_execution,
        "output_file": t.output_file,
        "tools": sorted(type(x).__name__ for x in (t.tools or [])),
        "json_guardrail": t.guardrail is not None,
    } for t in crew.tasks],
    "agent_tools": {a.role: sorted(type(x).__name__ for x in (a.tools or [])) for a in crew.agents},
    "inputs": main.INPUTS,
}))
"#;

/// The crew as `validate --json` reports it.
fn spec_of(crew: &Crew, path: &str) -> Value {
    crew.json(&["validate", path, "--json"])["crew"].clone()
}

/// Exports `crew_path` into `dir` and returns the `--json` report.
fn export(crew: &Crew, crew_path: &str, dir: &Path) -> Value {
    crew.json(&["export", crew_path, "--to", &arg(dir), "--json"])
}

/// The Python with crewai, or `None` (and a line saying the check is skipped and why).
fn test_python(what: &str) -> Option<PathBuf> {
    match std::env::var_os("CREW_RUNNER_TEST_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var_os("CI").is_some() => panic!("CI must set CREW_RUNNER_TEST_PYTHON (a Python with crewai; .ci/run installs one)"),
        _ => {
            eprintln!("SKIPPED loading {what} in CrewAI: CREW_RUNNER_TEST_PYTHON is not set (set it to a Python with crewai, e.g. /opt/crewai-venv/bin/python)");
            None
        }
    }
}

/// Runs [`CREWAI_PROBE`] in the exported project as `crewai run` would (root as the working
/// directory, `src` on the path) and returns its JSON.
fn probe(python: &Path, report: &Value) -> Value {
    let root = report["root"].as_str().unwrap();
    let out = Command::new(python)
        .args(["-c", CREWAI_PROBE, report["package"].as_str().unwrap(), report["class_name"].as_str().unwrap()])
        .current_dir(root)
        .env("PYTHONPATH", "src")
        .env("CREWAI_TELEMETRY_OPT_OUT", "true")
        .env("OTEL_SDK_DISABLED", "true")
        .env_remove("MODEL")
        .output()
        .expect("the test Python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "CrewAI could not load {root}:\nstdout: {stdout}\nstderr: {stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("probe output is not JSON ({e}): {stdout}\nstderr: {stderr}"))
}

/// The context CrewAI should have for the task at `index` (method names), as the export writes
/// it: a spec's `None` is every earlier task (these fixtures have no async tasks), written out
/// except for a first task; `None` here is CrewAI's unset context.
fn expected_context(spec: &Value, names: &Value, index: usize) -> Option<Vec<String>> {
    let tasks = spec["tasks"].as_array().unwrap();
    let name = |key: &Value| names[key.as_str().unwrap()].as_str().unwrap().to_string();
    match &tasks[index]["context"] {
        Value::Array(list) => Some(list.iter().map(name).collect()),
        _ if index == 0 => None,
        _ => Some(tasks[..index].iter().map(|t| name(&t["key"])).collect()),
    }
}

/// Asserts that what CrewAI loaded is the spec.
fn assert_same_crew(spec: &Value, report: &Value, loaded: &Value) {
    let source = spec["source"].as_str().unwrap();
    assert_eq!(loaded["name"], spec["name"], "{source}");
    assert_eq!(loaded["process"], spec["process"], "{source}");
    assert_eq!(loaded["inputs"], spec["inputs"], "{source}");
    let task_names = &report["task_names"];
    let role_of = |key: &Value| spec["agents"].as_array().unwrap().iter().find(|a| &a["key"] == key).map(|a| a["role"].clone());
    let manager_key = &spec["manager_agent"];
    for (index, (want, got)) in spec["tasks"].as_array().unwrap().iter().zip(loaded["tasks"].as_array().unwrap()).enumerate() {
        let what = format!("{source} task {}", want["key"]);
        assert_eq!(got["name"], task_names[want["key"].as_str().unwrap()], "{what}");
        assert_eq!(got["description"], want["description"], "{what}");
        assert_eq!(got["expected_output"], want["expected_output"], "{what}");
        let agent = if &want["agent"] == manager_key { None } else { role_of(&want["agent"]) };
        assert_eq!(got["agent"], agent.unwrap_or(Value::Null), "{what}");
        let context = expected_context(spec, task_names, index);
        assert_eq!(got["context"], json!(context), "{what}");
        assert_eq!(got["async"], want["async_execution"], "{what}");
        assert_eq!(got["output_file"], want["output_file"], "{what}");
        assert_eq!(got["json_guardrail"], want["output_json"], "{what}");
    }
    assert_eq!(loaded["tasks"].as_array().unwrap().len(), spec["tasks"].as_array().unwrap().len(), "{source}");
    for agent in spec["agents"].as_array().unwrap().iter().filter(|a| &a["key"] != manager_key) {
        assert!(
            loaded["agents"].as_array().unwrap().contains(&agent["role"]),
            "{source}: agent {} missing from {}",
            agent["key"],
            loaded["agents"]
        );
    }
}

#[test]
fn every_format_exports_as_a_crewai_project() {
    let crew = Crew::new(None);
    let python = test_python("the exported fixtures");
    for (n, rel) in FIXTURES.iter().enumerate() {
        let path = arg(&fixture(rel));
        let spec = spec_of(&crew, &path);
        let dir = crew.dir.path().join(format!("out{n}"));
        let report = export(&crew, &path, &dir);
        let package = report["package"].as_str().unwrap();
        let package_dir = dir.join("src").join(package);
        assert_eq!(report["package_dir"].as_str(), Some(arg(&package_dir).as_str()), "{rel}");
        for file in ["pyproject.toml", "README.md", ".gitignore"] {
            assert!(dir.join(file).is_file(), "{rel}: {file}");
        }
        for file in ["__init__.py", "crew.py", "main.py", "config/agents.yaml", "config/tasks.yaml"] {
            assert!(package_dir.join(file).is_file(), "{rel}: src/{package}/{file}");
        }
        assert_eq!(report["files"].as_array().unwrap().len(), 8, "{rel}");
        let pyproject = std::fs::read_to_string(dir.join("pyproject.toml")).unwrap();
        assert!(pyproject.contains(&format!("run_crew = \"{package}.main:run\"")), "{rel}: {pyproject}");
        assert!(pyproject.contains("\"crewai[tools]>=1.0\"") && pyproject.contains("[tool.crewai]\ntype = \"crew\""), "{rel}");
        let tasks: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(package_dir.join("config/tasks.yaml")).unwrap()).unwrap();
        for t in spec["tasks"].as_array().unwrap() {
            let name = report["task_names"][t["key"].as_str().unwrap()].as_str().unwrap();
            assert_eq!(tasks[name]["description"].as_str(), t["description"].as_str(), "{rel}");
        }
        let agents: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(package_dir.join("config/agents.yaml")).unwrap()).unwrap();
        for a in spec["agents"].as_array().unwrap() {
            let name = report["agent_names"][a["key"].as_str().unwrap()].as_str().unwrap();
            assert_eq!(agents[name]["role"].as_str(), a["role"].as_str(), "{rel}");
            assert_eq!(agents[name]["max_iter"].as_u64(), a["max_iter"].as_u64(), "{rel}");
        }
        if let Some(python) = &python {
            assert_same_crew(&spec, &report, &probe(python, &report));
        }
    }
}

#[test]
fn text_models_tools_and_json_carry_over() {
    let crew = Crew::new(None);
    let nasty = "Say \"hi\": it's #1 {topic}\n  - not a list\n\\u0041 tab\t café 🐝 ---";
    let crew_file = crew.write(
        "nasty/crew.json",
        &json!({
            "name": "json",
            "llm": "openai/gpt-4o-mini",
            "max_rpm": 30,
            "inputs": {"topic": nasty, "n": 3, "flag": true, "none": null, "list": [1.5, "x"]},
            "agents": {
                "class": {"role": nasty, "goal": "g: {topic}", "backstory": "# b", "tools": ["FileReadTool", "list_directory"], "max_iter": 4},
                "second-agent": {"role": "Second", "goal": "g", "backstory": "b", "llm": "offline"}
            },
            "tasks": {
                "1st": {"description": nasty, "expected_output": "'quoted'", "agent": "class", "output_file": "out/{topic}.md"},
                "next": {"description": "d", "expected_output": "JSON", "agent": "second-agent", "output_json": true, "tools": ["write_file"]},
                "last": {"description": "d", "expected_output": "e", "agent": "class", "context": ["1st"]}
            }
        })
        .to_string(),
    );
    let path = arg(&crew_file);
    let spec = spec_of(&crew, &path);
    let dir = crew.dir.path().join("nasty-out");
    let report = export(&crew, &path, &dir);
    assert_eq!(report["package"], "json_crew", "a package named json would hide the standard library's");
    assert_eq!(report["task_names"]["1st"], "task_1st");
    assert_eq!(report["agent_names"]["class"], "class_");
    let notes = report["notes"].to_string();
    assert!(notes.contains("second-agent") && notes.contains("offline") && notes.contains("crewai_tools"), "{notes}");
    let Some(python) = test_python("the exported nasty crew") else { return };
    let loaded = probe(&python, &report);
    assert_same_crew(&spec, &report, &loaded);
    assert_eq!(loaded["max_rpm"], 30);
    assert_eq!(loaded["agent_tools"][nasty], json!(["DirectoryReadTool", "FileReadTool"]));
    let next = loaded["tasks"].as_array().unwrap().iter().find(|t| t["name"] == "next").unwrap();
    assert_eq!(next["tools"], json!(["FileWriterTool"]), "task tools replace the agent's");
    assert_eq!(next["json_guardrail"], true);
}

#[test]
fn a_folder_with_files_is_refused_and_kept() {
    let crew = Crew::new(None);
    let dir = crew.dir.path().join("taken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), "mine").unwrap();
    let stderr = crew.usage_error(&["export", &arg(&fixture("crews/graph.json")), "--to", &arg(&dir)]);
    assert!(stderr.contains(&arg(&dir)) && stderr.contains("not empty"), "{stderr}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(dir.join("mine.txt")).unwrap(), "mine");
}

#[test]
fn a_bad_crew_writes_nothing() {
    let crew = Crew::new(None);
    let bad = crew.write("bad.yaml", "name: bad\nagents: {}\ntasks:\n  t: {description: d}\n");
    let dir = crew.dir.path().join("never");
    let out = crew.outcome(&["export", &arg(&bad), "--to", &arg(&dir)]);
    assert_eq!(out.code, Some(2), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("bad.yaml"), "{}", out.stderr);
    assert!(!dir.exists());
}
