//! What one attempt of a crew shares: the crew, its models, the journal, the workspace, the rate
//! limiters and the progress counter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::model_source::ModelSource;
use super::rate_limit::RateLimiter;
use super::tools::mcp::{McpSessions, CONNECT_TIMEOUT};
use super::tools::Workspace;
use crate::crew::{AgentSpec, CrewSpec};
use crate::execution::{ErrorKind, ExecutionError, InputRequest, InputReview, Journal, LogEvent, Progress, TracePayloads};
use crate::llm::ChatModel;

/// One attempt's shared state. Always held in an `Arc` (delegation tools keep a handle).
pub struct Run {
    /// The crew with its placeholders filled.
    pub spec: CrewSpec,
    pub models: Arc<dyn ModelSource>,
    /// `--model`: wins over the crew's default model, not over an agent's own.
    pub model_override: Option<String>,
    pub journal: Arc<dyn Journal>,
    /// This attempt's number (1-based).
    pub attempt: u32,
    /// Whether each LLM call's messages and answer are kept with its log line (the
    /// `trace_payloads` setting; [`TracePayloads::Full`] unless set).
    pub payloads: TracePayloads,
    /// The MCP servers this attempt connected; they end when the `Run` is dropped (the attempt
    /// ended, failed or was cancelled).
    pub mcp: McpSessions,
    workspace: OnceLock<Arc<Workspace>>,
    limiters: Mutex<HashMap<String, Arc<RateLimiter>>>,
    completed: AtomicU32,
    /// The execution's answered human reviews (see [`human_review`](super::human_review)).
    pub reviews: Vec<InputReview>,
    /// A task's answer to put before a person; set when a `human_input` task pauses the attempt.
    input_request: Mutex<Option<InputRequest>>,
}

impl Run {
    pub fn new(
        spec: CrewSpec,
        models: Arc<dyn ModelSource>,
        model_override: Option<String>,
        journal: Arc<dyn Journal>,
        attempt: u32,
    ) -> Self {
        let mcp = McpSessions::new(spec.mcp_servers.clone(), spec.workspace.clone().into(), CONNECT_TIMEOUT);
        Run {
            mcp,
            spec,
            models,
            model_override,
            journal,
            attempt,
            payloads: TracePayloads::Full,
            workspace: OnceLock::new(),
            limiters: Mutex::new(HashMap::new()),
            completed: AtomicU32::new(0),
            reviews: Vec::new(),
            input_request: Mutex::new(None),
        }
    }

    /// This run keeping `payloads` of its LLM calls.
    pub fn with_payloads(mut self, payloads: TracePayloads) -> Self {
        self.payloads = payloads;
        self
    }

    /// This run with the execution's answered human reviews.
    pub fn with_reviews(mut self, reviews: Vec<InputReview>) -> Self {
        self.reviews = reviews;
        self
    }

    /// Pauses the attempt for a person's review of `request`: keeps it (the first one wins when
    /// parallel tasks pause) and returns the error that unwinds the crew's run; the executor turns
    /// it into [`AttemptOutput::AwaitingInput`](crate::execution::AttemptOutput).
    pub fn pause_for_input(&self, request: InputRequest) -> ExecutionError {
        let task = request.task.clone();
        self.input_request.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(request);
        ExecutionError::new(ErrorKind::Internal, format!("task `{task}` awaits human review"))
    }

    /// Whether a task paused the attempt for a person's review.
    pub fn is_paused(&self) -> bool {
        self.input_request.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// The review the attempt paused for, if it did.
    pub fn take_input_request(&self) -> Option<InputRequest> {
        self.input_request.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Records a log line.
    pub fn log(&self, event: LogEvent) {
        self.journal.log(event);
    }

    /// The crew's workspace, created on first use. It is opened at exactly the resolved folder the
    /// submission checked ([`Workspace::open_exact`]): a symlink put on its path since is refused.
    pub fn workspace(&self) -> Result<Arc<Workspace>, ExecutionError> {
        if let Some(ws) = self.workspace.get() {
            return Ok(ws.clone());
        }
        let ws = Workspace::open_exact(&self.spec.workspace)
            .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, format!("workspace `{}`: {e}", self.spec.workspace)))?;
        Ok(self.workspace.get_or_init(|| Arc::new(ws)).clone())
    }

