//! Walking a path beneath a folder descriptor without ever leaving it.
//!
//! Every step is one `openat` of a single name, with `O_NOFOLLOW`, relative to a folder descriptor
//! already held: the kernel never resolves a path we did not check, so a symlink or folder swapped
//! in while we walk cannot redirect us outside. Symlinks met on the way are read (`readlinkat`) and
//! resolved by the walk itself, component by component, from the folder that holds them; a target
//! that would climb above the root (`..` past it, or an absolute path elsewhere) ends the walk with
//! [`Step::Escapes`].

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{mkdirat, openat, readlinkat, Mode, OFlags};
use rustix::io::Errno;

/// Most symlinks one walk follows (Linux's own limit), so link cycles end.
pub const MAX_LINKS: usize = 40;

/// Why a walk stopped.
#[derive(Debug)]
pub enum Step {
    /// The path leads above the root (through `..` or a symlink).
    Escapes,
    /// A component that must be a folder is not one (a file, a device, …).
    NotADirectory,
    /// A component does not exist (and was not to be created).
    NotFound,
    /// More than [`MAX_LINKS`] symlinks.
    TooManyLinks,
    /// The operating system refused.
    Io(std::io::Error),
}

impl From<Errno> for Step {
    fn from(e: Errno) -> Self {
        match e {
            Errno::NOENT => Step::NotFound,
            Errno::NOTDIR => Step::NotADirectory,
            other => Step::Io(other.into()),
        }
    }
}

/// A position beneath a root folder: the descriptors of the folders entered, so `..` can go back.
pub struct Walk<'r> {
    root: BorrowedFd<'r>,
    /// The canonical root path, to place absolute symlink targets.
    root_path: &'r Path,
    /// Folders entered below the root, innermost last, with their names.
    stack: Vec<(OsString, OwnedFd)>,
    links: usize,
}

impl<'r> Walk<'r> {
    /// A walk standing at `root` (whose canonical path is `root_path`).
    pub fn new(root: BorrowedFd<'r>, root_path: &'r Path) -> Self {
        Walk { root, root_path, stack: Vec::new(), links: 0 }
    }

    /// The folder the walk stands in.
    pub fn dir(&self) -> BorrowedFd<'_> {
        self.stack.last().map_or(self.root, |(_, fd)| fd.as_fd())
    }

    /// The path of the folder the walk stands in (root-relative, symlink-free).
    pub fn relative(&self) -> PathBuf {
        self.stack.iter().map(|(name, _)| name.as_os_str()).collect()
    }

    /// Enters every component of `parts` as a folder; missing folders are created when `create`.
    pub fn enter_all(&mut self, parts: VecDeque<OsString>, create: bool) -> Result<(), Step> {
        let mut pending = parts;
        while let Some(name) = pending.pop_front() {
            self.enter(&name, create, &mut pending)?;
        }
        Ok(())
    }

    /// Enters `name` as a folder. A symlink there puts its target's components in front of
    /// `pending` (they are walked next); `..` goes back one folder.
    fn enter(&mut self, name: &OsStr, create: bool, pending: &mut VecDeque<OsString>) -> Result<(), Step> {
        if name.is_empty() || name == "." {
            return Ok(());
        }
        if name == ".." {
            return self.stack.pop().map(drop).ok_or(Step::Escapes);
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        // Created folders removed again at once by someone else: give up after a few rounds.
        for _ in 0..8 {
            match openat(self.dir(), name, flags, Mode::empty()) {
                Ok(fd) => {
                    self.stack.push((name.to_owned(), fd));
                    return Ok(());
                }
                Err(Errno::NOENT) if create => match mkdirat(self.dir(), name, Mode::from_bits_truncate(0o777)) {
                    // Created (or created by someone else meanwhile): open it on the next turn.
                    Ok(()) | Err(Errno::EXIST) => continue,
                    Err(e) => return Err(e.into()),
                },
                Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                    let target = self.link_target(name)?.ok_or(Step::NotADirectory)?;
                    for part in target.into_iter().rev() {
                        pending.push_front(part);
                    }
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Step::NotFound)
    }

    /// The components to walk instead of the symlink `name` in the current folder, or `None` when
    /// `name` is not a symlink. An absolute target must lie beneath the root: the walk goes back
    /// to the root and the components are those below it.
    pub fn link_target(&mut self, name: &OsStr) -> Result<Option<Vec<OsString>>, Step> {
        let target = match readlinkat(self.dir(), name, Vec::new()) {
            Ok(t) => t,
            Err(Errno::INVAL) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        self.links += 1;
        if self.links > MAX_LINKS {
            return Err(Step::TooManyLinks);
        }
        let target = Path::new(OsStr::from_bytes(target.to_bytes()));
        let below = if target.is_absolute() {
            let below = target.strip_prefix(self.root_path).map_err(|_| Step::Escapes)?;
            self.stack.clear();
            below
        } else {
            target
        };
        let parts = below
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_owned()),
                Component::ParentDir => Some(OsString::from("..")),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => None,
            })
            .collect();
        Ok(Some(parts))
    }
}
