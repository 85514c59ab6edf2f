//! Which earlier outputs a task sees as context.

use std::collections::HashMap;

use super::prompts::CONTEXT_SEPARATOR;
use crate::crew::TaskSpec;
use crate::execution::StepOutput;

/// The keys of the tasks whose outputs `task` (at `index` in `tasks`) uses: `context: None` = all
/// tasks before it; `Some(list)` = those; `Some([])` = none.
pub fn context_keys(tasks: &[TaskSpec], index: usize) -> Vec<&str> {
    match &tasks[index].context {
        None => tasks[..index].iter().map(|t| t.key.as_str()).collect(),
        Some(list) => list.iter().map(String::as_str).collect(),
    }
}

/// The context text for the task at `index`: the outputs of its context tasks that are finished,
/// in the order listed, separated as CrewAI separates them. Unfinished ones are left out.
pub fn context_text(tasks: &[TaskSpec], index: usize, finished: &HashMap<String, StepOutput>) -> String {
    context_keys(tasks, index)
        .into_iter()
        .filter_map(|k| finished.get(k).map(|s| s.output.as_str()))
        .collect::<Vec<_>>()
        .join(CONTEXT_SEPARATOR)
}
