//! The crew's workspace: the one folder file tools and `output_file` may touch.
//!
//! Every path is relative to the workspace root. `.` and `..` are applied to the text first, and a
//! path is refused when it is absolute or its `..` climb above the root. The rest is walked from a
//! descriptor of the root held open since [`Workspace::open`], one component at a time, each opened
//! with `openat(…, O_NOFOLLOW)` relative to the folder before it (see [`beneath`](super::beneath)).
//! Symlinks are resolved by that walk, never by the kernel, and only while they stay inside the
//! root; the file operation then works on the descriptors the walk opened. So there is no window
//! between a check and a use: a symlink (or a folder) swapped in at any moment either is seen by
//! the walk (and refused when it leads out) or is not on the path used at all.
//!
//! Only regular files are read or written (no FIFOs or devices); reads stop at
//! [`MAX_READ_BYTES`].
//!
//! That is the Unix implementation (`openat`). Elsewhere `workspace_portable.rs` stands in for it
//! with `std::fs` and the same rules, except that a symlink anywhere on a path is refused rather
//! than resolved, and a folder swapped for a symlink between its check and its use is not caught.

#[cfg(unix)]
use std::collections::VecDeque;
#[cfg(unix)]
use std::ffi::OsString;
#[cfg(unix)]
use std::fs::File;
#[cfg(unix)]
use std::io::Write;
#[cfg(unix)]
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
#[cfg(unix)]
use std::sync::Arc;

#[cfg(unix)]
use rustix::fs::{fstat, openat, renameat, statat, unlinkat, AtFlags, Dir, FileType, Mode, OFlags};
#[cfg(unix)]
use rustix::io::Errno;

#[cfg(unix)]
use super::beneath::{Step, Walk};

// Also built by Unix test builds, whose tests of it run here (see its module).
#[cfg(any(not(unix), test))]
#[path = "workspace_portable.rs"]
mod portable;
#[cfg(not(unix))]
pub use portable::Workspace;

/// The largest file `read` returns: 10 MiB.
pub const MAX_READ_BYTES: u64 = 10 * 1024 * 1024;

/// The UTF-8 text of `file` (workspace path `path`), refused when over [`MAX_READ_BYTES`].
fn read_text(file: impl std::io::Read, path: &str) -> Result<String, WorkspaceError> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES + 1).read_to_end(&mut bytes).map_err(|e| WorkspaceError::io(path, e))?;
    if bytes.len() as u64 > MAX_READ_BYTES {
        return Err(WorkspaceError::TooLarge(path.to_string()));
    }
    String::from_utf8(bytes).map_err(|_| WorkspaceError::NotText(path.to_string()))
}

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
    /// The path is empty, names a folder, or names something that is not a regular file.
    #[error("`{0}` is not a file path")]
    NotAFile(String),
    /// The file is not UTF-8 text.
    #[error("`{0}` is not UTF-8 text")]
    NotText(String),
    /// The file is larger than [`MAX_READ_BYTES`].
    #[error("`{0}` is too large to read (the limit is {MAX_READ_BYTES} bytes)")]
    TooLarge(String),
    /// Resolving the path met more symlinks than allowed (a cycle, most likely).
    #[error("`{0}`: too many symbolic links")]
    TooManyLinks(String),
    /// The workspace's own path no longer leads to a folder without symlinks: it was checked (and
    /// stored resolved) when the execution was submitted, and something on it changed since.
    #[error("`{0}` is not the folder that was checked at submission any more (a symbolic link or a file is on its path)")]
    Moved(String),
    /// The operating system refused (permissions, disk full, …).
    #[error("`{path}`: {source}")]
    Io { path: String, source: std::io::Error },
}

impl WorkspaceError {
    fn io(path: &str, source: std::io::Error) -> Self {
        WorkspaceError::Io { path: path.to_string(), source }
    }

