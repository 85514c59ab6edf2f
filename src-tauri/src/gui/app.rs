//! Building and running the Tauri app.

use std::path::PathBuf;

use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager, RunEvent, Runtime};

use super::events::{follow_changes, MAIN_WINDOW};
use super::state::{GuiState, StartError};
use super::stop_signals::exit_on_stop_signals;
use crate::app::AppPaths;
use crate::llm::LlmEnv;

/// Opens the desktop app on the database in `data_dir` (else the platform data dir) and runs
/// until the window closes; returns the process exit code (0, or 1 when it could not start).
pub fn run(data_dir: Option<PathBuf>) -> i32 {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let paths = match AppPaths::resolve(data_dir.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("crew-runner: {e}");
            return 1;
        }
    };
    let builder = tauri::Builder::default()
        // First: a second launch exits here and focuses the running app's window.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init());
    // Built (plugins initialised, so a second instance has exited) before the database is touched.
    let app = match build_app(builder).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("crew-runner: cannot start the desktop app: {e}");
            return 1;
        }
    };
    if let Err(e) = start(app.handle(), paths, LlmEnv::from_process()) {
        eprintln!("crew-runner: cannot start the desktop app: {e}");
        return 1;
    }
    exit_on_stop_signals(app.handle().clone());
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            if let Some(state) = handle.try_state::<GuiState>() {
                if let Err(e) = tauri::async_runtime::block_on(state.shutdown()) {
                    eprintln!("crew-runner: shutting down the scheduler: {e}");
                }
            }
        }
    });
    0
}

/// Starts the [`GuiState`] (database, settings, scheduler) on `paths` with `env` as the LLM
/// environment, manages it, and starts the event forwarders. Call once, after building the app and
/// before running it (the window opens when it runs). Shared by [`run`] and the command tests.
pub fn start<R: Runtime>(app: &AppHandle<R>, paths: AppPaths, env: LlmEnv) -> Result<(), StartError> {
    let state = tauri::async_runtime::block_on(GuiState::start(paths, env))?;
    app.manage(state);
    follow_changes(app.clone());
    Ok(())
}

/// `builder` with the commands, and log followers stopped when the page (re)loads. Shared by
/// [`run`] and the command tests (mock runtime).
pub fn build_app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    super::commands::register(builder).on_page_load(|webview, payload| {
        if payload.event() == PageLoadEvent::Started {
            if let Some(state) = webview.try_state::<GuiState>() {
                state.followers.stop_all();
            }
        }
    })
}
