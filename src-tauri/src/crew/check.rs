//! The checks every format goes through once read: references, order, required parts, paths.

use std::collections::{BTreeMap, BTreeSet};

use super::diagnostic::Findings;
use super::draft::Draft;
use super::Process;

/// Checks `draft`, recording every error and warning found. Fixes up what it may (a sequential
/// task without an agent gets the only agent, with a warning).
pub(crate) fn check(draft: &mut Draft, findings: &mut Findings) {
    check_duplicates(draft, findings);
    if draft.spec.tasks.is_empty() {
        findings.error(draft.tasks_origin.whole("the crew has no tasks"));
    }
    if draft.spec.agents.is_empty() {
        findings.error(draft.agents_origin.whole("the crew has no agents"));
    }
    check_manager(draft, findings);
    check_task_agents(draft, findings);
    check_contexts(draft, findings);
    check_output_files(draft, findings);
    check_tools(draft, findings);
}

/// Drops the tools that are neither built in nor among the crew's `command_tools` (warning), and
/// refuses `mcps:` entries naming servers the crew does not declare.
fn check_tools(draft: &mut Draft, findings: &mut Findings) {
    let spec = &mut draft.spec;
    for name in spec.command_tools.keys() {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || name.is_empty() || name.len() > 64 {
            findings.error(
                draft
                    .settings_origin
                    .at(&format!("command_tools.{name}"), "a tool name may hold only letters, digits, `_` and `-` (at most 64)"),
            );
        }
    }
    let commands = &spec.command_tools;
    let keep = |tools: &mut Vec<super::ToolUse>, origin: &super::origin::Origin, findings: &mut Findings| {
        tools.retain(|t| {
            let known = matches!(super::tools::lookup(&t.name), super::tools::ToolLookup::Known(_)) || commands.contains_key(&t.name);
            if !known {
                findings.warn(origin.at("tools", format!("unknown tool `{}`; dropped", t.name)));
            }
            known
        });
    };
    for (agent, origin) in spec.agents.iter_mut().zip(&draft.agent_origins) {
        keep(&mut agent.tools, origin, findings);
    }
    for (task, origin) in spec.tasks.iter_mut().zip(&draft.task_origins) {
        keep(&mut task.tools, origin, findings);
    }
    for (agent, origin) in spec.agents.iter().zip(&draft.agent_origins) {
        for r in &agent.mcps {
            if let super::McpTarget::Named(server) = &r.target {
                if !spec.mcp_servers.contains_key(server) {
                    let known = known_names(spec.mcp_servers.keys().map(String::as_str), "MCP servers");
                    findings.error(origin.at("mcps", format!("unknown MCP server `{server}`{known}")));
                }
            }
        }
    }
}

fn check_duplicates(draft: &Draft, findings: &mut Findings) {
    let mut seen = BTreeSet::new();
    for (agent, origin) in draft.spec.agents.iter().zip(&draft.agent_origins) {
        if !seen.insert(agent.key.as_str()) {
            findings.error(origin.whole(format!("duplicate agent `{}`", agent.key)));
        }
    }
    let mut seen = BTreeSet::new();
    for (task, origin) in draft.spec.tasks.iter().zip(&draft.task_origins) {
        if !seen.insert(task.key.as_str()) {
            findings.error(origin.whole(format!("duplicate task `{}`", task.key)));
        }
    }
}

fn check_manager(draft: &Draft, findings: &mut Findings) {
    let spec = &draft.spec;
    if let Some(manager) = &spec.manager_agent {
        if spec.agent(manager).is_none() {
            findings.error(
                draft
                    .settings_origin
                    .at("manager_agent", format!("unknown agent `{manager}`{}", known_list(spec.agents.iter().map(|a| a.key.as_str())))),
            );
        }
    }
    if spec.process == Process::Sequential {
        for (field, set) in [("manager_llm", spec.manager_llm.is_some()), ("manager_agent", spec.manager_agent.is_some())] {
            if set {
                findings.warn(draft.settings_origin.at(field, format!("`{field}` only applies to hierarchical crews; ignored")));
            }
        }
    }
}

