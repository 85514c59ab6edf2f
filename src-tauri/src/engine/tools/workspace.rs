//! The crew's workspace: the one folder file tools and `output_file` may touch.
//!
//! Every path is relative to the workspace root. A path is refused when it is absolute, when its
//! `..` components climb above the root, or when it resolves (through symlinks) outside the root.
//! Files are opened with `O_NOFOLLOW` on the final component (unix), and the opened file is then
//! re-verified by device and inode against its canonical path inside the root, so a symlink swapped
//! in between the check and the open is detected (best effort: a write that raced is refused before
//! any byte is written or truncated).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::path::{Component, Path, PathBuf};

/// Why a workspace operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The path is absolute; only paths relative to the workspace are accepted.
    #[error("`{0}` is absolute; use a path relative to the workspace")]
    Absolute(String),
    /// The path (lexically, or through a symlink) leads outside the workspace.
    #[error("`{0}` is outside the workspace")]
    Escapes(String),
    /// The path names no file or folder.
    #[error("`{0}` does not exist")]
    NotFound(String),
    /// The file exists and overwriting was not allowed.
    #[error("`{0}` already exists (pass overwrite: true to replace it)")]
    Exists(String),
    /// A path component that must be a folder is something else.
    #[error("`{0}` is not a folder")]
    NotADirectory(String),
    /// The path is empty or names the workspace itself where a file is needed.
    #[error("`{0}` is not a file path")]
    NotAFile(String),
    /// The file is not UTF-8 text.
    #[error("`{0}` is not UTF-8 text")]
    NotText(String),
    /// The operating system refused (permissions, disk full, …).
    #[error("`{path}`: {source}")]
    Io { path: String, source: std::io::Error },
}

impl WorkspaceError {
    fn io(path: &str, source: std::io::Error) -> Self {
        match source.kind() {
            IoErrorKind::NotFound => WorkspaceError::NotFound(path.to_string()),
            IoErrorKind::AlreadyExists => WorkspaceError::Exists(path.to_string()),
            _ if is_symlink_loop(&source) => WorkspaceError::Escapes(path.to_string()),
            _ => WorkspaceError::Io { path: path.to_string(), source },
        }
    }
}

