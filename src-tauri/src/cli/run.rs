//! `crew-runner --run CREW` / `run` (in this process) and `submit` (for a worker).

use std::path::PathBuf;

use super::args::{GlobalArgs, RunOptions};
use super::escape::{block, line};
use super::options::{batch_rows, submit_request};
use super::progress::ProgressDisplay;
use super::review_prompt;
use super::runtime::{client, llm_env, runner_failure, start_runner, workspace_policy};
use super::signals::{Interrupt, Terminate};
use super::CliError;
use crate::app::ClaimScope;
use crate::app::{default_batch_key, idempotency_key, prepare_batch, Runner, RunnerError, Submission, SubmitError};
use crate::crew::CrewWarning;
use crate::execution::{Execution, ExecutionState, InputAnswer, NewExecution, Status};

/// Validates everything (nothing is recorded on error), then prints warnings.
fn prepare(global: &GlobalArgs, crew: &std::path::Path, options: &RunOptions) -> Result<Vec<NewExecution>, CliError> {
    let mut request = submit_request(crew, options)?;
    request.workspaces = workspace_policy(global, &options.allow_workspace)?;
    let rows = batch_rows(options)?;
    let prepared = prepare_batch(&request, &rows, &llm_env(global)?).map_err(|e: SubmitError| match e {
        // The endpoint's credentials could not be written aside: the machine failed, not the input.
        SubmitError::Secrets(_) => CliError::failure(e),
        e => CliError::usage(e),
    })?;
    // The crew's own warnings repeat on every row; a row's unused inputs may be its own.
    let mut warnings: Vec<CrewWarning> = Vec::new();
    for w in prepared.iter().flat_map(|(_, ws)| ws) {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    if !global.quiet {
        print_warnings(&warnings);
    }
    Ok(prepared.into_iter().map(|(n, _)| n).collect())
}

/// Prints each warning on its own line of stderr, control characters escaped.
pub fn print_warnings(warnings: &[CrewWarning]) {
    for w in warnings {
        eprintln!("warning: {}", line(&w.to_string()));
    }
}

/// Records the execution(s), runs them here under the concurrency limit, shows progress on stderr
/// and prints the output. Ctrl-C cancels them and exits 130; SIGTERM does the same and exits 143
/// (so a killed `--run` leaves nothing behind for a worker to pick up).
pub async fn run(global: &GlobalArgs, crew: PathBuf, options: RunOptions, concurrency: Option<u32>) -> Result<i32, CliError> {
    let news = prepare(global, &crew, &options)?;
    // Listening from before anything is recorded: a SIGTERM from here on cancels cleanly.
    let mut terminate = Terminate::listen();
    let runner = start_runner(global, concurrency, ClaimScope::Submitted).await?;
    warn_if_paused(global, &runner)?;
    let events = runner.subscribe().expect("a runner with a scheduler has events");
    // Several rows are recorded in one transaction: all of them or none.
    let submitted = runner.submit(news, None).await.map_err(CliError::runner)?.executions;
    let mut display = (!global.quiet).then(|| ProgressDisplay::spawn(events, &submitted));

    let interactive = review_prompt::interactive();
    let mut interrupted: Option<Interrupt> = None;
    let settled = {
        let waits = settle_all(&runner, &submitted, interactive, &mut display);
        tokio::pin!(waits);
        tokio::select! {
            done = &mut waits => Some(done),
            _ = tokio::signal::ctrl_c() => { interrupted = Some(Interrupt::CtrlC); None }
            _ = terminate.recv() => { interrupted = Some(Interrupt::Terminate); None }
        }
    };
    let finished: Result<Vec<Execution>, RunnerError> = match settled {
        Some(done) => done,
        None => {
            if !global.quiet {
                eprintln!("interrupted: cancelling");
            }
            for e in &submitted {
                runner.cancel(e.id.as_str()).await.map_err(CliError::runner)?;
            }
            futures_join(&runner, &submitted).await
        }
    };
    let finished = match finished {
        Ok(finished) => finished,
        Err(e) => {
            let failure = runner_failure(&runner, e);
            ProgressDisplay::finish_some(display).await;
            let _ = runner.shutdown().await;
            return Err(failure);
        }
    };
    ProgressDisplay::finish_some(display).await;
    runner.shutdown().await.map_err(CliError::runner)?;

    if finished.len() == 1 {
        let e = &finished[0];
        if options.json {
            outln!("{}", serde_json::to_string_pretty(e).expect("an Execution serialises"));
        } else {
            match &e.state {
                ExecutionState::Succeeded { output, .. } => outln!("{}", block(output)),
                ExecutionState::Failed { error, .. } => {
                    eprintln!("execution {} failed: {}: {}", e.id, error.kind.as_str(), block(&error.message))
                }
                ExecutionState::Cancelled { .. } => eprintln!("execution {} cancelled", e.id),
                ExecutionState::AwaitingInput { request } => eprintln!("{}", awaiting_text(e, request)),
                other => eprintln!("execution {} ended {}", e.id, other.status()),
            }
        }
    } else {
        print_batch_summary(&finished, options.json);
    }
    Ok(exit_code(&finished, interrupted))
}

/// Says on stderr (unless `--quiet`) when the shared queue is paused: the run then waits
/// (silently otherwise) until `crew-runner resume`.
pub fn warn_if_paused(global: &GlobalArgs, runner: &Runner) -> Result<(), CliError> {
    if !global.quiet && runner.queue().map_err(CliError::runner)?.settings.paused {
        eprintln!("the queue is paused: nothing starts until `crew-runner resume`");
    }
    Ok(())
}

/// 0 when all succeeded, 130 (Ctrl-C) or 143 (SIGTERM) when the signal cancelled any, 4 when
/// the others succeeded and some await a person's review, else 1.
fn exit_code(finished: &[Execution], interrupted: Option<Interrupt>) -> i32 {
    let all = |ok: &dyn Fn(Status) -> bool| finished.iter().all(|e| ok(e.status()));
    if all(&|s| s == Status::Succeeded) {
        0
    } else if let Some(signal) = interrupted.filter(|_| finished.iter().any(|e| e.status() == Status::Cancelled)) {
        signal.exit_code()
    } else if all(&|s| matches!(s, Status::Succeeded | Status::AwaitingInput)) {
        AWAITING_INPUT_EXIT
    } else {
        1
    }
}

/// `--run`'s exit code when an execution was left waiting for a person's review (no terminal
/// to ask on).
pub const AWAITING_INPUT_EXIT: i32 = 4;

/// What `--run` says of an execution it leaves awaiting input.
fn awaiting_text(e: &Execution, request: &crate::execution::InputRequest) -> String {
    format!(
        "execution {id}: task `{task}` awaits a person's review (round {round}); see it with `crew-runner status {id}`, \
         answer with `crew-runner answer {id} [--text FEEDBACK]` (or in the app), and a worker or the app runs it on",
        id = e.id,
        task = line(&request.task),
        round = request.round
    )
}

/// Waits for each execution to finish; one that awaits a person's review is asked about on the
/// terminal when `interactive` (its answer queues it again here) and otherwise left waiting
/// (returned as it is).
async fn settle_all(
    runner: &Runner,
    submitted: &[Execution],
    interactive: bool,
    display: &mut Option<ProgressDisplay>,
) -> Result<Vec<Execution>, RunnerError> {
    let mut out = Vec::with_capacity(submitted.len());
    for e in submitted {
        loop {
            let now = runner.wait_settled(&e.id).await?;
            let ExecutionState::AwaitingInput { request } = &now.state else {
                out.push(now);
                break;
            };
            if !interactive {
                out.push(now);
                break;
            }
            // The bars would draw over the question: stopped while asking, then started again.
            let shown = display.is_some();
            ProgressDisplay::finish_some(display.take()).await;
            let Some(text) = review_prompt::ask(&now.id, request).await else {
                out.push(now);
                break;
            };
            runner.answer(now.id.as_str(), InputAnswer::from_text(Some(&text))).await?;
            if shown {
                let events = runner.subscribe().expect("a runner with a scheduler has events");
                *display = Some(ProgressDisplay::spawn(events, std::slice::from_ref(e)));
            }
        }
    }
    Ok(out)
}

async fn futures_join(runner: &Runner, submitted: &[Execution]) -> Result<Vec<Execution>, RunnerError> {
    let mut out = Vec::with_capacity(submitted.len());
    for e in submitted {
        out.push(runner.wait(&e.id).await?);
    }
    Ok(out)
}

fn print_batch_summary(finished: &[Execution], json: bool) {
    if json {
        outln!("{}", serde_json::to_string_pretty(finished).expect("executions serialise"));
        return;
    }
    let count = |s: Status| finished.iter().filter(|e| e.status() == s).count();
    for e in finished {
        let detail = match &e.state {
            ExecutionState::Failed { error, .. } => format!("{}: {}", error.kind.as_str(), error.message),
            ExecutionState::Succeeded { output, .. } => output.lines().next().unwrap_or("").chars().take(80).collect(),
            _ => String::new(),
        };
        let inputs = serde_json::to_string(&e.inputs).unwrap_or_default();
        outln!("{}  {:<9}  {}  {}", e.id, e.status().as_str(), line(&inputs), line(&detail));
    }
    let awaiting = count(Status::AwaitingInput);
    outln!(
        "{} executions: {} succeeded, {} failed, {} cancelled{}",
        finished.len(),
        count(Status::Succeeded),
        count(Status::Failed),
        count(Status::Cancelled),
        if awaiting > 0 { format!(", {awaiting} awaiting input (`crew-runner answer ID`)") } else { String::new() }
    );
}

/// Records the execution(s) as queued and prints the id(s); a worker or the desktop app runs them.
///
/// Several rows are recorded in one transaction, so a killed `submit` leaves all or none of them.
/// Under an idempotency key (`key`, or for an `--inputs-file` batch without one, a key made from
/// its content: [`default_batch_key`]) the key is recorded with the rows, and a repeat prints the
/// ids recorded then and queues nothing; a repeat of `key` with other content is a usage error
/// (exit 2). A single submission without `key` has no key: submitting it twice queues it twice.
pub async fn submit(global: &GlobalArgs, crew: PathBuf, options: RunOptions, key: Option<String>) -> Result<i32, CliError> {
    let news = prepare(global, &crew, &options)?;
    let key = match key {
        Some(key) => Some(idempotency_key(&key, &news).map_err(CliError::usage)?),
        None if options.inputs_file.is_some() => Some(default_batch_key(&news)),
        None => None,
    };
    let Submission { ids, replayed, .. } = client(global)?.submit(news, key.clone()).await.map_err(CliError::runner)?;
    if options.json {
        let mut out = if ids.len() == 1 { serde_json::json!({ "id": ids[0] }) } else { serde_json::json!({ "ids": ids }) };
        if let Some(key) = &key {
            out["idempotency_key"] = key.key.clone().into();
            out["idempotent_replay"] = replayed.into();
        }
        outln!("{out}");
    } else {
        for id in &ids {
            outln!("{id}");
        }
    }
    if let (Some(key), true, false) = (&key, replayed, global.quiet) {
        eprintln!("idempotency key {}: submitted before; these are the ids recorded then (nothing new queued)", key.key);
    }
    Ok(0)
}
