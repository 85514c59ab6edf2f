//! `crew-runner validate`: a loaded crew with the inputs it needs, as one serialisable report.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;

use super::confine::WorkspacePolicy;
use super::diagnostic::{CrewError, CrewWarning, FieldUses};
use super::load::{load_with, LoadedCrew};
use super::placeholders::required_inputs;
use super::CrewSpec;

/// An input the crew's text names as a `{placeholder}`, and its default from the crew's `inputs`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct RequiredInput {
    pub name: String,
    /// `None`: the input has no default and must be given at kickoff.
    pub default: Option<serde_json::Value>,
    /// Where the default was written (`crew.yaml`, `<path>/main.py:14`); `None` without a default
    /// or when the format does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub default_from: Option<String>,
}

/// What `crew-runner validate --json` prints and the GUI builds its inputs form from.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct CrewReport {
    pub crew: CrewSpec,
    /// Sorted by name.
    pub required_inputs: Vec<RequiredInput>,
    pub warnings: Vec<CrewWarning>,
    /// Per agent, task and the crew's settings: the fields applied and those ignored.
    pub fields: Vec<FieldUses>,
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
            .map(|name| RequiredInput {
                default: loaded.spec.inputs.get(&name).cloned(),
                default_from: loaded.spec.input_sources.get(&name).cloned(),
                name,
            })
            .collect();
        CrewReport { crew: loaded.spec, required_inputs, warnings: loaded.warnings, fields: loaded.fields }
    }
}
