//! Network tools in a crew: turning them off (`allow_network_tools: false`, `--no-network-tools`),
//! letting them reach private addresses (`--allow-private-network`), and the API keys they need.

use std::collections::BTreeMap;

use super::diagnostic::{CrewWarning, Diagnostic};
use super::tools::entry_for;
use super::{CrewSpec, ToolUse};

/// The network options given with a run, submission or validation (not in the crew file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkChoice {
    /// `--no-network-tools`: drop every network tool, as `allow_network_tools: false` does.
    pub no_network_tools: bool,
    /// `--allow-private-network`: network tools may reach loopback, private and link-local
    /// addresses.
    pub allow_private_network: bool,
}

impl NetworkChoice {
    /// Applies the choice to a loaded crew: records it in the spec (so the execution's snapshot
    /// carries it to the worker) and drops the network tools when they are off. Returns a warning
    /// per dropped tool.
    pub fn apply(&self, spec: &mut CrewSpec) -> Vec<CrewWarning> {
        if self.allow_private_network {
            spec.allow_private_network = true;
        }
        if self.no_network_tools {
            spec.allow_network_tools = false;
            return drop_network_tools(spec, "--no-network-tools");
        }
        Vec::new()
    }
}

/// Removes the network tools from every agent and task of `spec` when its `allow_network_tools`
/// is false, with one warning per tool removed naming where it was and `why` they are off.
/// Nothing changes when network tools are allowed.
pub fn drop_network_tools(spec: &mut CrewSpec, why: &str) -> Vec<CrewWarning> {
    if spec.allow_network_tools {
        return Vec::new();
    }
    let source = spec.source.clone();
    let mut warnings = Vec::new();
    let mut drop = |owner: String, tools: &mut Vec<ToolUse>| {
        tools.retain(|t| {
            let Some(entry) = entry_for(&t.name).filter(|e| e.network) else { return true };
            warnings.push(Diagnostic::new(
                &source,
                format!("{owner}: tool `{}` needs the network; not available (network tools are off: {why}), dropped", entry.crewai[0]),
            ));
            false
        });
    };
    for a in &mut spec.agents {
        drop(format!("agents.{}.tools", a.key), &mut a.tools);
    }
    for t in &mut spec.tasks {
        drop(format!("tasks.{}.tools", t.key), &mut t.tools);
    }
    warnings
}

/// An API key a crew's tool needs that the environment does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingToolKey {
    /// The environment variable (`SERPER_API_KEY`).
    pub variable: &'static str,
    /// The CrewAI class of the tool (`SerperDevTool`).
    pub tool: &'static str,
    /// Where the tool is used (`agents.researcher.tools`).
    pub used_by: String,
}

impl std::fmt::Display for MissingToolKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: tool `{}` needs {} (not set)", self.used_by, self.tool, self.variable)
    }
}

/// The API keys `spec`'s tools need that `vars` lacks (unset or blank), one per tool use.
pub fn missing_tool_keys(spec: &CrewSpec, vars: &BTreeMap<String, String>) -> Vec<MissingToolKey> {
    let uses = spec
        .agents
        .iter()
        .map(|a| (format!("agents.{}.tools", a.key), &a.tools))
        .chain(spec.tasks.iter().map(|t| (format!("tasks.{}.tools", t.key), &t.tools)));
    let mut missing = Vec::new();
    for (used_by, tools) in uses {
        for t in tools {
            let Some(entry) = entry_for(&t.name) else { continue };
            let Some(variable) = entry.api_key_env else { continue };
            if vars.get(variable).is_none_or(|v| v.trim().is_empty()) {
                missing.push(MissingToolKey { variable, tool: entry.crewai[0], used_by: used_by.clone() });
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{agent, crew, task};

    fn spec_with(tools: &[&str]) -> CrewSpec {
        let mut a = agent("a", "A");
        a.tools = tools.iter().map(|n| ToolUse::named(*n)).collect();
        crew(vec![a], vec![task("t", Some("a"))], std::path::Path::new("/ws"))
    }

    #[test]
    fn network_tools_are_dropped_only_when_off() {
        let mut spec = spec_with(&["serper_search", "read_file", "scrape_website"]);
        spec.allow_network_tools = true;
        assert!(NetworkChoice::default().apply(&mut spec).is_empty());
        assert_eq!(spec.agents[0].tools.len(), 3);
        let choice = NetworkChoice { no_network_tools: true, allow_private_network: true };
        let warnings = choice.apply(&mut spec);
        assert_eq!(spec.agents[0].tools, ["read_file"]);
        assert!(spec.allow_private_network && !spec.allow_network_tools);
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].message.contains("tool `SerperDevTool` needs the network; not available"), "{}", warnings[0]);
        assert!(warnings[1].message.contains("--no-network-tools"), "{}", warnings[1]);
    }

    #[test]
    fn missing_keys_are_named_per_tool_use() {
        let spec = spec_with(&["serper_search", "scrape_website", "brave_search"]);
        let vars: BTreeMap<String, String> = [("BRAVE_API_KEY".to_string(), "k".to_string())].into();
        let missing = missing_tool_keys(&spec, &vars);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].to_string(), "agents.a.tools: tool `SerperDevTool` needs SERPER_API_KEY (not set)");
    }
}
