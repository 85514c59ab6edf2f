//! `crew-runner config get|set|list`: the configuration the desktop app's Settings view edits (see
//! [`crate::app::config`]), read and changed from the command line.

use std::io::Read;

use clap::{Args, Subcommand};

use super::args::GlobalArgs;
use super::escape::line;
use super::runtime::paths;
use super::CliError;
use crate::app::config::keys::{self, SECRET_KEY};
use crate::app::ConfigStore;

/// Reads or changes the configuration shared with the desktop app. Keys: llm.provider,
/// llm.base_url, llm.model, llm.api_key, notify_on_finish, allowed_workspaces (a path list, `:`
/// separated on Unix), http_api.enabled, http_api.port, trace_payloads (full: keep each LLM call's
/// messages and answer for `crew-runner trace`; metadata: only timing, tokens and cost). The
/// environment wins over the stored values: MODEL over llm.model, the provider's key variable
/// (OPENAI_API_KEY, …) over llm.api_key, its base-URL variable (OPENAI_API_BASE, …) over
/// llm.base_url, CREW_RUNNER_TRACE_PAYLOADS over trace_payloads.
#[derive(Debug, Args)]
pub struct ConfigCommand {
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// What `config` does.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print KEY's effective value (the environment's when it sets it); the API key redacted
    /// unless --reveal.
    Get {
        /// The key, e.g. llm.model.
        key: String,
        /// Print the API key in clear.
        #[arg(long)]
        reveal: bool,
    },
    /// Store VALUE for KEY (checked first: an unknown key or a bad value exits 2 and writes nothing).
    /// An empty VALUE clears a text key; `-` reads it from stdin (keeps an API key out of `ps`).
    Set {
        /// The key, e.g. llm.model.
        key: String,
        /// The value; `-`: the first line of stdin.
        value: String,
    },
    /// Print every key with its effective value and where it comes from (env VAR, file, keyring or
    /// default); the API key redacted.
    List {
        /// Print a JSON array of {key, value, source, variable}.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `config`; a bad key or value is a usage error (exit 2), an unwritable file a failure (1).
pub fn config(global: &GlobalArgs, c: ConfigCommand) -> Result<i32, CliError> {
    let paths = paths(global)?;
    let store = ConfigStore::open(&paths).map_err(CliError::usage)?;
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    match c.action {
        ConfigAction::Get { key, reveal } => {
            let entry = keys::entry(&store, &key, &env, reveal).map_err(CliError::usage)?;
            outln!("{}", entry.value);
        }
        ConfigAction::Set { key, value } => {
            let value = if value == "-" { first_line_of_stdin()? } else { value };
            let next = keys::with_value(&store.get(), &key, &value).map_err(CliError::usage)?;
            store.save(next).map_err(CliError::failure)?;
            if !global.quiet {
                if let Some((var, _)) = keys::env_override(&store.get(), &key, &env) {
                    eprintln!("note: {var} is set in the environment and overrides {key}");
                }
                let shown = if key == SECRET_KEY {
                    keys::REDACTED.to_string()
                } else {
                    keys::value(&store.get(), &key).map_err(CliError::usage)?
                };
                let at = store.path().display().to_string();
                eprintln!("{}", line(&format!("{key} = {shown} (in {at})")));
            }
        }
        ConfigAction::List { json } => {
            let entries = keys::entries(&store, &env);
            if json {
                outln!("{}", serde_json::to_string_pretty(&entries).expect("config entries serialise"));
            } else {
                let width = keys::KEYS.iter().map(|k| k.len()).max().unwrap_or(0);
                for e in entries {
                    outln!("{}", line(&format!("{:width$}  {}  ({})", e.key, e.value, e.source)));
                }
                if !global.quiet {
                    eprintln!("{}", line(&format!("settings file: {}", store.path().display())));
                }
            }
        }
    }
    Ok(0)
}

fn first_line_of_stdin() -> Result<String, CliError> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| CliError::Usage(format!("cannot read the value from stdin: {e}")))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}