    /// The model string an agent uses: `--model` when given (it runs the whole execution on one
    /// model, so `--model offline` never reaches the network), else the agent's own `llm`, else the
    /// crew's `llm`, else the registry's default (`MODEL`, then the built-in default).
    pub fn model_name_for(&self, agent_llm: Option<&str>) -> String {
        self.model_override
            .clone()
            .or_else(|| agent_llm.map(str::to_string))
            .or_else(|| self.spec.llm.clone())
            .unwrap_or_else(|| self.models.default_model())
    }

    /// The chat model for a model string.
    pub fn model(&self, name: &str) -> Result<Arc<dyn ChatModel>, ExecutionError> {
        self.models.model(name).map_err(ExecutionError::from)
    }

    /// The chat model an agent uses: `name` with the agent's [`LlmSettings`], which `--model`
    /// (one model for the whole execution) leaves out.
    pub fn agent_model(&self, name: &str, agent: &AgentSpec) -> Result<Arc<dyn ChatModel>, ExecutionError> {
        if self.model_override.is_some() || agent.llm_settings.is_empty() {
            return self.model(name);
        }
        self.models.model_with(name, &agent.llm_settings).map_err(ExecutionError::from)
    }

    /// The limiter that applies to `agent`: its own `max_rpm` (one window per agent), else the
    /// crew's (one window shared by all agents without their own), else none.
    pub fn limiter_for(&self, agent: &AgentSpec) -> Option<Arc<RateLimiter>> {
        let (key, rpm) = match (agent.max_rpm, self.spec.max_rpm) {
            (Some(rpm), _) => (format!("agent:{}", agent.key), rpm),
            (None, Some(rpm)) => ("crew".to_string(), rpm),
            (None, None) => return None,
        };
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        Some(map.entry(key).or_insert_with(|| Arc::new(RateLimiter::per_minute(rpm))).clone())
    }

    /// Counts tasks reused from earlier attempts as completed.
    pub fn set_completed(&self, n: u32) {
        self.completed.store(n, Ordering::SeqCst);
    }

    /// Commits progress: a task started (`current` = its key and agent role).
    pub async fn progress_started(&self, task: &str, agent_role: &str) -> Result<(), ExecutionError> {
        let progress = Progress {
            completed_steps: self.completed.load(Ordering::SeqCst),
            total_steps: self.spec.tasks.len() as u32,
            current_step: Some(task.to_string()),
            current_agent: Some(agent_role.to_string()),
        };
        Ok(self.journal.progress(progress).await?)
    }

    /// Commits progress: one more task completed.
    pub async fn progress_completed(&self) -> Result<(), ExecutionError> {
        let done = self.completed.fetch_add(1, Ordering::SeqCst) + 1;
        let progress =
            Progress { completed_steps: done, total_steps: self.spec.tasks.len() as u32, current_step: None, current_agent: None };
        Ok(self.journal.progress(progress).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{agent, crew, task, text, MemoryJournal, OneModel, ScriptedModel};

    fn run_with(crew_llm: Option<&str>, model_override: Option<&str>) -> Run {
        let tmp = std::env::temp_dir();
        let mut spec = crew(vec![agent("a", "A")], vec![task("t", Some("a"))], &tmp);
        spec.llm = crew_llm.map(str::to_string);
        let models = Arc::new(OneModel(ScriptedModel::new(|_| Ok(text("x")))));
        Run::new(spec, models, model_override.map(str::to_string), Arc::new(MemoryJournal::default()), 1)
    }

    #[test]
    fn model_precedence_is_override_then_agent_then_crew_then_default() {
        let r = run_with(Some("openai/crew-model"), Some("offline"));
        assert_eq!(r.model_name_for(Some("ollama/agent-model")), "offline", "--model wins over everything");
        let r = run_with(Some("openai/crew-model"), None);
        assert_eq!(r.model_name_for(Some("ollama/agent-model")), "ollama/agent-model");
        assert_eq!(r.model_name_for(None), "openai/crew-model");
        let r = run_with(None, None);
        assert_eq!(r.model_name_for(None), r.models.default_model());
    }
}
