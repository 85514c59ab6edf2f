//! What can go wrong in the store.

use std::path::PathBuf;

use crate::execution::{ExecutionId, Status};

/// A store operation failed. Variants about the database file name its path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file (or its folder) could not be opened or created.
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// The file or its folder is read-only, so the store cannot write (SQLite needs to write the
    /// database and create its `-wal`/`-shm` files beside it).
    #[error("the database {} is read-only: make the file and its folder writable ({detail})", path.display())]
    ReadOnly { path: PathBuf, detail: String },

    /// Another process held the write lock for longer than the busy timeout.
    #[error("the database {} is locked by another process (gave up after the busy timeout)", path.display())]
    Locked { path: PathBuf },

    /// A pragma did not take the value we set (e.g. WAL on a file system that cannot do it).
    #[error("the database {}: PRAGMA {pragma} is `{actual}`, expected `{expected}`", path.display())]
    Pragma { path: PathBuf, pragma: &'static str, expected: String, actual: String },

    /// The database was written by a newer Crew Runner; it is left untouched.
    #[error("the database {} has schema version {found}, newer than this binary supports ({supported}); upgrade crew-runner", path.display())]
    TooNew { path: PathBuf, found: i64, supported: i64 },

    /// A migration failed (and was rolled back).
    #[error("the database {}: migration {version} ({name}) failed: {source}", path.display())]
    Migration {
        path: PathBuf,
        version: i64,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    /// The disk holding the database (or its `-wal`/`-shm` files) is full; the write was not
    /// made.
    #[error("the disk holding the database {} is full: free some space, then try again ({detail})", path.display())]
    DiskFull { path: PathBuf, detail: String },

    /// Reading or writing the file failed at the operating-system level (SQLite's `disk I/O
    /// error`): often a full disk (when growing the `-shm` file, or a write the file-size limit
    /// stops), else a failing or removed disk.
    #[error("the database {}: {detail} (is the disk full, failing or gone?)", path.display())]
    Io { path: PathBuf, detail: String },

    /// A worker could not take its owner lock in the database's owners folder (see
    /// `store/liveness.rs`): the folder cannot be created or written.
    #[error("cannot take this worker's owner lock in {}: {detail}", path.display())]
    OwnerLock { path: PathBuf, detail: String },

    /// Any other SQLite error (a constraint, corruption, …).
    #[error("the database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// The transaction the write was part of failed as a whole (e.g. an I/O error at COMMIT);
    /// nothing of it was kept.
    #[error("the database {}: the write could not be committed: {message}", path.display())]
    CommitFailed { path: PathBuf, message: String },

    /// A stored value could not be decoded (a bug or a hand-edited database).
    #[error("the database {}: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },

    /// No execution has this id.
    #[error("no execution with id {0}")]
    NotFound(ExecutionId),

    /// The operation does not apply in the execution's current status.
    #[error("cannot {operation} execution {id}: it is {status}")]
    InvalidState { id: ExecutionId, status: Status, operation: &'static str },

    /// The execution is no longer running under this owner (its lease was lost).
    #[error("execution {id} is not running under {owner} any more (its lease was lost)")]
    NotOwner { id: ExecutionId, owner: String },

    /// A write of an attempt that no longer holds its lease (another worker took the execution
    /// over): refused, nothing was written. The attempt must stop.
    #[error(
        "attempt {attempt} of execution {id} no longer holds its lease (another worker took the execution over); its write was refused"
    )]
    Fenced { id: ExecutionId, attempt: u32 },

    /// An idempotency key was used before for a different request (another crew, other inputs or
    /// options); nothing was recorded.
    #[error("idempotency key `{key}` was already used for a different submission; repeat that one exactly or use another key")]
    IdempotencyConflict { key: String },

    /// A value could not be encoded for storage.
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The writer thread has stopped (the store was dropped or the thread panicked).
    #[error("the store's writer has stopped")]
    Closed,
}

impl StoreError {
    /// Classifies a SQLite error on the database at `path`.
    pub(crate) fn from_sqlite(path: &std::path::Path, source: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path, detail: source.to_string() },
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StoreError::Open { path, source },
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { path, detail: source.to_string() },
            Some(ErrorCode::SystemIoFailure) => StoreError::Io { path, detail: source.to_string() },
            _ => StoreError::Sqlite { path, source },
        }
    }

    /// True when retrying the same operation later can succeed without anyone fixing anything:
    /// another process held the write lock ([`StoreError::Locked`]). Every other database
    /// failure (full disk, I/O error, corruption, read-only file, a closed store) persists until
    /// someone acts, so a long-running caller should stop and report it rather than retry.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Locked { .. })
    }

    /// True when the error is about this call's input or the execution's state, not the database.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::InvalidState { .. }
                | StoreError::NotOwner { .. }
                | StoreError::Fenced { .. }
                | StoreError::IdempotencyConflict { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn sqlite_error(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_errors_are_classified_and_name_the_file() {
        let path = Path::new("/data/crew-runner.db");
        let classify = |code| StoreError::from_sqlite(path, sqlite_error(code));
        assert!(matches!(classify(rusqlite::ffi::SQLITE_BUSY), StoreError::Locked { .. }));
        assert!(matches!(classify(rusqlite::ffi::SQLITE_FULL), StoreError::DiskFull { .. }));
        assert!(matches!(classify(rusqlite::ffi::SQLITE_IOERR_WRITE), StoreError::Io { .. }));
        assert!(matches!(classify(rusqlite::ffi::SQLITE_CORRUPT), StoreError::Sqlite { .. }));
        for code in [rusqlite::ffi::SQLITE_FULL, rusqlite::ffi::SQLITE_IOERR_SHMSIZE, rusqlite::ffi::SQLITE_CORRUPT] {
            let text = classify(code).to_string();
            assert!(text.contains("/data/crew-runner.db"), "{text}");
        }
        assert!(classify(rusqlite::ffi::SQLITE_FULL).to_string().contains("is full"));
    }

    #[test]
    fn only_a_held_lock_is_transient() {
        let path = Path::new("/data/crew-runner.db");
        assert!(StoreError::from_sqlite(path, sqlite_error(rusqlite::ffi::SQLITE_BUSY)).is_transient());
        for code in [rusqlite::ffi::SQLITE_FULL, rusqlite::ffi::SQLITE_IOERR, rusqlite::ffi::SQLITE_CORRUPT, rusqlite::ffi::SQLITE_READONLY]
        {
            assert!(!StoreError::from_sqlite(path, sqlite_error(code)).is_transient(), "{code}");
        }
        assert!(!StoreError::Closed.is_transient());
    }
}
