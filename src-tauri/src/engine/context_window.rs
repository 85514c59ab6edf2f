//! Keeping an agent's prompt within its model's context window (`respect_context_window`), as
//! CrewAI does (`crewai.llms.context_window`, `handle_context_length`).
//!
//! - The window is the model's `max_input_tokens` in the price table (LiteLLM's, plus the user's
//!   `prices.json`; see [`crate::llm::pricing`]), of which [`USAGE_RATIO`] is usable, as in CrewAI.
//!   A model not in the table has no known window: its prompts are never checked in advance.
//! - A prompt's size is estimated at 4 characters a token ([`estimate_tokens`]), the estimate the
//!   offline model reports as usage.
//! - Before each call, [`decide`] says whether the prompt fits; when it does not, the agent either
//!   summarises its history ([`summary_plan`]) or fails ([`too_long`]).
//! - Summarising follows CrewAI's `summarize_messages`: the system messages stay; the others are
//!   packed greedily into chunks whose summary request fits the window (a message too long on its
//!   own is cut into parts of 75% of the room left), each chunk is summarised by the model with
//!   CrewAI's prompts, and the history becomes the system messages plus one user message holding
//!   the summaries. Unlike CrewAI, a history of a single user message (the task prompt alone) is
//!   summarised too: it is known not to fit, so sending it as it is would only fail.

use serde_json::json;

use crate::execution::{ErrorKind, ExecutionError};
use crate::llm::{pricing, ChatMessage, LlmError, LlmErrorKind, Role};

/// The share of the window a prompt may use (CrewAI's `CONTEXT_WINDOW_USAGE_RATIO`).
pub const USAGE_RATIO: f64 = 0.85;

/// The share of the room left in a summary request that one part of a cut message gets (CrewAI's
/// `MESSAGE_SPLIT_BUDGET_RATIO`).
const SPLIT_RATIO: f64 = 0.75;

/// The window assumed when the endpoint says the prompt is too long but the table has no window
/// for the model (CrewAI's `DEFAULT_CONTEXT_WINDOW_SIZE`).
pub const DEFAULT_WINDOW: u64 = 8192;

/// The summariser's system message (CrewAI's `summarizer_system_message`).
pub const SUMMARIZER_SYSTEM: &str = "You are a precise assistant that creates structured summaries of agent conversations. You preserve critical context needed for seamless task continuation.";

/// The summary request before the conversation (CrewAI's `summarize_instruction`, up to
/// `{conversation}`).
const SUMMARIZE_BEFORE: &str = "Analyze the following conversation and create a structured summary that preserves all information needed to continue the task seamlessly.\n\n<conversation>\n";

/// The summary request after the conversation (CrewAI's `summarize_instruction`, from
/// `{conversation}`).
const SUMMARIZE_AFTER: &str = "\n</conversation>\n\nCreate a summary with these sections:\n1. **Task Overview**: What is the agent trying to accomplish?\n2. **Current State**: What has been completed so far? What step is the agent on?\n3. **Important Discoveries**: Key facts, data, tool results, or findings that must not be lost.\n4. **Next Steps**: What should the agent do next based on the conversation?\n5. **Context to Preserve**: Any specific values, names, URLs, code snippets, or details referenced in the conversation.\n\nWrap your entire summary in <summary> tags.\n\n<summary>\n[Your structured summary here]\n</summary>";

/// Ends the message that replaces the history (CrewAI's `summary`, after `{merged_summary}`).
const SUMMARY_END: &str =
    "\n</summary>\n\nContinue the task from where the conversation left off. The above is a structured summary of prior context.";

/// What to do before a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The prompt fits, or the model's window is unknown.
    Fits,
    /// The prompt does not fit and the agent respects the window: summarise first.
    Summarise(Overflow),
    /// The prompt does not fit and the agent does not respect the window: fail.
    Fail(Overflow),
}

/// A prompt that does not fit: its estimated size and the usable window, in tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow {
    pub estimated: u64,
    pub window: u64,
}

