//! The HTTP clients of the process: one `reqwest::Client` per distinct configuration, shared by
//! every model object.
//!
//! A model object is made for every agent of every execution; sharing the clients lets executions
//! reuse each other's keep-alive connections to the same endpoint and builds each client's
//! connector once (the system's root certificates are loaded once per process, at the first TLS
//! handshake: [`tls`](super::tls)). A client carries no endpoint, key or per-request state, so
//! sharing one between models is safe; the number of distinct configurations is the number of distinct timeout
//! settings (in practice one), so the table stays tiny. Clients have no total timeout: a request's
//! limit is set per request ([`DirectTransport`](super::transport::DirectTransport)).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// What distinguishes one client from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// Establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Never go through `HTTP(S)_PROXY` (for servers on this machine).
    pub no_proxy: bool,
}

static CLIENTS: OnceLock<Mutex<HashMap<ClientConfig, reqwest::Client>>> = OnceLock::new();

/// The process's client for `config`, built on first use. Fails only when a client cannot be
/// built (TLS initialisation); a failure is not cached.
pub fn shared_client(config: ClientConfig) -> Result<reqwest::Client, reqwest::Error> {
    let clients = CLIENTS.get_or_init(Mutex::default);
    if let Some(client) = clients.lock().unwrap_or_else(|e| e.into_inner()).get(&config) {
        return Ok(client.clone());
    }
    // Built outside the lock: another thread may build the same one meanwhile; the first kept wins.
    let built = build(config)?;
    let mut clients = clients.lock().unwrap_or_else(|e| e.into_inner());
    Ok(clients.entry(config).or_insert(built).clone())
}

fn build(config: ClientConfig) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .retry(reqwest::retry::never())
        .user_agent(concat!("crew-runner/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls(super::tls::client_config());
    if config.no_proxy {
        builder = builder.no_proxy();
    }
    builder.build()
}

/// How many distinct clients the process holds (for tests).
#[cfg(test)]
fn count() -> usize {
    CLIENTS.get().map_or(0, |c| c.lock().unwrap().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_per_configuration() {
        // Timeouts no other test uses, so the count is this test's alone.
        let a = ClientConfig { connect_timeout: Duration::from_millis(4321), no_proxy: true };
        let b = ClientConfig { no_proxy: false, ..a };
        let before = count();
        shared_client(a).unwrap();
        shared_client(a).unwrap();
        shared_client(b).unwrap();
        shared_client(b).unwrap();
        assert!(count() >= before + 2);
        let entries: Vec<ClientConfig> = CLIENTS.get().unwrap().lock().unwrap().keys().copied().collect();
        assert_eq!(entries.iter().filter(|c| **c == a || **c == b).count(), 2);
    }
}
