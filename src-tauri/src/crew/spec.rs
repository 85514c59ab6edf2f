use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::command_tool::CommandToolSpec;
use super::mcp::{McpRef, McpServerSpec};

/// Which format a crew was loaded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum CrewFormat {
    /// A CrewAI project folder: `config/agents.yaml` + `config/tasks.yaml` (+ optional `crew.yaml`).
    YamlProject,
    /// One `.yaml`, `.json` or `.jsonc` file holding the whole crew.
    SingleFile,
    /// A visual editor's `{nodes, edges}` graph JSON.
    Graph,
}

/// How tasks are run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Process {
    /// Tasks in order, each by its own agent.
    #[default]
    Sequential,
    /// A manager delegates the tasks to the agents and reviews the results.
    Hierarchical,
}

/// An agent, with CrewAI's field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct AgentSpec {
    /// The agent's key (its name in `agents.yaml`, its node id in a graph).
    pub key: String,
    pub role: String,
    pub goal: String,
    pub backstory: String,
    /// Model string (`openai/gpt-4o-mini`, `offline`, …); `None` = the crew's default.
    #[serde(default)]
    pub llm: Option<String>,
    /// The model's settings beyond its name (`LLM(temperature=…, base_url=…)`, an `llm:` mapping).
    #[serde(default, skip_serializing_if = "LlmSettings::is_empty")]
    pub llm_settings: LlmSettings,
    /// The agent's tools, by canonical name (`read_file`, …; see `crew::tools`) with the constructor
    /// arguments the crew wrote: the loader maps CrewAI names (`FileReadTool`, …) and drops tools it
    /// cannot run, warning.
    #[serde(default)]
    pub tools: Vec<ToolUse>,
    /// MCP servers (or single tools of them) whose tools the agent gets (`mcps:`): names of the
    /// crew's `mcp_servers`, or `https://…` URLs, each optionally `#tool`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcps: Vec<McpRef>,
    #[serde(default)]
    pub allow_delegation: bool,
    /// A prompt longer than the model's context window is summarised (true, CrewAI's default)
    /// rather than failing the task (false); see `engine::context_window`.
    #[serde(default = "respect_context_window_default")]
    pub respect_context_window: bool,
    /// Most reasoning iterations per task (CrewAI's default is 25).
    pub max_iter: u32,
    /// Seconds an agent may spend on one task.
    #[serde(default)]
    pub max_execution_time: Option<u64>,
    /// Most LLM requests per minute for this agent.
    #[serde(default)]
    pub max_rpm: Option<u32>,
}

/// CrewAI's default `respect_context_window`: true.
fn respect_context_window_default() -> bool {
    true
}

/// An agent's model settings beyond the model name; absent fields leave the provider's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct LlmSettings {
    /// Sent as the request's `temperature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub temperature: Option<f32>,
    /// Sent as the request's `max_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_tokens: Option<u32>,
    /// The endpoint's base URL (`http://127.0.0.1:11434/v1`), instead of the provider's
    /// variables and default; `--api-base` still overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub base_url: Option<String>,
    /// The environment variable holding the API key (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub api_key_env: Option<String>,
}

impl LlmSettings {
    /// No setting given.
    pub fn is_empty(&self) -> bool {
        *self == LlmSettings::default()
    }
}

/// A task, with CrewAI's field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct TaskSpec {
    /// The task's key (its name in `tasks.yaml`, its node id in a graph). Steps are stored under it.
    pub key: String,
    pub description: String,
    pub expected_output: String,
    /// The assigned agent's key; `None` only in hierarchical crews (the manager picks).
    #[serde(default)]
    pub agent: Option<String>,
    /// `None` = all previous tasks' outputs; `Some([])` = none; otherwise these tasks' outputs.
    /// Graph crews always have `Some`: exactly the task→task edges into this task.
    #[serde(default)]
    pub context: Option<Vec<String>>,
    #[serde(default)]
    pub async_execution: bool,
    /// CrewAI's `human_input`: the agent's answer waits for a person's review (accept, or
    /// feedback the agent revises with, asked again) before the task completes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub human_input: bool,
    /// Path (relative to the workspace) the output is written to, atomically.
    #[serde(default)]
    pub output_file: Option<String>,
    /// The output must be JSON (and parse).
    #[serde(default)]
    pub output_json: bool,
    /// JSON Schema the output must match (from `output_json`/`output_pydantic` naming a Pydantic
    /// model, or given inline).
    #[serde(default)]
    pub output_schema: Option<serde_json::Value>,
    /// A guardrail the output must pass, judged by the LLM (CrewAI's string guardrail).
    #[serde(default)]
    pub guardrail: Option<String>,
    /// How many times a rejected output is sent back for revision (CrewAI's default is 3).
    #[serde(default = "default_guardrail_max_retries")]
    pub guardrail_max_retries: u32,
    /// Task-level tools (override the agent's for this task when non-empty).
    #[serde(default)]
    pub tools: Vec<ToolUse>,
}

/// CrewAI's default `guardrail_max_retries`: 3.
fn default_guardrail_max_retries() -> u32 {
    3
}

/// A tool given to an agent or a task: its canonical name and the constructor arguments the crew
/// wrote (`FileReadTool(file_path="a.md")` → `read_file` with `{"file_path": "a.md"}`).
///
/// Serialised as the bare name when it has no arguments, so snapshots written before tools had
/// arguments (plain strings) still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(from = "ToolUseRepr", into = "ToolUseRepr")]
#[ts(as = "ToolUseRepr")]
pub struct ToolUse {
    /// The canonical tool name.
    pub name: String,
    /// Constructor arguments, by CrewAI's argument names; empty when none were given.
    pub args: BTreeMap<String, serde_json::Value>,
}

