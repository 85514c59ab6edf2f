//! Applies the keyword arguments of the project's `Agent(...)`, `Task(...)` and `Crew(...)` calls
//! to the agents, tasks and settings read from YAML. Each argument is applied or warned about
//! (file:line, the argument, why); none is dropped silently. As in CrewAI, an argument overrides
//! the YAML config, except a task's `agent` (tasks.yaml wins, warned).
//!
//! An agent or task built in Python with no YAML entry (`Agent(role=…, goal=…, backstory=…)`,
//! `Task(description=…, expected_output=…)`) is made from its arguments alone; one whose call
//! lacks what CrewAI requires is warned and left out. Tasks run in the crew's order as CrewAI
//! has it: the `Crew(tasks=[…])` list when it is written out, else the order of the `@task`
//! methods (or script assignments); tasks crew.py does not name keep tasks.yaml's order after.

use std::collections::BTreeMap;

use super::crew_py::{Bound, CrewPy};
use super::python::llm_call::read_llm;
use super::python::pydantic::Models;
use super::python::syntax::{Expr, Kwarg};
use crate::crew::crewai_fields::{CrewAiClass, KwargUse};
use crate::crew::diagnostic::{Diagnostic, Findings};
use crate::crew::entries::canonical_tool_uses;
use crate::crew::origin::Origin;
use crate::crew::settings::CrewSettings;
use crate::crew::{AgentSpec, McpRef, Process, TaskSpec, ToolUse};

/// Where one argument was written, for diagnostics.
struct At<'a> {
    file: &'a str,
    /// `agents.researcher`, `tasks.write`, `crew`.
    entry: &'a str,
}

impl At<'_> {
    fn diag(&self, kwarg: &Kwarg, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.file, message).at_line(Some(kwarg.line)).on_field(format!("{}.{}", self.entry, kwarg.name))
    }
}

/// Applies everything `py` says; `models` are the project's Pydantic models.
pub(crate) fn apply(
    py: &CrewPy,
    models: &Models,
    settings: &mut CrewSettings,
    agents: &mut Vec<(AgentSpec, Origin)>,
    tasks: &mut Vec<(TaskSpec, Origin)>,
    findings: &mut Findings,
) {
    for bound in &py.agents {
        match agents.iter_mut().find(|(a, _)| a.key == bound.key) {
            Some((agent, _)) => {
                each_kwarg(bound, CrewAiClass::Agent, "agents", findings, |kwarg, at, f| agent_kwarg(py, bound, agent, kwarg, at, f))
            }
            None => {
                let mut agent = blank_agent(&bound.key);
                each_kwarg(bound, CrewAiClass::Agent, "agents", findings, |kwarg, at, f| agent_kwarg(py, bound, &mut agent, kwarg, at, f));
                if [&agent.role, &agent.goal, &agent.backstory].iter().all(|t| !t.is_empty()) {
                    agents.push((agent, python_origin(bound, "agents")));
                } else {
                    findings.warn(missing(bound, "agent", "agents.yaml", "role, goal and backstory"));
                }
            }
        }
    }
    for bound in &py.tasks {
        match tasks.iter_mut().find(|(t, _)| t.key == bound.key) {
            Some((task, origin)) => {
                let place = TaskAt { bound, origin };
                each_kwarg(bound, CrewAiClass::Task, "tasks", findings, |kwarg, at, f| task_kwarg(py, models, task, &place, kwarg, at, f))
            }
            None => {
                let (mut task, origin) = (blank_task(&bound.key), python_origin(bound, "tasks"));
                let place = TaskAt { bound, origin: &origin };
                each_kwarg(bound, CrewAiClass::Task, "tasks", findings, |kwarg, at, f| {
                    task_kwarg(py, models, &mut task, &place, kwarg, at, f)
                });
                if !task.description.is_empty() && bound.call.kwarg("expected_output").is_some() {
                    tasks.push((task, origin));
                } else {
                    findings.warn(missing(bound, "task", "tasks.yaml", "description and expected_output"));
                }
            }
        }
    }
    order_tasks(py, tasks);
    for (file, method, line) in &py.unread {
        findings.warn(
            Diagnostic::new(&file.shown, format!("`{method}` returns no Agent(...)/Task(...)/Crew(...) call; its arguments are not read"))
                .at_line(Some(*line)),
        );
    }
    if let Some(bound) = &py.crew {
        each_kwarg(bound, CrewAiClass::Crew, "", findings, |kwarg, at, f| crew_kwarg(py, bound, settings, kwarg, at, f));
    }
}

