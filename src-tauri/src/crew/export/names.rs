//! Python names for an exported crew: the package, the `@CrewBase` class, and one method name per
//! agent and task key (CrewAI's YAML keys must be those method names).

use std::collections::{BTreeMap, HashSet};

use super::reserved_modules::{IMPORTED_PACKAGES, STDLIB_MODULES};
use crate::crew::CrewSpec;

/// Python's keywords (and soft keywords), which no identifier may be.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
    "while", "with", "yield", "match", "case", "type", "_",
];

/// Attributes a `@CrewBase` class has or the generated class defines: no agent or task method may
/// take them.
const CLASS_ATTRIBUTES: &[&str] = &[
    "crew",
    "agents",
    "tasks",
    "agents_config",
    "tasks_config",
    "enter_workspace",
    "base_directory",
    "close_mcp_server",
    "get_mcp_tools",
    "is_crew_class",
    "load_configurations",
    "load_yaml",
    "map_all_agent_variables",
    "map_all_task_variables",
    "mcp_connect_timeout",
    "mcp_server_params",
    "original_agents_config_path",
    "original_tasks_config_path",
];

/// Names `crew.py` imports or defines at module level: the class may not take them.
const MODULE_NAMES: &[&str] = &[
    "Agent",
    "Any",
    "BaseAgent",
    "Crew",
    "CrewBase",
    "DirectoryReadTool",
    "FileReadTool",
    "FileWriterTool",
    "Path",
    "Process",
    "Task",
    "TaskOutput",
];

/// The Python names of one exported crew.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonNames {
    /// The package under `src/` (lowercase identifier).
    pub package: String,
    /// The `@CrewBase` class in `crew.py` (CamelCase).
    pub class: String,
    /// Agent key → method name (and `agents.yaml` key).
    pub agents: BTreeMap<String, String>,
    /// Task key → method name (and `tasks.yaml` key; CrewAI's task `name`).
    pub tasks: BTreeMap<String, String>,
}

impl PythonNames {
    /// Names for `spec`: the package from the crew's name, then agents and tasks in order, each
    /// unique among all of them.
    pub fn of(spec: &CrewSpec) -> PythonNames {
        let package = package_name(&spec.name);
        let class = class_name(&package);
        let mut taken: HashSet<String> = CLASS_ATTRIBUTES.iter().map(|s| s.to_string()).collect();
        let agents = spec.agents.iter().map(|a| (a.key.clone(), unique(identifier(&a.key, "agent"), &mut taken))).collect();
        let tasks = spec.tasks.iter().map(|t| (t.key.clone(), unique(identifier(&t.key, "task"), &mut taken))).collect();
        PythonNames { package, class, agents, tasks }
    }

    /// The method name of the agent `key` (a key the spec has).
    pub fn agent(&self, key: &str) -> &str {
        &self.agents[key]
    }

    /// The method name of the task `key` (a key the spec has).
    pub fn task(&self, key: &str) -> &str {
        &self.tasks[key]
    }
}

/// The package name for a crew called `name`: a lowercase identifier (`[a-z0-9_]`, not starting
/// with a digit, not a keyword), not a standard-library or CrewAI module; `crew` when nothing is left.
pub fn package_name(name: &str) -> String {
    let base = identifier(name, "crew");
    if STDLIB_MODULES.contains(&base.as_str()) || IMPORTED_PACKAGES.contains(&base.as_str()) {
        return format!("{base}_crew");
    }
    base
}

/// The class name for `package`: its words capitalised (`trip_planner` → `TripPlanner`), with
/// `Project` appended when that is a name `crew.py` already uses (`crew` → `CrewProject`).
pub fn class_name(package: &str) -> String {
    let camel: String = package
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    if MODULE_NAMES.contains(&camel.as_str()) {
        format!("{camel}Project")
    } else {
        camel
    }
}

/// `text` as a lowercase ASCII identifier: runs of other characters become one `_`, leading and
/// trailing `_` go, a leading digit gets `fallback_` before it, a keyword gets `_` after it, and
/// an empty result is `fallback`.
pub fn identifier(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    if out.is_empty() {
        return fallback.to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("{fallback}_{out}");
    }
    if KEYWORDS.contains(&out) {
        return format!("{out}_");
    }
    out.to_string()
}

/// `name`, or `name_2`, `name_3`, … : the first not in `taken`, which then takes it.
fn unique(name: String, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_safe_identifiers() {
        assert_eq!(package_name("trip_planner"), "trip_planner");
        assert_eq!(package_name("My Crew: v2!"), "my_crew_v2");
        assert_eq!(package_name("2024 report"), "crew_2024_report");
        assert_eq!(package_name("class"), "class_");
        assert_eq!(package_name("¿¡"), "crew");
        assert_eq!(package_name(""), "crew");
        assert_eq!(package_name("json"), "json_crew");
        assert_eq!(package_name("CrewAI"), "crewai_crew");
        assert_eq!(package_name("Über-Team"), "ber_team");
    }

    #[test]
    fn class_names_avoid_the_imports() {
        assert_eq!(class_name("trip_planner"), "TripPlanner");
        assert_eq!(class_name("crew"), "CrewProject");
        assert_eq!(class_name("task"), "TaskProject");
        assert_eq!(class_name("crew_2024_report"), "Crew2024Report");
    }

    #[test]
    fn method_names_are_unique_and_avoid_the_class_attributes() {
        let mut taken: HashSet<String> = CLASS_ATTRIBUTES.iter().map(|s| s.to_string()).collect();
        assert_eq!(unique(identifier("crew", "task"), &mut taken), "crew_2");
        assert_eq!(unique(identifier("node-1", "task"), &mut taken), "node_1");
        assert_eq!(unique(identifier("Node 1", "task"), &mut taken), "node_1_2");
        assert_eq!(unique(identifier("1st", "task"), &mut taken), "task_1st");
        assert_eq!(unique(identifier("for", "task"), &mut taken), "for_");
    }
}
