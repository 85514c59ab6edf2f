//! `crew-runner validate CREW`: the normalised crew, its required inputs and warnings.

use super::args::{GlobalArgs, ValidateCommand};
use super::escape::line;
use super::runtime::{llm_env, workspace_policy};
use super::CliError;
use crate::app::{preview_crew, CrewPreview, SubmitRequest};
use crate::crew;
use crate::engine::tools::mcp::probe::{probe_servers, PROBE_TIMEOUT};

/// Like `outln!`, with the line's control characters escaped (crew text can hold any).
macro_rules! lineln {
    ($($arg:tt)*) => {
        outln!("{}", line(&format!($($arg)*)))
    };
}

/// Prints the crew (its `workspace` resolved) and the engine that would run it, or its errors
/// (exit 2); nothing is recorded. Unless `--offline`, each MCP server the crew uses is connected
/// and its tools listed; one that cannot be used is an error (exit 2).
pub async fn validate(global: &GlobalArgs, c: ValidateCommand) -> Result<i32, CliError> {
    let policy = workspace_policy(global, &c.allow_workspace)?;
    let mut request = SubmitRequest::new(&c.crew);
    request.workspaces = policy;
    request.engine = c.engine;
    request.python = c.python.clone();
    request.network = crew::NetworkChoice { no_network_tools: c.no_network_tools, allow_private_network: c.allow_private_network };
    let preview = preview_crew(&request, &llm_env(global)?).map_err(CliError::usage)?;
    let probes = match (&preview.report, c.offline) {
        (Some(report), false) => probe_servers(&report.crew, PROBE_TIMEOUT).await,
        _ => Vec::new(),
    };
    let status = if probes.iter().any(|p| p.error.is_some()) { 2 } else { 0 };
    if c.json {
        let mut json = preview.to_json();
        if let Some(object) = json.as_object_mut().filter(|_| !probes.is_empty()) {
            object.insert("mcp_servers".into(), serde_json::to_value(&probes).expect("JSON serialises"));
        }
        outln!("{}", serde_json::to_string_pretty(&json).expect("JSON serialises"));
        return Ok(status);
    }
    let CrewPreview { engine: decision, report, python_crew, .. } = preview;
    lineln!("engine:    {} ({})", decision.engine, decision.reason);
    if let Some(p) = &decision.python {
        lineln!("python:    {} ({}; Python {}, CrewAI {})", p.command.display(), p.source, p.python_version, p.crewai_version);
    }
    if let Some(hint) = &decision.hint {
        eprintln!("hint: {}", line(hint));
    }
    let Some(report) = report else {
        if let Some(p) = &python_crew {
            lineln!("crew:      {} at {}", p.kind.describe(), p.entry.display());
            lineln!("root:      {}", p.root.display());
        }
        return Ok(0);
    };
    let spec = &report.crew;
    lineln!("crew:      {} ({:?}, {:?} process)", spec.name, spec.format, spec.process);
    lineln!("source:    {}", spec.source);
    lineln!("workspace: {}", spec.workspace);
    if let Some(llm) = &spec.llm {
        lineln!("llm:       {llm}");
    }
    if let Some(env) = &spec.env_file {
        lineln!(".env:      {env} (sets {})", if spec.env_vars.is_empty() { "nothing".into() } else { spec.env_vars.join(", ") });
    }
    lineln!("agents:");
    for a in &spec.agents {
        let llm = a.llm.as_deref().map(|m| format!(" [{m}]")).unwrap_or_default();
        let tools = if a.tools.is_empty() {
            String::new()
        } else {
            format!(" tools: {}", a.tools.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        };
        let mcps = if a.mcps.is_empty() {
            String::new()
        } else {
            format!(" mcps: {}", a.mcps.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        };
        lineln!("  {}: {}{llm}{tools}{mcps}", a.key, a.role.trim());
    }
    lineln!("tasks (in order):");
    for t in &spec.tasks {
        let agent = t.agent.as_deref().unwrap_or("(manager decides)");
        let ctx = match &t.context {
            None => String::new(),
            Some(c) if c.is_empty() => " context: none".into(),
            Some(c) => format!(" context: {}", c.join(", ")),
        };
        let asy = if t.async_execution { " async" } else { "" };
        let out = t.output_file.as_deref().map(|f| format!(" -> {f}")).unwrap_or_default();
        lineln!("  {} by {agent}{ctx}{asy}{out}", t.key);
    }
    if report.required_inputs.is_empty() {
        lineln!("required inputs: none");
    } else {
        lineln!("required inputs:");
        for i in &report.required_inputs {
            let from = i.default_from.as_deref().map(|f| format!(", from {f}")).unwrap_or_default();
            match &i.default {
                Some(d) => lineln!("  {} (default: {}{from})", i.name, crew::placeholders::input_text(d)),
                None => lineln!("  {}", i.name),
            }
        }
    }
    if !probes.is_empty() {
        lineln!("mcp servers:");
        for p in &probes {
            match (&p.tools, &p.error) {
                (Some(tools), _) => lineln!("  {}: {}", p.server, tools.keys().cloned().collect::<Vec<_>>().join(", ")),
                (None, Some(e)) => eprintln!("error: {}", line(e)),
                (None, None) => {}
            }
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {}", line(&w.to_string()));
    }
    Ok(status)
}
