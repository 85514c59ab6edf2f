use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which format a crew was loaded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Process {
    /// Tasks in order, each by its own agent.
    #[default]
    Sequential,
    /// A manager delegates the tasks to the agents and reviews the results.
    Hierarchical,
}

/// An agent, with CrewAI's field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentSpec {
    /// The agent's key (its name in `agents.yaml`, its node id in a graph).
    pub key: String,
    pub role: String,
    pub goal: String,
    pub backstory: String,
    /// Model string (`openai/gpt-4o-mini`, `offline`, …); `None` = the crew's default.
    #[serde(default)]
    pub llm: Option<String>,
    /// Canonical tool names (`read_file`, `write_file`, `list_directory`; see `crew::tools`): the
    /// loader maps CrewAI names (`FileReadTool`, …) and drops network and unknown tools, warning.
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub allow_delegation: bool,
    /// Most reasoning iterations per task (CrewAI's default is 25).
    pub max_iter: u32,
    /// Seconds an agent may spend on one task.
    #[serde(default)]
    pub max_execution_time: Option<u64>,
    /// Most LLM requests per minute for this agent.
    #[serde(default)]
    pub max_rpm: Option<u32>,
}

/// A task, with CrewAI's field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Path (relative to the workspace) the output is written to, atomically.
    #[serde(default)]
    pub output_file: Option<String>,
    /// The output must be JSON (and parse).
    #[serde(default)]
    pub output_json: bool,
    /// Task-level tools, canonical names (override the agent's for this task when non-empty).
    #[serde(default)]
    pub tools: Vec<String>,
}

/// A whole crew, validated and normalised; what the engine runs and what an execution snapshots.
///
/// Placeholders (`{topic}`) are still in the text; they are filled at run time from the inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Let tools that reach the network run (off by default).
    #[serde(default)]
    pub allow_network_tools: bool,
    /// Crew-wide requests-per-minute cap.
    #[serde(default)]
    pub max_rpm: Option<u32>,
}

impl CrewSpec {
    pub fn agent(&self, key: &str) -> Option<&AgentSpec> {
        self.agents.iter().find(|a| a.key == key)
    }

    pub fn task(&self, key: &str) -> Option<&TaskSpec> {
        self.tasks.iter().find(|t| t.key == key)
    }
}
