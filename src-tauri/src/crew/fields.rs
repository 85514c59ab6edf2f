//! Typed reading of one mapping's fields, reporting wrong types, duplicates, unknown and
//! unsupported fields with their field path.

use std::collections::BTreeSet;

use super::diagnostic::Findings;
use super::document::Node;
use super::origin::Origin;

/// The fields of one mapping (an agent, a task, the crew settings, a graph node's `data`).
pub(crate) struct Fields<'a> {
    entries: &'a [(String, Node)],
    pub origin: Origin,
}

/// Which keys a mapping may hold.
pub(crate) struct KeySet<'k> {
    /// Fields we read (or accept and ignore silently, such as `verbose`).
    pub known: &'k [&'k str],
    /// CrewAI fields we do not support: a warning names them, loading goes on. No warning when the
    /// value is `false`, `null` or empty (nothing is asked of us).
    pub unsupported: &'k [&'k str],
}

impl<'a> Fields<'a> {
    /// The fields of `node`; an error (and `None`) when it is not a mapping.
    pub fn of(node: &'a Node, origin: Origin, findings: &mut Findings) -> Option<Self> {
        match node {
            Node::Map(entries) => Some(Fields { entries, origin }),
            other => {
                findings.error(origin.whole(format!("expected a mapping of fields, found {}", other.kind())));
                None
            }
        }
    }

    /// Reports duplicate keys (errors), unsupported fields and unknown fields (warnings).
    pub fn check_keys(&self, keys: &KeySet, findings: &mut Findings) {
        let mut seen = BTreeSet::new();
        for (key, value) in self.entries {
            if !seen.insert(key.as_str()) {
                findings.error(self.origin.at(key, format!("duplicate key `{key}`")));
                continue;
            }
            if keys.known.contains(&key.as_str()) {
                if *value != Node::Null {
                    findings.applied(&self.origin.path, key.as_str());
                }
                continue;
            }
            if keys.unsupported.contains(&key.as_str()) {
                if !asks_nothing(value) {
                    findings.warn(self.origin.at(key, format!("`{key}` is not supported by the native engine; ignored")));
                    findings.ignored(&self.origin.path, key.as_str());
                }
            } else {
                findings.warn(self.origin.at(key, format!("unknown field `{key}`; ignored (a typo?)")));
                findings.ignored(&self.origin.path, key.as_str());
            }
        }
    }

    /// The (first) value of `key`; `None` when absent.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// An optional text field; `null` counts as absent.
    pub fn string(&self, key: &str, findings: &mut Findings) -> Option<String> {
        match self.get(key)? {
            Node::Null => None,
            Node::String(s) => Some(s.clone()),
            other => {
                findings.error(self.origin.at(key, format!("expected text, found {}", other.kind())));
                None
            }
        }
    }

    /// A required text field (trimmed, as CrewAI's YAML `>` blocks end in a newline); absent or
    /// blank is an error.
    pub fn required_string(&self, key: &str, findings: &mut Findings) -> String {
        match self.get(key) {
            None | Some(Node::Null) => {
                findings.error(self.origin.at(key, format!("`{key}` is required")));
                String::new()
            }
            Some(_) => {
                let s = self.string(key, findings).unwrap_or_default();
                let trimmed = s.trim().to_string();
                if trimmed.is_empty() && matches!(self.get(key), Some(Node::String(_))) {
                    findings.error(self.origin.at(key, format!("`{key}` must not be empty")));
                }
                trimmed
            }
        }
    }

    /// An optional yes/no field (`true`/`false` only).
    pub fn bool(&self, key: &str, findings: &mut Findings) -> Option<bool> {
        match self.get(key)? {
            Node::Null => None,
            Node::Bool(b) => Some(*b),
            other => {
                findings.error(self.origin.at(key, format!("expected true or false, found {}", other.kind())));
                None
            }
        }
    }

    /// An optional whole number in `T`'s range (a numeric string such as `"25"` is accepted, as
    /// CrewAI's pydantic models do).
    pub fn uint<T: TryFrom<u64>>(&self, key: &str, findings: &mut Findings) -> Option<T> {
        let node = self.get(key)?;
        let value = match node {
            Node::Null => return None,
            Node::Number(n) => n.as_u64(),
            Node::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match value.and_then(|v| T::try_from(v).ok()) {
            Some(v) => Some(v),
            None => {
                let found = match node {
                    Node::String(s) => format!("`{s}`"),
                    Node::Number(n) => n.to_string(),
                    other => other.kind().to_string(),
                };
                findings.error(self.origin.at(key, format!("expected a whole number (0 or more), found {found}")));
                None
            }
        }
    }

    /// An optional mapping under `key` of names to values read by `parse` (`what` says what it maps,
    /// for the error when it is not a mapping). Entries `parse` refuses are errors at
    /// `key.name` and left out; `null` or absent is empty.
    pub fn named_map<T>(
        &self,
        key: &str,
        what: &str,
        parse: impl Fn(&Node) -> Result<T, String>,
        findings: &mut Findings,
    ) -> std::collections::BTreeMap<String, T> {
        let mut out = std::collections::BTreeMap::new();
        match self.get(key) {
            None | Some(Node::Null) => {}
            Some(Node::Map(entries)) => {
                for (name, node) in entries {
                    match parse(node) {
                        Ok(value) => {
                            out.insert(name.clone(), value);
                        }
                        Err(e) => findings.error(self.origin.at(&format!("{key}.{name}"), e)),
                    }
                }
            }
            Some(other) => findings.error(self.origin.at(key, format!("expected a mapping of {what}, found {}", other.kind()))),
        }
        out
    }

    /// An optional list of texts; `null` counts as absent.
    pub fn string_list(&self, key: &str, findings: &mut Findings) -> Option<Vec<String>> {
        match self.get(key)? {
            Node::Null => None,
            Node::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Node::String(s) => out.push(s.clone()),
                        other => findings.error(self.origin.at(&format!("{key}[{i}]"), format!("expected text, found {}", other.kind()))),
                    }
                }
                Some(out)
            }
            other => {
                findings.error(self.origin.at(key, format!("expected a list of names, found {}", other.kind())));
                None
            }
        }
    }
}

/// `false`, `null`, `""`, `[]`, `{}`: the field asks for nothing.
fn asks_nothing(value: &Node) -> bool {
    match value {
        Node::Null | Node::Bool(false) => true,
        Node::String(s) => s.trim().is_empty(),
        Node::List(items) => items.is_empty(),
        Node::Map(entries) => entries.is_empty(),
        _ => false,
    }
}
