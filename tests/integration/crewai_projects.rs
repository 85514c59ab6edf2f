//! CrewAI projects read whole through the real binary: the layout `crewai create crew` generates
//! (its `.env`, `main.py` inputs and `crew.py`'s `output_file`), every `crew.py` argument applied
//! or warned with file:line, and script-style bindings — against the mock LLM.

use crate::harness;
use crate::support;

use std::path::{Path, PathBuf};

use harness::{arg, copy_tree, fixture, Crew};
use serde_json::Value;
use support::{MockLlm, Reply};

/// The `crewai create crew demo` project (CrewAI 1.15.30's templates) copied to a temp folder,
/// with a `.env` whose model, key and base URL point at `mock`.
fn created_project(crew: &Crew, mock: &MockLlm) -> PathBuf {
    let dir = crew.dir.path().join("demo");
    copy_tree(&fixture("projects/created"), &dir);
    let env = format!("MODEL=gpt-4o-mini\nOPENAI_API_KEY=sk-from-dotenv\nOPENAI_API_BASE={}\n", mock.base_url());
    std::fs::write(dir.join(".env"), env).unwrap();
    dir
}

fn run_in(crew: &Crew, dir: &Path, args: &[&str]) -> std::process::Output {
    crew.cmd(args).current_dir(dir).output().expect("the binary runs")
}

fn ok_in(crew: &Crew, dir: &Path, args: &[&str]) -> String {
    let out = run_in(crew, dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "crew-runner {args:?}:\nstdout: {}\nstderr: {stderr}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stdout).unwrap()
}

fn year() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // 365.2425 days a year from 1970; exact except in the first hours of a new year.
    (1970 + (secs as f64 / (365.2425 * 86_400.0)) as u64).to_string()
}

#[test]
fn a_created_project_runs_with_its_env_inputs_and_output_file() {
    let mock = MockLlm::start();
    let crew = Crew::new(None);
    let dir = created_project(&crew, &mock);
    ok_in(&crew, &dir, &["--run", "."]);

    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 2, "one call per task");
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-from-dotenv"));
    assert_eq!(requests[0].body["model"], "gpt-4o-mini");
    let first = requests[0].last_user_message();
    assert!(first.contains("AI LLMs") && first.contains(&year()), "{first}");
    let report = std::fs::read_to_string(dir.join("report.md")).expect("report.md written");
    assert!(report.contains("Mock answer"), "{report}");

    // The execution keeps the .env's path and names, never its values.
    let stored = crew.executions()[0].to_string();
    assert!(!stored.contains("sk-from-dotenv"), "{stored}");
    let report = crew.json(&["validate", &arg(&dir), "--json"]);
    assert_eq!(report["crew"]["env_vars"], serde_json::json!(["MODEL", "OPENAI_API_KEY", "OPENAI_API_BASE"]));
    let inputs = report["required_inputs"].as_array().unwrap();
    let year_input = inputs.iter().find(|i| i["name"] == "current_year").unwrap();
    assert_eq!(year_input["default"], year());
    assert!(year_input["default_from"].as_str().unwrap().ends_with("main.py:16"), "{year_input}");
}

const ARGS_CREW_PY: &str = r#"from crewai import Agent, Crew, Process, Task, LLM
from crewai.project import CrewBase, agent, crew, task
from crewai_tools import FileReadTool
from langchain_community.llms import Ollama
from pydantic import BaseModel, Field


class Summary(BaseModel):
    title: str = Field(description="A short title")
    points: list[str]


@CrewBase
class ArgsCrew():
    @agent
    def researcher(self) -> Agent:
        return Agent(
            config=self.agents_config['researcher'],
            llm=Ollama(model="llama3.1", base_url="OLLAMA_BASE"),
            tools=[FileReadTool(file_path="notes.md")],
            allow_delegation=False,
            max_iter=4,
            knowledge_sources=[source],
        )

    @agent
    def writer(self) -> Agent:
        return Agent(config=self.agents_config['writer'], llm=LLM(model="openai/mock-model", temperature=0.2), verbose=True)

    @task
    def research_task(self) -> Task:
        return Task(config=self.tasks_config['research_task'], agent=self.researcher())

    @task
    def write_task(self) -> Task:
        return Task(
            config=self.tasks_config['write_task'],
            agent=self.writer(),
            context=[self.research_task()],
            output_pydantic=Summary,
            human_input=True,
        )

    @crew
    def crew(self) -> Crew:
        return Crew(agents=self.agents, tasks=self.tasks, process=Process.sequential, memory=True)
"#;

const AGENTS_YAML: &str = "researcher:\n  role: Researcher\n  goal: Find facts\n  backstory: Careful.\nwriter:\n  role: Writer\n  goal: Write\n  backstory: Clear.\n";

const TASKS_YAML: &str = "research_task:\n  description: Research {topic}\n  expected_output: Facts\nwrite_task:\n  description: Write it up\n  expected_output: ''\n";

