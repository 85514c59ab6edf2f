//! The command line, as clap parses it. `--help` documents every command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::execution::{Priority, Status};

/// Run CrewAI-style crews as durable background jobs on this machine.
///
/// With no command (and the `gui` feature) the desktop app opens. `crew-runner --run CREW` runs a crew
/// headless and prints its output.
#[derive(Debug, Parser)]
#[command(name = "crew-runner", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Run a crew in this process and print its final output (same as `crew-runner run CREW`). A
    /// task with `human_input` is asked about on the terminal; with no terminal the run exits 4,
    /// leaving it waiting for `crew-runner answer`.
    #[arg(long, value_name = "CREW")]
    pub run: Option<PathBuf>,

    #[command(flatten)]
    pub run_args: RunOptions,

    /// With --run: executions run at once (matters for --inputs-file); also stored as the shared
    /// setting [default: the stored setting, 4 on a new database].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts, before or after the command name.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Where the database and logs live [default: the platform data dir].
    #[arg(long, global = true, value_name = "DIR", env = "CREW_RUNNER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where the configuration lives (settings.json; credentials.json when there is no OS credential
    /// store) [default: the data dir when --data-dir or CREW_RUNNER_DATA_DIR is given, else the
    /// platform config dir].
    #[arg(long, global = true, value_name = "DIR", env = "CREW_RUNNER_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Nothing on stderr but errors: no progress display, warnings or notes (the log file still
    /// gets everything).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a crew in this process, showing progress, and print its final output (a `human_input`
    /// review is asked on the terminal; with none, exit 4 leaves it waiting for `answer`).
    Run(RunCommand),
    /// Queue a crew for a worker (or the desktop app) and print the execution id.
    Submit(SubmitCommand),
    /// Run queued executions until interrupted (or, with --until-idle, until none is left).
    Worker(WorkerCommand),
    /// Run queued executions like `worker` and serve the local HTTP API (JSON, Server-Sent Events).
    Serve(ServeCommand),
    /// Show one execution.
    Status(StatusCommand),
    /// List executions, newest first.
    List(ListCommand),
    /// Print an execution's log (ExecutionLog).
    Logs(LogsCommand),
    /// Compare two executions of one crew: inputs, models, duration, tokens and cost side by
    /// side, per task, and each differing task's output as a word diff.
    ///
    /// Compares execution A with execution B (two runs of the same crew): a table of both
    /// executions (status, inputs, models, duration, tokens, cost), a table of the tasks (matched by
    /// key, in the crew's order; a task only one finished says so) with each one's agent, duration,
    /// tokens and cost in A and B, then the first task whose output differs and every differing
    /// task's output as a word diff: `[-deleted-]` from A, `{+inserted+}` in B (as `git diff
    /// --word-diff=plain`; red/green on a terminal unless NO_COLOR is set). Outputs over 64 KiB are
    /// diffed line by line (said so). Exit code: 0 whether or not they differ (`--json`'s
    /// `first_difference` tells); 2 for an unknown or malformed id or executions of different crews.
    Diff(DiffCommand),
    /// Show the trace of an execution: each task with its LLM calls, tool calls and delegations
    /// on one time axis, with duration, tokens, cost and status.
    ///
    /// Prints one line per span, indented under its task (or delegation): its start after the
    /// execution's start, its duration, tokens, cost and status, and a one-line summary. An LLM
    /// call whose messages were kept shows `call N`; `--call N` prints what that call sent (the
    /// system, user, assistant and tool messages, secrets redacted) and what it answered. The
    /// `trace_payloads` setting (`crew-runner config set trace_payloads metadata`) keeps only
    /// timing, tokens and cost. Exit code: 2 for an unknown or malformed id, an unknown call, or
    /// a call whose messages were not kept.
    Trace(TraceCommand),
    /// Wait until executions finish; exit 0 if all succeeded, 1 if any failed, 3 if any was
    /// cancelled, 124 on --timeout.
    Wait(WaitCommand),
    /// Cancel a queued or running execution.
    Cancel(IdCommand),
    /// Rerun a finished execution as a new one, reusing finished steps.
    Retry(RetryCommand),
    /// Change the priority of a queued execution.
    Priority(PriorityCommand),
    /// Answer the human review an execution awaits (a task with `human_input`): no --text accepts
    /// the task's answer; --text sends it back to the agent with that feedback (it revises and is
    /// asked again). The execution is queued again for a worker or the app.
    Answer(AnswerCommand),
    /// Stop starting new executions (running ones go on); shared by every process on the data dir.
    Pause(JsonFlag),
    /// Start executions again after `pause`.
    Resume(JsonFlag),
    /// Load a crew and print it normalised, with its required inputs and warnings.
    Validate(ValidateCommand),
    /// Write a crew as a CrewAI project (`crewai create crew` layout) into a new or empty folder.
    Export(super::export::ExportCommand),
    /// Delete old finished executions with their logs and steps; report the database size.
    Prune(PruneCommand),
    /// List the models with a known price and context window (LiteLLM's table, with its date).
    Models(ModelsCommand),
    /// Read or change the configuration shared with the desktop app (get KEY, set KEY VALUE, list).
    Config(super::config::ConfigCommand),
    /// Print the shell completion script for SHELL (see `--help` for installing it).
    Completions(CompletionsCommand),
    /// Print the man page (roff) on stdout: `crew-runner man > crew-runner.1`.
    Man,
}

