//! Live updates to the window without the page polling: [`follow_changes`] follows the runner's
//! one subscription ([`Runner::watch`](crate::app::Runner::watch)) and tells the page.
//!
//! - This process's scheduler events (state changes, progress, queue settings: the store's commit
//!   announcements) are emitted as [`EXECUTION_EVENT`] with the [`ExecutionEvent`] as payload (log
//!   lines go through [`log_follow`](super::log_follow) channels instead). Streamed LLM text is
//!   emitted as [`TOKENS_EVENT`] in [`TokenBatch`](token_batches::TokenBatch)es at most every
//!   [`THROTTLE`](token_batches::THROTTLE) ([`token_batches::forward`]); tokens are never stored,
//!   so only executions this process runs stream to the page (which also reads the answer so far
//!   from the trace). A
//!   notification is shown when an execution ends while the window is not focused (a setting).
//! - Everything else that changed (another process's commit: a CLI `submit` or `cancel`, another
//!   worker's progress; a worker process that died while running an execution; lost events) is
//!   emitted as [`STORE_CHANGED_EVENT`], and the page re-fetches what it shows. The watch looks
//!   once per [`MAX_HEARTBEAT`] with one `PRAGMA data_version` and no row read unless another
//!   connection committed; the window is asked whether it is visible only when there is something
//!   to tell, and while it is hidden or minimised nothing is emitted (what changed meanwhile is
//!   told once it is shown again).
//!
//! The task ends when the scheduler shuts down.

use tauri::{AppHandle, Emitter, Manager, Runtime};

use super::state::GuiState;
use super::token_batches::{self, Streamed};
use crate::app::Change;
use crate::app::MAX_HEARTBEAT;
use crate::execution::{ExecutionEvent, ExecutionState, Status};

/// Emitted with an [`ExecutionEvent`] (`type`: `state`, `progress` or `queue`).
pub const EXECUTION_EVENT: &str = "execution-event";
/// Emitted (no payload) when the store changed in ways this process did not broadcast, or when
/// events were lost: the page should re-fetch what it shows.
pub const STORE_CHANGED_EVENT: &str = "store-changed";
/// Emitted with a list of [`TokenBatch`](super::token_batches::TokenBatch)es: LLM text streamed
/// into executions this process runs.
pub const TOKENS_EVENT: &str = "execution-tokens";
/// Emitted with `[title, body]` whenever a finished-execution notification is shown.
pub const NOTIFICATION_EVENT: &str = "notification-shown";
/// The label of the one window.
pub const MAIN_WINDOW: &str = "main";

/// Follows the runner's changes and tells the page (see the module docs) until the scheduler
/// stops, looking for other processes' changes every [`MAX_HEARTBEAT`]. Does nothing when the
/// app has no [`GuiState`] or the watch cannot be opened (logged).
pub fn follow_changes<R: Runtime>(app: AppHandle<R>) {
    let Some(state) = app.try_state::<GuiState>() else { return };
    let mut watch = match state.runner.watch(MAX_HEARTBEAT) {
        Ok(watch) => watch,
        Err(e) => {
            tracing::error!("cannot watch the store for changes; the window will not update live: {e}");
            return;
        }
    };
    let (streamed, batches) = tokio::sync::mpsc::unbounded_channel();
    let emitting_app = app.clone();
    tauri::async_runtime::spawn(token_batches::forward(batches, move |batches| {
        let _ = emitting_app.emit(TOKENS_EVENT, &batches);
    }));
    tauri::async_runtime::spawn(async move {
        let looking_app = app.clone();
        let looking = move || window_visible(&looking_app);
        while let Some(change) = watch.next(&looking).await {
            match change {
                Change::Event(ExecutionEvent::Log { .. }) => {}
                Change::Event(ExecutionEvent::Token { id, task, text, restart, offset }) => {
                    let _ = streamed.send(Streamed { id, task, restart, offset, text });
                }
                Change::Event(event) => {
                    if let ExecutionEvent::State { id, state, .. } = &event {
                        if state.is_terminal() || state.status() == Status::AwaitingInput {
                            notify_finished(&app, id, state);
                        }
                    }
                    let _ = app.emit(EXECUTION_EVENT, &event);
                }
                Change::Refresh => {
                    let _ = app.emit(STORE_CHANGED_EVENT, ());
                }
            }
        }
    });
}

/// Shows a desktop notification for an execution that finished or started waiting for a person's
/// review, when the setting is on and the window is not focused. Failures to notify are ignored
/// (no notification daemon).
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

/// The notification text for an execution that finished or awaits a person's review.
pub fn finished_message(crew: &str, id: &crate::execution::ExecutionId, state: &ExecutionState) -> (String, String) {
    let name = if crew.is_empty() { "Execution" } else { crew };
    let title = match state {
        ExecutionState::AwaitingInput { .. } => format!("{name} awaits your review"),
        _ => format!("{name} {}", state.status()),
    };
    let body = match state {
        ExecutionState::Failed { error, .. } => format!("{}: {}", error.kind.as_str(), error.message),
        ExecutionState::AwaitingInput { request } => {
            format!("task `{}` ({}) awaits your review; answer it in Run detail (execution {id})", request.task, request.agent)
        }
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

/// Whether the page is seen: the window is visible and not minimised (no window: yes).
fn window_visible<R: Runtime>(app: &AppHandle<R>) -> bool {
    match app.get_webview_window(MAIN_WINDOW) {
        Some(w) => w.is_visible().unwrap_or(true) && !w.is_minimized().unwrap_or(false),
        None => true,
    }
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
