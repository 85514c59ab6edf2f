//! The CrewAI engine through the real binary, against real CrewAI (the Python named by
//! `CREW_RUNNER_TEST_PYTHON`; `.ci/run` installs it) and the mock LLM: a `crewai create crew`
//! project with a custom tool and a Pydantic output, a Flow, a script, a graph crew translated to
//! CrewAI, a failing crew, cancel and worker death leaving no Python process, and `--engine auto`.
//!
//! Without `CREW_RUNNER_TEST_PYTHON` each test says it was skipped and why; in CI (`CI` set) it
//! fails instead, so none is skipped there.

use crate::harness;
use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{arg, copy_tree, fixture, Crew, PROC_WAIT};
use serde_json::{json, Value};
use support::{MockLlm, Reply};

/// The Python with CrewAI, or `None` (the test returns after saying why; in CI it panics).
fn crewai_python() -> Option<PathBuf> {
    match std::env::var_os("CREW_RUNNER_TEST_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var_os("CI").is_some() => panic!("CI must set CREW_RUNNER_TEST_PYTHON (a Python with crewai; .ci/run installs one)"),
        _ => {
            eprintln!("skipped: CREW_RUNNER_TEST_PYTHON is not set (a Python with crewai 1.15; `bash .ci/run` installs one)");
            None
        }
    }
}

/// An installation whose CrewAI engine uses `python` and the mock.
fn crew_with(mock: &MockLlm, python: &Path) -> Crew {
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("CREW_RUNNER_PYTHON".into(), python.display().to_string()));
    crew
}

/// A copy of a fixture under the test's temp dir (CrewAI writes next to the project).
fn project(crew: &Crew, name: &str) -> PathBuf {
    let dest = crew.dir.path().join(name);
    copy_tree(&fixture(&format!("crewai/{name}")), &dest);
    dest
}

fn kinds(lines: &[Value]) -> Vec<String> {
    lines.iter().map(|l| l["kind"].as_str().unwrap_or("").to_string()).collect()
}

/// Lines are in `seq` order within each attempt, and the attempt's story is in order: started,
/// then each task's start before its completion, then succeeded.
fn assert_in_order(lines: &[Value]) {
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(seqs, sorted, "log lines in order");
    let k = kinds(lines);
    let pos = |kind: &str| k.iter().position(|x| x == kind).unwrap_or_else(|| panic!("no {kind} line in {k:?}"));
    assert!(pos("started") < pos("task_started"));
    assert!(pos("task_started") < pos("task_completed"));
    assert!(k.iter().rposition(|x| x == "task_completed").unwrap() < k.iter().rposition(|x| x == "succeeded").unwrap());
}

