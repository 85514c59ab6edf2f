//! One attempt of a CrewAI execution: a connection to the warm server (a fresh forked child),
//! the request, and the events recorded as they come.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedReadHalf;

use super::events::{Outcome, Record, ShimEvent, Translator};
use super::server::ShimPool;
use super::target::{CrewaiTarget, TargetKind};
use crate::execution::{now_ms, ErrorKind, Execution, ExecutionError, Journal, LogEvent, RunOutput, RunRequest, TracePayloads};
use crate::llm::LlmEnv;

/// How long a cancelled or timed-out child gets between `SIGTERM` and `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The largest text of one event field the shim sends.
const MAX_EVENT_TEXT: usize = 64 * 1024;

/// Runs one attempt of a CrewAI execution and returns its result.
///
/// Cancellation: dropping the future sends `SIGTERM` to the child's process group, then
/// `SIGKILL` after [`KILL_GRACE`] unless the child closed its connection first (see
/// [`ChildGroup`]). Steps already saved stay saved.
pub async fn run_attempt(
    pool: &ShimPool,
    env: LlmEnv,
    request: RunRequest,
    journal: Arc<dyn Journal>,
) -> Result<RunOutput, ExecutionError> {
    let execution = request.execution;
    let target: CrewaiTarget = CrewaiTarget::deserialize(&*execution.crew_spec)
        .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, format!("the stored CrewAI target cannot be read: {e}")))?;
    // A translated crew is written out as a CrewAI project for this attempt.
    // Its task names in CrewAI (method names) map back to the crew's task keys.
    let mut task_keys = BTreeMap::new();
    let exported;
    let (kind, root, entry) = match &target.translated {
        Some(spec) => {
            let dir = tempfile::Builder::new()
                .prefix("crew-runner-export-")
                .tempdir()
                .map_err(|e| ExecutionError::new(ErrorKind::Internal, format!("temp dir: {e}")))?;
            let project = crate::crew::export::export_project(spec, &dir.path().join("project"))
                .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, format!("cannot translate the crew to CrewAI: {e}")))?;
            for note in &project.notes {
                journal.log(LogEvent::warning(format!("translated to CrewAI: {note}")));
            }
            task_keys = project.task_names.iter().map(|(key, name)| (name.clone(), key.clone())).collect();
            let paths = (TargetKind::CrewProject, project.root.clone(), project.package_dir.clone());
            exported = Some(dir);
            paths
        }
        None => {
            exported = None;
            (target.kind, target.root.clone(), target.entry.clone())
        }
    };
    // Completed steps go to the shim under CrewAI's names.
    let crewai_name =
        |key: &str| task_keys.iter().find(|(_, k)| k.as_str() == key).map(|(n, _)| n.clone()).unwrap_or_else(|| key.to_string());
    let (stream, _version) =
        pool.connect(&target.python.command).await.map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, e.to_string()))?;
    let (read, mut write) = stream.into_split();
    let vars = child_env(&env, &execution)?;
    let shim_request = json!({
        "execution_id": execution.id.as_str(),
        "attempt": execution.attempt,
        "kind": kind,
        "root": root,
        "entry": entry,
        "inputs": execution.inputs,
        "env": &vars,
        "model": execution.llm.model,
        "completed_tasks": request.completed_steps.iter().map(|s| json!({"task": crewai_name(&s.step), "output": s.output, "json": s.json})).collect::<Vec<_>>(),
        "max_output_bytes": MAX_EVENT_TEXT,
    });
    let mut line = serde_json::to_vec(&shim_request).expect("the request serialises");
    line.push(b'\n');
    write
        .write_all(&line)
        .await
        .map_err(|e| ExecutionError::new(ErrorKind::Internal, format!("cannot send the request to CrewAI: {e}")))?;

    let mut group = ChildGroup { pgid: None, read: Some(BufReader::new(read)), write: Some(write), done: false };
    let mut translator = Translator::new(execution.attempt.max(1), &request.completed_steps).with_task_keys(task_keys.clone());
    if env.trace_payloads() == TracePayloads::Full {
        translator = translator.keeping_payloads(secret_values(&vars));
    }
    let mut buf = String::new();
    loop {
        buf.clear();
        // The read half stays in the group: dropping this future hands it to the group's reaper.
        let lines = group.read.as_mut().expect("the read half stays until the group is dropped");
        let n = lines
            .read_line(&mut buf)
            .await
            .map_err(|e| ExecutionError::new(ErrorKind::Internal, format!("reading CrewAI's events: {e}")))?;
        if n == 0 {
            break;
        }
        let event: ShimEvent = match serde_json::from_str(buf.trim_end()) {
            Ok(e) => e,
            Err(e) => {
                journal.log(LogEvent::warning(format!(
                    "unreadable event from the CrewAI process ({e}): {}",
                    crate::engine::output::truncate(buf.trim_end(), 300)
                )));
                continue;
            }
        };
        if let ShimEvent::Hello { pgid, .. } = &event {
            group.pgid = Some(*pgid);
        }
        for record in translator.on_event(event, now_ms()) {
            apply(&journal, record).await?;
        }
        if translator.outcome().is_some() {
            break;
        }
    }
    group.done = true;
    drop(group);
    drop(exported);
    match translator.outcome() {
        Some(Outcome::Succeeded(out)) => Ok(out.clone()),
        Some(Outcome::Failed(error)) => Err(error.clone()),
        None => Err(translator.ended_without_result()),
    }
}