/// How to run a crew: shared by `--run`, `run` and `submit`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunOptions {
    /// An input for `{placeholders}` (repeatable); VALUE is JSON when it parses, else text.
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE")]
    pub inputs: Vec<String>,

    /// Inputs from a JSON object file.
    #[arg(long = "inputs", value_name = "FILE.json")]
    pub inputs_json: Option<PathBuf>,

    /// One execution per row (JSON Lines or CSV with a header row), like CrewAI's kickoff_for_each.
    #[arg(long, value_name = "FILE.jsonl|FILE.csv")]
    pub inputs_file: Option<PathBuf>,

    /// low, normal, high or urgent.
    #[arg(long, value_name = "P", default_value = "normal")]
    pub priority: Priority,

    /// Fail an attempt that runs longer than this (error kind `timeout`): seconds (90, 1.5) or
    /// with a unit (500ms, 90s, 5m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = crate::app::duration::parse)]
    pub timeout: Option<std::time::Duration>,

    /// Attempts in all, for retryable errors (connection, timeout, 429, 5xx). An attempt whose
    /// worker process dies (crash, SIGKILL, power loss) is not counted: see --max-abandons.
    #[arg(long, value_name = "N", default_value_t = crate::execution::DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,

    /// Attempts whose worker process may die before the execution fails (kind `abandoned`): stops
    /// a crew that kills its worker every time. Abandoned attempts are refunded, not counted in
    /// --max-attempts.
    #[arg(long, value_name = "N", default_value_t = crate::execution::DEFAULT_MAX_ABANDONS)]
    pub max_abandons: u32,

    /// Free-form metadata (repeatable), stored, shown and filterable.
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,

    /// Run every agent on MODEL (`openai/gpt-4o-mini`, `ollama/llama3.1`, `offline`, …): it
    /// overrides each agent's `llm`, the crew's `llm` and `manager_llm`, and the MODEL variable.
    /// Stored with the execution, so the worker that runs it and its reruns use it too.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,

    /// Endpoint base URL (e.g. http://127.0.0.1:11434/v1), overriding OPENAI_API_BASE and friends.
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,

    /// Keep every LLM exchange of the run in FILE (JSON Lines).
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,

    /// Serve LLM exchanges from a recording made with --record; no network.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// Let the crew's `workspace` be in DIR or below it (repeatable); without it a workspace must
    /// be inside the crew's folder or the data dir's `workspaces/` folder.
    #[arg(long = "allow-workspace", value_name = "DIR")]
    pub allow_workspace: Vec<PathBuf>,

    /// Which engine runs the crew: `native` (Rust), `crewai` (your own CrewAI, in your Python), or
    /// `auto`: native when it runs everything the crew says; for CrewAI Python code (a project it
    /// would only partly apply, a Flow, a script) CrewAI when a Python with CrewAI is found.
    #[arg(long, value_name = "ENGINE", default_value = "auto")]
    pub engine: crate::app::EngineChoice,

    /// The Python the CrewAI engine uses (else CREW_RUNNER_PYTHON, the project's .venv, `uv run`,
    /// python3 on PATH, in that order); it must import crewai.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Drop the crew's network tools (web search, scraping) with a warning, as
    /// `allow_network_tools: false` in the crew does. Stored with the execution.
    #[arg(long)]
    pub no_network_tools: bool,

    /// Let network tools reach loopback, private and link-local addresses (refused by default,
    /// after DNS resolution and at every redirect). Stored with the execution.
    #[arg(long)]
    pub allow_private_network: bool,

    /// Print JSON instead of text (the execution for run, {"id"} for submit).
    #[arg(long)]
    pub json: bool,
}

