//! What a CrewAI project's `crew.py` says that the YAML does not: which agent each `@task` uses,
//! the tools each `@agent` is given, the `@crew`'s process.
//!
//! A small text scan, not a Python parser: each decorated method (`@agent`, `@task`, `@crew`)
//! runs from its decorator to the next decorator. Inside it we look for
//! `self.tasks_config['key']` / `self.agents_config['key']` (the YAML key; the method name when
//! absent), `agent=self.<method>()`, `tools=[Tool(), …]` and `process=Process.<name>`.

use std::collections::BTreeMap;

use crate::crew::Process;

/// What `crew.py` binds.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CrewPy {
    /// Task key -> agent key.
    pub task_agents: BTreeMap<String, String>,
    /// Agent key -> tool names as written (`SerperDevTool`).
    pub agent_tools: BTreeMap<String, Vec<String>>,
    pub process: Option<Process>,
}

struct Block<'t> {
    decorator: &'t str,
    method: Option<&'t str>,
    body: &'t str,
}

/// Scans `text` (the contents of a `crew.py`).
pub(crate) fn scan(text: &str) -> CrewPy {
    // Commented-out lines (`# agent=self.old()`) say nothing.
    let code: String = text.lines().map(|l| if l.trim_start().starts_with('#') { "" } else { l }).collect::<Vec<_>>().join("\n");
    let blocks = blocks(&code);
    // Agent method name -> agent key.
    let mut agent_keys: BTreeMap<&str, String> = BTreeMap::new();
    let mut out = CrewPy::default();
    for b in blocks.iter().filter(|b| b.decorator == "agent") {
        let Some(method) = b.method else { continue };
        let key = config_key(b.body, "agents_config").unwrap_or_else(|| method.to_string());
        let tools = tool_names(b.body);
        if !tools.is_empty() {
            out.agent_tools.insert(key.clone(), tools);
        }
        agent_keys.insert(method, key);
    }
    for b in &blocks {
        match b.decorator {
            "task" => {
                let Some(method) = b.method else { continue };
                let key = config_key(b.body, "tasks_config").unwrap_or_else(|| method.to_string());
                if let Some(agent_method) = agent_call(b.body) {
                    let agent = agent_keys.get(agent_method).cloned().unwrap_or_else(|| agent_method.to_string());
                    out.task_agents.insert(key, agent);
                }
            }
            "crew" => {
                if let Some(i) = b.body.find("Process.") {
                    let rest = &b.body[i + "Process.".len()..];
                    out.process = match identifier(rest) {
                        "hierarchical" => Some(Process::Hierarchical),
                        "sequential" => Some(Process::Sequential),
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
    out
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    // Byte offsets of decorator lines, with the decorator's name.
    let mut starts: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('@') {
            starts.push((offset, identifier(rest)));
        }
        offset += line.len();
    }
    let mut out = Vec::new();
    for (i, (start, decorator)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map(|(s, _)| *s).unwrap_or(text.len());
        let body = &text[*start..end];
        let method = body.find("def ").map(|d| identifier(body[d + 4..].trim_start())).filter(|m| !m.is_empty());
        out.push(Block { decorator, method, body });
    }
    out
}

fn identifier(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// `self.<config>['key']` or `self.<config>["key"]`.
fn config_key(body: &str, config: &str) -> Option<String> {
    let i = body.find(&format!("{config}["))?;
    let rest = body[i + config.len() + 1..].trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    let end = rest.find(quote)?;
    Some(rest[..end].to_string())
}

/// The method in `agent=self.<method>()`.
fn agent_call(body: &str) -> Option<&str> {
    let mut search = body;
    while let Some(i) = search.find("agent") {
        let before_ok = i == 0 || !search[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        let rest = search[i + "agent".len()..].trim_start();
        if before_ok {
            if let Some(rest) = rest.strip_prefix('=').map(str::trim_start) {
                if let Some(rest) = rest.strip_prefix("self.") {
                    let m = identifier(rest);
                    if !m.is_empty() {
                        return Some(m);
                    }
                }
            }
        }
        search = &search[i + "agent".len()..];
    }
    None
}

/// The tool class names in `tools=[A(), B(x=1), c]`: each item's leading identifier.
fn tool_names(body: &str) -> Vec<String> {
    let Some(i) = body.find("tools") else {
        return Vec::new();
    };
    let rest = body[i + "tools".len()..].trim_start();
    let Some(rest) = rest.strip_prefix('=').map(str::trim_start) else {
        return Vec::new();
    };
    let Some(rest) = rest.strip_prefix('[') else {
        return Vec::new();
    };
    let mut depth = 0i32;
    let mut items = Vec::new();
    let mut current = String::new();
    for c in rest.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' | '}' => {
                depth -= 1;
                current.push(c);
            }
            ']' if depth == 0 => break,
            ']' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    items.push(current);
    items.iter().map(|item| identifier(item.trim()).to_string()).filter(|name| !name.is_empty() && name != "self").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREW_PY: &str = r#"
from crewai import Agent, Crew, Process, Task
from crewai.project import CrewBase, agent, crew, task
from crewai_tools import SerperDevTool, FileReadTool

@CrewBase
class LatestAiDevelopmentCrew():
    """LatestAiDevelopment crew"""

    @agent
    def researcher(self) -> Agent:
        return Agent(
            config=self.agents_config['researcher'],
            verbose=True,
            tools=[SerperDevTool(), FileReadTool(file_path="a,b.txt")]
        )

    @agent
    def analyst(self) -> Agent:
        return Agent(config=self.agents_config["reporting_analyst"], verbose=True)

    @task
    def research_task(self) -> Task:
        # return Task(config=self.tasks_config['research_task'], agent=self.analyst())
        return Task(config=self.tasks_config['research_task'], agent=self.researcher())

    @task
    def write(self) -> Task:
        return Task(
            config=self.tasks_config['reporting_task'],
            agent = self.analyst(),
            output_file='report.md'
        )

    @crew
    def crew(self) -> Crew:
        return Crew(agents=self.agents, tasks=self.tasks, process=Process.hierarchical, verbose=True)
"#;

    #[test]
    fn reads_bindings_tools_and_process() {
        let py = scan(CREW_PY);
        assert_eq!(py.task_agents.get("research_task").map(String::as_str), Some("researcher"));
        assert_eq!(py.task_agents.get("reporting_task").map(String::as_str), Some("reporting_analyst"));
        assert_eq!(py.agent_tools.get("researcher").unwrap(), &vec!["SerperDevTool".to_string(), "FileReadTool".into()]);
        assert_eq!(py.process, Some(Process::Hierarchical));
    }

    #[test]
    fn nothing_found_in_other_text() {
        assert_eq!(scan("print('hello')\n"), CrewPy::default());
    }
}
