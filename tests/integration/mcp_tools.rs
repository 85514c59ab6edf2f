//! Tools for native crews through the real binary, against the mock LLM: MCP servers (the real
//! `@modelcontextprotocol/server-everything`, over stdio and over streamable HTTP), cancel
//! stopping an MCP server's whole process group, a replay that starts no server, `validate`
//! listing a server's tools, and command tools (JSON on stdin, timeout, output cap).
//!
//! server-everything is installed by `.ci/run` (npm, into a cache folder) and found through
//! `CREW_RUNNER_MCP_EVERYTHING` (its `dist/index.js`) or that cache folder. Without it the MCP
//! tests fail under CI (`CI=true`) and are skipped, saying so, elsewhere.

use crate::harness;
use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use harness::{arg, fixture, Crew, PROC_WAIT};
use serde_json::{json, Value};
use support::{MockLlm, Reply};

/// server-everything's entry point, or `None` (skip) outside CI when it is not installed.
fn everything_server() -> Option<PathBuf> {
    let path = match std::env::var_os("CREW_RUNNER_MCP_EVERYTHING") {
        Some(p) => PathBuf::from(p),
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            home.join(".cache/crew-runner/mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
        }
    };
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "server-everything is not installed at {} (CI installs it in .ci/run; or set CREW_RUNNER_MCP_EVERYTHING)",
        path.display()
    );
    eprintln!("skipped: server-everything is not installed at {} (run .ci/run's npm step)", path.display());
    None
}

/// A crew file in its own folder (the workspace), with the mock's model.
fn crew_file(crew: &Crew, body: &str) -> PathBuf {
    crew.write("crew/crew.yaml", &format!("name: tooled\nllm: openai/mock-model\n{body}"))
}

/// One agent `a` (with `extra` agent fields) doing one task `t`.
fn agent_and_task(extra: &str) -> String {
    format!(
        "agents:\n  a:\n    role: Tool user\n    goal: Use tools\n    backstory: Knows them.\n{extra}tasks:\n  t:\n    \
         description: Use the tools.\n    expected_output: What they said.\n    agent: a\n"
    )
}

/// The only execution's id.
fn only_id(crew: &Crew) -> String {
    let list = crew.executions();
    assert_eq!(list.len(), 1, "{list:?}");
    list[0]["id"].as_str().unwrap().to_string()
}

/// The `tool_call` lines of an execution's log.
fn tool_calls(crew: &Crew, id: &str) -> Vec<Value> {
    crew.logs(id).into_iter().filter(|l| l["kind"] == "tool_call").collect()
}

/// The `tool` messages of the last chat request, in order.
fn tool_results(mock: &MockLlm) -> Vec<String> {
    mock.chat_requests().last().expect("a chat request").tool_results()
}

