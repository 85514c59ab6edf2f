use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

use super::engine_choice::{decide, EngineChoice, EngineChoiceError, EngineDecision};
use crate::crew::{
    self, CrewError, CrewGraph, CrewReport, CrewSpec, CrewWarning, LoadedCrew, MissingInputs, MissingToolKey, NetworkChoice,
    WorkspacePolicy,
};
use crate::engine::crewai::{self, CrewaiTarget, PythonCrew, PythonSearch};
use crate::execution::{Engine, LlmOptions, NewExecution, Priority, DEFAULT_MAX_ABANDONS, DEFAULT_MAX_ATTEMPTS};
use crate::llm::endpoint_secrets::{self, SecretsError};
use crate::llm::{LlmEnv, LlmError, ModelRegistry};
use crate::store::IdempotencyKey;

/// What a caller asks to run: a crew file and how to run it.
#[derive(Clone, Debug)]
pub struct SubmitRequest {
    pub crew: PathBuf,
    /// Kickoff inputs (override the crew's defaults).
    pub inputs: BTreeMap<String, serde_json::Value>,
    pub priority: Priority,
    pub max_attempts: u32,
    /// Attempts a dying worker may abandon before the execution fails ([`DEFAULT_MAX_ABANDONS`]).
    pub max_abandons: u32,
    pub timeout_ms: Option<u64>,
    pub llm: LlmOptions,
    pub meta: BTreeMap<String, String>,
    /// Where the crew's workspace may be besides the crew's folder (checked here; the execution
    /// stores the resolved folder).
    pub workspaces: WorkspacePolicy,
    /// `--engine`: which engine runs it (see [`EngineChoice`]).
    pub engine: EngineChoice,
    /// `--python PATH`: the Python the CrewAI engine uses (else the search in
    /// `engine::crewai::python`).
    pub python: Option<PathBuf>,
    /// `--no-network-tools`, `--allow-private-network`: applied to the loaded crew, so its
    /// snapshot carries them to the worker.
    pub network: NetworkChoice,
}

impl SubmitRequest {
    /// A request for `crew` with the defaults: normal priority, 3 attempts, no timeout, the
    /// workspace inside the crew's folder.
    pub fn new(crew: impl Into<PathBuf>) -> Self {
        SubmitRequest {
            crew: crew.into(),
            inputs: BTreeMap::new(),
            priority: Priority::Normal,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_abandons: DEFAULT_MAX_ABANDONS,
            timeout_ms: None,
            llm: LlmOptions::default(),
            meta: BTreeMap::new(),
            workspaces: WorkspacePolicy::default(),
            engine: EngineChoice::Auto,
            python: None,
            network: NetworkChoice::default(),
        }
    }
}

/// A per-attempt time limit in the milliseconds stored: rounded up to a whole millisecond (an
/// attempt never gets less than asked). `None` stays `None`; zero is refused.
pub fn timeout_ms(limit: Option<std::time::Duration>) -> Result<Option<u64>, SubmitError> {
    match limit {
        None => Ok(None),
        Some(d) if d.is_zero() => Err(SubmitError::BadTimeout(0.0)),
        Some(d) => Ok(Some(u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))),
    }
}

