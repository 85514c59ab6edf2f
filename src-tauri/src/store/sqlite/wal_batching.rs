//! A SQLite VFS that writes each transaction's WAL frames with one system call.
//!
//! SQLite appends a commit to the write-ahead log one frame at a time, and each frame with two
//! `write`s: its 24-byte header, then the page. A queue transaction dirties about six pages, so
//! one commit was a dozen `pwrite`s, a fifth of the writer thread's time on this kind of VM. This
//! shim wraps the platform's default VFS and changes one thing: writes that *append* frames to a
//! WAL file (each starting where the previous one ended, beyond everything written before) are
//! gathered in memory and written together, with one `pwrite`, as soon as the frame that commits
//! the transaction has been written (a frame header whose "database size after commit" field is
//! not zero; SQLite's file format, "WAL Frame Format").
//!
//! Why that keeps SQLite's guarantees: a commit becomes visible to readers and to recovery only
//! when SQLite then updates the WAL index, after the commit frame's write returned, and by then
//! the frames are in the file. A write that does not append (SQLite rewriting a frame of the
//! current transaction, or the checksums of its frames, which it does after writing the commit
//! frame) first writes out what is gathered and is then passed on at once, as is anything else
//! done to a WAL file (a read, a sync, a size query, a truncation, closing it): SQLite never sees
//! the file in a state it did not write. A new WAL header (32 bytes at offset 0) starts the log
//! over, and appending with it. A process that dies with frames gathered loses a transaction
//! that had not committed, as before. Errors (a full disk) are reported by the write that
//! flushes, which is still inside the commit, so the transaction fails the way it did before.
//! Gathering stops at [`MAX_GATHERED`] bytes (large transactions, such as a prune, flush as they
//! go).
//!
//! Every other file (the database, the journal of a temporary table) and every other method is the
//! default VFS's, untouched.
//!
//! **The switch**: `CREW_RUNNER_WAL_BATCHING=0` (or `off`, `false`, `no`) in the environment opens the
//! database with SQLite's default VFS instead ([`enabled`]): the same file format and guarantees,
//! a dozen `pwrite`s per commit again. For ruling the shim out when diagnosing a storage problem,
//! and for measuring what it pays (W1-live in `benches/queue.rs`).
//!
//! **Unsafe code**: this is a C callback table. Every `unsafe` block and function states its
//! contract in a `SAFETY:` comment; they rest on three facts of SQLite's VFS interface:
//! 1. SQLite calls `xOpen` with a `file` pointing to `szOsFile` bytes it allocated (we ask for
//!    ours plus the default VFS's, [`SHIM_SIZE`] in front), and calls no io method of a file whose
//!    `pMethods` is null (a failed open).
//! 2. The io methods are called with a `file` that `xOpen` initialised and until `xClose`, and
//!    never concurrently for one file (a connection is used by one thread at a time: the writer
//!    thread; SQLite holds the connection's mutex around every call otherwise).
//! 3. `data`/`amount` of `xWrite` describe `amount` readable bytes for the call's duration.

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The environment variable that turns the shim off ([`enabled`]).
pub(super) const SWITCH_VAR: &str = "CREW_RUNNER_WAL_BATCHING";

/// Whether the writer should open through the shim: yes unless [`SWITCH_VAR`] says `0`, `off`,
/// `false` or `no` (any case, surrounding spaces ignored).
pub(super) fn enabled() -> bool {
    switched_on(std::env::var(SWITCH_VAR).ok().as_deref())
}

/// [`enabled`] for the variable's value (`None`: unset).
fn switched_on(value: Option<&str>) -> bool {
    !value.map(str::trim).is_some_and(|v| ["0", "off", "false", "no"].iter().any(|off| v.eq_ignore_ascii_case(off)))
}

/// The name connections open the shim by.
pub(super) const VFS_NAME: &CStr = c"crew-runner-wal-batching";

/// Gathered bytes beyond which a WAL file is written out without waiting for the commit frame.
const MAX_GATHERED: usize = 1 << 20;

/// The most one write passes on to the default VFS.
const WRITE_PIECE: usize = 64 * 1024;

/// The size of a WAL frame header.
const FRAME_HEADER: usize = 24;

