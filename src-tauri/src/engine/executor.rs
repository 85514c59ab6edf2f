//! [`CrewExecutor`]: runs one attempt of an execution (a serialised `CrewSpec` plus inputs).

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::crewai::{self, ShimPool};
use super::hierarchical::run_hierarchical;
use super::model_source::ModelSource;
use super::output::truncate;
use super::run::Run;
use super::sequential::run_sequential;
use crate::crew::{interpolate, CrewSpec, Process};
use crate::execution::{
    AttemptOutput, BoxFuture, Engine, ErrorKind, EventKind, ExecutionError, Executor, Journal, LogEvent, RunOutput, RunRequest, StepOutput,
    TracePayloads, Usage,
};
use crate::llm::{LlmEnv, ModelRegistry};

/// Where each execution's models come from.
#[derive(Clone)]
enum Models {
    /// A [`ModelRegistry`] built per execution from its `LlmOptions` and this environment.
    Registry(LlmEnv),
    /// The same source for every execution (tests, embedding).
    Fixed(Arc<dyn ModelSource>),
}

/// Runs crews for the scheduler, on the engine each execution names: this (native) engine, or
/// the CrewAI engine ([`crewai`], the user's own CrewAI in a Python child process).
///
/// `execute` reads the crew from `execution.crew_spec`, fills its placeholders from
/// `execution.inputs` (a missing one fails with `InvalidCrew`, not retryable), runs the sequential
/// or hierarchical process, and returns the last task's output with the run's usage (including
/// steps reused from `completed_steps`, which are not run again).
///
/// Cancellation: when `cancel` fires the run stops at its current await and fails with an
/// `Internal` "cancelled" error (the scheduler records the cancellation itself); dropping the
/// future has the same effect. Outputs already saved with `save_step` stay saved.
#[derive(Clone)]
pub struct CrewExecutor {
    models: Models,
}

impl CrewExecutor {
    /// An executor that resolves models with a [`ModelRegistry`] per execution over `env`.
    pub fn new(env: LlmEnv) -> Self {
        CrewExecutor { models: Models::Registry(env) }
    }

    /// An executor that uses `models` for every execution (ignoring `execution.llm` except
    /// `model`, the `--model` override).
    pub fn with_models(models: Arc<dyn ModelSource>) -> Self {
        CrewExecutor { models: Models::Fixed(models) }
    }
}

impl Executor for CrewExecutor {
    fn execute(
        &self,
        request: RunRequest,
        journal: Arc<dyn Journal>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        let models = self.models.clone();
        Box::pin(async move {
            let run: BoxFuture<'static, Result<AttemptOutput, ExecutionError>> = match request.execution.engine {
                Engine::Native => Box::pin(run_crew(models, request, journal)),
                Engine::Crewai => {
                    let env = match models {
                        Models::Registry(env) => env,
                        Models::Fixed(_) => LlmEnv::from_process(),
                    };
                    Box::pin(async move { crewai::attempt::run_attempt(ShimPool::global(), env, request, journal).await.map(Into::into) })
                }
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(ExecutionError::new(ErrorKind::Internal, "cancelled")),
                result = run => result,
            }
        })
    }
}

async fn run_crew(models: Models, request: RunRequest, journal: Arc<dyn Journal>) -> Result<AttemptOutput, ExecutionError> {
    let execution = request.execution;
    let spec: CrewSpec = CrewSpec::deserialize(&*execution.crew_spec)
        .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, format!("the stored crew is not a valid crew spec: {e}")))?;
    let spec = interpolate(&spec, &execution.inputs)
        .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, e.to_string()).with_details(json!({"missing_inputs": e.missing})))?;
    check_runnable(&spec)?;
    let payloads = match &models {
        Models::Registry(env) => env.trace_payloads(),
        Models::Fixed(_) => TracePayloads::Full,
    };
    let models: Arc<dyn ModelSource> = match models {
        Models::Registry(env) => {
            let env = env
                .with_env_file(spec.env_file.as_deref().map(std::path::Path::new))
                .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, format!("the crew's .env cannot be read: {e}")))?;
            Arc::new(ModelRegistry::new(execution.llm.clone(), env)?)
        }
        Models::Fixed(source) => source,
    };
    let run = Arc::new(
        Run::new(spec, models, execution.llm.model.clone(), journal, execution.attempt.max(1))
            .with_reviews(request.reviews)
            .with_payloads(payloads),
    );

    let task_keys: Vec<&str> = run.spec.tasks.iter().map(|t| t.key.as_str()).collect();
    let reused: HashMap<String, StepOutput> =
        request.completed_steps.into_iter().filter(|s| task_keys.contains(&s.step.as_str())).map(|s| (s.step.clone(), s)).collect();
    run.set_completed(reused.len() as u32);

    let steps = match run.spec.process {
        Process::Sequential => run_sequential(&run, &reused).await,
        Process::Hierarchical => run_hierarchical(&run, &reused).await,
    };
    // A task paused for human review: the attempt ends waiting (whatever else it ended with).
    if let Some(request) = run.take_input_request() {
        return Ok(AttemptOutput::AwaitingInput(request));
    }
    let steps = steps?;

    let mut usage = Usage::default();
    for key in &task_keys {
        if let Some(step) = steps.get(*key) {
            usage.add(&step.usage);
        }
    }
    let last = task_keys.last().and_then(|k| steps.get(*k)).map(|s| s.output.clone()).unwrap_or_default();
    run.log(
        LogEvent::info(EventKind::Output, format!("crew `{}` finished", run.spec.name))
            .with_data(json!({"output": truncate(&last, 16 * 1024), "usage": usage})),
    );
    Ok(AttemptOutput::Finished(RunOutput { output: last, usage }))
}

/// Refuses crews the engine cannot run (the loader normally catches these first).
fn check_runnable(spec: &CrewSpec) -> Result<(), ExecutionError> {
    let invalid = |m: String| Err(ExecutionError::new(ErrorKind::InvalidCrew, m));
    if spec.tasks.is_empty() {
        return invalid("the crew has no tasks".into());
    }
    if spec.agents.is_empty() {
        return invalid("the crew has no agents".into());
    }
    for task in &spec.tasks {
        match task.agent.as_deref() {
            Some(key) if spec.agent(key).is_none() => {
                return invalid(format!("task `{}` names agent `{key}`, which the crew does not have", task.key))
            }
            None if spec.process == Process::Sequential => {
                return invalid(format!("task `{}` has no agent (required in a sequential crew)", task.key))
            }
            _ => {}
        }
    }
    Ok(())
}
