//! How each task's `context` and `async_execution` are written so that CrewAI runs them as the
//! native engine does.
//!
//! Context: a `CrewSpec` task with `context: None` sees every earlier task's output (an async task:
//! those finished when it starts, not the async tasks still pending before it). CrewAI's unset
//! `context` means something else, and has changed between versions: a sync task gets all earlier
//! outputs in 1.x (only the previous one in 0.x), an async task only the last sync task's output.
//! So every `None` is written as the explicit list the native engine would use; an explicit
//! `Some(list)` (also `[]`) is written as it is.
//!
//! Async: CrewAI refuses an async task whose context names an async task of the run of async tasks
//! just before it (the native engine waits for them), and a crew ending with more than one async
//! task. Such tasks are written as sync tasks (same outputs, less overlap), each with a note.

use crate::crew::{CrewSpec, Process, TaskSpec};

/// One task as it is written in `tasks.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedTask {
    /// The task keys (spec keys) whose outputs it sees; `None` only for a first task without one.
    pub context: Option<Vec<String>>,
    /// Whether it runs asynchronously in CrewAI.
    pub async_execution: bool,
}

/// The plan of every task of `spec`, in order, and notes on what was changed.
pub fn plan_tasks(spec: &CrewSpec) -> (Vec<PlannedTask>, Vec<String>) {
    let mut notes = Vec::new();
    let hierarchical_tasks;
    let tasks = if spec.process == Process::Hierarchical {
        hierarchical_tasks = without_async(&spec.tasks, &mut notes);
        &hierarchical_tasks
    } else {
        &spec.tasks
    };
    let mut planned: Vec<PlannedTask> = Vec::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        let context = match &task.context {
            Some(list) => Some(list.clone()),
            None if index == 0 => None,
            None => Some(native_default_context(tasks, index)),
        };
        let mut async_execution = task.async_execution;
        if async_execution {
            let run = async_run_before(&planned, index);
            if let Some(named) = &task.context {
                if let Some(waited) = named.iter().find(|k| run.iter().any(|&j| &tasks[j].key == *k)) {
                    async_execution = false;
                    notes.push(format!(
                        "task `{}` runs synchronously: CrewAI does not let an async task take the output of the async task `{waited}` just before it",
                        task.key
                    ));
                }
            }
        }
        planned.push(PlannedTask { context, async_execution });
    }
    let trailing = planned.iter().rev().take_while(|p| p.async_execution).count();
    if trailing > 1 {
        let first = planned.len() - trailing;
        for (task, plan) in tasks[first..].iter().zip(&mut planned[first..]).take(trailing - 1) {
            plan.async_execution = false;
            notes.push(format!("task `{}` runs synchronously: a CrewAI crew may end with at most one async task", task.key));
        }
    }
    (planned, notes)
}

/// `tasks` all sync, with a note for each async one: the native hierarchical process ignores
/// `async_execution` (the manager handles tasks one at a time).
fn without_async(tasks: &[TaskSpec], notes: &mut Vec<String>) -> Vec<TaskSpec> {
    let mut tasks = tasks.to_vec();
    for task in tasks.iter_mut().filter(|t| t.async_execution) {
        task.async_execution = false;
        notes.push(format!("task `{}` runs synchronously: crew-runner's hierarchical process ignores async_execution", task.key));
    }
    tasks
}

/// The tasks a `context: None` task at `index` sees in the native engine: every earlier task but
/// the async ones still pending when it starts (a sync task waits for all of them first).
fn native_default_context(tasks: &[TaskSpec], index: usize) -> Vec<String> {
    let pending = if tasks[index].async_execution { native_pending_before(tasks, index) } else { Vec::new() };
    tasks[..index].iter().enumerate().filter(|(j, _)| !pending.contains(j)).map(|(_, t)| t.key.clone()).collect()
}

