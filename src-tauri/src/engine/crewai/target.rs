//! [`CrewaiTarget`]: what the CrewAI engine runs (stored as a CrewAI execution's `crew_spec`), and
//! recognising CrewAI Python projects, Flows and scripts on disk.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::python::FoundPython;
use crate::crew::CrewSpec;

/// How the shim runs the crew (the request's `kind`, see docs/CREWAI_ENGINE.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A `crewai create crew` project: `src/<pkg>/crew.py` with a `@CrewBase` class.
    CrewProject,
    /// A `crewai create flow` project: a `Flow` subclass in `src/<pkg>/main.py`.
    FlowProject,
    /// A `.py` file that builds a `Crew` and calls `kickoff`.
    Script,
}

impl TargetKind {
    pub fn describe(self) -> &'static str {
        match self {
            TargetKind::CrewProject => "a CrewAI crew project",
            TargetKind::FlowProject => "a CrewAI Flow project",
            TargetKind::Script => "a Python script",
        }
    }
}

/// What a CrewAI execution runs, with which Python.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct CrewaiTarget {
    pub kind: TargetKind,
    /// The working directory (the project root; a script's folder).
    pub root: PathBuf,
    /// The package folder `src/<pkg>` of a project; the file of a script.
    pub entry: PathBuf,
    pub python: FoundPython,
    /// A native crew translated to a CrewAI project at each attempt (`crew-runner export`'s
    /// project, written to a temp folder); `root` and `entry` are then filled in at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub translated: Option<CrewSpec>,
}

/// A CrewAI Python crew found on disk (`validate --json` and the desktop app's preview show it as
/// `{kind, root, entry}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema, TS)]
pub struct PythonCrew {
    pub kind: TargetKind,
    pub root: PathBuf,
    pub entry: PathBuf,
}

/// Recognises `path` as a CrewAI project, Flow or script; `None` for anything else (YAML and JSON
/// crews, folders without a Python package).
///
/// - a `.py` file: a script, unless it is the `crew.py` or `main.py` of a project's package, which
///   means that project;
/// - a folder (or its `pyproject.toml`) with `src/<pkg>/` holding `crew.py` or `main.py`: a Flow
///   project when `pyproject.toml` says `type = "flow"` or the package defines a `Flow` subclass,
///   else a crew project when `crew.py` has `@CrewBase` or `main.py` defines `run()` (a crew built in
///   Python);
/// - a folder with a `main.py` that kicks a crew off (a flat project defined in Python): that script.
pub fn detect(path: &Path) -> Option<PythonCrew> {
    let path = std::fs::canonicalize(path).ok()?;
    if path.is_file() {
        if path.file_name().is_some_and(|n| n == "pyproject.toml") {
            return detect_project(path.parent()?);
        }
        if path.extension().is_some_and(|e| e == "py") {
            let package = path.parent()?;
            let root = package.parent().filter(|src| src.file_name().is_some_and(|n| n == "src")).and_then(Path::parent);
            if let Some(project) = root.and_then(detect_project).filter(|p| p.entry == package) {
                return Some(project);
            }
            return Some(PythonCrew { kind: TargetKind::Script, root: package.to_path_buf(), entry: path });
        }
        return None;
    }
    detect_project(&path)
}

fn detect_project(root: &Path) -> Option<PythonCrew> {
    let src = root.join("src");
    let mut packages: Vec<PathBuf> = std::fs::read_dir(&src)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && (p.join("crew.py").is_file() || p.join("main.py").is_file()))
        .collect();
    packages.sort();
    let pyproject = std::fs::read_to_string(root.join("pyproject.toml")).unwrap_or_default();
    let said_flow = pyproject.lines().any(|l| {
        let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        l == "type=\"flow\"" || l == "type='flow'"
    });
    for package in packages {
        let main = std::fs::read_to_string(package.join("main.py")).unwrap_or_default();
        let crew = std::fs::read_to_string(package.join("crew.py")).unwrap_or_default();
        if said_flow || defines_flow(&main) {
            return Some(PythonCrew { kind: TargetKind::FlowProject, root: root.to_path_buf(), entry: package });
        }
        if crew.contains("@CrewBase") || defines_run(&main) {
            return Some(PythonCrew { kind: TargetKind::CrewProject, root: root.to_path_buf(), entry: package });
        }
    }
    // A flat project defined in Python (`main.py` beside the crew's modules): run as a script.
    let main = root.join("main.py");
    let text = std::fs::read_to_string(&main).unwrap_or_default();
    if text.contains("kickoff") || defines_flow(&text) {
        return Some(PythonCrew { kind: TargetKind::Script, root: root.to_path_buf(), entry: main });
    }
    None
}

/// A top-level `def run(` in Python source (`main.py`'s entry point, as `crewai run` calls it).
fn defines_run(source: &str) -> bool {
    source.lines().any(|l| l.starts_with("def run(") || l.starts_with("async def run("))
}

/// A `class X(Flow…)` definition in Python source.
fn defines_flow(source: &str) -> bool {
    source.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("class ") && l.split_once('(').is_some_and(|(_, bases)| bases.trim_start().starts_with("Flow"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn projects_flows_and_scripts_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        write(&root, "crew/pyproject.toml", "[tool.crewai]\ntype = \"crew\"\n");
        write(&root, "crew/src/research/crew.py", "@CrewBase\nclass Research:\n    pass\n");
        write(&root, "crew/src/research/main.py", "def run():\n    pass\n");
        write(&root, "flow/pyproject.toml", "[tool.crewai]\ntype = \"flow\"\n");
        write(&root, "flow/src/poem/main.py", "class PoemFlow(Flow[PoemState]):\n    pass\n");
        write(&root, "flow2/src/poem/main.py", "class PoemFlow( Flow ):\n    pass\n");
        write(&root, "script.py", "crew.kickoff()\n");
        write(&root, "yaml/config/agents.yaml", "a: {}\n");
        write(&root, "coded/src/coded/main.py", "def run():\n    Crew(agents=[a], tasks=[t]).kickoff()\n");
        write(&root, "flat/main.py", "crew = Crew(agents=[a], tasks=[t])\nif __name__ == '__main__':\n    crew.kickoff()\n");

        let crew = detect(&root.join("crew")).unwrap();
        assert_eq!((crew.kind, crew.entry.clone()), (TargetKind::CrewProject, root.join("crew/src/research")));
        assert_eq!(detect(&root.join("crew/src/research/crew.py")), Some(crew.clone()));
        assert_eq!(detect(&root.join("crew/pyproject.toml")), Some(crew));
        assert_eq!(detect(&root.join("flow")).unwrap().kind, TargetKind::FlowProject);
        assert_eq!(detect(&root.join("flow2")).unwrap().kind, TargetKind::FlowProject);
        let script = detect(&root.join("script.py")).unwrap();
        assert_eq!((script.kind, script.root), (TargetKind::Script, root.clone()));
        assert_eq!(detect(&root.join("yaml")), None);
        assert_eq!(detect(&root.join("coded")).unwrap().kind, TargetKind::CrewProject, "a project built in Python");
        let flat = detect(&root.join("flat")).unwrap();
        assert_eq!((flat.kind, flat.entry), (TargetKind::Script, root.join("flat/main.py")));
        assert_eq!(detect(&root.join("yaml/config/agents.yaml")), None);
    }
}
