//! Child processes that tools start (stdio MCP servers, command tools): each in a process group of
//! its own, killed as a group when its [`GroupGuard`] is dropped.
//!
//! On Linux the child also gets a parent-death signal (`PR_SET_PDEATHSIG` = `SIGKILL`), so it does
//! not outlive a worker that dies without running its destructors. That signal reaches the
//! direct child only; its own children are reached by the group kill. Not on Unix there are no
//! process groups: the child alone is killed when dropped (`kill_on_drop`).

use std::io;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// Kills a child's whole process group (`SIGKILL`) when dropped, unless [`disarm`](Self::disarm)ed.
#[derive(Debug)]
pub struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    /// The group's id (the child's pid).
    pub fn pgid(&self) -> Option<i32> {
        self.pgid
    }

    /// Kills the group now (idempotent).
    pub fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid.take() {
            // SAFETY: kill(2) on a process group has no memory effects; the group is the child's
            // own (process_group(0) at spawn), so nothing else is signalled.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Spawns `command` with piped stdin/stdout/stderr in a new process group (and, on Linux, with a
/// parent-death `SIGKILL`); the child is reaped by tokio when dropped (`kill_on_drop`).
pub fn spawn_in_group(mut command: Command) -> io::Result<(Child, GroupGuard)> {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
            Ok(())
        });
    }
    let child = command.spawn()?;
    let pgid = if cfg!(unix) { child.id().map(|p| p as i32) } else { None };
    Ok((child, GroupGuard { pgid }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_the_guard_kills_the_whole_group() {
        let mut command = Command::new("sh");
        // A grandchild in the same group, then report both pids.
        command.args(["-c", "sleep 60 & exec sleep 60"]);
        let (mut child, guard) = spawn_in_group(command).unwrap();
        let pgid = guard.pgid().unwrap();
        drop(guard);
        let status = child.wait().await.unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
        // The grandchild got the same SIGKILL: it leaves the running states once the kernel has
        // delivered it (bounded wait for that, not a timing assertion).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !live_members(pgid).is_empty() {
            assert!(std::time::Instant::now() < deadline, "still running in group {pgid}: {:?}", live_members(pgid));
            tokio::task::yield_now().await;
        }
    }

    /// Pids of processes in group `pgid` that are not zombies.
    fn live_members(pgid: i32) -> Vec<i32> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect::<Vec<_>>()) else { continue };
            // Fields after the name: state, ppid, pgrp, …
            if rest.len() > 2 && rest[2] == pgid.to_string() && rest[0] != "Z" && rest[0] != "X" {
                out.push(pid);
            }
        }
        out
    }
}
