//! Crew-level settings (`crew.yaml`, a single file's top level, a graph's crew node).

use std::collections::BTreeMap;

use super::command_tool::{read_command_tools, CommandToolSpec};
use super::crewai_fields::CrewAiClass;
use super::diagnostic::Findings;
use super::document::Node;
use super::entries::{read_llm_settings_at, read_model_at};
use super::fields::{Fields, KeySet};
use super::mcp::{read_mcp_servers, McpServerSpec};
use super::LlmSettings;
use super::Process;

const KNOWN: &[&str] = &[
    "name",
    "process",
    "llm",
    "manager_llm",
    "manager_agent",
    "inputs",
    "workspace",
    "allow_network_tools",
    "max_rpm",
    "verbose",
    "description",
    "mcp_servers",
    "command_tools",
];

/// Crew fields of older CrewAI versions (warned with the 1.x ones, see [`CrewAiClass::yaml_keys`]).
const UNSUPPORTED_EXTRA: &[&str] = &["memory_config", "short_term_memory", "long_term_memory", "entity_memory", "external_memory"];

/// The crew-level settings; absent fields are `None`/empty.
#[derive(Debug, Default)]
pub(crate) struct CrewSettings {
    pub name: Option<String>,
    pub process: Option<Process>,
    pub llm: Option<String>,
    /// The settings of an `llm:` mapping: the default of agents that name no model of their own.
    pub llm_settings: LlmSettings,
    pub manager_llm: Option<String>,
    /// The settings of a `manager_llm:` mapping.
    pub manager_llm_settings: LlmSettings,
    pub manager_agent: Option<String>,
    pub inputs: BTreeMap<String, serde_json::Value>,
    pub workspace: Option<String>,
    /// `None` when the crew does not say (then on).
    pub allow_network_tools: Option<bool>,
    pub max_rpm: Option<u32>,
    pub mcp_servers: BTreeMap<String, McpServerSpec>,
    pub command_tools: BTreeMap<String, CommandToolSpec>,
}

/// Reads the settings in `fields`; `extra_known` are the format's own keys there (`agents`,
/// `tasks`, `agents_config`, …), which the caller reads.
pub(crate) fn read_settings(fields: &Fields, extra_known: &[&str], findings: &mut Findings) -> CrewSettings {
    let known: Vec<&str> = KNOWN.iter().chain(extra_known).copied().collect();
    let (_, unsupported) = CrewAiClass::Crew.yaml_keys(UNSUPPORTED_EXTRA);
    fields.check_keys(&KeySet { known: &known, unsupported: &unsupported }, findings);
    let text = |key: &str, findings: &mut Findings| fields.string(key, findings).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    CrewSettings {
        name: text("name", findings),
        process: read_process(fields, findings),
        llm: read_model_at(fields, "llm", findings),
        llm_settings: read_llm_settings_at(fields, "llm", findings),
        manager_llm: read_model_at(fields, "manager_llm", findings),
        manager_llm_settings: read_llm_settings_at(fields, "manager_llm", findings),
        manager_agent: text("manager_agent", findings),
        inputs: read_inputs(fields, findings),
        workspace: text("workspace", findings),
        allow_network_tools: fields.bool("allow_network_tools", findings),
        max_rpm: fields.uint("max_rpm", findings),
        mcp_servers: read_mcp_servers(fields, findings),
        command_tools: read_command_tools(fields, findings),
    }
}

fn read_process(fields: &Fields, findings: &mut Findings) -> Option<Process> {
    let raw = fields.string("process", findings)?;
    // CrewAI code writes `Process.sequential`; accept that spelling too.
    let name = raw.trim().trim_start_matches("Process.").to_ascii_lowercase();
    match name.as_str() {
        "sequential" => Some(Process::Sequential),
        "hierarchical" => Some(Process::Hierarchical),
        _ => {
            findings.error(fields.origin.at("process", format!("unknown process `{raw}`; expected `sequential` or `hierarchical`")));
            None
        }
    }
}

fn read_inputs(fields: &Fields, findings: &mut Findings) -> BTreeMap<String, serde_json::Value> {
    match fields.get("inputs") {
        None | Some(Node::Null) => BTreeMap::new(),
        Some(Node::Map(entries)) => entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
        Some(other) => {
            findings.error(fields.origin.at("inputs", format!("expected a mapping of input names to values, found {}", other.kind())));
            BTreeMap::new()
        }
    }
}
