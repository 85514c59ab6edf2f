//! Crews: loading the three formats (CrewAI YAML project, single file, graph JSON) into one
//! validated [`CrewSpec`], placeholders, and validation reports.

mod spec;

pub use spec::{AgentSpec, CrewFormat, CrewSpec, Process, TaskSpec};