/// Registers the shim (once per process; later calls return the first outcome). `Err` holds
/// SQLite's result code when there is no default VFS, it is not one of SQLite's own (`unix*`,
/// `win32*`), or registering failed; the writer then opens the database without the shim.
pub(super) fn register() -> Result<(), c_int> {
    static REGISTERED: OnceLock<Result<(), c_int>> = OnceLock::new();
    // SAFETY: `register_once` only calls SQLite's VFS registry, which is thread-safe, and runs
    // once per process (the `OnceLock`).
    *REGISTERED.get_or_init(|| unsafe { register_once() })
}

/// Our part of an open file; the default VFS's own file struct follows it in the same allocation
/// (SQLite allocates `szOsFile` bytes per file).
#[repr(C)]
struct ShimFile {
    /// Must come first: SQLite sees this struct as a `sqlite3_file`.
    base: ffi::sqlite3_file,
    /// The default VFS's file, right after this struct.
    real: *mut ffi::sqlite3_file,
    /// WAL files only: the bytes not yet written. Null for every other file.
    gathered: *mut Gathered,
}

/// Appended bytes not yet passed on.
struct Gathered {
    /// Where `bytes[0]` goes in the file.
    offset: i64,
    bytes: Vec<u8>,
    /// The last frame header gathered marks a commit: write everything out after its page.
    commit_frame: bool,
    /// The end of the furthest write since the log last started over: a write that starts
    /// before it is not an append.
    high: i64,
}

/// The size of the header that starts a WAL file.
const WAL_HEADER: usize = 32;

/// The default VFS, found at registration.
static BASE: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());

/// Space reserved for our struct in front of the default VFS's file, rounded to 16 bytes.
const SHIM_SIZE: usize = (std::mem::size_of::<ShimFile>() + 15) & !15;

/// Wraps the default VFS and registers the result under [`VFS_NAME`].
///
/// # Safety
/// Call once per process ([`register`]): the registered struct is leaked and [`BASE`] set for good.
unsafe fn register_once() -> Result<(), c_int> {
    // SAFETY (the whole body): `sqlite3_vfs_find` returns a registered VFS or null (checked); a
    // registered VFS and its `zName` live as long as the process; copying the struct copies
    // plain pointers SQLite keeps valid; the copy is leaked, so it outlives every connection.
    let base = ffi::sqlite3_vfs_find(std::ptr::null());
    if base.is_null() {
        return Err(ffi::SQLITE_ERROR);
    }
    // Our io methods are version 3 and forward the shared-memory and memory-map methods, which
    // only version-3 files have: wrap only SQLite's own VFSes, whose files all are.
    let name = CStr::from_ptr((*base).zName).to_bytes();
    if !(name.starts_with(b"unix") || name.starts_with(b"win32")) {
        return Err(ffi::SQLITE_ERROR);
    }
    BASE.store(base, Ordering::SeqCst);
    let mut vfs: ffi::sqlite3_vfs = *base;
    vfs.szOsFile = (*base).szOsFile + SHIM_SIZE as c_int;
    vfs.pNext = std::ptr::null_mut();
    vfs.zName = VFS_NAME.as_ptr();
    vfs.xOpen = Some(open);
    // The other methods are the default VFS's own: they only read `pAppData` and `mxPathname`,
    // which are copied. Registered once and never unregistered: it lives as long as the process.
    let vfs = Box::leak(Box::new(vfs));
    match ffi::sqlite3_vfs_register(vfs, 0) {
        ffi::SQLITE_OK => Ok(()),
        rc => Err(rc),
    }
}

