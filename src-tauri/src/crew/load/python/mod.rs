//! A CrewAI project's Python files, parsed (never run): what `crew.py`, `main.py` and any
//! script-style module say about the crew.
//!
//! - [`syntax`]: one file's decorated methods, assignments and classes (tree-sitter).
//! - [`literal`]: literal values (and the templates' computed year).
//! - [`pydantic`]: Pydantic models as JSON Schemas.
//! - [`llm_call`]: an `llm=` argument (a model string, `LLM(…)`, a provider class).

pub(crate) mod literal;
pub(crate) mod llm_call;
pub(crate) mod pydantic;
pub(crate) mod syntax;

use std::path::{Path, PathBuf};

use crate::crew::diagnostic::{Diagnostic, Findings};
use crate::crew::source::{read_text, MAX_FILE_BYTES};
use syntax::PyFile;

/// Folders never searched for Python files (virtual environments, caches, tests).
const SKIPPED_DIRS: &[&str] = &[".venv", "venv", "env", "__pycache__", "node_modules", "tests", "test", "build", "dist", "site-packages"];

/// Most Python files read from one project (a folder with more is not a crew project's source).
const MAX_FILES: usize = 200;

/// Folders deeper than this under the project are not searched.
const MAX_DEPTH: usize = 4;

/// One parsed Python file of the project.
pub(crate) struct SourceFile {
    /// The path as shown in diagnostics.
    pub shown: String,
    pub path: PathBuf,
    pub parsed: PyFile,
}

/// Every `.py` file under `dir` (skipping [`SKIPPED_DIRS`] and hidden folders), parsed, in path
/// order. A file that cannot be read or parsed is left out with a warning; syntax errors inside a
/// file are warned (the rest of the file is still read).
pub(crate) fn read_project(dir: &Path, findings: &mut Findings) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect(dir, 0, &mut paths);
    paths.sort();
    if paths.len() > MAX_FILES {
        findings
            .warn(Diagnostic::new(dir.display().to_string(), format!("{} Python files; only the first {MAX_FILES} are read", paths.len())));
        paths.truncate(MAX_FILES);
    }
    let mut out = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let text = match read_text(&path, MAX_FILE_BYTES) {
            Ok(t) => t,
            Err(e) => {
                findings.warn(Diagnostic::new(&shown, format!("{}; not read", e.message)).at_line(e.line));
                continue;
            }
        };
        match syntax::parse(&text) {
            Ok(parsed) => {
                if let Some(line) = parsed.error_lines.first() {
                    findings.warn(Diagnostic::new(&shown, "Python syntax error; the code around it is not read").at_line(Some(*line)));
                }
                out.push(SourceFile { shown, path, parsed });
            }
            Err(e) => findings.warn(Diagnostic::new(&shown, format!("{e}; not read"))),
        }
    }
    out
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if depth < MAX_DEPTH && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_str()) {
                collect(&entry.path(), depth + 1, out);
            }
        } else if kind.is_file() && name.ends_with(".py") {
            out.push(entry.path());
        }
        if out.len() > MAX_FILES * 2 {
            return;
        }
    }
}
