//! The local HTTP API inside the desktop app: the same server as `crew-runner serve`
//! ([`crate::http::serve`]) on the app's own [`Runner`], so requests go through the one
//! application API the commands use and submitted work runs in this app's scheduler.
//!
//! [`HttpServer::apply`] makes the server match the `http_api` setting: it starts the server when
//! the setting is on, stops it (cancel, then wait for open requests; event streams end at the
//! cancel) when it is off, and restarts it when the port or the allowed workspaces change. It is
//! called at start-up and after every settings change; [`HttpServer::stop`] runs when the app exits,
//! before the scheduler stops. A server that cannot start (the port is in use, the token file is
//! unreadable) never stops the app: the error is kept, shown in Settings, and the start is tried
//! again at the next settings change.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::settings::{HttpApiSettings, Settings};
use crate::app::{AppPaths, Runner};
use crate::http::{LlmEnvSource, ServeOptions, Server};

/// What the server is started from: the part of the settings it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Wanted {
    port: u16,
    allowed_workspaces: Vec<PathBuf>,
}

impl Wanted {
    /// `None` when the HTTP API is off.
    fn from_settings(settings: &Settings) -> Option<Wanted> {
        settings.http_api.enabled.then(|| Wanted {
            port: settings.http_api.port,
            allowed_workspaces: settings.allowed_workspaces.iter().map(PathBuf::from).collect(),
        })
    }
}

/// The server's state.
#[derive(Default)]
enum Current {
    #[default]
    Off,
    Running {
        wanted: Wanted,
        server: Server,
        shutdown: CancellationToken,
    },
    Failed {
        error: String,
    },
}

/// The app's HTTP server: off until [`apply`](Self::apply) finds the setting on.
#[derive(Default)]
pub struct HttpServer {
    current: Mutex<Current>,
    /// The LLM environment requests are checked in (`None`: the process's).
    llm_env: Option<LlmEnvSource>,
}

/// The HTTP API part of the Settings view: the setting and what the server is doing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HttpApiView {
    pub enabled: bool,
    /// The port setting.
    pub port: u16,
    /// `http://127.0.0.1:PORT` while the server listens, else `None`.
    pub url: Option<String>,
    /// The bearer token clients send (the data dir's `http-token`), while the server listens.
    pub token: Option<String>,
    /// Why the server could not start with the current setting, else `None`.
    pub error: Option<String>,
}

impl std::fmt::Debug for HttpApiView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpApiView")
            .field("enabled", &self.enabled)
            .field("port", &self.port)
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("error", &self.error)
            .finish()
    }
}

impl HttpServer {
    /// An HTTP server (off) whose requests are checked in `llm_env`'s environment: the app passes
    /// its executor's, so a model key set in Settings counts as it does for the New run view.
    pub fn new(llm_env: LlmEnvSource) -> HttpServer {
        HttpServer { current: Mutex::default(), llm_env: Some(llm_env) }
    }

    /// Makes the server match `settings` (see the module docs), serving `runner` on the data dir
    /// `paths`: nothing changes while it runs as they say; otherwise a running server is stopped
    /// and, when the setting is on, a new one started (a failed start is kept as the error).
    pub async fn apply(&self, runner: &Runner, paths: &AppPaths, settings: &Settings) {
        let wanted = Wanted::from_settings(settings);
        let mut current = self.current.lock().await;
        if matches!(&*current, Current::Running { wanted: running, .. } if Some(running) == wanted.as_ref()) {
            return;
        }
        stop(&mut current).await;
        if let Some(wanted) = wanted {
            *current = start(runner, paths, wanted, self.llm_env.clone()).await;
        }
    }

    /// Stops the server if it runs (and forgets a start error). Idempotent.
    pub async fn stop(&self) {
        stop(&mut *self.current.lock().await).await;
    }

    /// The view of `setting` (the current one) with the server's state.
    pub async fn view(&self, setting: &HttpApiSettings) -> HttpApiView {
        let mut view = HttpApiView { enabled: setting.enabled, port: setting.port, url: None, token: None, error: None };
        match &*self.current.lock().await {
            Current::Running { server, .. } => {
                view.url = Some(format!("http://{}", server.addr()));
                view.token = Some(server.token().to_string());
            }
            Current::Failed { error } => view.error = Some(error.clone()),
            Current::Off => {}
        }
        view
    }
}

async fn start(runner: &Runner, paths: &AppPaths, wanted: Wanted, llm_env: Option<LlmEnvSource>) -> Current {
    let options =
        ServeOptions { port: wanted.port, allowed_workspaces: wanted.allowed_workspaces.clone(), llm_env, ..ServeOptions::default() };
    let shutdown = CancellationToken::new();
    match crate::http::serve(runner.clone(), paths.clone(), options, shutdown.clone()).await {
        Ok(server) => Current::Running { wanted, server, shutdown },
        Err(e) => {
            tracing::warn!("the HTTP API did not start: {e}");
            Current::Failed { error: e.to_string() }
        }
    }
}

async fn stop(current: &mut Current) {
    if let Current::Running { server, shutdown, .. } = std::mem::take(current) {
        shutdown.cancel();
        if let Err(e) = server.finished().await {
            tracing::warn!("the HTTP API stopped with an error: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(port: u16) -> Settings {
        Settings { http_api: HttpApiSettings { enabled: true, port }, ..Settings::default() }
    }

    fn runner(paths: &AppPaths) -> Runner {
        Runner::open_client(&paths.database()).unwrap()
    }

    #[tokio::test]
    async fn it_starts_keeps_restarts_and_stops_as_the_setting_says() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::resolve(Some(dir.path())).unwrap();
        let runner = runner(&paths);
        let server = HttpServer::default();

        server.apply(&runner, &paths, &Settings::default()).await;
        let off = server.view(&Settings::default().http_api).await;
        assert_eq!((off.enabled, off.port, off.url, off.token, off.error), (false, 8765, None, None, None));

        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = taken.local_addr().unwrap().port();
        server.apply(&runner, &paths, &on(busy)).await;
        let failed = server.view(&on(busy).http_api).await;
        assert!(failed.url.is_none() && failed.token.is_none());
        assert!(failed.error.as_deref().unwrap().starts_with(&format!("cannot listen on 127.0.0.1:{busy}: ")), "{failed:?}");

        // Freed: the next apply tries again.
        drop(taken);
        server.apply(&runner, &paths, &on(busy)).await;
        let running = server.view(&on(busy).http_api).await;
        assert_eq!(running.url.as_deref(), Some(format!("http://127.0.0.1:{busy}").as_str()));
        let token = running.token.clone().unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(crate::http::TOKEN_FILE)).unwrap().trim(), token);
        assert!(!format!("{running:?}").contains(&token), "Debug hides the token");

        // The same settings keep the server (the port stays bound by it).
        server.apply(&runner, &paths, &on(busy)).await;
        assert!(std::net::TcpListener::bind(("127.0.0.1", busy)).is_err());

        server.stop().await;
        assert!(server.view(&on(busy).http_api).await.url.is_none());
        std::net::TcpListener::bind(("127.0.0.1", busy)).expect("the port is free once stopped");
    }
}