/// The io methods of a shim file: the default VFS's, around ours.
static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// `xOpen`: opens the default VFS's file behind ours.
///
/// # Safety
/// SQLite's contract (fact 1 in the module docs): `file` points to `szOsFile` writable bytes,
/// `out_flags` is null or writable, `name` is SQLite's.
unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: `file` has `SHIM_SIZE + base.szOsFile` bytes (we registered that size), so our
    // struct fits at its start and the default VFS's file at `SHIM_SIZE`, aligned as SQLite's
    // allocation is (at least 8 bytes; `SHIM_SIZE` is a multiple of 16); `BASE` was set
    // before the VFS could be found, and the default VFS's `xOpen` gets exactly its own space.
    let shim = file as *mut ShimFile;
    let real = (file as *mut u8).add(SHIM_SIZE) as *mut ffi::sqlite3_file;
    (*shim).base.pMethods = std::ptr::null();
    (*shim).real = real;
    (*shim).gathered = std::ptr::null_mut();
    let base = BASE.load(Ordering::SeqCst);
    let rc = match (*base).xOpen {
        Some(x_open) => x_open(base, name, real, flags, out_flags),
        None => ffi::SQLITE_ERROR,
    };
    // On failure `pMethods` stays null, so SQLite does not call `close`; the default VFS has
    // cleaned its own file up.
    if rc != ffi::SQLITE_OK || (*real).pMethods.is_null() {
        return rc;
    }
    if flags & ffi::SQLITE_OPEN_WAL != 0 {
        (*shim).gathered = Box::into_raw(Box::new(Gathered { offset: 0, bytes: Vec::new(), commit_frame: false, high: 0 }));
    }
    (*shim).base.pMethods = &METHODS;
    ffi::SQLITE_OK
}

/// The default VFS's file and its methods.
///
/// # Safety
/// `file` was opened by [`open`] successfully and is not closed (fact 2): then `real` is the
/// default VFS's open file, whose `pMethods` is non-null and static.
unsafe fn real(file: *mut ffi::sqlite3_file) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    let real = (*(file as *mut ShimFile)).real;
    (real, &*(*real).pMethods)
}

/// Writes out what is gathered (if anything). SQLite's result code.
///
/// # Safety
/// As [`real`]; and no other call for this file runs meanwhile (fact 2), so `gathered` (owned by
/// the file since [`open`], freed only in [`close`]) is ours to mutate.
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    let gathered = (*(file as *mut ShimFile)).gathered;
    if gathered.is_null() || (*gathered).bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let (real, methods) = real(file);
    let g = &mut *gathered;
    // In pieces: the default VFS writes at most 128 KiB - 1 per call (it masks the length).
    let mut rc = ffi::SQLITE_OK;
    let mut at = 0;
    while rc == ffi::SQLITE_OK && at < g.bytes.len() {
        let piece = &g.bytes[at..g.bytes.len().min(at + WRITE_PIECE)];
        #[cfg(test)]
        tests::WAL_WRITES.with(|n| n.set(n.get() + 1));
        rc = match methods.xWrite {
            Some(x_write) => x_write(real, piece.as_ptr() as *const c_void, piece.len() as c_int, g.offset + at as i64),
            None => ffi::SQLITE_IOERR_WRITE,
        };
        at += piece.len();
    }
    // Written or not, these bytes are settled: on an error SQLite fails the transaction and
    // writes its frames again from the start.
    g.bytes.clear();
    g.commit_frame = false;
    rc
}

