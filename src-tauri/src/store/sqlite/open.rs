//! Opening the database: connection pragmas and the embedded migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, MAIN_DB};

use super::wal_batching;
use crate::execution::now_ms;
use crate::store::StoreError;

/// How [`SqliteStore::open`](super::SqliteStore::open) opens the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// How long a write waits for another process's write lock before failing with
    /// [`StoreError::Locked`]. Default 5 s.
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { busy_timeout: Duration::from_secs(5) }
    }
}

/// The writer connection checkpoints inside the commit that brings the WAL to this many pages
/// (64 MiB with 4 KiB pages): a bound on the WAL while the writer is never idle (see
/// `checkpointer.rs`).
pub(super) const WAL_BOUND_PAGES: i64 = 16_384;

/// Prepared statements kept per connection (more than the store has distinct statements).
const STATEMENT_CACHE: usize = 128;

/// One embedded migration, `migrations/NNNN_name.sql`.
pub(super) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// The migration rewrites table definitions in `sqlite_schema` (`writable_schema`): the
    /// schema version is raised after it, so that every connection reloads the schema.
    pub rewrites_schema: bool,
}

impl Migration {
    /// A migration of plain SQL.
    const fn plain(version: i64, name: &'static str, sql: &'static str) -> Migration {
        Migration { version, name, sql, rewrites_schema: false }
    }

    /// A migration that rewrites table definitions (see [`rewrites_schema`](Migration::rewrites_schema)).
    const fn rewriting(version: i64, name: &'static str, sql: &'static str) -> Migration {
        Migration { version, name, sql, rewrites_schema: true }
    }
}

/// Every migration this binary knows, in order; the last one's version is the schema version.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration::plain(1, "init", include_str!("../../../migrations/0001_init.sql")),
    Migration::plain(2, "drop_owner_index", include_str!("../../../migrations/0002_drop_owner_index.sql")),
    Migration::plain(3, "history_indexes", include_str!("../../../migrations/0003_history_indexes.sql")),
    Migration::plain(4, "status_indexes", include_str!("../../../migrations/0004_status_indexes.sql")),
    Migration::plain(5, "active_index", include_str!("../../../migrations/0005_active_index.sql")),
    Migration::plain(6, "fencing_and_abandons", include_str!("../../../migrations/0006_fencing_and_abandons.sql")),
    Migration::plain(7, "idempotency", include_str!("../../../migrations/0007_idempotency.sql")),
    Migration::plain(8, "engine", include_str!("../../../migrations/0008_engine.sql")),
    Migration::rewriting(9, "human_review", include_str!("../../../migrations/0009_human_review.sql")),
    Migration::plain(10, "call_payloads", include_str!("../../../migrations/0010_call_payloads.sql")),
];

/// The schema version this binary writes: the last migration's.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Opens the write connection: refuses a newer schema (without touching the file), sets and
/// checks the pragmas, then applies pending migrations.
pub(super) fn open_writer(path: &Path, options: &OpenOptions) -> Result<Connection, StoreError> {
    // Its WAL appends go through the shim that writes a commit's frames at once (unless switched
    // off: `CREW_RUNNER_WAL_BATCHING=0`).
    let conn = open_connection(path, options, wal_batching::enabled() && wal_batching::register().is_ok())?;
    let sql = |e| StoreError::from_sqlite(path, e);

    // Read-only checks first: nothing is written before we know we understand the schema.
    let found: i64 = match conn.pragma_query_value(None, "user_version", |r| r.get(0)) {
        Ok(found) => found,
        // A WAL database on a read-only file system whose `-shm` file is gone (the last process
        // closed it cleanly) cannot even be read: SQLite opened it read-only, then cannot create
        // the `-shm` and says only "unable to open database file".
        Err(e) if conn.is_readonly(MAIN_DB).unwrap_or(false) => return Err(read_only(path, &e.to_string())),
        Err(e) => return Err(sql(e)),
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    if conn.is_readonly(MAIN_DB).map_err(sql)? {
        return Err(read_only(path, "the file cannot be written"));
    }

    let mode = switch_to_wal(&conn, options.busy_timeout).map_err(sql)?;
    expect_pragma(path, "journal_mode", "wal", &mode.to_ascii_lowercase())?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
    let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).map_err(sql)?;
    expect_pragma(path, "synchronous", "1", &sync.to_string())?;
    check_common_pragmas(&conn, path, options)?;
    // Checkpoints run on the checkpointer thread, not inside this connection's commits, except
    // as a bound on the WAL's size (see `checkpointer.rs`).
    conn.pragma_update(None, "wal_autocheckpoint", WAL_BOUND_PAGES).map_err(sql)?;
    // Each command runs in a savepoint, whose undo journal would otherwise be a temp file.
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(sql)?;

    migrate(&conn, path)?;
    Ok(conn)
}

