//! The JSON form of a [`CrewPreview`]: what `crew-runner validate --json` and the HTTP API's
//! `POST /v1/crews/validate` print about a crew, without recording anything.

use serde_json::{json, Value};

use super::submission::CrewPreview;

impl CrewPreview {
    /// The [`CrewReport`](crate::crew::CrewReport) fields (`crew`, `required_inputs`, `warnings`;
    /// `crew: null` and empty lists without a native report), plus `engine` (the decision) and
    /// `python_crew` (`{kind, root, entry}` or `null`).
    pub fn to_json(&self) -> Value {
        let mut value = match &self.report {
            Some(r) => serde_json::to_value(r).expect("a CrewReport serialises"),
            None => json!({ "crew": null, "required_inputs": [], "warnings": [] }),
        };
        value["engine"] = serde_json::to_value(&self.engine).expect("a decision serialises");
        value["python_crew"] = serde_json::to_value(&self.python_crew).expect("a PythonCrew serialises");
        value
    }
}
