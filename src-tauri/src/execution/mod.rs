//! The domain types every layer shares, and the contracts between the scheduler and what it runs.
//!
//! - An [`Execution`] is one run of one crew with one set of inputs. Its [`ExecutionState`] carries
//!   what is true in that state (an owner and lease while running, an error when failed, …).
//! - The [`ExecutionLog`](LogEntry) records every step; [`StepOutput`]s make runs resumable.
//! - The scheduler runs an [`Executor`] and gives it a [`Journal`] to record into.

mod call_payload;
mod contract;
mod engine;
mod error;
mod id;
mod log;
mod model;
mod priority;
mod review;
mod state;
mod time;

pub use call_payload::{
    CallPayload, CompressedPayload, ParseTracePayloadsError, PayloadError, PayloadMessage, PayloadResponse, PayloadToolCall, TracePayloads,
    REDACTED, TRACE_PAYLOADS_VAR,
};
pub use contract::{AttemptOutput, BoxFuture, Executor, Journal, JournalError, RunOutput, RunRequest};
pub use engine::{Engine, ParseEngineError};
pub use error::{ErrorKind, ExecutionError};
pub use id::{ExecutionId, ParseIdError};
pub use log::{EventKind, ExecutionEvent, LogEntry, LogEvent, LogLevel};
pub use model::{
    AttemptError, Execution, ExecutionFilter, LlmOptions, NewExecution, Progress, StepOutput, Usage, DEFAULT_MAX_ABANDONS,
    DEFAULT_MAX_ATTEMPTS,
};
pub use priority::{ParsePriorityError, Priority};
pub use review::{InputAnswer, InputRequest, InputReview};
pub use state::{ExecutionState, ParseStatusError, Status};
pub use time::{civil_from_days, now_ms, Millis};