fn missing(bound: &Bound, what: &str, yaml: &str, required: &str) -> Diagnostic {
    Diagnostic::new(
        &bound.file.shown,
        format!("{what} `{}` is built in Python with no entry in {yaml} and without {required} in its call; not read", bound.key),
    )
    .at_line(Some(bound.call.line))
}

/// Where an agent or task built in Python alone was written (its call's line in its file).
fn python_origin(bound: &Bound, section: &str) -> Origin {
    let source = std::sync::Arc::new(crate::crew::source::SourceText::new(bound.file.shown.clone(), String::new()));
    Origin::new(source, format!("{section}.{}", bound.key), Vec::new()).at_line(Some(bound.call.line))
}

/// An agent with nothing set but its key (and CrewAI's defaults), for a Python-only `Agent(...)`.
fn blank_agent(key: &str) -> AgentSpec {
    AgentSpec {
        key: key.to_string(),
        role: String::new(),
        goal: String::new(),
        backstory: String::new(),
        llm: None,
        llm_settings: Default::default(),
        tools: Vec::new(),
        mcps: Vec::new(),
        allow_delegation: false,
        respect_context_window: true,
        max_iter: crate::crew::DEFAULT_MAX_ITER,
        max_execution_time: None,
        max_rpm: None,
    }
}

/// A task with nothing set but its key (and CrewAI's defaults), for a Python-only `Task(...)`.
fn blank_task(key: &str) -> TaskSpec {
    TaskSpec {
        key: key.to_string(),
        description: String::new(),
        expected_output: String::new(),
        agent: None,
        context: None,
        async_execution: false,
        human_input: false,
        output_file: None,
        output_json: false,
        output_schema: None,
        guardrail: None,
        guardrail_max_retries: crate::crew::entries::DEFAULT_GUARDRAIL_MAX_RETRIES,
        tools: Vec::new(),
    }
}

/// Puts `tasks` in CrewAI's order (see the module docs): the keys the crew's `tasks=[…]` list
/// names, else those of crew.py's task calls in order; the others after, as they were.
fn order_tasks(py: &CrewPy, tasks: &mut [(TaskSpec, Origin)]) {
    let listed: Option<Vec<String>> = py.crew.as_ref().and_then(|c| match c.call.kwarg("tasks") {
        Some(Expr::List(items)) => items.iter().map(|i| py.task_ref(i)).collect(),
        _ => None,
    });
    let order = listed.unwrap_or_else(|| py.tasks.iter().map(|b| b.key.clone()).collect());
    if order.is_empty() {
        return;
    }
    // Stable: tasks crew.py does not name keep their order, after the named ones.
    tasks.sort_by_key(|(t, _)| order.iter().position(|k| *k == t.key).unwrap_or(usize::MAX));
}

/// Calls `apply` for each applied argument of `bound`'s call; warns about the others.
fn each_kwarg(
    bound: &Bound,
    class: CrewAiClass,
    section: &str,
    findings: &mut Findings,
    mut apply: impl FnMut(&Kwarg, &At, &mut Findings),
) {
    let entry = if section.is_empty() { "crew".to_string() } else { format!("{section}.{}", bound.key) };
    let at = At { file: &bound.file.shown, entry: &entry };
    for arg in &bound.call.args {
        let text = match arg {
            Expr::Other(t) | Expr::Name(t) => t.clone(),
            _ => "a positional argument".into(),
        };
        findings
            .warn(Diagnostic::new(at.file, format!("positional argument `{text}` is not read; ignored")).at_line(Some(bound.call.line)));
    }
    for kwarg in &bound.call.kwargs {
        if kwarg.name == "**" {
            findings.warn(at.diag(kwarg, format!("`{}` cannot be read without running the code; ignored", kwarg.text)));
            continue;
        }
        let used = format!("{} ({}:{})", kwarg.name, file_name(at.file), kwarg.line);
        match class.classify(&kwarg.name) {
            KwargUse::Applied => {
                let before = findings.warning_count();
                apply(kwarg, &at, findings);
                if findings.warning_count() == before {
                    findings.applied(&entry, used);
                } else {
                    findings.ignored(&entry, used);
                }
            }
            KwargUse::Ignored(why) => {
                if !asks_nothing(&kwarg.value) {
                    findings.warn(at.diag(kwarg, format!("`{}` is {why}", kwarg.name)));
                    findings.ignored(&entry, used);
                }
            }
            KwargUse::Unknown => {
                findings.warn(at.diag(kwarg, format!("`{}` is not an argument of CrewAI's {class:?}; ignored", kwarg.name)));
                findings.ignored(&entry, used);
            }
        }
    }
}

