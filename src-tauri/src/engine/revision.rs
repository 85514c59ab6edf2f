//! Getting an answer that passes a task's checks: its `output_schema` (or `output_json`), then its
//! guardrail, sending a rejected answer back to the agent for revision.
//!
//! - A structured answer that does not match the schema is sent back once, with the validation
//!   error (CrewAI's `validation_error` text); a second mismatch fails the task with the schema
//!   error. The one correction is granted again after each guardrail revision (each new answer
//!   may be corrected once).
//! - A guardrail rejection is sent back with the judge's feedback, at most
//!   `guardrail_max_retries` times; one more rejection fails the task naming the guardrail (as
//!   CrewAI: "Task failed guardrail validation after N retries").
//! - A revision runs the agent again on the same task, its context followed by the feedback and
//!   the rejected answer.
//! - Each rejection is logged as a warning, each verdict that passes as an info line.

use std::sync::Arc;

use serde_json::{json, Value};

use super::agent_loop::{run_agent, AgentJob};
use super::guardrail::judge;
use super::output::{checked_output, truncate};
use super::prompts::revision_context;
use super::run::Run;
use super::structured::{compiled_schema, structured_output};
use super::usage_ledger::UsageLedger;
use crate::crew::TaskSpec;
use crate::execution::{ErrorKind, EventKind, ExecutionError, LogEvent};

/// How much of a rejected answer a log line shows.
const LOGGED_ANSWER: usize = 2000;

/// What is left of a task's revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionBudget {
    /// The current answer may still be sent back for a schema mismatch.
    schema_correction_left: bool,
    /// Guardrail revisions used so far.
    guardrail_retries: u32,
    /// `guardrail_max_retries`.
    guardrail_max_retries: u32,
}

impl RevisionBudget {
    /// A fresh budget for `task`.
    pub fn new(task: &TaskSpec) -> Self {
        RevisionBudget { schema_correction_left: true, guardrail_retries: 0, guardrail_max_retries: task.guardrail_max_retries }
    }

    /// After a schema mismatch: `true` to send it back (uses the one correction), `false` to fail.
    pub fn take_schema_correction(&mut self) -> bool {
        std::mem::replace(&mut self.schema_correction_left, false)
    }

    /// After a guardrail rejection: `true` to send it back (counts a retry and grants the next
    /// answer its schema correction), `false` when `guardrail_max_retries` are used up.
    pub fn take_guardrail_retry(&mut self) -> bool {
        if self.guardrail_retries >= self.guardrail_max_retries {
            return false;
        }
        self.guardrail_retries += 1;
        self.schema_correction_left = true;
        true
    }

    /// Guardrail revisions used so far.
    pub fn guardrail_retries(&self) -> u32 {
        self.guardrail_retries
    }
}

/// Runs the agent on `task` (each run's job from `job_for(context)`) until its answer passes the
/// task's checks: the stored output and its JSON (`null` unless structured).
pub async fn checked_answer(
    run: &Arc<Run>,
    task: &TaskSpec,
    context: &str,
    job_for: impl Fn(String) -> AgentJob,
    ledger: &UsageLedger,
) -> Result<(String, Value), ExecutionError> {
    let schema = compiled_schema(task)?;
    let mut budget = RevisionBudget::new(task);
    let mut attempt_context = context.to_string();
    loop {
        let job = job_for(attempt_context.clone());
        let agent = job.agent.clone();
        let event = |e: LogEvent| e.with_task(task.key.clone()).with_agent(agent.role.clone());
        let answer = run_agent(run, job, ledger).await?;
        let (output, value) = match &schema {
            None => checked_output(&task.key, &answer, task.output_json)?,
            Some(schema) => match structured_output(schema, &answer) {
                Ok(ok) => ok,
                Err(error) => {
                    let retry = budget.take_schema_correction();
                    run.log(event(LogEvent::warning(format!("task `{}`: {error}{}", task.key, if retry { "; sent back" } else { "" })).with_data(
                        json!({"check": "output_schema", "error": error.to_string(), "retry": retry, "answer": truncate(&answer, LOGGED_ANSWER)}),
                    )));
                    if !retry {
                        return Err(ExecutionError::new(ErrorKind::Output, format!("task `{}`: {error}", task.key)).with_details(
                            json!({"task": task.key, "check": "output_schema", "output": truncate(&answer, LOGGED_ANSWER)}),
                        ));
                    }
                    attempt_context = revision_context(context, &error.to_string(), &answer);
                    continue;
                }
            },
        };
        let Some(guardrail) = &task.guardrail else { return Ok((output, value)) };
        let verdict = judge(run, &agent, &task.key, guardrail, &output, ledger).await?;
        if verdict.valid {
            run.log(event(
                LogEvent::info(EventKind::AgentStep, format!("task `{}`: the guardrail passed", task.key))
                    .with_data(json!({"check": "guardrail", "guardrail": guardrail, "valid": true})),
            ));
            return Ok((output, value));
        }
        let retry = budget.take_guardrail_retry();
        run.log(event(
            LogEvent::warning(format!(
                "task `{}`: the guardrail rejected the output: {}{}",
                task.key,
                verdict.feedback,
                if retry { "; sent back" } else { "" }
            ))
            .with_data(json!({"check": "guardrail", "guardrail": guardrail, "valid": false, "feedback": verdict.feedback, "retry": retry})),
        ));
        if !retry {
            return Err(ExecutionError::new(
                ErrorKind::Output,
                format!(
                    "task `{}` failed its guardrail \"{guardrail}\" after {} retries. Last feedback: {}",
                    task.key,
                    budget.guardrail_retries(),
                    verdict.feedback
                ),
            )
            .with_details(json!({"task": task.key, "check": "guardrail", "guardrail": guardrail, "feedback": verdict.feedback})));
        }
        attempt_context = revision_context(context, &verdict.feedback, &output);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::task;

    #[test]
    fn one_schema_correction_per_answer_and_max_guardrail_retries() {
        let mut t = task("t", Some("a"));
        t.guardrail_max_retries = 2;
        let mut b = RevisionBudget::new(&t);
        assert!(b.take_schema_correction());
        assert!(!b.take_schema_correction());
        assert!(b.take_guardrail_retry());
        assert!(b.take_schema_correction(), "a revised answer may be corrected once again");
        assert!(b.take_guardrail_retry());
        assert_eq!(b.guardrail_retries(), 2);
        assert!(!b.take_guardrail_retry());
        assert_eq!(b.guardrail_retries(), 2);
    }

    #[test]
    fn no_guardrail_retries_means_the_first_rejection_fails() {
        let mut t = task("t", Some("a"));
        t.guardrail_max_retries = 0;
        assert!(!RevisionBudget::new(&t).take_guardrail_retry());
    }
}