/// The estimated tokens of `messages`: their text (content, tool calls' names and arguments) at
/// 4 characters a token, rounded up.
pub fn estimate_tokens(messages: &[ChatMessage]) -> u64 {
    let chars: usize = messages
        .iter()
        .map(|m| {
            m.content.chars().count() + m.tool_calls.iter().map(|c| c.name.chars().count() + c.arguments.chars().count()).sum::<usize>()
        })
        .sum();
    chars.div_ceil(4) as u64
}

/// The usable window of `model` (a model string, `provider/model` or a bare model taken as
/// OpenAI's): [`USAGE_RATIO`] of its `max_input_tokens` in the price table; `None` when the
/// table has no window for it.
pub fn usable_window(model: &str) -> Option<u64> {
    let (provider, name) = model.split_once('/').unwrap_or(("openai", model));
    let (_, info) = pricing::price_table().find(provider, name)?;
    info.max_input_tokens.map(usable)
}

/// [`USAGE_RATIO`] of a window of `max_input_tokens`.
pub fn usable(max_input_tokens: u64) -> u64 {
    (max_input_tokens as f64 * USAGE_RATIO) as u64
}

/// Whether a prompt of `estimated` tokens fits `window` (`None`: unknown, so it fits), and what
/// to do when it does not.
pub fn decide(estimated: u64, window: Option<u64>, respect_context_window: bool) -> Fit {
    match window {
        Some(window) if estimated > window => {
            let overflow = Overflow { estimated, window };
            if respect_context_window {
                Fit::Summarise(overflow)
            } else {
                Fit::Fail(overflow)
            }
        }
        _ => Fit::Fits,
    }
}

/// Whether the endpoint refused the prompt as longer than the model's context (OpenAI's
/// `context_length_exceeded` code, or one of the phrases CrewAI recognises).
pub fn is_context_length_error(error: &LlmError) -> bool {
    const PHRASES: &[&str] = &[
        "context_length_exceeded",
        "maximum context length",
        "context length exceeded",
        "context window full",
        "too many tokens",
        "input is too long",
        "exceeds token limit",
        "prompt is too long",
    ];
    let message = error.message.to_ascii_lowercase();
    matches!(error.kind, LlmErrorKind::Client { .. } | LlmErrorKind::InvalidResponse) && PHRASES.iter().any(|p| message.contains(p))
}

/// The failure of an agent whose prompt does not fit and that does not respect the window (or
/// whose history cannot be summarised to fit): [`ErrorKind::LlmClient`], not retryable (the same
/// prompt would not fit again), naming the agent, model, window and estimated size.
pub fn too_long(agent: &str, model: &str, overflow: Overflow, why: &str) -> ExecutionError {
    ExecutionError::new(
        ErrorKind::LlmClient,
        format!(
            "the prompt of agent `{agent}` (about {} tokens) does not fit the context window of {model} ({} usable tokens){why}",
            overflow.estimated, overflow.window
        ),
    )
    .with_details(json!({
        "agent": agent,
        "model": model,
        "context_window": overflow.window,
        "estimated_prompt_tokens": overflow.estimated,
    }))
}

/// A history to summarise: the system messages to keep, and the summary requests to send (one
/// per chunk of the other messages), in order.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryPlan {
    pub system: Vec<ChatMessage>,
    pub requests: Vec<Vec<ChatMessage>>,
}

/// Why a history cannot be summarised within the window.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    /// There is nothing but system messages: nothing to summarise.
    #[error("only the system prompt is left, nothing to summarise")]
    NothingToSummarise,
    /// The summary request alone (without any conversation) is larger than the window.
    #[error("the summary request itself ({needed} tokens) does not fit the window ({window} tokens)")]
    RequestTooLarge { needed: u64, window: u64 },
}

