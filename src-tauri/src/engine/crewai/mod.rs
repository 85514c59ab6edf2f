//! The CrewAI engine: runs the user's own CrewAI (projects, Flows, scripts, and translated native
//! crews) in the user's Python, under the same queue, ExecutionLog, cancel and retries as native
//! runs. The contract with the embedded Python shim is docs/CREWAI_ENGINE.md.
//!
//! - [`python`]: which Python runs a crew, and whether it imports CrewAI (probed, cached).
//! - [`target`]: what a CrewAI execution runs ([`CrewaiTarget`], its stored `crew_spec`), and
//!   recognising projects, Flows and scripts.
//! - [`server`]: warm `shim.py serve` processes, one per Python, forking a child per attempt.
//! - [`attempt`]: one attempt: the request, the events recorded, cancel by process group.
//! - [`orphans`]: the registry of running children, swept for survivors of a dead worker.
//! - [`events`]: the shim's events and their translation into log lines, steps and progress.

pub mod attempt;
pub mod events;
pub mod orphans;
pub mod python;
pub mod server;
pub mod target;

pub use python::{FoundPython, NoPython, PythonCommand, PythonSearch, Tried};
pub use server::ShimPool;
pub use target::{detect, CrewaiTarget, PythonCrew, TargetKind};
