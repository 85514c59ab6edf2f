//! The application layer both faces call: where data lives, turning a crew file plus arguments into a
//! validated [`NewExecution`](crate::execution::NewExecution), reruns of past executions, and the
//! async runtime and memory settings of the binary.
//!
//! The CLI (`cli/`) and the desktop shell delegate here so they behave the same.

pub mod memory;
mod paths;
mod rerun;
pub mod runtime;
mod submission;

pub use paths::{AppPaths, PathsError};
pub use rerun::{rerun_request, RerunError};
pub use submission::{
    default_batch_key, idempotency_key, prepare_batch, prepare_submission, submission_hash, SubmitError, SubmitRequest, MAX_KEY_LEN,
};
