//! Where an agent, a task or the crew settings were written: file, field path, line.

use std::sync::Arc;

use super::diagnostic::Diagnostic;
use super::source::SourceText;

/// The place one mapping (an agent, a task, the crew settings) came from.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub source: Arc<SourceText>,
    /// Field path of the mapping, e.g. `tasks.research_task` or `nodes[3] (id t2).data`; empty for
    /// a file's top level.
    pub path: String,
    /// Keys leading to the mapping in the text, for [`SourceText::line_of`].
    pub keys: Vec<String>,
    /// The mapping's line when known otherwise (list items without a name); fields are then
    /// looked for from there.
    pub line: Option<u32>,
}

impl Origin {
    pub fn new(source: Arc<SourceText>, path: impl Into<String>, keys: Vec<String>) -> Self {
        Origin { source, path: path.into(), keys, line: None }
    }

    /// The same origin, known to start at `line`.
    pub fn at_line(mut self, line: Option<u32>) -> Self {
        self.line = line;
        self
    }

    /// The origin of a mapping nested under `key` (written `sub` in field paths).
    pub fn child(&self, sub: &str, key: &str) -> Origin {
        let mut keys = self.keys.clone();
        keys.push(key.to_string());
        Origin { source: self.source.clone(), path: self.join(sub), keys, line: None }
    }

    /// A diagnostic about the mapping itself.
    pub fn whole(&self, message: impl Into<String>) -> Diagnostic {
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let line = self.line.or_else(|| if keys.is_empty() { None } else { self.source.line_of(&keys) });
        let d = self.source.diag(message).at_line(line);
        if self.path.is_empty() {
            d
        } else {
            d.on_field(self.path.clone())
        }
    }

    /// A diagnostic about `sub` inside the mapping (`context[0]`, `agent`, …); the line is that of
    /// the field's key where it can be found, else that of the mapping.
    pub fn at(&self, sub: &str, message: impl Into<String>) -> Diagnostic {
        let field_key = sub.split(['[', '.']).next().unwrap_or(sub);
        let line = match self.line {
            Some(start) => self.source.line_of_from(start, &[field_key]).or(Some(start)),
            None => {
                let mut keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
                keys.push(field_key);
                self.source.line_of(&keys)
            }
        };
        self.source.diag(message).at_line(line).on_field(self.join(sub))
    }

    fn join(&self, sub: &str) -> String {
        if self.path.is_empty() {
            sub.to_string()
        } else {
            format!("{}.{sub}", self.path)
        }
    }
}