    /// A failed `openat` of the final component.
    #[cfg(unix)]
    fn open(path: &str, e: Errno) -> Self {
        match e {
            Errno::NOENT => WorkspaceError::NotFound(path.to_string()),
            Errno::EXIST => WorkspaceError::Exists(path.to_string()),
            Errno::ISDIR | Errno::NXIO => WorkspaceError::NotAFile(path.to_string()),
            Errno::NOTDIR => WorkspaceError::NotADirectory(path.to_string()),
            other => WorkspaceError::io(path, other.into()),
        }
    }

    #[cfg(unix)]
    fn step(path: &str, step: Step) -> Self {
        match step {
            Step::Escapes => WorkspaceError::Escapes(path.to_string()),
            Step::NotADirectory => WorkspaceError::NotADirectory(path.to_string()),
            Step::NotFound => WorkspaceError::NotFound(path.to_string()),
            Step::TooManyLinks => WorkspaceError::TooManyLinks(path.to_string()),
            Step::Io(e) => WorkspaceError::io(path, e),
        }
    }
}

/// A folder that file operations are confined to.
#[cfg(unix)]
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Canonical (symlink-free, absolute) root, for messages and absolute symlink targets.
    root: PathBuf,
    /// The root folder, opened once: every operation starts from it.
    dir: Arc<OwnedFd>,
}

