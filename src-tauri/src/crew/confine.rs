//! Where a crew's `workspace` may be: inside the crew's own folder or a folder the user allowed.
//!
//! A `workspace:` is resolved the way the kernel would open it (symlinks followed, `..` applied
//! to the folder reached so far, missing folders taken as they are written) and must then lie
//! inside the crew's folder or one of [`WorkspacePolicy::allowed`]. The crew's spec holds the
//! resolved, symlink-free path, so whatever process later runs it opens exactly the folder that
//! was checked (see [`Workspace::open_exact`](crate::engine::tools::Workspace::open_exact)).

use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};

use super::diagnostic::Findings;
use super::draft::Draft;

/// Most symlinks one resolution follows (Linux's own limit), so link cycles end.
const MAX_LINKS: usize = 40;

/// The folders a crew's workspace may be in besides the crew's own folder.
///
/// The default allows nothing else: a workspace must then be inside the crew's folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkspacePolicy {
    /// Folders a workspace may be (or be inside), as given; relative ones are taken from the
    /// current folder. They need not exist.
    pub allowed: Vec<PathBuf>,
}

impl WorkspacePolicy {
    /// A policy allowing `allowed` besides the crew's folder.
    pub fn allowing(allowed: impl IntoIterator<Item = PathBuf>) -> Self {
        WorkspacePolicy { allowed: allowed.into_iter().collect() }
    }

    /// Whether `resolved` (a resolved path) is one of the allowed folders, resolved, or inside one.
    fn admits(&self, resolved: &Path) -> bool {
        self.allowed
            .iter()
            .filter_map(|dir| std::path::absolute(dir).ok().and_then(|dir| resolve(&dir).ok()))
            .any(|dir| resolved.starts_with(dir))
    }
}

/// Resolves the crew's workspace (in `draft.spec.workspace`, absolute but not yet resolved) and
/// stores the resolved path there; records an error on the `workspace` field when it cannot be
/// resolved or lies outside the crew's folder (`draft.base_dir`) and every allowed folder.
pub(crate) fn confine_workspace(draft: &mut Draft, policy: &WorkspacePolicy, findings: &mut Findings) {
    let written = PathBuf::from(&draft.spec.workspace);
    let resolved = match resolve(&written) {
        Ok(resolved) => resolved,
        Err(e) => {
            findings.error(draft.settings_origin.at("workspace", format!("`{}` cannot be resolved: {e}", written.display())));
            return;
        }
    };
    let crew_dir = resolve(&draft.base_dir).unwrap_or_else(|_| draft.base_dir.clone());
    if !resolved.starts_with(&crew_dir) && !policy.admits(&resolved) {
        let allowed: Vec<String> = std::iter::once(&crew_dir).chain(&policy.allowed).map(|d| format!("`{}`", d.display())).collect();
        findings.error(draft.settings_origin.at(
            "workspace",
            format!(
                "resolves to `{}`, which is outside the folders a workspace may be in ({}); allow it with --allow-workspace DIR",
                resolved.display(),
                allowed.join(", ")
            ),
        ));
        return;
    }
    draft.spec.workspace = resolved.display().to_string();
}

/// The absolute `path` as the kernel would reach it: each existing component's symlinks followed
/// (their targets resolved the same way), `..` applied to the folder reached so far, and the
/// components from the first missing one on taken as written. The result has no `.`, `..` or
/// symlink in it.
pub(crate) fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut pending: VecDeque<PathBuf> = path.components().map(|c| PathBuf::from(c.as_os_str())).collect();
    let mut resolved = PathBuf::from("/");
    // How many of `resolved`'s last components do not exist (nothing below them is looked up).
    let mut missing = 0usize;
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        match part.components().next() {
            Some(Component::RootDir | Component::Prefix(_)) => (resolved, missing) = (part, 0),
            Some(Component::CurDir) | None => {}
            Some(Component::ParentDir) => {
                resolved.pop();
                missing = missing.saturating_sub(1);
            }
            Some(Component::Normal(name)) if missing > 0 => {
                resolved.push(name);
                missing += 1;
            }
            Some(Component::Normal(name)) => {
                let next = resolved.join(name);
                match std::fs::symlink_metadata(&next) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        links += 1;
                        if links > MAX_LINKS {
                            return Err(std::io::Error::other(format!("`{}`: too many symbolic links", next.display())));
                        }
                        let target = std::fs::read_link(&next)?;
                        for c in target.components().rev() {
                            pending.push_front(PathBuf::from(c.as_os_str()));
                        }
                    }
                    Ok(_) => resolved = next,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => (resolved, missing) = (next, 1),
                    Err(e) => return Err(std::io::Error::new(e.kind(), format!("`{}`: {e}", next.display()))),
                }
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_follows_symlinks_before_applying_dot_dot() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("a/deep/er")).unwrap();
        std::os::unix::fs::symlink(root.join("a/deep/er"), root.join("link")).unwrap();
        std::os::unix::fs::symlink("../..", root.join("a/deep/up")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert_eq!(resolve(&root.join("link/../x")).unwrap(), root.join("a/deep/x"));
        assert_eq!(resolve(&root.join("a/./deep/up")).unwrap(), root);
        assert_eq!(resolve(&root.join("missing/../a/../../..")).unwrap(), root.parent().unwrap().parent().unwrap());
        assert_eq!(resolve(&root.join("new/folder")).unwrap(), root.join("new/folder"));
        assert_eq!(resolve(Path::new("/../..")).unwrap(), PathBuf::from("/"));
        assert!(resolve(&root.join("loop/x")).is_err());
    }

    #[test]
    fn a_policy_admits_its_folders_and_what_is_inside_them() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("alias")).unwrap();
        let policy = WorkspacePolicy::allowing([root.join("alias")]);
        assert!(policy.admits(&root.join("real")));
        assert!(policy.admits(&root.join("real/x")));
        assert!(!policy.admits(&root.join("realx")), "a path prefix is not a folder prefix");
        assert!(!policy.admits(&root));
        assert!(!WorkspacePolicy::default().admits(&root.join("real")));
    }
}
