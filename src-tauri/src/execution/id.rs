use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A sortable execution id: a ULID in its 26-character Crockford base32 form.
///
/// Ids sort by creation time, so "newest first" is "id descending".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionId(String);

impl ExecutionId {
    /// A fresh id for now.
    pub fn new() -> Self {
        ExecutionId(ulid::Ulid::new().to_string())
    }

    /// The id as stored and printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ExecutionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text is not a ULID.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an execution id (expected a 26-character ULID)")]
pub struct ParseIdError(pub String);

impl FromStr for ExecutionId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ulid::Ulid::from_string(s.trim())
            .map(|u| ExecutionId(u.to_string()))
            .map_err(|_| ParseIdError(s.to_string()))
    }
}

impl From<&str> for ExecutionId {
    /// Wraps a stored id without validating it (the store only holds valid ids).
    fn from(s: &str) -> Self {
        ExecutionId(s.to_string())
    }
}