/// The execution's stored steps (step, agent, output, json, usage), in completion order, read
/// from the database.
fn steps(crew: &Crew, id: &str) -> Vec<Value> {
    let db = rusqlite::Connection::open(crew.database()).unwrap();
    let mut stmt = db.prepare("SELECT step, agent, output, json, usage FROM step_outputs WHERE execution_id = ?1 ORDER BY rowid").unwrap();
    stmt.query_map([id], |r| {
        let text = |i: usize| r.get::<_, String>(i);
        Ok(json!({
            "step": text(0)?, "agent": text(1)?, "output": text(2)?,
            "json": serde_json::from_str::<Value>(&text(3)?).unwrap(),
            "usage": serde_json::from_str::<Value>(&text(4)?).unwrap(),
        }))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn a_crew_project_runs_its_custom_tool_and_pydantic_output_on_real_crewai() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let root = project(&crew, "research_project");
    // research_task: the model calls the project's own @tool, then answers; reporting_task
    // answers with the Report model's JSON (CrewAI asks for it as a structured output).
    mock.push_for("Conduct a thorough research", Reply::tool_call("word_counter", json!({"text": "alpha beta gamma"})));
    mock.push_for("Conduct a thorough research", Reply::text("Thought: done\nFinal Answer: - alpha\n- beta\n- gamma (WORDCOUNT=3)"));
    mock.push_for(
        "turn it into a short report",
        Reply::text(json!({"title": "LLM report", "audience": "engineers", "points": ["alpha", "beta"]}).to_string()),
    );
    let out = crew.ok(&["--run", &arg(&root), "--engine", "crewai", "--input", "topic=rust", "--json"]);
    let e: Value = serde_json::from_str(&out).unwrap_or_else(|err| panic!("{err}: {out}"));
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["engine"], "crewai");
    let id = e["id"].as_str().unwrap();

    // The custom tool really ran: its result went back to the model.
    let requests = mock.chat_requests();
    assert!(requests.iter().any(|r| r.raw_body.contains("WORDCOUNT=3")), "the tool's result reached the model");
    // --input overrides main.py's default topic; its computed current_year is kept.
    assert!(requests[0].raw_body.contains("research about rust"), "{}", requests[0].raw_body);
    assert!(!requests[0].raw_body.contains("AI LLMs"));

    let st = steps(&crew, id);
    let keys: Vec<&str> = st.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(keys, ["research_task", "reporting_task"]);
    assert_eq!(st[1]["json"]["title"], "LLM report", "the Pydantic output is stored as JSON: {:#}", st[1]);
    assert!(st[0]["usage"]["llm_calls"].as_u64().unwrap() >= 2, "{:#}", st[0]);
    assert!(e["usage"]["total_tokens"].as_u64().unwrap() > 0, "usage recorded: {e:#}");
    assert_eq!((e["progress"]["completed_steps"].as_u64(), e["progress"]["total_steps"].as_u64()), (Some(2), Some(2)));

    let lines = crew.logs(id);
    assert_in_order(&lines);
    let tool_lines: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "tool_call").collect();
    assert!(tool_lines.iter().any(|l| l["message"].as_str().unwrap().contains("WORDCOUNT=3")), "{tool_lines:#?}");
    // The project's prints are output lines; .env was loaded.
    assert!(lines.iter().any(|l| l["kind"] == "output" && l["message"].as_str().unwrap().contains("report audience: engineers")));
}

#[test]
fn a_flow_with_start_listen_router_and_state_runs() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let root = project(&crew, "poem_flow");
    let out = crew.ok(&["--run", &arg(&root), "--json"]);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["engine"], "crewai", "auto picks CrewAI for a Flow");
    let id = e["id"].as_str().unwrap();
    let lines = crew.logs(id);
    let methods: Vec<String> = lines
        .iter()
        .filter(|l| l["kind"] == "task_started" && l["message"].as_str().unwrap().starts_with("flow method"))
        .map(|l| l["task"].as_str().unwrap().to_string())
        .collect();
    assert!(methods.len() >= 3, "start, router and a listener ran: {methods:?}");
    assert!(!steps(&crew, id).is_empty(), "the crew inside the flow saved its task");
    assert!(e["usage"]["llm_calls"].as_u64().unwrap() >= 1);
}

#[test]
fn a_plain_script_crew_runs_with_its_inputs_overridden() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let script = crew.dir.path().join("script_crew.py");
    std::fs::copy(fixture("crewai/script_crew.py"), &script).unwrap();
    mock.push(Reply::text("Thought: done\nFinal Answer: The mountains are tall."));
    let out = crew.ok(&["--run", &arg(&script), "--input", "subject=mountains", "--json"]);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["output"], "The mountains are tall.");
    assert!(mock.chat_requests()[0].raw_body.contains("Summarize mountains"), "--input overrides the script's inputs");
    let st = steps(&crew, e["id"].as_str().unwrap());
    assert_eq!(st.len(), 1);
    assert_eq!(st[0]["step"], "summary");
    assert_in_order(&crew.logs(e["id"].as_str().unwrap()));
}

#[test]
fn a_graph_crew_runs_on_crewai_translated() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let graph = crew.dir.path().join("graph.json");
    std::fs::copy(fixture("crews/graph.json"), &graph).unwrap();
    let out = crew.ok(&["--run", &arg(&graph), "--engine", "crewai", "--input", "topic=tides", "--json"]);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["engine"], "crewai");
    let spec = crew.json(&["validate", &arg(&graph), "--json"]);
    let want: Vec<String> = spec["crew"]["tasks"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap().to_string()).collect();
    let got: Vec<String> = steps(&crew, e["id"].as_str().unwrap()).iter().map(|s| s["step"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, want, "one step per task of the graph, under the graph's keys");
    assert!(mock.chat_count() >= want.len());
}

