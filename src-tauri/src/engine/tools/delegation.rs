//! CrewAI's delegation tools: `delegate_work_to_coworker(task, context, coworker)` and
//! `ask_question_to_coworker(question, context, coworker)`.
//!
//! The tool checks the arguments and resolves the coworker's role (case-insensitive, surrounding
//! quotes ignored); the [`Delegator`] runs the coworker and enforces the delegation limit.

use std::sync::Arc;

use serde_json::json;

use super::{optional_str, required_str, Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// The delegation tool's name, as in CrewAI.
pub const DELEGATE_WORK: &str = "delegate_work_to_coworker";
/// The question tool's name, as in CrewAI.
pub const ASK_QUESTION: &str = "ask_question_to_coworker";

/// Which of the two delegation tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelegationToolKind {
    /// Hand a piece of work to a coworker; its answer is the result.
    DelegateWork,
    /// Ask a coworker a question; its answer is the result.
    AskQuestion,
}

/// Runs a coworker on behalf of an agent.
pub trait Delegator: Send + Sync {
    /// Runs the coworker with role `coworker` on `request` (the task or the question) with
    /// `context`, and returns its final answer. Fails with [`ToolError::Refused`] when the
    /// delegation limit is reached, with [`ToolError::Run`] when the coworker's run failed.
    fn delegate<'a>(
        &'a self,
        kind: DelegationToolKind,
        coworker: &'a str,
        request: &'a str,
        context: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolError>>;
}

/// One of the delegation tools, offered to a manager (or an agent that may delegate).
pub struct DelegationTool {
    pub kind: DelegationToolKind,
    /// The roles the agent may delegate to.
    pub coworkers: Vec<String>,
    pub delegator: Arc<dyn Delegator>,
}

impl DelegationTool {
    fn resolve(&self, asked: &str) -> Result<&str, ToolError> {
        let wanted = asked.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        self.coworkers.iter().find(|r| r.trim().eq_ignore_ascii_case(wanted)).map(String::as_str).ok_or_else(|| {
            ToolError::Refused(format!("there is no coworker named `{wanted}`; choose one of: {}", self.coworkers.join(", ")))
        })
    }
}

impl Tool for DelegationTool {
    fn definition(&self) -> ToolDef {
        let roles = self.coworkers.join(", ");
        let (name, field, description) = match self.kind {
            DelegationToolKind::DelegateWork => (
                DELEGATE_WORK,
                "task",
                format!(
                    "Delegate a specific task to one of the following coworkers: {roles}\nThe input to this tool \
                     should be the coworker, the task you want them to do, and ALL necessary context to execute \
                     the task, they know nothing about the task, so share absolutely everything you know, don't \
                     reference things but instead explain them."
                ),
            ),
            DelegationToolKind::AskQuestion => (
                ASK_QUESTION,
                "question",
                format!(
                    "Ask a specific question to one of the following coworkers: {roles}\nThe input to this tool \
                     should be the coworker, the question you have for them, and ALL necessary context to ask the \
                     question properly, they know nothing about the question, so share absolutely everything you \
                     know, don't reference things but instead explain them."
                ),
            ),
        };
        ToolDef {
            name: name.into(),
            description,
            parameters: json!({
                "type": "object",
                "properties": {
                    field: {"type": "string", "description": format!("The {field} for the coworker")},
                    "context": {"type": "string", "description": "Everything the coworker needs to know"},
                    "coworker": {"type": "string", "enum": self.coworkers, "description": "The coworker's role"}
                },
                "required": [field, "context", "coworker"]
            }),
        }
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let field = match self.kind {
                DelegationToolKind::DelegateWork => "task",
                DelegationToolKind::AskQuestion => "question",
            };
            let request = required_str(&arguments, field)?.to_string();
            let context = optional_str(&arguments, "context")?.unwrap_or("").to_string();
            let coworker = self.resolve(required_str(&arguments, "coworker")?)?.to_string();
            self.delegator.delegate(self.kind, &coworker, &request, &context).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl Delegator for Echo {
        fn delegate<'a>(
            &'a self,
            kind: DelegationToolKind,
            coworker: &'a str,
            request: &'a str,
            context: &'a str,
        ) -> BoxFuture<'a, Result<String, ToolError>> {
            Box::pin(async move { Ok(format!("{kind:?}|{coworker}|{request}|{context}")) })
        }
    }

    #[tokio::test]
    async fn resolves_coworkers_and_checks_arguments() {
        let tool = DelegationTool {
            kind: DelegationToolKind::DelegateWork,
            coworkers: vec!["Researcher".into(), "Writer".into()],
            delegator: Arc::new(Echo),
        };
        assert_eq!(tool.definition().parameters["properties"]["coworker"]["enum"], json!(["Researcher", "Writer"]));
        let out = tool.call(json!({"task": "t", "context": "c", "coworker": "\"researcher\""})).await.unwrap();
        assert_eq!(out, "DelegateWork|Researcher|t|c");
        assert!(matches!(tool.call(json!({"task": "t", "coworker": "Boss"})).await, Err(ToolError::Refused(_))));
        assert!(matches!(tool.call(json!({"coworker": "Writer"})).await, Err(ToolError::InvalidArguments(_))));
    }
}
