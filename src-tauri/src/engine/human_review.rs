//! Human review of a task's answer (`human_input: true`), as a durable pause.
//!
//! CrewAI asks on the terminal after the agent's final answer: Enter accepts it, anything else is
//! feedback the agent revises its answer with (`feedback_instructions`), and the new answer is
//! asked about again. Here the question outlives the process: the attempt ends with the answer as
//! an [`InputRequest`] (the execution waits in `awaiting_input`, holding no slot), and a later
//! attempt reads the answered [`InputReview`]s of the task ([`next_step`]): an accepted draft is
//! the task's output (no LLM call), feedback makes the agent revise with every earlier round in its
//! context ([`feedback_context`]), and the revision is asked about again (round + 1).
//!
//! The agent's conversation is not stored between rounds; the revision's prompt holds each earlier
//! draft with its feedback instead (CrewAI keeps them as chat messages).

use crate::execution::{InputAnswer, InputReview};

use super::prompts::CONTEXT_SEPARATOR;

/// CrewAI's `feedback_instructions` (translations/en.json), with the feedback in place.
pub fn feedback_instructions(feedback: &str) -> String {
    format!(
        "User feedback: {feedback}\nInstructions: Use this feedback to enhance the next output iteration.\nNote: Do not respond or add commentary."
    )
}

/// What a `human_input` task's answered reviews say to do now.
#[derive(Debug, PartialEq)]
pub enum ReviewStep<'a> {
    /// No answered review of the task: the agent answers, then a person is asked (round 1).
    Ask,
    /// The last draft was accepted: it is the task's output.
    Accepted(&'a InputReview),
    /// The last draft got feedback: the agent revises with every round so far (oldest first), then
    /// a person is asked about the revision.
    Revise(Vec<&'a InputReview>),
}

impl ReviewStep<'_> {
    /// The round the next question is: one more than the rounds answered.
    pub fn next_round(&self) -> u32 {
        match self {
            ReviewStep::Ask => 1,
            ReviewStep::Accepted(review) => review.request.round,
            ReviewStep::Revise(rounds) => rounds.last().map_or(1, |r| r.request.round + 1),
        }
    }
}

/// Decides from the execution's answered `reviews` what the task `task` does now.
pub fn next_step<'a>(reviews: &'a [InputReview], task: &str) -> ReviewStep<'a> {
    let mut rounds: Vec<&InputReview> = reviews.iter().filter(|r| r.request.task == task).collect();
    rounds.sort_by_key(|r| r.request.round);
    match rounds.last() {
        None => ReviewStep::Ask,
        Some(last) if last.answer == InputAnswer::Accepted => ReviewStep::Accepted(last),
        Some(_) => ReviewStep::Revise(rounds),
    }
}

/// The context of a revision after feedback: the task's own `context` (when any), then each
/// earlier draft with the feedback it got.
pub fn feedback_context(context: &str, rounds: &[&InputReview]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !context.trim().is_empty() {
        parts.push(context.to_string());
    }
    for review in rounds {
        let InputAnswer::Feedback { text } = &review.answer else { continue };
        parts.push(format!(
            "### Your answer (round {}):\n{}\n\n{}",
            review.request.round,
            review.request.draft,
            feedback_instructions(text)
        ));
    }
    parts.join(CONTEXT_SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{InputRequest, Usage};

    fn review(task: &str, round: u32, answer: InputAnswer) -> InputReview {
        InputReview {
            request: InputRequest {
                task: task.into(),
                agent: "A".into(),
                round,
                draft: format!("draft {round}"),
                json: serde_json::Value::Null,
                usage: Usage::default(),
                asked_at: 1,
            },
            answer,
            answered_at: 2,
        }
    }

    fn feedback(text: &str) -> InputAnswer {
        InputAnswer::Feedback { text: text.into() }
    }

    #[test]
    fn the_last_answered_round_decides() {
        assert_eq!(next_step(&[], "t"), ReviewStep::Ask);
        assert_eq!(next_step(&[], "t").next_round(), 1);
        let other = [review("other", 1, InputAnswer::Accepted)];
        assert_eq!(next_step(&other, "t"), ReviewStep::Ask, "another task's review");

        let sent_back = [review("t", 1, feedback("shorter"))];
        let step = next_step(&sent_back, "t");
        assert_eq!(step, ReviewStep::Revise(vec![&sent_back[0]]));
        assert_eq!(step.next_round(), 2);

        // Answered out of order in storage: rounds are sorted.
        let accepted = [review("t", 2, InputAnswer::Accepted), review("t", 1, feedback("shorter"))];
        assert_eq!(next_step(&accepted, "t"), ReviewStep::Accepted(&accepted[0]));
    }

    #[test]
    fn a_revision_sees_every_draft_with_its_feedback() {
        let rounds = [review("t", 1, feedback("shorter")), review("t", 2, feedback("in French"))];
        let context = feedback_context("earlier output", &rounds.iter().collect::<Vec<_>>());
        let first = context.find("draft 1").unwrap();
        let second = context.find("draft 2").unwrap();
        assert!(context.starts_with("earlier output"));
        assert!(first < context.find("User feedback: shorter").unwrap());
        assert!(second > first && context.contains("User feedback: in French\nInstructions: Use this feedback"));
        assert!(!feedback_context("", &[&rounds[0]]).starts_with(CONTEXT_SEPARATOR));
    }
}