#[test]
fn a_failing_crew_gives_a_classified_error_with_its_traceback() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let script = crew.dir.path().join("failing_script.py");
    std::fs::copy(fixture("crewai/failing_script.py"), &script).unwrap();
    let out = crew.run(&["--run", &arg(&script), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", harness::stderr_of(&out));
    let e = crew.executions().remove(0);
    assert_eq!(e["status"], "failed");
    assert_eq!(e["error"]["kind"], "python", "{e:#}");
    assert_eq!(e["error"]["retryable"], false);
    assert!(e["error"]["details"]["traceback"].as_str().unwrap().contains("Traceback"), "{e:#}");
    assert_eq!(e["attempt"], 1, "not retried");
}

#[test]
fn a_rate_limited_crew_is_retried_in_a_fresh_process() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let script = crew.dir.path().join("script_crew.py");
    std::fs::copy(fixture("crewai/script_crew.py"), &script).unwrap();
    // CrewAI retries a 429 itself (the openai client 3 times, CrewAI 3 times, the agent 3 times:
    // 27 requests) before it gives up; then Crew Runner's retry starts a fresh process.
    for _ in 0..CREWAI_OWN_429_RETRIES {
        mock.push(Reply::Status {
            code: 429,
            body: json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}).to_string(),
            retry_after: Some("0".into()),
        });
    }
    mock.push(Reply::text("Thought: done\nFinal Answer: Waves."));
    let out = crew.ok(&["--run", &arg(&script), "--max-attempts", "2", "--json"]);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["attempt"], 2);
    let first = &e["attempt_errors"][0]["error"];
    assert_eq!((first["kind"].as_str(), first["retryable"].as_bool()), (Some("llm_rate_limited"), Some(true)), "{e:#}");
    assert_eq!(first["details"]["status"], 429);
    let pids: Vec<i64> = crew
        .logs(e["id"].as_str().unwrap())
        .iter()
        .filter(|l| l["data"]["pid"].is_i64())
        .map(|l| l["data"]["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "one process per attempt");
    assert_ne!(pids[0], pids[1], "the retry ran in a fresh process");
}

#[test]
fn a_retry_resumes_from_the_first_unfinished_task() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let root = project(&crew, "research_project");
    mock.push_for("Conduct a thorough research", Reply::text("Thought: done\nFinal Answer: - alpha\n- beta"));
    // reporting_task hits a rate limit CrewAI gives up on; the retry must not redo research_task.
    for _ in 0..CREWAI_OWN_429_RETRIES {
        mock.push_for(
            "turn it into a short report",
            Reply::Status {
                code: 429,
                body: json!({"error": {"message": "Rate limit reached"}}).to_string(),
                retry_after: Some("0".into()),
            },
        );
    }
    mock.push_for("turn it into a short report", Reply::text(json!({"title": "T", "audience": "a", "points": ["alpha"]}).to_string()));
    let out = crew.ok(&["--run", &arg(&root), "--engine", "crewai", "--max-attempts", "2", "--json"]);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((e["status"].as_str(), e["attempt"].as_u64()), (Some("succeeded"), Some(2)), "{e:#}");
    let research_prompts = mock.chat_requests().iter().filter(|r| r.raw_body.contains("Conduct a thorough research")).count();
    assert_eq!(research_prompts, 1, "research_task ran once, in attempt 1");
    let id = e["id"].as_str().unwrap();
    let st = steps(&crew, id);
    assert_eq!(st.iter().map(|s| s["step"].as_str().unwrap()).collect::<Vec<_>>(), ["research_task", "reporting_task"]);
    // The resumed task saw the stored output of the first as its context.
    let last = mock.chat_requests().into_iter().rev().find(|r| r.raw_body.contains("turn it into a short report")).unwrap();
    assert!(last.raw_body.contains("alpha"), "{}", last.raw_body);
    let lines = crew.logs(id);
    assert!(lines
        .iter()
        .any(|l| l["kind"] == "task_skipped" && l["attempt"] == 2 && l["message"].as_str().unwrap().contains("research_task")));
}

