//! [`Validation`]: what `crew-runner validate --json` and the HTTP API's `POST /v1/crews/validate`
//! print about a crew (a [`CrewPreview`] as JSON), without recording anything.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::engine_choice::EngineDecision;
use super::submission::CrewPreview;
use crate::crew::{CrewGraph, CrewSpec, CrewWarning, FieldUses, RequiredInput};
use crate::engine::crewai::PythonCrew;

/// A crew as `validate` reports it: the native engine's report (`crew`, `required_inputs`,
/// `warnings`; `crew: null` and empty lists when the native engine cannot load it), the engine
/// decision, and the CrewAI Python crew recognised on disk.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Validation {
    /// The crew as the native engine loaded it; `null` when it cannot (a Python crew).
    pub crew: Option<CrewSpec>,
    pub engine: EngineDecision,
    /// The CrewAI project, Flow or script recognised on disk.
    pub python_crew: Option<PythonCrew>,
    /// The inputs the crew's text names, sorted by name.
    pub required_inputs: Vec<RequiredInput>,
    /// What loading ignored, dropped or assumed.
    pub warnings: Vec<CrewWarning>,
    /// Per agent, task and the crew's settings: the fields the native engine applied and those it
    /// ignored.
    pub fields: Vec<FieldUses>,
    /// The crew as a graph (agents, tasks, manager, tools, MCP servers), each warning pinned to
    /// the node it concerns; `null` with `crew`.
    pub graph: Option<CrewGraph>,
}

impl CrewPreview {
    /// The preview as a [`Validation`].
    pub fn validation(&self) -> Validation {
        let (crew, required_inputs, warnings, fields) = match &self.report {
            Some(r) => (Some(r.crew.clone()), r.required_inputs.clone(), r.warnings.clone(), r.fields.clone()),
            None => (None, Vec::new(), Vec::new(), Vec::new()),
        };
        Validation {
            crew,
            engine: self.engine.clone(),
            python_crew: self.python_crew.clone(),
            required_inputs,
            warnings,
            fields,
            graph: self.graph.clone(),
        }
    }

    /// The [`Validation`] as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.validation()).expect("a Validation serialises")
    }
}