fn check_task_agents(draft: &mut Draft, findings: &mut Findings) {
    let agent_keys: BTreeSet<String> = draft.spec.agents.iter().map(|a| a.key.clone()).collect();
    let known = known_list(draft.spec.agents.iter().map(|a| a.key.as_str()));
    let only_agent = match draft.spec.agents.as_slice() {
        [one] => Some(one.key.clone()),
        _ => None,
    };
    let sequential = draft.spec.process == Process::Sequential;
    for (task, origin) in draft.spec.tasks.iter_mut().zip(&draft.task_origins) {
        match &task.agent {
            Some(agent) if !agent_keys.contains(agent) => findings.error(origin.at("agent", format!("unknown agent `{agent}`{}", known))),
            Some(_) => {}
            None if !sequential => {}
            None => match &only_agent {
                Some(one) => {
                    findings.warn(origin.whole(format!("no agent given; assigned the only agent, `{one}`")));
                    task.agent = Some(one.clone());
                }
                None => findings.error(origin.whole("no agent given (a sequential crew needs one per task)")),
            },
        }
    }
}

fn check_contexts(draft: &Draft, findings: &mut Findings) {
    let position: BTreeMap<&str, usize> = draft.spec.tasks.iter().enumerate().map(|(i, t)| (t.key.as_str(), i)).rev().collect();
    for (i, (task, origin)) in draft.spec.tasks.iter().zip(&draft.task_origins).enumerate() {
        for (j, name) in task.context.iter().flatten().enumerate() {
            let at = format!("context[{j}]");
            match position.get(name.as_str()) {
                None => findings.error(origin.at(&at, format!("unknown task `{name}`"))),
                Some(&p) if p == i => findings.error(origin.at(&at, format!("task `{name}` cannot be its own context"))),
                Some(&p) if p > i => findings.error(
                    origin.at(&at, format!("task `{name}` runs after `{}` (tasks run in order), so it cannot be its context", task.key)),
                ),
                Some(_) => {}
            }
        }
    }
}

fn check_output_files(draft: &Draft, findings: &mut Findings) {
    for (task, origin) in draft.spec.tasks.iter().zip(&draft.task_origins) {
        if let Some(file) = &task.output_file {
            if let Some(reason) = output_file_problem(file) {
                findings.error(origin.at("output_file", format!("`{file}`: {reason}")));
            }
        }
    }
}

/// Why `file` cannot be an `output_file` (a path relative to the workspace), if it cannot.
pub(crate) fn output_file_problem(file: &str) -> Option<&'static str> {
    let bytes = file.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if file.starts_with('/') || file.starts_with('\\') || drive || std::path::Path::new(file).is_absolute() {
        return Some("must be a relative path (inside the workspace), not an absolute one");
    }
    if file.split(['/', '\\']).any(|part| part == "..") {
        return Some("must not contain `..`");
    }
    if file.ends_with('/') || file.ends_with('\\') {
        return Some("must name a file, not a folder");
    }
    None
}

fn known_list<'a>(keys: impl Iterator<Item = &'a str>) -> String {
    known_names(keys, "agents")
}

/// ` (known: `a`, `b`)`, or ` (there are no WHAT)`.
fn known_names<'a>(keys: impl Iterator<Item = &'a str>, what: &str) -> String {
    const SHOWN: usize = 10;
    let mut keys: Vec<String> = keys.take(SHOWN + 1).map(|k| format!("`{k}`")).collect();
    if keys.len() > SHOWN {
        keys[SHOWN] = "…".to_string();
    }
    if keys.is_empty() {
        format!(" (there are no {what})")
    } else {
        format!(" (known: {})", keys.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_file_paths() {
        assert_eq!(output_file_problem("out/report.md"), None);
        assert_eq!(output_file_problem("{topic}.md"), None);
        assert!(output_file_problem("/etc/passwd").is_some());
        assert!(output_file_problem("C:\\x.md").is_some());
        assert!(output_file_problem("a/../../x.md").is_some());
        assert!(output_file_problem("out/").is_some());
    }
}
