//! SIGTERM, SIGINT and SIGHUP end the desktop app the way closing its window does (Unix; elsewhere
//! Ctrl-C does).

use tauri::{AppHandle, Runtime};

/// Spawns a task on Tauri's async runtime that, at the first SIGTERM, SIGINT or SIGHUP, asks the
/// app to exit (`AppHandle::exit(0)`): the event loop ends with `RunEvent::Exit`, which shuts the
/// scheduler down cleanly (running attempts requeued with their finished tasks kept), exactly as
/// closing the window does. Without it a logout, `kill` or Ctrl-C in the launching terminal would
/// end the process at once and leave its executions to the dead-owner recovery of the next start.
///
/// A signal whose handler cannot be installed is skipped (the default action stays). Must be called
/// once, after the app is built.
#[cfg(unix)]
pub fn exit_on_stop_signals<R: Runtime>(app: AppHandle<R>) {
    use tokio::signal::unix::{signal, SignalKind};
    tauri::async_runtime::spawn(async move {
        let mut streams = Vec::new();
        for kind in [SignalKind::terminate(), SignalKind::interrupt(), SignalKind::hangup()] {
            match signal(kind) {
                Ok(s) => streams.push(s),
                Err(e) => tracing::warn!("cannot listen for signal {kind:?}: {e}"),
            }
        }
        if streams.is_empty() {
            return;
        }
        let first = futures_util::future::select_all(streams.iter_mut().map(|s| Box::pin(s.recv())));
        first.await;
        tracing::info!("stop signal received: shutting down");
        app.exit(0);
    });
}

/// Not Unix: Ctrl-C (`tokio::signal::ctrl_c`) asks the app to exit, as the signals do on Unix.
#[cfg(not(unix))]
pub fn exit_on_stop_signals<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received: shutting down");
            app.exit(0);
        }
    });
}
