//! Not Unix: the workspace with `std::fs` (no `openat`). The rules of the Unix implementation hold
//! (paths relative to the root, `..` applied to the text and never above the root, only regular
//! files read or written, reads capped at [`MAX_READ_BYTES`]), with two differences: a symbolic
//! link anywhere on a path is refused ([`WorkspaceError::Io`], `Unsupported`) instead of being
//! resolved inside the root, and each component is checked before it is used, so something
//! swapped in between the check and the use is not caught. Compiled only where `cfg(unix)` is
//! false (not built or tested here: Linux is the tested platform).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::{lexical, read_text, WorkspaceError, MAX_READ_BYTES};

/// A folder that file operations are confined to.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Canonical (absolute) root.
    root: PathBuf,
}

impl Workspace {
    /// The workspace at `root`, created when missing.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, WorkspaceError> {
        let shown = root.as_ref().display().to_string();
        std::fs::create_dir_all(root.as_ref()).map_err(|e| WorkspaceError::io(&shown, e))?;
        let root = std::fs::canonicalize(root.as_ref()).map_err(|e| WorkspaceError::io(&shown, e))?;
        Ok(Workspace { root })
    }

    /// The workspace at exactly `root` (missing folders are created); a symlink or a file on its
    /// path is [`WorkspaceError::Moved`].
    pub fn open_exact(root: impl AsRef<Path>) -> Result<Self, WorkspaceError> {
        let root = root.as_ref();
        let shown = root.display().to_string();
        std::fs::create_dir_all(root).map_err(|e| WorkspaceError::io(&shown, e))?;
        for folder in root.ancestors() {
            if folder.parent().is_none() {
                break; // the drive's or file system's root
            }
            let meta = std::fs::symlink_metadata(folder).map_err(|e| WorkspaceError::io(&shown, e))?;
            if meta.file_type().is_symlink() || !meta.is_dir() {
                return Err(WorkspaceError::Moved(shown));
            }
        }
        Ok(Workspace { root: root.to_path_buf() })
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads a UTF-8 file (at most [`MAX_READ_BYTES`]).
    pub fn read(&self, path: &str) -> Result<String, WorkspaceError> {
        let full = self.file_path(path, false)?;
        let meta = std::fs::symlink_metadata(&full).map_err(|e| not_found_or(path, e))?;
        if !meta.is_file() {
            return Err(WorkspaceError::NotAFile(path.to_string()));
        }
        let file = File::open(&full).map_err(|e| not_found_or(path, e))?;
        read_text(file, path)
    }

    /// Writes `content` to a file, creating missing folders; an existing file is replaced only when
    /// `overwrite` is set. Returns the number of bytes written.
    pub fn write(&self, path: &str, content: &str, overwrite: bool) -> Result<usize, WorkspaceError> {
        let full = self.file_path(path, true)?;
        let mut options = OpenOptions::new();
        options.write(true);
        if overwrite {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        let mut file = options.open(&full).map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists => WorkspaceError::Exists(path.to_string()),
            _ => WorkspaceError::io(path, e),
        })?;
        file.write_all(content.as_bytes()).map_err(|e| WorkspaceError::io(path, e))?;
        Ok(content.len())
    }

    /// Replaces a file's content atomically: a temporary file in the same folder, synced, then
    /// renamed over `path`. Returns the file's full path.
    pub fn write_atomic(&self, path: &str, content: &str) -> Result<PathBuf, WorkspaceError> {
        let full = self.file_path(path, true)?;
        let name = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = full.with_file_name(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        let written = (|| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            file.write_all(content.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &full)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(WorkspaceError::io(path, e));
        }
        Ok(full)
    }

    /// The entries of a folder (`""` or `"."` = the root), sorted, folders suffixed with `/`.
    pub fn list(&self, path: &str) -> Result<Vec<String>, WorkspaceError> {
        let rel = lexical(path)?;
        let dir = self.folder(&rel, false, path)?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| WorkspaceError::io(path, e))? {
            let entry = entry.map_err(|e| WorkspaceError::io(path, e))?;
            let mut name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                name.push('/');
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    /// The full path of the file `path`: its folders checked (created when `create`), and the
    /// file itself neither a symlink nor a folder when it exists.
    fn file_path(&self, path: &str, create: bool) -> Result<PathBuf, WorkspaceError> {
        let rel = lexical(path)?;
        let name = rel.file_name().ok_or_else(|| WorkspaceError::NotAFile(path.to_string()))?.to_owned();
        let dir = self.folder(rel.parent().unwrap_or(Path::new("")), create, path)?;
        let full = dir.join(name);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => Err(symlink_refused(path)),
            Ok(meta) if meta.is_dir() => Err(WorkspaceError::NotAFile(path.to_string())),
            _ => Ok(full),
        }
    }

    /// The folder `rel` below the root, each component checked to be a folder (not a symlink),
    /// missing ones created when `create`.
    fn folder(&self, rel: &Path, create: bool, shown: &str) -> Result<PathBuf, WorkspaceError> {
        let mut dir = self.root.clone();
        for part in rel.iter() {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(symlink_refused(shown)),
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(WorkspaceError::NotADirectory(shown.to_string())),
                Err(e) if e.kind() == ErrorKind::NotFound && create => match std::fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(WorkspaceError::io(shown, e)),
                },
                Err(e) => return Err(not_found_or(shown, e)),
            }
        }
        Ok(dir)
    }
}

