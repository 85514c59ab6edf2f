//! Streamed LLM text gathered for the page ([`TokenBatches`], [`forward`]): tokens arrive one
//! small piece at a time, the page gets them in batches at most every [`THROTTLE`] (and at the
//! latest [`THROTTLE`] after they arrived), so a long answer cannot flood it.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

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
    /// Where `text` starts in the current call's answer, in UTF-16 code units (JavaScript string
    /// length): the page skips what it already has (from the trace's
    /// [`streamed`](crate::app::TraceSpan::streamed) snapshot, or a batch seen twice).
    pub offset: u64,
    pub text: String,
}

/// One streamed event for [`forward`]: a new call of the task began, or text of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Streamed {
    pub id: ExecutionId,
    pub task: Option<String>,
    pub restart: bool,
    pub text: String,
}

/// The batches not emitted yet, each answer's length so far, and when the last emit was.
///
/// Feed it [`push`](Self::push) in the order the scheduler sent the tokens;
/// [`take_due`](Self::take_due) hands the pending batches over at most once per [`THROTTLE`].
#[derive(Debug, Default)]
pub struct TokenBatches {
    pending: Vec<TokenBatch>,
    lengths: HashMap<(ExecutionId, Option<String>), u64>,
    last_emit: Option<Instant>,
}

impl TokenBatches {
    pub fn new() -> TokenBatches {
        TokenBatches::default()
    }

    /// Adds one streamed event: a restart starts a new batch at offset 0; text is appended to
    /// the newest pending batch when it is the same execution and task, else starts a batch at
    /// the answer's current length. Empty text adds nothing (unless it restarts).
    pub fn push(&mut self, s: Streamed) {
        let key = (s.id.clone(), s.task.clone());
        if s.restart {
            self.lengths.insert(key.clone(), 0);
            self.pending.push(TokenBatch { id: s.id.clone(), task: s.task.clone(), restart: true, offset: 0, text: String::new() });
        }
        if s.text.is_empty() {
            return;
        }
        let length = self.lengths.entry(key).or_insert(0);
        let offset = *length;
        *length += s.text.encode_utf16().count() as u64;
        match self.pending.last_mut() {
            Some(last) if last.id == s.id && last.task == s.task => last.text.push_str(&s.text),
            _ => self.pending.push(TokenBatch { id: s.id, task: s.task, restart: false, offset, text: s.text }),
        }
    }

    /// An execution ended: its answers' lengths are forgotten.
    pub fn forget(&mut self, id: &ExecutionId) {
        self.lengths.retain(|(e, _), _| e != id);
    }

    /// When the pending batches are due (now, if nothing was emitted for [`THROTTLE`]); `None`
    /// when nothing is pending.
    pub fn due_at(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        Some(self.last_emit.map_or_else(Instant::now, |at| at + THROTTLE))
    }

    /// The pending batches when some are pending and [`THROTTLE`] passed since the last emit.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<TokenBatch>> {
        let due = self.last_emit.is_none_or(|at| now >= at + THROTTLE);
        if self.pending.is_empty() || !due {
            return None;
        }
        self.last_emit = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

/// Batches what arrives on `streamed` and hands each group of batches to `emit`: at most once per
/// [`THROTTLE`], and no later than [`THROTTLE`] after its text arrived (also when the stream
/// pauses). Ends, after emitting what is pending, when every sender is dropped. Cancel-safe
/// between emits (nothing is lost by dropping it except the pending batches).
pub async fn forward(mut streamed: mpsc::UnboundedReceiver<Streamed>, mut emit: impl FnMut(Vec<TokenBatch>) + Send + 'static) {
    let mut batches = TokenBatches::new();
    loop {
        let due = batches.due_at();
        tokio::select! {
            next = streamed.recv() => match next {
                Some(s) => batches.push(s),
                None => {
                    if let Some(last) = batches.take_due(Instant::now() + THROTTLE) {
                        emit(last);
                    }
                    return;
                }
            },
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {}
        }
        if let Some(ready) = batches.take_due(Instant::now()) {
            emit(ready);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ExecutionId {
        ExecutionId::from(s)
    }

    fn text(e: &str, task: Option<&str>, t: &str) -> Streamed {
        Streamed { id: id(e), task: task.map(str::to_string), restart: false, text: t.to_string() }
    }

    fn restart(e: &str, task: Option<&str>) -> Streamed {
        Streamed { restart: true, ..text(e, task, "") }
    }

    #[test]
    fn tokens_join_until_another_task_or_a_new_call_each_batch_with_its_offset() {
        let mut batches = TokenBatches::new();
        batches.push(restart("A", Some("write")));
        batches.push(text("A", Some("write"), "Owls "));
        batches.push(text("A", Some("write"), "hunt"));
        batches.push(text("B", Some("write"), "Bats"));
        batches.push(text("A", Some("write"), " at night é"));
        batches.push(restart("A", Some("write")));
        batches.push(text("A", Some("write"), "Second"));
        let taken = batches.take_due(Instant::now()).unwrap();
        let shape: Vec<(&str, bool, u64, &str)> = taken.iter().map(|t| (t.id.as_str(), t.restart, t.offset, t.text.as_str())).collect();
        assert_eq!(shape, [("A", true, 0, "Owls hunt"), ("B", false, 0, "Bats"), ("A", false, 9, " at night é"), ("A", true, 0, "Second")]);
        assert!(batches.take_due(Instant::now()).is_none(), "nothing pending after a take");
    }

    #[test]
    fn batches_are_due_at_most_once_per_throttle() {
        let mut batches = TokenBatches::new();
        let t0 = Instant::now();
        batches.push(text("A", None, "x"));
        assert!(batches.take_due(t0).is_some(), "the first batch goes at once");
        batches.push(text("A", None, "y"));
        assert_eq!(batches.due_at(), Some(t0 + THROTTLE));
        assert!(batches.take_due(t0 + THROTTLE / 2).is_none());
        let later = batches.take_due(t0 + THROTTLE).unwrap();
        assert_eq!((later[0].offset, later[0].text.as_str()), (1, "y"));
        assert!(batches.take_due(t0 + THROTTLE * 3).is_none(), "nothing pending");
    }

    #[tokio::test(start_paused = true)]
    async fn forward_emits_a_paused_streams_tail_within_the_throttle() {
        let (tx, rx) = mpsc::unbounded_channel();
        let (out_tx, mut out) = mpsc::unbounded_channel();
        let task = tokio::spawn(forward(rx, move |b| {
            let _ = out_tx.send(b);
        }));
        tx.send(text("A", None, "first")).unwrap();
        assert_eq!(out.recv().await.unwrap()[0].text, "first");
        tx.send(text("A", None, " second")).unwrap();
        // Nothing else arrives: the tail still goes out, THROTTLE after the first emit.
        let started = Instant::now();
        let tail = out.recv().await.unwrap();
        assert_eq!((tail[0].offset, tail[0].text.as_str()), (5, " second"));
        assert_eq!(started.elapsed(), THROTTLE);
        drop(tx);
        task.await.unwrap();
    }

    #[test]
    fn the_payload_is_what_the_page_reads() {
        let mut batches = TokenBatches::new();
        batches.push(restart("01J", Some("write")));
        batches.push(text("01J", Some("write"), "Hi"));
        let json = serde_json::to_value(batches.take_due(Instant::now()).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!([{"id": "01J", "task": "write", "restart": true, "offset": 0, "text": "Hi"}]));
    }
}
