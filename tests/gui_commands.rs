//! The desktop app's commands through Tauri's mock runtime: arguments, results and the error JSON,
//! over a real database in a temp dir with the offline model. Also the events forwarded to the
//! page and the log followers behind the `follow_execution_logs` channel.
//!
//! Run: `cargo test --features gui-test --test gui_commands` (needs `ui/dist` built and webkit
//! headers installed, like any build of the `gui` feature).

mod support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crew_runner::app::AppPaths;
use crew_runner::execution::{ExecutionId, Status};
use crew_runner::gui::log_follow::LogStreamMessage;
use crew_runner::gui::{build_app, GuiState};
use crew_runner::llm::LlmEnv;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Listener, Manager, WebviewWindow, WebviewWindowBuilder};

/// An upper bound for things that happen within milliseconds; reaching it is a failure.
const GIVE_UP: Duration = Duration::from_secs(30);

struct Gui {
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
    app: App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
}

impl Gui {
    fn start() -> Gui {
        Gui::start_with(LlmEnv::default())
    }

    /// [`start`](Gui::start) with `env` as the process environment the app sees.
    fn start_with(env: LlmEnv) -> Gui {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let paths = AppPaths::resolve(Some(&data_dir)).unwrap();
        let app = build_app(mock_builder()).build(mock_context(noop_assets())).unwrap();
        crew_runner::gui::start(app.handle(), paths, env).unwrap();
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        Gui { _dir: dir, data_dir, app, webview }
    }

    /// Invokes `cmd` as the page would; `Ok(result)` or `Err(error JSON)`.
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, request).map(|b| b.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args.clone()).unwrap_or_else(|e| panic!("{cmd} {args}: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        match self.invoke(cmd, args.clone()) {
            Ok(v) => panic!("{cmd} {args} succeeded: {v}"),
            Err(e) => e,
        }
    }

    fn state(&self) -> tauri::State<'_, GuiState> {
        self.app.state::<GuiState>()
    }

    /// Waits (event-driven) for the execution to finish and returns it as `get_execution` does.
    fn wait(&self, id: &str) -> Value {
        let id: ExecutionId = id.parse().unwrap();
        let runner = self.state().runner.clone();
        tauri::async_runtime::block_on(async { tokio::time::timeout(GIVE_UP, runner.wait(&id)).await })
            .expect("execution finished in time")
            .unwrap();
        self.ok("get_execution", json!({"id": id}))
    }

    fn submit_offline(&self, crew: &Path, inputs: Value) -> Value {
        self.ok("submit_execution", json!({"request": {"crew": crew, "inputs": inputs, "llm": {"mode": "offline"}}}))
    }
}

impl Drop for Gui {
    fn drop(&mut self) {
        let _ = tauri::async_runtime::block_on(self.state().shutdown());
    }
}

fn example(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("examples").join(rel)
}

/// A one-task offline crew needing `topic` (no default).
fn crew_needing_topic(dir: &Path) -> PathBuf {
    let path = dir.join("needs-topic.yaml");
    std::fs::write(
        &path,
        "name: needs-topic\nllm: offline\nagents:\n  a:\n    role: Analyst\n    goal: Study {topic}\n    backstory: B\ntasks:\n  t1:\n    description: Write about {topic}\n    expected_output: A note\n    agent: a\n",
    )
    .unwrap();
    path
}

#[test]
fn errors_cross_as_kind_and_message() {
    let gui = Gui::start();
    let e = gui.err("get_execution", json!({"id": "nope"}));
    assert_eq!(e, json!({"kind": "invalid_argument", "message": "`nope` is not an execution id (expected a 26-character ULID)"}));
    let id = ExecutionId::new();
    let e = gui.err("get_execution", json!({"id": id}));
    assert_eq!(e, json!({"kind": "not_found", "message": format!("no execution with id `{id}`")}));
    let e = gui.err("validate_crew", json!({"path": gui.data_dir.join("missing.yaml")}));
    assert_eq!(e["kind"], "invalid_crew");
    assert_eq!(e.as_object().unwrap().len(), 2, "only kind and message: {e}");
}

#[test]
fn validate_crew_gives_the_inputs_form() {
    let gui = Gui::start();
    let report = gui.ok("validate_crew", json!({"path": example("blog-writer.yaml")}));
    assert_eq!(report["crew"]["name"], "blog_writer");
    assert_eq!(report["required_inputs"], json!([{"name": "subject", "default": "durable job queues"}]));
    assert!(report["warnings"].is_array());
}

#[test]
fn preview_crew_shows_the_engine_and_the_native_report() {
    let gui = Gui::start();
    let preview = gui.ok("preview_crew", json!({"path": example("blog-writer.yaml"), "engine": "native"}));
    assert_eq!(preview["engine"], json!({"engine": "native", "reason": "--engine native"}));
    assert_eq!(preview["report"]["crew"]["name"], "blog_writer");
    assert_eq!(preview["report"]["required_inputs"], json!([{"name": "subject", "default": "durable job queues"}]));
    assert_eq!(preview["python_crew"], Value::Null);
    // `auto` (the default) runs a crew the native engine loads whole on the native engine, without
    // looking for Python.
    let auto = gui.ok("preview_crew", json!({"path": crew_needing_topic(&gui.data_dir)}));
    assert_eq!(auto["engine"]["engine"], "native", "{auto}");
    assert!(auto["engine"]["reason"].as_str().unwrap().starts_with("auto: "), "{auto}");
    assert_eq!(auto["report"]["required_inputs"], json!([{"name": "topic", "default": null}]));
}

