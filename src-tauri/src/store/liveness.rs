//! Whether a worker process is alive, told by an OS lock the kernel releases when it dies.
//!
//! Each scheduler that claims work holds an exclusive `flock(2)` on its own *owner lock file*,
//! `<database>-owners/<nonce>.lock`, from before its first claim until it stops. Any process on
//! the same machine (in any PID namespace, container or Flatpak sandbox that shares the file
//! system) can ask whether an owner is alive by trying to take that lock without waiting:
//! - the lock is held: the owner is [`Liveness::Alive`], however long ago it renewed its lease
//!   (a stopped or suspended process keeps its lock, so its work is never taken over);
//! - the lock can be taken: the owner is [`Liveness::Gone`] (the kernel released the lock when it
//!   died), and its executions are recovered at once;
//! - there is no lock file, or locks do not work on this file system: [`Liveness::Unknown`], and
//!   only an expired lease lets another worker take the execution over (the fencing tokens keep a
//!   late writer out).
//!
//! A lock file is created under a temporary name, locked, then renamed into place, so a probe
//! never sees an unlocked file of a live owner. It is removed when its [`OwnerLock`] is dropped,
//! and by the first process that finds it free (a crashed owner's).
//!
//! Other machines sharing the data dir over a network file system are not supported: `flock`
//! may be local to each client there. [`OwnerLock::acquire`] warns when the data dir is on NFS
//! or SMB, and `CREW_RUNNER_OWNER_LOCKS=off` runs without a lock (leases and fencing only).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::OwnerId;

/// The variable that turns owner locks off (`off`): for file systems whose locks misbehave. Such
/// a worker is [`Liveness::Unknown`] to others, which then wait for its lease to expire.
pub const OWNER_LOCKS_VAR: &str = "CREW_RUNNER_OWNER_LOCKS";

/// What a probe of an owner's lock says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Its lock is held: the process is alive (possibly stopped or slow).
    Alive,
    /// Its lock is free: the process is gone.
    Gone,
    /// No lock to ask (another machine, an older version, locks off or not supported).
    Unknown,
}

/// Why another worker may take over a running execution now (`None`: it may not).
///
/// Only from an owner that is gone, or whose liveness is unknown and whose lease expired. An
/// owner whose lock is held keeps its executions whatever its lease says: it is alive, perhaps
/// stopped (`SIGSTOP`), suspended or behind a stepped clock, and taking its work would run it
/// twice.
pub fn takeover_reason(liveness: Liveness, lease_expired: bool) -> Option<&'static str> {
    match (liveness, lease_expired) {
        (Liveness::Alive, _) => None,
        (Liveness::Gone, _) => Some("its worker process is gone"),
        (Liveness::Unknown, true) => Some("its worker's lease expired"),
        (Liveness::Unknown, false) => None,
    }
}

/// The folder of owner lock files of the database at `database`.
pub fn owners_dir(database: &Path) -> PathBuf {
    let mut name = database.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push("-owners");
    database.with_file_name(name)
}

fn lock_path(dir: &Path, owner: &OwnerId) -> Option<PathBuf> {
    // The nonce is 16 hex digits written by `OwnerId::current`; anything else names no file.
    let nonce = &owner.nonce;
    if nonce.is_empty() || !nonce.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(dir.join(format!("{nonce}.lock")))
}

/// The lock a running worker holds while it may own executions. Dropping it removes the file
/// and releases the lock.
#[derive(Debug)]
pub struct OwnerLock {
    /// `None` when running without a lock (turned off, or not supported here).
    held: Option<(File, PathBuf)>,
}

