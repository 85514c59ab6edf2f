//! Reading and writing the configuration's JSON files: owner-only (mode 0600 on Unix), written
//! atomically (a temp file renamed over the old one), their folder created when needed.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Reading or writing a configuration file failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file exists but cannot be read or parsed.
    #[error("cannot read {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    /// The file (or its folder) cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// The JSON in `path`, `None` when the file does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, FileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| FileError::Read { path: path.to_path_buf(), reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::Read { path: path.to_path_buf(), reason: e.to_string() }),
    }
}

/// Writes `value` as pretty JSON to `path` (mode 0600, atomically), creating its folder.
pub fn write_private_json<T: Serialize>(path: &Path, value: &T) -> Result<(), FileError> {
    let write_err = |source| FileError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let text = serde_json::to_string_pretty(value).expect("configuration serialises");
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write_private(&tmp, text.as_bytes()).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(write_err)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
