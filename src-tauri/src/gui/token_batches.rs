//! Streamed LLM text gathered for the page ([`TokenBatches`]): tokens arrive one small piece at a
//! time, the page gets them in batches at most every [`THROTTLE`], so a long answer cannot flood it.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::execution::ExecutionId;

/// At most one batch emit per this interval while tokens stream.
pub const THROTTLE: Duration = Duration::from_millis(100);

/// Text streamed into one execution's task since the last emit (the `execution-tokens` payload
/// is a list of these, in arrival order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenBatch {
    pub id: ExecutionId,
    pub task: Option<String>,
    /// A new LLM call of this task began before `text`: the page starts the shown answer again.
    pub restart: bool,
    pub text: String,
}

/// The batches not emitted yet, and when the last emit was.
///
/// Feed it [`token`](Self::token)s and [`call_started`](Self::call_started) marks in the order the
/// scheduler sent them; [`take_due`](Self::take_due) hands them over at most once per [`THROTTLE`],
/// [`take`](Self::take) at once (before another event, so the page sees everything in order).
#[derive(Debug)]
pub struct TokenBatches {
    pending: Vec<TokenBatch>,
    last_emit: Option<Instant>,
}

impl Default for TokenBatches {
    fn default() -> Self {
        TokenBatches::new()
    }
}

impl TokenBatches {
    pub fn new() -> TokenBatches {
        TokenBatches { pending: Vec::new(), last_emit: None }
    }

    /// Streamed `text` of `id`'s `task` (nothing when empty): appended to the newest pending batch of the same
    /// execution and task when it is the last one pending, else a new batch.
    pub fn token(&mut self, id: &ExecutionId, task: Option<&str>, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.pending.last_mut() {
            Some(last) if last.id == *id && last.task.as_deref() == task => last.text.push_str(text),
            _ => self.pending.push(TokenBatch { id: id.clone(), task: task.map(str::to_string), restart: false, text: text.to_string() }),
        }
    }

    /// A new LLM call of `id`'s `task` began: the text after this replaces what the page shows.
    pub fn call_started(&mut self, id: &ExecutionId, task: Option<&str>) {
        self.pending.push(TokenBatch { id: id.clone(), task: task.map(str::to_string), restart: true, text: String::new() });
    }

    /// The pending batches when some are pending and [`THROTTLE`] passed since the last emit.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<TokenBatch>> {
        let due = self.last_emit.is_none_or(|at| now.duration_since(at) >= THROTTLE);
        if due {
            self.take(now)
        } else {
            None
        }
    }

    /// The pending batches, if any (counts as an emit at `now`).
    pub fn take(&mut self, now: Instant) -> Option<Vec<TokenBatch>> {
        if self.pending.is_empty() {
            return None;
        }
        self.last_emit = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ExecutionId {
        ExecutionId::from(s)
    }

    #[test]
    fn tokens_of_one_task_join_until_another_task_or_a_new_call() {
        let (a, b) = (id("A"), id("B"));
        let mut batches = TokenBatches::new();
        batches.token(&a, Some("write"), "Owls ");
        batches.token(&a, Some("write"), "hunt");
        batches.token(&b, Some("write"), "Bats");
        batches.token(&a, Some("write"), " at night");
        batches.call_started(&a, Some("write"));
        batches.token(&a, Some("write"), "Second");
        let taken = batches.take(Instant::now()).unwrap();
        let shape: Vec<(&str, bool, &str)> = taken.iter().map(|t| (t.id.as_str(), t.restart, t.text.as_str())).collect();
        assert_eq!(shape, [("A", false, "Owls hunt"), ("B", false, "Bats"), ("A", false, " at night"), ("A", true, "Second")]);
        assert!(batches.take(Instant::now()).is_none(), "nothing pending after a take");
    }

    #[test]
    fn batches_are_due_at_most_once_per_throttle() {
        let a = id("A");
        let mut batches = TokenBatches::new();
        let t0 = Instant::now();
        batches.token(&a, None, "x");
        assert!(batches.take_due(t0).is_some(), "the first batch goes at once");
        batches.token(&a, None, "y");
        assert!(batches.take_due(t0 + THROTTLE / 2).is_none());
        let later = batches.take_due(t0 + THROTTLE).unwrap();
        assert_eq!(later[0].text, "y");
        assert!(batches.take_due(t0 + THROTTLE * 3).is_none(), "nothing pending");
    }

    #[test]
    fn the_payload_is_what_the_page_reads() {
        let mut batches = TokenBatches::new();
        batches.call_started(&id("01J"), Some("write"));
        batches.token(&id("01J"), Some("write"), "Hi");
        let json = serde_json::to_value(batches.take(Instant::now()).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!([{"id": "01J", "task": "write", "restart": true, "text": "Hi"}]));
    }
}