impl OwnerLock {
    /// Takes `owner`'s lock in the owners folder of `database` (creating the folder). Locks turned
    /// off ([`OWNER_LOCKS_VAR`]) or not
    /// supported by the file system give a lock that holds nothing (with a warning); any other
    /// failure (a read-only folder, no permission) is an error.
    pub fn acquire(database: &Path, owner: &OwnerId) -> io::Result<OwnerLock> {
        if std::env::var(OWNER_LOCKS_VAR).is_ok_and(|v| v.trim().eq_ignore_ascii_case("off")) {
            tracing::warn!(
                "{OWNER_LOCKS_VAR}=off: running without an owner lock; others recover this worker's executions only when its lease expires"
            );
            return Ok(OwnerLock { held: None });
        }
        let dir = owners_dir(database);
        std::fs::create_dir_all(&dir)?;
        warn_if_network_fs(&dir);
        let Some(path) = lock_path(&dir, owner) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("owner id {owner} has no usable nonce")));
        };
        let staging = path.with_extension("lock.new");
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&staging)?;
        match try_lock(&file) {
            Ok(true) => {}
            Ok(false) => return Err(io::Error::other(format!("{} is locked by another process", staging.display()))),
            Err(e) if lock_unsupported(&e) => {
                tracing::warn!("owner locks are not supported in {} ({e}); running on leases alone", dir.display());
                let _ = std::fs::remove_file(&staging);
                return Ok(OwnerLock { held: None });
            }
            Err(e) => return Err(e),
        }
        use std::io::Write as _;
        let _ = (&file).write_all(owner.to_string().as_bytes());
        std::fs::rename(&staging, &path)?;
        Ok(OwnerLock { held: Some((file, path)) })
    }

    /// Whether a lock is held (false when locks are off or not supported).
    pub fn is_held(&self) -> bool {
        self.held.is_some()
    }
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        if let Some((file, path)) = self.held.take() {
            // Removed before the lock is released (closing the file), so nobody finds it free.
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
    }
}

/// Asks whether `owner` (an [`OwnerId`] text) of the database at `database` is alive.
/// Read-only: needs no write access to the database or the folder.
pub fn probe(database: &Path, owner: &str) -> Liveness {
    let Some(owner) = OwnerId::parse(owner) else { return Liveness::Unknown };
    let Some(path) = lock_path(&owners_dir(database), &owner) else { return Liveness::Unknown };
    probe_file(&path)
}

fn probe_file(path: &Path) -> Liveness {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(_) => return Liveness::Unknown,
    };
    // A shared lock: probes never block each other (two readers both see a gone owner gone),
    // only the owner's exclusive lock blocks them.
    match try_lock_shared(&file) {
        Ok(false) => Liveness::Alive,
        Ok(true) => Liveness::Gone,
        Err(_) => Liveness::Unknown,
    }
}

/// Whether any worker holds its owner lock on the database at `database` (one that would
/// recover the executions of a gone owner within its next heartbeat).
pub fn any_worker_alive(database: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(owners_dir(database)) else { return false };
    entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".lock") && probe_file(&e.path()) == Liveness::Alive)
}

/// Marks each running execution whose owner is gone (`owner_gone`), as readers show it.
pub fn mark_gone_owners<'a>(database: &Path, executions: impl IntoIterator<Item = &'a mut crate::execution::Execution>) {
    for e in executions {
        if let crate::execution::ExecutionState::Running { owner, owner_gone, .. } = &mut e.state {
            *owner_gone = probe(database, owner) == Liveness::Gone;
        }
    }
}

