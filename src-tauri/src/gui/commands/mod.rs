//! The commands the page invokes. Each delegates to the core in a line or two; arguments and
//! results are JSON with snake_case keys; every error is a [`CommandError`](super::CommandError).

pub mod crews;
pub mod executions;
pub mod logs;
pub mod queue;
pub mod settings;

use super::{CommandError, CommandErrorKind};
use crate::execution::ExecutionId;

// `with_app_commands!`: the one list of the app's commands.
include!("list.rs");

/// The names of the app's commands (`submit_execution`, …), from the one list.
pub const COMMAND_NAMES: &[&str] = {
    macro_rules! names {
        ($($module:ident :: $command:ident),* $(,)?) => { &[$(stringify!($command)),*] };
    }
    with_app_commands!(names)
};

/// Registers every command of the list on `builder` (the app and the command tests use this).
pub fn register<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    macro_rules! handler {
        ($($module:ident :: $command:ident),* $(,)?) => { tauri::generate_handler![$($module::$command),*] };
    }
    builder.invoke_handler(with_app_commands!(handler))
}

/// Runs `work` on tokio's blocking pool: for core calls that may take seconds (loading a crew and
/// probing its Python runs `python`), so they never stall the async runtime the commands share.
pub(crate) async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, CommandError>
where
    T: Send + 'static,
    E: Into<CommandError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(CommandError::new(CommandErrorKind::Stopped, format!("the app is closing: {e}"))),
    }
}

/// Parses an execution id from the page.
pub(crate) fn parse_id(id: &str) -> Result<ExecutionId, CommandError> {
    id.parse().map_err(|e: <ExecutionId as std::str::FromStr>::Err| CommandError::new(CommandErrorKind::InvalidArgument, e.to_string()))
}

#[cfg(test)]
mod list_tests {
    use super::COMMAND_NAMES;

    #[test]
    fn the_page_is_granted_exactly_the_listed_commands() {
        let set = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/permissions/app-commands.toml")).unwrap();
        let granted: Vec<&str> = set.lines().filter_map(|l| l.trim().strip_prefix("\"allow-")?.strip_suffix("\",")).collect();
        let listed: Vec<String> = COMMAND_NAMES.iter().map(|c| c.replace('_', "-")).collect();
        assert_eq!(granted, listed, "permissions/app-commands.toml is generated from list.rs by build.rs");
        let capability = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities/main-window.json")).unwrap();
        let capability: serde_json::Value = serde_json::from_str(&capability).unwrap();
        assert_eq!(capability["permissions"], serde_json::json!(["core:event:allow-listen", "core:event:allow-unlisten", "app-commands"]));
        assert_eq!(COMMAND_NAMES.len(), 26);
    }
}