/// `xWrite`: gathers WAL appends, passes everything else on (see the module docs).
///
/// # Safety
/// As [`flush`]; `data` holds `amount` readable bytes (fact 3).
unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, data: *const c_void, amount: c_int, offset: i64) -> c_int {
    let gathered = (*(file as *mut ShimFile)).gathered;
    let (real, methods) = real(file);
    let pass_on = |real, data, amount, offset| methods.xWrite.map_or(ffi::SQLITE_IOERR_WRITE, |x| x(real, data, amount, offset));
    if gathered.is_null() || amount <= 0 {
        return pass_on(real, data, amount, offset);
    }
    let g = &mut *gathered;
    let end = offset + amount as i64;
    let restart = offset == 0 && amount as usize == WAL_HEADER;
    let appends = restart || offset >= g.high;
    if !g.bytes.is_empty() && (!appends || offset != g.offset + g.bytes.len() as i64) {
        let rc = flush(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    g.high = if restart { end } else { g.high.max(end) };
    if !appends {
        #[cfg(test)]
        tests::WAL_WRITES.with(|n| n.set(n.get() + 1));
        #[cfg(test)]
        tests::IN_PLACE.with(|n| n.set(n.get() + 1));
        return pass_on(real, data, amount, offset);
    }
    // SAFETY: `amount > 0` here and `data` holds `amount` bytes for this call (fact 3); they are
    // copied before returning.
    let bytes = std::slice::from_raw_parts(data as *const u8, amount as usize);
    if g.bytes.is_empty() {
        g.offset = offset;
    }
    g.bytes.extend_from_slice(bytes);
    if bytes.len() == FRAME_HEADER {
        // Bytes 4..8 of a frame header: the database size after a commit, zero otherwise.
        g.commit_frame = bytes[4..8] != [0, 0, 0, 0];
        if g.bytes.len() < MAX_GATHERED {
            return ffi::SQLITE_OK;
        }
    } else if !g.commit_frame && g.bytes.len() < MAX_GATHERED {
        return ffi::SQLITE_OK;
    }
    flush(file)
}

/// `xClose`: writes out what is gathered, frees it, closes the default VFS's file.
///
/// # Safety
/// As [`flush`]; SQLite calls no method of `file` after this (fact 2), so freeing `gathered` (a
/// `Box` made in [`open`], nulled here so it cannot be freed twice) is sound.
unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let flushed = flush(file);
    let shim = file as *mut ShimFile;
    if !(*shim).gathered.is_null() {
        drop(Box::from_raw((*shim).gathered));
        (*shim).gathered = std::ptr::null_mut();
    }
    let (real, methods) = real(file);
    let closed = methods.xClose.map_or(ffi::SQLITE_OK, |x| x(real));
    if flushed != ffi::SQLITE_OK {
        flushed
    } else {
        closed
    }
}

/// Defines a method that writes out what is gathered and then calls the default VFS's.
/// Safety of the generated functions: as [`flush`]; the arguments are passed on unchanged, under
/// the same contract SQLite gave us.
macro_rules! flushing {
    ($name:ident, $field:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            let rc = flush(file);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            let (real, methods) = real(file);
            methods.$field.map_or(ffi::SQLITE_IOERR, |x| x(real, $($arg),*))
        }
    };
}

/// Defines a method that only calls the default VFS's.
/// Safety of the generated functions: as [`real`]; the arguments are passed on unchanged.
macro_rules! forwarding {
    ($name:ident, $field:ident, $missing:expr, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            let (real, methods) = real(file);
            methods.$field.map_or($missing, |x| x(real, $($arg),*))
        }
    };
}

flushing!(read, xRead, (data: *mut c_void, amount: c_int, offset: i64));
flushing!(truncate, xTruncate, (size: i64));
flushing!(sync, xSync, (flags: c_int));
flushing!(file_size, xFileSize, (size: *mut i64));
flushing!(file_control, xFileControl, (op: c_int, arg: *mut c_void));
forwarding!(lock, xLock, ffi::SQLITE_IOERR, (level: c_int));
forwarding!(unlock, xUnlock, ffi::SQLITE_IOERR, (level: c_int));
forwarding!(check_reserved_lock, xCheckReservedLock, ffi::SQLITE_IOERR, (out: *mut c_int));
forwarding!(sector_size, xSectorSize, 4096, ());
forwarding!(device_characteristics, xDeviceCharacteristics, 0, ());
forwarding!(shm_map, xShmMap, ffi::SQLITE_IOERR, (region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void));
forwarding!(shm_lock, xShmLock, ffi::SQLITE_IOERR, (offset: c_int, n: c_int, flags: c_int));
forwarding!(shm_unmap, xShmUnmap, ffi::SQLITE_OK, (delete: c_int));
forwarding!(fetch, xFetch, ffi::SQLITE_OK, (offset: i64, amount: c_int, out: *mut *mut c_void));
forwarding!(unfetch, xUnfetch, ffi::SQLITE_OK, (offset: i64, page: *mut c_void));

