//! `crew-runner export CREW --to DIR`: a crew of any format written as a CrewAI project.

use std::path::PathBuf;

use clap::Args;

use super::args::GlobalArgs;
use super::escape::line;
use super::runtime::workspace_policy;
use super::CliError;
use crate::crew::{self, ExportError};

/// Loads a crew (project folder, crew file or graph JSON) and writes it as a CrewAI project
/// (`crewai create crew` layout) into DIR, which must be new or empty: nothing is overwritten, and
/// on any error nothing is written. Prints the files written and what could not be carried over
/// exactly.
#[derive(Debug, Args)]
pub struct ExportCommand {
    /// The crew: a CrewAI project folder, a .yaml/.json/.jsonc crew file, or a graph JSON.
    pub crew: PathBuf,
    /// The project folder to create (new, or an empty folder).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Let the crew's `workspace` be in DIR or below it (repeatable), as for `run`.
    #[arg(long = "allow-workspace", value_name = "DIR")]
    pub allow_workspace: Vec<PathBuf>,
    /// Print JSON: root, package, package_dir, class_name, agent_names, task_names, files, notes.
    #[arg(long)]
    pub json: bool,
}

/// Exports the crew; a crew that does not load and a DIR with files are usage errors (exit 2),
/// a failed write a failure (exit 1).
pub fn export(global: &GlobalArgs, c: ExportCommand) -> Result<i32, CliError> {
    let policy = workspace_policy(global, &c.allow_workspace)?;
    let loaded = crew::load_with(&c.crew, &policy).map_err(CliError::usage)?;
    if !global.quiet {
        for w in &loaded.warnings {
            eprintln!("warning: {}", line(&w.to_string()));
        }
    }
    let project = crew::export_project(&loaded.spec, &c.to).map_err(|e| match e {
        ExportError::NotEmpty { .. } => CliError::usage(e),
        ExportError::Io { .. } | ExportError::Yaml(_) => CliError::failure(e),
    })?;
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&project).expect("an ExportedProject serialises"));
        return Ok(0);
    }
    outln!(
        "{}",
        line(&format!(
            "exported {} to {} (package {}, class {})",
            loaded.spec.name,
            project.root.display(),
            project.package,
            project.class_name
        ))
    );
    for file in &project.files {
        outln!("  {}", line(&file.display().to_string()));
    }
    for note in &project.notes {
        outln!("note: {}", line(note));
    }
    Ok(0)
}
