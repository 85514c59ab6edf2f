//! The application layer both faces call: [`Runner`] (submit, control and read executions, follow
//! their logs: [`LogTail`], follow every change live: [`Watch`]), where data lives, turning a crew file plus arguments into a validated
//! [`NewExecution`](crate::execution::NewExecution), reruns of past executions, comparisons of two
//! ([`RunComparison`]), the async runtime and memory settings of the binary, and the one
//! configuration every face shares ([`config`]).
//!
//! The CLI (`cli/`) and the desktop shell delegate here so they behave the same.

mod comparison;
pub mod config;
mod configured_llm;
pub mod duration;
mod engine_choice;
mod execution_graph;
pub mod log_files;
mod log_tail;
pub mod memory;
mod output_diff;
mod paths;
mod rerun;
mod runner;
pub mod runtime;
mod store_open;
mod submission;
mod trace;
mod validation;
mod watch;

pub use comparison::{compare_runs, ComparisonError, RunComparison, RunRecord, RunSummary, TaskComparison, TaskRun};
pub use config::ConfigStore;
pub use configured_llm::ConfiguredLlm;
pub use engine_choice::{decide as decide_engine, EngineChoice, EngineChoiceError, EngineDecision};
pub use log_tail::{LogStreamMessage, LogTail, TailItem, POLL_WITHOUT_EVENTS};
pub use output_diff::{diff_outputs, DiffGranularity, DiffSegment, OutputDiff, SegmentOp, DIFF_TIMEOUT, WORD_DIFF_MAX_BYTES};
pub use paths::{AppPaths, ConfigOrigin, PathsError};
pub use rerun::{rerun_request, RerunError};
pub use runner::{QueueView, Rerun, Runner, RunnerError, Submission};
pub use store_open::{OpenRunnerError, OpenStoreError, BUSY_TIMEOUT_VAR};
pub use submission::{
    choose_engine, default_batch_key, idempotency_key, prepare_batch, prepare_submission, preview_crew, submission_hash, timeout_from_secs,
    timeout_ms, ChosenEngine, CrewPreview, SubmitError, SubmitRequest, MAX_KEY_LEN,
};
pub use trace::{build_trace, SpanKind, SpanStatus, Trace, TraceCall, TraceError, TraceSpan, TraceTotals};
pub use validation::Validation;
pub use watch::{Change, Watch};

// The core's types the faces name (settings, outcomes, counts, errors): they come with the
// application API, so a face imports `app` and never `store` or `scheduler`.
pub use crate::scheduler::{ClaimScope, SchedulerConfig, SchedulerError, MAX_HEARTBEAT};
pub use crate::store::{CancelOutcome, DiskUsage, PruneCounts, PruneFilter, QueueSettings, StatusCounts, StoreError};
