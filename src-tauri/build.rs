//! Build script: with the `gui` feature, tauri-build reads `tauri.conf.json` and `capabilities/`,
//! generates the permissions of the app's own commands (only those listed here can be granted to
//! the page), and checks that the embedded UI (`../ui/dist`) exists. Without the feature
//! (headless builds) it does nothing.

fn main() {
    #[cfg(feature = "gui")]
    gui::build();
}

#[cfg(feature = "gui")]
mod gui {
    /// The app's commands; keep in sync with `src/gui/commands/mod.rs`.
    const COMMANDS: &[&str] = &[
        "submit_execution",
        "cancel_execution",
        "get_execution",
        "get_execution_steps",
        "list_executions",
        "get_execution_logs",
        "follow_execution_logs",
        "unfollow_execution_logs",
        "retry_execution",
        "set_priority",
        "pause_queue",
        "resume_queue",
        "get_queue",
        "validate_crew",
        "preview_crew",
        "list_crews",
        "import_crew",
        "pick_crew",
        "pick_file",
        "get_settings",
        "set_settings",
    ];

    pub fn build() {
        let dist = std::path::Path::new("../ui/dist/index.html");
        if !dist.exists() {
            println!(
                "cargo::error=the desktop app embeds ../ui/dist: build it first (cd ui && npm ci && npm run build), or build headless with --no-default-features"
            );
            return;
        }
        println!("cargo::rerun-if-changed=../ui/dist");
        let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
        if let Err(e) = tauri_build::try_build(attributes) {
            println!("cargo::error=tauri-build failed: {e:#}");
        }
    }
}
