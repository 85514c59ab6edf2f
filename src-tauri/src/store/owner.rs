//! Worker identities that say where the worker runs, so a dead worker can be told apart from a
//! slow one.

use std::fmt;

/// A worker's owner id: `host:pid:nonce`, written into the executions it claims.
///
/// The nonce (random per process start) keeps two runs of a reused pid apart. An owner is
/// *provably dead* when it ran on this host and no process with its pid is alive; executions of
/// such an owner can be recovered without waiting for their lease to expire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OwnerId {
    pub host: String,
    pub pid: u32,
    pub nonce: String,
}

impl OwnerId {
    /// The id of this process (with a fresh nonce).
    pub fn current() -> OwnerId {
        OwnerId { host: this_host(), pid: std::process::id(), nonce: format!("{:016x}", rand::random::<u64>()) }
    }

    /// Parses `host:pid:nonce` (the host may itself contain `:`); `None` if it is not one.
    pub fn parse(text: &str) -> Option<OwnerId> {
        let mut parts = text.rsplitn(3, ':');
        let nonce = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next()?.to_string();
        Some(OwnerId { host, pid, nonce })
    }

    /// True only when the owner ran on this host and its pid is not alive. Unknown hosts, a pid
    /// that is alive (possibly reused) and platforms without a liveness check give `false`.
    pub fn is_provably_dead(&self) -> bool {
        self.host == this_host() && !pid_alive(self.pid)
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.host, self.pid, self.nonce)
    }
}

/// This machine's host name (`localhost` when it cannot be read).
pub fn this_host() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            if let Ok(name) = std::str::from_utf8(&buf[..end]) {
                if !name.is_empty() {
                    return name.to_string();
                }
            }
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".to_string())
}

/// Whether a process with this pid exists (on unix: `kill(pid, 0)` succeeds or is refused).
fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
        if pid <= 0 {
            return true;
        }
        // SAFETY: signal 0 performs only the existence and permission checks.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_parses_hosts_with_colons() {
        let me = OwnerId::current();
        assert_eq!(OwnerId::parse(&me.to_string()), Some(me.clone()));
        let odd = OwnerId::parse("fe80::1:42:abc").unwrap();
        assert_eq!((odd.host.as_str(), odd.pid, odd.nonce.as_str()), ("fe80::1", 42, "abc"));
        assert_eq!(OwnerId::parse("nopid"), None);
        assert_eq!(OwnerId::parse("h:notanumber:n"), None);
    }

    #[test]
    fn this_process_is_alive_and_an_exited_child_is_dead() {
        assert!(!OwnerId::current().is_provably_dead());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = OwnerId { host: this_host(), pid, nonce: "x".into() };
        assert!(dead.is_provably_dead());
        let elsewhere = OwnerId { host: "some-other-host".into(), pid, nonce: "x".into() };
        assert!(!elsewhere.is_provably_dead());
    }
}