impl ToolUse {
    /// The tool `name` with no constructor arguments.
    pub fn named(name: impl Into<String>) -> Self {
        ToolUse { name: name.into(), args: BTreeMap::new() }
    }
}

impl From<&str> for ToolUse {
    fn from(name: &str) -> Self {
        ToolUse::named(name)
    }
}

impl PartialEq<&str> for ToolUse {
    /// Equal to a bare name: the same name and no arguments.
    fn eq(&self, name: &&str) -> bool {
        self.name == *name && self.args.is_empty()
    }
}

impl std::fmt::Display for ToolUse {
    /// `read_file`, or `read_file(file_path="a.md")` with its arguments.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if !self.args.is_empty() {
            let args: Vec<String> = self.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "({})", args.join(", "))?;
        }
        Ok(())
    }
}

/// How a [`ToolUse`] is written: a bare name, or `{name, args}`.
#[derive(Clone, Serialize, Deserialize, JsonSchema, TS)]
#[serde(untagged)]
#[ts(rename = "ToolUse")]
enum ToolUseRepr {
    Name(String),
    WithArgs {
        name: String,
        #[serde(default)]
        args: BTreeMap<String, serde_json::Value>,
    },
}

impl From<ToolUseRepr> for ToolUse {
    fn from(repr: ToolUseRepr) -> Self {
        match repr {
            ToolUseRepr::Name(name) => ToolUse::named(name),
            ToolUseRepr::WithArgs { name, args } => ToolUse { name, args },
        }
    }
}

impl From<ToolUse> for ToolUseRepr {
    fn from(tool: ToolUse) -> Self {
        if tool.args.is_empty() {
            ToolUseRepr::Name(tool.name)
        } else {
            ToolUseRepr::WithArgs { name: tool.name, args: tool.args }
        }
    }
}

/// A whole crew, validated and normalised; what the engine runs and what an execution snapshots.
///
/// Placeholders (`{topic}`) are still in the text; they are filled at run time from the inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CrewSpec {
    pub name: String,
    pub format: CrewFormat,
    /// The file or folder it was loaded from (absolute).
    pub source: String,
    #[serde(default)]
    pub process: Process,
    /// The crew's default model; `None` = from the environment (`MODEL`) or the built-in default.
    #[serde(default)]
    pub llm: Option<String>,
    /// The manager's model for hierarchical crews.
    #[serde(default)]
    pub manager_llm: Option<String>,
    /// The settings of a `manager_llm` mapping (or `LLM(...)`): temperature, endpoint, key variable.
    #[serde(default, skip_serializing_if = "LlmSettings::is_empty")]
    pub manager_llm_settings: LlmSettings,
    /// The key of the agent that manages a hierarchical crew (instead of a built-in manager).
    #[serde(default)]
    pub manager_agent: Option<String>,
    pub agents: Vec<AgentSpec>,
    /// In execution order.
    pub tasks: Vec<TaskSpec>,
    /// Default inputs; kickoff inputs override them.
    #[serde(default)]
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// The folder the file tools and `output_file` are confined to (absolute).
    pub workspace: String,
    /// Let tools that reach the network run (on by default; off with `allow_network_tools: false`
    /// or `--no-network-tools`, which drop them from the agents and tasks with a warning).
    #[serde(default = "network_tools_default")]
    pub allow_network_tools: bool,
    /// Let network tools reach loopback, private and link-local addresses
    /// (`--allow-private-network`; off by default). Stored with the execution so the worker that
    /// runs it honours it.
    #[serde(default)]
    pub allow_private_network: bool,
    /// Crew-wide requests-per-minute cap.
    #[serde(default)]
    pub max_rpm: Option<u32>,
    /// MCP servers agents may attach with `mcps:`, by name (`${VAR}` still unexpanded).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mcp_servers: BTreeMap<String, McpServerSpec>,
    /// Command tools agents and tasks may name in `tools:`, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub command_tools: BTreeMap<String, CommandToolSpec>,
    /// Where each default input came from (`main.py:14`, `crew.yaml`), by input name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_sources: BTreeMap<String, String>,
    /// The project's `.env` (absolute), whose variables fill those the environment leaves unset
    /// when the crew runs. Only its path and variable names are kept: the values are read again
    /// by whoever runs the crew, so no secret is stored with an execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub env_file: Option<String>,
    /// The variable names the `.env` set when the crew was loaded (names only, never values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_vars: Vec<String>,
}

/// `allow_network_tools` when a snapshot does not say: on.
fn network_tools_default() -> bool {
    true
}

impl CrewSpec {
    pub fn agent(&self, key: &str) -> Option<&AgentSpec> {
        self.agents.iter().find(|a| a.key == key)
    }

    pub fn task(&self, key: &str) -> Option<&TaskSpec> {
        self.tasks.iter().find(|t| t.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_without_arguments_is_its_bare_name_and_old_snapshots_load() {
        let plain = ToolUse::named("read_file");
        assert_eq!(serde_json::to_value(&plain).unwrap(), serde_json::json!("read_file"));
        let with: ToolUse = serde_json::from_value(serde_json::json!({"name": "read_file", "args": {"file_path": "a.md"}})).unwrap();
        assert_eq!(with.args["file_path"], "a.md");
        assert_eq!(serde_json::to_value(&with).unwrap(), serde_json::json!({"name": "read_file", "args": {"file_path": "a.md"}}));
        assert_eq!(serde_json::from_value::<ToolUse>(serde_json::json!("write_file")).unwrap(), ToolUse::named("write_file"));
        assert_eq!(with.to_string(), "read_file(file_path=\"a.md\")");
    }
}
