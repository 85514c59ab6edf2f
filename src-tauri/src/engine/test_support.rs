//! Test doubles for the engine: an in-memory journal, scripted chat models, crew builders.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::crew::{AgentSpec, CrewFormat, CrewSpec, Process, TaskSpec};
use crate::execution::{
    BoxFuture, EventKind, Execution, ExecutionId, ExecutionState, Journal, JournalError, LlmOptions, LogEvent, Priority, Progress,
    StepOutput, Usage,
};
use crate::llm::{ChatModel, ChatRequest, ChatResponse, LlmError, TokenSink, ToolCall};

use super::model_source::ModelSource;

/// Records everything in memory.
#[derive(Default)]
pub struct MemoryJournal {
    pub events: Mutex<Vec<LogEvent>>,
    pub tokens: Mutex<Vec<(Option<String>, String)>>,
    pub progress: Mutex<Vec<Progress>>,
    pub steps: Mutex<Vec<StepOutput>>,
}

impl MemoryJournal {
    pub fn events_of(&self, kind: EventKind) -> Vec<LogEvent> {
        self.events.lock().unwrap().iter().filter(|e| e.kind == kind).cloned().collect()
    }
    pub fn steps(&self) -> Vec<StepOutput> {
        self.steps.lock().unwrap().clone()
    }
}

impl Journal for MemoryJournal {
    fn log(&self, event: LogEvent) {
        self.events.lock().unwrap().push(event);
    }
    fn token(&self, task: Option<&str>, text: &str) {
        self.tokens.lock().unwrap().push((task.map(str::to_string), text.to_string()));
    }
    fn progress(&self, progress: Progress) -> BoxFuture<'static, Result<(), JournalError>> {
        self.progress.lock().unwrap().push(progress);
        Box::pin(async { Ok(()) })
    }
    fn save_step(&self, step: StepOutput, completion: LogEvent) -> BoxFuture<'static, Result<(), JournalError>> {
        self.steps.lock().unwrap().push(step);
        self.events.lock().unwrap().push(completion);
        Box::pin(async { Ok(()) })
    }
}

type Script = dyn Fn(ChatRequest) -> BoxFuture<'static, Result<ChatResponse, LlmError>> + Send + Sync;

/// A chat model whose replies come from a closure; records every request.
pub struct ScriptedModel {
    script: Box<Script>,
    pub requests: Mutex<Vec<ChatRequest>>,
}

impl ScriptedModel {
    /// Replies with the closure's future.
    pub fn new_async(f: impl Fn(ChatRequest) -> BoxFuture<'static, Result<ChatResponse, LlmError>> + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(ScriptedModel { script: Box::new(f), requests: Mutex::new(Vec::new()) })
    }

    /// Replies with the closure's result at once.
    pub fn new(f: impl Fn(&ChatRequest) -> Result<ChatResponse, LlmError> + Send + Sync + 'static) -> Arc<Self> {
        Self::new_async(move |r| {
            let out = f(&r);
            Box::pin(async move { out })
        })
    }

    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The labels (task keys) of the requests, in order.
    pub fn labels(&self) -> Vec<String> {
        self.requests().iter().map(|r| r.label.clone().unwrap_or_default()).collect()
    }
}

impl ChatModel for ScriptedModel {
    fn chat(&self, request: ChatRequest, _sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
        self.requests.lock().unwrap().push(request.clone());
        (self.script)(request)
    }
    fn name(&self) -> String {
        "scripted".into()
    }
}

/// A text reply using 10 prompt and 5 completion tokens.
pub fn text(content: &str) -> ChatResponse {
    ChatResponse {
        content: content.into(),
        tool_calls: vec![],
        usage: Usage { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, llm_calls: 1, cost_usd: None },
        finish_reason: Some("stop".into()),
        model: "scripted".into(),
    }
}

/// A reply that calls one tool.
pub fn tool_call(id: &str, name: &str, arguments: serde_json::Value) -> ChatResponse {
    ChatResponse {
        tool_calls: vec![ToolCall { id: id.into(), name: name.into(), arguments: arguments.to_string() }],
        finish_reason: Some("tool_calls".into()),
        ..text("")
    }
}

/// The same model for every model string.
pub struct OneModel(pub Arc<dyn ChatModel>);

impl ModelSource for OneModel {
    fn default_model(&self) -> String {
        "test/model".into()
    }
    fn model(&self, _name: &str) -> Result<Arc<dyn ChatModel>, LlmError> {
        Ok(self.0.clone())
    }
}

pub fn agent(key: &str, role: &str) -> AgentSpec {
    AgentSpec {
        key: key.into(),
        role: role.into(),
        goal: format!("do {role} work well"),
        backstory: format!("You are an experienced {role}."),
        llm: None,
        llm_settings: Default::default(),
        tools: vec![],
        mcps: vec![],
        allow_delegation: false,
        respect_context_window: true,
        max_iter: 25,
        max_execution_time: None,
        max_rpm: None,
    }
}

pub fn task(key: &str, agent: Option<&str>) -> TaskSpec {
    TaskSpec {
        key: key.into(),
        description: format!("Do the {key} work."),
        expected_output: format!("The {key} result."),
        agent: agent.map(str::to_string),
        context: None,
        async_execution: false,
        output_file: None,
        output_json: false,
        output_schema: None,
        guardrail: None,
        guardrail_max_retries: 3,
        human_input: false,
        tools: vec![],
    }
}

pub fn crew(agents: Vec<AgentSpec>, tasks: Vec<TaskSpec>, workspace: &std::path::Path) -> CrewSpec {
    CrewSpec {
        name: "test-crew".into(),
        format: CrewFormat::SingleFile,
        source: "/tmp/test-crew.yaml".into(),
        process: Process::Sequential,
        llm: None,
        manager_llm: None,
        manager_llm_settings: Default::default(),
        manager_agent: None,
        agents,
        tasks,
        inputs: BTreeMap::new(),
        workspace: workspace.display().to_string(),
        allow_network_tools: false,
        allow_private_network: false,
        max_rpm: None,
        mcp_servers: BTreeMap::new(),
        command_tools: BTreeMap::new(),
        input_sources: BTreeMap::new(),
        env_file: None,
        env_vars: vec![],
    }
}

pub fn execution(spec: &CrewSpec, attempt: u32) -> Execution {
    Execution {
        id: ExecutionId::new(),
        crew_name: spec.name.clone(),
        crew_source: spec.source.clone(),
        engine: crate::execution::Engine::Native,
        crew_spec: serde_json::to_value(spec).unwrap().into(),
        inputs: BTreeMap::new(),
        priority: Priority::Normal,
        state: ExecutionState::Queued,
        attempt,
        max_attempts: 3,
        abandons: 0,
        max_abandons: crate::execution::DEFAULT_MAX_ABANDONS,
        timeout_ms: None,
        llm: LlmOptions::default(),
        meta: BTreeMap::new(),
        cancel_requested: false,
        progress: Progress::default(),
        usage: Usage::default(),
        attempt_errors: vec![],
        retry_of: None,
        created_at: 0,
        started_at: None,
    }
}
