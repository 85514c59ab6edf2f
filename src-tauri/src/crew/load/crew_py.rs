//! The `Agent(...)`, `Task(...)` and `Crew(...)` calls of a CrewAI project's Python files, bound to
//! the keys of `agents.yaml` / `tasks.yaml`.
//!
//! Two styles are read:
//! - `@CrewBase` classes: an `@agent`/`@task`/`@crew` method returning the call; its key is the
//!   `config=self.agents_config['key']` key, else the method name. `self.<method>()` refers to it.
//! - Scripts: `name = Agent(config=agents_config["key"], …)` at any level of any `.py` of the
//!   project; the variable `name` refers to it.

use std::collections::BTreeMap;

use super::python::syntax::{Call, Expr};
use super::python::SourceFile;
use crate::crew::crewai_fields::CrewAiClass;

/// One call bound to a key.
pub(crate) struct Bound<'a> {
    pub file: &'a SourceFile,
    /// The agent's or task's key (the crew's method or variable name).
    pub key: String,
    pub call: &'a Call,
}

/// What the project's Python files build.
pub(crate) struct CrewPy<'a> {
    pub agents: Vec<Bound<'a>>,
    pub tasks: Vec<Bound<'a>>,
    pub crew: Option<Bound<'a>>,
    /// `@agent`/`@task`/`@crew` methods that return no `Agent(...)`/`Task(...)`/`Crew(...)` call
    /// (built another way): their file, method name and line.
    pub unread: Vec<(&'a SourceFile, &'a str, u32)>,
    /// Method or variable name -> agent key.
    agent_names: BTreeMap<String, String>,
    /// Method or variable name -> task key.
    task_names: BTreeMap<String, String>,
    files: &'a [SourceFile],
}

impl<'a> CrewPy<'a> {
    /// Finds the calls in `files`.
    pub fn of(files: &'a [SourceFile]) -> Self {
        let mut out = CrewPy {
            agents: Vec::new(),
            tasks: Vec::new(),
            crew: None,
            unread: Vec::new(),
            agent_names: BTreeMap::new(),
            task_names: BTreeMap::new(),
            files,
        };
        for file in files {
            let mut decorated = Vec::new();
            for d in &file.parsed.decorated {
                let class = match d.decorator.as_str() {
                    "agent" => CrewAiClass::Agent,
                    "task" => CrewAiClass::Task,
                    "crew" => CrewAiClass::Crew,
                    _ => continue,
                };
                match d.call.as_ref().filter(|c| CrewAiClass::of_call(&c.func) == Some(class)) {
                    Some(call) => decorated.push((d.method.as_str(), call)),
                    None => out.unread.push((file, d.method.as_str(), d.line)),
                }
            }
            let assigned = file.parsed.assignments.iter().filter_map(|a| match &a.value {
                Expr::Call(c) if CrewAiClass::of_call(&c.func).is_some() && !a.target.contains('.') => Some((a.target.as_str(), c)),
                _ => None,
            });
            for (name, call) in decorated.into_iter().chain(assigned) {
                out.add(file, name, call);
            }
        }
        out
    }

    fn add(&mut self, file: &'a SourceFile, name: &str, call: &'a Call) {
        match CrewAiClass::of_call(&call.func) {
            Some(CrewAiClass::Agent) => {
                let key = config_key(call, "agents_config").unwrap_or_else(|| name.to_string());
                self.agent_names.insert(name.to_string(), key.clone());
                self.agents.push(Bound { file, key, call });
            }
            Some(CrewAiClass::Task) => {
                let key = config_key(call, "tasks_config").unwrap_or_else(|| name.to_string());
                self.task_names.insert(name.to_string(), key.clone());
                self.tasks.push(Bound { file, key, call });
            }
            // The first `Crew(...)` is the crew.
            Some(CrewAiClass::Crew) if self.crew.is_none() => self.crew = Some(Bound { file, key: name.to_string(), call }),
            Some(CrewAiClass::Crew) | None => {}
        }
    }

    /// The agent key `expr` refers to (`self.researcher()`, `researcher`); `None` when it is not a
    /// reference.
    pub fn agent_ref(&self, expr: &Expr) -> Option<String> {
        reference(expr).map(|name| self.agent_names.get(name).cloned().unwrap_or_else(|| name.to_string()))
    }

    /// The task key `expr` refers to.
    pub fn task_ref(&self, expr: &Expr) -> Option<String> {
        reference(expr).map(|name| self.task_names.get(name).cloned().unwrap_or_else(|| name.to_string()))
    }

    /// The value assigned to the plain name `name` in `file` (else in any file), for arguments
    /// written as a variable (`llm=my_llm`).
    pub fn variable(&self, file: &SourceFile, name: &str) -> Option<&'a Expr> {
        let in_file = |f: &'a SourceFile| f.parsed.assignments.iter().rev().find(|a| a.target == name).map(|a| &a.value);
        self.files.iter().find(|f| f.path == file.path).and_then(in_file).or_else(|| self.files.iter().find_map(in_file))
    }
}

/// `config=self.<config>['key']` (or `<config>["key"]` in a script).
fn config_key(call: &Call, config: &str) -> Option<String> {
    match call.kwarg("config")? {
        Expr::Subscript { value, index } if value.rsplit('.').next() == Some(config) => match index.as_ref() {
            Expr::Str(key) => Some(key.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The method in `self.<method>()` or the variable in `<name>`.
fn reference(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Call(c) if c.args.is_empty() && c.kwargs.is_empty() => c.func.strip_prefix("self.").filter(|m| !m.contains('.')),
        Expr::Name(n) if !n.contains('.') => Some(n.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::load::python::syntax::parse;

    fn file(text: &str) -> SourceFile {
        SourceFile { shown: "crew.py".into(), path: "crew.py".into(), parsed: parse(text).unwrap() }
    }

    #[test]
    fn binds_decorated_methods_to_config_keys() {
        let files = [file(
            "@CrewBase\nclass C:\n    @agent\n    def analyst(self) -> Agent:\n        return Agent(config=self.agents_config['reporting_analyst'])\n\n    @task\n    def write(self) -> Task:\n        return Task(config=self.tasks_config['reporting_task'], agent=self.analyst())\n\n    @crew\n    def crew(self) -> Crew:\n        return Crew(agents=self.agents, tasks=self.tasks)\n",
        )];
        let py = CrewPy::of(&files);
        assert_eq!(py.agents[0].key, "reporting_analyst");
        assert_eq!(py.tasks[0].key, "reporting_task");
        assert_eq!(py.agent_ref(py.tasks[0].call.kwarg("agent").unwrap()).as_deref(), Some("reporting_analyst"));
        assert!(py.crew.is_some());
    }

    #[test]
    fn binds_script_style_variables() {
        let files = [file(
            "spamfilter = Agent(config=agents_config[\"spamfilter\"])\ntask0 = Task(config=tasks_config[\"task0\"], agent=spamfilter)\ncrew = Crew(agents=[spamfilter], tasks=[task0])\n",
        )];
        let py = CrewPy::of(&files);
        assert_eq!(py.agents[0].key, "spamfilter");
        assert_eq!(py.tasks[0].key, "task0");
        assert_eq!(py.agent_ref(py.tasks[0].call.kwarg("agent").unwrap()).as_deref(), Some("spamfilter"));
        assert_eq!(py.crew.as_ref().map(|c| c.key.as_str()), Some("crew"));
    }
}
