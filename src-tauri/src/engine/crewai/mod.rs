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
//!
//! `server`, `attempt` and `orphans` are Unix only (Unix sockets, process groups, `/proc`);
//! elsewhere `unsupported.rs` stands in for them: an attempt fails saying the engine is not
//! supported on this platform.

#[cfg(unix)]
pub mod attempt;
pub mod events;
#[cfg(unix)]
pub mod orphans;
pub mod python;
#[cfg(unix)]
pub mod server;
pub mod target;
#[cfg(not(unix))]
mod unsupported;
#[cfg(not(unix))]
pub use unsupported::{attempt, orphans, server};

pub use python::{FoundPython, NoPython, PythonCommand, PythonSearch, Tried};
pub use server::ShimPool;
pub use target::{detect, CrewaiTarget, PythonCrew, TargetKind};
