//! Which fields of CrewAI's `Agent`, `Task` and `Crew` (YAML keys and keyword arguments alike) the
//! native engine applies, and why it ignores the others. Every field CrewAI 1.x accepts is
//! classified here (a test pins CrewAI's own lists), so none is dropped without a word.

/// What becomes of one keyword argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KwargUse {
    /// Read into the crew (see `crew_py_apply`).
    Applied,
    /// Accepted by CrewAI, not applied by the native engine; the text says why.
    Ignored(&'static str),
    /// Not an argument of CrewAI's class.
    Unknown,
}

/// Why most unsupported arguments are ignored.
pub(crate) const NOT_SUPPORTED: &str = "not supported by the native engine; ignored";
/// CrewAI's internal state, set by CrewAI itself.
const INTERNAL: &str = "CrewAI's internal state, not a setting; ignored";

const AGENT_APPLIED: &[&str] = &[
    "config",
    "role",
    "goal",
    "backstory",
    "llm",
    "tools",
    "allow_delegation",
    "respect_context_window",
    "max_iter",
    "max_rpm",
    "max_execution_time",
    "verbose",
    "mcps",
];

const AGENT_INTERNAL: &[&str] = &[
    "id",
    "crew",
    "agent_executor",
    "adapted_agent",
    "agent_knowledge_context",
    "crew_knowledge_context",
    "cache_handler",
    "tools_handler",
    "tools_results",
    "i18n",
    "execution_context",
    "entity_type",
    "checkpoint_kickoff_event_id",
    "knowledge_storage",
    "executor_class",
];

const AGENT_IGNORED: &[&str] = &[
    "a2a",
    "allow_code_execution",
    "apps",
    "cache",
    "callbacks",
    "checkpoint",
    "code_execution_mode",
    "date_format",
    "embedder",
    "from_repository",
    "function_calling_llm",
    "guardrail",
    "guardrail_max_retries",
    "inject_date",
    "knowledge",
    "knowledge_config",
    "knowledge_search_query",
    "knowledge_sources",
    "max_reasoning_attempts",
    "max_retry_limit",
    "max_tokens",
    "memory",
    "multimodal",
    "planning",
    "planning_config",
    "prompt_template",
    "reasoning",
    "response_template",
    "security_config",
    "skills",
    "step_callback",
    "system_template",
    "tool_failure_policy",
    "use_better_compaction",
    "use_system_prompt",
];

const TASK_APPLIED: &[&str] = &[
    "config",
    "description",
    "expected_output",
    "agent",
    "context",
    "async_execution",
    "human_input",
    "output_file",
    "output_json",
    "output_pydantic",
    "tools",
    "name",
    "guardrail",
    "guardrail_max_retries",
];

const TASK_INTERNAL: &[&str] = &[
    "id",
    "output",
    "used_tools",
    "tools_errors",
    "delegations",
    "processed_by_agents",
    "retry_count",
    "start_time",
    "end_time",
    "prompt_context",
    "checkpoint_original_description",
    "checkpoint_original_expected_output",
];

const TASK_IGNORED: &[&str] = &[
    "allow_crewai_trigger_context",
    "callback",
    "converter_cls",
    "create_directory",
    "guardrails",
    "input_files",
    "markdown",
    "max_retries",
    "response_model",
    "security_config",
    "tool_failure_policy",
];

const CREW_APPLIED: &[&str] = &["agents", "tasks", "process", "verbose", "manager_llm", "manager_agent", "max_rpm", "name"];

const CREW_INTERNAL: &[&str] = &[
    "id",
    "usage_metrics",
    "token_usage",
    "execution_logs",
    "execution_context",
    "entity_type",
    "checkpoint_inputs",
    "checkpoint_train",
    "checkpoint_kickoff_event_id",
    "trained_agents_file",
    "task_execution_output_json_files",
];

const CREW_IGNORED: &[&str] = &[
    "after_kickoff_callbacks",
    "before_kickoff_callbacks",
    "cache",
    "chat_llm",
    "checkpoint",
    "config",
    "embedder",
    "function_calling_llm",
    "knowledge",
    "knowledge_sources",
    "memory",
    "output_log_file",
    "planning",
    "planning_llm",
    "prompt_file",
    "security_config",
    "share_crew",
    "skills",
    "step_callback",
    "stream",
    "task_callback",
    "tool_failure_policy",
    "tracing",
];

/// Which CrewAI class a call builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CrewAiClass {
    Agent,
    Task,
    Crew,
}

impl CrewAiClass {
    /// The class a called name builds (`Agent`, `crewai.Task`, …).
    pub fn of_call(func: &str) -> Option<Self> {
        match func.rsplit('.').next().unwrap_or(func) {
            "Agent" => Some(CrewAiClass::Agent),
            "Task" => Some(CrewAiClass::Task),
            "Crew" => Some(CrewAiClass::Crew),
            _ => None,
        }
    }