/// [`WorkspaceError::NotFound`] for a missing path, else [`WorkspaceError::Io`].
fn not_found_or(path: &str, e: std::io::Error) -> WorkspaceError {
    if e.kind() == ErrorKind::NotFound {
        WorkspaceError::NotFound(path.to_string())
    } else {
        WorkspaceError::io(path, e)
    }
}

/// A symlink on a path: not followed on this platform.
fn symlink_refused(path: &str) -> WorkspaceError {
    WorkspaceError::io(
        path,
        std::io::Error::new(ErrorKind::Unsupported, "symbolic links in the workspace are not followed on this platform"),
    )
}

/// Run by Unix test builds too (the module is built there for them), so the fallback's rules are
/// checked where it cannot otherwise be built.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_lists_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        assert_eq!(ws.write("a/b/c.txt", "hello", false).unwrap(), 5);
        assert_eq!(ws.read("a/./b/../b/c.txt").unwrap(), "hello");
        assert!(matches!(ws.write("a/b/c.txt", "again", false), Err(WorkspaceError::Exists(_))));
        ws.write("a/b/c.txt", "hi", true).unwrap();
        assert_eq!(ws.read("a/b/c.txt").unwrap(), "hi");
        let full = ws.write_atomic("a/out.md", "# out").unwrap();
        assert_eq!(full, ws.root().join("a/out.md"));
        assert_eq!(ws.read("a/out.md").unwrap(), "# out");
        assert_eq!(ws.list("a").unwrap(), ["b/", "out.md"]);
        assert_eq!(ws.list("").unwrap(), ["a/"]);
    }

    #[test]
    fn refuses_what_the_unix_workspace_refuses() {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        ws.write("f.txt", "x", false).unwrap();
        assert!(matches!(ws.read("../x.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.read("/etc/hostname"), Err(WorkspaceError::Absolute(_))));
        assert!(matches!(ws.read("missing.txt"), Err(WorkspaceError::NotFound(_))));
        assert!(matches!(ws.read("f.txt/below"), Err(WorkspaceError::NotADirectory(_))));
        std::fs::create_dir(ws.root().join("dir")).unwrap();
        assert!(matches!(ws.read("dir"), Err(WorkspaceError::NotAFile(_))));
        assert!(matches!(ws.write("", "x", true), Err(WorkspaceError::NotAFile(_))));
        std::fs::write(ws.root().join("big.txt"), vec![b'a'; MAX_READ_BYTES as usize + 1]).unwrap();
        assert!(matches!(ws.read("big.txt"), Err(WorkspaceError::TooLarge(_))));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_refused_not_followed() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("secret.txt"), "s").unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        std::os::unix::fs::symlink(d.path().join("secret.txt"), ws.root().join("link.txt")).unwrap();
        std::os::unix::fs::symlink(d.path(), ws.root().join("up")).unwrap();
        let unsupported = |r: Result<String, WorkspaceError>| matches!(r, Err(WorkspaceError::Io { source, .. }) if source.kind() == ErrorKind::Unsupported);
        assert!(unsupported(ws.read("link.txt")));
        assert!(unsupported(ws.read("up/secret.txt")));
        assert!(matches!(ws.write("link.txt", "x", true), Err(WorkspaceError::Io { .. })));
        assert_eq!(std::fs::read_to_string(d.path().join("secret.txt")).unwrap(), "s");
        assert!(matches!(Workspace::open_exact(ws.root().join("up/inner")), Err(WorkspaceError::Moved(_))));
    }
}