/// The last component of a shown path (`crew.py`).
fn file_name(shown: &str) -> &str {
    shown.rsplit('/').next().unwrap_or(shown)
}

/// `None`, `False`, `''`, `[]`, `{}`: the argument asks for nothing.
fn asks_nothing(value: &Expr) -> bool {
    match value {
        Expr::None | Expr::Bool(false) => true,
        Expr::Str(s) => s.trim().is_empty(),
        Expr::List(items) => items.is_empty(),
        Expr::Dict(pairs) => pairs.is_empty(),
        _ => false,
    }
}

fn text(kwarg: &Kwarg, at: &At, findings: &mut Findings) -> Option<String> {
    match &kwarg.value {
        Expr::Str(s) => Some(s.clone()),
        _ => {
            findings.warn(at.diag(kwarg, format!("`{}` is not a literal text; ignored", kwarg.text)));
            None
        }
    }
}

/// Sets `field` to the argument's text (trimmed) when it is a literal text.
fn set_text(field: &mut String, kwarg: &Kwarg, at: &At, findings: &mut Findings) {
    if let Some(t) = text(kwarg, at, findings) {
        *field = t.trim().to_string();
    }
}

fn flag(kwarg: &Kwarg, at: &At, findings: &mut Findings) -> Option<bool> {
    match &kwarg.value {
        Expr::Bool(b) => Some(*b),
        _ => {
            findings.warn(at.diag(kwarg, format!("`{}` is not True or False; ignored", kwarg.text)));
            None
        }
    }
}

fn whole<T: TryFrom<i64>>(kwarg: &Kwarg, at: &At, findings: &mut Findings) -> Option<T> {
    match &kwarg.value {
        Expr::Int(i) if *i >= 0 => T::try_from(*i).ok(),
        Expr::None => None,
        _ => {
            findings.warn(at.diag(kwarg, format!("`{}` is not a whole number (0 or more); ignored", kwarg.text)));
            None
        }
    }
}

fn agent_kwarg(py: &CrewPy, bound: &Bound, agent: &mut AgentSpec, kwarg: &Kwarg, at: &At, findings: &mut Findings) {
    match kwarg.name.as_str() {
        "config" | "verbose" => {}
        "role" => set_text(&mut agent.role, kwarg, at, findings),
        "goal" => set_text(&mut agent.goal, kwarg, at, findings),
        "backstory" => set_text(&mut agent.backstory, kwarg, at, findings),
        "llm" => match read_llm(&kwarg.value, &|name| py.variable(bound.file, name)) {
            Ok(value) => {
                agent.llm = Some(value.model);
                agent.llm_settings = value.settings;
                for (name, why) in value.ignored {
                    findings.warn(at.diag(kwarg, format!("LLM argument `{name}`: {why}")));
                }
            }
            Err(why) => findings.warn(at.diag(kwarg, format!("{why}; the crew's model is used"))),
        },
        "tools" => {
            let tools = tool_list(py, bound, kwarg, at, findings);
            for tool in tools {
                agent.tools.retain(|t| t.name != tool.name);
                agent.tools.push(tool);
            }
        }
        "allow_delegation" => agent.allow_delegation = flag(kwarg, at, findings).unwrap_or(agent.allow_delegation),
        "respect_context_window" => {
            agent.respect_context_window = flag(kwarg, at, findings).unwrap_or(agent.respect_context_window);
        }
        "max_iter" => agent.max_iter = whole(kwarg, at, findings).unwrap_or(agent.max_iter),
        "max_rpm" => agent.max_rpm = whole(kwarg, at, findings).or(agent.max_rpm),
        "max_execution_time" => agent.max_execution_time = whole(kwarg, at, findings).or(agent.max_execution_time),
        "mcps" => match &kwarg.value {
            Expr::List(items) => {
                for item in items {
                    match item {
                        Expr::Str(s) => match s.parse::<McpRef>() {
                            Ok(r) => agent.mcps.push(r),
                            Err(e) => findings.warn(at.diag(kwarg, format!("MCP server `{s}`: {e}; ignored"))),
                        },
                        _ => findings.warn(at.diag(kwarg, "an MCP server that is not a literal text is not read; ignored")),
                    }
                }
            }
            _ => findings.warn(at.diag(kwarg, format!("`{}` is not a list of texts; ignored", kwarg.text))),
        },
        other => findings.warn(at.diag(kwarg, format!("`{other}` is not read; ignored"))),
    }
}

