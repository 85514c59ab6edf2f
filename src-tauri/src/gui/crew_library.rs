//! The crew library: crews imported into `<data dir>/crews/`, one file or folder each.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use crate::crew;

/// Most files copied from one imported folder.
pub const MAX_IMPORT_FILES: usize = 2000;

/// One crew in the library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct CrewEntry {
    /// The file or folder name in the library.
    pub name: String,
    /// Its full path (what `validate_crew` and `submit_execution` take).
    pub path: String,
    /// A folder (CrewAI project) rather than a single file.
    pub folder: bool,
}

/// The library could not be read, or a crew not imported.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The picked crew does not load; nothing was copied.
    #[error("{0}")]
    Invalid(#[from] crew::CrewError),
    /// The folder has more than [`MAX_IMPORT_FILES`] files.
    #[error("{} has more than {MAX_IMPORT_FILES} files; not a crew project?", path.display())]
    TooLarge { path: PathBuf },
    /// Reading the source or writing the library failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl From<LibraryError> for super::CommandError {
    fn from(e: LibraryError) -> Self {
        use super::CommandErrorKind as K;
        let kind = match &e {
            LibraryError::Invalid(_) => K::InvalidCrew,
            LibraryError::TooLarge { .. } => K::InvalidArgument,
            LibraryError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => K::NotFound,
            LibraryError::Io { .. } => K::Io,
        };
        super::CommandError::new(kind, e.to_string())
    }
}

/// The library folder under a data dir.
#[derive(Clone, Debug)]
pub struct CrewLibrary {
    dir: PathBuf,
}

impl CrewLibrary {
    pub fn new(data_dir: &Path) -> Self {
        CrewLibrary { dir: data_dir.join("crews") }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every crew file (`.yaml`, `.yml`, `.json`, `.jsonc`) and folder in the library, by name.
    /// A missing library is empty.
    pub fn list(&self) -> Result<Vec<CrewEntry>, LibraryError> {
        let io = |source| LibraryError::Io { path: self.dir.clone(), source };
        let read = match std::fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let mut out = Vec::new();
        for entry in read {
            let entry = entry.map_err(io)?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let folder = path.is_dir();
            if folder || is_crew_file(&path) {
                out.push(CrewEntry { name, path: path.to_string_lossy().into_owned(), folder });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Validates the crew at `source` and copies it (a file, or a folder recursively, without
    /// symlinks) into the library under a free name (`name`, `name-2`, …).
    pub fn import(&self, source: &Path) -> Result<CrewEntry, LibraryError> {
        crew::validate(source)?;
        let io_at = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LibraryError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        let folder = source.is_dir();
        if folder && count_files(source, MAX_IMPORT_FILES).map_err(io_at(source))? > MAX_IMPORT_FILES {
            return Err(LibraryError::TooLarge { path: source.to_path_buf() });
        }
        let target = self.free_name(source);
        if folder {
            copy_tree(source, &target)?;
        } else {
            std::fs::copy(source, &target).map_err(io_at(source))?;
        }
        Ok(CrewEntry {
            name: target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            path: target.to_string_lossy().into_owned(),
            folder,
        })
    }

    fn free_name(&self, source: &Path) -> PathBuf {
        let stem = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "crew".into());
        let ext = if source.is_dir() { None } else { source.extension().map(|e| e.to_string_lossy().into_owned()) };
        let name = |n: usize| {
            let base = if n == 1 { stem.clone() } else { format!("{stem}-{n}") };
            match &ext {
                Some(e) => format!("{base}.{e}"),
                None => base,
            }
        };
        (1..).map(|n| self.dir.join(name(n))).find(|p| !p.exists()).expect("some name is free")
    }
}

fn is_crew_file(path: &Path) -> bool {
    path.is_file()
        && matches!(
            path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
            Some("yaml" | "yml" | "json" | "jsonc")
        )
}

/// Files under `dir`, counting stops past `limit`.
fn count_files(dir: &Path, limit: usize) -> std::io::Result<usize> {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                count += 1;
                if count > limit {
                    return Ok(count);
                }
            }
        }
    }
    Ok(count)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), LibraryError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LibraryError::Io { path, source }
    };
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let kind = entry.file_type().map_err(io(&entry.path()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).map_err(io(&entry.path()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREW: &str = "name: t\nagents:\n  a:\n    role: R\n    goal: G\n    backstory: B\ntasks:\n  t1:\n    description: D {topic}\n    expected_output: E\n    agent: a\n";

    #[test]
    fn imports_files_under_free_names_and_lists_them() {
        let data = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let file = src.path().join("mycrew.yaml");
        std::fs::write(&file, CREW).unwrap();
        let lib = CrewLibrary::new(data.path());
        assert!(lib.list().unwrap().is_empty());
        let a = lib.import(&file).unwrap();
        let b = lib.import(&file).unwrap();
        assert_eq!(a.name, "mycrew.yaml");
        assert_eq!(b.name, "mycrew-2.yaml");
        let names: Vec<_> = lib.list().unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["mycrew-2.yaml", "mycrew.yaml"]);
        assert!(crate::crew::validate(Path::new(&a.path)).is_ok());
    }

    #[test]
    fn invalid_crews_are_not_copied() {
        let data = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let file = src.path().join("bad.yaml");
        std::fs::write(&file, "name: t\nagents: {}\n").unwrap();
        let lib = CrewLibrary::new(data.path());
        assert!(matches!(lib.import(&file), Err(LibraryError::Invalid(_))));
        assert!(lib.list().unwrap().is_empty());
    }
}