fn offered_tools(request: &support::RecordedRequest) -> Vec<String> {
    request.body["tools"]
        .as_array()
        .map(|t| t.iter().map(|d| d["function"]["name"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn a_stdio_mcp_tool_is_called_logged_and_replayed_without_the_server() {
    let Some(server) = everything_server() else { return };
    let mock = MockLlm::start();
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("MCP_NODE".into(), "node".into()));
    let servers = format!("mcp_servers:\n  everything:\n    command: \"${{MCP_NODE}}\"\n    args: [\"{}\", stdio]\n", server.display());
    let file = crew_file(&crew, &format!("{servers}{}", agent_and_task("    mcps: [\"everything#echo\"]\n")));
    mock.push(Reply::tool_call("echo", json!({"message": "hello over stdio"})));
    mock.push(Reply::text("It said hello."));
    let record = crew.dir.path().join("rec.jsonl");
    let out = crew.outcome(&["run", &arg(&file), "--record", &arg(&record)]);
    assert_eq!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);

    let requests = mock.chat_requests();
    assert_eq!(offered_tools(&requests[0]), ["echo"], "`#echo` offers that tool only");
    assert_eq!(tool_results(&mock), ["Echo: hello over stdio"]);
    let id = only_id(&crew);
    let calls = tool_calls(&crew, &id);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["data"]["tool"], "echo");
    assert_eq!(calls[0]["data"]["output"], "Echo: hello over stdio");

    // The replay serves the recorded result: no server is started (MCP_NODE is unset, so starting
    // it would fail on `${MCP_NODE}`), and the model is not asked again.
    let asked = mock.chat_count();
    crew.env.retain(|(k, _)| k != "MCP_NODE");
    let out = crew.outcome(&["run", &arg(&file), "--replay", &arg(&record), "--json"]);
    assert_eq!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert_eq!(mock.chat_count(), asked, "the replay did not reach the model");
    let replayed = crew.executions().into_iter().find(|e| e["id"] != id.as_str()).expect("the replayed execution");
    let calls = tool_calls(&crew, replayed["id"].as_str().unwrap());
    assert_eq!(calls[0]["data"]["output"], "Echo: hello over stdio");
    assert!(!crew.logs(replayed["id"].as_str().unwrap()).iter().any(|l| l["message"].as_str().unwrap_or("").contains("MCP server")));
}

/// server-everything over streamable HTTP on a free loopback port; stopped when dropped.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start(server: &Path) -> HttpServer {
        // The OS picks a free port; the server is then told to listen on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("node")
            .arg(server)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("listening on port") => break,
                Some(Ok(_)) => {}
                other => panic!("server-everything did not start over HTTP: {other:?}"),
            }
        }
        // Keep draining its stderr so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        HttpServer { child, url: format!("http://127.0.0.1:{port}/mcp") }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_http_mcp_tool_is_called_and_validate_lists_the_servers_tools() {
    let Some(server) = everything_server() else { return };
    let http = HttpServer::start(&server);
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let servers = format!("mcp_servers:\n  remote:\n    url: \"{}\"\n    headers: {{X-Test: yes}}\n", http.url);
    let file = crew_file(&crew, &format!("{servers}{}", agent_and_task("    mcps: [remote]\n")));

    let report = crew.json(&["validate", &arg(&file), "--json"]);
    let tools = &report["mcp_servers"][0]["tools"];
    assert!(tools.get("echo").is_some() && tools.get("get-sum").is_some(), "{report}");
    let offline = crew.json(&["validate", &arg(&file), "--json", "--offline"]);
    assert!(offline.get("mcp_servers").is_none(), "--offline connects to nothing: {offline}");

    mock.push(Reply::tool_call("get-sum", json!({"a": 2, "b": 3})));
    mock.push(Reply::text("Five."));
    let out = crew.outcome(&["run", &arg(&file)]);
    assert_eq!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    let offered = offered_tools(&mock.chat_requests()[0]);
    assert!(offered.contains(&"echo".to_string()) && offered.contains(&"get-sum".to_string()), "all its tools: {offered:?}");
    let results = tool_results(&mock);
    assert_eq!(results.len(), 1);
    assert!(results[0].contains('5'), "{results:?}");
    let calls = tool_calls(&crew, &only_id(&crew));
    assert_eq!(calls[0]["data"]["tool"], "get-sum");
}

#[test]
fn a_server_that_fails_to_start_fails_the_task_naming_it_and_its_stderr() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let servers = "mcp_servers:\n  broken:\n    command: sh\n    args: [\"-c\", \"echo no such module >&2; exit 3\"]\n";
    let file = crew_file(&crew, &format!("{servers}{}", agent_and_task("    mcps: [broken]\n")));
    let out = crew.outcome(&["run", &arg(&file), "--max-attempts", "1"]);
    assert_ne!(out.code, Some(0));
    let e = crew.status(&only_id(&crew));
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("MCP server `broken` failed to start") && message.contains("no such module"), "{e}");
    assert_eq!(e["error"]["retryable"], true, "{e}");
    assert_eq!(mock.chat_count(), 0, "the model was never asked");
}

