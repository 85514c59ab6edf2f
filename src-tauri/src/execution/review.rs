//! Human review (`human_input: true` on a task): what an execution waits for while it is
//! [`AwaitingInput`](super::ExecutionState::AwaitingInput), and how a person answered.
//!
//! A task with `human_input` does not complete when its agent answers: the attempt ends with an
//! [`InputRequest`] (the answer as a draft), the execution waits, holding no concurrency slot,
//! until someone answers ([`InputAnswer`]). The answered request is kept as an [`InputReview`];
//! the next attempt reads the reviews of the task: an accepted draft becomes the task's output,
//! feedback makes the agent revise its answer, which is asked about again (as CrewAI does).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Millis, Usage};

/// A task's answer waiting for a person's review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct InputRequest {
    /// The task's key.
    pub task: String,
    /// The agent (role) that answered.
    pub agent: String,
    /// 1 for the first answer, one more for each revision after feedback.
    pub round: u32,
    /// The answer under review (the task's output if accepted).
    pub draft: String,
    /// The draft's parsed JSON for a structured task; `null` otherwise.
    #[serde(default)]
    pub json: serde_json::Value,
    /// What the task's LLM calls cost so far, over every round.
    pub usage: Usage,
    /// When the execution started waiting.
    pub asked_at: Millis,
}

/// How a person answered an [`InputRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum InputAnswer {
    /// The draft is the task's output.
    Accepted,
    /// The agent revises its draft with this feedback (and is asked again).
    Feedback { text: String },
}

impl InputAnswer {
    /// No text (or only blanks) accepts, like pressing Enter at CrewAI's prompt; anything else is
    /// feedback.
    pub fn from_text(text: Option<&str>) -> InputAnswer {
        match text.map(str::trim) {
            None | Some("") => InputAnswer::Accepted,
            Some(text) => InputAnswer::Feedback { text: text.to_string() },
        }
    }
}

/// An answered [`InputRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InputReview {
    #[serde(flatten)]
    pub request: InputRequest,
    #[serde(flatten)]
    pub answer: InputAnswer,
    pub answered_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_text_accepts_and_text_is_feedback() {
        assert_eq!(InputAnswer::from_text(None), InputAnswer::Accepted);
        assert_eq!(InputAnswer::from_text(Some("  \n")), InputAnswer::Accepted);
        assert_eq!(InputAnswer::from_text(Some(" shorter ")), InputAnswer::Feedback { text: "shorter".into() });
    }

    #[test]
    fn a_review_reads_flat() {
        let review = InputReview {
            request: InputRequest {
                task: "t".into(),
                agent: "A".into(),
                round: 1,
                draft: "d".into(),
                json: serde_json::Value::Null,
                usage: Usage::default(),
                asked_at: 5,
            },
            answer: InputAnswer::Feedback { text: "more".into() },
            answered_at: 9,
        };
        let value = serde_json::to_value(&review).unwrap();
        assert_eq!(value["answer"], "feedback");
        assert_eq!(value["text"], "more");
        assert_eq!(value["task"], "t");
        assert_eq!(serde_json::from_value::<InputReview>(value).unwrap(), review);
    }
}