#[test]
fn preview_crew_refuses_the_native_engine_for_a_python_script() {
    let gui = Gui::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/crewai/script_crew.py");
    let e = gui.err("preview_crew", json!({"path": script, "engine": "native", "python": null}));
    assert_eq!(e["kind"], "engine", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{}: a Python script runs on the CrewAI engine only (--engine crewai or auto): ", script.display())),
        "{message}"
    );
    assert_eq!(e.as_object().unwrap().len(), 2, "only kind and message: {e}");
    // Submitting it the same way records nothing.
    let e = gui.err("submit_execution", json!({"request": {"crew": script, "engine": "native", "llm": {"mode": "offline"}}}));
    assert_eq!(e["kind"], "engine", "{e}");
    assert_eq!(gui.ok("list_executions", json!({})), json!({"executions": [], "next_before": null}));
}

/// A Python crew on CrewAI: no native report, its kind and entry instead. Needs a Python with
/// CrewAI (`CREW_RUNNER_TEST_PYTHON`, as `tests/integration/crewai_engine.rs`); skipped without one.
#[test]
fn preview_crew_shows_a_python_crew_on_crewai() {
    let Some(python) = std::env::var_os("CREW_RUNNER_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        assert!(std::env::var_os("CI").is_none(), "CI must set CREW_RUNNER_TEST_PYTHON (.ci/run installs CrewAI)");
        eprintln!("skipped: CREW_RUNNER_TEST_PYTHON is not set (a Python with crewai 1.15)");
        return;
    };
    let gui = Gui::start();
    let script = std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/crewai/script_crew.py")).unwrap();
    let preview = gui.ok("preview_crew", json!({"path": script, "python": python.to_string_lossy()}));
    assert_eq!(preview["engine"]["engine"], "crewai", "{preview}");
    assert!(preview["engine"]["reason"].as_str().unwrap().starts_with("auto: it is a Python script"), "{preview}");
    assert_eq!(preview["engine"]["python"]["source"], "--python", "{preview}");
    assert_eq!(preview["report"], Value::Null);
    assert_eq!(preview["python_crew"], json!({"kind": "script", "root": script.parent().unwrap(), "entry": script}));
}

#[test]
fn submit_on_the_native_engine_records_it() {
    let gui = Gui::start();
    let crew = crew_needing_topic(&gui.data_dir);
    let submitted = gui.ok(
        "submit_execution",
        json!({"request": {"crew": crew, "inputs": {"topic": "engines"}, "engine": "native", "python": "", "llm": {"mode": "offline"}}}),
    );
    let id = submitted["execution"]["id"].as_str().unwrap().to_string();
    assert_eq!(submitted["execution"]["engine"], "native");
    assert_eq!(submitted["warnings"], json!([]));
    let done = gui.wait(&id);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["engine"], "native");
    assert_eq!(done["crew_spec"]["tasks"][0]["key"], "t1");
}

#[test]
fn submit_runs_offline_to_a_stored_output_with_logs_and_steps() {
    let gui = Gui::start();
    let submitted = gui.submit_offline(&example("blog-writer.yaml"), json!({"subject": "queues"}));
    let id = submitted["execution"]["id"].as_str().unwrap().to_string();
    assert_eq!(submitted["execution"]["inputs"]["subject"], "queues");
    assert_eq!(submitted["execution"]["llm"]["model"], "offline");

    let done = gui.wait(&id);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(!done["output"].as_str().unwrap().is_empty());
    assert_eq!(done["crew_spec"]["name"], "blog_writer");

    let steps = gui.ok("get_execution_steps", json!({"id": id}));
    let keys: Vec<&str> = steps.as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");

    let logs = gui.ok("get_execution_logs", json!({"id": id}));
    let seqs: Vec<u64> = logs.as_array().unwrap().iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let tail = gui.ok("get_execution_logs", json!({"id": id, "after_seq": 2, "limit": 3}));
    let tail: Vec<u64> = tail.as_array().unwrap().iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(tail, [3, 4, 5]);
}

#[test]
fn missing_inputs_and_bad_arguments_are_refused_before_anything_is_recorded() {
    let gui = Gui::start();
    let crew = crew_needing_topic(&gui.data_dir);
    let e = gui.err("submit_execution", json!({"request": {"crew": crew, "llm": {"mode": "offline"}}}));
    assert_eq!(e["kind"], "missing_inputs", "{e}");
    assert!(e["message"].as_str().unwrap().contains("topic"));
    let e = gui.err("submit_execution", json!({"request": {"crew": crew, "inputs": {"topic": "x"}, "max_attempts": 0}}));
    assert_eq!(e["kind"], "invalid_argument");
    let e = gui.err("submit_execution", json!({"request": {"crew": crew, "inputs": {"topic": "x"}, "timeout_secs": -1}}));
    assert_eq!(e["kind"], "invalid_argument");
    let page = gui.ok("list_executions", json!({}));
    assert_eq!(page, json!({"executions": [], "next_before": null}));
}

