//! A crew as read from its files, before the checks: the spec plus where each part came from.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::origin::Origin;
use super::settings::CrewSettings;
use super::{AgentSpec, CrewFormat, CrewSpec, TaskSpec};

/// A crew read from its files, not yet checked; every agent and task knows its origin.
pub(crate) struct Draft {
    pub spec: CrewSpec,
    /// Where the crew-level settings are (or would be) written.
    pub settings_origin: Origin,
    /// Where the agents are written (the `agents` list, `agents.yaml`, the graph's `nodes`).
    pub agents_origin: Origin,
    /// Where the tasks are written.
    pub tasks_origin: Origin,
    /// Parallel to `spec.agents`.
    pub agent_origins: Vec<Origin>,
    /// Parallel to `spec.tasks`.
    pub task_origins: Vec<Origin>,
    /// The crew's folder: a relative `workspace` is resolved against it, and a workspace must be
    /// inside it unless a [`WorkspacePolicy`](super::WorkspacePolicy) allows another folder.
    pub base_dir: PathBuf,
}

/// What a format's reader hands over to build a [`Draft`].
pub(crate) struct DraftParts {
    pub format: CrewFormat,
    /// The file or folder loaded, absolute.
    pub source: PathBuf,
    /// The folder a relative `workspace` is resolved against, and the default workspace.
    pub base_dir: PathBuf,
    /// The name when the settings give none (folder or file stem).
    pub default_name: String,
    pub settings: CrewSettings,
    pub settings_origin: Origin,
    pub agents_origin: Origin,
    pub tasks_origin: Origin,
    pub agents: Vec<(AgentSpec, Origin)>,
    pub tasks: Vec<(TaskSpec, Origin)>,
    /// Where each default input came from, by input name (see [`CrewSpec::input_sources`]).
    pub input_sources: BTreeMap<String, String>,
    /// The project's `.env`, if it has one.
    pub env_file: Option<PathBuf>,
    /// The variable names that `.env` sets.
    pub env_vars: Vec<String>,
}

impl Draft {
    pub fn assemble(parts: DraftParts) -> Draft {
        let s = parts.settings;
        // As written: `confine_workspace` resolves it (symlinks, then `..`) once the crew is read.
        let workspace = match s.workspace {
            Some(w) => parts.base_dir.join(expand_home(&w)),
            None => parts.base_dir.clone(),
        };
        let (mut agents, agent_origins): (Vec<AgentSpec>, Vec<Origin>) = parts.agents.into_iter().unzip();
        // A crew-level `llm:` mapping's settings go with its model: to every agent that names no
        // model of its own (and has no settings of its own).
        if !s.llm_settings.is_empty() {
            for agent in agents.iter_mut().filter(|a| a.llm.is_none() && a.llm_settings.is_empty()) {
                agent.llm_settings = s.llm_settings.clone();
            }
        }
        let (tasks, task_origins) = parts.tasks.into_iter().unzip();
        Draft {
            spec: CrewSpec {
                name: s.name.unwrap_or(parts.default_name),
                format: parts.format,
                source: parts.source.display().to_string(),
                process: s.process.unwrap_or_default(),
                llm: s.llm,
                manager_llm: s.manager_llm,
                manager_llm_settings: s.manager_llm_settings,
                manager_agent: s.manager_agent,
                agents,
                tasks,
                inputs: s.inputs,
                workspace: workspace.display().to_string(),
                allow_network_tools: s.allow_network_tools.unwrap_or(true),
                allow_private_network: false,
                max_rpm: s.max_rpm,
                mcp_servers: s.mcp_servers,
                command_tools: s.command_tools,
                input_sources: parts.input_sources,
                env_file: parts.env_file.map(|p| p.display().to_string()),
                env_vars: parts.env_vars,
            },
            settings_origin: parts.settings_origin,
            agents_origin: parts.agents_origin,
            tasks_origin: parts.tasks_origin,
            agent_origins,
            task_origins,
            base_dir: parts.base_dir,
        }
    }
}

/// `~/x` as `<home>/x` (when the home folder is known); other paths as they are.
fn expand_home(path: &str) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    match path.strip_prefix("~/") {
        Some(rest) => home().map(|h| h.join(rest)).unwrap_or_else(|| PathBuf::from(path)),
        None if path == "~" => home().unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

/// `path` with `.` removed and `..` applied lexically (the folder need not exist yet).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The absolute form of `path` (symlinks resolved when it exists).
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).map(|p| normalize(&p)).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_expanded() {
        let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        if let Some(home) = home {
            assert_eq!(expand_home("~/ws"), home.join("ws"));
        }
        assert_eq!(expand_home("a/~/b"), PathBuf::from("a/~/b"));
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/b/./../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/a/../../x")), PathBuf::from("/x"));
    }
}