/// Requests CrewAI 1.15.30 makes for one LLM call that keeps answering 429 before it raises.
const CREWAI_OWN_429_RETRIES: usize = 27;

/// The pids of `root`'s descendants (from /proc).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
        parent_of.push((pid, ppid));
    }
    let mut out = vec![];
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (child, parent) in &parent_of {
            if *parent == p {
                out.push(*child);
                frontier.push(*child);
            }
        }
    }
    out
}

/// The attempt processes under `worker`: its grandchildren (the worker's child is the warm
/// server; each attempt is a process the server forked), live ones only.
fn attempt_processes(worker: u32) -> Vec<u32> {
    let servers: Vec<u32> = descendants(worker).into_iter().filter(|p| parent_of(*p) == Some(worker)).collect();
    servers.iter().flat_map(|s| descendants(*s)).filter(|p| alive(*p)).collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()
}

/// Whether `pid` is still a live process (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_gone(pids: &[u32], timeout: Duration) -> Vec<u32> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn cancel_timeout_and_a_killed_worker_leave_no_python_process() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    let script = crew.dir.path().join("script_crew.py");
    std::fs::copy(fixture("crewai/script_crew.py"), &script).unwrap();
    let mut worker = crew.spawn_logged("worker", &["worker", "--concurrency", "2"]);

    // 1. Cancel while the model call is held: the child goes, the warm server stays.
    mock.push(Reply::held(Reply::text("Final Answer: never")));
    let id = crew.ok(&["submit", &arg(&script), "--json"]);
    let id: Value = serde_json::from_str(&id).unwrap();
    let id = id["id"].as_str().unwrap().to_string();
    assert!(mock.wait_for_held(1, PROC_WAIT), "the crew's LLM call arrived");
    let child = attempt_processes(worker.id());
    assert_eq!(child.len(), 1, "one attempt process, forked by the server");
    let started = std::time::Instant::now();
    crew.ok(&["cancel", &id]);
    let e = crew.wait_status(&id, &["cancelled"], PROC_WAIT);
    assert_eq!(e["status"], "cancelled");
    assert!(wait_gone(&child, Duration::from_secs(5)).is_empty(), "the attempt's process was stopped");
    let took = started.elapsed();
    let left: Vec<(u32, String)> = descendants(worker.id())
        .into_iter()
        .filter(|p| alive(*p))
        .map(|p| (p, std::fs::read_to_string(format!("/proc/{p}/cmdline")).unwrap_or_default().replace('\0', " ")))
        .collect();
    assert_eq!(left.len(), 1, "only the warm server stays: {left:?}");
    eprintln!("cancel of a running CrewAI execution took {took:?} end to end (process gone)");
    mock.release();

    // 1b. A crew that does not stop on SIGTERM is killed after the grace period. (It ignores the
    // signal and keeps CrewAI's telemetry from installing its own handler, which would exit.)
    let stubborn = crew.write(
        "stubborn.py",
        &format!(
            "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal = lambda *a, **k: None\n{}",
            std::fs::read_to_string(&script).unwrap()
        ),
    );
    let calls = mock.chat_count();
    mock.push(Reply::delay(120_000, Reply::text("Final Answer: never")));
    let id = crew.json(&["submit", &arg(&stubborn), "--json"])["id"].as_str().unwrap().to_string();
    assert!(mock.wait_for_chat_count(calls + 1, PROC_WAIT), "the stubborn crew's LLM call arrived");
    let child = attempt_processes(worker.id());
    assert_eq!(child.len(), 1, "its attempt process runs");
    let started = std::time::Instant::now();
    crew.ok(&["cancel", &id]);
    crew.wait_status(&id, &["cancelled"], PROC_WAIT);
    assert!(alive(child[0]), "SIGTERM did not stop it");
    assert!(wait_gone(&child, Duration::from_secs(10)).is_empty(), "the child ignoring SIGTERM was killed");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "killed after the 2 s grace, not before: {took:?}");
    eprintln!("a child blocking SIGTERM was gone {took:?} after the cancel");

    // 2. A timeout stops the attempt the same way (kind `timeout`, not retried).
    let calls = mock.chat_count();
    mock.push(Reply::delay(120_000, Reply::text("Final Answer: never")));
    let timed = crew.json(&["submit", &arg(&script), "--timeout", "1500ms", "--json"]);
    assert!(mock.wait_for_chat_count(calls + 1, PROC_WAIT), "the timed crew's LLM call arrived");
    let running = attempt_processes(worker.id());
    assert_eq!(running.len(), 1);
    let e = crew.wait_status(timed["id"].as_str().unwrap(), &["failed"], PROC_WAIT);
    assert_eq!(e["error"]["kind"], "timeout", "{e:#}");
    assert!(wait_gone(&running, Duration::from_secs(5)).is_empty(), "the timed-out child is gone");

    // 3. SIGKILL of the worker mid-run: no Python process of it is left.
    let calls = mock.chat_count();
    mock.push(Reply::delay(120_000, Reply::text("Final Answer: never")));
    crew.ok(&["submit", &arg(&script), "--json"]);
    assert!(mock.wait_for_chat_count(calls + 1, PROC_WAIT), "the second crew's LLM call arrived");
    let pids = descendants(worker.id());
    assert!(pids.len() >= 2, "a server and its child: {pids:?}");
    worker.kill_hard();
    let left = wait_gone(&pids, Duration::from_secs(10));
    assert!(left.is_empty(), "Python processes left after the worker died: {left:?}");
}

