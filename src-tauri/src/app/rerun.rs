use crate::crew::CrewSpec;
use crate::execution::{Engine, Execution, ExecutionId, NewExecution, Status, StepOutput};
use serde::Deserialize;

/// Why a past execution cannot be rerun.
#[derive(Debug, thiserror::Error)]
pub enum RerunError {
    /// It has not finished; cancel it first (or wait).
    #[error("execution {id} is {status}; only finished executions can be rerun")]
    NotFinished { id: ExecutionId, status: Status },
    /// `--from-task` names no task of the crew.
    #[error("execution {id} has no task `{task}` (tasks: {known})")]
    UnknownTask { id: ExecutionId, task: String, known: String },
    /// The stored crew snapshot cannot be read (written by an incompatible version).
    #[error("execution {id}: stored crew cannot be read: {reason}")]
    Snapshot { id: ExecutionId, reason: String },
}

/// The new execution that reruns `past`, reusing stored step outputs.
///
/// The rerun uses the crew snapshot, inputs and LLM options stored with `past` (not the crew file
/// as it is now), so it is reproducible. Which finished steps it reuses:
/// - `from_task = Some(k)`: the outputs of the tasks before `k` in the crew's order; `k` and
///   everything after it run again.
/// - `None` and `past` succeeded: none (a full rerun).
/// - `None` and `past` failed or was cancelled: every finished step (it continues where it stopped).
pub fn rerun_request(past: &Execution, steps: &[StepOutput], from_task: Option<&str>) -> Result<NewExecution, RerunError> {
    if !past.status().is_terminal() {
        return Err(RerunError::NotFinished { id: past.id.clone(), status: past.status() });
    }
    let tasks: Vec<String> = match past.engine {
        Engine::Native => {
            let spec: CrewSpec =
                CrewSpec::deserialize(&*past.crew_spec).map_err(|e| RerunError::Snapshot { id: past.id.clone(), reason: e.to_string() })?;
            spec.tasks.into_iter().map(|t| t.key).collect()
        }
        // A CrewAI crew's tasks are known once it ran: the steps it finished, in their order.
        Engine::Crewai => steps.iter().map(|s| s.step.clone()).collect(),
    };
    let reuse: Vec<StepOutput> = match from_task {
        Some(task) => {
            let Some(cut) = tasks.iter().position(|t| t == task) else {
                return Err(RerunError::UnknownTask { id: past.id.clone(), task: task.to_string(), known: tasks.join(", ") });
            };
            let before: Vec<&str> = tasks[..cut].iter().map(String::as_str).collect();
            steps.iter().filter(|s| before.contains(&s.step.as_str())).cloned().collect()
        }
        None if past.status() == Status::Succeeded => Vec::new(),
        None => steps.to_vec(),
    };
    Ok(NewExecution {
        crew_name: past.crew_name.clone(),
        crew_source: past.crew_source.clone(),
        engine: past.engine,
        crew_spec: past.crew_spec.clone(),
        inputs: past.inputs.clone(),
        priority: past.priority,
        max_attempts: past.max_attempts,
        max_abandons: past.max_abandons,
        timeout_ms: past.timeout_ms,
        llm: past.llm.clone(),
        meta: past.meta.clone(),
        retry_of: Some(past.id.clone()),
        seed_steps: reuse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{agent, crew, execution, task};
    use crate::execution::{ExecutionState, Usage};

    fn step(key: &str) -> StepOutput {
        StepOutput {
            step: key.into(),
            agent: "A".into(),
            output: format!("{key} done"),
            json: serde_json::Value::Null,
            usage: Usage::default(),
            attempt: 1,
            completed_at: 0,
        }
    }

    #[test]
    fn a_crewai_execution_reruns_from_a_task_it_finished() {
        let spec = crew(vec![agent("a", "A")], vec![task("t", Some("a"))], std::path::Path::new("/tmp"));
        let mut past = execution(&spec, 1);
        past.engine = Engine::Crewai;
        past.crew_spec = serde_json::json!({"kind": "script", "root": "/p", "entry": "/p/s.py"}).into();
        past.state = ExecutionState::Failed {
            error: crate::execution::ExecutionError::new(crate::execution::ErrorKind::Python, "x"),
            finished_at: 1,
        };
        let steps = vec![step("research"), step("write"), step("review")];
        let new = rerun_request(&past, &steps, Some("review")).unwrap();
        assert_eq!(new.engine, Engine::Crewai);
        assert_eq!(new.seed_steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), ["research", "write"]);
        let err = rerun_request(&past, &steps, Some("publish")).unwrap_err();
        assert!(err.to_string().contains("tasks: research, write, review"), "{err}");
        assert_eq!(rerun_request(&past, &steps, None).unwrap().seed_steps.len(), 3, "a failed run continues where it stopped");
    }
}