impl Cli {
    /// Parses `args` (the first is the program name) and rejects what clap alone cannot: run options
    /// without `--run`, and `--run` together with a command.
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().try_get_matches_from(args)?;
        let cli = Cli::from_arg_matches(&matches)?;
        let conflict = |msg: String| Cli::command().error(clap::error::ErrorKind::ArgumentConflict, msg);
        if cli.run.is_some() && cli.command.is_some() {
            return Err(conflict("--run cannot be combined with a command; use `crew-runner run CREW …` instead".into()));
        }
        if cli.run.is_none() {
            let command = Cli::command();
            for arg in command.get_arguments().filter(|a| !a.is_global_set()) {
                let id = arg.get_id().as_str();
                if id != "run" && matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                    let name = arg.get_long().unwrap_or(id);
                    return Err(conflict(format!("--{name} only applies to --run (or goes after the command name)")));
                }
            }
        }
        Ok(cli)
    }
}

#[derive(Debug, Args)]
pub struct RunCommand {
    /// The crew: a CrewAI project folder, a .yaml/.json/.jsonc crew file, or a graph JSON.
    pub crew: PathBuf,
    #[command(flatten)]
    pub options: RunOptions,
    /// Executions run at once (matters for --inputs-file); also stored as the shared setting
    /// [default: the stored setting, 4 on a new database].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
}

#[derive(Debug, Args)]
pub struct SubmitCommand {
    /// The crew: a CrewAI project folder, a .yaml/.json/.jsonc crew file, or a graph JSON.
    pub crew: PathBuf,
    #[command(flatten)]
    pub options: RunOptions,
    /// Submit at most once under KEY: a repeat prints the ids the first submission recorded and
    /// queues nothing (the same KEY for another crew, inputs or options is an error). A batch
    /// (--inputs-file) without one gets a key made from its content.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct WorkerCommand {
    /// Executions run at once; also stored as the shared setting [default: the stored setting, 4
    /// on a new database].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Exit once nothing is queued, retrying or running.
    #[arg(long)]
    pub until_idle: bool,
}

/// Serves the HTTP API (see the README's "HTTP API" and `GET /v1/openapi.json`) and runs queued
/// executions like `worker`, until Ctrl-C or SIGTERM. Prints `listening on http://HOST:PORT` on
/// stdout once bound, and the token file's path on stderr: every route but `GET /v1/health`
/// needs `Authorization: Bearer TOKEN`.
#[derive(Debug, Args)]
pub struct ServeCommand {
    /// The port; 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 8765)]
    pub port: u16,
    /// The address to listen on: a loopback address unless --allow-remote.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: std::net::IpAddr,
    /// Allow a non-loopback --host (0.0.0.0, a LAN address): anyone who reaches the port and has
    /// the token can run crews on this machine.
    #[arg(long)]
    pub allow_remote: bool,
    /// Answer browser (CORS) requests from this origin only (e.g. http://localhost:5173); without
    /// it no CORS headers are sent.
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Option<String>,
    /// Executions run at once; also stored as the shared setting [default: the stored setting, 4
    /// on a new database].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Let crews' `workspace` be in DIR or below it (repeatable), as for `run`.
    #[arg(long = "allow-workspace", value_name = "DIR")]
    pub allow_workspace: Vec<PathBuf>,
}

