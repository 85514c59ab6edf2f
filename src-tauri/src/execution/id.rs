use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A sortable execution id: a ULID in its 26-character Crockford base32 form.
///
/// Ids sort by creation time, so "newest first" is "id descending".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionId(String);

impl ExecutionId {
    /// A fresh id for now, greater than every id this process made before it: within one
    /// millisecond the ULID's random part counts up (a monotonic generator) instead of being
    /// drawn afresh, so "newest first" holds for executions submitted in the same millisecond
    /// too, and the indexes over ids are appended to at their end.
    pub fn new() -> Self {
        static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());
        let mut generator = GENERATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // It fails only when 2^80 ids were made in one millisecond; a fresh random one then.
        let ulid = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
        ExecutionId(ulid.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_in_a_row_increase_even_within_one_millisecond() {
        let ids: Vec<ExecutionId> = (0..2_000).map(|_| ExecutionId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "not strictly increasing");
        assert!(ids.iter().all(|id| id.as_str().parse::<ulid::Ulid>().is_ok() && id.as_str().len() == 26));
    }
}
