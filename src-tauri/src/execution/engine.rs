//! [`Engine`]: which crew engine runs an execution.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The engine that runs an execution, decided at submission and stored with it.
///
/// - `Native`: the Rust engine; the execution's `crew_spec` is a `CrewSpec`.
/// - `Crewai`: the user's own CrewAI in a Python child process; `crew_spec` is a `CrewaiTarget`
///   (see `engine::crewai` and docs/CREWAI_ENGINE.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Native,
    Crewai,
}

impl Engine {
    /// The lowercase name used in JSON, the database and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Native => "native",
            Engine::Crewai => "crewai",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored engine name that this binary does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine `{0}` (expected native or crewai)")]
pub struct ParseEngineError(pub String);

impl FromStr for Engine {
    type Err = ParseEngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "native" => Ok(Engine::Native),
            "crewai" => Ok(Engine::Crewai),
            other => Err(ParseEngineError(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for engine in [Engine::Native, Engine::Crewai] {
            assert_eq!(engine.as_str().parse::<Engine>(), Ok(engine));
            assert_eq!(serde_json::to_value(engine).unwrap(), serde_json::json!(engine.as_str()));
        }
        assert!("python".parse::<Engine>().is_err());
    }
}
