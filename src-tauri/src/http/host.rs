//! The `Host` check: a browser page on another site that got a name of its own to resolve to
//! this machine (DNS rebinding) sends its own name as `Host`; such requests are refused.
//!
//! Accepted `Host` values ([`AllowedHosts`]), with the port the server is bound to:
//! - a loopback bind (127.0.0.1, ::1): `localhost:PORT`, `127.0.0.1:PORT`, `[::1]:PORT`;
//! - a specific other address (with `--allow-remote`): that address, `ADDR:PORT`;
//! - an unspecified address (`0.0.0.0`, `::`, with `--allow-remote`): any name, since the names the
//!   machine is reached by cannot be known; the token still guards every route.
//!
//! Names compare case-insensitively; a `Host` without a port means port 80.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorKind};

/// The `Host` header values a server accepts (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedHosts {
    /// Bound to an unspecified address: any `Host`.
    Any,
    /// These `host:port` values (lowercase).
    Only(Vec<String>),
}

impl AllowedHosts {
    /// What a server bound to `addr` accepts.
    pub fn for_bind(addr: SocketAddr) -> AllowedHosts {
        let port = addr.port();
        match addr.ip() {
            ip if ip.is_unspecified() => AllowedHosts::Any,
            ip if ip.is_loopback() => AllowedHosts::Only(
                vec![format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")]
                    .into_iter()
                    .chain(std::iter::once(host_port(ip, port)))
                    .collect(),
            ),
            ip => AllowedHosts::Only(vec![host_port(ip, port)]),
        }
    }

    /// Whether a request with this `Host` header value (`None`: no header) is served.
    pub fn accepts(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return matches!(self, AllowedHosts::Any) };
        match self {
            AllowedHosts::Any => true,
            AllowedHosts::Only(allowed) => {
                let host = host.trim().to_ascii_lowercase();
                let with_port = if has_port(&host) { host } else { format!("{host}:80") };
                allowed.contains(&with_port)
            }
        }
    }
}

/// `ip:port` as it appears in a `Host` header (IPv6 in brackets).
fn host_port(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string().to_ascii_lowercase()
}

/// Whether a `Host` value ends with `:PORT` (an IPv6 literal's colons are inside brackets).
fn has_port(host: &str) -> bool {
    match host.rsplit_once(':') {
        Some((name, port)) => !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && (!name.contains(':') || name.ends_with(']')),
        None => false,
    }
}

/// Middleware: refuses a request whose `Host` is not accepted ([`ErrorKind::ForbiddenHost`], 403).
pub async fn check_host(State(allowed): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let host = request.headers().get(HOST).and_then(|v| v.to_str().ok());
    if allowed.accepts(host) {
        return next.run(request).await;
    }
    let shown = host.map(|h| format!("`{}`", h.escape_debug())).unwrap_or_else(|| "none".into());
    ApiError::new(ErrorKind::ForbiddenHost, format!("Host {shown} is not this server; use the address it listens on")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_loopback_bind_accepts_its_loopback_names_at_its_port() {
        let allowed = AllowedHosts::for_bind(addr("127.0.0.1:8765"));
        for ok in ["localhost:8765", "LOCALHOST:8765", "127.0.0.1:8765", "[::1]:8765"] {
            assert!(allowed.accepts(Some(ok)), "{ok}");
        }
        for refused in ["evil.example:8765", "localhost:8766", "localhost", "127.0.0.1", "localhost.evil.example:8765", "[::1]", ""] {
            assert!(!allowed.accepts(Some(refused)), "{refused}");
        }
        assert!(!allowed.accepts(None));
        assert!(AllowedHosts::for_bind(addr("[::1]:80")).accepts(Some("localhost")));
        assert!(AllowedHosts::for_bind(addr("[::1]:80")).accepts(Some("[::1]")));
    }

    #[test]
    fn other_binds() {
        let specific = AllowedHosts::for_bind(addr("192.168.1.5:9000"));
        assert!(specific.accepts(Some("192.168.1.5:9000")));
        assert!(!specific.accepts(Some("localhost:9000")));
        assert_eq!(AllowedHosts::for_bind(addr("0.0.0.0:9000")), AllowedHosts::Any);
        assert!(AllowedHosts::Any.accepts(Some("anything:1")) && AllowedHosts::Any.accepts(None));
    }
}
