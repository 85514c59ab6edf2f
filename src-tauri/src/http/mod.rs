//! The local HTTP API: the [`Runner`] over HTTP/1.1 with JSON bodies and Server-Sent Events, for
//! `crew-runner serve` and the desktop app (`gui/http_server.rs`, when enabled in Settings). No
//! Tauri here.
//!
//! One call starts it: [`serve`] binds, creates or reads the token ([`auth`]), and serves until the
//! shutdown token is cancelled; it returns the [`Server`] with the bound address. Every route is
//! in one table ([`routes`]), from which both the router and the OpenAPI document
//! (`GET /v1/openapi.json`, [`openapi`]) are built.
//!
//! Security: a loopback bind unless [`ServeOptions::allow_remote`]; the `Host` check ([`host`]);
//! the bearer token on every route but `GET /v1/health`; request bodies capped at
//! [`MAX_BODY`](body::MAX_BODY); CORS headers only for [`ServeOptions::cors_origin`]; crew paths
//! checked like the CLI's (absolute, under the workspace policy of the data dir).

mod auth;
mod body;
#[cfg(test)]
pub(crate) mod conformance;
mod error;
mod host;
mod openapi;
mod query;
mod responses;
mod routes;
mod state;
mod submit;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use auth::{TokenError, TOKEN_FILE};
pub use body::MAX_BODY;
pub use error::{ApiError, ErrorKind};
pub use state::LlmEnvSource;

use crate::app::{AppPaths, Runner};

/// Where and how to listen.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The address to bind (default 127.0.0.1).
    pub host: IpAddr,
    /// The port; 0 picks a free one (see [`Server::addr`]).
    pub port: u16,
    /// Allow a bind to a non-loopback address (the LAN, every interface).
    pub allow_remote: bool,
    /// Answer CORS requests from this origin (`https://app.example`), and from no other; `None`:
    /// no CORS headers at all.
    pub cors_origin: Option<String>,
    /// Folders crews' workspaces may be in besides their own folder and the data dir's
    /// `workspaces/` (as `--allow-workspace`).
    pub allowed_workspaces: Vec<PathBuf>,
    /// The LLM environment submissions and validations are checked in; `None`: the process's,
    /// with the data dir's `secrets/` and Python cache (as the CLI's).
    pub llm_env: Option<LlmEnvSource>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8765,
            allow_remote: false,
            cors_origin: None,
            allowed_workspaces: Vec::new(),
            llm_env: None,
        }
    }
}

/// Why the server could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without [`ServeOptions::allow_remote`].
    #[error("refusing to listen on {0}: it is not a loopback address; pass --allow-remote to serve other machines (anyone who can reach the port and has the token can run crews)")]
    RemoteNotAllowed(IpAddr),
    /// The CORS origin is not a valid header value.
    #[error("--cors-origin `{0}`: expected an origin such as https://app.example")]
    BadCorsOrigin(String),
    /// The token file could not be read or created.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The address could not be bound (in use, not on this machine, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// Accepting connections failed for good.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

impl ServeError {
    /// Whether the options were refused (the CLI's exit 2) rather than the machine failing.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ServeError::RemoteNotAllowed(_) | ServeError::BadCorsOrigin(_))
    }
}

/// Checks `options` without binding: the address is loopback or remote serving is allowed, and
/// the CORS origin is a header value.
pub fn check_options(options: &ServeOptions) -> Result<(), ServeError> {
    if !options.host.is_loopback() && !options.allow_remote {
        return Err(ServeError::RemoteNotAllowed(options.host));
    }
    if let Some(origin) = &options.cors_origin {
        if origin.is_empty() || axum::http::HeaderValue::from_str(origin).is_err() {
            return Err(ServeError::BadCorsOrigin(origin.clone()));
        }
    }
    Ok(())
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    token_path: PathBuf,
    token: auth::Token,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// The bound address (the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token file clients read the bearer token from.
    pub fn token_path(&self) -> &std::path::Path {
        &self.token_path
    }

    /// The bearer token this server requires (the token file's contents).
    pub fn token(&self) -> &str {
        self.token.reveal()
    }

    /// Resolves when the server has stopped: after the shutdown token was cancelled and every
    /// open request finished (event streams end at the cancel), or when serving failed.
    pub async fn finished(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(result) => result.map_err(ServeError::Serve),
            Err(e) => Err(ServeError::Serve(std::io::Error::other(e))),
        }
    }
}

/// Starts serving `runner` (which should run a scheduler, so submitted work runs and event
/// streams are live; a client runner works too, its streams polling the store) on the data dir
/// `paths`, as `options` say, until `shutdown` is cancelled. Returns once the socket is bound.
pub async fn serve(runner: Runner, paths: AppPaths, options: ServeOptions, shutdown: CancellationToken) -> Result<Server, ServeError> {
    check_options(&options)?;
    let data_dir = paths.data_dir.clone();
    let token = tokio::task::spawn_blocking(move || auth::Token::load_or_create(&data_dir))
        .await
        .map_err(|e| ServeError::Serve(std::io::Error::other(e)))??;
    let wanted = SocketAddr::new(options.host, options.port);
    let listener = tokio::net::TcpListener::bind(wanted).await.map_err(|source| ServeError::Bind { addr: wanted, source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: wanted, source })?;
    let state = state::ApiState::new(runner, &paths, &options.allowed_workspaces, options.llm_env.clone(), shutdown.clone());
    let router = routes::router(state, token.clone(), host::AllowedHosts::for_bind(addr), options.cors_origin.as_deref());
    let task = tokio::spawn(async move { axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await });
    tracing::info!(%addr, "HTTP API listening");
    Ok(Server { addr, token_path: paths.data_dir.join(TOKEN_FILE), token, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_unless_allowed() {
        let mut options = ServeOptions::default();
        assert!(check_options(&options).is_ok());
        options.host = "::1".parse().unwrap();
        assert!(check_options(&options).is_ok());
        for remote in ["0.0.0.0", "::", "192.168.1.5"] {
            options.host = remote.parse().unwrap();
            assert!(matches!(check_options(&options), Err(ServeError::RemoteNotAllowed(_))), "{remote}");
            options.allow_remote = true;
            assert!(check_options(&options).is_ok());
            options.allow_remote = false;
        }
        options.host = IpAddr::from([127, 0, 0, 1]);
        options.cors_origin = Some("bad\norigin".into());
        assert!(check_options(&options).unwrap_err().is_refusal());
    }
}
