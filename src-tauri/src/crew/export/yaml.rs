//! `config/agents.yaml` and `config/tasks.yaml`, written with `serde-saphyr` so any text round-trips.
//!
//! Keys are the Python method names ([`PythonNames`]); `{placeholders}` stay as written (CrewAI
//! fills them from the kickoff inputs). Tools are not here but in `crew.py` (CrewAI's YAML names
//! tools by `@tool` methods, and the classes need importing).

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::names::PythonNames;
use super::task_plan::PlannedTask;
use crate::crew::CrewSpec;

/// One entry of `agents.yaml`, with CrewAI's field names.
#[derive(Serialize)]
struct AgentEntry<'a> {
    role: &'a str,
    goal: &'a str,
    backstory: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    llm: Option<&'a str>,
    allow_delegation: bool,
    /// Written only when false (CrewAI's default is true).
    #[serde(skip_serializing_if = "is_true")]
    respect_context_window: bool,
    max_iter: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_execution_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_rpm: Option<u32>,
}

/// For `skip_serializing_if`: a field at its default of true.
fn is_true(value: &bool) -> bool {
    *value
}

/// One entry of `tasks.yaml`, with CrewAI's field names.
#[derive(Serialize)]
struct TaskEntry<'a> {
    description: &'a str,
    expected_output: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    async_execution: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    human_input: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_file: Option<&'a str>,
}

/// A YAML mapping that keeps its entries' order (task order is the order in `tasks.yaml`).
struct Ordered<'a, T>(Vec<(&'a str, T)>);

impl<T: Serialize> Serialize for Ordered<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// `agents.yaml`: every agent in order; `models[i]` is the `llm` of `spec.agents[i]`.
pub fn agents_yaml(spec: &CrewSpec, names: &PythonNames, models: &[Option<String>]) -> Result<String, serde_saphyr::SerializeError> {
    let mut map = Vec::new();
    for (agent, model) in spec.agents.iter().zip(models) {
        let entry = AgentEntry {
            role: &agent.role,
            goal: &agent.goal,
            backstory: &agent.backstory,
            llm: model.as_deref(),
            allow_delegation: agent.allow_delegation,
            respect_context_window: agent.respect_context_window,
            max_iter: agent.max_iter,
            max_execution_time: agent.max_execution_time,
            max_rpm: agent.max_rpm,
        };
        map.push((names.agent(&agent.key), entry));
    }
    serde_saphyr::to_string(&Ordered(map))
}

/// `tasks.yaml`: every task in order, with its planned context and async flag; a task done by the
/// hierarchical crew's manager agent has no `agent` (the manager picks among all the others, as
/// the native engine does).
pub fn tasks_yaml(spec: &CrewSpec, names: &PythonNames, plan: &[PlannedTask]) -> Result<String, serde_saphyr::SerializeError> {
    let mut map = Vec::new();
    for (task, planned) in spec.tasks.iter().zip(plan) {
        let agent = task.agent.as_deref().filter(|a| spec.manager_agent.as_deref() != Some(*a));
        let entry = TaskEntry {
            description: &task.description,
            expected_output: &task.expected_output,
            agent: agent.map(|a| names.agent(a)),
            context: planned.context.as_ref().map(|c| c.iter().map(|k| names.task(k)).collect()),
            async_execution: planned.async_execution,
            human_input: task.human_input,
            output_file: task.output_file.as_deref(),
        };
        map.push((names.task(&task.key), entry));
    }
    serde_saphyr::to_string(&Ordered(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::export::task_plan::plan_tasks;
    use crate::crew::export::test_specs::{agent, crew, task};
    use crate::crew::{AgentSpec, TaskSpec};

    const NASTY: &[&str] = &[
        "key: value # not a comment",
        "\"double\" and 'single' quotes",
        "line one\nline two\n\n  indented\n",
        "- looks like a list",
        "{topic} at the start, {not json}",
        "yes",
        "null",
        "0x1F",
        "1e3",
        "  leading and trailing spaces  ",
        "tab\there, cr\r, bell\u{7}, nul\0",
        "& anchor * alias ! tag % directive @ at ` backtick",
        "---\n...\n",
        "café 🐝 \u{2028} \u{feff}",
        "",
    ];

    #[test]
    fn nasty_text_round_trips() {
        let mut spec = crew(vec![]);
        spec.agents = NASTY.iter().enumerate().map(|(i, text)| AgentSpec { role: text.to_string(), ..agent(&format!("a{i}")) }).collect();
        spec.tasks = NASTY
            .iter()
            .enumerate()
            .map(|(i, text)| TaskSpec {
                description: text.to_string(),
                expected_output: format!("{text}!"),
                agent: Some(format!("a{i}")),
                output_file: Some(format!("out/{{topic}}-{i}.md")),
                ..task(&format!("t{i}"), false, None)
            })
            .collect();
        let names = PythonNames::of(&spec);
        let models: Vec<Option<String>> = spec.agents.iter().map(|_| Some("openai/gpt-4o-mini".into())).collect();
        let agents: serde_json::Value = serde_saphyr::from_str(&agents_yaml(&spec, &names, &models).unwrap()).unwrap();
        let (plan, _) = plan_tasks(&spec);
        let tasks: serde_json::Value = serde_saphyr::from_str(&tasks_yaml(&spec, &names, &plan).unwrap()).unwrap();
        for (i, text) in NASTY.iter().enumerate() {
            assert_eq!(agents[format!("a{i}").as_str()]["role"].as_str(), Some(*text), "agent {i}");
            let t = &tasks[format!("t{i}").as_str()];
            assert_eq!(t["description"].as_str(), Some(*text), "task {i}");
            assert_eq!(t["expected_output"].as_str(), Some(format!("{text}!").as_str()));
            assert_eq!(t["output_file"].as_str(), Some(format!("out/{{topic}}-{i}.md").as_str()));
            assert_eq!(t["agent"].as_str(), Some(format!("a{i}").as_str()));
        }
        assert_eq!(tasks["t2"]["context"], serde_json::json!(["t0", "t1"]));
        assert!(tasks["t0"].get("context").is_none());
    }

    #[test]
    fn agent_fields_are_carried_over() {
        let mut spec = crew(vec![task("t", false, Some(&[]))]);
        spec.agents[0] = AgentSpec { allow_delegation: true, max_iter: 7, max_execution_time: Some(90), max_rpm: Some(10), ..agent("a") };
        let names = PythonNames::of(&spec);
        let text = agents_yaml(&spec, &names, &[None]).unwrap();
        let a: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(a["a"]["allow_delegation"], serde_json::Value::Bool(true));
        assert!(a["a"].get("respect_context_window").is_none(), "CrewAI's default (true) is not written");
        spec.agents[0].respect_context_window = false;
        let text = agents_yaml(&spec, &names, &[None]).unwrap();
        let a: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(a["a"]["respect_context_window"], serde_json::Value::Bool(false));
        assert_eq!(a["a"]["max_iter"].as_u64(), Some(7));
        assert_eq!(a["a"]["max_execution_time"].as_u64(), Some(90));
        assert_eq!(a["a"]["max_rpm"].as_u64(), Some(10));
        assert!(a["a"].get("llm").is_none());
        let (plan, _) = plan_tasks(&spec);
        let t: serde_json::Value = serde_saphyr::from_str(&tasks_yaml(&spec, &names, &plan).unwrap()).unwrap();
        assert_eq!(t["t"]["context"], serde_json::json!([]), "an explicit empty context stays empty");
    }
}
