//! Building and running the Tauri app.

use std::path::{Path, PathBuf};

use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager, RunEvent, Runtime};

use super::events::{follow_changes, MAIN_WINDOW};
use super::state::{GuiState, StartError};
use super::stop_signals::exit_on_stop_signals;
use crate::app::{log_files, AppPaths};
use crate::llm::LlmEnv;

/// Opens the desktop app on the database in `data_dir` (else the platform data dir), with the
/// configuration in `config_dir` (else as [`AppPaths`] says), and runs until the window closes;
/// returns the process exit code (0, or 1 when it could not start).
///
/// One app runs per data dir: a second launch on the same data dir exits and focuses the running
/// window (its arguments are logged by the first), a launch on another data dir opens its own
/// window. The app logs to stderr (warnings) and to the data dir's daily log files (info).
pub fn run(data_dir: Option<PathBuf>, config_dir: Option<PathBuf>) -> i32 {
    let paths = match AppPaths::resolve(data_dir.as_deref()) {
        Ok(p) => p.with_config_dir(config_dir.as_deref()),
        Err(e) => {
            eprintln!("crew-runner: {e}");
            return 1;
        }
    };
    let _log_guard = match init_logging(&paths) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("crew-runner: {e}");
            return 1;
        }
    };
    let context = tauri::generate_context!();
    let instance = instance_id(&context.config().identifier, &paths.data_dir);
    let builder = tauri::Builder::default()
        // First: a second launch on this data dir exits here and focuses the running app's window.
        .plugin(tauri_plugin_single_instance::Builder::new().dbus_id(instance).callback(focus_on_second_launch).build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init());
    // Built (plugins initialised, so a second instance has exited) before the database is touched.
    let app = match build_app(builder).build(context) {
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

/// A second launch on this data dir: log what it was asked, focus the window.
fn focus_on_second_launch<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>, cwd: String) {
    tracing::info!(?argv, %cwd, "a second launch on this data dir: focusing the window");
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// The single-instance ID for `data_dir`: the app's identifier and a hash of the canonical data
/// dir (`dev.crew-runner.crew-runner.d0123456789abcdef`), so each data dir has one app and different data
/// dirs do not meet. (Used as the D-Bus name on Linux; other platforms key on the identifier.)
fn instance_id(identifier: &str, data_dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let canonical = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    format!("{identifier}.d{}", hex::encode(&digest[..8]))
}

/// Stderr at `warn` (or `RUST_LOG`) and the data dir's daily log files at `info` (or `RUST_LOG`).
fn init_logging(paths: &AppPaths) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, log_files::KeepDaysError> {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::EnvFilter;
    let filter = |default: &str| EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter("warn"));
    let (file, guard) = match log_files::open(paths)? {
        Some((writer, guard)) => {
            (Some(tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter("info"))), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
    Ok(guard)
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

#[cfg(test)]
mod instance_tests {
    use super::instance_id;

    #[test]
    fn one_instance_id_per_data_dir_and_a_valid_dbus_name() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let id = instance_id("dev.crew-runner.crew-runner", a.path());
        assert_eq!(id, instance_id("dev.crew-runner.crew-runner", &a.path().join(".")), "the same folder, however written");
        assert_ne!(id, instance_id("dev.crew-runner.crew-runner", b.path()));
        // D-Bus: elements of [A-Za-z0-9_-], none starting with a digit, at most 255 bytes.
        let last = id.rsplit('.').next().unwrap();
        assert!(last.starts_with('d') && last.len() == 17, "{id}");
        assert!(id.len() < 255 && id.split('.').all(|e| !e.is_empty() && !e.starts_with(|c: char| c.is_ascii_digit())), "{id}");
    }
}
