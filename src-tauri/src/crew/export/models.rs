//! Model strings as CrewAI gets them.
//!
//! Crew Runner's model strings are CrewAI's (`openai/gpt-4o-mini`, `ollama/llama3.1`, bare
//! `gpt-4o`) and are written as they are, except `offline`, Crew Runner's built-in scripted
//! model, which CrewAI does not have: an agent on it gets CrewAI's default (`MODEL`, else
//! `gpt-4o-mini`), with a note.

use crate::crew::{AgentSpec, CrewSpec, Process};

/// Crew Runner's built-in scripted model, which CrewAI has no equivalent for.
const OFFLINE: &str = "offline";

/// The expression `crew.py` gives the manager when nothing better is known: CrewAI's own default.
pub const DEFAULT_MODEL_EXPR: &str = "os.environ.get(\"MODEL\") or \"gpt-4o-mini\"";

/// Who manages a hierarchical crew in the exported project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manager {
    /// The agent with this key (`manager_agent=`).
    Agent(String),
    /// A built-in manager on this model (`manager_llm=`).
    Llm(String),
    /// A built-in manager on CrewAI's default model ([`DEFAULT_MODEL_EXPR`]).
    DefaultLlm,
}

/// The `llm` written for `agent`: its own model, else the crew's; `None` (CrewAI's default) when
/// neither is set or the model is `offline` (noted). The agent's LLM settings are not written
/// (noted).
pub fn agent_model(spec: &CrewSpec, agent: &AgentSpec, notes: &mut Vec<String>) -> Option<String> {
    if !agent.llm_settings.is_empty() {
        notes.push(format!(
            "agent `{}`: its LLM settings (temperature, max_tokens, base_url, api_key_env) are not exported; CrewAI uses the model's defaults",
            agent.key
        ));
    }
    let model = agent.llm.as_deref().or(spec.llm.as_deref())?;
    if model == OFFLINE {
        notes.push(format!("agent `{}`: the model `offline` has no CrewAI equivalent; it uses CrewAI's default model (MODEL)", agent.key));
        return None;
    }
    Some(model.to_string())
}

/// The manager of a hierarchical crew (`None` for a sequential one): `manager_agent`, else a
/// built-in manager on `manager_llm`, else on the crew's model, else on CrewAI's default.
pub fn manager(spec: &CrewSpec, notes: &mut Vec<String>) -> Option<Manager> {
    if spec.process != Process::Hierarchical {
        return None;
    }
    if let Some(key) = &spec.manager_agent {
        return Some(Manager::Agent(key.clone()));
    }
    match spec.manager_llm.as_deref().or(spec.llm.as_deref()) {
        Some(OFFLINE) => {
            notes.push("the manager's model `offline` has no CrewAI equivalent; the manager uses CrewAI's default model (MODEL)".into());
            Some(Manager::DefaultLlm)
        }
        Some(model) => Some(Manager::Llm(model.to_string())),
        None => Some(Manager::DefaultLlm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::export::test_specs;

    fn agent(llm: Option<&str>) -> AgentSpec {
        AgentSpec { llm: llm.map(Into::into), ..test_specs::agent("a") }
    }

    fn crew(llm: Option<&str>, process: Process) -> CrewSpec {
        CrewSpec { llm: llm.map(Into::into), process, ..test_specs::crew(vec![]) }
    }

    #[test]
    fn agents_fall_back_to_the_crew_model_and_drop_offline() {
        let mut notes = Vec::new();
        let spec = crew(Some("ollama/llama3.1"), Process::Sequential);
        assert_eq!(agent_model(&spec, &agent(Some("openai/gpt-4o")), &mut notes).as_deref(), Some("openai/gpt-4o"));
        assert_eq!(agent_model(&spec, &agent(None), &mut notes).as_deref(), Some("ollama/llama3.1"));
        assert!(notes.is_empty());
        assert_eq!(agent_model(&crew(Some("offline"), Process::Sequential), &agent(None), &mut notes), None);
        assert_eq!(agent_model(&crew(None, Process::Sequential), &agent(None), &mut notes), None);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn the_manager_is_the_agent_or_a_model() {
        let mut notes = Vec::new();
        assert_eq!(manager(&crew(None, Process::Sequential), &mut notes), None);
        let mut spec = crew(Some("gpt-4o"), Process::Hierarchical);
        assert_eq!(manager(&spec, &mut notes), Some(Manager::Llm("gpt-4o".into())));
        spec.manager_llm = Some("offline".into());
        assert_eq!(manager(&spec, &mut notes), Some(Manager::DefaultLlm));
        assert_eq!(notes.len(), 1);
        spec.manager_agent = Some("a".into());
        assert_eq!(manager(&spec, &mut notes), Some(Manager::Agent("a".into())));
    }
}
