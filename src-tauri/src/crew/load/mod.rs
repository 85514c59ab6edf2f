//! Loading a crew from any of the three formats into one checked [`CrewSpec`].
//!
//! Detection: a folder is a CrewAI YAML project; a `.json`/`.jsonc`/`.yaml`/`.yml` file whose top
//! level has `nodes` is a graph, else a single-file crew. A `crew.yaml` with neither `agents` nor
//! `tasks` inside a project folder loads that folder, and so does a project's
//! `config/agents.yaml` or `config/tasks.yaml`.

mod collection;
mod crew_py;
mod crew_py_apply;
mod env_file;
mod graph;
mod main_py;
mod python;
mod single_file;
mod yaml_project;

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::check::check;
use super::confine::{confine_workspace, WorkspacePolicy};
use super::diagnostic::{CrewError, CrewWarning, Diagnostic, FieldUses, Findings};
use super::document::{self, Node, Syntax};
use super::draft::{absolute, Draft};
use super::network::drop_network_tools;
use super::source::SourceText;
use super::CrewSpec;

/// A crew that loaded, and what was noticed on the way (ignored fields, dropped tools, …).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadedCrew {
    pub spec: CrewSpec,
    pub warnings: Vec<CrewWarning>,
    /// Per agent, task and the crew's settings: the fields applied and those ignored.
    pub fields: Vec<FieldUses>,
}

/// Loads and checks the crew at `path` (a project folder or a crew file); its workspace must be
/// inside the crew's folder ([`load_with`] and the default [`WorkspacePolicy`]).
pub fn load(path: &Path) -> Result<LoadedCrew, CrewError> {
    load_with(path, &WorkspacePolicy::default())
}

/// Loads and checks the crew at `path` (a project folder or a crew file). Its `workspace` is
/// resolved (symlinks, `..`) and must be inside the crew's folder or a folder `policy` allows;
/// the spec holds the resolved path.
///
/// Every error found is reported at once (syntax errors stop a file from being read further).
/// Nothing is executed: the project's Python files are only parsed.
pub fn load_with(path: &Path, policy: &WorkspacePolicy) -> Result<LoadedCrew, CrewError> {
    let path = absolute(path);
    let shown = path.display().to_string();
    let meta = std::fs::metadata(&path).map_err(|e| CrewError::single(Diagnostic::new(&shown, format!("cannot open: {e}"))))?;
    let mut findings = Findings::default();
    let draft = if meta.is_dir() { yaml_project::read(&path, &mut findings) } else { read_file(&path, &mut findings) };
    let spec = draft.map(|mut d| {
        check(&mut d, &mut findings);
        confine_workspace(&mut d, policy, &mut findings);
        for w in drop_network_tools(&mut d.spec, "allow_network_tools: false") {
            findings.warn(w);
        }
        d.spec
    });
    let fields = findings.take_uses();
    let warnings = findings.into_result()?;
    match spec {
        Some(spec) => Ok(LoadedCrew { spec, warnings, fields }),
        // A reader that gives up always records an error, so this is not reached.
        None => Err(CrewError::single(Diagnostic::new(shown, "could not be read"))),
    }
}

fn read_file(path: &Path, findings: &mut Findings) -> Option<Draft> {
    if let Some(project) = project_of_config(path) {
        return yaml_project::read(&project, findings);
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let syntax = match ext.as_str() {
        "yaml" | "yml" => Syntax::Yaml,
        "json" => Syntax::Json,
        "jsonc" => Syntax::Jsonc,
        _ => {
            findings.error(Diagnostic::new(
                path.display().to_string(),
                "not a crew: expected a project folder or a .yaml, .yml, .json or .jsonc file",
            ));
            return None;
        }
    };
    let source = match SourceText::read(path) {
        Ok(s) => Arc::new(s),
        Err(d) => {
            findings.error(d);
            return None;
        }
    };
    let root = match document::parse(&source, syntax) {
        Ok(root) => root,
        Err(d) => {
            findings.error(d);
            return None;
        }
    };
    match &root {
        Node::Map(_) if root.get("nodes").is_some() => graph::read(&root, source, path, findings),
        Node::Map(_) if is_project_settings(path, &root) => {
            let dir = path.parent().unwrap_or(path);
            yaml_project::read(dir, findings)
        }
        Node::Map(_) => single_file::read(&root, source, path, findings),
        Node::Null => {
            findings.error(source.diag("the file is empty"));
            None
        }
        other => {
            findings.error(source.diag(format!("expected a mapping at the top level, found {}", other.kind())).at_line(Some(1)));
            None
        }
    }
}

/// The project folder when `path` is its `config/agents.yaml` or `config/tasks.yaml` (also under
/// `src/<package>/`), found as the folder where [`yaml_project::find_config`] finds this file.
fn project_of_config(path: &Path) -> Option<std::path::PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    if stem != "agents" && stem != "tasks" {
        return None;
    }
    let config = path.parent()?;
    if config.file_name()? != "config" {
        return None;
    }
    let package = config.parent()?;
    // `src/<package>/config/`: the project is the folder holding `src/`.
    let outer = package.parent().filter(|src| src.file_name().is_some_and(|n| n == "src")).and_then(Path::parent);
    outer.into_iter().chain([package]).find(|dir| yaml_project::find_config(dir, stem).as_deref() == Some(path)).map(Path::to_path_buf)
}

/// `crew.yaml` holding settings only, beside a `config/` (or `src/`) folder of a project.
fn is_project_settings(path: &Path, root: &Node) -> bool {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let dir = path.parent().unwrap_or(path);
    stem == "crew" && root.get("agents").is_none() && root.get("tasks").is_none() && yaml_project::find_config(dir, "agents").is_some()
}

#[cfg(test)]
mod tests;
