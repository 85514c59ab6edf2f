//! Worker identities: which process of which host owns a running execution.

use std::fmt;

/// A worker's owner id: `host:pid:nonce`, written into the executions it claims.
///
/// The nonce (random per process start) keeps two runs of a reused pid apart, and names the
/// owner's lock file (`store/liveness.rs`), which tells whether the owner is alive: host and pid
/// alone cannot (a pid means another process in another PID namespace).
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
}