#[test]
fn crew_py_arguments_are_applied_or_warned_with_their_line() {
    let openai = MockLlm::start();
    let ollama = MockLlm::start();
    let crew = Crew::new(Some(&openai.base_url()));
    let dir = crew.dir.path().join("args");
    let ollama_host = ollama.base_url().trim_end_matches("/v1").to_string();
    crew.write("args/config/agents.yaml", AGENTS_YAML);
    crew.write("args/config/tasks.yaml", TASKS_YAML);
    crew.write("args/crew.py", &ARGS_CREW_PY.replace("OLLAMA_BASE", &ollama_host));

    let report = crew.json(&["validate", &arg(&dir), "--json"]);
    let warnings: Vec<String> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{}:{}: {}: {}", w["file"].as_str().unwrap(), w["line"], w["field"].as_str().unwrap_or(""), w["message"]))
        .collect();
    let has = |needle: &str, line: u32| warnings.iter().any(|w| w.contains(&format!("crew.py:{line}:")) && w.contains(needle));
    assert!(has("agents.researcher.knowledge_sources", 23), "{warnings:#?}");
    assert!(!warnings.iter().any(|w| w.contains("human_input")), "human_input is applied: {warnings:#?}");
    assert!(has("crew.memory", 46), "{warnings:#?}");
    assert!(warnings.iter().any(|w| w.contains("expected_output") && w.contains("empty")), "{warnings:#?}");
    let researcher = &report["crew"]["agents"][0];
    assert_eq!(researcher["llm"], "ollama/llama3.1");
    assert_eq!(researcher["max_iter"], 4);
    assert_eq!(researcher["tools"], serde_json::json!([{"name": "read_file", "args": {"file_path": "notes.md"}}]));
    let write = &report["crew"]["tasks"][1];
    assert_eq!(write["context"], serde_json::json!(["research_task"]));
    assert_eq!(write["output_json"], true);
    assert_eq!(write["human_input"], true);
    assert_eq!(write["output_schema"]["required"], serde_json::json!(["title", "points"]));
    let fields = report["fields"].as_array().unwrap();
    let researcher_fields = fields.iter().find(|f| f["entry"] == "agents.researcher").unwrap();
    assert!(researcher_fields["applied"].to_string().contains("llm (crew.py:19)"), "{researcher_fields}");
    assert!(researcher_fields["ignored"].to_string().contains("knowledge_sources (crew.py:23)"), "{researcher_fields}");

    openai.push(Reply::text("Thought: done\nFinal Answer: {\"title\": \"Bees\", \"points\": [\"they fly\"]}"));
    // `human_input=True`: with no terminal, `--run` leaves the answer waiting for review (exit 4);
    // accepted, a worker finishes it without another call.
    let out = run_in(&crew, &dir, &["--run", ".", "--engine", "native", "--input", "topic=bees"]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    let id = crew.executions()[0]["id"].as_str().unwrap().to_string();
    crew.ok(&["answer", &id]);
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status(&id)["status"], "succeeded");
    let to_ollama = ollama.chat_requests();
    assert_eq!(to_ollama.len(), 1, "the researcher's task goes to its own endpoint");
    assert_eq!(to_ollama[0].body["model"], "llama3.1");
    let to_openai = openai.chat_requests();
    assert_eq!(to_openai.len(), 1);
    assert_eq!(to_openai[0].body["model"], "mock-model");
    let temperature = to_openai[0].body["temperature"].as_f64().unwrap();
    assert!((temperature - 0.2).abs() < 1e-6, "{}", to_openai[0].body);
}

#[test]
fn a_script_style_project_runs() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let dir = crew.dir.path().join("script");
    crew.write("script/config/agents.yaml", "spamfilter:\n  role: Spam filter\n  goal: Keep spam out\n  backstory: Strict.\n");
    crew.write("script/config/tasks.yaml", "task0:\n  description: Judge this message\n  expected_output: spam or not\n");
    crew.write(
        "script/script.py",
        "import yaml\nfrom crewai import Agent, Task, Crew\n\nwith open('config/agents.yaml') as f:\n    agents_config = yaml.safe_load(f)\nwith open('config/tasks.yaml') as f:\n    tasks_config = yaml.safe_load(f)\n\nspamfilter = Agent(config=agents_config[\"spamfilter\"], verbose=True)\ntask0 = Task(config=tasks_config[\"task0\"], agent=spamfilter)\ncrew = Crew(agents=[spamfilter], tasks=[task0], verbose=True)\nresult = crew.kickoff()\n",
    );
    let out = ok_in(&crew, &dir, &["--run", "."]);
    assert!(out.contains("Mock answer"), "{out}");
    assert_eq!(mock.chat_count(), 1);
    let report: Value = crew.json(&["validate", &arg(&dir), "--json"]);
    assert_eq!(report["crew"]["tasks"][0]["agent"], "spamfilter");
}

#[test]
fn a_submitted_project_runs_on_a_worker_that_reads_its_env() {
    let mock = MockLlm::start();
    let crew = Crew::new(None);
    let dir = created_project(&crew, &mock);
    let id = crew.json(&["submit", &arg(&dir), "--json"])["id"].as_str().unwrap().to_string();
    // The worker runs elsewhere, with none of the .env's variables in its environment.
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status(&id)["status"], "succeeded");
    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("authorization"), Some("Bearer sk-from-dotenv"));
    assert!(dir.join("report.md").is_file());
    let stored = crew.status(&id).to_string();
    assert!(!stored.contains("sk-from-dotenv"), "{stored}");
}

