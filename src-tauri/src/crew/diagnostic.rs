//! Errors and warnings about crew files: where (file, line, field) and why.

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;

/// One finding about a crew file: an error that stops loading or a warning that does not.
///
/// `Display` prints `file:line: field: message`, leaving out the parts that are absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema, TS)]
pub struct Diagnostic {
    /// The file (or folder) the finding is about, as a path.
    pub file: String,
    /// 1-based line in `file`, where it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub line: Option<u32>,
    /// The field path, e.g. `tasks.research_task.context[0]` or `nodes[3] (id task-2).data.agent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

/// A warning: loading went on (the field was ignored, the tool dropped, the agent assigned, …).
pub type CrewWarning = Diagnostic;

impl Diagnostic {
    /// A finding about `file` as a whole.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), line: None, field: None, message: message.into() }
    }

    /// The same finding at `line` (when known).
    pub fn at_line(mut self, line: Option<u32>) -> Self {
        self.line = line;
        self
    }

    /// The same finding about `field`.
    pub fn on_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A crew that cannot be loaded, with every error found (not just the first).
///
/// `Display` prints one line per diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CrewError {
    /// At least one error, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl CrewError {
    /// An error holding exactly `diagnostic`.
    pub fn single(diagnostic: Diagnostic) -> Self {
        CrewError { diagnostics: vec![diagnostic] }
    }
}

impl fmt::Display for CrewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Most errors (and, separately, warnings) kept for one load; the rest are counted in a last
/// diagnostic ("… and N more errors").
pub const MAX_DIAGNOSTICS: usize = 500;

/// What became of the fields of one agent, one task, or the crew's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema, TS)]
pub struct FieldUses {
    /// `agents.researcher`, `tasks.reporting_task`, or `crew`.
    pub entry: String,
    /// The fields applied, in the order read: `name` (YAML/JSON) or `name (crew.py:12)`.
    pub applied: Vec<String>,
    /// The fields ignored, each with a warning saying why.
    pub ignored: Vec<String>,
}

/// Errors and warnings collected while a crew is loaded.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// By entry, in first-seen order.
    uses: Vec<FieldUses>,
    /// Errors and warnings past [`MAX_DIAGNOSTICS`], counted only (the file of the last one).
    more_errors: Option<(usize, String)>,
    more_warnings: Option<(usize, String)>,
}

impl Findings {
    pub fn error(&mut self, d: Diagnostic) {
        keep(&mut self.errors, &mut self.more_errors, d);
    }

    pub fn warn(&mut self, d: Diagnostic) {
        keep(&mut self.warnings, &mut self.more_warnings, d);
    }

    /// How many warnings were recorded so far (kept or counted).
    pub fn warning_count(&self) -> usize {
        self.warnings.len() + self.more_warnings.as_ref().map_or(0, |(n, _)| *n)
    }

    /// Records that `field` of `entry` (`agents.x`, `tasks.y`, `crew`) was applied.
    pub fn applied(&mut self, entry: &str, field: impl Into<String>) {
        self.entry(entry).applied.push(field.into());
    }

    /// Records that `field` of `entry` was ignored (a warning says why).
    pub fn ignored(&mut self, entry: &str, field: impl Into<String>) {
        self.entry(entry).ignored.push(field.into());
    }

    fn entry(&mut self, entry: &str) -> &mut FieldUses {
        let entry = if entry.is_empty() { "crew" } else { entry };
        match self.uses.iter().position(|u| u.entry == entry) {
            Some(i) => &mut self.uses[i],
            None => {
                self.uses.push(FieldUses { entry: entry.to_string(), ..FieldUses::default() });
                self.uses.last_mut().expect("just pushed")
            }
        }
    }

    /// The field uses recorded so far, taken out.
    pub fn take_uses(&mut self) -> Vec<FieldUses> {
        std::mem::take(&mut self.uses)
    }

    /// `Err` with every error when there is any, else the warnings.
    pub fn into_result(self) -> Result<Vec<Diagnostic>, CrewError> {
        if self.errors.is_empty() {
            Ok(with_rest(self.warnings, self.more_warnings, "warnings"))
        } else {
            Err(CrewError { diagnostics: with_rest(self.errors, self.more_errors, "errors") })
        }
    }
}

fn keep(list: &mut Vec<Diagnostic>, more: &mut Option<(usize, String)>, d: Diagnostic) {
    if list.len() < MAX_DIAGNOSTICS {
        list.push(d);
    } else {
        let count = more.as_ref().map_or(0, |(n, _)| *n) + 1;
        *more = Some((count, d.file));
    }
}

fn with_rest(mut list: Vec<Diagnostic>, more: Option<(usize, String)>, what: &str) -> Vec<Diagnostic> {
    if let Some((n, file)) = more {
        list.push(Diagnostic::new(file, format!("… and {n} more {what} not shown")));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_out_absent_parts() {
        let full = Diagnostic::new("tasks.yaml", "unknown agent `x`").at_line(Some(7)).on_field("tasks.a.agent");
        assert_eq!(full.to_string(), "tasks.yaml:7: tasks.a.agent: unknown agent `x`");
        assert_eq!(Diagnostic::new("crew.json", "empty").to_string(), "crew.json: empty");
        let err = CrewError { diagnostics: vec![full, Diagnostic::new("b", "c").on_field("f")] };
        assert_eq!(err.to_string(), "tasks.yaml:7: tasks.a.agent: unknown agent `x`\nb: f: c");
    }

    #[test]
    fn findings_are_capped_with_a_count() {
        let mut f = Findings::default();
        for i in 0..MAX_DIAGNOSTICS + 3 {
            f.error(Diagnostic::new("a.yaml", format!("e{i}")));
        }
        let err = f.into_result().unwrap_err();
        assert_eq!(err.diagnostics.len(), MAX_DIAGNOSTICS + 1);
        assert_eq!(err.diagnostics.last().unwrap().to_string(), "a.yaml: … and 3 more errors not shown");
    }
}