/// Sets `journal_mode = WAL` and returns the mode SQLite reports. Switching a fresh file needs
/// an exclusive lock, and SQLite answers `SQLITE_BUSY` at once (without the busy handler) while
/// another connection holds the file, e.g. another process opening the same fresh file at the same
/// moment; so a busy answer is tried again every few milliseconds for up to `busy_timeout`, as the
/// busy handler would.
fn switch_to_wal(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + busy_timeout;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)) {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            answered => return answered,
        }
    }
}

/// Opens a connection for reads (`query_only`), after the writer has set WAL up.
pub(super) fn open_reader(path: &Path, options: &OpenOptions) -> Result<Connection, StoreError> {
    let conn = open_connection(path, options, false)?;
    conn.pragma_update(None, "query_only", true).map_err(|e| StoreError::from_sqlite(path, e))?;
    check_common_pragmas(&conn, path, options)?;
    Ok(conn)
}

/// Opens the connection the checkpointer thread runs WAL checkpoints on.
pub(super) fn open_checkpointer(path: &Path, options: &OpenOptions) -> Result<Connection, StoreError> {
    open_connection(path, options, false)
}

/// [`StoreError::ReadOnly`] for `path`: why, when its folder's file system or permissions say
/// so ([`read_only_folder`]), else `otherwise`.
fn read_only(path: &Path, otherwise: &str) -> StoreError {
    let detail = read_only_folder(path).unwrap_or_else(|| otherwise.to_string());
    StoreError::ReadOnly { path: path.to_path_buf(), detail }
}

/// Why the folder of `path` cannot be written to (a read-only file system, or no write
/// permission), asked with `access(2)`, which writes nothing; `None` otherwise (including a
/// folder that does not exist: the open's own error is then the clearer one).
#[cfg(unix)]
fn read_only_folder(path: &Path) -> Option<String> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match rustix::fs::access(folder, rustix::fs::Access::WRITE_OK) {
        Err(rustix::io::Errno::ROFS) => Some(format!("{} is on a read-only file system", folder.display())),
        Err(rustix::io::Errno::ACCESS) => Some(format!("{} cannot be written: permission denied", folder.display())),
        _ => None,
    }
}

/// Not Unix: no `access(2)`; the open's own error says why.
#[cfg(not(unix))]
fn read_only_folder(_path: &Path) -> Option<String> {
    None
}

/// Opens `path`; through [`wal_batching`]'s VFS when `batching_wal` (the writer's connection).
fn open_connection(path: &Path, options: &OpenOptions, batching_wal: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opened = if batching_wal {
        Connection::open_with_flags_and_vfs(path, flags, wal_batching::VFS_NAME)
    } else {
        Connection::open_with_flags(path, flags)
    };
    let conn = opened.map_err(|source| match (source.sqlite_error_code(), read_only_folder(path)) {
        (Some(rusqlite::ErrorCode::CannotOpen), Some(detail)) => StoreError::ReadOnly { path: path.to_path_buf(), detail },
        _ => StoreError::Open { path: path.to_path_buf(), source },
    })?;
    // Every statement of the store fits, so none is prepared twice.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let sql = |e| StoreError::from_sqlite(path, e);
    conn.busy_timeout(options.busy_timeout).map_err(sql)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(sql)?;
    // Query-planner stability: a plan never depends on the values bound to it. Without this, the
    // bundled SQLite (built with STAT4) marks statements such as `… WHERE execution_id = ?1 ORDER
    // BY …` to be re-prepared at every new binding, so the statement cache did not save their
    // parsing and planning (a sixth of the writer's time per job). Every statement of the store
    // has one good plan whatever the values (its partial indexes are matched by literals).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(sql)?;
    Ok(conn)
}

fn check_common_pragmas(conn: &Connection, path: &Path, options: &OpenOptions) -> Result<(), StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let fk: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).map_err(sql)?;
    expect_pragma(path, "foreign_keys", "1", &fk.to_string())?;
    let busy: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0)).map_err(sql)?;
    expect_pragma(path, "busy_timeout", &options.busy_timeout.as_millis().to_string(), &busy.to_string())?;
    Ok(())
}

