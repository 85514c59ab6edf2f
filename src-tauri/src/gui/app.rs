//! Building and running the Tauri app.

use std::path::PathBuf;

use tauri::webview::PageLoadEvent;
use tauri::{Manager, RunEvent, Runtime};

use super::events::{forward_scheduler_events, watch_store, MAIN_WINDOW};
use super::state::GuiState;
use crate::app::AppPaths;
use crate::llm::LlmEnv;
use crate::scheduler::MAX_HEARTBEAT;

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
    let app = match build_app(builder, paths, LlmEnv::from_process()).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("crew-runner: cannot start the desktop app: {e}");
            return 1;
        }
    };
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

/// `builder` with the commands, the state started in `setup` (database, settings, scheduler),
/// the event forwarders, and log followers stopped when the page (re)loads. Shared by [`run`]
/// and the command tests (mock runtime).
pub fn build_app<R: Runtime>(builder: tauri::Builder<R>, paths: AppPaths, env: LlmEnv) -> tauri::Builder<R> {
    super::commands::register(builder)
        .setup(move |app| {
            let state = tauri::async_runtime::block_on(GuiState::start(paths, env))?;
            app.manage(state);
            forward_scheduler_events(app.handle().clone());
            watch_store(app.handle().clone(), MAX_HEARTBEAT);
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Started {
                if let Some(state) = webview.try_state::<GuiState>() {
                    state.followers.stop_all();
                }
            }
        })
}
