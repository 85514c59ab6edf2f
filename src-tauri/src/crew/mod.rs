//! Crews: loading the three formats (CrewAI YAML project, single file, graph JSON) into one
//! validated [`CrewSpec`], placeholders, and validation reports.

pub mod placeholders;
mod spec;

pub use placeholders::{interpolate, required_inputs, MissingInputs};
pub use spec::{AgentSpec, CrewFormat, CrewSpec, Process, TaskSpec};