async fn apply(journal: &Arc<dyn Journal>, record: Record) -> Result<(), ExecutionError> {
    match record {
        Record::Log(line) => journal.log(line),
        Record::Call(line, payload) => journal.log_call(line, payload.map(|p| p.compress())),
        Record::Progress(p) => journal.progress(p).await?,
        Record::Step(step, line) => journal.save_step(step, line).await?,
    }
    Ok(())
}

/// The variables the child sets before it imports the project: the executor's environment (the
/// app's LLM settings included), and the execution's `--api-base` as both names CrewAI's OpenAI
/// provider reads.
/// The values of the variables the CrewAI process gets that hold credentials (names with `KEY`,
/// `TOKEN`, `SECRET` or `PASSWORD`, and URLs' credentials): what no stored payload may repeat.
fn secret_values(vars: &BTreeMap<String, String>) -> Vec<String> {
    let secret = |name: &str| ["KEY", "TOKEN", "SECRET", "PASSWORD"].iter().any(|w| name.to_ascii_uppercase().contains(w));
    let mut all: Vec<String> = vars.iter().filter(|(k, v)| secret(k) && v.trim().len() >= 4).map(|(_, v)| v.trim().to_string()).collect();
    all.extend(vars.values().flat_map(|v| crate::llm::endpoint_secrets::url_secrets(v)));
    all
}

fn child_env(env: &LlmEnv, execution: &Execution) -> Result<BTreeMap<String, String>, ExecutionError> {
    let mut vars = env.vars.clone();
    let api_base = crate::llm::endpoint_secrets::unseal(env.secrets.as_deref(), &execution.llm)
        .map_err(|e| ExecutionError::new(ErrorKind::InvalidCrew, format!("--api-base: {e}")))?;
    if let Some(base) = api_base {
        vars.insert("OPENAI_API_BASE".into(), base.clone());
        vars.insert("OPENAI_BASE_URL".into(), base);
    } else if let Some(base) = vars.get("OPENAI_API_BASE").cloned().filter(|_| !vars.contains_key("OPENAI_BASE_URL")) {
        vars.insert("OPENAI_BASE_URL".into(), base);
    }
    Ok(vars)
}

/// The child of one attempt, until it is known to be gone.
///
/// Dropping it before the run ended (cancel, timeout, the worker stopping) sends `SIGTERM` to the
/// child's process group and keeps the connection open until the child closes it or
/// [`KILL_GRACE`] passed; then `SIGKILL` to the group, and the connection is closed (which makes
/// the child's own watcher kill its group too, should the signal have missed anything).
struct ChildGroup {
    pgid: Option<i32>,
    read: Option<BufReader<OwnedReadHalf>>,
    write: Option<tokio::net::unix::OwnedWriteHalf>,
    /// The run ended on its own: nothing to stop.
    done: bool,
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (read, write) = (self.read.take(), self.write.take());
        let Some(pgid) = self.pgid.filter(|p| *p > 1) else {
            // Not started yet (no hello): closing the connection is the stop.
            return;
        };
        signal_group(pgid, libc::SIGTERM);
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            signal_group(pgid, libc::SIGKILL);
            return;
        };
        handle.spawn(async move {
            let gone = async {
                if let Some(mut read) = read {
                    let mut sink = [0u8; 4096];
                    loop {
                        match tokio::io::AsyncReadExt::read(&mut read, &mut sink).await {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                    }
                }
            };
            let waited = tokio::time::timeout(KILL_GRACE, gone).await;
            tracing::debug!(pgid, stopped_in_grace = waited.is_ok(), "a stopped CrewAI attempt's process group");
            if waited.is_err() {
                signal_group(pgid, libc::SIGKILL);
            }
            drop(write);
        });
    }
}

fn signal_group(pgid: i32, signal: libc::c_int) {
    // SAFETY: kill(2) on a process group has no memory effects. The group is the child's own
    // (it called setpgid(0, 0) before saying hello), so nothing else is signalled.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_dropped_attempt_keeps_the_connection_open_through_the_grace_period() {
        // A process group that ignores SIGTERM (sh -c 'trap "" TERM; …'), once it says so.
        let mut c = std::process::Command::new("sh");
        c.args(["-c", "trap '' TERM; echo ready; sleep 30"]).stdout(std::process::Stdio::piped());
        // SAFETY: setpgid is async-signal-safe.
        unsafe {
            c.pre_exec(|| {
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        let mut child = c.spawn().unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut ready).unwrap();
        assert_eq!(ready, "ready\n", "the trap is set before the signal is sent");
        let (ours, mut theirs) = tokio::net::UnixStream::pair().unwrap();
        let (read, write) = ours.into_split();
        let group = ChildGroup { pgid: Some(child.id() as i32), read: Some(BufReader::new(read)), write: Some(write), done: false };
        drop(group);
        let mut buf = [0u8; 16];
        let early = tokio::time::timeout(Duration::from_millis(500), theirs.read(&mut buf)).await;
        assert!(early.is_err(), "the connection stays open during the grace period: {early:?}");
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL), "killed after the grace");
        let closed = tokio::time::timeout(Duration::from_secs(5), theirs.read(&mut buf)).await.unwrap().unwrap();
        assert_eq!(closed, 0, "then the connection is closed");
    }
}