/// Splits `messages` into the summary requests that each fit `window` (see the module docs).
pub fn summary_plan(messages: &[ChatMessage], window: u64) -> Result<SummaryPlan, SummaryError> {
    let (system, work): (Vec<ChatMessage>, Vec<ChatMessage>) = messages.iter().cloned().partition(|m| m.role == Role::System);
    if work.is_empty() {
        return Err(SummaryError::NothingToSummarise);
    }
    let base = estimate_tokens(&summary_request(&[]));
    if base >= window {
        return Err(SummaryError::RequestTooLarge { needed: base, window });
    }
    let fits = |chunk: &[ChatMessage]| estimate_tokens(&summary_request(chunk)) <= window;
    let mut chunks: Vec<Vec<ChatMessage>> = Vec::new();
    let mut current: Vec<ChatMessage> = Vec::new();
    for message in work {
        current.push(message);
        if fits(&current) {
            continue;
        }
        let message = current.pop().expect("just pushed");
        if !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        if fits(std::slice::from_ref(&message)) {
            current.push(message);
            continue;
        }
        for part in split_to_fit(&message, base, window) {
            current.push(part);
            if !fits(&current) {
                let part = current.pop().expect("just pushed");
                if !current.is_empty() {
                    chunks.push(std::mem::take(&mut current));
                }
                current.push(part);
            }
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    Ok(SummaryPlan { system, requests: chunks.iter().map(|c| summary_request(c)).collect() })
}

/// `message` cut into parts of [`SPLIT_RATIO`] of the room a summary request leaves (`window`
/// less its `base` size), by characters.
fn split_to_fit(message: &ChatMessage, base: u64, window: u64) -> Vec<ChatMessage> {
    let budget_tokens = (((window - base) as f64 * SPLIT_RATIO) as u64).max(1);
    let part_chars = (budget_tokens * 4) as usize;
    let text = rendered(message);
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(part_chars)
        .map(|part| ChatMessage { role: message.role, content: part.iter().collect(), tool_calls: vec![], tool_call_id: None })
        .collect()
}

/// The request summarising `chunk` (CrewAI's `build_summary_prompt`).
pub fn summary_request(chunk: &[ChatMessage]) -> Vec<ChatMessage> {
    let conversation: Vec<String> = chunk.iter().filter(|m| m.role != Role::System).map(labelled).collect();
    vec![
        ChatMessage::system(SUMMARIZER_SYSTEM),
        ChatMessage::user(format!("{SUMMARIZE_BEFORE}{}{SUMMARIZE_AFTER}", conversation.join("\n\n"))),
    ]
}

/// One message as CrewAI renders it in a summary request (`messages_content_text`).
fn labelled(message: &ChatMessage) -> String {
    let prefix = match message.role {
        Role::Assistant => "[ASSISTANT]:",
        Role::Tool => "[TOOL_RESULT]:",
        _ => "[USER]:",
    };
    format!("{prefix} {}", rendered(message))
}

/// A message's text; an assistant message with only tool calls is `[Called tools: a, b]`.
fn rendered(message: &ChatMessage) -> String {
    if message.content.is_empty() && !message.tool_calls.is_empty() {
        let names: Vec<&str> = message.tool_calls.iter().map(|c| c.name.as_str()).collect();
        format!("[Called tools: {}]", names.join(", "))
    } else {
        message.content.clone()
    }
}

/// The summary in a summariser's reply: inside `<summary>…</summary>` when present, else all of it.
pub fn summary_text(reply: &str) -> String {
    let inner = reply.split_once("<summary>").and_then(|(_, rest)| rest.split_once("</summary>")).map(|(inner, _)| inner);
    inner.unwrap_or(reply).trim().to_string()
}

/// The history after summarising: the system messages, then one user message with the summaries
/// (CrewAI's `summary` text).
pub fn summarised(system: Vec<ChatMessage>, summaries: &[String]) -> Vec<ChatMessage> {
    let mut out = system;
    out.push(ChatMessage::user(format!("<summary>\n{}{SUMMARY_END}", summaries.join("\n\n"))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(task: &str) -> Vec<ChatMessage> {
        vec![ChatMessage::system("You are Worker."), ChatMessage::user(task)]
    }

    #[test]
    fn estimate_is_four_characters_a_token() {
        assert_eq!(estimate_tokens(&history("")), 4); // 15 characters
        assert_eq!(estimate_tokens(&[ChatMessage::user("abcd")]), 1);
        assert_eq!(estimate_tokens(&[ChatMessage::user("abcde")]), 2);
    }

    #[test]
    fn a_prompt_that_fits_or_an_unknown_window_goes_as_it_is() {
        assert_eq!(decide(100, Some(100), true), Fit::Fits);
        assert_eq!(decide(100, Some(100), false), Fit::Fits);
        assert_eq!(decide(1_000_000, None, false), Fit::Fits);
    }

    #[test]
    fn a_prompt_too_long_is_summarised_or_fails_by_the_flag() {
        let overflow = Overflow { estimated: 101, window: 100 };
        assert_eq!(decide(101, Some(100), true), Fit::Summarise(overflow));
        assert_eq!(decide(101, Some(100), false), Fit::Fail(overflow));
    }

    #[test]
    fn the_usable_window_is_crewais_share() {
        assert_eq!(usable(1000), 850);
        assert_eq!(usable(128_000), 108_800);
    }

    #[test]
    fn the_failure_names_agent_model_window_and_size() {
        let e = too_long("Writer", "openai/gpt-4o-mini", Overflow { estimated: 900, window: 850 }, "");
        assert_eq!(e.kind, ErrorKind::LlmClient);
        assert!(!e.retryable);
        for part in ["`Writer`", "openai/gpt-4o-mini", "900 tokens", "850 usable tokens"] {
            assert!(e.message.contains(part), "{part} missing in {}", e.message);
        }
        assert_eq!(e.details["context_window"], 850);
        assert_eq!(e.details["estimated_prompt_tokens"], 900);
    }

    #[test]
    fn context_length_errors_are_recognised() {
        let client = |m: &str| LlmError::new(LlmErrorKind::Client { status: 400 }, m);
        assert!(is_context_length_error(&client("b: HTTP 400: This model's maximum context length is 8192 tokens.")));
        assert!(is_context_length_error(&client("b: HTTP 400: too long (context_length_exceeded)")));
        assert!(!is_context_length_error(&client("b: HTTP 400: invalid model")));
        let server = LlmError::new(LlmErrorKind::Server { status: 500 }, "context_length_exceeded");
        assert!(!is_context_length_error(&server), "a server error is retried, not summarised");
    }

    #[test]
    fn every_summary_request_fits_and_the_system_prompt_stays() {
        let base = estimate_tokens(&summary_request(&[]));
        let window = base + 100;
        let long = "~".repeat(2000); // 500 tokens: cut into parts
        let mut messages = history(&long);
        messages.push(ChatMessage::assistant("a short thought", vec![]));
        messages.push(ChatMessage::user("Observation: a result"));
        let plan = summary_plan(&messages, window).unwrap();
        assert_eq!(plan.system, vec![ChatMessage::system("You are Worker.")]);
        assert!(plan.requests.len() >= 5, "{} requests", plan.requests.len());
        for request in &plan.requests {
            assert!(estimate_tokens(request) <= window, "{} > {window}", estimate_tokens(request));
            assert_eq!(request[0], ChatMessage::system(SUMMARIZER_SYSTEM));
        }
        let all: String = plan.requests.iter().map(|r| r[1].content.clone()).collect();
        assert!(all.contains("[ASSISTANT]: a short thought") && all.contains("[USER]: Observation: a result"));
        assert_eq!(all.matches('~').count(), 2000, "every part of the long message is summarised once");
    }

    #[test]
    fn a_history_that_cannot_be_summarised_says_why() {
        assert_eq!(summary_plan(&[ChatMessage::system("s")], 10_000), Err(SummaryError::NothingToSummarise));
        assert!(matches!(summary_plan(&history("x"), 10), Err(SummaryError::RequestTooLarge { window: 10, .. })));
    }

    #[test]
    fn the_summary_replaces_the_history() {
        assert_eq!(summary_text("Thought: x\n<summary>\n the gist \n</summary> trailing"), "the gist");
        assert_eq!(summary_text(" no tags "), "no tags");
        let after = summarised(vec![ChatMessage::system("s")], &["one".into(), "two".into()]);
        assert_eq!(after.len(), 2);
        assert_eq!(after[1].role, Role::User);
        assert!(after[1].content.starts_with("<summary>\none\n\ntwo\n</summary>"));
        assert!(after[1].content.ends_with("The above is a structured summary of prior context."));
    }
}
