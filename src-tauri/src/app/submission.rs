use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::crew::{self, CrewError, CrewSpec, CrewWarning, MissingInputs, WorkspacePolicy};
use crate::execution::{LlmOptions, NewExecution, Priority};
use crate::llm::endpoint_secrets::{self, SecretsError};
use crate::llm::{LlmEnv, LlmError, ModelRegistry};

/// What a caller asks to run: a crew file and how to run it.
#[derive(Clone, Debug)]
pub struct SubmitRequest {
    pub crew: PathBuf,
    /// Kickoff inputs (override the crew's defaults).
    pub inputs: BTreeMap<String, serde_json::Value>,
    pub priority: Priority,
    pub max_attempts: u32,
    pub timeout_ms: Option<u64>,
    pub llm: LlmOptions,
    pub meta: BTreeMap<String, String>,
    /// Where the crew's workspace may be besides the crew's folder (checked here; the execution
    /// stores the resolved folder).
    pub workspaces: WorkspacePolicy,
}

impl SubmitRequest {
    /// A request for `crew` with the defaults: normal priority, 3 attempts, no timeout, the
    /// workspace inside the crew's folder.
    pub fn new(crew: impl Into<PathBuf>) -> Self {
        SubmitRequest {
            crew: crew.into(),
            inputs: BTreeMap::new(),
            priority: Priority::Normal,
            max_attempts: 3,
            timeout_ms: None,
            llm: LlmOptions::default(),
            meta: BTreeMap::new(),
            workspaces: WorkspacePolicy::default(),
        }
    }
}

/// Why a submission was refused. Nothing is recorded when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The crew file is invalid (every problem is listed).
    #[error("{0}")]
    Crew(#[from] CrewError),
    /// Placeholders without a value (all of them are listed).
    #[error("{crew}: {missing} (pass them with --input KEY=VALUE or --inputs FILE.json)")]
    MissingInputs { crew: String, missing: MissingInputs },
    /// A model the crew names cannot be used (unknown provider, missing key, missing recording).
    #[error("{crew}: {field}: {source}")]
    Model { crew: String, field: String, source: LlmError },
    /// `max_attempts` must be at least 1.
    #[error("--max-attempts must be at least 1")]
    NoAttempts,
    /// The endpoint URL's credentials could not be kept aside (see `llm::endpoint_secrets`).
    #[error("--api-base: {0}")]
    Secrets(#[from] SecretsError),
}

/// Loads and validates the crew, checks inputs and models, and returns the execution to record
/// together with the warnings: the loader's, and one naming any input no placeholder uses.
///
/// Nothing is recorded; callers record the result with the scheduler or the store. Once every
/// check passed, credentials in `request.llm.api_base` are moved to a secrets file in
/// `env.secrets` ([`endpoint_secrets::stash`]): the execution holds the redacted URL only.
pub fn prepare_submission(
    request: &SubmitRequest,
    env: &LlmEnv,
) -> Result<(NewExecution, Vec<CrewWarning>), SubmitError> {
    let mut batch = prepare_batch(request, &[BTreeMap::new()], env)?;
    let (new, warnings) = batch.pop().expect("one row gives one execution");
    Ok((new, warnings))
}

/// Like [`prepare_submission`], once per row of inputs (each row merged over `request.inputs`),
/// as CrewAI's `kickoff_for_each`. Every row is checked before any is returned.
pub fn prepare_batch(
    request: &SubmitRequest,
    rows: &[BTreeMap<String, serde_json::Value>],
    env: &LlmEnv,
) -> Result<Vec<(NewExecution, Vec<CrewWarning>)>, SubmitError> {
    if request.max_attempts == 0 {
        return Err(SubmitError::NoAttempts);
    }
    let loaded = crew::load_with(&request.crew, &request.workspaces)?;
    let spec = loaded.spec;
    let source = spec.source.clone();
    check_models(&spec, &request.llm, env)?;
    let snapshot = serde_json::to_value(&spec).expect("a CrewSpec serialises");
    let named = crew::required_inputs(&spec);
    let mut resolved_rows = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut inputs = request.inputs.clone();
        inputs.extend(row.iter().map(|(k, v)| (k.clone(), v.clone())));
        let resolved = crew::interpolate(&spec, &inputs).map_err(|missing| SubmitError::MissingInputs {
            crew: if rows.len() > 1 { format!("{source} (row {})", i + 1) } else { source.clone() },
            missing,
        })?;
        let mut warnings = loaded.warnings.clone();
        warnings.extend(unused_inputs_warning(&source, &named, &inputs));
        resolved_rows.push((resolved.inputs, warnings));
    }
    let mut llm = request.llm.clone();
    endpoint_secrets::stash(env.secrets.as_deref(), &mut llm)?;
    let mut out = Vec::with_capacity(resolved_rows.len());
    for (inputs, warnings) in resolved_rows {
        out.push((
            NewExecution {
                crew_name: spec.name.clone(),
                crew_source: source.clone(),
                crew_spec: snapshot.clone(),
                inputs,
                priority: request.priority,
                max_attempts: request.max_attempts,
                timeout_ms: request.timeout_ms,
                llm: llm.clone(),
                meta: request.meta.clone(),
                retry_of: None,
                seed_steps: Vec::new(),
            },
            warnings,
        ));
    }
    Ok(out)
}

