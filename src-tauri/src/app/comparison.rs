//! [`Runner::compare`]: two executions of the same crew side by side ([`RunComparison`]): their
//! summaries, each task's numbers and a word-level diff of its outputs, and the first task whose
//! output differs. `crew-runner diff`, the desktop app's Compare view and
//! `GET /v1/executions/{id}/diff/{other}` show it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::output_diff::{diff_outputs, one_sided, OutputDiff};
use super::{Runner, RunnerError};
use crate::crew::CrewSpec;
use crate::execution::{EventKind, Execution, ExecutionId, LogEntry, Millis, Status, StepOutput};

/// Two executions cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum ComparisonError {
    /// They run different crews (by crew name): their tasks do not correspond.
    #[error("execution {a} runs crew `{a_crew}` and execution {b} runs crew `{b_crew}`: only executions of the same crew can be compared")]
    DifferentCrews { a: ExecutionId, a_crew: String, b: ExecutionId, b_crew: String },
}

/// One execution as a comparison shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct RunSummary {
    pub id: ExecutionId,
    pub crew_name: String,
    pub status: Status,
    /// Kickoff inputs (merged with the crew's defaults).
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// The models it names, sorted: its `--model` override alone when it has one, else the crew's
    /// `llm`, `manager_llm` and agents' `llm` (empty when the crew leaves every model to the
    /// environment or settings, or is a CrewAI Python crew).
    pub models: Vec<String>,
    /// From the first attempt's start to the end; `null` while unfinished or never started.
    pub duration_ms: Option<u64>,
    /// Tokens of every LLM call of every attempt.
    pub total_tokens: u64,
    /// US dollars; `null` when some call's model price is unknown.
    pub cost_usd: Option<f64>,
}

/// One task's numbers in one execution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct TaskRun {
    /// The agent (role) that produced the output.
    pub agent: String,
    /// From the task's last start (in the attempt that finished it) to its completion; `null`
    /// when the execution's log has no start for it (a task reused from an earlier run).
    pub duration_ms: Option<u64>,
    pub total_tokens: u64,
    /// US dollars; `null` when a call's model price is unknown.
    pub cost_usd: Option<f64>,
}

/// One task in both executions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct TaskComparison {
    /// The task's key.
    pub task: String,
    /// Its run in execution A; `null` when A did not finish it.
    pub a: Option<TaskRun>,
    /// Its run in execution B; `null` when B did not finish it.
    pub b: Option<TaskRun>,
    /// The outputs differ (a task finished in one execution only differs).
    pub differs: bool,
    /// Output A against output B (all of it deleted or inserted when only one has it).
    pub diff: OutputDiff,
}

/// Two executions of one crew compared (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct RunComparison {
    pub a: RunSummary,
    pub b: RunSummary,
    /// Every task either execution finished, in the crew's task order (tasks the crew file does
    /// not list, as in CrewAI Python crews, follow in A's then B's completion order). Tasks
    /// neither finished are left out.
    pub tasks: Vec<TaskComparison>,
    /// The key of the first task (in that order) whose outputs differ; `null` when all agree.
    pub first_difference: Option<String>,
}

impl Runner {
    /// Compares execution `a` with execution `b` (ids as given): see [`RunComparison`]. Fails
    /// with [`RunnerError::NotFound`]/[`RunnerError::BadId`] for an unknown or malformed id and
    /// [`ComparisonError::DifferentCrews`] when their crew names differ. Blocking (reads both
    /// executions' logs for the tasks' durations).
    pub fn compare(&self, a: &str, b: &str) -> Result<RunComparison, RunnerError> {
        let a = self.get(a)?;
        let b = self.get(b)?;
        if a.crew_name != b.crew_name {
            return Err(ComparisonError::DifferentCrews { a: a.id, a_crew: a.crew_name, b: b.id, b_crew: b.crew_name }.into());
        }
        let a_run = self.run_record(a)?;
        let b_run = self.run_record(b)?;
        Ok(compare_runs(&a_run, &b_run))
    }

    /// An execution with its finished tasks and the `task_started` lines of its log.
    fn run_record(&self, execution: Execution) -> Result<RunRecord, RunnerError> {
        let steps = self.steps(&execution.id.to_string())?;
        let starts = self.logs(&execution.id, 0, 0)?.into_iter().filter(|l| l.event.kind == EventKind::TaskStarted).collect();
        Ok(RunRecord { execution, steps, starts })
    }
}

/// What a comparison reads of one execution.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub execution: Execution,
    /// Its finished tasks, in completion order.
    pub steps: Vec<StepOutput>,
    /// Its log's `task_started` lines (other lines are ignored).
    pub starts: Vec<LogEntry>,
}