#[test]
fn auto_picks_the_engine_as_described_and_validate_says_why() {
    let Some(python) = crewai_python() else { return };
    let mock = MockLlm::start();
    let crew = crew_with(&mock, &python);
    // A clean YAML crew: native, without probing Python.
    let clean = crew.json(&["validate", &arg(&fixture("cli/one-step.yaml")), "--json"]);
    assert_eq!(clean["engine"]["engine"], "native", "{clean:#}");
    // A YAML crew with something the native engine ignores stays native (translated, CrewAI would
    // get the same reduced crew), with the warning.
    let ignored = crew.write(
        "ignored.yaml",
        &std::fs::read_to_string(fixture("cli/one-step.yaml"))
            .unwrap()
            .replace("llm: openai/mock-model", "llm: openai/mock-model\nmemory: true"),
    );
    let v = crew.json(&["validate", &arg(&ignored), "--json"]);
    assert_eq!(v["engine"]["engine"], "native", "{v:#}");
    assert!(!v["warnings"].as_array().unwrap().is_empty(), "{v:#}");
    // A crew project with a custom tool the native engine drops: CrewAI, naming the Python.
    let root = project(&crew, "research_project");
    let v = crew.json(&["validate", &arg(&root), "--json"]);
    assert_eq!(v["engine"]["engine"], "crewai", "{v:#}");
    assert!(v["engine"]["reason"].as_str().unwrap().contains("CREW_RUNNER_PYTHON"), "{v:#}");
    assert_eq!(v["engine"]["python"]["crewai_version"], "1.15.30");
    // A script with no Python found: an invalid crew naming what was tried.
    let mut nopy = Crew::new(Some(&mock.base_url()));
    nopy.env.push(("CREW_RUNNER_PYTHON".into(), "/nonexistent/python".into()));
    let script = crew.dir.path().join("script_crew.py");
    std::fs::copy(fixture("crewai/script_crew.py"), &script).unwrap();
    let out = nopy.run(&["--run", &arg(&script)]);
    assert_eq!(out.status.code(), Some(2), "{}", harness::stderr_of(&out));
    let err = harness::stderr_of(&out);
    assert!(err.contains("/nonexistent/python (CREW_RUNNER_PYTHON): not found"), "{err}");
    assert!(err.contains("pip install crewai"), "{err}");
    nopy.assert_nothing_recorded();
}
