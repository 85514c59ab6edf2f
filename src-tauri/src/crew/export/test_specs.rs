//! Small specs for the export's unit tests.

use crate::crew::{AgentSpec, CrewFormat, CrewSpec, Process, TaskSpec};

/// An agent `key` with plain text and CrewAI's defaults.
pub fn agent(key: &str) -> AgentSpec {
    AgentSpec {
        key: key.into(),
        role: format!("{key} role"),
        goal: "g".into(),
        backstory: "b".into(),
        llm: None,
        tools: vec![],
        allow_delegation: false,
        max_iter: 25,
        max_execution_time: None,
        max_rpm: None,
    }
}

/// A task `key` done by the agent `a`, sync unless `is_async`, with `context` as given.
pub fn task(key: &str, is_async: bool, context: Option<&[&str]>) -> TaskSpec {
    TaskSpec {
        key: key.into(),
        description: "d".into(),
        expected_output: "e".into(),
        agent: Some("a".into()),
        context: context.map(|c| c.iter().map(|s| s.to_string()).collect()),
        async_execution: is_async,
        output_file: None,
        output_json: false,
        tools: vec![],
    }
}

/// A sequential crew `c` of the agent `a` and `tasks`, its workspace `/ws`.
pub fn crew(tasks: Vec<TaskSpec>) -> CrewSpec {
    CrewSpec {
        name: "c".into(),
        format: CrewFormat::SingleFile,
        source: "/c.yaml".into(),
        process: Process::Sequential,
        llm: None,
        manager_llm: None,
        manager_agent: None,
        agents: vec![agent("a")],
        tasks,
        inputs: Default::default(),
        workspace: "/ws".into(),
        allow_network_tools: false,
        max_rpm: None,
    }
}