/// Pids of the live (not zombie) processes in group `pgid`.
fn live_members(pgid: i64) -> Vec<i64> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" && fields[0] != "X" {
            out.push(pid);
        }
    }
    out
}

/// Starts a worker running a crew whose agent uses server-everything through `sh` (so the server's
/// group holds a grandchild too), with the model call held: returns the worker, the execution id
/// and the server's process group (with both processes alive).
fn running_with_a_server(crew: &Crew, mock: &MockLlm, server: &Path) -> (harness::Spawned, String, i64) {
    let servers = format!("mcp_servers:\n  everything:\n    command: sh\n    args: [\"-c\", \"node '{}' stdio\"]\n", server.display());
    let file = crew_file(crew, &format!("{servers}{}", agent_and_task("    mcps: [everything]\n")));
    let worker = crew.spawn_logged("worker", &["worker", "--concurrency", "1"]);
    mock.push(Reply::held(Reply::text("never")));
    let submitted: Value = serde_json::from_str(&crew.ok(&["submit", &arg(&file), "--json"])).unwrap();
    let id = submitted["id"].as_str().unwrap().to_string();
    assert!(mock.wait_for_held(1, PROC_WAIT), "the model call arrived (the server was connected before it)");
    let connected = crew.logs(&id).into_iter().find(|l| l["data"]["mcp_server"] == "everything").expect("the connection is logged");
    let pgid = connected["data"]["pgid"].as_i64().expect("a stdio server's group");
    assert!(live_members(pgid).len() >= 2, "sh and node run in the server's group");
    (worker, id, pgid)
}

/// Waits (bounded by [`PROC_WAIT`]) until no live process is left in group `pgid`.
fn assert_group_ends(pgid: i64, after: &str) {
    let deadline = std::time::Instant::now() + PROC_WAIT;
    while !live_members(pgid).is_empty() {
        assert!(std::time::Instant::now() < deadline, "{after}: left in the server's group: {:?}", live_members(pgid));
        std::thread::yield_now();
    }
}

#[test]
fn cancel_stops_the_mcp_servers_process_group() {
    let Some(server) = everything_server() else { return };
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let (mut worker, id, pgid) = running_with_a_server(&crew, &mock, &server);
    crew.ok(&["cancel", &id]);
    assert_eq!(crew.wait_status(&id, &["cancelled"], PROC_WAIT)["status"], "cancelled");
    assert_group_ends(pgid, "after cancel");
    mock.release();
    worker.kill_hard();
}

#[test]
fn the_mcp_server_stops_when_its_worker_exits_or_is_killed() {
    let Some(server) = everything_server() else { return };
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    // A worker asked to stop (SIGTERM) ends its executions' servers with it.
    let (mut worker, _, pgid) = running_with_a_server(&crew, &mock, &server);
    harness::signal(&worker.child, "TERM");
    worker.wait_exit(PROC_WAIT);
    assert_group_ends(pgid, "after the worker's SIGTERM");
    mock.release();

    // A worker killed outright cannot clean up: the server's stdin closes with it, and a stdio
    // server (server-everything, as the MCP spec asks) exits then, with what it started. (A data
    // dir of its own: the first execution went back to the queue when its worker stopped.)
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let (mut worker, _, pgid) = running_with_a_server(&crew, &mock, &server);
    worker.kill_hard();
    assert_group_ends(pgid, "after the worker's SIGKILL");
    mock.release();
}

