//! Streamed LLM text gathered for the page ([`TokenBatches`], [`forward`]): tokens arrive one
//! small piece at a time, the page gets them in batches at most every [`THROTTLE`] (and at the
//! latest [`THROTTLE`] after they arrived), so a long answer cannot flood it.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;
use ts_rs::TS;

use crate::execution::ExecutionId;

/// At most one batch emit per this interval while tokens stream.
pub const THROTTLE: Duration = Duration::from_millis(100);

/// Text streamed into one execution's task since the last emit (the `execution-tokens` payload
/// is a list of these, in arrival order).
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
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
    /// Where `text` ends (`offset` + its length): the next piece joins this batch when it starts here.
    #[serde(skip)]
    end: u64,
}

/// One streamed event for [`forward`] (an [`ExecutionEvent::Token`](crate::execution::ExecutionEvent::Token)):
/// a new call of the task began, or text of it starting at `offset` of its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Streamed {
    pub id: ExecutionId,
    pub task: Option<String>,
    pub restart: bool,
    pub offset: u64,
    pub text: String,
}

/// The batches not emitted yet, and when the last emit was.
///
/// Feed it [`push`](Self::push) in the order the scheduler sent the tokens;
/// [`take_due`](Self::take_due) hands the pending batches over at most once per [`THROTTLE`].
#[derive(Debug, Default)]
pub struct TokenBatches {
    pending: Vec<TokenBatch>,
    last_emit: Option<Instant>,
}

impl TokenBatches {
    pub fn new() -> TokenBatches {
        TokenBatches::default()
    }

    /// Adds one streamed event: a restart starts a new batch at offset 0; text is appended to
    /// the newest pending batch when it is the same execution and task and the text follows on
    /// from it, else starts a batch at its `offset`. Empty text adds nothing (unless it restarts).
    pub fn push(&mut self, s: Streamed) {
        if s.restart {
            self.pending.push(TokenBatch { id: s.id.clone(), task: s.task.clone(), restart: true, offset: 0, text: String::new(), end: 0 });
        }
        if s.text.is_empty() {
            return;
        }
        let end = s.offset + s.text.encode_utf16().count() as u64;
        match self.pending.last_mut() {
            Some(last) if last.id == s.id && last.task == s.task && last.end == s.offset => {
                last.text.push_str(&s.text);
                last.end = end;
            }
            _ => self.pending.push(TokenBatch { id: s.id, task: s.task, restart: false, offset: s.offset, text: s.text, end }),
        }
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

    fn text(e: &str, task: Option<&str>, offset: u64, t: &str) -> Streamed {
        Streamed { id: id(e), task: task.map(str::to_string), restart: false, offset, text: t.to_string() }
    }

    fn restart(e: &str, task: Option<&str>) -> Streamed {
        Streamed { restart: true, ..text(e, task, 0, "") }
    }

    #[test]
    fn tokens_join_until_another_task_or_a_new_call_each_batch_with_its_offset() {
        let mut batches = TokenBatches::new();
        batches.push(restart("A", Some("write")));
        batches.push(text("A", Some("write"), 0, "Owls "));
        batches.push(text("A", Some("write"), 5, "hunt"));
        batches.push(text("B", Some("write"), 0, "Bats"));
        batches.push(text("A", Some("write"), 9, " at night é"));
        batches.push(restart("A", Some("write")));
        batches.push(text("A", Some("write"), 0, "Second"));
        let taken = batches.take_due(Instant::now()).unwrap();
        let shape: Vec<(&str, bool, u64, &str)> = taken.iter().map(|t| (t.id.as_str(), t.restart, t.offset, t.text.as_str())).collect();
        assert_eq!(shape, [("A", true, 0, "Owls hunt"), ("B", false, 0, "Bats"), ("A", false, 9, " at night é"), ("A", true, 0, "Second")]);
        assert!(batches.take_due(Instant::now()).is_none(), "nothing pending after a take");
    }

    #[test]
    fn a_piece_that_does_not_follow_on_starts_its_own_batch_at_its_offset() {
        let mut batches = TokenBatches::new();
        batches.push(text("A", None, 0, "Owls"));
        batches.push(text("A", None, 10, "night"));
        let taken = batches.take_due(Instant::now()).unwrap();
        let shape: Vec<(u64, &str)> = taken.iter().map(|t| (t.offset, t.text.as_str())).collect();
        assert_eq!(shape, [(0, "Owls"), (10, "night")]);
    }

    #[test]
    fn batches_are_due_at_most_once_per_throttle() {
        let mut batches = TokenBatches::new();
        let t0 = Instant::now();
        batches.push(text("A", None, 0, "x"));
        assert!(batches.take_due(t0).is_some(), "the first batch goes at once");
        batches.push(text("A", None, 1, "y"));
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
        tx.send(text("A", None, 0, "first")).unwrap();
        assert_eq!(out.recv().await.unwrap()[0].text, "first");
        tx.send(text("A", None, 5, " second")).unwrap();
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
        batches.push(text("01J", Some("write"), 0, "Hi"));
        let json = serde_json::to_value(batches.take_due(Instant::now()).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!([{"id": "01J", "task": "write", "restart": true, "offset": 0, "text": "Hi"}]));
    }
}
