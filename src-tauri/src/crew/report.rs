//! `crew-runner validate`: a loaded crew with the inputs it needs, as one serialisable report.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use super::confine::WorkspacePolicy;
use super::diagnostic::{CrewError, CrewWarning};
use super::load::{load_with, LoadedCrew};
use super::placeholders::required_inputs;
use super::CrewSpec;

/// An input the crew's text names as a `{placeholder}`, and its default from the crew's `inputs`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RequiredInput {
    pub name: String,
    /// `None`: the input has no default and must be given at kickoff.
    pub default: Option<serde_json::Value>,
}

/// What `crew-runner validate --json` prints and the GUI builds its inputs form from.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CrewReport {
    pub crew: CrewSpec,
    /// Sorted by name.
    pub required_inputs: Vec<RequiredInput>,
    pub warnings: Vec<CrewWarning>,
}

/// Loads the crew at `path` (see [`load`](super::load)) and lists the inputs it needs; its
/// workspace must be inside the crew's folder.
pub fn validate(path: &Path) -> Result<CrewReport, CrewError> {
    validate_with(path, &WorkspacePolicy::default())
}

/// Like [`validate`], with the workspace allowed wherever `policy` allows it (see
/// [`load_with`]); the report's `crew.workspace` is the resolved folder.
pub fn validate_with(path: &Path, policy: &WorkspacePolicy) -> Result<CrewReport, CrewError> {
    Ok(load_with(path, policy)?.into())
}

impl From<LoadedCrew> for CrewReport {
    /// The report of a crew already loaded (its inputs listed, its warnings kept).
    fn from(loaded: LoadedCrew) -> Self {
        let required_inputs = required_inputs(&loaded.spec)
            .into_iter()
            .map(|name| RequiredInput { default: loaded.spec.inputs.get(&name).cloned(), name })
            .collect();
        CrewReport { crew: loaded.spec, required_inputs, warnings: loaded.warnings }
    }
}
