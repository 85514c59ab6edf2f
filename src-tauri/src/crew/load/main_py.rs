//! Default inputs from a CrewAI project's `main.py`: the literal `inputs = {...}` in its `run()`.
//!
//! Each value that is a literal is a default; the templates' `str(datetime.now().year)` is
//! evaluated when the crew is loaded; any other computed value is left out (so the input must be
//! given at kickoff) with a warning naming the expression.

use std::collections::BTreeMap;

use super::python::literal::{computed, current_year, to_json};
use super::python::syntax::{Assignment, Expr};
use super::python::SourceFile;
use crate::crew::diagnostic::{Diagnostic, Findings};

/// Default inputs and where each came from (`<file>:<line>`).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct MainInputs {
    pub values: BTreeMap<String, serde_json::Value>,
    pub sources: BTreeMap<String, String>,
}

/// The inputs of the first `main.py` (in path order) whose `run()` assigns `inputs = {...}`.
pub(crate) fn default_inputs(files: &[SourceFile], findings: &mut Findings) -> MainInputs {
    let mut out = MainInputs::default();
    let found = files
        .iter()
        .filter(|f| f.path.file_name().is_some_and(|n| n == "main.py"))
        .find_map(|f| f.parsed.assignments.iter().find(|a| a.target == "inputs" && a.function.as_deref() == Some("run")).map(|a| (f, a)));
    let Some((file, Assignment { value, line, .. })) = found else { return out };
    let Expr::Dict(pairs) = value else {
        findings
            .warn(Diagnostic::new(&file.shown, "`inputs` in run() is not a dict literal; its inputs are not read").at_line(Some(*line)));
        return out;
    };
    let year = current_year();
    for (key, value) in pairs {
        let Expr::Str(name) = key else {
            findings.warn(Diagnostic::new(&file.shown, "an input whose name is not a literal text is not read").at_line(Some(*line)));
            continue;
        };
        let source = format!("{}:{line}", file.shown);
        match to_json(value).or_else(|| computed(value, year)) {
            Some(v) => {
                out.values.insert(name.clone(), v);
                out.sources.insert(name.clone(), source);
            }
            None => findings.warn(
                Diagnostic::new(
                    &file.shown,
                    format!("input `{name}` is computed in Python (`{}`); it has no default and must be given at kickoff", shown(value)),
                )
                .at_line(Some(*line))
                .on_field(format!("inputs.{name}")),
            ),
        }
    }
    out
}

fn shown(expr: &Expr) -> String {
    match expr {
        Expr::Other(t) | Expr::Name(t) => t.clone(),
        Expr::Call(c) => format!("{}(…)", c.func),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::load::python::syntax::parse;

    #[test]
    fn literal_and_computed_defaults() {
        let text = "def run():\n    inputs = {\n        'topic': 'AI LLMs',\n        'current_year': str(datetime.now().year),\n        'n': 3,\n        'when': time.time(),\n    }\n";
        let files = [SourceFile { shown: "main.py".into(), path: "/p/main.py".into(), parsed: parse(text).unwrap() }];
        let mut findings = Findings::default();
        let inputs = default_inputs(&files, &mut findings);
        assert_eq!(inputs.values["topic"], "AI LLMs");
        assert_eq!(inputs.values["n"], 3);
        assert_eq!(inputs.values["current_year"], current_year().to_string());
        assert_eq!(inputs.sources["topic"], "main.py:2");
        assert!(!inputs.values.contains_key("when"));
        let warnings = findings.into_result().unwrap();
        assert!(warnings[0].message.contains("`when` is computed in Python (`time.time(…)`)"), "{warnings:?}");
    }
}