#[cfg(unix)]
impl Workspace {
    /// The workspace at `root`, created when missing. The root itself may be reached through
    /// symlinks; it is fixed (as an open folder) from here on.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, WorkspaceError> {
        let shown = root.as_ref().display().to_string();
        std::fs::create_dir_all(root.as_ref()).map_err(|e| WorkspaceError::io(&shown, e))?;
        let root = std::fs::canonicalize(root.as_ref()).map_err(|e| WorkspaceError::io(&shown, e))?;
        let dir = openat(rustix::fs::CWD, &root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| WorkspaceError::io(&shown, e.into()))?;
        Ok(Workspace { root, dir: Arc::new(dir) })
    }

    /// The workspace at exactly `root`, an absolute path with no symlink, `.` or `..` in it (as a
    /// crew's spec stores it once its workspace was checked): every component is opened with
    /// `O_NOFOLLOW` from the one before (missing folders are created), so a symlink put on the path
    /// since it was checked is refused ([`WorkspaceError::Moved`]) instead of followed elsewhere.
    pub fn open_exact(root: impl AsRef<Path>) -> Result<Self, WorkspaceError> {
        let root = root.as_ref();
        let shown = root.display().to_string();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut dir = openat(rustix::fs::CWD, "/", flags, Mode::empty()).map_err(|e| WorkspaceError::io(&shown, e.into()))?;
        for component in root.components() {
            let name = match component {
                Component::RootDir => continue,
                Component::Normal(name) => name,
                _ => return Err(WorkspaceError::Moved(shown)),
            };
            let opened = match openat(&dir, name, flags, Mode::empty()) {
                Err(Errno::NOENT) => match rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(0o777)) {
                    Ok(()) | Err(Errno::EXIST) => openat(&dir, name, flags, Mode::empty()),
                    Err(e) => Err(e),
                },
                other => other,
            };
            dir = match opened {
                Ok(next) => next,
                Err(Errno::LOOP | Errno::NOTDIR) => return Err(WorkspaceError::Moved(shown)),
                Err(e) => return Err(WorkspaceError::io(&shown, e.into())),
            };
        }
        Ok(Workspace { root: root.to_path_buf(), dir: Arc::new(dir) })
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads a UTF-8 file (at most [`MAX_READ_BYTES`]).
    pub fn read(&self, path: &str) -> Result<String, WorkspaceError> {
        let (mut walk, name) = self.walk_to_parent(path, false)?;
        let file = open_file(&mut walk, name, OFlags::RDONLY, path)?;
        read_text(file, path)
    }

    /// Writes `content` to a file, creating missing folders; an existing file is replaced only when
    /// `overwrite` is set. Returns the number of bytes written.
    pub fn write(&self, path: &str, content: &str, overwrite: bool) -> Result<usize, WorkspaceError> {
        let (mut walk, name) = self.walk_to_parent(path, true)?;
        let mut flags = OFlags::WRONLY | OFlags::CREATE;
        if !overwrite {
            flags |= OFlags::EXCL;
        }
        let mut file = open_file(&mut walk, name, flags, path)?;
        file.set_len(0).map_err(|e| WorkspaceError::io(path, e))?;
        file.write_all(content.as_bytes()).map_err(|e| WorkspaceError::io(path, e))?;
        Ok(content.len())
    }

    /// Replaces a file's content atomically: writes a temporary file in the same folder, syncs it,
    /// then renames it over `path` (readers see the old or the new content, never a mix). A symlink
    /// at `path` is replaced, not followed. Returns the file's full path.
    pub fn write_atomic(&self, path: &str, content: &str) -> Result<PathBuf, WorkspaceError> {
        let (walk, name) = self.walk_to_parent(path, true)?;
        let dir = walk.dir();
        let (tmp, mut file) = create_temp(dir, &name).map_err(|e| WorkspaceError::io(path, e.into()))?;
        let written = (|| {
            file.write_all(content.as_bytes()).map_err(|e| WorkspaceError::io(path, e))?;
            file.sync_all().map_err(|e| WorkspaceError::io(path, e))?;
            renameat(dir, &tmp, dir, &name).map_err(|e| WorkspaceError::open(path, e))
        })();
        if written.is_err() {
            let _ = unlinkat(dir, &tmp, AtFlags::empty());
        }
        written.map(|()| self.root.join(walk.relative()).join(&name))
    }

    /// The entries of a folder (`""` or `"."` = the root), sorted, folders suffixed with `/`.
    pub fn list(&self, path: &str) -> Result<Vec<String>, WorkspaceError> {
        let rel = lexical(path)?;
        let mut walk = Walk::new(self.dir.as_fd(), &self.root);
        walk.enter_all(parts(&rel), false).map_err(|s| WorkspaceError::step(path, s))?;
        let dir = walk.dir();
        let mut names = Vec::new();
        for entry in Dir::read_from(dir).map_err(|e| WorkspaceError::io(path, e.into()))? {
            let entry = entry.map_err(|e| WorkspaceError::io(path, e.into()))?;
            let raw = entry.file_name().to_bytes();
            if raw == b"." || raw == b".." {
                continue;
            }
            let kind = match entry.file_type() {
                FileType::Unknown => statat(dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| FileType::from_raw_mode(st.st_mode))
                    .unwrap_or(FileType::Unknown),
                known => known,
            };
            let mut name = String::from_utf8_lossy(raw).into_owned();
            if kind == FileType::Directory {
                name.push('/');
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    /// Walks to the folder that holds `path`'s last component (creating folders when `create`)
    /// and returns the walk standing there and that component.
    fn walk_to_parent(&self, path: &str, create: bool) -> Result<(Walk<'_>, OsString), WorkspaceError> {
        let rel = lexical(path)?;
        let name = rel.file_name().ok_or_else(|| WorkspaceError::NotAFile(path.to_string()))?.to_owned();
        let mut walk = Walk::new(self.dir.as_fd(), &self.root);
        let parent = rel.parent().map(parts).unwrap_or_default();
        walk.enter_all(parent, create).map_err(|s| WorkspaceError::step(path, s))?;
        Ok((walk, name))
    }
}

/// Opens the regular file `name` in the walk's folder with `flags` (plus `O_NOFOLLOW`,
/// `O_NONBLOCK` so a FIFO cannot block, `O_CLOEXEC`). A symlink there is resolved by the walk
/// (refused when it leads out); anything but a regular file is refused.
#[cfg(unix)]
fn open_file(walk: &mut Walk<'_>, name: OsString, flags: OFlags, shown: &str) -> Result<File, WorkspaceError> {
    let flags = flags | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let mut name = name;
    loop {
        if name == "." || name == ".." {
            return Err(WorkspaceError::NotAFile(shown.to_string()));
        }
        match openat(walk.dir(), &name, flags, Mode::from_bits_truncate(0o666)) {
            Ok(fd) => {
                let stat = fstat(&fd).map_err(|e| WorkspaceError::io(shown, e.into()))?;
                if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
                    return Err(WorkspaceError::NotAFile(shown.to_string()));
                }
                return Ok(File::from(fd));
            }
            Err(Errno::LOOP) => {
                let target = walk.link_target(&name).map_err(|s| WorkspaceError::step(shown, s))?;
                let mut target: VecDeque<OsString> = target.ok_or_else(|| WorkspaceError::NotAFile(shown.to_string()))?.into();
                let last = target.pop_back().ok_or_else(|| WorkspaceError::NotAFile(shown.to_string()))?;
                walk.enter_all(target, false).map_err(|s| WorkspaceError::step(shown, s))?;
                name = last;
            }
            Err(e) => return Err(WorkspaceError::open(shown, e)),
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

/// The components of a lexically clean relative path.
#[cfg(unix)]
fn parts(rel: &Path) -> VecDeque<OsString> {
    rel.iter().map(|p| p.to_owned()).collect()
}

/// Creates a fresh temporary file in `dir`, next to `name`.
#[cfg(unix)]
fn create_temp(dir: std::os::fd::BorrowedFd<'_>, name: &std::ffi::OsStr) -> Result<(OsString, File), Errno> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut last = Errno::EXIST;
    for _ in 0..16 {
        let mut tmp = OsString::from(".");
        tmp.push(name);
        tmp.push(format!(".{:016x}.tmp", rand::random::<u64>()));
        match openat(dir, &tmp, flags, Mode::from_bits_truncate(0o666)) {
            Ok(fd) => return Ok((tmp, File::from(fd))),
            Err(Errno::EXIST) => last = Errno::EXIST,
            Err(e) => return Err(e),
        }
    }
    Err(last)
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
    fn open_exact_creates_the_folder_and_refuses_a_symlink_on_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let ws = Workspace::open_exact(base.join("a/b")).unwrap();
        ws.write("x.txt", "x", false).unwrap();
        assert_eq!(std::fs::read_to_string(base.join("a/b/x.txt")).unwrap(), "x");
        let outside = tempfile::tempdir().unwrap();
        std::fs::rename(base.join("a"), base.join("old")).unwrap();
        symlink(outside.path(), base.join("a")).unwrap();
        assert!(matches!(Workspace::open_exact(base.join("a/b")), Err(WorkspaceError::Moved(_))));
        assert!(matches!(Workspace::open_exact(base.join("old/../a")), Err(WorkspaceError::Moved(_))));
        std::fs::write(base.join("file"), "").unwrap();
        assert!(matches!(Workspace::open_exact(base.join("file/b")), Err(WorkspaceError::Moved(_))));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing created through the symlink");
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
    fn folder_swapped_for_a_symlink_after_the_walk_is_not_followed() {
        // The race, made deterministic: the walk has entered `sub`; then `sub` is replaced by a
        // symlink to the outside folder. Opening the file uses the folder the walk holds, so it
        // lands in the original folder, never outside.
        let (d, o, ws) = setup();
        ws.write("sub/a.txt", "inside", false).unwrap();
        let (mut walk, name) = ws.walk_to_parent("sub/secret.txt", false).unwrap();
        std::fs::rename(d.path().join("sub"), d.path().join("moved")).unwrap();
        symlink(o.path(), d.path().join("sub")).unwrap();
        let mut f = open_file(&mut walk, name, OFlags::WRONLY | OFlags::CREATE, "sub/secret.txt").unwrap();
        f.write_all(b"pwned").unwrap();
        assert_eq!(std::fs::read_to_string(o.path().join("secret.txt")).unwrap(), "top secret");
        assert_eq!(std::fs::read_to_string(d.path().join("moved/secret.txt")).unwrap(), "pwned");
        // A fresh walk now meets the symlink and refuses it.
        assert!(matches!(ws.read("sub/secret.txt"), Err(WorkspaceError::Escapes(_))));
    }

    #[test]
    fn file_swapped_for_a_symlink_after_the_walk_is_refused() {
        let (d, o, ws) = setup();
        ws.write("a.txt", "inside", false).unwrap();
        let (mut walk, name) = ws.walk_to_parent("a.txt", false).unwrap();
        std::fs::remove_file(d.path().join("a.txt")).unwrap();
        symlink(o.path().join("secret.txt"), d.path().join("a.txt")).unwrap();
        assert!(matches!(open_file(&mut walk, name.clone(), OFlags::RDONLY, "a.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(open_file(&mut walk, name, OFlags::WRONLY | OFlags::CREATE, "a.txt"), Err(WorkspaceError::Escapes(_))));
        assert_eq!(std::fs::read_to_string(o.path().join("secret.txt")).unwrap(), "top secret");
    }

    #[test]
    fn relative_and_absolute_symlinks_are_resolved_inside_only() {
        let (d, o, ws) = setup();
        ws.write("docs/a.txt", "A", false).unwrap();
        symlink("docs/a.txt", d.path().join("rel.txt")).unwrap();
        symlink(ws.root().join("docs/a.txt"), d.path().join("abs.txt")).unwrap();
        symlink("../docs/a.txt", d.path().join("docs/up.txt")).unwrap();
        symlink("../../x", d.path().join("docs/out.txt")).unwrap();
        symlink(ws.root().join("../x"), d.path().join("absout.txt")).unwrap();
        assert_eq!(ws.read("rel.txt").unwrap(), "A");
        assert_eq!(ws.read("abs.txt").unwrap(), "A");
        assert_eq!(ws.read("docs/up.txt").unwrap(), "A");
        assert!(matches!(ws.read("docs/out.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.read("absout.txt"), Err(WorkspaceError::Escapes(_))));
        ws.write("rel.txt", "B", true).unwrap();
        assert_eq!(ws.read("docs/a.txt").unwrap(), "B");
        // A symlinked parent folder pointing out, deep inside.
        symlink(o.path(), d.path().join("docs/o")).unwrap();
        assert!(matches!(ws.read("docs/o/secret.txt"), Err(WorkspaceError::Escapes(_))));
        assert!(matches!(ws.list("docs/o"), Err(WorkspaceError::Escapes(_))));
    }

    #[test]
    fn symlink_cycles_and_special_files_are_refused() {
        let (d, _o, ws) = setup();
        symlink("b", d.path().join("a")).unwrap();
        symlink("a", d.path().join("b")).unwrap();
        assert!(matches!(ws.read("a"), Err(WorkspaceError::TooManyLinks(_))));
        assert!(matches!(ws.write("a/x.txt", "x", true), Err(WorkspaceError::TooManyLinks(_))));
        let fifo = std::ffi::CString::new(d.path().join("fifo").display().to_string()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(matches!(ws.read("fifo"), Err(WorkspaceError::NotAFile(_))));
        assert!(matches!(ws.write("fifo", "x", true), Err(WorkspaceError::NotAFile(_))));
        std::fs::create_dir(d.path().join("dir")).unwrap();
        assert!(matches!(ws.read("dir"), Err(WorkspaceError::NotAFile(_))));
        assert!(matches!(ws.read(""), Err(WorkspaceError::NotAFile(_))));
        assert!(matches!(ws.read("missing/x"), Err(WorkspaceError::NotFound(_))));
        assert!(matches!(ws.read("dir/missing"), Err(WorkspaceError::NotFound(_))));
    }

    #[test]
    fn reads_stop_at_the_size_limit() {
        let (d, _o, ws) = setup();
        let f = File::create(d.path().join("big.txt")).unwrap();
        f.set_len(MAX_READ_BYTES + 1).unwrap();
        assert!(matches!(ws.read("big.txt"), Err(WorkspaceError::TooLarge(_))));
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
