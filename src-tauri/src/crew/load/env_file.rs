//! A CrewAI project's `.env`: the loader records its path and the names it sets (never the
//! values; whoever runs the crew reads the values again, see `LlmEnv::with_env_file`).

use std::path::{Path, PathBuf};

use crate::crew::diagnostic::{Diagnostic, Findings};

/// The project's `.env` and the variable names it sets; `None` when the project has none.
pub(crate) fn read_names(dir: &Path, findings: &mut Findings) -> Option<(PathBuf, Vec<String>)> {
    let path = dir.join(".env");
    if !path.is_file() {
        return None;
    }
    let shown = path.display().to_string();
    let iter = match dotenvy::from_path_iter(&path) {
        Ok(iter) => iter,
        Err(e) => {
            findings.warn(Diagnostic::new(shown, format!("cannot be read: {e}; not used")));
            return None;
        }
    };
    let mut names = Vec::new();
    for item in iter {
        match item {
            Ok((name, _)) => {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Err(e) => {
                findings.warn(Diagnostic::new(shown, format!("cannot be read: {e}; not used")));
                return None;
            }
        }
    }
    Some((path, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "MODEL=gpt-4o-mini\n# c\nOPENAI_API_KEY='sk-secret'\n").unwrap();
        let mut findings = Findings::default();
        let (path, names) = read_names(dir.path(), &mut findings).unwrap();
        assert_eq!(path, dir.path().join(".env"));
        assert_eq!(names, ["MODEL", "OPENAI_API_KEY"]);
        assert!(read_names(&dir.path().join("none"), &mut findings).is_none());
    }
}