/// Compares two executions already read (see [`Runner::compare`], which checks their crews).
pub fn compare_runs(a: &RunRecord, b: &RunRecord) -> RunComparison {
    let tasks: Vec<TaskComparison> = task_order(a, b)
        .into_iter()
        .map(|key| {
            let in_a = a.steps.iter().find(|s| s.step == key);
            let in_b = b.steps.iter().find(|s| s.step == key);
            let (differs, diff) = match (in_a, in_b) {
                (Some(x), Some(y)) => (x.output != y.output, diff_outputs(&x.output, &y.output)),
                (Some(x), None) => (true, one_sided(&x.output, true)),
                (None, Some(y)) => (true, one_sided(&y.output, false)),
                (None, None) => unreachable!("task_order lists finished tasks only"),
            };
            TaskComparison { a: in_a.map(|s| task_run(s, &a.starts)), b: in_b.map(|s| task_run(s, &b.starts)), task: key, differs, diff }
        })
        .collect();
    let first_difference = tasks.iter().find(|t| t.differs).map(|t| t.task.clone());
    RunComparison { a: summary(&a.execution), b: summary(&b.execution), tasks, first_difference }
}

/// The keys of the tasks either execution finished: the crew's order (A's crew, then tasks only
/// B's crew has), then finished tasks no crew lists, in A's then B's completion order.
fn task_order(a: &RunRecord, b: &RunRecord) -> Vec<String> {
    let finished = |key: &str| a.steps.iter().chain(&b.steps).any(|s| s.step == key);
    let listed = crew_tasks(&a.execution).into_iter().chain(crew_tasks(&b.execution));
    let completed = a.steps.iter().chain(&b.steps).map(|s| s.step.clone());
    let mut order: Vec<String> = Vec::new();
    for key in listed.chain(completed) {
        if finished(&key) && !order.contains(&key) {
            order.push(key);
        }
    }
    order
}

/// The crew's normalised spec: the native engine's snapshot, or the CrewAI engine's translated
/// native crew; `None` for a CrewAI Python crew.
fn crew_spec(e: &Execution) -> Option<CrewSpec> {
    serde::Deserialize::deserialize(&*e.crew_spec)
        .ok()
        .or_else(|| e.crew_spec.get("translated").and_then(|t| serde_json::from_value(t.clone()).ok()))
}

/// The task keys in the crew's order (none when its spec is not a native crew's).
fn crew_tasks(e: &Execution) -> Vec<String> {
    crew_spec(e).map(|spec| spec.tasks.into_iter().map(|t| t.key).collect()).unwrap_or_default()
}

/// See [`RunSummary::models`].
fn models(e: &Execution) -> Vec<String> {
    if let Some(model) = &e.llm.model {
        return vec![model.clone()];
    }
    let Some(spec) = crew_spec(e) else { return vec![] };
    let mut names: Vec<String> = [spec.llm, spec.manager_llm].into_iter().chain(spec.agents.into_iter().map(|a| a.llm)).flatten().collect();
    names.sort();
    names.dedup();
    names
}

fn summary(e: &Execution) -> RunSummary {
    RunSummary {
        id: e.id.clone(),
        crew_name: e.crew_name.clone(),
        status: e.status(),
        inputs: e.inputs.clone(),
        models: models(e),
        duration_ms: e.started_at.zip(e.state.finished_at()).map(|(start, end)| end.saturating_sub(start).max(0) as u64),
        total_tokens: e.usage.total_tokens,
        cost_usd: e.usage.cost_usd,
    }
}