/// `O_NOFOLLOW` on a symlink fails with `ELOOP`.
fn is_symlink_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// A folder that file operations are confined to.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Canonical (symlink-free, absolute) root.
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

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads a UTF-8 file.
    pub fn read(&self, path: &str) -> Result<String, WorkspaceError> {
        let rel = lexical(path)?;
        if rel.as_os_str().is_empty() {
            return Err(WorkspaceError::NotAFile(path.to_string()));
        }
        let full = self.root.join(&rel);
        if let Some(parent) = full.parent() {
            self.check_inside(parent, path)?;
        }
        let mut file = no_follow(OpenOptions::new().read(true)).open(&full).map_err(|e| WorkspaceError::io(path, e))?;
        self.verify_opened(&file, &full, path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| WorkspaceError::io(path, e))?;
        String::from_utf8(bytes).map_err(|_| WorkspaceError::NotText(path.to_string()))
    }

    /// Writes `content` to a file, creating missing folders; an existing file is replaced only when
    /// `overwrite` is set. Returns the number of bytes written.
    pub fn write(&self, path: &str, content: &str, overwrite: bool) -> Result<usize, WorkspaceError> {
        let (full, _) = self.prepare_file(path)?;
        let mut options = OpenOptions::new();
        options.write(true);
        if overwrite {
            options.create(true);
        } else {
            options.create_new(true);
        }
        let mut file = no_follow(&mut options).open(&full).map_err(|e| WorkspaceError::io(path, e))?;
        self.verify_opened(&file, &full, path)?;
        file.set_len(0).map_err(|e| WorkspaceError::io(path, e))?;
        file.write_all(content.as_bytes()).map_err(|e| WorkspaceError::io(path, e))?;
        Ok(content.len())
    }

    /// Replaces a file's content atomically: writes a temporary file in the same folder, syncs it,
    /// then renames it over `path` (readers see the old or the new content, never a mix).
    pub fn write_atomic(&self, path: &str, content: &str) -> Result<PathBuf, WorkspaceError> {
        let (full, parent) = self.prepare_file(path)?;
        let name = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (tmp, mut file) = create_temp(&parent, &name).map_err(|e| WorkspaceError::io(path, e))?;
        let written = (|| {
            self.verify_opened(&file, &tmp, path)?;
            file.write_all(content.as_bytes()).map_err(|e| WorkspaceError::io(path, e))?;
            file.sync_all().map_err(|e| WorkspaceError::io(path, e))?;
            self.check_inside(&parent, path)?;
            std::fs::rename(&tmp, &full).map_err(|e| WorkspaceError::io(path, e))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map(|()| full)
    }

    /// The entries of a folder (`""` or `"."` = the root), sorted, folders suffixed with `/`.
    pub fn list(&self, path: &str) -> Result<Vec<String>, WorkspaceError> {
        let rel = lexical(path)?;
        let full = self.root.join(&rel);
        let real = self.check_inside(&full, path)?;
        if !real.is_dir() {
            return Err(WorkspaceError::NotADirectory(path.to_string()));
        }
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(|e| WorkspaceError::io(path, e))? {
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

    /// Checks a file path, creates its missing folders (each verified inside the root), and returns
    /// the full path and its canonical parent.
    fn prepare_file(&self, path: &str) -> Result<(PathBuf, PathBuf), WorkspaceError> {
        let rel = lexical(path)?;
        let name = rel.file_name().ok_or_else(|| WorkspaceError::NotAFile(path.to_string()))?.to_owned();
        let mut dir = self.root.clone();
        if let Some(parent) = rel.parent() {
            for part in parent.components() {
                dir.push(part);
                match std::fs::symlink_metadata(&dir) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        let real = self.check_inside(&dir, path)?;
                        if !real.is_dir() {
                            return Err(WorkspaceError::NotADirectory(path.to_string()));
                        }
                    }
                    Ok(meta) if meta.is_dir() => {}
                    Ok(_) => return Err(WorkspaceError::NotADirectory(path.to_string())),
                    Err(e) if e.kind() == IoErrorKind::NotFound => {
                        match std::fs::create_dir(&dir) {
                            Ok(()) => {}
                            Err(e) if e.kind() == IoErrorKind::AlreadyExists => {}
                            Err(e) => return Err(WorkspaceError::io(path, e)),
                        }
                    }
                    Err(e) => return Err(WorkspaceError::io(path, e)),
                }
            }
        }
        let parent = self.check_inside(&dir, path)?;
        Ok((parent.join(&name), parent))
    }

    /// Canonicalizes `full` and fails unless it is the root or inside it.
    fn check_inside(&self, full: &Path, shown: &str) -> Result<PathBuf, WorkspaceError> {
        let real = std::fs::canonicalize(full).map_err(|e| WorkspaceError::io(shown, e))?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(WorkspaceError::Escapes(shown.to_string()))
        }
    }

    /// Fails unless the opened `file` is the file that `full` names now, and that is inside the root.
    fn verify_opened(&self, file: &File, full: &Path, shown: &str) -> Result<(), WorkspaceError> {
        let real = self.check_inside(full, shown)?;
        let opened = file.metadata().map_err(|e| WorkspaceError::io(shown, e))?;
        if !opened.is_file() {
            return Err(WorkspaceError::NotAFile(shown.to_string()));
        }
        let named = std::fs::metadata(&real).map_err(|e| WorkspaceError::io(shown, e))?;
        if same_file(&opened, &named) {
            Ok(())
        } else {
            Err(WorkspaceError::Escapes(shown.to_string()))
        }
    }
}

/// The path with `.` removed and `..` applied, refusing absolute paths and climbs above the root.
fn lexical(path: &str) -> Result<PathBuf, WorkspaceError> {
    let mut out = PathBuf::new();
    for part in Path::new(path.trim()).components() {
        match part {
            Component::Prefix(_) | Component::RootDir => return Err(WorkspaceError::Absolute(path.to_string())),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(WorkspaceError::Escapes(path.to_string()));
                }
            }
            Component::Normal(p) => out.push(p),
        }
    }
    Ok(out)
}

/// Options that refuse to follow a symlink in the final component (unix).
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW)
    }
    #[cfg(not(unix))]
    {
        options
    }
}