/// `tools=[FileReadTool(file_path='a.md'), my_tool, crewai_tools.DirectoryReadTool()]`.
fn tool_list(py: &CrewPy, bound: &Bound, kwarg: &Kwarg, at: &At, findings: &mut Findings) -> Vec<ToolUse> {
    let Expr::List(items) = &kwarg.value else {
        findings.warn(at.diag(kwarg, format!("`{}` is not a list of tools; ignored", kwarg.text)));
        return Vec::new();
    };
    let mut uses = Vec::new();
    for item in items {
        let item = match item {
            Expr::Name(n) => py.variable(bound.file, n).filter(|v| matches!(v, Expr::Call(_))).unwrap_or(item),
            _ => item,
        };
        match item {
            Expr::Call(call) => {
                let mut args = BTreeMap::new();
                for arg in &call.kwargs {
                    match super::python::literal::to_json(&arg.value) {
                        Some(v) => {
                            args.insert(arg.name.clone(), v);
                        }
                        None => findings
                            .warn(at.diag(kwarg, format!("{}: argument `{}={}` is not a literal; ignored", call.func, arg.name, arg.text))),
                    }
                }
                if !call.args.is_empty() {
                    findings.warn(at.diag(kwarg, format!("{}: positional arguments are not read; ignored", call.func)));
                }
                uses.push(ToolUse { name: call.func.clone(), args });
            }
            Expr::Name(n) => uses.push(ToolUse::named(n.as_str())),
            Expr::Str(s) => uses.push(ToolUse::named(s.as_str())),
            other => findings.warn(at.diag(kwarg, format!("tool `{other:?}` cannot be read; ignored"))),
        }
    }
    let field = |i: usize| format!("{}.{}[{i}]", at.entry, kwarg.name);
    canonical_tool_uses(&uses, |i, why| findings.warn(Diagnostic::new(at.file, why).at_line(Some(kwarg.line)).on_field(field(i))))
}

/// The task's call and where the task was written in YAML.
struct TaskAt<'a, 'b> {
    bound: &'a Bound<'b>,
    origin: &'a Origin,
}

