//! Exporting a [`CrewSpec`] as a real CrewAI project (the `crewai create crew` layout), which runs
//! with `crewai run`, or `PYTHONPATH=src python -c "from <pkg>.main import run; run()"` from its root.
//!
//! ```text
//! pyproject.toml  README.md  .gitignore
//! src/<pkg>/__init__.py  main.py  crew.py  config/agents.yaml  config/tasks.yaml
//! ```
//!
//! Every field of the spec is carried over or named in [`ExportedProject::notes`]:
//! - agents: role, goal, backstory, llm (else the crew's `llm`), allow_delegation, max_iter,
//!   max_execution_time, max_rpm, respect_context_window (when false) in `agents.yaml`; tools as `crewai_tools` classes in `crew.py`;
//! - tasks: description, expected_output, agent, context, async_execution, output_file in
//!   `tasks.yaml` (context and async as [`task_plan`] explains); tools and `output_json` (a
//!   guardrail) in `crew.py`; `output_schema` and `guardrail` are noted, not exported;
//! - crew: name, process, manager_llm/manager_agent, max_rpm in `crew.py`; workspace (the crew runs
//!   there) in `crew.py`; inputs as `main.py`'s defaults; format and source in `README.md`;
//! - model strings go as they are but `offline` ([`models`]); `{placeholders}` stay in the text.

mod crew_py;
mod literal;
mod models;
mod names;
mod publish;
mod reserved_modules;
mod scaffold;
mod task_plan;
#[cfg(test)]
mod test_specs;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::crew::CrewSpec;

/// A project [`export_project`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportedProject {
    /// The project's root (where `crewai run` runs): the `dir` given.
    pub root: PathBuf,
    /// The Python package under `src/`.
    pub package: String,
    /// `root/src/<package>`.
    pub package_dir: PathBuf,
    /// The `@CrewBase` class in `crew.py`.
    pub class_name: String,
    /// Agent key → its method name and `agents.yaml` key.
    pub agent_names: BTreeMap<String, String>,
    /// Task key → its method name and `tasks.yaml` key (CrewAI's task name, as events report it).
    pub task_names: BTreeMap<String, String>,
    /// Every file written, absolute, in the order written.
    pub files: Vec<PathBuf>,
    /// What could not be carried over exactly.
    pub notes: Vec<String>,
}

/// Why an export wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The target exists and is not an empty folder (a folder with entries, or a file); nothing
    /// was written, so none of the user's files is overwritten.
    #[error("{} is not empty: export writes only into a new or empty folder", dir.display())]
    NotEmpty {
        /// The target folder.
        dir: PathBuf,
    },
    /// Reading the target or writing a file failed; nothing was left behind.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder that failed.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A YAML file could not be generated (not expected: every spec field serialises).
    #[error("cannot generate YAML: {0}")]
    Yaml(#[from] serde_saphyr::SerializeError),
}

/// Writes `spec` as a CrewAI project into `dir`, which must be missing or an empty folder
/// ([`ExportError::NotEmpty`] otherwise). All files appear at once, or none does.
pub fn export_project(spec: &CrewSpec, dir: &Path) -> Result<ExportedProject, ExportError> {
    publish::check_target(dir)?;
    let names = names::PythonNames::of(spec);
    let mut notes = Vec::new();
    let (plan, plan_notes) = task_plan::plan_tasks(spec);
    notes.extend(plan_notes);
    let agent_models: Vec<Option<String>> = spec.agents.iter().map(|a| models::agent_model(spec, a, &mut notes)).collect();
    let manager = models::manager(spec, &mut notes);
    if spec.allow_private_network {
        notes.push("--allow-private-network has no CrewAI equivalent (CrewAI's tools reach any address)".into());
    }
    for task in &spec.tasks {
        if task.output_schema.is_some() {
            notes.push(format!("task `{}`: output_schema is not exported (CrewAI needs a Pydantic model for it)", task.key));
        }
        if let Some(guardrail) = &task.guardrail {
            notes.push(format!("task `{}`: the guardrail \"{guardrail}\" is not exported", task.key));
        }
    }
    if !spec.mcp_servers.is_empty() || spec.agents.iter().any(|a| !a.mcps.is_empty()) {
        notes.push("MCP servers (mcp_servers, agents' mcps) are not exported; attach them with CrewAI's `mcps=[…]`".into());
    }
    if !spec.command_tools.is_empty() {
        notes.push("command tools (command_tools) are not exported; CrewAI needs a Python tool for each".into());
    }
    let crew_py = crew_py::crew_py(&crew_py::CrewPyInput { spec, names: &names, manager: manager.as_ref() }, &mut notes);

    let package_rel = Path::new("src").join(&names.package);
    let files: Vec<(PathBuf, String)> = vec![
        ("pyproject.toml".into(), scaffold::pyproject_toml(spec, &names)),
        ("README.md".into(), scaffold::readme_md(spec, &names)),
        (".gitignore".into(), scaffold::GITIGNORE.into()),
        (package_rel.join("__init__.py"), String::new()),
        (package_rel.join("config/agents.yaml"), yaml::agents_yaml(spec, &names, &agent_models)?),
        (package_rel.join("config/tasks.yaml"), yaml::tasks_yaml(spec, &names, &plan)?),
        (package_rel.join("crew.py"), crew_py),
        (package_rel.join("main.py"), scaffold::main_py(spec, &names)),
    ];
    publish::publish(dir, &files)?;

    let root = super::draft::absolute(dir);
    Ok(ExportedProject {
        package_dir: root.join(&package_rel),
        files: files.iter().map(|(rel, _)| root.join(rel)).collect(),
        package: names.package,
        class_name: names.class,
        agent_names: names.agents,
        task_names: names.tasks,
        root,
        notes,
    })
}

#[cfg(test)]
mod tests;
