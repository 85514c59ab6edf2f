//! Crews: validation (for the inputs form), the library, and the native pickers.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Runtime, State};

use super::blocking;
use crate::app::{self, CrewPreview, EngineChoice, SubmitRequest};
use crate::crew::{self, CrewReport};
use crate::gui::crew_library::CrewEntry;
use crate::gui::{CommandError, GuiState};

/// The crew normalised (its workspace resolved), its required inputs (with defaults) and the
/// loader's warnings; an `invalid_crew` error lists every problem, one per line.
#[tauri::command(rename_all = "snake_case")]
pub async fn validate_crew(state: State<'_, GuiState>, path: String) -> Result<CrewReport, CommandError> {
    Ok(crew::validate_with(Path::new(&path), &state.workspace_policy())?)
}

/// What the crew at `path` would run as with `engine` (`auto` when absent) and `python` (the
/// search when absent or empty): the engine decision, the native report (`null` when only CrewAI
/// runs it) and the CrewAI project, Flow or script found (`null` for a YAML/JSON crew). May take
/// seconds (it probes Python), so it runs on the blocking pool.
#[tauri::command(rename_all = "snake_case")]
pub async fn preview_crew(
    state: State<'_, GuiState>,
    path: String,
    engine: Option<EngineChoice>,
    python: Option<String>,
) -> Result<CrewPreview, CommandError> {
    let request = engine_request(&state, path, engine.unwrap_or_default(), python);
    let env = state.executor.env();
    blocking(move || app::preview_crew(&request, &env)).await
}

/// A request for `crew` on `engine` with `python` (ignored when empty) and the app's workspace
/// policy; the rest is [`SubmitRequest::new`]'s defaults.
pub(crate) fn engine_request(state: &GuiState, crew: String, engine: EngineChoice, python: Option<String>) -> SubmitRequest {
    SubmitRequest {
        engine,
        python: python.filter(|p| !p.trim().is_empty()).map(PathBuf::from),
        workspaces: state.workspace_policy(),
        ..SubmitRequest::new(crew)
    }
}

/// The crews imported into the library.
#[tauri::command(rename_all = "snake_case")]
pub async fn list_crews(state: State<'_, GuiState>) -> Result<Vec<CrewEntry>, CommandError> {
    Ok(state.library.list()?)
}

/// Validates the crew at `path` and copies it into the library.
#[tauri::command(rename_all = "snake_case")]
pub async fn import_crew(state: State<'_, GuiState>, path: String) -> Result<CrewEntry, CommandError> {
    Ok(state.library.import(Path::new(&path))?)
}

/// Opens the native picker for a crew: a folder (CrewAI project) when `folder`, else a crew file.
/// `null` when the user cancels.
#[tauri::command(rename_all = "snake_case")]
pub async fn pick_crew<R: Runtime>(app: AppHandle<R>, folder: bool) -> Result<Option<String>, CommandError> {
    pick(app, folder, Some(("Crew files", &["yaml", "yml", "json", "jsonc"]))).await
}

/// Opens the native picker for any file (an LLM recording for replay). `null` when cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn pick_file<R: Runtime>(app: AppHandle<R>) -> Result<Option<String>, CommandError> {
    pick(app, false, None).await
}

/// Without the dialog plugin (the mock runtime of the tests) the picker is always cancelled.
async fn pick<R: Runtime>(app: AppHandle<R>, folder: bool, filter: Option<(&str, &[&str])>) -> Result<Option<String>, CommandError> {
    use tauri::Manager;
    use tauri_plugin_dialog::DialogExt;
    if app.try_state::<tauri_plugin_dialog::Dialog<R>>().is_none() {
        return Ok(None);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app.dialog().file();
    if let Some((name, extensions)) = filter {
        dialog = dialog.add_filter(name, extensions);
    }
    let done = move |picked: Option<tauri_plugin_dialog::FilePath>| {
        let _ = tx.send(picked.and_then(|p| p.into_path().ok()).map(|p| p.to_string_lossy().into_owned()));
    };
    if folder {
        dialog.pick_folder(done);
    } else {
        dialog.pick_file(done);
    }
    Ok(rx.await.unwrap_or(None))
}