fn task_run(step: &StepOutput, starts: &[LogEntry]) -> TaskRun {
    let started: Option<Millis> = starts
        .iter()
        .filter(|l| l.attempt == step.attempt && l.event.task.as_deref() == Some(step.step.as_str()) && l.at <= step.completed_at)
        .map(|l| l.at)
        .max();
    TaskRun {
        agent: step.agent.clone(),
        duration_ms: started.map(|at| (step.completed_at - at) as u64),
        total_tokens: step.usage.total_tokens,
        cost_usd: step.usage.cost_usd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{agent, crew, execution, task};
    use crate::execution::{ExecutionState, LogEvent, Usage};

    fn spec(tasks: &[&str]) -> CrewSpec {
        crew(vec![agent("w", "Writer")], tasks.iter().map(|t| task(t, Some("w"))).collect(), std::path::Path::new("/tmp"))
    }

    fn step(key: &str, output: &str, tokens: u64, completed_at: Millis) -> StepOutput {
        StepOutput {
            step: key.into(),
            agent: "Writer".into(),
            output: output.into(),
            json: serde_json::Value::Null,
            usage: Usage { total_tokens: tokens, llm_calls: 1, cost_usd: Some(0.5), ..Usage::default() },
            attempt: 1,
            completed_at,
        }
    }

    fn started(key: &str, attempt: u32, at: Millis) -> LogEntry {
        LogEntry {
            execution_id: ExecutionId::new(),
            attempt,
            seq: 1,
            at,
            event: LogEvent::info(EventKind::TaskStarted, "started").with_task(key),
        }
    }

    fn record(tasks: &[&str], steps: Vec<StepOutput>, starts: Vec<LogEntry>) -> RunRecord {
        let mut execution = execution(&spec(tasks), 1);
        execution.started_at = Some(1_000);
        execution.state = ExecutionState::Succeeded { output: String::new(), finished_at: 4_500 };
        execution.usage = Usage { total_tokens: 30, llm_calls: 3, cost_usd: Some(1.5), ..Usage::default() };
        RunRecord { execution, steps, starts }
    }

    #[test]
    fn tasks_are_matched_by_key_in_the_crews_order_and_the_first_difference_is_named() {
        // Completion order differs from the crew's order (async tasks); `review` differs first.
        let a = record(
            &["research", "review", "write"],
            vec![step("review", "looks good", 5, 2_000), step("research", "three facts", 10, 1_800), step("write", "a post", 7, 3_000)],
            vec![started("research", 1, 1_100), started("review", 1, 1_200), started("write", 1, 2_100)],
        );
        let mut b = record(
            &["research", "review", "write"],
            vec![step("research", "three facts", 11, 1_500), step("review", "looks bad", 6, 2_500), step("write", "a new post", 8, 3_500)],
            vec![],
        );
        b.execution.llm.model = Some("offline".into());
        let c = compare_runs(&a, &b);
        let keys: Vec<&str> = c.tasks.iter().map(|t| t.task.as_str()).collect();
        assert_eq!(keys, ["research", "review", "write"]);
        assert_eq!(c.first_difference.as_deref(), Some("review"));
        assert_eq!(c.tasks.iter().map(|t| t.differs).collect::<Vec<_>>(), [false, true, true]);
        let research = &c.tasks[0];
        assert_eq!(research.a.as_ref().unwrap().duration_ms, Some(700));
        assert_eq!(research.a.as_ref().unwrap().total_tokens, 10);
        assert_eq!(research.b.as_ref().unwrap().total_tokens, 11);
        assert_eq!(research.b.as_ref().unwrap().duration_ms, None, "no task_started line: unknown");
        assert_eq!(c.tasks[2].a.as_ref().unwrap().duration_ms, Some(900));
        assert!(!research.diff.has_changes() && c.tasks[1].diff.has_changes());
        assert_eq!((c.a.duration_ms, c.a.total_tokens, c.a.cost_usd), (Some(3_500), 30, Some(1.5)));
        assert_eq!((c.a.models.clone(), c.b.models.clone()), (vec![], vec!["offline".to_string()]));
    }

    #[test]
    fn a_task_finished_in_one_run_only_is_listed_as_such_and_differs() {
        let a = record(&["one", "two"], vec![step("one", "same", 1, 10), step("two", "only in a", 1, 20)], vec![]);
        let b = record(&["one", "two"], vec![step("one", "same", 1, 10)], vec![]);
        let c = compare_runs(&a, &b);
        assert_eq!(c.tasks.len(), 2);
        assert!(c.tasks[1].a.is_some() && c.tasks[1].b.is_none() && c.tasks[1].differs);
        assert_eq!(c.tasks[1].diff.segments[0].op, crate::app::SegmentOp::Delete);
        assert_eq!(c.first_difference.as_deref(), Some("two"));
        let same = compare_runs(&b, &b);
        assert_eq!((same.first_difference, same.tasks.len()), (None, 1));
    }

    #[test]
    fn tasks_no_crew_lists_follow_in_completion_order() {
        let mut a = record(&[], vec![step("later", "x", 1, 10), step("sooner", "y", 1, 5)], vec![]);
        a.execution.crew_spec = serde_json::json!({"kind": "script", "root": "/p", "entry": "/p/s.py"}).into();
        let b = record(&[], vec![step("extra", "z", 1, 1)], vec![]);
        let keys: Vec<String> = compare_runs(&a, &b).tasks.into_iter().map(|t| t.task).collect();
        assert_eq!(keys, ["later", "sooner", "extra"]);
    }
}
