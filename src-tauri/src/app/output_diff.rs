//! [`diff_outputs`]: two task outputs as a word-level diff (the `similar` crate), bounded in size
//! and time so a huge output cannot stall `crew-runner diff` or the desktop app.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use similar::{Algorithm, ChangeTag, TextDiff};
use ts_rs::TS;

/// Outputs longer than this (in bytes, either side) are diffed line by line instead of word by
/// word: a word diff's work grows with the product of the word counts.
pub const WORD_DIFF_MAX_BYTES: usize = 64 * 1024;

/// The most time one diff may take: past it `similar` settles for a coarser (still correct) diff,
/// with larger changed segments.
pub const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// What a segment of a diff is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum SegmentOp {
    /// In both outputs.
    Equal,
    /// Only in the second output (run B).
    Insert,
    /// Only in the first output (run A).
    Delete,
}

/// A run of text with the same [`SegmentOp`]: concatenating the `equal` and `delete` segments
/// gives output A, the `equal` and `insert` ones output B.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct DiffSegment {
    pub op: SegmentOp,
    pub text: String,
}

/// How finely the outputs were compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum DiffGranularity {
    /// Word by word (words and the whitespace between them are the units).
    Word,
    /// Line by line: an output was over [`WORD_DIFF_MAX_BYTES`].
    Line,
}

/// Two outputs compared: the segments, at which granularity, and why it is coarser when it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct OutputDiff {
    pub granularity: DiffGranularity,
    /// In order; adjacent changes of the same op are merged into one segment. Empty when both
    /// outputs are empty.
    pub segments: Vec<DiffSegment>,
    /// Set when the diff is line by line: "too large to diff word by word (…); shown line by line".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
}

impl OutputDiff {
    /// Whether any segment is an insertion or a deletion.
    pub fn has_changes(&self) -> bool {
        self.segments.iter().any(|s| s.op != SegmentOp::Equal)
    }
}

/// Compares output `a` with output `b`: word by word (Patience over `similar`'s word tokens),
/// or line by line with a [note](OutputDiff::note) when either is over
/// [`WORD_DIFF_MAX_BYTES`]; either way within [`DIFF_TIMEOUT`].
pub fn diff_outputs(a: &str, b: &str) -> OutputDiff {
    let too_large = a.len().max(b.len()) > WORD_DIFF_MAX_BYTES;
    let mut config = TextDiff::configure();
    config.algorithm(Algorithm::Patience).timeout(DIFF_TIMEOUT);
    let diff = if too_large { config.diff_lines(a, b) } else { config.diff_words(a, b) };
    let mut segments: Vec<DiffSegment> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => SegmentOp::Equal,
            ChangeTag::Insert => SegmentOp::Insert,
            ChangeTag::Delete => SegmentOp::Delete,
        };
        match segments.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => segments.push(DiffSegment { op, text: change.value().to_string() }),
        }
    }
    let (granularity, note) = if too_large {
        let kib = WORD_DIFF_MAX_BYTES / 1024;
        (DiffGranularity::Line, Some(format!("too large to diff word by word (over {kib} KiB); shown line by line")))
    } else {
        (DiffGranularity::Word, None)
    };
    OutputDiff { granularity, segments, note }
}

/// The diff of an output present in one run only: all of it deleted (`only_in_a`) or inserted.
pub fn one_sided(text: &str, only_in_a: bool) -> OutputDiff {
    let op = if only_in_a { SegmentOp::Delete } else { SegmentOp::Insert };
    let segments = if text.is_empty() { vec![] } else { vec![DiffSegment { op, text: text.to_string() }] };
    OutputDiff { granularity: DiffGranularity::Word, segments, note: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(diff: &OutputDiff, keep: SegmentOp) -> String {
        diff.segments.iter().filter(|s| s.op == SegmentOp::Equal || s.op == keep).map(|s| s.text.as_str()).collect()
    }

    fn ops(diff: &OutputDiff) -> Vec<(SegmentOp, &str)> {
        diff.segments.iter().map(|s| (s.op, s.text.as_str())).collect()
    }

    #[test]
    fn words_that_changed_are_deleted_and_inserted_between_equal_runs() {
        let d = diff_outputs("The queue is durable and fast.", "The queue is durable and slow.");
        assert_eq!(d.granularity, DiffGranularity::Word);
        assert_eq!(ops(&d), [(SegmentOp::Equal, "The queue is durable and "), (SegmentOp::Delete, "fast."), (SegmentOp::Insert, "slow.")]);
        assert!(d.has_changes() && d.note.is_none());
    }

    #[test]
    fn equal_outputs_are_one_equal_segment_and_empty_ones_none() {
        let d = diff_outputs("same\ntext", "same\ntext");
        assert_eq!(ops(&d), [(SegmentOp::Equal, "same\ntext")]);
        assert!(!d.has_changes());
        assert!(diff_outputs("", "").segments.is_empty());
    }

    #[test]
    fn each_side_is_rebuilt_from_its_segments() {
        let a = "alpha beta  gamma\ndelta epsilon\n";
        let b = "alpha gamma\ndelta zeta epsilon eta\n";
        let d = diff_outputs(a, b);
        assert_eq!(side(&d, SegmentOp::Delete), a);
        assert_eq!(side(&d, SegmentOp::Insert), b);
    }

    #[test]
    fn outputs_over_the_size_bound_are_diffed_line_by_line_with_a_note() {
        let line = "word ".repeat(20) + "\n";
        let a = line.repeat(WORD_DIFF_MAX_BYTES / line.len() + 10);
        let b = a.replacen("word word", "word changed", 1);
        let d = diff_outputs(&a, &b);
        assert_eq!(d.granularity, DiffGranularity::Line);
        assert_eq!(d.note.as_deref(), Some("too large to diff word by word (over 64 KiB); shown line by line"));
        // The whole first line is replaced (a line diff), the rest is one equal segment.
        assert_eq!(d.segments.len(), 3, "{:?}", &ops(&d)[..3.min(d.segments.len())]);
        assert_eq!((d.segments[0].op, d.segments[0].text.as_str()), (SegmentOp::Delete, line.as_str()));
        assert_eq!(d.segments[1].op, SegmentOp::Insert);
        assert_eq!(side(&d, SegmentOp::Delete), a);
        assert_eq!(side(&d, SegmentOp::Insert), b);
        // At the bound itself it is still word by word.
        let at_bound = "x".repeat(WORD_DIFF_MAX_BYTES);
        assert_eq!(diff_outputs(&at_bound, "y").granularity, DiffGranularity::Word);
    }

    #[test]
    fn a_one_sided_output_is_all_deleted_or_all_inserted() {
        assert_eq!(ops(&one_sided("only a", true)), [(SegmentOp::Delete, "only a")]);
        assert_eq!(ops(&one_sided("only b", false)), [(SegmentOp::Insert, "only b")]);
        assert!(one_sided("", true).segments.is_empty());
    }
}