/// Removes the lock files of owners that are gone (and staging files their creator left).
///
/// Called by recovery after it took over every running execution of the owners it found gone, in
/// the same write transaction (no other process can claim meanwhile): a gone owner's file is
/// what tells others it is gone, so it must outlive the owner's running executions. `keep`
/// names (by nonce) the owners whose files must stay even if gone now: those that still own
/// running executions (they died after recovery looked at them).
pub fn sweep_gone(database: &Path, keep: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(owners_dir(database)) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(nonce) = name.strip_suffix(".lock") {
            if !keep(nonce) && probe_file(&path) == Liveness::Gone {
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".lock.new") {
            // A staging file is only unlocked when its creator died before the rename.
            if let Ok(file) = File::open(&path) {
                if matches!(try_lock(&file), Ok(true)) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(true)` when taken, `Ok(false)` when another holds it.
fn try_lock(file: &File) -> io::Result<bool> {
    try_flock(file, true)
}

/// `flock(LOCK_SH | LOCK_NB)`: `Ok(true)` when taken (nobody holds it exclusively).
fn try_lock_shared(file: &File) -> io::Result<bool> {
    try_flock(file, false)
}

#[cfg(unix)]
fn try_flock(file: &File, exclusive: bool) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let operation = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH };
    // SAFETY: flock only reads the descriptor, which `file` keeps open for the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
fn try_flock(_file: &File, _exclusive: bool) -> io::Result<bool> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "owner locks are implemented for unix only"))
}

fn lock_unsupported(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS))
            || e.kind() == io::ErrorKind::Unsupported
    }
    #[cfg(not(unix))]
    {
        e.kind() == io::ErrorKind::Unsupported
    }
}

/// Warns when `dir` is on a network file system (NFS, SMB/CIFS), where other machines' locks are
/// not seen: sharing a data dir between machines is not supported.
fn warn_if_network_fs(dir: &Path) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return };
        // SAFETY: statfs writes into `stat`, a plain C struct we own; `c_path` is a valid C string.
        let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statfs(c_path.as_ptr(), &mut stat) } != 0 {
            return;
        }
        const NFS: i64 = 0x6969;
        const SMB: i64 = 0x517B;
        const CIFS: i64 = 0xFF53_4D42;
        const SMB2: i64 = 0xFE53_4D42;
        #[allow(clippy::unnecessary_cast)]
        let kind = stat.f_type as i64;
        if [NFS, SMB, CIFS, SMB2].contains(&kind) {
            tracing::warn!(
                "{} is on a network file system: workers on other machines sharing this data dir are not supported (their liveness cannot be seen)",
                dir.display()
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gone_owners_and_expired_unknown_ones_are_taken_over() {
        assert_eq!(takeover_reason(Liveness::Alive, false), None);
        assert_eq!(takeover_reason(Liveness::Alive, true), None);
        assert_eq!(takeover_reason(Liveness::Gone, false), Some("its worker process is gone"));
        assert_eq!(takeover_reason(Liveness::Gone, true), Some("its worker process is gone"));
        assert_eq!(takeover_reason(Liveness::Unknown, false), None);
        assert_eq!(takeover_reason(Liveness::Unknown, true), Some("its worker's lease expired"));
    }

    #[test]
    fn a_held_lock_is_alive_and_a_released_one_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crew-runner.db");
        let owner = OwnerId::current();
        let lock = OwnerLock::acquire(&db, &owner).unwrap();
        assert!(lock.is_held());
        assert_eq!(probe(&db, &owner.to_string()), Liveness::Alive);
        // Another open file description of the same file cannot take it either (as another
        // process would not).
        let path = lock_path(&owners_dir(&db), &owner).unwrap();
        assert_eq!(probe_file(&path), Liveness::Alive);
        drop(lock);
        // Dropped: the file is gone, so nothing can be said.
        assert_eq!(probe(&db, &owner.to_string()), Liveness::Unknown);
        assert!(!any_worker_alive(&db));
        // A crashed owner leaves its file unlocked: gone (and the probe leaves the file).
        std::fs::write(&path, "x").unwrap();
        assert_eq!(probe(&db, &owner.to_string()), Liveness::Gone);
        assert!(path.exists());
        let other = OwnerLock::acquire(&db, &OwnerId::current()).unwrap();
        assert!(any_worker_alive(&db));
        sweep_gone(&db, |nonce| nonce == "never");
        assert!(!path.exists(), "a sweep removes the files of gone owners");
        assert!(other.is_held());
    }

    #[test]
    fn unknown_owners_and_odd_ids_are_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        assert_eq!(probe(&db, "host:1:abcdef"), Liveness::Unknown);
        assert_eq!(probe(&db, "not an owner"), Liveness::Unknown);
        assert_eq!(probe(&db, "host:1:../../etc"), Liveness::Unknown);
    }

    #[test]
    fn a_sweep_keeps_live_owners_files() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let owner = OwnerId::current();
        let _lock = OwnerLock::acquire(&db, &owner).unwrap();
        let stale = owners_dir(&db).join("0123456789abcdef.lock");
        std::fs::write(&stale, "h:1:0123456789abcdef").unwrap();
        sweep_gone(&db, |nonce| nonce == "fedcba9876543210");
        assert!(!stale.exists());
        let kept = owners_dir(&db).join("fedcba9876543210.lock");
        std::fs::write(&kept, "h:1:fedcba9876543210").unwrap();
        sweep_gone(&db, |nonce| nonce == "fedcba9876543210");
        assert!(kept.exists(), "a gone owner that still owns executions keeps its file");
        assert_eq!(probe(&db, &owner.to_string()), Liveness::Alive);
    }
}
