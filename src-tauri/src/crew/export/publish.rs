//! Writing a whole project or nothing: the files go into a hidden temporary folder beside the target,
//! which is then renamed to the target (an empty target folder is replaced). Any failure removes
//! the temporary folder; a user's files are never overwritten.

use std::io;
use std::path::{Path, PathBuf};

use super::ExportError;

/// Checks that `dir` is missing or an empty folder.
pub fn check_target(dir: &Path) -> Result<(), ExportError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(ExportError::NotEmpty { dir: dir.to_path_buf() }),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(ExportError::NotEmpty { dir: dir.to_path_buf() }),
        Err(source) => Err(ExportError::Io { path: dir.to_path_buf(), source }),
    }
}

/// Writes `files` (paths relative to `dir`, and their text) so that `dir` holds exactly them, or,
/// on any error, is left as it was (missing or empty). Parent folders of `dir` are created.
pub fn publish(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), ExportError> {
    check_target(dir)?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    let staging = staging_dir(parent, dir);
    std::fs::create_dir(&staging).map_err(io_err(&staging))?;
    let result = write_all(&staging, files).and_then(|()| {
        std::fs::rename(&staging, dir).map_err(|source| {
            // Someone created files in `dir` since the check.
            // (ENOTEMPTY, EEXIST, ENOTDIR on Unix; their kinds are portable.)
            use std::io::ErrorKind::{AlreadyExists, DirectoryNotEmpty, NotADirectory};
            if matches!(source.kind(), DirectoryNotEmpty | AlreadyExists | NotADirectory) {
                ExportError::NotEmpty { dir: dir.to_path_buf() }
            } else {
                ExportError::Io { path: dir.to_path_buf(), source }
            }
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// A new hidden name beside `dir` in `parent`: `.<name>.export-<random>`.
fn staging_dir(parent: &Path, dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".into());
    parent.join(format!(".{name}.export-{:016x}", rand::random::<u64>()))
}

fn write_all(root: &Path, files: &[(PathBuf, String)]) -> Result<(), ExportError> {
    for (rel, text) in files {
        let path = root.join(rel);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|source| ExportError::Io { path: folder.to_path_buf(), source })?;
        }
        std::fs::write(&path, text).map_err(|source| ExportError::Io { path: path.clone(), source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
        list.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())).collect()
    }

    #[test]
    fn writes_into_a_new_or_empty_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("a/b/new");
        publish(&new, &files(&[("x.txt", "x"), ("src/p/y.py", "y")])).unwrap();
        assert_eq!(std::fs::read_to_string(new.join("src/p/y.py")).unwrap(), "y");
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        publish(&empty, &files(&[("x.txt", "x")])).unwrap();
        assert_eq!(std::fs::read_to_string(empty.join("x.txt")).unwrap(), "x");
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no staging folder is left: {names:?}");
    }

    #[test]
    fn never_touches_a_folder_with_files_or_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
        let err = publish(tmp.path(), &files(&[("keep.txt", "theirs")])).unwrap_err();
        assert!(matches!(err, ExportError::NotEmpty { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(tmp.path().join("keep.txt")).unwrap(), "mine");
        let err = publish(&tmp.path().join("keep.txt"), &files(&[("x", "x")])).unwrap_err();
        assert!(matches!(err, ExportError::NotEmpty { .. }), "{err}");
    }

    #[test]
    fn a_failure_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        // The second file needs `a` to be a folder, but the first made it a file.
        let err = publish(&dir, &files(&[("a", "file"), ("a/b.txt", "x")])).unwrap_err();
        assert!(matches!(err, ExportError::Io { .. }), "{err}");
        assert!(!dir.exists());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "the staging folder is removed");
    }
}
