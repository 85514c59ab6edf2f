//! Crews: loading the three formats (CrewAI YAML project, single file, graph JSON) into one
//! validated [`CrewSpec`], placeholders, and validation reports.
//!
//! - [`load`] reads and checks a crew; [`validate`] also lists the inputs it needs.
//! - Errors ([`CrewError`]) list every problem found, each naming file, line, field and reason.
//! - [`inputs`] reads kickoff inputs (`k=v` pairs, JSON files, JSONL/CSV rows).
//! - [`tools`] maps CrewAI tool names to ours; [`output_schema`] checks a task's JSON Schema.
//! - [`export`] writes a crew as a real CrewAI project.

mod check;
pub mod command_tool;
mod confine;
pub(crate) mod crewai_fields;
pub(crate) mod diagnostic;
mod document;
pub(crate) mod draft;
mod entries;
pub mod export;
mod fields;
pub mod graph;
pub mod inputs;
mod jsonc;
mod load;
pub mod mcp;
mod network;
mod origin;
pub mod output_schema;
pub mod placeholders;
mod report;
mod settings;
mod source;
mod spec;
pub mod tools;

pub use command_tool::CommandToolSpec;
pub use confine::WorkspacePolicy;
pub use diagnostic::{CrewError, CrewWarning, Diagnostic, FieldUses, MAX_DIAGNOSTICS};
pub use entries::DEFAULT_MAX_ITER;
pub use export::{export_project, ExportError, ExportedProject};
pub use graph::{CrewGraph, EdgeKind, GraphEdge, GraphNode, NodeKind};
pub use load::{load, load_with, LoadedCrew};
pub use mcp::{McpRef, McpServerSpec, McpTarget};
pub use network::{drop_network_tools, missing_tool_keys, MissingToolKey, NetworkChoice};
pub use placeholders::{interpolate, required_inputs, MissingInputs};
pub use report::{validate, validate_with, CrewReport, RequiredInput};
pub use source::MAX_FILE_BYTES;
pub use spec::{AgentSpec, CrewFormat, CrewSpec, LlmSettings, Process, TaskSpec, ToolUse};
