use std::path::{Path, PathBuf};

use crate::crew::WorkspacePolicy;

/// Where Crew Runner keeps its database and log files, and its configuration.
///
/// The data dir: `--data-dir DIR`, then `CREW_RUNNER_DATA_DIR` (both handled by the caller and
/// passed as `explicit`), then the platform data dir from `directories` (on Linux
/// `$XDG_DATA_HOME/crew-runner` or `~/.local/share/crew-runner`).
///
/// The config dir: `--config-dir DIR` / `CREW_RUNNER_CONFIG_DIR` ([`with_config_dir`](Self::with_config_dir));
/// else the data dir when that was given explicitly (so an isolated data dir never reads or writes
/// the user's configuration); else the platform config dir (on Linux `$XDG_CONFIG_HOME/crew-runner`
/// or `~/.config/crew-runner`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPaths {
    pub data_dir: PathBuf,
    /// The folder of the configuration (`settings.json`, and `credentials.json` when the API key is
    /// not in the OS credential store). Created when the configuration is first written.
    pub config_dir: PathBuf,
    /// How [`config_dir`](Self::config_dir) was chosen.
    pub config_origin: ConfigOrigin,
}

/// How the config dir was chosen (see [`AppPaths`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `--config-dir` or `CREW_RUNNER_CONFIG_DIR`.
    Explicit,
    /// The explicitly given data dir.
    DataDir,
    /// The platform config dir: the user's own configuration, whose API key goes to the OS
    /// credential store when there is one.
    Platform,
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
    /// Resolves (and creates) the data dir; the config dir is the data dir when `explicit` is given,
    /// else the platform config dir.
    pub fn resolve(explicit: Option<&Path>) -> Result<AppPaths, PathsError> {
        let (data_dir, config_dir, config_origin) = match explicit {
            Some(p) => (p.to_path_buf(), p.to_path_buf(), ConfigOrigin::DataDir),
            None => {
                let dirs = project_dirs().ok_or(PathsError::NoHome)?;
                (dirs.data_dir().to_path_buf(), dirs.config_dir().to_path_buf(), ConfigOrigin::Platform)
            }
        };
        if data_dir.exists() && !data_dir.is_dir() {
            return Err(PathsError::NotADirectory { path: data_dir });
        }
        std::fs::create_dir_all(&data_dir).map_err(|source| PathsError::Create { path: data_dir.clone(), source })?;
        Ok(AppPaths { data_dir, config_dir, config_origin })
    }

    /// `self` with the config dir `dir` when given (`--config-dir`, `CREW_RUNNER_CONFIG_DIR`).
    pub fn with_config_dir(mut self, dir: Option<&Path>) -> AppPaths {
        if let Some(dir) = dir {
            self.config_dir = dir.to_path_buf();
            self.config_origin = ConfigOrigin::Explicit;
        }
        self
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
        project_dirs().map(|d| d.cache_dir().join("python-envs.json")).unwrap_or_else(|| self.data_dir.join("python-envs.json"))
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

/// The platform folders of `dev.crew-runner.crew-runner` (the desktop app's identifier), when there
/// is a home folder.
fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "crew-runner", "crew-runner")
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
        assert_eq!(
            (paths.config_dir.as_path(), paths.config_origin),
            (dir.as_path(), ConfigOrigin::DataDir),
            "an isolated data dir holds its configuration"
        );
        let elsewhere = tmp.path().join("conf");
        let paths = paths.with_config_dir(Some(&elsewhere));
        assert_eq!((paths.config_dir, paths.config_origin), (elsewhere, ConfigOrigin::Explicit));
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
