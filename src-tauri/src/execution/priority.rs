use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How urgent an execution is. Strictly higher priorities run first; FIFO within a level.
///
/// Stored as its [`rank`](Priority::rank) (0 = low … 3 = urgent) so the claim index can order by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    /// All levels, lowest first.
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    /// The stored integer: 0 (low) to 3 (urgent).
    pub fn rank(self) -> i64 {
        self as i64
    }

    /// The level for a stored rank; `None` outside 0..=3.
    pub fn from_rank(rank: i64) -> Option<Priority> {
        Priority::ALL.get(usize::try_from(rank).ok()?).copied()
    }

    /// The lowercase name used on the command line, in JSON and in the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text names no priority.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a priority (expected low, normal, high or urgent)")]
pub struct ParsePriorityError(pub String);

impl FromStr for Priority {
    type Err = ParsePriorityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| ParsePriorityError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_and_round_trip() {
        assert!(Priority::Urgent > Priority::High && Priority::High > Priority::Normal);
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
            assert_eq!(p.as_str().parse::<Priority>().unwrap(), p);
        }
        assert!(Priority::from_rank(4).is_none());
        assert!("asap".parse::<Priority>().is_err());
        assert_eq!(serde_json::to_string(&Priority::High).unwrap(), "\"high\"");
    }
}
