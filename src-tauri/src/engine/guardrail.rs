//! String guardrails (CrewAI's `LLMGuardrail`): the task's model judges whether an output complies
//! with the guardrail's text and says what is wrong when it does not.
//!
//! The judge is a one-call agent ("Guardrail Agent", CrewAI's role, goal and backstory) on the
//! task agent's model and rate limit, without tools, asked for `{valid, feedback}` as a
//! [`ResponseSchema`]. A reply that is not such an object is a rejection whose feedback says so,
//! as CrewAI's "Error while validating the task output: …".

use std::sync::Arc;

use serde_json::{json, Value};

use super::agent_loop::{run_agent, AgentJob};
use super::prompts::{guardrail_query, GUARDRAIL_BACKSTORY, GUARDRAIL_EXPECTED_OUTPUT, GUARDRAIL_GOAL, GUARDRAIL_ROLE};
use super::run::Run;
use super::structured::json_text;
use super::usage_ledger::UsageLedger;
use crate::crew::AgentSpec;
use crate::execution::ExecutionError;
use crate::llm::ResponseSchema;

/// The judge's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The output complies with the guardrail.
    pub valid: bool,
    /// What is wrong (empty when valid, or when the judge gave no reason).
    pub feedback: String,
}

/// The schema of the judge's answer (CrewAI's `LLMGuardrailResult`).
pub fn verdict_schema() -> ResponseSchema {
    ResponseSchema {
        name: "LLMGuardrailResult".into(),
        schema: json!({
            "title": "LLMGuardrailResult",
            "type": "object",
            "properties": {
                "valid": {"type": "boolean", "description": "Whether the task output complies with the guardrail"},
                "feedback": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": null,
                    "description": "A feedback about the task output if it is not valid"
                }
            },
            "required": ["valid"]
        }),
    }
}

/// Reads the judge's reply: a JSON object (fenced or inside prose is fine) with a boolean `valid`
/// and an optional text `feedback`. Anything else is a rejection saying the verdict was unreadable.
pub fn parse_verdict(reply: &str) -> Verdict {
    let parsed: Option<Value> = serde_json::from_str(json_text(reply)).ok();
    match parsed.as_ref().and_then(|v| v.get("valid")).and_then(Value::as_bool) {
        Some(valid) => {
            let feedback = parsed.as_ref().and_then(|v| v.get("feedback")).and_then(Value::as_str).unwrap_or("").trim().to_string();
            Verdict { valid, feedback }
        }
        None => Verdict {
            valid: false,
            feedback: format!(
                "Error while validating the task output: the guardrail's verdict is not a JSON object with a boolean `valid` (it said: {})",
                super::output::truncate(reply.trim(), 300)
            ),
        },
    }
}

/// Asks `agent`'s model whether `output` of task `task_key` complies with `guardrail`; usage goes
/// to `ledger` under the judge's role.
pub async fn judge(
    run: &Arc<Run>,
    agent: &AgentSpec,
    task_key: &str,
    guardrail: &str,
    output: &str,
    ledger: &UsageLedger,
) -> Result<Verdict, ExecutionError> {
    let judge = AgentSpec {
        role: GUARDRAIL_ROLE.into(),
        goal: GUARDRAIL_GOAL.into(),
        backstory: GUARDRAIL_BACKSTORY.into(),
        tools: vec![],
        allow_delegation: false,
        respect_context_window: true,
        max_iter: 1,
        ..agent.clone()
    };
    let job = AgentJob {
        agent: judge,
        task_key: task_key.to_string(),
        description: guardrail_query(output, guardrail),
        expected_output: GUARDRAIL_EXPECTED_OUTPUT.into(),
        context: String::new(),
        tools: vec![],
        response_format: Some(verdict_schema()),
    };
    let reply = run_agent(run, job, ledger).await?;
    Ok(parse_verdict(&reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_read_leniently_and_unreadable_ones_reject() {
        assert_eq!(parse_verdict("{\"valid\": true, \"feedback\": null}"), Verdict { valid: true, feedback: String::new() });
        assert_eq!(
            parse_verdict("```json\n{\"valid\": false, \"feedback\": \" No sources cited. \"}\n```"),
            Verdict { valid: false, feedback: "No sources cited.".into() }
        );
        assert_eq!(parse_verdict("Verdict: {\"valid\": true}"), Verdict { valid: true, feedback: String::new() });
        let v = parse_verdict("Looks fine to me");
        assert!(!v.valid);
        assert!(v.feedback.starts_with("Error while validating the task output") && v.feedback.contains("Looks fine"), "{}", v.feedback);
        assert!(!parse_verdict("{\"valid\": \"yes\"}").valid);
    }

    #[test]
    fn the_verdict_schema_accepts_crewai_shaped_answers() {
        let schema = crate::crew::output_schema::OutputSchema::compile(&verdict_schema().schema).unwrap();
        assert!(schema.check(&json!({"valid": false, "feedback": "x"})).is_ok());
        assert!(schema.check(&json!({"valid": true, "feedback": null})).is_ok());
        assert!(schema.check(&json!({"feedback": "x"})).is_err());
    }
}
