//! A whole crew in one `.yaml`/`.yml`/`.json`/`.jsonc` file: crew settings at the top level,
//! `agents` and `tasks` as mappings (key -> fields) or lists of objects with a `name`/`key`/`id`.

use std::path::Path;
use std::sync::Arc;

use super::collection;
use crate::crew::diagnostic::Findings;
use crate::crew::document::Node;
use crate::crew::draft::{Draft, DraftParts};
use crate::crew::fields::Fields;
use crate::crew::origin::Origin;
use crate::crew::settings::read_settings;
use crate::crew::source::SourceText;
use crate::crew::CrewFormat;

/// Reads the crew in `root` (the parsed file at `path`, absolute).
pub(crate) fn read(root: &Node, source: Arc<SourceText>, path: &Path, findings: &mut Findings) -> Option<Draft> {
    let top = Origin::new(source.clone(), "", Vec::new());
    let fields = Fields::of(root, top.clone(), findings)?;
    let settings = read_settings(&fields, &["agents", "tasks"], findings);
    let agents_origin = Origin::new(source.clone(), "agents", vec!["agents".into()]);
    let tasks_origin = Origin::new(source.clone(), "tasks", vec!["tasks".into()]);
    let agents = fields.get("agents").map(|n| collection::agents(n, &agents_origin, findings)).unwrap_or_default();
    let tasks = fields.get("tasks").map(|n| collection::tasks(n, &tasks_origin, findings)).unwrap_or_default();
    let base_dir = path.parent().unwrap_or(path).to_path_buf();
    Some(Draft::assemble(DraftParts {
        format: CrewFormat::SingleFile,
        source: path.to_path_buf(),
        base_dir,
        default_name: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        settings,
        settings_origin: top,
        agents_origin,
        tasks_origin,
        agents,
        tasks,
        input_sources: Default::default(),
        env_file: None,
        env_vars: Vec::new(),
    }))
}
