//! `crew-runner validate`: a loaded crew with the inputs it needs, as one serialisable report.

use std::path::Path;

use serde::Serialize;

use super::diagnostic::{CrewError, CrewWarning};
use super::load::load;
use super::placeholders::required_inputs;
use super::CrewSpec;

/// An input the crew's text names as a `{placeholder}`, and its default from the crew's `inputs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequiredInput {
    pub name: String,
    /// `None`: the input has no default and must be given at kickoff.
    pub default: Option<serde_json::Value>,
}

/// What `crew-runner validate --json` prints and the GUI builds its inputs form from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrewReport {
    pub crew: CrewSpec,
    /// Sorted by name.
    pub required_inputs: Vec<RequiredInput>,
    pub warnings: Vec<CrewWarning>,
}

/// Loads the crew at `path` (see [`load`]) and lists the inputs it needs.
pub fn validate(path: &Path) -> Result<CrewReport, CrewError> {
    let loaded = load(path)?;
    let required_inputs = required_inputs(&loaded.spec)
        .into_iter()
        .map(|name| RequiredInput {
            default: loaded.spec.inputs.get(&name).cloned(),
            name,
        })
        .collect();
    Ok(CrewReport {
        crew: loaded.spec,
        required_inputs,
        warnings: loaded.warnings,
    })
}