    fn lists(self) -> (&'static [&'static str], &'static [&'static str], &'static [&'static str]) {
        match self {
            CrewAiClass::Agent => (AGENT_APPLIED, AGENT_INTERNAL, AGENT_IGNORED),
            CrewAiClass::Task => (TASK_APPLIED, TASK_INTERNAL, TASK_IGNORED),
            CrewAiClass::Crew => (CREW_APPLIED, CREW_INTERNAL, CREW_IGNORED),
        }
    }

    /// The keys a YAML/JSON entry of this class may hold: `(known, unsupported)`. Known are the
    /// applied fields but `config` (a YAML entry is the config); unsupported are the ignored ones,
    /// CrewAI's internal state, `config`, and `extra` (fields of older CrewAI versions).
    pub fn yaml_keys(self, extra: &[&'static str]) -> (Vec<&'static str>, Vec<&'static str>) {
        let (applied, internal, ignored) = self.lists();
        let known = applied.iter().copied().filter(|k| *k != "config").collect();
        let unsupported = ignored.iter().chain(internal).chain(&["config"]).chain(extra).copied().collect();
        (known, unsupported)
    }

    /// What becomes of the keyword argument `name`.
    pub fn classify(self, name: &str) -> KwargUse {
        let (applied, internal, ignored) = self.lists();
        if applied.contains(&name) {
            KwargUse::Applied
        } else if internal.contains(&name) {
            KwargUse::Ignored(INTERNAL)
        } else if ignored.contains(&name) {
            KwargUse::Ignored(NOT_SUPPORTED)
        } else {
            KwargUse::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sorted(Agent.model_fields)` of CrewAI 1.15.30.
    const CREWAI_AGENT: &[&str] = &[
        "a2a",
        "adapted_agent",
        "agent_executor",
        "agent_knowledge_context",
        "allow_code_execution",
        "allow_delegation",
        "apps",
        "backstory",
        "cache",
        "cache_handler",
        "callbacks",
        "checkpoint",
        "checkpoint_kickoff_event_id",
        "code_execution_mode",
        "config",
        "crew",
        "crew_knowledge_context",
        "date_format",
        "embedder",
        "entity_type",
        "execution_context",
        "executor_class",
        "from_repository",
        "function_calling_llm",
        "goal",
        "guardrail",
        "guardrail_max_retries",
        "i18n",
        "id",
        "inject_date",
        "knowledge",
        "knowledge_config",
        "knowledge_search_query",
        "knowledge_sources",
        "knowledge_storage",
        "llm",
        "max_execution_time",
        "max_iter",
        "max_reasoning_attempts",
        "max_retry_limit",
        "max_rpm",
        "max_tokens",
        "mcps",
        "memory",
        "multimodal",
        "planning",
        "planning_config",
        "prompt_template",
        "reasoning",
        "respect_context_window",
        "response_template",
        "role",
        "security_config",
        "skills",
        "step_callback",
        "system_template",
        "tool_failure_policy",
        "tools",
        "tools_handler",
        "tools_results",
        "use_better_compaction",
        "use_system_prompt",
        "verbose",
    ];

    /// `sorted(Task.model_fields)` of CrewAI 1.15.30.
    const CREWAI_TASK: &[&str] = &[
        "agent",
        "allow_crewai_trigger_context",
        "async_execution",
        "callback",
        "checkpoint_original_description",
        "checkpoint_original_expected_output",
        "config",
        "context",
        "converter_cls",
        "create_directory",
        "delegations",
        "description",
        "end_time",
        "expected_output",
        "guardrail",
        "guardrail_max_retries",
        "guardrails",
        "human_input",
        "id",
        "input_files",
        "markdown",
        "max_retries",
        "name",
        "output",
        "output_file",
        "output_json",
        "output_pydantic",
        "processed_by_agents",
        "prompt_context",
        "response_model",
        "retry_count",
        "security_config",
        "start_time",
        "tool_failure_policy",
        "tools",
        "tools_errors",
        "used_tools",
    ];

    /// `sorted(Crew.model_fields)` of CrewAI 1.15.30.
    const CREWAI_CREW: &[&str] = &[
        "after_kickoff_callbacks",
        "agents",
        "before_kickoff_callbacks",
        "cache",
        "chat_llm",
        "checkpoint",
        "checkpoint_inputs",
        "checkpoint_kickoff_event_id",
        "checkpoint_train",
        "config",
        "embedder",
        "entity_type",
        "execution_context",
        "execution_logs",
        "function_calling_llm",
        "id",
        "knowledge",
        "knowledge_sources",
        "manager_agent",
        "manager_llm",
        "max_rpm",
        "memory",
        "name",
        "output_log_file",
        "planning",
        "planning_llm",
        "process",
        "prompt_file",
        "security_config",
        "share_crew",
        "skills",
        "step_callback",
        "stream",
        "task_callback",
        "task_execution_output_json_files",
        "tasks",
        "token_usage",
        "tool_failure_policy",
        "tracing",
        "trained_agents_file",
        "usage_metrics",
        "verbose",
    ];

    #[test]
    fn every_crewai_argument_is_classified_and_nothing_else() {
        for (class, crewai) in [(CrewAiClass::Agent, CREWAI_AGENT), (CrewAiClass::Task, CREWAI_TASK), (CrewAiClass::Crew, CREWAI_CREW)] {
            for name in crewai {
                assert_ne!(class.classify(name), KwargUse::Unknown, "{class:?}.{name} is not classified");
            }
            let (applied, internal, ignored) = class.lists();
            for name in applied.iter().chain(internal).chain(ignored) {
                assert!(crewai.contains(name), "{class:?}.{name} is classified but CrewAI has no such field");
            }
            assert_eq!(class.classify("no_such_argument"), KwargUse::Unknown);
        }
    }

    #[test]
    fn yaml_keys_know_every_crewai_field() {
        let (known, unsupported) = CrewAiClass::Agent.yaml_keys(&["embedder_config"]);
        for name in CREWAI_AGENT {
            assert!(known.contains(name) || unsupported.contains(name), "agents.yaml would call `{name}` a typo");
        }
        assert!(unsupported.contains(&"config") && unsupported.contains(&"embedder_config") && !known.contains(&"config"));
    }

    #[test]
    fn human_input_is_applied() {
        assert_eq!(CrewAiClass::Task.classify("human_input"), KwargUse::Applied);
        assert_eq!(CrewAiClass::of_call("crewai.Agent"), Some(CrewAiClass::Agent));
        assert_eq!(CrewAiClass::of_call("LLM"), None);
    }
}
