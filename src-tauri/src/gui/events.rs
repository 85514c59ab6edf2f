//! Live updates to the window without the page polling.
//!
//! - [`forward_scheduler_events`]: this process's scheduler events (state changes, progress, queue
//!   settings) are emitted to the page as [`EXECUTION_EVENT`] with the [`ExecutionEvent`] as
//!   payload (log lines go through [`log_follow`](super::log_follow) channels instead). A
//!   notification is shown when an execution ends while the window is not focused (a setting).
//! - [`watch_store`]: other processes' changes (a CLI `submit`, `cancel`, a worker's progress)
//!   never reach this process's broadcast, so once per second, while the window is visible, a
//!   fingerprint of the store (status counts, queue settings, the newest page of executions) is
//!   compared and [`STORE_CHANGED_EVENT`] emitted when it differs; the page then re-fetches.
//!
//! Both tasks end when the scheduler shuts down.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

use super::state::GuiState;
use crate::app::Runner;
use crate::execution::{ExecutionEvent, ExecutionFilter, ExecutionState};

/// Emitted with an [`ExecutionEvent`] (`type`: `state`, `progress` or `queue`).
pub const EXECUTION_EVENT: &str = "execution-event";
/// Emitted (no payload) when the store changed in ways this process did not broadcast, or when
/// events were lost: the page should re-fetch what it shows.
pub const STORE_CHANGED_EVENT: &str = "store-changed";
/// Emitted with `[title, body]` whenever a finished-execution notification is shown.
pub const NOTIFICATION_EVENT: &str = "notification-shown";
/// The label of the one window.
pub const MAIN_WINDOW: &str = "main";

/// Forwards the scheduler's events to the page until the scheduler stops.
pub fn forward_scheduler_events<R: Runtime>(app: AppHandle<R>) {
    let Some(state) = app.try_state::<GuiState>() else { return };
    let Some(mut events) = state.runner.subscribe() else { return };
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(ExecutionEvent::Log { .. } | ExecutionEvent::Token { .. }) => {}
                Ok(event) => {
                    if let ExecutionEvent::State { id, state, .. } = &event {
                        if state.is_terminal() {
                            notify_finished(&app, id, state);
                        }
                    }
                    let _ = app.emit(EXECUTION_EVENT, &event);
                }
                Err(RecvError::Lagged(_)) => {
                    let _ = app.emit(STORE_CHANGED_EVENT, ());
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Shows a desktop notification for a finished execution when the setting is on and the window
/// is not focused. Failures to notify are ignored (no notification daemon).
fn notify_finished<R: Runtime>(app: &AppHandle<R>, id: &crate::execution::ExecutionId, state: &ExecutionState) {
    let Some(gui) = app.try_state::<GuiState>() else { return };
    if !gui.settings.get().notify_on_finish {
        return;
    }
    let focused = app.get_webview_window(MAIN_WINDOW).and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    let crew = gui.runner.get(id.as_str()).map(|e| e.crew_name).unwrap_or_default();
    let (title, body) = finished_message(&crew, id, state);
    show_notification(app, &title, &body);
}

/// The notification text for a finished execution.
pub fn finished_message(crew: &str, id: &crate::execution::ExecutionId, state: &ExecutionState) -> (String, String) {
    let title = format!("{} {}", if crew.is_empty() { "Execution" } else { crew }, state.status());
    let body = match state {
        ExecutionState::Failed { error, .. } => format!("{}: {}", error.kind.as_str(), error.message),
        _ => format!("execution {id}"),
    };
    (title, body)
}

/// Shows a notification through the notification plugin; emits [`NOTIFICATION_EVENT`] as well, so
/// tests (the mock runtime has no notification plugin) can observe it.
fn show_notification<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    let _ = app.emit(NOTIFICATION_EVENT, (title, body));
    if app.try_state::<tauri_plugin_notification::Notification<R>>().is_some() {
        use tauri_plugin_notification::NotificationExt;
        let _ = app.notification().builder().title(title).body(body).show();
    }
}

/// Watches the store for other processes' changes (see the module docs) until the scheduler stops.
pub fn watch_store<R: Runtime>(app: AppHandle<R>, every: Duration) {
    let Some(state) = app.try_state::<GuiState>() else { return };
    let runner = state.runner.clone();
    let Some(mut events) = state.runner.subscribe() else { return };
    tauri::async_runtime::spawn(async move {
        let mut last = fingerprint(&runner);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                event = events.recv() => match event {
                    Err(RecvError::Closed) => return,
                    _ => continue,
                },
            }
            if !window_visible(&app) {
                continue;
            }
            let now = fingerprint(&runner);
            if now != last {
                last = now;
                let _ = app.emit(STORE_CHANGED_EVENT, ());
            }
        }
    });
}

fn window_visible<R: Runtime>(app: &AppHandle<R>) -> bool {
    match app.get_webview_window(MAIN_WINDOW) {
        Some(w) => w.is_visible().unwrap_or(true) && !w.is_minimized().unwrap_or(false),
        None => true,
    }
}

/// What the page shows of the store, compressed: changes when any listed execution's status
/// (also: its worker found gone), priority, progress, attempt or cancel flag changes, or the
/// counts or queue settings do.
pub fn fingerprint(runner: &Runner) -> Option<String> {
    let queue = runner.queue().ok()?;
    let (counts, settings) = (queue.counts, queue.settings);
    let page = runner.list(&ExecutionFilter { limit: 50, ..ExecutionFilter::default() }).ok()?;
    let rows: Vec<_> = page
        .iter()
        .map(|e| {
            let orphaned = matches!(e.state, ExecutionState::Running { owner_gone: true, .. });
            (e.id.as_str(), e.status(), orphaned, e.priority, e.attempt, e.cancel_requested, &e.progress, e.usage.total_tokens)
        })
        .collect();
    serde_json::to_string(&(counts, settings, rows)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{ErrorKind, ExecutionError, ExecutionId};

    #[test]
    fn finished_messages_name_the_crew_and_the_error() {
        let id = ExecutionId::new();
        let ok = ExecutionState::Succeeded { output: "x".into(), finished_at: 1 };
        assert_eq!(finished_message("blog", &id, &ok), ("blog succeeded".to_string(), format!("execution {id}")));
        let failed = ExecutionState::Failed { error: ExecutionError::new(ErrorKind::LlmClient, "401"), finished_at: 1 };
        assert_eq!(finished_message("", &id, &failed), ("Execution failed".to_string(), "llm_client: 401".to_string()));
    }
}
