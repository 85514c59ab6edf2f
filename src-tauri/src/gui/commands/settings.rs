//! The Settings view.

use tauri::State;

use crate::gui::settings::{SettingsUpdate, SettingsView};
use crate::gui::{CommandError, GuiState};
use crate::llm::providers::PROVIDERS;

/// The settings, read again from the configuration (`crew-runner config set` may have changed
/// them), with the API key only as `api_key_set`, and the HTTP API's state.
#[tauri::command(rename_all = "snake_case")]
pub async fn get_settings(state: State<'_, GuiState>) -> Result<SettingsView, CommandError> {
    state.settings.reload()?;
    view(&state).await
}

/// Applies a change (see [`SettingsUpdate`] for the key) and returns the settings as now stored.
/// The concurrency is the shared queue setting; the HTTP API starts, stops or restarts now (a failed
/// start is in the view's `http_api.error`); the rest applies to attempts started from now on.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_settings(state: State<'_, GuiState>, update: SettingsUpdate) -> Result<SettingsView, CommandError> {
    update.check()?;
    state.settings.save(state.settings.get().updated(&update))?;
    if let Some(n) = update.concurrency {
        state.runner.set_concurrency(n).await?;
    }
    state.apply_http_api().await;
    view(&state).await
}

async fn view(state: &GuiState) -> Result<SettingsView, CommandError> {
    let s = state.settings.get();
    let queue = state.runner.queue()?.settings;
    Ok(SettingsView {
        provider: s.llm.provider,
        base_url: s.llm.base_url,
        model: s.llm.model,
        api_key_set: !s.llm.api_key.is_empty(),
        api_key_storage: state.settings.key_location(),
        notify_on_finish: s.notify_on_finish,
        allowed_workspaces: s.allowed_workspaces,
        concurrency: queue.concurrency,
        paused: queue.paused,
        data_dir: state.paths.data_dir.to_string_lossy().into_owned(),
        database: state.paths.database().to_string_lossy().into_owned(),
        config_file: state.settings.path().to_string_lossy().into_owned(),
        env_overrides: state.executor.env_overrides(),
        providers: PROVIDERS.iter().map(|p| p.name().to_string()).collect(),
        http_api: state.http.view(&s.http_api).await,
    })
}
