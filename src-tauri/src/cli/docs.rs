//! `completions SHELL` and `man`: the shell completion script and the roff man page, generated
//! from the command-line definition (so they always match `--help`). Neither touches the data dir.

use clap::CommandFactory;

use super::args::{Cli, CompletionsCommand};
use super::CliError;

/// The program name the script completes and the man page documents.
const BIN: &str = "crew-runner";

/// Prints the completion script for `c.shell` on stdout.
pub fn completions(c: &CompletionsCommand) -> Result<i32, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(c.shell, &mut Cli::command(), BIN, &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(0)
}

/// Prints the man page (section 1, roff) on stdout.
pub fn man() -> Result<i32, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command().name(BIN))
        .render(&mut page)
        .map_err(|e| CliError::Failure(format!("cannot render the man page: {e}")))?;
    out!("{}", String::from_utf8_lossy(&page));
    Ok(0)
}