/// An IP address, or `localhost` (127.0.0.1).
fn parse_host(text: &str) -> Result<std::net::IpAddr, String> {
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(std::net::IpAddr::from([127, 0, 0, 1]));
    }
    text.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| format!("`{text}` is not an IP address (or localhost)"))
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ModelsCommand {
    /// Only models whose name contains this text (case-insensitive), e.g. `gpt-4o` or `groq/`.
    pub filter: Option<String>,
    /// Print JSON: the table's source and date and every matching model.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IdCommand {
    /// The execution id.
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AnswerCommand {
    /// The execution id (it must be awaiting input).
    pub id: String,
    /// Feedback for the agent; omitted (or empty), the answer under review is accepted.
    #[arg(long, value_name = "FEEDBACK")]
    pub text: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusCommand {
    /// The execution id.
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListCommand {
    /// Only this status (repeatable).
    #[arg(long, value_name = "S")]
    pub status: Vec<Status>,
    /// Only this crew.
    #[arg(long, value_name = "NAME")]
    pub crew: Option<String>,
    /// Only executions with this metadata (repeatable).
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// At most N executions.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// Print JSON (an array of executions).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsCommand {
    /// The execution id.
    pub id: String,
    /// Keep printing new lines until the execution finishes.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only lines after this sequence number.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub after: u64,
    /// Print JSON Lines (one log entry per line).
    #[arg(long)]
    pub json: bool,
}

/// `crew-runner diff A B` (documented on `Command::Diff`).
#[derive(Debug, Args)]
pub struct DiffCommand {
    /// The first execution (shown as A, the "before" side).
    #[arg(value_name = "A")]
    pub a: String,
    /// The second execution (shown as B, the "after" side).
    #[arg(value_name = "B")]
    pub b: String,
    /// Print JSON: the comparison ({a, b, tasks: [{task, a, b, differs, diff: {granularity,
    /// segments: [{op: equal|insert|delete, text}], note}}], first_difference}).
    #[arg(long)]
    pub json: bool,
}

/// `crew-runner trace ID` (documented on `Command::Trace`).
#[derive(Debug, Args)]
pub struct TraceCommand {
    /// The execution.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Show what LLM call N (its `call` number in the trace) sent and received.
    #[arg(long, value_name = "N")]
    pub call: Option<u64>,
    /// Print JSON: the trace ({execution_id, status, started_at, ended_at, spans: [{id, parent,
    /// kind, name, task, agent, attempt, start_ms, end_ms, status, usage, cost_usd, model, call,
    /// summary, detail}], totals, payloads}), or with --call the call ({execution_id, call, model,
    /// endpoint, messages, tools, response, usage, started_at, ended_at}).
    #[arg(long)]
    pub json: bool,
}

/// Waits (reading the database, so any worker process may run them) until every execution given
/// is finished, printing each final status as it comes: `ID STATUS` (and the error of a failed
/// one). Exit code: 0 all succeeded, 1 any failed, else 3 any cancelled; 124 when --timeout ran
/// out first (the unfinished ones are named); 2 for an unknown or malformed id (before waiting).
/// A running execution whose worker process is gone, with no worker running to recover it,
/// counts as failed (exit 1) rather than blocking forever. One awaiting a person's review (a task
/// with `human_input`) is not finished: it is waited for, and said once on stderr per question.
#[derive(Debug, Args)]
pub struct WaitCommand {
    /// The execution ids.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Give up after this long (exit 124): seconds (90) or with a unit (500ms, 90s, 5m, 2h)
    /// [default: no limit].
    #[arg(long, value_name = "DURATION", value_parser = crate::app::duration::parse)]
    pub timeout: Option<std::time::Duration>,
    /// Print JSON: an array of the executions, in the order given, once all are finished.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RetryCommand {
    /// The execution to rerun.
    pub id: String,
    /// Rerun from this task, reusing the stored outputs of the tasks before it.
    #[arg(long, value_name = "KEY")]
    pub from_task: Option<String>,
    /// Print JSON ({"id", "retry_of"}).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PriorityCommand {
    /// The execution id.
    pub id: String,
    /// low, normal, high or urgent.
    pub priority: Priority,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateCommand {
    /// The crew: a CrewAI project folder, a .yaml/.json/.jsonc crew file, or a graph JSON.
    pub crew: PathBuf,
    /// Let the crew's `workspace` be in DIR or below it (repeatable), as for `run`.
    #[arg(long = "allow-workspace", value_name = "DIR")]
    pub allow_workspace: Vec<PathBuf>,
    /// The engine to report on (as for `run`; `auto` reports which engine it would pick and why).
    #[arg(long, value_name = "ENGINE", default_value = "auto")]
    pub engine: crate::app::EngineChoice,
    /// The Python the CrewAI engine would use (as for `run`).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Report the crew with its network tools dropped (as for `run`).
    #[arg(long)]
    pub no_network_tools: bool,
    /// As for `run` (recorded in the reported crew).
    #[arg(long)]
    pub allow_private_network: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not connect to the crew's MCP servers (by default each is started or reached, within a
    /// timeout, and its tools listed).
    #[arg(long)]
    pub offline: bool,
}

/// Prints the completion script for a shell on stdout.
#[derive(Debug, Args)]
#[command(after_long_help = COMPLETIONS_HELP)]
pub struct CompletionsCommand {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: clap_complete::Shell,
}

const COMPLETIONS_HELP: &str = "\
Installing:
  bash        crew-runner completions bash > ~/.local/share/bash-completion/completions/crew-runner
  zsh         crew-runner completions zsh > ~/.zfunc/_crew-runner
              (with `fpath+=~/.zfunc; autoload -Uz compinit; compinit` in ~/.zshrc)
  fish        crew-runner completions fish > ~/.config/fish/completions/crew-runner.fish
  powershell  crew-runner completions powershell | Out-String | Invoke-Expression
              (add that line to $PROFILE to keep it)";

/// Deletes finished executions (succeeded, failed, cancelled) and their logs, steps and attempt
/// errors; queued, running and retrying ones are never touched. Every condition given must hold,
/// and at least one is required.
#[derive(Debug, Args)]
#[command(after_long_help = PRUNE_HELP)]
pub struct PruneCommand {
    /// Only executions that finished longer ago than this: numbers with units ms, s, m, h, d or w
    /// (30d, 12h, 1d12h); a unit is required here (a bare number would be seconds).
    #[arg(long, value_name = "DURATION", value_parser = crate::app::duration::parse_with_unit)]
    pub older_than: Option<std::time::Duration>,
    /// Spare the newest N finished executions (of the --status ones, by submission), whatever
    /// their age; --keep 0 spares none.
    #[arg(long, value_name = "N")]
    pub keep: Option<u64>,
    /// Only these finished statuses (repeatable or comma-separated): succeeded, failed,
    /// cancelled [default: all three].
    #[arg(long, value_name = "S", value_delimiter = ',')]
    pub status: Vec<Status>,
    /// Afterwards, give the freed space back to the file system (VACUUM; see below).
    #[arg(long, conflicts_with = "dry_run")]
    pub vacuum: bool,
    /// Only report what would be removed.
    #[arg(long)]
    pub dry_run: bool,
    /// Executions deleted per transaction (other writers wait for one batch at a time).
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// Print JSON: what was removed, batches, and the database size before and after.
    #[arg(long)]
    pub json: bool,
}

const PRUNE_HELP: &str = "\
Examples:
  crew-runner prune --older-than 30d            finished more than 30 days ago
  crew-runner prune --keep 1000                 all but the newest 1000 finished
  crew-runner prune --status failed,cancelled --older-than 7d --dry-run

When --vacuum helps: deleting rows frees pages inside the database file, and new history reuses
them, but the file does not shrink. VACUUM rewrites the file without the free pages; it is worth
it after removing a large part of the history (the report shows how much is free). It needs free
disk of about twice the database's size while it runs, and it holds the database's write lock
for its whole run: workers and the app wait for it (failing after their busy timeout, 5 s by
default), so on a large database run it while the queue is idle. Readers are not blocked.";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn data_dir_before_or_after_the_command() {
        let a = Cli::try_parse_args(["crew-runner", "--data-dir", "/x", "list"]).unwrap();
        let b = Cli::try_parse_args(["crew-runner", "list", "--data-dir", "/x"]).unwrap();
        assert_eq!(a.global.data_dir, b.global.data_dir);
        assert_eq!(a.global.data_dir.as_deref(), Some(std::path::Path::new("/x")));
    }

    #[test]
    fn run_flag_takes_run_options() {
        let c = Cli::try_parse_args(["crew-runner", "--run", "crew.yaml", "--input", "topic=x", "--priority", "high"]).unwrap();
        assert_eq!(c.run.as_deref(), Some(std::path::Path::new("crew.yaml")));
        assert_eq!(c.run_args.inputs, vec!["topic=x"]);
        assert_eq!(c.run_args.priority, Priority::High);
        assert!(Cli::try_parse_args(["crew-runner", "--priority", "asap"]).is_err());
        assert!(Cli::try_parse_args(["crew-runner", "--priority", "high", "list"]).is_err(), "run options need --run");
        assert!(Cli::try_parse_args(["crew-runner", "--run", "c.yaml", "list"]).is_err());
        assert!(Cli::try_parse_args(["crew-runner", "-v", "list", "--status", "failed"]).is_ok());
    }

    #[test]
    fn every_time_option_takes_the_duration_syntax() {
        use std::time::Duration;
        let c = Cli::try_parse_args(["crew-runner", "--run", "c.yaml", "--timeout", "2m"]).unwrap();
        assert_eq!(c.run_args.timeout, Some(Duration::from_secs(120)));
        let c = Cli::try_parse_args(["crew-runner", "submit", "c.yaml", "--timeout", "90"]).unwrap();
        let Some(Command::Submit(s)) = c.command else { panic!("not submit") };
        assert_eq!(s.options.timeout, Some(Duration::from_secs(90)), "a bare number stays seconds");
        let c = Cli::try_parse_args(["crew-runner", "wait", "X", "--timeout", "1.5s"]).unwrap();
        let Some(Command::Wait(w)) = c.command else { panic!("not wait") };
        assert_eq!(w.timeout, Some(Duration::from_millis(1500)));
        let c = Cli::try_parse_args(["crew-runner", "prune", "--older-than", "1h30m"]).unwrap();
        let Some(Command::Prune(p)) = c.command else { panic!("not prune") };
        assert_eq!(p.older_than, Some(Duration::from_secs(5400)));
        for args in [&["crew-runner", "--run", "c.yaml", "--timeout", "soon"][..], &["crew-runner", "wait", "X", "--timeout", "5x"]] {
            let err = Cli::try_parse_args(args).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            let text = err.to_string();
            assert!(text.contains("--timeout") && text.contains("500ms, 90s, 5m"), "{text}");
        }
    }

    #[test]
    fn prune_parses_ages_statuses_and_rejects_bad_values() {
        let c = Cli::try_parse_args([
            "crew-runner",
            "prune",
            "--older-than",
            "30d",
            "--status",
            "failed,cancelled",
            "--status",
            "succeeded",
            "--keep",
            "5",
        ])
        .unwrap();
        let Some(Command::Prune(p)) = c.command else { panic!("not prune") };
        assert_eq!(p.older_than, Some(std::time::Duration::from_secs(30 * 86_400)));
        assert_eq!(p.status, vec![Status::Failed, Status::Cancelled, Status::Succeeded]);
        assert_eq!((p.keep, p.batch_size, p.vacuum, p.dry_run), (Some(5), 200, false, false));
        let bare = Cli::try_parse_args(["crew-runner", "prune", "--older-than", "30"]).unwrap_err().to_string();
        assert!(bare.contains("--older-than") && bare.contains("no unit"), "{bare}");
        assert!(Cli::try_parse_args(["crew-runner", "prune", "--keep", "-1"]).is_err());
        assert!(Cli::try_parse_args(["crew-runner", "prune", "--keep", "1", "--batch-size", "0"]).is_err());
        assert!(Cli::try_parse_args(["crew-runner", "prune", "--keep", "1", "--dry-run", "--vacuum"]).is_err());
    }
}
