//! `crew-runner validate CREW`: the normalised crew, its required inputs and warnings.

use super::args::ValidateCommand;
use super::CliError;
use crate::crew;

pub fn validate(c: ValidateCommand) -> Result<i32, CliError> {
    let report = crew::validate(&c.crew).map_err(CliError::usage)?;
    if c.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("a CrewReport serialises"));
        return Ok(0);
    }
    let spec = &report.crew;
    println!("crew:      {} ({:?}, {:?} process)", spec.name, spec.format, spec.process);
    println!("source:    {}", spec.source);
    println!("workspace: {}", spec.workspace);
    if let Some(llm) = &spec.llm {
        println!("llm:       {llm}");
    }
    println!("agents:");
    for a in &spec.agents {
        let llm = a.llm.as_deref().map(|m| format!(" [{m}]")).unwrap_or_default();
        let tools = if a.tools.is_empty() { String::new() } else { format!(" tools: {}", a.tools.join(", ")) };
        println!("  {}: {}{llm}{tools}", a.key, a.role.trim());
    }
    println!("tasks (in order):");
    for t in &spec.tasks {
        let agent = t.agent.as_deref().unwrap_or("(manager decides)");
        let ctx = match &t.context {
            None => String::new(),
            Some(c) if c.is_empty() => " context: none".into(),
            Some(c) => format!(" context: {}", c.join(", ")),
        };
        let asy = if t.async_execution { " async" } else { "" };
        let out = t.output_file.as_deref().map(|f| format!(" -> {f}")).unwrap_or_default();
        println!("  {} by {agent}{ctx}{asy}{out}", t.key);
    }
    if report.required_inputs.is_empty() {
        println!("required inputs: none");
    } else {
        println!("required inputs:");
        for i in &report.required_inputs {
            match &i.default {
                Some(d) => println!("  {} (default: {})", i.name, crew::placeholders::input_text(d)),
                None => println!("  {}", i.name),
            }
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(0)
}
