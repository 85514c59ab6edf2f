//! Reaping CrewAI children that outlived their server: the registry of running children and the
//! sweep a starting worker does.
//!
//! Each forked child writes `<children dir>/<pid>.json` (its pid, process group, start time, and
//! its server's pid and start time) and removes it when it exits. A child normally dies with its
//! worker (its connection closes, its server's stdin closes, and both have a parent-death
//! signal); if one survived anyway (the file of a SIGKILLed child also stays), the next worker to
//! start, or the next server to start, finds it here: a child whose server is gone is killed with
//! its whole process group; files of children that are gone are removed. A pid is only trusted
//! together with its start time, so a reused pid is never signalled.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// This user's runtime folder for the CrewAI engine: `$XDG_RUNTIME_DIR/crew-runner`, else
/// `<temp dir>/crew-runner-<uid>`. It holds the shim, the servers' sockets and the children
/// registry.
pub fn runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .map(|p| p.join("crew-runner"))
        // SAFETY: getuid(2) cannot fail and has no memory effects.
        .unwrap_or_else(|| std::env::temp_dir().join(format!("crew-runner-{}", unsafe { libc::getuid() })))
}

/// The folder of the children registry: `<runtime dir>/crewai-children` (per user: every worker
/// of the user sweeps it).
pub fn children_dir() -> PathBuf {
    runtime_dir().join("crewai-children")
}

/// Creates `dir` and its parents with mode 0700 (only this user), returning it.
pub fn private_dir(dir: PathBuf) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    Ok(dir)
}

#[derive(Debug, Deserialize)]
struct Entry {
    pid: i32,
    pgid: i32,
    start: u64,
    server_pid: i32,
    server_start: u64,
}

/// The start time (clock ticks since boot, `/proc/PID/stat` field 22) of a live process, or
/// `None` when it is gone (or a zombie).
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let mut fields = after.split(' ');
    if fields.next()? == "Z" {
        return None;
    }
    // `after` starts at field 3 (state); field 22 is the 20th from here.
    after.split(' ').nth(19)?.parse().ok()
}

fn is_running(pid: i32, start: u64) -> bool {
    pid > 1 && start_time(pid) == Some(start)
}

/// What a sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Process groups of orphaned children killed.
    pub killed: usize,
    /// Files of children that were gone, removed.
    pub cleaned: usize,
}

/// Sweeps `dir` (see the module docs). Never fails: an unreadable entry is left alone.
pub fn reap_orphans(dir: &Path) -> Sweep {
    let mut sweep = Sweep::default();
    let Ok(entries) = std::fs::read_dir(dir) else { return sweep };
    for file in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Some(entry) = std::fs::read(&file).ok().and_then(|b| serde_json::from_slice::<Entry>(&b).ok()) else { continue };
        if !is_running(entry.pid, entry.start) {
            if std::fs::remove_file(&file).is_ok() {
                sweep.cleaned += 1;
            }
            continue;
        }
        if is_running(entry.server_pid, entry.server_start) {
            continue;
        }
        tracing::warn!(pid = entry.pid, pgid = entry.pgid, "a CrewAI process outlived its worker; killing its process group");
        if entry.pgid > 1 {
            // SAFETY: kill(2) has no memory effects; the group is the child's own (it called
            // setpgid(0, 0) before registering), checked alive with its start time just above.
            unsafe { libc::kill(-entry.pgid, libc::SIGKILL) };
        }
        let _ = std::fs::remove_file(&file);
        sweep.killed += 1;
    }
    sweep
}

/// Removes `shim-<pid>-<n>.sock` files in `dir` whose worker `pid` is gone (a server killed
/// before it could remove its socket).
fn remove_stale_sockets(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.flatten().map(|e| e.path()) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let pid = name.strip_prefix("shim-").and_then(|r| r.strip_suffix(".sock")).and_then(|r| r.split('-').next());
        if let Some(pid) = pid.and_then(|p| p.parse::<i32>().ok()) {
            if start_time(pid).is_none() {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Sweeps the registry of this user (at a worker's start), and sockets of workers that are gone.
pub fn reap_orphans_at_start() {
    remove_stale_sockets(&runtime_dir());
    let sweep = reap_orphans(&children_dir());
    if sweep.killed > 0 {
        tracing::warn!(killed = sweep.killed, "killed CrewAI processes left by a worker that died");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn write_entry(dir: &Path, name: &str, v: serde_json::Value) {
        std::fs::write(dir.join(format!("{name}.json")), v.to_string()).unwrap();
    }

    #[test]
    fn an_orphan_is_killed_with_its_group_and_a_live_servers_child_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let spawn = || {
            let mut c = std::process::Command::new("sleep");
            c.arg("60");
            // SAFETY: setpgid is async-signal-safe.
            unsafe {
                c.pre_exec(|| {
                    libc::setpgid(0, 0);
                    Ok(())
                });
            }
            c.spawn().unwrap()
        };
        let mut orphan = spawn();
        let mut kept = spawn();
        let pid = |c: &std::process::Child| c.id() as i32;
        let me = std::process::id() as i32;
        // The orphan's "server" is a process that is gone (a start time no process has).
        write_entry(
            dir.path(),
            "orphan",
            serde_json::json!({"pid": pid(&orphan), "pgid": pid(&orphan), "start": start_time(pid(&orphan)).unwrap(),
                "server_pid": me, "server_start": 1}),
        );
        write_entry(
            dir.path(),
            "kept",
            serde_json::json!({"pid": pid(&kept), "pgid": pid(&kept), "start": start_time(pid(&kept)).unwrap(),
                "server_pid": me, "server_start": start_time(me).unwrap()}),
        );
        write_entry(
            dir.path(),
            "gone",
            serde_json::json!({"pid": 999_999_999, "pgid": 999_999_999, "start": 5, "server_pid": me, "server_start": 1}),
        );
        let sweep = reap_orphans(dir.path());
        assert_eq!(sweep, Sweep { killed: 1, cleaned: 1 });
        let status = orphan.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
        assert!(kept.try_wait().unwrap().is_none(), "a child whose server lives is left alone");
        assert!(dir.path().join("kept.json").exists());
        kept.kill().unwrap();
        kept.wait().unwrap();
    }
}