/// [`timeout_ms`] of a limit given in seconds (the desktop app's form); negative or non-finite
/// seconds are refused.
pub fn timeout_from_secs(secs: Option<f64>) -> Result<Option<u64>, SubmitError> {
    match secs {
        None => Ok(None),
        Some(s) => timeout_ms(Some(std::time::Duration::try_from_secs_f64(s).map_err(|_| SubmitError::BadTimeout(s))?)),
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
    /// The time limit must be positive.
    #[error("--timeout {0}: expected a positive duration")]
    BadTimeout(f64),
    /// `max_abandons` must be at least 1.
    #[error("--max-abandons must be at least 1")]
    NoAbandons,
    /// An idempotency key must be 1 to [`MAX_KEY_LEN`] bytes of printable text.
    #[error("--idempotency-key {0:?}: expected 1 to {max} bytes of printable text", max = MAX_KEY_LEN)]
    BadIdempotencyKey(String),
    /// No engine can run the crew as asked (see [`EngineChoiceError`]).
    #[error("{0}")]
    Engine(#[from] EngineChoiceError),
    /// Tools the crew uses need API keys the environment does not have (all of them are listed).
    #[error("{crew}: {}", missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    MissingToolKeys { crew: String, missing: Vec<MissingToolKey> },
    /// An option the CrewAI engine does not support (`--record`, `--replay`).
    #[error("{crew}: {option} works with the native engine only (this crew runs on CrewAI: {reason})")]
    NativeOnly { crew: String, option: &'static str, reason: String },
}

/// The longest idempotency key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 200;

/// A digest of what submitting `news` records: SHA-256 (hex) of every execution's serde form
/// (crew name and source, the crew snapshot, inputs, priority, attempts, timeout, model options,
/// metadata), in row order. The same crew content, rows and options give the same digest
/// (wherever the rows came from, however the crew file is laid out); anything else gives another.
pub fn submission_hash(news: &[NewExecution]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"crew-runner submission v1\n");
    for new in news {
        // The credentials file's name is drawn afresh at each submission (the URL it keeps is in
        // `api_base`, redacted): it is not part of what is asked.
        let mut asked = new.clone();
        asked.llm.secret_ref = None;
        // Maps are ordered (BTreeMap, serde_json's default Map), so the text is canonical.
        hash.update(serde_json::to_vec(&asked).expect("a NewExecution serialises"));
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

/// The key a submission records under: `key` (checked: 1 to [`MAX_KEY_LEN`] bytes, no control
/// characters) with the [`submission_hash`] of `news`.
pub fn idempotency_key(key: &str, news: &[NewExecution]) -> Result<IdempotencyKey, SubmitError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control) {
        return Err(SubmitError::BadIdempotencyKey(key.to_string()));
    }
    Ok(IdempotencyKey { key: key.to_string(), request_hash: submission_hash(news) })
}

/// The key of a batch submitted without one: `batch:` and its [`submission_hash`], so the same
/// batch submitted again (after a crash, by a script run twice) is recorded once, and a batch
/// that differs in anything is another batch (it can never conflict).
pub fn default_batch_key(news: &[NewExecution]) -> IdempotencyKey {
    let request_hash = submission_hash(news);
    IdempotencyKey { key: format!("batch:{request_hash}"), request_hash }
}

/// Loads and validates the crew, checks inputs and models, and returns the execution to record
/// together with the warnings: the loader's, and one naming any input no placeholder uses.
///
/// Nothing is recorded; callers record the result with the scheduler or the store. Once every
/// check passed, credentials in `request.llm.api_base` are moved to a secrets file in
/// `env.secrets` ([`endpoint_secrets::stash`]): the execution holds the redacted URL only.
pub fn prepare_submission(request: &SubmitRequest, env: &LlmEnv) -> Result<(NewExecution, Vec<CrewWarning>), SubmitError> {
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
    if request.max_abandons == 0 {
        return Err(SubmitError::NoAbandons);
    }
    let ChosenEngine { decision, native, python_crew } = choose_engine(request, env)?;
    match decision.engine {
        Engine::Native => {
            let loaded = native.expect("the native engine is chosen only for a crew that loaded");
            let mut batch = native_batch(request, rows, env, loaded)?;
            if let Some(hint) = &decision.hint {
                for (_, warnings) in &mut batch {
                    warnings.push(crew::Diagnostic::new(request.crew.display().to_string(), hint.clone()));
                }
            }
            Ok(batch)
        }
        Engine::Crewai => crewai_batch(request, rows, env, decision, native.ok(), python_crew),
    }
}

/// The engine a submission runs on, with what it was decided from.
pub struct ChosenEngine {
    pub decision: EngineDecision,
    /// What the native loader made of the crew.
    pub native: Result<LoadedCrew, CrewError>,
    /// The CrewAI project, Flow or script recognised on disk.
    pub python_crew: Option<PythonCrew>,
}

/// The engine `request` runs on and why (nothing is recorded; `validate` shows the decision).
pub fn choose_engine(request: &SubmitRequest, env: &LlmEnv) -> Result<ChosenEngine, SubmitError> {
    let python_crew = crewai::detect(&request.crew);
    let native = crew::load_with(&request.crew, &request.workspaces);
    let root = python_crew.as_ref().map(|p| p.root.clone()).unwrap_or_else(|| project_root(&request.crew));
    let search = PythonSearch { explicit: request.python.clone(), vars: env.vars.clone(), cache: env.python_cache.clone() };
    let shown = request.crew.display().to_string();
    let decision = decide(request.engine, &shown, &native, python_crew.as_ref(), || crewai::python::find(&search, &root))?;
    // After the decision: tools the user turned off are not something the native engine lacks.
    let native = native.map(|mut loaded| {
        let dropped = request.network.apply(&mut loaded.spec);
        loaded.warnings.extend(dropped);
        loaded
    });
    Ok(ChosenEngine { decision, native, python_crew })
}

/// What a crew would run as, shown before anything is submitted (`validate`, the desktop app's New
/// run): the engine decision, the native report when the native engine loads the crew, and the
/// CrewAI project, Flow or script recognised on disk.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CrewPreview {
    pub engine: EngineDecision,
    /// `None` when the native engine cannot load the crew (a Python crew runs on CrewAI).
    pub report: Option<CrewReport>,
    pub python_crew: Option<PythonCrew>,
    /// The native crew as a graph, each of the report's warnings pinned to the node it concerns;
    /// `None` with the report.
    pub graph: Option<CrewGraph>,
}

/// The [`CrewPreview`] of `request` (its crew, engine, Python and workspace policy; nothing is
/// recorded). Takes seconds when the decision probes Python.
pub fn preview_crew(request: &SubmitRequest, env: &LlmEnv) -> Result<CrewPreview, SubmitError> {
    let ChosenEngine { decision, native, python_crew } = choose_engine(request, env)?;
    let report = native.ok().map(|loaded| {
        let missing = crew::missing_tool_keys(&loaded.spec, &env.vars);
        let source = loaded.spec.source.clone();
        let mut report = CrewReport::from(loaded);
        report
            .warnings
            .extend(missing.iter().map(|m| crew::Diagnostic::new(&source, format!("{m}; a run would be refused")).on_field(&m.used_by)));
        report
    });
    let graph = report.as_ref().map(|r| CrewGraph::build(&r.crew, &r.warnings));
    Ok(CrewPreview { engine: decision, report, python_crew, graph })
}

/// The folder a crew's Python is looked for in: the crew's folder, or a file's folder.
fn project_root(crew: &std::path::Path) -> PathBuf {
    let abs = crate::crew::draft::absolute(crew);
    if abs.is_dir() {
        abs
    } else {
        abs.parent().map(std::path::Path::to_path_buf).unwrap_or(abs)
    }
}

fn native_batch(
    request: &SubmitRequest,
    rows: &[BTreeMap<String, serde_json::Value>],
    env: &LlmEnv,
    loaded: LoadedCrew,
) -> Result<Vec<(NewExecution, Vec<CrewWarning>)>, SubmitError> {
    let spec = loaded.spec;
    let source = spec.source.clone();
    check_models(&spec, &request.llm, env)?;
    // A replay serves the tools' recorded results: it needs no key.
    let missing = if request.llm.replay.is_some() { Vec::new() } else { crew::missing_tool_keys(&spec, &env.vars) };
    if !missing.is_empty() {
        return Err(SubmitError::MissingToolKeys { crew: source, missing });
    }
    let snapshot = Arc::new(serde_json::to_value(&spec).expect("a CrewSpec serialises"));
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
    Ok(resolved_rows
        .into_iter()
        .map(|(inputs, warnings)| (new_execution(request, Engine::Native, &spec.name, &source, snapshot.clone(), inputs, &llm), warnings))
        .collect())
}

/// The executions of a crew the CrewAI engine runs: a Python crew as it is on disk, or a native
/// crew translated to a CrewAI project at each attempt (its placeholders are checked here, as
/// for the native engine; a Python crew's defaults live in its `main.py`, so only the given inputs
/// are stored).
fn crewai_batch(
    request: &SubmitRequest,
    rows: &[BTreeMap<String, serde_json::Value>],
    env: &LlmEnv,
    decision: EngineDecision,
    native: Option<LoadedCrew>,
    python_crew: Option<PythonCrew>,
) -> Result<Vec<(NewExecution, Vec<CrewWarning>)>, SubmitError> {
    let python = decision.python.clone().expect("the CrewAI engine is chosen with its Python");
    let shown = request.crew.display().to_string();
    for (option, used) in [("--record", request.llm.record.is_some()), ("--replay", request.llm.replay.is_some())] {
        if used {
            return Err(SubmitError::NativeOnly { crew: shown, option, reason: decision.reason });
        }
    }
    let (target, name, source, spec) = match python_crew {
        Some(p) => {
            let name = match p.kind {
                crewai::TargetKind::Script => p.entry.file_stem().map(|s| s.to_string_lossy().into_owned()),
                _ => p.entry.file_name().map(|s| s.to_string_lossy().into_owned()),
            }
            .unwrap_or_else(|| "crew".into());
            let source = match p.kind {
                crewai::TargetKind::Script => p.entry.display().to_string(),
                _ => p.root.display().to_string(),
            };
            (CrewaiTarget { kind: p.kind, root: p.root, entry: p.entry, python, translated: None }, name, source, None)
        }
        None => {
            let loaded = native.ok_or_else(|| {
                SubmitError::Crew(CrewError::single(crew::Diagnostic::new(&shown, "not a crew the CrewAI engine can run")))
            })?;
            let spec = loaded.spec;
            let root = PathBuf::from(&spec.source);
            let target = CrewaiTarget {
                kind: crewai::TargetKind::CrewProject,
                root: root.clone(),
                entry: root,
                python,
                translated: Some(spec.clone()),
            };
            (target, spec.name.clone(), spec.source.clone(), Some(spec))
        }
    };
    let snapshot = Arc::new(serde_json::to_value(&target).expect("a CrewaiTarget serialises"));
    let mut out_rows = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut inputs = request.inputs.clone();
        inputs.extend(row.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(spec) = &spec {
            inputs = crew::interpolate(spec, &inputs)
                .map_err(|missing| SubmitError::MissingInputs {
                    crew: if rows.len() > 1 { format!("{source} (row {})", i + 1) } else { source.clone() },
                    missing,
                })?
                .inputs;
        }
        out_rows.push(inputs);
    }
    let mut llm = request.llm.clone();
    endpoint_secrets::stash(env.secrets.as_deref(), &mut llm)?;
    Ok(out_rows
        .into_iter()
        .map(|inputs| (new_execution(request, Engine::Crewai, &name, &source, snapshot.clone(), inputs, &llm), Vec::new()))
        .collect())
}

fn new_execution(
    request: &SubmitRequest,
    engine: Engine,
    name: &str,
    source: &str,
    snapshot: Arc<serde_json::Value>,
    inputs: BTreeMap<String, serde_json::Value>,
    llm: &LlmOptions,
) -> NewExecution {
    NewExecution {
        crew_name: name.to_string(),
        crew_source: source.to_string(),
        engine,
        crew_spec: snapshot,
        inputs,
        priority: request.priority,
        max_attempts: request.max_attempts,
        max_abandons: request.max_abandons,
        timeout_ms: request.timeout_ms,
        llm: llm.clone(),
        meta: request.meta.clone(),
        retry_of: None,
        seed_steps: Vec::new(),
    }
}

/// A warning naming the given inputs that no `{placeholder}` of the crew uses (a misspelt key
/// would otherwise run silently on the crew's default), or `None` when every input is used.
///
/// CrewAI ignores such inputs too; they are still recorded with the execution.
fn unused_inputs_warning(source: &str, named: &BTreeSet<String>, inputs: &BTreeMap<String, serde_json::Value>) -> Option<CrewWarning> {
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
    Some(crew::Diagnostic::new(source, format!("{plural} {} not used by any placeholder of the crew ({uses}); ignored", unused.join(", "))))
}

/// Every model the crew will use resolves (provider known, key present, recording readable).
fn check_models(spec: &CrewSpec, options: &LlmOptions, env: &LlmEnv) -> Result<(), SubmitError> {
    let model_error = |field: String, source: LlmError| SubmitError::Model { crew: spec.source.clone(), field, source };
    let env = env
        .clone()
        .with_env_file(spec.env_file.as_deref().map(std::path::Path::new))
        .map_err(|e| model_error(".env".into(), LlmError::new(crate::llm::LlmErrorKind::Config, e.to_string())))?;
    let registry = ModelRegistry::new(options.clone(), env).map_err(|e| model_error("llm".into(), e))?;
    // The same precedence as the engine: --model for everything, else agent llm, else crew llm,
    // else MODEL / the built-in default.
    let crew_default = spec.llm.clone().unwrap_or_else(|| registry.default_model());
    let pick = |own: Option<&String>| options.model.clone().or_else(|| own.cloned()).unwrap_or_else(|| crew_default.clone());
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for agent in &spec.agents {
        let field = format!("agents.{}.llm", agent.key);
        if options.model.is_none() && !agent.llm_settings.is_empty() {
            registry.model_with(&pick(agent.llm.as_ref()), &agent.llm_settings).map_err(|e| model_error(field, e))?;
            continue;
        }
        wanted.insert((field, pick(agent.llm.as_ref())));
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

    fn new_execution(topic: &str) -> NewExecution {
        NewExecution { crew_name: "c".into(), inputs: inputs(&[topic]), max_attempts: 3, ..Default::default() }
    }

    #[test]
    fn the_hash_covers_every_row_and_option_and_nothing_else() {
        let batch = vec![new_execution("a"), new_execution("b")];
        assert_eq!(submission_hash(&batch), submission_hash(&batch.clone()));
        // Each submission keeps its endpoint credentials under a fresh name: not a difference.
        let mut with_ref = batch.clone();
        with_ref[0].llm.secret_ref = Some("01J0000000000000000000000A".into());
        assert_eq!(submission_hash(&with_ref), submission_hash(&batch));
        assert_eq!(submission_hash(&batch).len(), 64);
        let reordered = vec![new_execution("b"), new_execution("a")];
        let fewer = vec![new_execution("a")];
        let mut other_priority = batch.clone();
        other_priority[1].priority = Priority::High;
        let mut other_model = batch.clone();
        other_model[0].llm.model = Some("offline".into());
        for other in [reordered, fewer, other_priority, other_model] {
            assert_ne!(submission_hash(&batch), submission_hash(&other));
        }
        let key = default_batch_key(&batch);
        assert_eq!(key.key, format!("batch:{}", key.request_hash));
    }

    #[test]
    fn idempotency_keys_are_checked() {
        let batch = vec![new_execution("a")];
        assert_eq!(idempotency_key("nightly-2026-11-27", &batch).unwrap().request_hash, submission_hash(&batch));
        for bad in [String::new(), "a\nb".into(), "x".repeat(MAX_KEY_LEN + 1)] {
            assert!(matches!(idempotency_key(&bad, &batch), Err(SubmitError::BadIdempotencyKey(_))), "{bad:?}");
        }
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