#[test]
fn queue_controls_priority_cancel_list_and_retry() {
    let gui = Gui::start();
    assert_eq!(gui.ok("pause_queue", json!({})), json!({"paused": true, "concurrency": 4}));
    let crew = crew_needing_topic(&gui.data_dir);
    let a = gui.submit_offline(&crew, json!({"topic": "a"}))["execution"]["id"].as_str().unwrap().to_string();
    let b = gui.submit_offline(&crew, json!({"topic": "b"}))["execution"]["id"].as_str().unwrap().to_string();

    let queue = gui.ok("get_queue", json!({}));
    assert_eq!(queue["settings"]["paused"], true);
    assert_eq!(queue["counts"]["queued"], 2);
    assert_eq!(queue["halted"], serde_json::Value::Null, "the scheduler runs: {queue}");

    let changed = gui.ok("set_priority", json!({"id": a, "priority": "urgent"}));
    assert_eq!(changed["priority"], "urgent");
    let e = gui.err("set_priority", json!({"id": a, "priority": "extreme"}));
    assert_eq!(e["kind"], "invalid_argument", "{e}");

    // Newest first, paged, filtered; crew snapshots left out of lists.
    let page = gui.ok("list_executions", json!({"query": {"limit": 1}}));
    assert_eq!(page["executions"][0]["id"], b);
    assert_eq!(page["executions"][0]["crew_spec"], Value::Null);
    assert_eq!(page["next_before"], b);
    let page2 = gui.ok("list_executions", json!({"query": {"limit": 1, "before": b}}));
    assert_eq!(page2["executions"][0]["id"], a);

    assert_eq!(gui.ok("cancel_execution", json!({"id": b})), json!({"outcome": "cancelled"}));
    assert_eq!(gui.ok("cancel_execution", json!({"id": b})), json!({"outcome": "already_finished", "status": "cancelled"}));
    let e = gui.err("set_priority", json!({"id": b, "priority": "low"}));
    assert_eq!(e["kind"], "invalid_state", "{e}");
    let cancelled = gui.ok("list_executions", json!({"query": {"statuses": ["cancelled"]}}));
    assert_eq!(cancelled["executions"].as_array().unwrap().len(), 1);

    // A queued execution cannot be rerun; a cancelled one can, from a task.
    assert_eq!(gui.err("retry_execution", json!({"id": a}))["kind"], "invalid_state");
    assert_eq!(gui.err("retry_execution", json!({"id": b, "from_task": "nope"}))["kind"], "invalid_argument");
    let rerun = gui.ok("retry_execution", json!({"id": b, "from_task": "t1"}));
    assert_eq!(rerun["retry_of"], b);
    assert_eq!(rerun["status"], "queued");

    assert_eq!(gui.ok("resume_queue", json!({})), json!({"paused": false, "concurrency": 4}));
    assert_eq!(gui.wait(&a)["status"], "succeeded");
    assert_eq!(gui.wait(rerun["id"].as_str().unwrap())["status"], "succeeded");
}

#[test]
fn settings_never_send_the_key_back() {
    let gui = Gui::start();
    let s = gui.ok("get_settings", json!({}));
    assert_eq!(s["api_key_set"], false);
    assert_eq!(s["notify_on_finish"], true);
    assert_eq!(s["data_dir"], gui.data_dir.to_string_lossy().as_ref());
    assert!(s["providers"].as_array().unwrap().contains(&json!("openai")));

    let s = gui.ok(
        "set_settings",
        json!({"update": {"provider": "openai", "model": "gpt-4o-mini", "api_key": "sk-very-secret", "concurrency": 2, "notify_on_finish": false}}),
    );
    assert_eq!(s["api_key_set"], true);
    assert_eq!(s["concurrency"], 2);
    assert_eq!(s["model"], "gpt-4o-mini");
    assert!(!s.to_string().contains("sk-very-secret"));
    assert_eq!(gui.ok("get_queue", json!({}))["settings"]["concurrency"], 2);
    // The executor's environment has the key (the LLM client reads it there).
    let env = gui.state().executor.env();
    assert_eq!(env.vars.get("OPENAI_API_KEY").map(String::as_str), Some("sk-very-secret"));
    assert_eq!(env.vars.get("MODEL").map(String::as_str), Some("openai/gpt-4o-mini"));

    // Keep (absent), then clear ("").
    assert_eq!(gui.ok("set_settings", json!({"update": {"model": "gpt-4o"}}))["api_key_set"], true);
    assert_eq!(gui.ok("set_settings", json!({"update": {"api_key": ""}}))["api_key_set"], false);
    assert_eq!(gui.err("set_settings", json!({"update": {"concurrency": 0}}))["kind"], "invalid_argument");
}

