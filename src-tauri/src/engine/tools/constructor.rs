//! A tool's constructor arguments as the crew wrote them (`FileReadTool(file_path="a.md")`,
//! `SerperDevTool(n_results=5)`), read with CrewAI's argument names.

use std::collections::BTreeMap;

use serde_json::Value;

/// Read access to one tool's constructor arguments.
#[derive(Clone, Copy, Debug)]
pub struct ConstructorArgs<'a>(pub &'a BTreeMap<String, Value>);

impl ConstructorArgs<'_> {
    /// The text of argument `key`: a string (trimmed; blank is absent), or a number or boolean as
    /// written. `None` when absent or `null`.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Argument `key` as a positive count (a number, or a string holding one); `None` when absent,
    /// not a number, or zero.
    pub fn count(&self, key: &str) -> Option<usize> {
        let n = match self.0.get(key)? {
            Value::Number(n) => n.as_u64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        usize::try_from(n).ok().filter(|n| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_counts() {
        let map: BTreeMap<String, Value> =
            serde_json::from_value(serde_json::json!({"a": " x ", "b": 5, "c": "7", "d": "", "e": 0, "f": [1]})).unwrap();
        let args = ConstructorArgs(&map);
        assert_eq!(args.text("a").as_deref(), Some("x"));
        assert_eq!(args.text("b").as_deref(), Some("5"));
        assert_eq!(args.text("d"), None);
        assert_eq!(args.text("f"), None);
        assert_eq!(args.count("b"), Some(5));
        assert_eq!(args.count("c"), Some(7));
        assert_eq!(args.count("e"), None);
        assert_eq!(args.count("zz"), None);
    }
}