#[test]
fn crew_level_llm_and_manager_llm_mappings_reach_their_endpoints() {
    let default = MockLlm::start();
    let crew_llm = MockLlm::start();
    let manager = MockLlm::start();
    let crew = Crew::new(Some(&default.base_url()));
    let file = crew.write(
        "mapped.yaml",
        &format!(
            "name: mapped\nprocess: hierarchical\n\
             llm:\n  model: openai/crew-model\n  base_url: {}\n  temperature: 0.4\n\
             manager_llm:\n  model: openai/boss-model\n  base_url: {}\n  temperature: 0.1\n\
             agents:\n  w:\n    role: Writer\n    goal: Write\n    backstory: B\n\
             tasks:\n  t:\n    description: Say hi\n    expected_output: Hi.\n    agent: w\n",
            crew_llm.base_url(),
            manager.base_url()
        ),
    );
    let report = crew.json(&["validate", &arg(&file), "--json"]);
    let close = |v: &Value, x: f64| v.as_f64().is_some_and(|t| (t - x).abs() < 1e-6);
    assert!(close(&report["crew"]["agents"][0]["llm_settings"]["temperature"], 0.4), "{report:#}");
    assert!(close(&report["crew"]["manager_llm_settings"]["temperature"], 0.1), "{report:#}");
    // The manager delegates the task to the writer, then answers.
    manager.push(Reply::tool_call(
        "delegate_work_to_coworker",
        serde_json::json!({"task": "Say hi", "context": "Greet.", "coworker": "Writer"}),
    ));
    manager.push(Reply::text("Thought: done\nFinal Answer: Hi."));
    crew.ok(&["--run", &arg(&file)]);
    assert_eq!(default.chat_count(), 0, "every call goes where the crew says");
    let to_manager = manager.chat_requests();
    assert!(!to_manager.is_empty());
    assert_eq!(to_manager[0].body["model"], "boss-model");
    assert!((to_manager[0].body["temperature"].as_f64().unwrap() - 0.1).abs() < 1e-6);
    // The writer runs on the crew's model.
    let to_crew = crew_llm.chat_requests();
    assert!(!to_crew.is_empty(), "the writer's calls");
    assert_eq!(to_crew[0].body["model"], "crew-model");
    assert!((to_crew[0].body["temperature"].as_f64().unwrap() - 0.4).abs() < 1e-6);
}

#[test]
fn python_only_agents_and_tasks_run_in_crewai_order() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let dir = crew.dir.path().join("order");
    crew.write("order/config/agents.yaml", "researcher:\n  role: Researcher\n  goal: Find facts\n  backstory: Careful.\n");
    crew.write(
        "order/config/tasks.yaml",
        "first_in_yaml:\n  description: Gather notes\n  expected_output: Notes.\n  agent: researcher\n\
         second_in_yaml:\n  description: Pick the best fact\n  expected_output: One fact.\n  agent: researcher\n",
    );
    crew.write(
        "order/crew.py",
        "from crewai import Agent, Crew, Process, Task\nfrom crewai.project import CrewBase, agent, crew, task\n\n\
         @CrewBase\nclass Order:\n    agents_config = 'config/agents.yaml'\n    tasks_config = 'config/tasks.yaml'\n\n\
         \x20   @agent\n    def researcher(self) -> Agent:\n        return Agent(config=self.agents_config['researcher'])\n\n\
         \x20   @agent\n    def editor(self) -> Agent:\n        return Agent(role='Copy Editor', goal='Polish text', backstory='Picky.')\n\n\
         \x20   @task\n    def second_in_yaml(self) -> Task:\n        return Task(config=self.tasks_config['second_in_yaml'])\n\n\
         \x20   @task\n    def first_in_yaml(self) -> Task:\n        return Task(config=self.tasks_config['first_in_yaml'])\n\n\
         \x20   @task\n    def polish(self) -> Task:\n        return Task(description='Polish the fact', expected_output='A polished fact.', agent=self.editor())\n\n\
         \x20   @crew\n    def crew(self) -> Crew:\n        return Crew(agents=self.agents, tasks=self.tasks, process=Process.sequential)\n",
    );
    let report = crew.json(&["validate", &arg(&dir), "--json"]);
    let keys: Vec<&str> = report["crew"]["tasks"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["second_in_yaml", "first_in_yaml", "polish"], "the @task methods' order");
    assert_eq!(report["crew"]["agents"][1]["role"], "Copy Editor");
    assert!(report["warnings"].as_array().unwrap().iter().all(|w| !w["message"].as_str().unwrap().contains("not read")), "{report:#}");
    ok_in(&crew, &dir, &["--run", "."]);
    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 3);
    assert!(support::mock_llm::last_user_message(&requests[0].body).contains("Pick the best fact"), "runs second_in_yaml first");
    let system = requests[2].body["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(system.contains("Copy Editor"), "the Python-only agent runs the Python-only task: {system}");
}
