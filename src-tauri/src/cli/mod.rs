//! The headless face: `crew-runner --run CREW` and the scripting subcommands.
//!
//! Exit codes: 0 succeeded, 1 failed (an execution failed, or the store failed), 2 invalid usage
//! or crew (nothing recorded), 3 cancelled (`wait`), 124 timed out (`wait --timeout`), 130
//! cancelled by Ctrl-C, 143 cancelled by SIGTERM (`--run`/`run`).

#[macro_use]
mod output;

mod answer;
mod args;
mod config;
mod control;
mod diff;
mod docs;
mod error;
mod escape;
mod export;
mod inspect;
mod logging;
mod models;
mod options;
mod progress;
mod prune;
mod render;
mod review_prompt;
mod run;
mod runtime;
mod serve;
mod signals;
mod trace;
mod validate;
mod wait;
mod worker;

pub use args::Cli;
pub use error::CliError;

/// Parses the process's command line; on a usage error prints it and exits 2 (`--help` exits 0).
pub fn parse() -> Cli {
    Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Whether `cli` asks for a headless command (`--run` or a subcommand).
pub fn is_headless(cli: &Cli) -> bool {
    cli.run.is_some() || cli.command.is_some()
}

/// Runs a headless command and returns the process exit code.
pub fn execute(cli: Cli) -> i32 {
    // Generated from the definition alone: no data dir, log file or runtime.
    match &cli.command {
        Some(args::Command::Completions(c)) => return docs::completions(c).unwrap_or_else(|e| e.report()),
        Some(args::Command::Man) => return docs::man().unwrap_or_else(|e| e.report()),
        Some(args::Command::Models(c)) => return models::models(c).unwrap_or_else(|e| e.report()),
        _ => {}
    }
    let _guard = match logging::init(&cli.global) {
        Ok(g) => g,
        Err(e) => return e.report(),
    };
    let rt = match crate::app::runtime::build() {
        Ok(rt) => rt,
        Err(e) => return CliError::Failure(format!("cannot start the async runtime: {e}")).report(),
    };
    match rt.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

/// The whole headless program: parse, run, exit code. (`main` calls this when no GUI is wanted.)
pub fn main() -> i32 {
    let cli = parse();
    if !is_headless(&cli) {
        eprintln!("crew-runner: no command given; try `crew-runner --help` (this build has no desktop app)");
        return 2;
    }
    execute(cli)
}

async fn dispatch(cli: Cli) -> Result<i32, CliError> {
    use args::Command;
    let global = cli.global;
    if let Some(crew) = cli.run {
        return run::run(&global, crew, cli.run_args, cli.concurrency).await;
    }
    match cli.command.expect("is_headless checked a command") {
        Command::Run(c) => run::run(&global, c.crew, c.options, c.concurrency).await,
        Command::Submit(c) => run::submit(&global, c.crew, c.options, c.idempotency_key).await,
        Command::Worker(c) => worker::worker(&global, c).await,
        Command::Serve(c) => serve::serve(&global, c).await,
        Command::Status(c) => inspect::status(&global, c),
        Command::List(c) => inspect::list(&global, c),
        Command::Logs(c) => inspect::logs(&global, c).await,
        Command::Wait(c) => wait::wait(&global, c).await,
        Command::Cancel(c) => control::cancel(&global, c).await,
        Command::Retry(c) => control::retry(&global, c).await,
        Command::Priority(c) => control::priority(&global, c).await,
        Command::Answer(c) => answer::answer(&global, c).await,
        Command::Pause(c) => control::pause(&global, true, c.json).await,
        Command::Resume(c) => control::pause(&global, false, c.json).await,
        Command::Validate(c) => validate::validate(&global, c).await,
        Command::Prune(c) => prune::prune(&global, c).await,
        Command::Export(c) => export::export(&global, c),
        Command::Config(c) => config::config(&global, c),
        Command::Diff(c) => diff::diff(&global, c),
        Command::Trace(c) => trace::trace(&global, c),
        Command::Completions(_) | Command::Man | Command::Models(_) => unreachable!("`execute` prints them before any setup"),
    }
}
