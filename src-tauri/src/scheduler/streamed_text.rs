//! [`StreamedText`]: the LLM text streamed into this process's running attempts, kept in memory
//! (tokens are never stored) so a face that starts looking in the middle of an answer can show
//! what came before ([`Scheduler::streamed_text`](super::Scheduler::streamed_text)).

use std::collections::HashMap;
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;

use crate::execution::ExecutionId;

/// A running LLM call's answer so far: its end (at most [`KEPT_BYTES`]) and its whole length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema, TS)]
pub struct StreamedAnswer {
    /// The answer's end.
    pub text: String,
    /// The whole answer's length so far in UTF-16 code units (JavaScript string length), so a
    /// face can tell which streamed batches `text` already holds.
    pub length: u64,
}

/// At most this many bytes of each task's current answer are kept (its end).
pub const KEPT_BYTES: usize = 16 * 1024;

/// The current answer of each task of each running attempt, by execution.
///
/// Each attempt writes under its lease token: a late write or [`forget`](Self::forget) of an
/// attempt that was replaced (a retry already running) does not touch the new attempt's text.
#[derive(Debug, Default)]
pub struct StreamedText {
    by_execution: Mutex<HashMap<ExecutionId, Attempt>>,
}

#[derive(Debug, Default)]
struct Attempt {
    lease_token: i64,
    answers: HashMap<Option<String>, StreamedAnswer>,
}

impl StreamedText {
    /// Appends `text` to `task`'s current answer in attempt `lease_token` of `id` (a newer
    /// attempt's entry replaces an older one's) and returns where `text` starts in that answer,
    /// in UTF-16 code units ([`StreamedAnswer::length`] before it); `None`, keeping nothing, for
    /// an older attempt's text.
    pub fn push(&self, id: &ExecutionId, lease_token: i64, task: Option<&str>, text: &str) -> Option<u64> {
        let mut all = self.lock();
        let attempt = all.entry(id.clone()).or_insert_with(|| Attempt { lease_token, answers: HashMap::new() });
        if attempt.lease_token > lease_token {
            return None;
        }
        if attempt.lease_token < lease_token {
            *attempt = Attempt { lease_token, answers: HashMap::new() };
        }
        let answer = attempt.answers.entry(task.map(str::to_string)).or_default();
        let offset = answer.length;
        answer.text.push_str(text);
        answer.length += text.encode_utf16().count() as u64;
        if answer.text.len() > KEPT_BYTES {
            let mut cut = answer.text.len() - KEPT_BYTES;
            while !answer.text.is_char_boundary(cut) {
                cut += 1;
            }
            answer.text.drain(..cut);
        }
        Some(offset)
    }

    /// A new LLM call of `task` starts: its answer starts empty.
    pub fn restart(&self, id: &ExecutionId, lease_token: i64, task: Option<&str>) {
        self.push(id, lease_token, task, "");
        if let Some(attempt) = self.lock().get_mut(id).filter(|a| a.lease_token == lease_token) {
            attempt.answers.insert(task.map(str::to_string), StreamedAnswer::default());
        }
    }

    /// Attempt `lease_token` of `id` ended: its text goes (a newer attempt's stays).
    pub fn forget(&self, id: &ExecutionId, lease_token: i64) {
        let mut all = self.lock();
        if all.get(id).is_some_and(|a| a.lease_token == lease_token) {
            all.remove(id);
        }
    }

    /// The current answer of `id`'s `task` so far, if this process streams one.
    pub fn of(&self, id: &ExecutionId, task: Option<&str>) -> Option<StreamedAnswer> {
        self.lock().get(id)?.answers.get(&task.map(str::to_string)).filter(|a| a.length > 0).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ExecutionId, Attempt>> {
        self.by_execution.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_grows_restarts_with_each_call_and_goes_with_its_attempt() {
        let id = ExecutionId::from("01J");
        let text = StreamedText::default();
        assert_eq!(text.push(&id, 1, Some("write"), "Owls "), Some(0));
        assert_eq!(text.push(&id, 1, Some("write"), "hunt"), Some(5));
        text.push(&id, 1, Some("read"), "Bats");
        assert_eq!(text.of(&id, Some("write")), Some(StreamedAnswer { text: "Owls hunt".into(), length: 9 }));
        text.restart(&id, 1, Some("write"));
        assert_eq!(text.of(&id, Some("write")), None, "a new call starts empty");
        assert_eq!(text.of(&id, Some("read")).map(|a| a.text).as_deref(), Some("Bats"));
        text.forget(&id, 1);
        assert_eq!(text.of(&id, Some("read")), None);
    }

    #[test]
    fn a_replaced_attempt_cannot_touch_the_new_one() {
        let id = ExecutionId::from("01J");
        let text = StreamedText::default();
        text.push(&id, 1, None, "old");
        assert_eq!(text.push(&id, 2, None, "new"), Some(0));
        assert_eq!(text.push(&id, 1, None, " late"), None, "dropped");
        text.forget(&id, 1);
        assert_eq!(text.of(&id, None).map(|a| a.text).as_deref(), Some("new"));
    }

    #[test]
    fn only_the_end_of_a_long_answer_is_kept_on_a_char_boundary() {
        let id = ExecutionId::from("01J");
        let text = StreamedText::default();
        text.push(&id, 1, None, "é");
        text.push(&id, 1, None, &"x".repeat(KEPT_BYTES));
        let kept = text.of(&id, None).unwrap();
        assert!(kept.text.len() <= KEPT_BYTES && kept.text.ends_with('x'));
        assert_eq!(kept.length, 1 + KEPT_BYTES as u64, "the length counts what was cut");
    }
}