/// Creates a fresh temporary file next to the target.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        match no_follow(OpenOptions::new().write(true).create_new(true)).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == IoErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, Workspace) {
        let ws_dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
        let ws = Workspace::open(ws_dir.path()).unwrap();
        (ws_dir, outside, ws)
    }

    #[test]
    fn writes_reads_and_lists_inside() {
        let (_d, _o, ws) = setup();
        ws.write("notes/a.md", "hello", false).unwrap();
        assert_eq!(ws.read("notes/a.md").unwrap(), "hello");
        assert_eq!(ws.read("./notes/../notes/a.md").unwrap(), "hello");
        assert_eq!(ws.list("").unwrap(), vec!["notes/"]);
        assert_eq!(ws.list("notes").unwrap(), vec!["a.md"]);
        assert!(matches!(ws.write("notes/a.md", "again", false), Err(WorkspaceError::Exists(_))));
        ws.write("notes/a.md", "again", true).unwrap();
        assert_eq!(ws.read("notes/a.md").unwrap(), "again");
    }

    #[test]
    fn refuses_parent_escapes() {
        let (_d, _o, ws) = setup();
        assert!(matches!(ws.read("../secret.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.write("a/../../x.txt", "x", true), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.list(".."), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.write_atomic("../x.txt", "x"), Err(WorkspaceError::Escapes(_))));
    }

    #[test]
    fn refuses_absolute_paths() {
        let (_d, o, ws) = setup();
        let abs = o.path().join("secret.txt").display().to_string();
        assert!(matches!(ws.read(&abs), Err(WorkspaceError::Absolute(_))));
        assert!(matches!(ws.write(&abs, "x", true), Err(WorkspaceError::Absolute(_))));
        assert!(matches!(ws.list("/"), Err(WorkspaceError::Absolute(_))));
        assert_eq!(std::fs::read_to_string(o.path().join("secret.txt")).unwrap(), "top secret");
    }

    #[test]
    fn refuses_symlinked_file_to_outside() {
        let (d, o, ws) = setup();
        symlink(o.path().join("secret.txt"), d.path().join("link.txt")).unwrap();
        assert!(matches!(ws.read("link.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.write("link.txt", "pwned", true), Err(WorkspaceError::Escapes(_))));
        assert_eq!(std::fs::read_to_string(o.path().join("secret.txt")).unwrap(), "top secret");
    }

    #[test]
    fn refuses_symlinked_dir_to_outside() {
        let (d, o, ws) = setup();
        symlink(o.path(), d.path().join("out")).unwrap();
        assert!(matches!(ws.read("out/secret.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.write("out/new.txt", "x", false), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.write("out/deeper/new.txt", "x", false), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.write_atomic("out/new.txt", "x"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.list("out"), Err(WorkspaceError::Escapes(_))));
        assert!(!o.path().join("new.txt").exists());
        assert!(!o.path().join("deeper").exists());
    }

    #[test]
    fn symlinks_inside_the_workspace_are_fine() {
        let (d, _o, ws) = setup();
        ws.write("real/a.txt", "inside", false).unwrap();
        symlink(d.path().join("real"), d.path().join("alias")).unwrap();
        assert_eq!(ws.read("alias/a.txt").unwrap(), "inside");
    }

    #[test]
    fn opened_file_swapped_after_check_is_refused() {
        // Simulates the race: the file handle was opened on an outside file while the path that
        // was checked names a file inside. verify_opened must notice they differ.
        let (d, o, ws) = setup();
        std::fs::write(d.path().join("inside.txt"), "inside").unwrap();
        let outside = File::open(o.path().join("secret.txt")).unwrap();
        let checked = ws.root().join("inside.txt");
        assert!(matches!(ws.verify_opened(&outside, &checked, "inside.txt"), Err(WorkspaceError::Escapes(_))));
        let inside = File::open(&checked).unwrap();
        ws.verify_opened(&inside, &checked, "inside.txt").unwrap();
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let (d, _o, ws) = setup();
        ws.write_atomic("out/report.md", "v1").unwrap();
        let full = ws.write_atomic("out/report.md", "v2").unwrap();
        assert_eq!(std::fs::read_to_string(&full).unwrap(), "v2");
        let names: Vec<_> = std::fs::read_dir(d.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.md")]);
    }

    #[test]
    fn atomic_write_replaces_a_symlink_instead_of_following_it() {
        let (d, o, ws) = setup();
        symlink(o.path().join("secret.txt"), d.path().join("report.md")).unwrap();
        ws.write_atomic("report.md", "mine").unwrap();
        assert_eq!(std::fs::read_to_string(o.path().join("secret.txt")).unwrap(), "top secret");
        assert!(!std::fs::symlink_metadata(d.path().join("report.md")).unwrap().file_type().is_symlink());
    }
}