/// A warning naming the given inputs that no `{placeholder}` of the crew uses (a misspelt key
/// would otherwise run silently on the crew's default), or `None` when every input is used.
///
/// CrewAI ignores such inputs too; they are still recorded with the execution.
fn unused_inputs_warning(
    source: &str,
    named: &BTreeSet<String>,
    inputs: &BTreeMap<String, serde_json::Value>,
) -> Option<CrewWarning> {
    let unused: Vec<&str> = inputs.keys().filter(|k| !named.contains(*k)).map(String::as_str).collect();
    if unused.is_empty() {
        return None;
    }
    let plural = if unused.len() == 1 { "input" } else { "inputs" };
    let uses = if named.is_empty() {
        "the crew has no placeholders".to_string()
    } else {
        format!("its placeholders are {}", named.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", "))
    };
    Some(crew::Diagnostic::new(
        source,
        format!("{plural} {} not used by any placeholder of the crew ({uses}); ignored", unused.join(", ")),
    ))
}

/// Every model the crew will use resolves (provider known, key present, recording readable).
fn check_models(spec: &CrewSpec, options: &LlmOptions, env: &LlmEnv) -> Result<(), SubmitError> {
    let model_error = |field: String, source: LlmError| SubmitError::Model { crew: spec.source.clone(), field, source };
    let registry = ModelRegistry::new(options.clone(), env.clone()).map_err(|e| model_error("llm".into(), e))?;
    // The same precedence as the engine: --model for everything, else agent llm, else crew llm,
    // else MODEL / the built-in default.
    let crew_default = spec.llm.clone().unwrap_or_else(|| registry.default_model());
    let pick = |own: Option<&String>| options.model.clone().or_else(|| own.cloned()).unwrap_or_else(|| crew_default.clone());
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for agent in &spec.agents {
        wanted.insert((format!("agents.{}.llm", agent.key), pick(agent.llm.as_ref())));
    }
    if spec.process == crew::Process::Hierarchical && spec.manager_agent.is_none() {
        wanted.insert(("manager_llm".into(), pick(spec.manager_llm.as_ref())));
    }
    for (field, model) in wanted {
        registry.model(&model).map_err(|e| model_error(field, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn inputs(list: &[&str]) -> BTreeMap<String, serde_json::Value> {
        list.iter().map(|s| (s.to_string(), serde_json::json!("x"))).collect()
    }

    #[test]
    fn inputs_that_no_placeholder_uses_are_named_in_one_warning() {
        let named = names(&["audience", "topic"]);
        assert_eq!(unused_inputs_warning("crew.yaml", &named, &inputs(&["audience", "topic"])), None);
        assert_eq!(unused_inputs_warning("crew.yaml", &named, &BTreeMap::new()), None);
        let w = unused_inputs_warning("crew.yaml", &named, &inputs(&["tpoic", "topic", "year"])).unwrap();
        assert_eq!(
            w.to_string(),
            "crew.yaml: inputs tpoic, year not used by any placeholder of the crew (its placeholders are {audience}, {topic}); ignored"
        );
        let w = unused_inputs_warning("c.json", &BTreeSet::new(), &inputs(&["topic"])).unwrap();
        assert_eq!(w.to_string(), "c.json: input topic not used by any placeholder of the crew (the crew has no placeholders); ignored");
    }
}