/// `xShmBarrier`, forwarded.
///
/// # Safety
/// As [`real`].
unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    let (real, methods) = real(file);
    if let Some(x) = methods.xShmBarrier {
        x(real);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, OpenFlags};
    use std::cell::Cell;

    thread_local! {
        /// Writes this thread passed on to WAL files.
        pub(super) static WAL_WRITES: Cell<u64> = const { Cell::new(0) };
        /// Of those, writes that did not append (passed on at once).
        pub(super) static IN_PLACE: Cell<u64> = const { Cell::new(0) };
    }

    #[test]
    fn the_switch_turns_the_shim_off_only_when_asked() {
        for on in [None, Some(""), Some("1"), Some("on"), Some("yes"), Some("anything")] {
            assert!(switched_on(on), "{on:?}");
        }
        for off in ["0", "off", "OFF", " false ", "No"] {
            assert!(!switched_on(Some(off)), "{off}");
        }
    }

    fn name() -> &'static str {
        VFS_NAME.to_str().expect("ASCII")
    }

    fn open(path: &std::path::Path) -> Connection {
        register().expect("register");
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags_and_vfs(path, flags, name()).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn
    }

    #[test]
    fn commits_through_the_shim_are_seen_by_a_plain_connection_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open(&path);
        conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY, pad TEXT)").unwrap();
        // Transactions of one and of many pages, and one past the gathering bound.
        for (rows, pad) in [(1, 10), (50, 500), (400, 4000)] {
            let tx = conn.unchecked_transaction().unwrap();
            for _ in 0..rows {
                tx.execute("INSERT INTO t (pad) VALUES (?1)", ["x".repeat(pad)]).unwrap();
            }
            tx.commit().unwrap();
            // Another connection (default VFS) reads the WAL from the file itself.
            let other = Connection::open(&path).unwrap();
            let count: i64 = other.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
            let expected: i64 = match rows {
                1 => 1,
                50 => 51,
                _ => 451,
            };
            assert_eq!(count, expected);
        }
        // A rolled-back transaction leaves nothing.
        let tx = conn.unchecked_transaction().unwrap();
        tx.execute("INSERT INTO t (pad) VALUES ('gone')", []).unwrap();
        tx.rollback().unwrap();
        drop(conn);
        let conn = Connection::open(&path).unwrap();
        let (count, check): (i64, String) = (
            conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap(),
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap(),
        );
        assert_eq!((count, check.as_str()), (451, "ok"));
    }

    #[test]
    fn a_commit_is_one_write_of_every_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open(&path);
        conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT); CREATE INDEX t_y ON t (y)").unwrap();
        let wal = dir.path().join("t.db-wal");
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let page = page as u64;
        for i in 0..3 {
            let (size, writes) = (std::fs::metadata(&wal).unwrap().len(), WAL_WRITES.with(Cell::get));
            conn.execute("INSERT INTO t (y) VALUES (?1)", [i]).unwrap();
            // Two pages (the table and its index), each a header and a page: in the file, with
            // one write.
            assert_eq!(std::fs::metadata(&wal).unwrap().len() - size, 2 * (FRAME_HEADER as u64 + page));
            assert_eq!(WAL_WRITES.with(Cell::get) - writes, 1);
        }
    }

    #[test]
    fn a_transaction_larger_than_the_cache_rewrites_frames_in_place_and_stays_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open(&path);
        // A tiny cache: the transaction spills pages into the WAL before it commits, then writes
        // some of them again (in place) and rewrites the checksums after its commit frame.
        conn.pragma_update(None, "cache_size", 2).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT); CREATE INDEX t_y ON t (y)").unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..2000 {
            tx.execute("INSERT INTO t (y) VALUES (?1)", [format!("{i:0>50}")]).unwrap();
        }
        tx.execute("UPDATE t SET y = y || 'x' WHERE x % 7 = 0", []).unwrap();
        tx.commit().unwrap();
        assert!(IN_PLACE.with(Cell::get) > 0, "the transaction rewrote no frame: the test tests nothing");
        // Another connection reads the WAL's frames from the file.
        let other = Connection::open(&path).unwrap();
        let count: i64 = other.query_row("SELECT COUNT(*) FROM t WHERE y LIKE '%x'", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 285);
        // And recovery from the files alone (a copy without the shared-memory index) finds the
        // whole transaction.
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(&path, copy.path().join("t.db")).unwrap();
        std::fs::copy(dir.path().join("t.db-wal"), copy.path().join("t.db-wal")).unwrap();
        let conn = Connection::open(copy.path().join("t.db")).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!((check.as_str(), total), ("ok", 2000));
    }
}
