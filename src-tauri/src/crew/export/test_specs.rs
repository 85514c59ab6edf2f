//! Small specs for the export's unit tests, built on the engine's test specs.

use crate::crew::{AgentSpec, CrewSpec, TaskSpec};
use crate::engine::test_support;

/// An agent `key` with the role `<key> role` and CrewAI's defaults.
pub fn agent(key: &str) -> AgentSpec {
    test_support::agent(key, &format!("{key} role"))
}

/// A task `key` done by the agent `a`, sync unless `is_async`, with `context` as given.
pub fn task(key: &str, is_async: bool, context: Option<&[&str]>) -> TaskSpec {
    TaskSpec {
        async_execution: is_async,
        context: context.map(|c| c.iter().map(|s| s.to_string()).collect()),
        ..test_support::task(key, Some("a"))
    }
}

/// A sequential crew `c` of the agent `a` and `tasks`, its workspace `/ws`.
pub fn crew(tasks: Vec<TaskSpec>) -> CrewSpec {
    CrewSpec { name: "c".into(), ..test_support::crew(vec![agent("a")], tasks, std::path::Path::new("/ws")) }
}
