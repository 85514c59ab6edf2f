//! What can go wrong in the scheduler.

use crate::store::StoreError;

/// A scheduler operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The store refused or failed the operation (not found, wrong state, database errors).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scheduler was shut down; the handle can no longer run or stop executions.
    #[error("the scheduler has shut down")]
    Stopped,
}