fn task_kwarg(py: &CrewPy, models: &Models, task: &mut TaskSpec, place: &TaskAt, kwarg: &Kwarg, at: &At, findings: &mut Findings) {
    let (bound, origin) = (place.bound, place.origin);
    match kwarg.name.as_str() {
        "config" | "name" => {}
        "description" => set_text(&mut task.description, kwarg, at, findings),
        "expected_output" => set_text(&mut task.expected_output, kwarg, at, findings),
        "agent" => match py.agent_ref(&kwarg.value) {
            Some(bound) => match &task.agent {
                None => task.agent = Some(bound),
                Some(agent) if *agent != bound => {
                    findings.warn(origin.at("agent", format!("crew.py binds agent `{bound}`; using `{agent}` as tasks.yaml says")))
                }
                Some(_) => {}
            },
            None => findings.warn(at.diag(kwarg, format!("`{}` is not an agent of the crew; ignored", kwarg.text))),
        },
        "context" => match &kwarg.value {
            Expr::List(items) => {
                let keys: Option<Vec<String>> = items.iter().map(|i| py.task_ref(i)).collect();
                match keys {
                    Some(keys) => task.context = Some(keys),
                    None => findings.warn(at.diag(kwarg, format!("`{}` is not a list of the crew's tasks; ignored", kwarg.text))),
                }
            }
            _ => findings.warn(at.diag(kwarg, format!("`{}` is not a list of tasks; ignored", kwarg.text))),
        },
        "async_execution" => task.async_execution = flag(kwarg, at, findings).unwrap_or(task.async_execution),
        "human_input" => task.human_input = flag(kwarg, at, findings).unwrap_or(task.human_input),
        "output_file" => {
            if let Some(f) = text(kwarg, at, findings).map(|f| f.trim().to_string()).filter(|f| !f.is_empty()) {
                task.output_file = Some(f);
            }
        }
        "output_json" | "output_pydantic" => {
            match &kwarg.value {
                Expr::Name(class) => {
                    let short = class.rsplit('.').next().unwrap_or(class);
                    task.output_json = true;
                    task.output_schema = models.schema(short);
                    if task.output_schema.is_none() {
                        findings.warn(at.diag(
                            kwarg,
                            format!("no Pydantic model `{short}` in the project's Python files; the output only has to be JSON"),
                        ));
                    }
                }
                Expr::Bool(b) => task.output_json = *b,
                _ => findings.warn(at.diag(kwarg, format!("`{}` is not a model class; ignored", kwarg.text))),
            }
        }
        "tools" => {
            let tools = tool_list(py, bound, kwarg, at, findings);
            for tool in tools {
                task.tools.retain(|t| t.name != tool.name);
                task.tools.push(tool);
            }
        }
        "guardrail" => match &kwarg.value {
            Expr::Str(g) if !g.trim().is_empty() => task.guardrail = Some(g.trim().to_string()),
            Expr::None => {}
            _ => findings.warn(at.diag(kwarg, format!("a function guardrail (`{}`) needs the CrewAI engine; ignored", kwarg.text))),
        },
        "guardrail_max_retries" => task.guardrail_max_retries = whole(kwarg, at, findings).unwrap_or(task.guardrail_max_retries),
        other => findings.warn(at.diag(kwarg, format!("`{other}` is not read; ignored"))),
    }
}

fn crew_kwarg(py: &CrewPy, bound: &Bound, settings: &mut CrewSettings, kwarg: &Kwarg, at: &At, findings: &mut Findings) {
    match kwarg.name.as_str() {
        "agents" | "tasks" | "verbose" => {}
        "process" => match &kwarg.value {
            Expr::Name(p) => match p.rsplit('.').next() {
                Some("sequential") => settings.process = settings.process.or(Some(Process::Sequential)),
                Some("hierarchical") => settings.process = settings.process.or(Some(Process::Hierarchical)),
                _ => findings.warn(at.diag(kwarg, format!("unknown process `{p}`; ignored"))),
            },
            _ => findings.warn(at.diag(kwarg, format!("`{}` is not Process.sequential or Process.hierarchical; ignored", kwarg.text))),
        },
        "manager_llm" => match read_llm(&kwarg.value, &|name| py.variable(bound.file, name)) {
            Ok(value) => {
                if settings.manager_llm.is_none() {
                    settings.manager_llm = Some(value.model);
                    settings.manager_llm_settings = value.settings;
                }
                for (name, why) in value.ignored {
                    findings.warn(at.diag(kwarg, format!("LLM argument `{name}`: {why}")));
                }
            }
            Err(why) => findings.warn(at.diag(kwarg, format!("{why}; ignored"))),
        },
        "manager_agent" => match py.agent_ref(&kwarg.value) {
            Some(key) => settings.manager_agent = settings.manager_agent.take().or(Some(key)),
            None => findings.warn(at.diag(kwarg, format!("`{}` is not an agent of the crew; ignored", kwarg.text))),
        },
        "max_rpm" => settings.max_rpm = settings.max_rpm.or(whole(kwarg, at, findings)),
        "name" => {
            if let Some(name) = text(kwarg, at, findings) {
                settings.name = settings.name.take().or(Some(name));
            }
        }
        other => findings.warn(at.diag(kwarg, format!("`{other}` is not read; ignored"))),
    }
}
