//! A CrewAI YAML project: `config/agents.yaml` + `config/tasks.yaml` (or under
//! `src/<package>/config/`), an optional `crew.yaml` of crew settings beside `config/`, the
//! project's Python files (`crew.py`'s `Agent`/`Task`/`Crew` arguments, script-style bindings,
//! Pydantic models, `main.py`'s default inputs) and its `.env` (variable names only).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::crew_py::CrewPy;
use super::python::pydantic::Models;
use super::{collection, crew_py_apply, env_file, main_py, python};
use crate::crew::diagnostic::{Diagnostic, Findings};
use crate::crew::document::{self, Node, Syntax};
use crate::crew::draft::{normalize, Draft, DraftParts};
use crate::crew::fields::Fields;
use crate::crew::origin::Origin;
use crate::crew::settings::{read_settings, CrewSettings};
use crate::crew::source::SourceText;
use crate::crew::{CrewFormat, TaskSpec};

/// The `agents` or `tasks` config of the project in `dir`: `config/<what>.yaml` (or `.yml`), else
/// the first `src/<package>/config/<what>.yaml` in name order.
pub(crate) fn find_config(dir: &Path, what: &str) -> Option<PathBuf> {
    let in_config = |config: &Path| ["yaml", "yml"].iter().map(|ext| config.join(format!("{what}.{ext}"))).find(|p| p.is_file());
    in_config(&dir.join("config")).or_else(|| packages(dir).iter().find_map(|pkg| in_config(&pkg.join("config"))))
}

/// The folders under `dir/src`, in name order.
fn packages(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join("src"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Reads the project in `dir` (absolute).
pub(crate) fn read(dir: &Path, findings: &mut Findings) -> Option<Draft> {
    let shown = dir.display().to_string();
    let (settings, settings_origin, agents_config, tasks_config) = read_crew_yaml(dir, findings)?;

    let agents_path = match agents_config {
        Some(p) => Some(normalize(&dir.join(p))),
        None => find_config(dir, "agents"),
    };
    let tasks_path = match tasks_config {
        Some(p) => Some(normalize(&dir.join(p))),
        None => agents_path
            .as_deref()
            .and_then(Path::parent)
            .and_then(|config| ["yaml", "yml"].iter().map(|e| config.join(format!("tasks.{e}"))).find(|p| p.is_file()))
            .or_else(|| find_config(dir, "tasks")),
    };
    let (Some(agents_path), Some(tasks_path)) = (agents_path, tasks_path) else {
        findings.error(Diagnostic::new(
            shown,
            "not a CrewAI project: expected config/agents.yaml and config/tasks.yaml \
             (or src/<package>/config/…), or a crew.yaml naming agents_config and tasks_config",
        ));
        return None;
    };
    if !agents_path.is_file() || !tasks_path.is_file() {
        // A config path in crew.yaml that names no file: reported by `read_crew_yaml`.
        return None;
    }
    let agents_file = read_yaml(&agents_path, findings);
    let tasks_file = read_yaml(&tasks_path, findings);
    let (agents_source, agents_node) = agents_file?;
    let (tasks_source, tasks_node) = tasks_file?;

    let agents_origin = Origin::new(agents_source, "agents", Vec::new());
    let tasks_origin = Origin::new(tasks_source, "tasks", Vec::new());
    let mut agents = collection::agents(&agents_node, &agents_origin, findings);
    let mut tasks = collection::tasks(&tasks_node, &tasks_origin, findings);
    let mut settings = settings;

    let py_files = python::read_project(dir, findings);
    let py = CrewPy::of(&py_files);
    let models = Models::of(py_files.iter().flat_map(|f| f.parsed.classes.iter()));
    crew_py_apply::apply(&py, &models, &mut settings, &mut agents, &mut tasks, findings);
    yaml_output_models(&tasks_node, &models, &mut tasks, findings);
    let main_inputs = main_py::default_inputs(&py_files, findings);
    let mut input_sources: BTreeMap<String, String> = settings.inputs.keys().map(|k| (k.clone(), "crew.yaml".to_string())).collect();
    for (name, value) in main_inputs.values {
        if !settings.inputs.contains_key(&name) {
            settings.inputs.insert(name.clone(), value);
            input_sources.extend(main_inputs.sources.get(&name).map(|s| (name, s.clone())));
        }
    }
    let (env_file, env_vars) = env_file::read_names(dir, findings).map_or((None, Vec::new()), |(p, n)| (Some(p), n));

    Some(Draft::assemble(DraftParts {
        format: CrewFormat::YamlProject,
        source: dir.to_path_buf(),
        base_dir: dir.to_path_buf(),
        default_name: dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        settings,
        settings_origin,
        agents_origin,
        tasks_origin,
        agents,
        tasks,
        input_sources,
        env_file,
        env_vars,
    }))
}

/// `output_pydantic: Report` / `output_json: Report` in tasks.yaml: the schema of the project's
/// Pydantic model `Report` (unless crew.py already gave one); warned when there is no such model.
fn yaml_output_models(tasks_node: &Node, models: &Models, tasks: &mut [(TaskSpec, Origin)], findings: &mut Findings) {
    for (task, origin) in tasks.iter_mut().filter(|(t, _)| t.output_schema.is_none()) {
        let Some(fields) = tasks_node.get(&task.key) else { continue };
        let named = ["output_pydantic", "output_json"].into_iter().find_map(|key| match fields.get(key) {
            Some(Node::String(class)) if !class.trim().is_empty() => Some((key, class.trim().to_string())),
            _ => None,
        });
        let Some((key, class)) = named else { continue };
        let short = class.rsplit(['.', ':']).next().unwrap_or(&class);
        task.output_schema = models.schema(short);
        if task.output_schema.is_none() {
            findings
                .warn(origin.at(key, format!("no Pydantic model `{short}` in the project's Python files; the output only has to be JSON")));
        }
    }
}

type CrewYaml = (CrewSettings, Origin, Option<String>, Option<String>);

/// `crew.yaml` (or `crew.yml`) in `dir`, if any: the settings and the config paths it names.
fn read_crew_yaml(dir: &Path, findings: &mut Findings) -> Option<CrewYaml> {
    let Some(path) = ["crew.yaml", "crew.yml"].iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
        let none = Arc::new(SourceText::new(dir.display().to_string(), ""));
        return Some((CrewSettings::default(), Origin::new(none, "", Vec::new()), None, None));
    };
    let (source, node) = read_yaml(&path, findings)?;
    let origin = Origin::new(source, "", Vec::new());
    if node == Node::Null {
        return Some((CrewSettings::default(), origin, None, None));
    }
    let fields = Fields::of(&node, origin.clone(), findings)?;
    let settings = read_settings(&fields, &["agents_config", "tasks_config"], findings);
    let agents_config = fields.string("agents_config", findings);
    let tasks_config = fields.string("tasks_config", findings);
    for (key, value) in [("agents_config", &agents_config), ("tasks_config", &tasks_config)] {
        if let Some(p) = value {
            if !normalize(&dir.join(p)).is_file() {
                findings.error(origin.at(key, format!("file `{p}` not found in {}", dir.display())));
            }
        }
    }
    Some((settings, origin, agents_config, tasks_config))
}

fn read_yaml(path: &Path, findings: &mut Findings) -> Option<(Arc<SourceText>, Node)> {
    let source = SourceText::read(path).map_err(|d| findings.error(d)).ok()?;
    let node = document::parse(&source, Syntax::Yaml).map_err(|d| findings.error(d)).ok()?;
    Some((Arc::new(source), node))
}