/// A port nothing listens on now (the OS picked it; released at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_http_api_serves_the_apps_runner_while_enabled() {
    let gui = Gui::start();
    let off = gui.ok("get_settings", json!({}));
    assert_eq!(off["http_api"], json!({"enabled": false, "port": 8765, "url": null, "token": null, "error": null}));
    let e = gui.err("set_settings", json!({"update": {"http_api_enabled": true, "http_api_port": 0}}));
    assert_eq!(e, json!({"kind": "invalid_argument", "message": "the HTTP API port must be a number from 1 to 65535, not 0"}));
    assert_eq!(gui.ok("get_settings", json!({}))["http_api"]["enabled"], false, "nothing was saved");

    let port = free_port();
    let on = gui.ok("set_settings", json!({"update": {"http_api_enabled": true, "http_api_port": port}}));
    let url = format!("http://127.0.0.1:{port}");
    assert_eq!(on["http_api"]["url"], url, "{on}");
    assert_eq!(on["http_api"]["error"], Value::Null);
    let token = on["http_api"]["token"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(gui.data_dir.join("http-token")).unwrap().trim(), token);
    assert_eq!(gui.ok("get_settings", json!({}))["http_api"], on["http_api"]);

    let crew = std::fs::canonicalize(example("blog-writer.yaml")).unwrap();
    let submitted: Value = tauri::async_runtime::block_on(async {
        let http = reqwest::Client::new();
        let health = http.get(format!("{url}/v1/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
        let anonymous = http.get(format!("{url}/v1/queue")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let queue = http.get(format!("{url}/v1/queue")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(queue.status(), 200);
        assert_eq!(queue.json::<Value>().await.unwrap()["settings"]["concurrency"], 4);
        let body = json!({"crew": crew, "inputs": {"subject": "in-app servers"}, "model": "offline"});
        let submitted = http.post(format!("{url}/v1/executions")).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(submitted.status(), 201);
        submitted.json().await.unwrap()
    });
    // Submitted over HTTP, run by the app's scheduler.
    let id = submitted["ids"][0].as_str().unwrap_or_else(|| panic!("{submitted}"));
    assert_eq!(gui.wait(id)["status"], "succeeded");

    let off = gui.ok("set_settings", json!({"update": {"http_api_enabled": false}}));
    assert_eq!(off["http_api"], json!({"enabled": false, "port": port, "url": null, "token": null, "error": null}));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the server is closed");
}

#[test]
fn http_submissions_are_checked_with_the_llm_settings() {
    let gui = Gui::start();
    gui.ok("pause_queue", json!({}));
    let on = gui.ok("set_settings", json!({"update": {"http_api_enabled": true, "http_api_port": free_port()}}));
    let (url, token) = (on["http_api"]["url"].as_str().unwrap().to_string(), on["http_api"]["token"].as_str().unwrap().to_string());
    let crew = std::fs::canonicalize(example("blog-writer.yaml")).unwrap();
    let submit = || {
        tauri::async_runtime::block_on(async {
            let body = json!({"crew": crew, "model": "openai/gpt-4o-mini"});
            let r = reqwest::Client::new().post(format!("{url}/v1/executions")).bearer_auth(&token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    };
    // The app's environment has no OpenAI key (Gui::start gives an empty one) …
    let (status, refused) = submit();
    assert_eq!((status, refused["kind"].as_str()), (400, Some("model")), "{refused}");
    // … until Settings has one.
    gui.ok("set_settings", json!({"update": {"provider": "openai", "api_key": "sk-from-settings"}}));
    let (status, accepted) = submit();
    assert_eq!(status, 201, "{accepted}");
}

#[test]
fn a_port_in_use_is_shown_not_fatal() {
    let gui = Gui::start();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let s = gui.ok("set_settings", json!({"update": {"http_api_enabled": true, "http_api_port": port}}));
    assert_eq!(s["http_api"]["enabled"], true);
    assert_eq!(s["http_api"]["url"], Value::Null);
    let error = s["http_api"]["error"].as_str().unwrap();
    assert!(error.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")), "{error}");
    // Saving again once the port is free starts it.
    drop(taken);
    let s = gui.ok("set_settings", json!({"update": {}}));
    assert_eq!(s["http_api"]["url"], format!("http://127.0.0.1:{port}"), "{s}");
}

#[test]
fn crews_are_imported_into_the_library() {
    let gui = Gui::start();
    assert_eq!(gui.ok("list_crews", json!({})), json!([]));
    let entry = gui.ok("import_crew", json!({"path": example("research-crew")}));
    assert_eq!(entry["name"], "research-crew");
    assert_eq!(entry["folder"], true);
    let list = gui.ok("list_crews", json!({}));
    assert_eq!(list, json!([entry]));
    assert_eq!(
        gui.ok("validate_crew", json!({"path": entry["path"]}))["crew"]["name"],
        gui.ok("validate_crew", json!({"path": example("research-crew")}))["crew"]["name"]
    );
    let bad = gui.data_dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\n").unwrap();
    assert_eq!(gui.err("import_crew", json!({"path": bad}))["kind"], "invalid_crew");
    assert_eq!(gui.ok("pick_crew", json!({"folder": true})), Value::Null, "the mock has no dialog: cancelled");
}

#[test]
fn scheduler_events_reach_the_page() {
    let gui = Gui::start();
    let (tx, rx) = mpsc::channel::<Value>();
    gui.app.listen_any(crew_runner::gui::events::EXECUTION_EVENT, move |event| {
        let _ = tx.send(serde_json::from_str(event.payload()).unwrap());
    });
    let id = gui.submit_offline(&example("blog-writer.yaml"), json!({}))["execution"]["id"].as_str().unwrap().to_string();
    let mut statuses = Vec::new();
    let mut progressed = false;
    while statuses.last().map(String::as_str) != Some("succeeded") {
        let event = rx.recv_timeout(GIVE_UP).expect("an event");
        match event["type"].as_str() {
            Some("state") if event["id"] == id => statuses.push(event["state"]["status"].as_str().unwrap().to_string()),
            Some("progress") if event["id"] == id => progressed = true,
            _ => {}
        }
    }
    assert_eq!(statuses, ["queued", "running", "succeeded"]);
    assert!(progressed);
    gui.ok("pause_queue", json!({}));
    let queue_event = std::iter::from_fn(|| rx.recv_timeout(GIVE_UP).ok()).find(|e| e["type"] == "queue").unwrap();
    assert_eq!(queue_event, json!({"type": "queue", "paused": true, "concurrency": 4}));
}

#[test]
fn streamed_tokens_reach_the_page_in_batches_a_restart_per_llm_call() {
    let gui = Gui::start();
    let (tx, rx) = mpsc::channel::<(String, Value)>();
    for name in [crew_runner::gui::events::TOKENS_EVENT, crew_runner::gui::events::EXECUTION_EVENT] {
        let tx = tx.clone();
        gui.app.listen_any(name, move |event| {
            let _ = tx.send((name.to_string(), serde_json::from_str(event.payload()).unwrap()));
        });
    }
    let id = gui.submit_offline(&example("blog-writer.yaml"), json!({}))["execution"]["id"].as_str().unwrap().to_string();
    let done = gui.wait(&id);
    let calls = done["usage"]["llm_calls"].as_u64().unwrap();
    let steps = gui.ok("get_execution_steps", json!({"id": id}));
    let output = steps.as_array().unwrap().iter().find(|s| s["step"] == "write_post").unwrap()["output"].as_str().unwrap().to_string();
    // Batches go out at most THROTTLE after their text: gather until the last answer is complete.
    let write_post_answer = |batches: &[Value]| -> Option<String> {
        let last = batches.iter().rposition(|b| b["task"] == "write_post" && b["restart"] == true)?;
        Some(batches[last..].iter().filter(|b| b["task"] == "write_post").map(|b| b["text"].as_str().unwrap()).collect())
    };
    let mut batches: Vec<Value> = Vec::new();
    while batches.iter().filter(|b| b["restart"] == true).count() < calls as usize
        || !write_post_answer(&batches).is_some_and(|a| a.contains(output.lines().next().unwrap()))
    {
        let (name, payload) = rx.recv_timeout(GIVE_UP).unwrap_or_else(|_| panic!("the streamed answers never completed: {batches:?}"));
        if name == crew_runner::gui::events::TOKENS_EVENT {
            batches.extend(payload.as_array().expect("a list of batches").iter().filter(|b| b["id"] == id).cloned());
        }
    }
    let restarts = batches.iter().filter(|b| b["restart"] == true).count() as u64;
    assert_eq!(restarts, calls, "one restart mark per LLM call: {batches:?}");
    assert!(batches.iter().all(|b| b["restart"] == true || !b["text"].as_str().unwrap().is_empty()));
    // Each call's batches follow each other: every offset is the answer's length before it.
    let mut lengths: std::collections::HashMap<String, u64> = Default::default();
    for b in &batches {
        let length = lengths.entry(b["task"].to_string()).or_default();
        if b["restart"] == true {
            *length = 0;
        }
        assert_eq!(b["offset"].as_u64(), Some(*length), "{b}");
        *length += b["text"].as_str().unwrap().encode_utf16().count() as u64;
    }
}

#[test]
fn log_followers_stream_every_line_once_then_end() {
    let gui = Gui::start();
    gui.ok("pause_queue", json!({}));
    let id = gui.submit_offline(&example("blog-writer.yaml"), json!({}))["execution"]["id"].as_str().unwrap().to_string();
    let parsed: ExecutionId = id.parse().unwrap();

    let (tx, rx) = mpsc::channel::<LogStreamMessage>();
    let state = gui.state();
    let sub = {
        tauri::async_runtime::block_on(async {
            state
                .followers
                .follow(state.runner.follow_logs(&parsed.clone(), 0).with_recheck(Duration::from_millis(50)), move |m| tx.send(m).is_ok())
        })
    };
    assert!(sub > 0);
    gui.ok("resume_queue", json!({}));

    let mut seqs = Vec::new();
    let end = loop {
        match rx.recv_timeout(GIVE_UP).expect("a message") {
            LogStreamMessage::Lines { entries } => seqs.extend(entries.iter().map(|e| e.seq)),
            LogStreamMessage::End { status } => break status,
            LogStreamMessage::Error { message } => panic!("{message}"),
            LogStreamMessage::Orphaned { owner } => panic!("orphaned under {owner}"),
        }
    };
    assert_eq!(end, Status::Succeeded);
    let stored = gui.ok("get_execution_logs", json!({"id": id}));
    assert_eq!(seqs, (1..=stored.as_array().unwrap().len() as u64).collect::<Vec<_>>());
    assert_eq!(rx.recv_timeout(GIVE_UP).ok(), None, "nothing after end");
    assert!(!state.followers.stop(sub), "it ended by itself");
}

#[test]
fn following_from_a_seq_skips_what_the_page_has_and_can_be_stopped() {
    let gui = Gui::start();
    let id = gui.submit_offline(&example("blog-writer.yaml"), json!({}))["execution"]["id"].as_str().unwrap().to_string();
    gui.wait(&id);
    let total = gui.ok("get_execution_logs", json!({"id": id})).as_array().unwrap().len() as u64;
    let (tx, rx) = mpsc::channel::<LogStreamMessage>();
    let state = gui.state();
    tauri::async_runtime::block_on(async {
        state
            .followers
            .follow(state.runner.follow_logs(&id.parse().unwrap(), total - 2).with_recheck(Duration::from_millis(50)), move |m| {
                tx.send(m).is_ok()
            })
    });
    match rx.recv_timeout(GIVE_UP).unwrap() {
        LogStreamMessage::Lines { entries } => assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [total - 1, total]),
        other => panic!("{other:?}"),
    }
    assert_eq!(rx.recv_timeout(GIVE_UP).unwrap(), LogStreamMessage::End { status: Status::Succeeded });

    // A follower of a queued execution runs until stopped.
    gui.ok("pause_queue", json!({}));
    let queued = gui.submit_offline(&example("blog-writer.yaml"), json!({}))["execution"]["id"].as_str().unwrap().to_string();
    let (tx2, rx2) = mpsc::channel::<LogStreamMessage>();
    let sub = {
        tauri::async_runtime::block_on(async {
            state
                .followers
                .follow(state.runner.follow_logs(&queued.parse().unwrap(), 0).with_recheck(Duration::from_millis(50)), move |m| {
                    tx2.send(m).is_ok()
                })
        })
    };
    assert!(matches!(rx2.recv_timeout(GIVE_UP).unwrap(), LogStreamMessage::Lines { .. }), "the submitted line");
    assert!(state.followers.stop(sub));
    assert_eq!(rx2.recv_timeout(GIVE_UP).err(), Some(mpsc::RecvTimeoutError::Disconnected), "the sink is dropped when stopped");
    assert_eq!(gui.ok("unfollow_execution_logs", json!({"subscription": sub})), false);
}

/// Runs the real binary (another process) on the app's data dir; panics unless it succeeds.
fn cli(data_dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crew-runner"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("crew-runner runs");
    assert!(out.status.success(), "crew-runner {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn another_processs_submit_and_cancel_refresh_the_page_and_nothing_else_does() {
    let gui = Gui::start();
    let (tx, rx) = mpsc::channel::<()>();
    gui.app.listen_any(crew_runner::gui::events::STORE_CHANGED_EVENT, move |_| {
        let _ = tx.send(());
    });
    // Paused, so this process's scheduler does not claim what the CLI submits.
    gui.ok("pause_queue", json!({}));
    // Our own writes come as execution events; an idle store says nothing.
    assert!(rx.recv_timeout(Duration::from_millis(2500)).is_err(), "store-changed without another process");

    let crew = example("blog-writer.yaml");
    let id = cli(&gui.data_dir, &["submit", crew.to_str().unwrap(), "--model", "offline", "--quiet"]).trim().to_string();
    rx.recv_timeout(GIVE_UP).expect("store-changed after another process's submit");
    let page = gui.ok("list_executions", json!({}));
    assert_eq!(page["executions"][0]["id"], id, "{page}");
    assert!(rx.recv_timeout(Duration::from_millis(2500)).is_err(), "told once");

    cli(&gui.data_dir, &["cancel", &id]);
    rx.recv_timeout(GIVE_UP).expect("store-changed after another process's cancel");
    assert_eq!(gui.ok("get_execution", json!({"id": id}))["status"], "cancelled");
}

#[test]
fn a_cli_worker_runs_an_app_queued_execution_with_the_apps_settings() {
    let mock = support::MockLlm::start();
    let gui = Gui::start();
    // The Settings view's model, key and endpoint; the queue paused so the app does not run it.
    gui.ok(
        "set_settings",
        json!({"update": {"provider": "openai", "base_url": mock.base_url(), "model": "settings-model", "api_key": "sk-from-settings"}}),
    );
    gui.ok("pause_queue", json!({}));
    let crew = gui.data_dir.parent().unwrap().join("no-model.yaml");
    std::fs::write(
        &crew,
        "name: no_model\nagents:\n  w:\n    role: W\n    goal: G\n    backstory: B\ntasks:\n  t:\n    description: Say hi.\n    expected_output: A greeting.\n    agent: w\n",
    )
    .unwrap();
    let submitted = gui.ok("submit_execution", json!({"request": {"crew": crew, "llm": {"mode": "configured"}}}));
    let id = submitted["execution"]["id"].as_str().unwrap().to_string();
    tauri::async_runtime::block_on(gui.state().shutdown()).unwrap();

    // A CLI worker on the same data dir, with no LLM variables of its own.
    let worker = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_crew-runner"))
            .arg("--data-dir")
            .arg(&gui.data_dir)
            .args(args)
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_API_BASE")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("MODEL")
            .output()
            .expect("crew-runner runs");
        assert!(out.status.success(), "crew-runner {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    worker(&["resume"]);
    worker(&["worker", "--until-idle"]);
    let status: Value = serde_json::from_str(&worker(&["status", &id, "--json"])).unwrap();
    assert_eq!(status["status"], "succeeded", "{status:#}");
    let request = mock.chat_requests().into_iter().last().expect("the worker called the app's endpoint");
    assert_eq!(request.header("authorization"), Some("Bearer sk-from-settings"));
    assert_eq!(request.body["model"], "settings-model");
}

#[test]
fn a_review_waits_notifies_and_is_answered_from_the_page() {
    let gui = Gui::start();
    let (tx, rx) = mpsc::channel::<(String, String)>();
    gui.app.listen_any(crew_runner::gui::events::NOTIFICATION_EVENT, move |e| {
        let _ = tx.send(serde_json::from_str(e.payload()).unwrap());
    });
    let crew = gui.data_dir.parent().unwrap().join("reviewed.yaml");
    std::fs::write(
        &crew,
        "name: reviewed\nllm: offline\nagents:\n  w:\n    role: Writer\n    goal: Write\n    backstory: B\n\
         tasks:\n  write:\n    description: Write about owls\n    expected_output: A note\n    agent: w\n    human_input: true\n",
    )
    .unwrap();
    let id = gui.submit_offline(&crew, json!({}))["execution"]["id"].as_str().unwrap().to_string();
    let settled = |gui: &Gui| -> Value {
        let runner = gui.state().runner.clone();
        let id: ExecutionId = id.parse().unwrap();
        tauri::async_runtime::block_on(async { tokio::time::timeout(GIVE_UP, runner.wait_settled(&id)).await }).expect("in time").unwrap();
        gui.ok("get_execution", json!({"id": id}))
    };

    let first = settled(&gui);
    assert_eq!(first["status"], "awaiting_input", "{first:#}");
    assert_eq!((first["request"]["task"].as_str(), first["request"]["round"].as_u64()), (Some("write"), Some(1)));
    let (title, body) = rx.recv_timeout(GIVE_UP).expect("a notification when the run starts waiting");
    assert_eq!(title, "reviewed awaits your review");
    assert!(body.contains("`write`") && body.contains(&id), "{body}");
    let queue = gui.ok("get_queue", json!({}));
    assert_eq!(queue["counts"]["awaiting_input"], 1, "{queue}");
    assert_eq!(gui.ok("list_executions", json!({"query": {"statuses": ["awaiting_input"]}}))["executions"][0]["id"], id);

    // Feedback: revised (the offline model answers from its prompt, which now holds the feedback).
    let queued = gui.ok("answer_execution", json!({"id": id, "feedback": "Mention barn owls."}));
    assert_eq!(queued["status"], "queued");
    let second = settled(&gui);
    assert_eq!((second["status"].as_str(), second["request"]["round"].as_u64()), (Some("awaiting_input"), Some(2)), "{second:#}");
    assert_ne!(second["request"]["draft"], first["request"]["draft"], "the revision differs");

    // Accepted: finished with the reviewed answer.
    gui.ok("answer_execution", json!({"id": id, "feedback": null}));
    let done = gui.wait(&id);
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["output"], second["request"]["draft"]);
    let refused = gui.err("answer_execution", json!({"id": id, "feedback": "late"}));
    assert_eq!(refused["kind"], "invalid_state", "{refused}");
}

/// The node of `graph` with `id`.
fn graph_node<'a>(graph: &'a Value, id: &str) -> &'a Value {
    graph["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap_or_else(|| panic!("no node {id} in {graph}"))
}

#[test]
fn preview_crew_draws_each_format_as_a_graph_with_warnings_on_their_nodes() {
    let gui = Gui::start();
    let single = gui.ok("preview_crew", json!({"path": example("blog-writer.yaml"), "engine": "native"}));
    let graph = &single["graph"];
    assert_eq!(graph["async_groups"], json!([{"tasks": ["task:market_research", "task:tech_research"]}]));
    assert_eq!(graph_node(graph, "agent:writer")["label"], "Technical Writer");
    assert!(
        graph["edges"].as_array().unwrap().contains(&json!({"from": "agent:writer", "to": "tool:write_file", "kind": "uses"})),
        "{graph}"
    );

    let project = gui.ok("preview_crew", json!({"path": example("research-crew"), "engine": "native"}));
    assert_eq!(graph_node(&project["graph"], "task:reporting_task")["kind"], "task");
    let edges = project["graph"]["edges"].as_array().unwrap();
    assert!(
        edges.contains(&json!({"from": "task:research_task", "to": "task:reporting_task", "kind": "context", "note": "all earlier tasks"}))
    );

    let hierarchical = gui.ok("preview_crew", json!({"path": example("support-graph.json"), "engine": "native"}));
    let graph = &hierarchical["graph"];
    assert_eq!(graph_node(graph, "manager")["kind"], "manager");
    assert!(
        graph["edges"].as_array().unwrap().contains(&json!({"from": "manager", "to": "agent:engineer", "kind": "delegates"})),
        "{graph}"
    );

    let warned = gui.data_dir.join("warned.yaml");
    std::fs::write(
        &warned,
        "name: warned\nllm: offline\nagents:\n  a: {role: A, goal: G, backstory: B, tools: [MagicTool]}\n  \
         b: {role: B, goal: G, backstory: B}\ntasks:\n  t: {description: D, expected_output: E, agent: b}\n",
    )
    .unwrap();
    let preview = gui.ok("preview_crew", json!({"path": warned, "engine": "native"}));
    let on_a = graph_node(&preview["graph"], "agent:a")["warnings"].as_array().unwrap().clone();
    assert!(on_a.iter().any(|w| w["message"].as_str().unwrap().contains("MagicTool")), "{preview}");
    assert_eq!(graph_node(&preview["graph"], "agent:b")["warnings"], json!([]));
    assert_eq!(graph_node(&preview["graph"], "task:t")["warnings"], json!([]));
}

#[test]
fn get_execution_graph_draws_the_stored_crew() {
    let gui = Gui::start();
    let submitted = gui.submit_offline(&example("blog-writer.yaml"), json!({}));
    let id = submitted["execution"]["id"].as_str().unwrap().to_string();
    assert_eq!(gui.wait(&id)["status"], "succeeded");
    let graph = gui.ok("get_execution_graph", json!({"id": id}));
    let tasks: Vec<&str> =
        graph["nodes"].as_array().unwrap().iter().filter(|n| n["kind"] == "task").map(|n| n["key"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["market_research", "tech_research", "write_post"]);
    assert_eq!(graph["warnings"], json!([]));
    let missing = gui.err("get_execution_graph", json!({"id": "01J00000000000000000000000"}));
    assert_eq!(missing["kind"], "not_found", "{missing}");
}

#[test]
fn the_environment_wins_over_settings_and_the_view_names_the_variable() {
    let mut env = LlmEnv::default();
    env.vars.insert("OPENAI_API_KEY".into(), "sk-from-env".into());
    let gui = Gui::start_with(env);
    let s = gui.ok("set_settings", json!({"update": {"provider": "openai", "model": "gpt-4o", "api_key": "sk-from-settings"}}));
    assert_eq!(s["env_overrides"], json!({"llm.api_key": "OPENAI_API_KEY"}), "{s}");
    assert_eq!(s["api_key_storage"], "file", "an explicit data dir keeps the key beside its settings");
    assert_eq!(s["config_file"], gui.data_dir.join("settings.json").to_string_lossy().as_ref());
    let env = gui.state().executor.env();
    assert_eq!(env.vars.get("OPENAI_API_KEY").map(String::as_str), Some("sk-from-env"), "the environment wins, in the app too");
    assert_eq!(env.vars.get("MODEL").map(String::as_str), Some("openai/gpt-4o"), "the settings fill the rest");
}

#[test]
fn settings_show_what_crew_runner_config_set() {
    let gui = Gui::start();
    gui.ok("set_settings", json!({"update": {"model": "from-app"}}));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crew-runner"))
        .arg("--data-dir")
        .arg(&gui.data_dir)
        .args(["config", "set", "llm.model", "from-cli"])
        .env_remove("CREW_RUNNER_CONFIG_DIR")
        .output()
        .expect("crew-runner runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(gui.ok("get_settings", json!({}))["model"], "from-cli", "one configuration for both faces");
}

#[test]
fn compare_executions_shows_the_first_task_whose_output_differs() {
    let gui = Gui::start();
    let crew = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/gui/compare-topic.yaml");
    let run = |topic: &str| {
        let id = gui.submit_offline(&crew, json!({"topic": topic}))["execution"]["id"].as_str().unwrap().to_string();
        assert_eq!(gui.wait(&id)["status"], "succeeded");
        id
    };
    let (a, b) = (run("job queues"), run("file locks"));
    let c = gui.ok("compare_executions", json!({"a": a, "b": b}));
    assert_eq!((c["a"]["id"].as_str(), c["b"]["id"].as_str()), (Some(a.as_str()), Some(b.as_str())));
    assert_eq!(c["a"]["inputs"], json!({"topic": "job queues"}));
    assert_eq!(c["b"]["models"], json!(["offline"]));
    let tasks: Vec<(&str, bool)> =
        c["tasks"].as_array().unwrap().iter().map(|t| (t["task"].as_str().unwrap(), t["differs"].as_bool().unwrap())).collect();
    assert_eq!(tasks, [("outline", false), ("article", true)], "{c:#}");
    assert_eq!(c["first_difference"], "article");
    let segments = c["tasks"][1]["diff"]["segments"].as_array().unwrap();
    let text = |op: &str| segments.iter().filter(|s| s["op"] == op).map(|s| s["text"].as_str().unwrap()).collect::<String>();
    assert!(text("delete").to_lowercase().contains("queues") && text("insert").to_lowercase().contains("locks"), "{segments:#?}");

    let other = gui.submit_offline(&example("blog-writer.yaml"), json!({"subject": "x"}))["execution"]["id"].as_str().unwrap().to_string();
    let e = gui.err("compare_executions", json!({"a": a, "b": other}));
    assert_eq!(e["kind"], "invalid_argument", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("`compare_topic`") && message.contains("`blog_writer`"), "{message}");
    let unknown = ExecutionId::new().to_string();
    let e = gui.err("compare_executions", json!({"a": a, "b": unknown}));
    assert_eq!(e, json!({"kind": "not_found", "message": format!("no execution with id `{unknown}`")}));
}

#[test]
fn get_execution_trace_and_get_trace_call_show_the_runs_calls() {
    let gui = Gui::start();
    let submitted = gui.submit_offline(&example("blog-writer.yaml"), json!({}));
    let id = submitted["execution"]["id"].as_str().unwrap().to_string();
    assert_eq!(gui.wait(&id)["status"], "succeeded");
    let trace = gui.ok("get_execution_trace", json!({"id": id}));
    assert_eq!((trace["execution_id"].as_str(), trace["payloads"].as_str()), (Some(id.as_str()), Some("full")));
    let spans = trace["spans"].as_array().unwrap();
    let tasks: Vec<&str> = spans.iter().filter(|s| s["kind"] == "task").map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["market_research", "tech_research", "write_post"], "{trace:#}");
    let llm: Vec<&Value> = spans.iter().filter(|s| s["kind"] == "llm_call").collect();
    assert!(!llm.is_empty() && llm.iter().all(|s| s["parent"].is_u64() && s["status"] == "ok" && s["call"].is_u64()), "{trace:#}");
    assert_eq!(trace["totals"]["llm_calls"].as_u64(), Some(llm.len() as u64));

    let call = gui.ok("get_trace_call", json!({"id": id, "call": llm[0]["call"]}));
    assert_eq!(call["model"], "offline");
    assert_eq!(call["messages"][0]["role"], "system");
    assert!(!call["response"]["content"].as_str().unwrap().is_empty(), "{call:#}");
    let missing = gui.err("get_trace_call", json!({"id": id, "call": 1}));
    assert_eq!(missing["kind"], "not_found", "{missing}");
    let unknown = gui.err("get_execution_trace", json!({"id": ExecutionId::new().to_string()}));
    assert_eq!(unknown["kind"], "not_found", "{unknown}");
}
