//! [`Runner::graph`]: the crew graph of a stored execution, for Run detail.

use super::runner::{Runner, RunnerError};
use crate::crew::{CrewGraph, CrewSpec};
use crate::engine::crewai::CrewaiTarget;
use crate::execution::{Engine, Execution};
use serde::Deserialize;

impl Runner {
    /// The [`CrewGraph`] of the crew snapshot stored with execution `id` (no warnings: they were
    /// shown when it was submitted). `None` when the snapshot holds no native crew (a Python crew
    /// run by CrewAI; a native crew translated for CrewAI has one).
    pub fn graph(&self, id: &str) -> Result<Option<CrewGraph>, RunnerError> {
        Ok(snapshot_spec(&self.get(id)?).map(|spec| CrewGraph::build(&spec, &[])))
    }
}

/// The native crew in `e`'s snapshot, if it holds one.
fn snapshot_spec(e: &Execution) -> Option<CrewSpec> {
    match e.engine {
        Engine::Native => CrewSpec::deserialize(&*e.crew_spec).ok(),
        Engine::Crewai => CrewaiTarget::deserialize(&*e.crew_spec).ok()?.translated,
    }
}