#[test]
fn command_tools_get_json_on_stdin_and_have_a_timeout_and_an_output_cap() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let scripts = crew.dir.path().join("crew/scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    for name in ["shout.sh", "flood.sh", "stall.sh"] {
        std::fs::copy(fixture(&format!("command_tools/{name}")), scripts.join(name)).unwrap();
    }
    let tools = "command_tools:\n  shout:\n    description: Shouts its input\n    command: [scripts/shout.sh]\n    \
                 input_schema: {type: object, properties: {text: {type: string}}, required: [text]}\n  \
                 flood:\n    description: Says a lot\n    command: [scripts/flood.sh]\n    max_output_bytes: 100\n  \
                 stall:\n    description: Never ends\n    command: [scripts/stall.sh]\n    timeout_secs: 1\n";
    let file = crew_file(&crew, &format!("{tools}{}", agent_and_task("    tools: [shout, flood, stall]\n")));
    mock.push(Reply::tool_call("shout", json!({"text": "quiet words"})));
    mock.push(Reply::tool_call("flood", json!({})));
    mock.push(Reply::tool_call("stall", json!({})));
    mock.push(Reply::text("Done."));
    let out = crew.outcome(&["run", &arg(&file)]);
    assert_eq!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert_eq!(offered_tools(&mock.chat_requests()[0]), ["shout", "flood", "stall"]);
    let results = tool_results(&mock);
    assert_eq!(results[0], "{\"TEXT\":\"QUIET WORDS\"}");
    assert_eq!(results[1], format!("{}\n[output cut at 100 bytes]", "x".repeat(100)));
    assert!(results[2].starts_with("Error: ") && results[2].contains("did not finish within 1s"), "{}", results[2]);
    let calls = tool_calls(&crew, &only_id(&crew));
    assert_eq!(calls.iter().map(|c| c["data"]["tool"].as_str().unwrap()).collect::<Vec<_>>(), ["shout", "flood", "stall"]);
}

#[test]
fn the_offline_model_calls_a_tool_its_task_names() {
    let crew = Crew::new(None);
    let scripts = crew.dir.path().join("crew/scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::copy(fixture("command_tools/shout.sh"), scripts.join("shout.sh")).unwrap();
    let file = crew.write(
        "crew/crew.yaml",
        "name: offline\ncommand_tools:\n  shout:\n    description: Shouts its input\n    command: [scripts/shout.sh]\n    \
         input_schema: {type: object, properties: {text: {type: string}}, required: [text]}\n\
         agents:\n  a:\n    role: Crier\n    goal: Shout\n    backstory: Loud.\n    tools: [shout]\n\
         tasks:\n  t:\n    description: Use shout on \"good morning\".\n    expected_output: The shout.\n    agent: a\n",
    );
    let out = crew.outcome(&["run", &arg(&file), "--model", "offline"]);
    assert_eq!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    let calls = tool_calls(&crew, &only_id(&crew));
    assert_eq!(calls.len(), 1, "called once: {calls:?}");
    assert_eq!(calls[0]["data"]["tool"], "shout");
    assert_eq!(calls[0]["data"]["output"], "{\"TEXT\":\"GOOD MORNING\"}");
}

#[tokio::test]
async fn a_server_that_dies_fails_the_call_with_a_retryable_error_naming_it() {
    use crew_runner::crew::mcp::StdioServer;
    use crew_runner::crew::McpServerSpec;
    use crew_runner::engine::tools::mcp::{McpConnection, McpError, CONNECT_TIMEOUT};
    use crew_runner::execution::ExecutionError;

    let Some(server) = everything_server() else { return };
    let spec = McpServerSpec::Stdio(StdioServer {
        command: "sh".into(),
        args: vec!["-c".into(), format!("echo about to serve >&2; exec node '{}' stdio", server.display())],
        env: Default::default(),
        cwd: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let connection = McpConnection::connect("everything", &spec, dir.path(), CONNECT_TIMEOUT).await.unwrap();
    assert_eq!(connection.call("echo", json!({"message": "hi"})).await.unwrap(), "Echo: hi");
    // SAFETY: kill(2) on the server's own process group.
    unsafe {
        libc::kill(-connection.pgid().unwrap(), libc::SIGKILL);
    }
    let error = connection.call("echo", json!({"message": "again"})).await.unwrap_err();
    assert!(matches!(error, McpError::Broken { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("MCP server `everything` stopped working") && message.contains("about to serve"), "{message}");
    let failure = ExecutionError::from(error);
    assert!(failure.retryable, "{failure:?}");
}
