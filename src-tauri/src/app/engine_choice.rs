//! Which engine runs a submission: `--engine auto|native|crewai` decided from what the crew is,
//! what the native engine made of it, and whether a Python with CrewAI is found.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;

use crate::crew::{CrewError, LoadedCrew};
use crate::engine::crewai::{FoundPython, NoPython, PythonCrew, TargetKind};
use crate::execution::Engine;

/// What the caller asked for (`--engine`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// `native` when the crew loads with nothing dropped or ignored; else `crewai` when a Python
    /// with CrewAI is found; else `native` with its warnings.
    #[default]
    Auto,
    Native,
    Crewai,
}

impl std::str::FromStr for EngineChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(EngineChoice::Auto),
            "native" => Ok(EngineChoice::Native),
            "crewai" => Ok(EngineChoice::Crewai),
            other => Err(format!("unknown engine `{other}` (expected auto, native or crewai)")),
        }
    }
}

/// The engine picked and why, in words (`validate` shows it).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct EngineDecision {
    pub engine: Engine,
    pub reason: String,
    /// The Python that runs it (CrewAI engine only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub python: Option<FoundPython>,
    /// A hint to show with the native engine's warnings (`--engine crewai` would run the dropped
    /// parts).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hint: Option<String>,
}

/// Why no engine can run the crew.
#[derive(Debug, thiserror::Error)]
pub enum EngineChoiceError {
    /// The native engine cannot load the crew and no CrewAI was asked for or found: the loader's
    /// errors, and (for Python crews) the Pythons tried.
    #[error("{native}{}", python_note(.python_crew, .no_python))]
    Unrunnable { native: CrewError, python_crew: Option<(TargetKind, PathBuf)>, no_python: Option<NoPython> },
    /// `--engine crewai`, but no Python with CrewAI was found.
    #[error("{crew}: --engine crewai: {no_python}")]
    NoPython { crew: String, no_python: NoPython },
    /// `--engine native` on a crew only Python can run (a script, a Flow, a Python-only project).
    #[error("{crew}: {what} runs on the CrewAI engine only (--engine crewai or auto): {native}")]
    NativeCannot { crew: String, what: &'static str, native: CrewError },
}

fn python_note(python_crew: &Option<(TargetKind, PathBuf)>, no_python: &Option<NoPython>) -> String {
    match (python_crew, no_python) {
        (Some((kind, path)), Some(none)) => format!("\n{}: {} needs the CrewAI engine: {none}", path.display(), kind.describe()),
        (None, Some(none)) => format!("\n(the CrewAI engine was tried too: {none})"),
        _ => String::new(),
    }
}

/// Decides the engine (a plain function: the caller did the loading and passes `find_python`,
/// called only when the decision needs it, since a probe takes seconds).
///
/// - `native`: the native load must have succeeded; a Python crew it cannot load is refused.
/// - `crewai`: a Python with CrewAI must be found.
/// - `auto`: see [`EngineChoice::Auto`]. A Flow or a script always needs CrewAI.
pub fn decide(
    choice: EngineChoice,
    crew: &str,
    native: &Result<LoadedCrew, CrewError>,
    python_crew: Option<&PythonCrew>,
    find_python: impl FnOnce() -> Result<FoundPython, NoPython>,
) -> Result<EngineDecision, EngineChoiceError> {
    let python_only = python_crew.filter(|p| matches!(p.kind, TargetKind::FlowProject | TargetKind::Script));
    match choice {
        EngineChoice::Native => match (native, python_only) {
            (Ok(_), None) => Ok(EngineDecision { engine: Engine::Native, reason: "--engine native".into(), python: None, hint: None }),
            (Ok(_), Some(p)) | (Err(_), Some(p)) => Err(EngineChoiceError::NativeCannot {
                crew: crew.into(),
                what: p.kind.describe(),
                native: native
                    .clone()
                    .err()
                    .unwrap_or_else(|| CrewError::single(crate::crew::Diagnostic::new(crew, "not a YAML or JSON crew"))),
            }),
            (Err(e), None) => Err(EngineChoiceError::Unrunnable { native: e.clone(), python_crew: None, no_python: None }),
        },
        EngineChoice::Crewai => match find_python() {
            Ok(p) => Ok(EngineDecision { engine: Engine::Crewai, reason: "--engine crewai".into(), python: Some(p), hint: None }),
            Err(no_python) => Err(EngineChoiceError::NoPython { crew: crew.into(), no_python }),
        },
        EngineChoice::Auto => {
            let clean = matches!(native, Ok(loaded) if loaded.warnings.is_empty());
            if clean && python_only.is_none() {
                return Ok(EngineDecision {
                    engine: Engine::Native,
                    reason: "auto: the native engine runs everything the crew says (nothing dropped or ignored)".into(),
                    python: None,
                    hint: None,
                });
            }
            let Some(python_crew) = python_crew else {
                // A YAML or JSON crew: CrewAI would get the same crew, translated from what the
                // native loader kept, so it gains nothing.
                return match native {
                    Ok(loaded) => Ok(EngineDecision {
                        engine: Engine::Native,
                        reason: format!(
                            "auto: the native engine drops or ignores {} thing(s) (see the warnings); there is no CrewAI Python code to run instead",
                            loaded.warnings.len()
                        ),
                        python: None,
                        hint: None,
                    }),
                    Err(e) => Err(EngineChoiceError::Unrunnable { native: e.clone(), python_crew: None, no_python: None }),
                };
            };
            let why = match (native, python_only) {
                (_, Some(p)) => format!("it is {}", p.kind.describe()),
                (Ok(loaded), None) => {
                    format!("the native engine would drop or ignore {} thing(s) of it (see the warnings)", loaded.warnings.len())
                }
                (Err(_), None) => format!("it is {} the native engine cannot load", python_crew.kind.describe()),
            };
            match find_python() {
                Ok(p) => Ok(EngineDecision {
                    engine: Engine::Crewai,
                    reason: format!("auto: {why}, and {} ({}) has CrewAI {}", p.command.display(), p.source, p.crewai_version),
                    python: Some(p),
                    hint: None,
                }),
                Err(no_python) => match (native, python_only) {
                    (Ok(_), None) => Ok(EngineDecision {
                        engine: Engine::Native,
                        reason: format!("auto: {why}, but no Python with CrewAI was found"),
                        python: None,
                        hint: Some(format!(
                            "with CrewAI installed, --engine crewai would run {} as written; {no_python}",
                            python_crew.kind.describe()
                        )),
                    }),
                    (native, _) => Err(EngineChoiceError::Unrunnable {
                        native: native
                            .clone()
                            .err()
                            .unwrap_or_else(|| CrewError::single(crate::crew::Diagnostic::new(crew, "needs CrewAI"))),
                        python_crew: Some((python_crew.kind, python_crew.entry.clone())),
                        no_python: Some(no_python),
                    }),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::Diagnostic;
    use crate::engine::crewai::{PythonCommand, Tried};

    fn found() -> Result<FoundPython, NoPython> {
        Ok(FoundPython {
            command: PythonCommand { program: "/v/bin/python".into(), args: vec![] },
            source: "the project's .venv".into(),
            python_version: "3.11.7".into(),
            crewai_version: "1.15.30".into(),
        })
    }

    fn missing() -> Result<FoundPython, NoPython> {
        Err(NoPython {
            tried: vec![Tried { command: "python3".into(), source: "python3 on PATH".into(), reason: "cannot import crewai".into() }],
        })
    }

    fn loaded(warnings: usize) -> Result<LoadedCrew, CrewError> {
        use crate::engine::test_support::{agent, crew, task};
        let spec = crew(vec![agent("a", "A")], vec![task("t", Some("a"))], std::path::Path::new("/tmp"));
        Ok(LoadedCrew {
            spec,
            warnings: (0..warnings).map(|i| Diagnostic::new("crew.yaml", format!("w{i}"))).collect(),
            fields: Vec::new(),
        })
    }

    fn failed() -> Result<LoadedCrew, CrewError> {
        Err(CrewError::single(Diagnostic::new("x", "not a CrewAI project")))
    }

    fn script() -> PythonCrew {
        PythonCrew { kind: TargetKind::Script, root: "/p".into(), entry: "/p/s.py".into() }
    }

    #[test]
    fn auto_picks_native_for_a_clean_crew_without_probing_python() {
        let d = decide(EngineChoice::Auto, "c", &loaded(0), None, || panic!("no probe needed")).unwrap();
        assert_eq!(d.engine, Engine::Native);
    }

    #[test]
    fn auto_picks_crewai_when_a_project_would_lose_something_and_python_is_there() {
        let project = PythonCrew { kind: TargetKind::CrewProject, root: "/p".into(), entry: "/p/src/p".into() };
        let d = decide(EngineChoice::Auto, "c", &loaded(2), Some(&project), found).unwrap();
        assert_eq!(d.engine, Engine::Crewai);
        assert!(d.reason.contains("drop or ignore 2"), "{}", d.reason);
        let d = decide(EngineChoice::Auto, "c", &loaded(2), Some(&project), missing).unwrap();
        assert_eq!(d.engine, Engine::Native);
        assert!(d.hint.unwrap().contains("--engine crewai would run a CrewAI crew project as written"));
        // A project only Python can load, with no Python: refused, naming what was tried.
        let e = decide(EngineChoice::Auto, "c", &failed(), Some(&project), missing).unwrap_err();
        assert!(e.to_string().contains("python3 on PATH"), "{e}");
    }

    #[test]
    fn auto_keeps_a_yaml_crew_with_warnings_native_without_probing_python() {
        // Translating it would hand CrewAI the same (reduced) crew.
        let d = decide(EngineChoice::Auto, "c", &loaded(1), None, || panic!("no probe needed")).unwrap();
        assert_eq!(d.engine, Engine::Native);
        assert!(d.reason.contains("no CrewAI Python code"), "{}", d.reason);
    }

    #[test]
    fn python_only_crews_need_crewai() {
        let s = script();
        assert_eq!(decide(EngineChoice::Auto, "s.py", &failed(), Some(&s), found).unwrap().engine, Engine::Crewai);
        let e = decide(EngineChoice::Auto, "s.py", &failed(), Some(&s), missing).unwrap_err();
        assert!(e.to_string().contains("a Python script needs the CrewAI engine"), "{e}");
        assert!(e.to_string().contains("python3 on PATH"), "{e}");
        let e = decide(EngineChoice::Native, "s.py", &failed(), Some(&s), found).unwrap_err();
        assert!(e.to_string().contains("runs on the CrewAI engine only"), "{e}");
        let e = decide(EngineChoice::Crewai, "c", &loaded(0), None, missing).unwrap_err();
        assert!(e.to_string().contains("--engine crewai: no Python with CrewAI found"), "{e}");
    }
}