fn expect_pragma(path: &Path, pragma: &'static str, expected: &str, actual: &str) -> Result<(), StoreError> {
    if expected == actual {
        Ok(())
    } else {
        Err(StoreError::Pragma { path: path.to_path_buf(), pragma, expected: expected.into(), actual: actual.into() })
    }
}

/// Applies every migration newer than the file's `user_version`, all in one `BEGIN IMMEDIATE`
/// transaction that re-reads the version after taking the write lock. A second process (or
/// connection) opening the same fresh or older file at once waits for the first one's commit (its
/// busy timeout), then finds nothing left to do: each migration is applied exactly once, and a
/// failure leaves the file at the version it had before (nothing partly migrated).
///
/// A file already at [`SCHEMA_VERSION`] is left alone without taking the write lock; one that a
/// newer binary migrated while we waited is [`StoreError::TooNew`].
fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |e| StoreError::from_sqlite(path, e);
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql)?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
    match apply_pending(conn, path) {
        Ok(()) => conn.execute_batch("COMMIT").map_err(sql),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Inside [`migrate`]'s transaction: re-reads `user_version` (another process may have migrated
/// while we waited for the lock) and applies every migration newer than it, in order.
fn apply_pending(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| StoreError::from_sqlite(path, e))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found: current, supported: SCHEMA_VERSION });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        apply(conn, migration).map_err(|e| match StoreError::from_sqlite(path, e) {
            StoreError::Sqlite { source, .. } => {
                StoreError::Migration { path: path.to_path_buf(), version: migration.version, name: migration.name, source }
            }
            other => other,
        })?;
    }
    Ok(())
}

/// Applies one migration and records it (`schema_migrations`, `user_version`); the caller holds
/// the write transaction. A [rewriting](Migration::rewrites_schema) migration raises the schema
/// version after its SQL, so that every other connection reloads the schema.
fn apply(conn: &Connection, migration: &Migration) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    conn.execute_batch(migration.sql)?;
    if migration.rewrites_schema {
        let version: i64 = conn.pragma_query_value(None, "schema_version", |r| r.get(0))?;
        conn.pragma_update(None, "schema_version", version + 1)?;
    }
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![migration.version, migration.name, now_ms()],
    )?;
    conn.pragma_update(None, "user_version", migration.version)?;
    Ok(())
}

/// The migrations recorded in `schema_migrations`, oldest first: `(version, name)`.
pub(super) fn applied_migrations(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let exists: Option<String> = conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", [], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare("SELECT version, name FROM schema_migrations ORDER BY version")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_statements_are_not_prepared_again_for_new_values() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("q.db"), &OpenOptions::default()).unwrap();
        // Statements of the kind the store runs for every transition (write::append_log,
        // rows::load_attempt_errors); with the planner free to look at the bound values, SQLite
        // re-prepared them at every new binding.
        for sql in [
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM execution_logs WHERE execution_id = ?1",
            "SELECT attempt, at, error FROM attempt_errors WHERE execution_id = ?1 ORDER BY attempt, rowid",
        ] {
            for id in ["a", "b", "c"] {
                let mut stmt = conn.prepare_cached(sql).unwrap();
                stmt.query([id]).unwrap().next().unwrap();
            }
            let stmt = conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
        }
    }

    /// Opens `path` with `threads` writer connections at once (released together by a barrier):
    /// every open succeeds and the file ends at the schema version with each migration once.
    fn open_concurrently(path: &Path, threads: usize) {
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|scope| {
            let opened: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        open_writer(path, &OpenOptions::default()).map(drop)
                    })
                })
                .collect();
            for handle in opened {
                handle.join().unwrap().unwrap();
            }
        });
        let conn = Connection::open(path).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let known: Vec<(i64, String)> = MIGRATIONS.iter().map(|m| (m.version, m.name.to_string())).collect();
        assert_eq!(applied_migrations(&conn).unwrap(), known, "each migration recorded once, in order");
    }

    #[test]
    fn concurrent_opens_of_a_fresh_file_apply_each_migration_once() {
        let dir = tempfile::tempdir().unwrap();
        open_concurrently(&dir.path().join("fresh.db"), 8);
    }

    #[test]
    fn concurrent_opens_of_an_older_file_apply_the_rest_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("older.db");
        {
            // A file at the version before the last: what the previous release left.
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            for migration in &MIGRATIONS[..MIGRATIONS.len() - 1] {
                apply(&conn, migration).unwrap();
            }
        }
        open_concurrently(&path, 8);
    }
}
