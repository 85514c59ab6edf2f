use std::path::{Path, PathBuf};

use crate::crew::WorkspacePolicy;

/// Where Crew Runner keeps its database and log files.
///
/// Resolution order: `--data-dir DIR`, then `CREW_RUNNER_DATA_DIR` (both handled by the caller and
/// passed as `explicit`), then the platform data dir from `directories` (on Linux
/// `$XDG_DATA_HOME/crew-runner` or `~/.local/share/crew-runner`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPaths {
    pub data_dir: PathBuf,
}

/// The data dir could not be determined or created.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// No home directory to derive the platform data dir from; pass `--data-dir`.
    #[error("cannot determine a data directory (no home directory); pass --data-dir DIR or set CREW_RUNNER_DATA_DIR")]
    NoHome,
    /// The path exists but is a file (or something else that is not a directory).
    #[error("the data directory {path} exists but is not a directory; pass another --data-dir")]
    NotADirectory { path: PathBuf },
    /// The directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
}

impl AppPaths {
    /// Resolves (and creates) the data dir.
    pub fn resolve(explicit: Option<&Path>) -> Result<AppPaths, PathsError> {
        let data_dir = match explicit {
            Some(p) => p.to_path_buf(),
            None => directories::ProjectDirs::from("dev", "crew-runner", "crew-runner").ok_or(PathsError::NoHome)?.data_dir().to_path_buf(),
        };
        if data_dir.exists() && !data_dir.is_dir() {
            return Err(PathsError::NotADirectory { path: data_dir });
        }
        std::fs::create_dir_all(&data_dir).map_err(|source| PathsError::Create { path: data_dir.clone(), source })?;
        Ok(AppPaths { data_dir })
    }

    /// The SQLite database: `<data dir>/crew-runner.db`.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("crew-runner.db")
    }

    /// The tracing log files: `<data dir>/logs/`.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// Endpoint credentials taken out of stored `--api-base` URLs: `<data dir>/secrets/` (see
    /// [`endpoint_secrets`](crate::llm::endpoint_secrets)).
    pub fn secrets_dir(&self) -> PathBuf {
        crate::llm::endpoint_secrets::secrets_dir(&self.data_dir)
    }

    /// Which Pythons import CrewAI, as probed (see `engine::crewai::python`): in the user's cache
    /// folder (`~/.cache/crew-runner/python-envs.json` on Linux), shared by every data dir (the
    /// answer is the interpreter's, and a probe imports CrewAI: seconds); `<data dir>/python-envs.json`
    /// when there is no home folder.
    pub fn python_cache(&self) -> PathBuf {
        directories::ProjectDirs::from("dev", "crew-runner", "crew-runner")
            .map(|d| d.cache_dir().join("python-envs.json"))
            .unwrap_or_else(|| self.data_dir.join("python-envs.json"))
    }

    /// The folder crews may keep their workspaces in besides their own folder:
    /// `<data dir>/workspaces/` (not created here).
    pub fn workspaces(&self) -> PathBuf {
        self.data_dir.join("workspaces")
    }

    /// Where a crew's workspace may be: its own folder, [`workspaces`](Self::workspaces), and the
    /// folders the user allowed (`--allow-workspace`).
    pub fn workspace_policy(&self, allowed: &[PathBuf]) -> WorkspacePolicy {
        WorkspacePolicy::allowing(std::iter::once(self.workspaces()).chain(allowed.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_is_created_and_used() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let paths = AppPaths::resolve(Some(&dir)).unwrap();
        assert!(dir.is_dir());
        assert_eq!(paths.database(), dir.join("crew-runner.db"));
    }

    #[test]
    fn a_file_in_the_way_is_not_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(AppPaths::resolve(Some(&file)), Err(PathsError::NotADirectory { path }) if path == file));
        assert!(matches!(AppPaths::resolve(Some(&file.join("below"))), Err(PathsError::Create { .. })));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }
}