/// Indices of the async tasks pending in the native engine when the task at `index` starts: the
/// async tasks right before it, back to (and including) one that made the engine wait for the
/// ones before it (an explicit context naming a pending task).
fn native_pending_before(tasks: &[TaskSpec], index: usize) -> Vec<usize> {
    let mut pending = Vec::new();
    for j in (0..index).rev() {
        if !tasks[j].async_execution {
            break;
        }
        pending.push(j);
        let waited = tasks[j]
            .context
            .as_ref()
            .is_some_and(|c| tasks[..j].iter().rev().take_while(|t| t.async_execution).any(|t| c.contains(&t.key)));
        if waited {
            break;
        }
    }
    pending
}

/// Indices of the tasks right before `index` that are async as planned so far.
fn async_run_before(planned: &[PlannedTask], index: usize) -> Vec<usize> {
    (0..index).rev().take_while(|&j| planned[j].async_execution).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::export::test_specs::{crew, task};

    fn contexts(plan: &[PlannedTask]) -> Vec<Option<Vec<&str>>> {
        plan.iter().map(|p| p.context.as_ref().map(|c| c.iter().map(String::as_str).collect())).collect()
    }

    #[test]
    fn none_means_every_earlier_task_and_is_written_out() {
        let (plan, notes) = plan_tasks(&crew(vec![task("a", false, None), task("b", false, None), task("c", false, None)]));
        assert_eq!(contexts(&plan), vec![None, Some(vec!["a"]), Some(vec!["a", "b"])]);
        assert!(notes.is_empty());
    }

    #[test]
    fn explicit_lists_and_empty_lists_are_kept() {
        let (plan, _) = plan_tasks(&crew(vec![task("a", false, Some(&[])), task("b", false, Some(&[])), task("c", false, Some(&["a"]))]));
        assert_eq!(contexts(&plan), vec![Some(vec![]), Some(vec![]), Some(vec!["a"])]);
    }

    #[test]
    fn an_async_task_does_not_see_the_async_tasks_pending_before_it() {
        let tasks = vec![task("a", false, None), task("b", true, None), task("c", true, None), task("d", false, None)];
        let (plan, notes) = plan_tasks(&crew(tasks));
        assert_eq!(contexts(&plan), vec![None, Some(vec!["a"]), Some(vec!["a"]), Some(vec!["a", "b", "c"])]);
        assert_eq!(plan.iter().map(|p| p.async_execution).collect::<Vec<_>>(), vec![false, true, true, false]);
        assert!(notes.is_empty());
    }

    #[test]
    fn an_async_task_naming_the_async_task_before_it_runs_sync() {
        let tasks = vec![task("a", true, None), task("b", true, Some(&["a"])), task("c", true, None), task("d", false, None)];
        let (plan, notes) = plan_tasks(&crew(tasks));
        assert_eq!(plan.iter().map(|p| p.async_execution).collect::<Vec<_>>(), vec![true, false, true, false]);
        // The native engine waited for `a` before starting `b`, so `c` sees `a` but not `b`.
        assert_eq!(contexts(&plan)[2], Some(vec!["a"]));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("`b`"), "{notes:?}");
    }

    #[test]
    fn at_most_one_async_task_at_the_end() {
        let tasks = vec![task("a", false, None), task("b", true, None), task("c", true, None), task("d", true, None)];
        let (plan, notes) = plan_tasks(&crew(tasks));
        assert_eq!(plan.iter().map(|p| p.async_execution).collect::<Vec<_>>(), vec![false, false, false, true]);
        assert_eq!(contexts(&plan)[3], Some(vec!["a"]), "the context stays the native one");
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn hierarchical_tasks_are_all_sync() {
        let mut s = crew(vec![task("a", true, None), task("b", true, None)]);
        s.process = Process::Hierarchical;
        let (plan, notes) = plan_tasks(&s);
        assert_eq!(contexts(&plan), vec![None, Some(vec!["a"])]);
        assert!(plan.iter().all(|p| !p.async_execution));
        assert_eq!(notes.len(), 2);
    }
}
