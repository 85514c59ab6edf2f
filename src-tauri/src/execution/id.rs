use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A sortable execution id: a ULID in its 26-character Crockford base32 form.
///
/// Ids sort by creation time, so "newest first" is "id descending".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, TS)]
#[serde(transparent)]
#[schemars(extend("pattern" = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"))]
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

/// The text is not a ULID. Holds the text exactly as given, so the message quotes what the user
/// typed, not a normalised or overflowed form of it.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an execution id (expected a 26-character ULID)")]
pub struct ParseIdError(pub String);

impl FromStr for ExecutionId {
    type Err = ParseIdError;
    /// Parses a ULID (surrounding white space ignored, any case). Its first character must be
    /// `0`–`7`: 26 base32 characters hold 130 bits and a ULID has 128, so a larger first character
    /// would overflow (the `ulid` crate silently drops the top bits, turning `8ZZZ…` into `0ZZZ…`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if !matches!(text.as_bytes().first(), Some(b'0'..=b'7')) {
            return Err(ParseIdError(s.to_string()));
        }
        ulid::Ulid::from_string(text).map(|u| ExecutionId(u.to_string())).map_err(|_| ParseIdError(s.to_string()))
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

    #[test]
    fn an_id_that_overflows_128_bits_is_refused_quoted_as_given() {
        for given in ["8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "zzzzzzzzzzzzzzzzzzzzzzzzzz", " 9AAAAAAAAAAAAAAAAAAAAAAAAA"] {
            let err = given.parse::<ExecutionId>().unwrap_err();
            assert_eq!(err.0, given);
            assert!(err.to_string().starts_with(&format!("`{given}`")), "{err}");
        }
        let largest: ExecutionId = "7zzzzzzzzzzzzzzzzzzzzzzzzz".parse().unwrap();
        assert_eq!(largest.as_str(), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
        assert_eq!(" 01ARZ3NDEKTSV4RRFFQ69G5FAV\n".parse::<ExecutionId>().unwrap().as_str(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    }
}
