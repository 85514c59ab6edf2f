//! [`validate`]: what `crew-runner validate` and the HTTP API's `POST /v1/crews/validate` report
//! about a crew, without recording anything.

use serde_json::{json, Value};

use super::engine_choice::EngineDecision;
use super::submission::{choose_engine, ChosenEngine, SubmitError, SubmitRequest};
use crate::crew::{self, CrewReport};
use crate::engine::crewai::PythonCrew;
use crate::llm::LlmEnv;

/// A crew as the faces show it before running it.
#[derive(Clone, Debug)]
pub struct Validation {
    /// The engine that would run it, and why.
    pub decision: EngineDecision,
    /// The normalised crew, its required inputs and warnings, when the native loader reads it
    /// (`None` for Python code only the CrewAI engine runs).
    pub report: Option<CrewReport>,
    /// The CrewAI project, Flow or script recognised on disk.
    pub python_crew: Option<PythonCrew>,
}

impl Validation {
    /// The JSON form (`validate --json`, the HTTP API): the [`CrewReport`] fields (`crew`,
    /// `required_inputs`, `warnings`; `crew: null` and empty lists without a native report), plus
    /// `engine` (the decision) and `python_crew` (`{kind, root, entry}` or `null`).
    pub fn to_json(&self) -> Value {
        let mut value = match &self.report {
            Some(r) => serde_json::to_value(r).expect("a CrewReport serialises"),
            None => json!({ "crew": null, "required_inputs": [], "warnings": [] }),
        };
        value["engine"] = serde_json::to_value(&self.decision).expect("a decision serialises");
        value["python_crew"] = match &self.python_crew {
            Some(p) => json!({ "kind": p.kind, "root": p.root, "entry": p.entry }),
            None => Value::Null,
        };
        value
    }
}

/// Loads `request.crew` with `request.workspaces`, decides the engine as a submission would
/// ([`choose_engine`]) and reports both. Refused (nothing to report) when no engine can run the
/// crew, or when the native loader reads it but the crew is invalid. Blocking: it reads files
/// and may probe Pythons.
pub fn validate(request: &SubmitRequest, env: &LlmEnv) -> Result<Validation, SubmitError> {
    let ChosenEngine { decision, native, python_crew } = choose_engine(request, env)?;
    let report = match native {
        Ok(_) => Some(crew::validate_with(&request.crew, &request.workspaces)?),
        Err(_) => None,
    };
    Ok(Validation { decision, report, python_crew })
}
