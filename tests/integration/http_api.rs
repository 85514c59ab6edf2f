//! `crew-runner serve` through the real binary: submit over HTTP and follow Server-Sent Events
//! against the mock LLM, cancel, auth, Host and bind refusals, body cap, errors, idempotency,
//! resumption, validation, OpenAPI, the token file, and a graceful SIGTERM.

use crate::harness;
use crate::http_client;
use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use harness::{arg, fixture, Crew, PROC_WAIT};
use http_client::{Api, Request, SseEvent};
use serde_json::{json, Value};
use support::{MockLlm, Reply};

/// A running `crew-runner serve --port 0` and its API.
struct Served {
    child: Child,
    api: Api,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts the server on `crew`'s data dir (stderr to a file) and reads its `listening on` line.
fn serve(crew: &Crew, extra: &[&str]) -> Served {
    let mut args = vec!["serve", "--port", "0"];
    args.extend_from_slice(extra);
    let stderr = std::fs::File::create(crew.dir.path().join("serve.stderr")).unwrap();
    let mut child = crew.cmd(&args).stdout(Stdio::piped()).stderr(stderr).spawn().expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the listening line");
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
    let token = std::fs::read_to_string(crew.data_dir().join("http-token")).expect("the token file").trim().to_string();
    Served { child, api: Api { addr, token } }
}

fn one_step() -> String {
    arg(&fixture("cli/one-step.yaml"))
}

fn submit(api: &Api, body: Value) -> Vec<String> {
    let r = api.post("/v1/executions", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn log_seqs(events: &[SseEvent]) -> Vec<u64> {
    events.iter().filter(|e| e.event == "log").map(|e| e.id.as_deref().unwrap().parse().unwrap()).collect()
}

#[test]
fn a_submission_is_followed_over_events_until_it_succeeds_and_the_stream_resumes() {
    let mock = MockLlm::start();
    mock.push(Reply::text("Thought: done\nFinal Answer: The note about item 42."));
    let crew = Crew::new(Some(&mock.base_url()));
    let server = serve(&crew, &[]);
    let api = &server.api;
    let id = submit(api, json!({ "crew": one_step(), "inputs": { "item": 42 }, "meta": { "team": "r" } })).remove(0);

    let events = api.events(&format!("/v1/executions/{id}/events"), Vec::new()).until_end();
    assert_eq!(events[0].event, "status", "{events:#?}");
    assert_eq!(events.last().unwrap().json(), json!({ "status": "succeeded" }));
    let seqs = log_seqs(&events);
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "every line once, in order");
    let logs: Vec<Value> = events.iter().filter(|e| e.event == "log").map(SseEvent::json).collect();
    assert_eq!(logs.last().unwrap()["kind"], "succeeded");
    assert!(logs.iter().all(|l| l["execution_id"] == id.as_str()));

    let e = api.get(&format!("/v1/executions/{id}")).json();
    assert_eq!((e["status"].as_str(), e["output"].as_str()), (Some("succeeded"), Some("The note about item 42.")));
    assert!(e["crew_spec"].is_object());
    let steps = api.get(&format!("/v1/executions/{id}/steps")).json();
    assert_eq!(steps["steps"][0]["step"], "only_step");
    let diff = api.get(&format!("/v1/executions/{id}/diff/{id}")).json();
    assert_eq!((diff["tasks"][0]["task"].as_str(), diff["tasks"][0]["differs"].as_bool()), (Some("only_step"), Some(false)));
    assert_eq!(diff["first_difference"], Value::Null);
    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    assert_eq!(api.get(&format!("/v1/executions/{id}/diff/{unknown}")).status, 404);
    // The trace: the task with its one LLM call, whose payload holds what the mock received.
    let trace = api.get(&format!("/v1/executions/{id}/trace")).json();
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!((spans[0]["kind"].as_str(), spans[0]["name"].as_str()), (Some("task"), Some("only_step")), "{trace:#}");
    assert_eq!((spans[1]["kind"].as_str(), spans[1]["parent"].as_u64()), (Some("llm_call"), Some(0)), "{trace:#}");
    assert_eq!(trace["payloads"], "full");
    let call = spans[1]["call"].as_u64().unwrap();
    let sent = api.get(&format!("/v1/executions/{id}/trace/calls/{call}")).json();
    assert_eq!(sent["messages"][1]["content"], mock.chat_requests()[0].body["messages"][1]["content"]);
    assert_eq!(sent["response"]["content"], "Thought: done\nFinal Answer: The note about item 42.");
    assert!(!sent.to_string().contains("sk-test-secret-key"));
    assert_eq!(api.get(&format!("/v1/executions/{id}/trace/calls/1")).status, 404);
    assert_eq!(api.get(&format!("/v1/executions/{id}/trace/calls/first")).status, 400);
    assert_eq!(api.get(&format!("/v1/executions/{unknown}/trace")).status, 404);
    let page = api.get(&format!("/v1/executions/{id}/logs?after=2&limit=2")).json();
    assert_eq!(page["entries"].as_array().unwrap().iter().map(|l| l["seq"].as_u64().unwrap()).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(page["next_after"], 4);

    // Resuming after the next-to-last line sends the last one, then the end.
    let last = *seqs.last().unwrap();
    let resumed = api.events(&format!("/v1/executions/{id}/events"), vec![("Last-Event-ID", (last - 1).to_string())]).until_end();
    assert_eq!(log_seqs(&resumed), vec![last]);
    assert_eq!(resumed.last().unwrap().event, "end");

    let list = api.get("/v1/executions?status=succeeded,failed&meta=team%3Dr&limit=10").json();
    let rows = list["executions"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], id.as_str());
    assert!(rows[0].get("crew_spec").is_none(), "list rows leave the crew out");
    assert_eq!(list["next_before"], Value::Null);
    assert_eq!(api.get("/v1/executions?status=queued").json()["executions"], json!([]));
    assert_eq!(mock.chat_count(), 1);
}

#[test]
fn a_running_execution_is_cancelled_over_http() {
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text("Final Answer: too late")));
    let crew = Crew::new(Some(&mock.base_url()));
    let server = serve(&crew, &["--concurrency", "1"]);
    let api = &server.api;
    let id = submit(api, json!({ "crew": one_step(), "inputs": { "item": 1 } })).remove(0);
    let mut stream = api.events(&format!("/v1/executions/{id}/events"), Vec::new());
    assert!(mock.wait_for_held(1, PROC_WAIT), "the LLM call never arrived");
    let r = api.post(&format!("/v1/executions/{id}/cancel"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["outcome"], "requested");
    let events = stream.until_end();
    assert_eq!(events.last().unwrap().json()["status"], "cancelled");
    assert!(events.iter().any(|e| e.event == "status" && e.json()["status"] == "cancelled"), "{events:#?}");
    assert_eq!(api.get(&format!("/v1/executions/{id}")).json()["status"], "cancelled");
    let again = api.post(&format!("/v1/executions/{id}/cancel"), &json!({})).json();
    assert_eq!((again["outcome"].as_str(), again["status"].as_str()), (Some("already_finished"), Some("cancelled")));
    // A finished execution reruns as a new one.
    let rerun = api.post(&format!("/v1/executions/{id}/retry"), &json!({}));
    assert_eq!(rerun.status, 201, "{}", rerun.body);
    assert_eq!(rerun.json()["retry_of"], id.as_str());
}

#[test]
fn another_process_changing_an_execution_is_sent_over_events() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let server = serve(&crew, &[]);
    let api = &server.api;
    assert_eq!(api.post("/v1/queue/pause", &json!({})).json()["paused"], true);
    let id = submit(api, json!({ "crew": one_step(), "inputs": { "item": 7 } })).remove(0);
    let mut stream = api.events(&format!("/v1/executions/{id}/events"), Vec::new());
    let first = stream.next_event().unwrap();
    assert_eq!((first.event.as_str(), first.json()["priority"].as_str()), ("status", Some("normal")));
    // Not this server's scheduler: a one-shot CLI command, writing to the database itself.
    let out = crew.run(&["priority", &id, "urgent"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Bounded: if the change is never sent, the execution is cancelled after PROC_WAIT, so the
    // next status is `cancelled` and the test fails instead of waiting forever.
    let (seen, watched) = std::sync::mpsc::channel::<()>();
    let watchdog = {
        let cancel = crew.cmd(&["cancel", &id]);
        std::thread::spawn(move || {
            if watched.recv_timeout(PROC_WAIT).is_err() {
                let _ = { cancel }.output();
            }
        })
    };
    let raised = loop {
        let event = stream.next_event().expect("the stream stays open");
        if event.event == "status" {
            break event;
        }
    };
    let _ = seen.send(());
    watchdog.join().unwrap();
    assert_eq!((raised.json()["status"].as_str(), raised.json()["priority"].as_str()), (Some("queued"), Some("urgent")));
    let out = crew.run(&["cancel", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rest = stream.until_end();
    let statuses: Vec<Value> = rest.iter().filter(|e| e.event == "status").map(|e| e.json()["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("cancelled")], "{rest:#?}");
    assert_eq!(rest.last().unwrap().json(), json!({ "status": "cancelled" }));
    assert_eq!(mock.chat_count(), 0);
}

#[test]
fn a_review_is_announced_over_events_and_answered_over_http() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let server = serve(&crew, &[]);
    let api = &server.api;
    let file = crew.write(
        "reviewed.yaml",
        "name: reviewed\nllm: openai/mock-model\nagents:\n  w:\n    role: Writer\n    goal: Write\n    backstory: B\n\
         tasks:\n  write:\n    description: Write about owls\n    expected_output: A note\n    agent: w\n    human_input: true\n",
    );
    let id = submit(api, json!({ "crew": arg(&file) })).remove(0);
    let mut stream = api.events(&format!("/v1/executions/{id}/events"), Vec::new());
    let waiting = loop {
        let event = stream.next_event().expect("the stream goes on while the run waits");
        if event.event == "status" && event.json()["status"] == "awaiting_input" {
            break event.json();
        }
    };
    assert_eq!(waiting["request"]["task"], "write", "{waiting:#}");
    let listed = api.get("/v1/executions?status=awaiting_input").json();
    assert_eq!(listed["executions"][0]["id"], id.as_str(), "{listed:#}");
    assert_eq!(api.get("/v1/queue").json()["counts"]["awaiting_input"], 1);

    let refused = api.post(&format!("/v1/executions/{id}/answer"), &json!({ "verdict": "ok" }));
    assert_eq!(refused.status, 400, "unknown fields are refused: {}", refused.body);
    let answered = api.post(&format!("/v1/executions/{id}/answer"), &json!({}));
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.json()["status"], "queued");
    let events = stream.until_end();
    assert_eq!(events.last().unwrap().json()["status"], "succeeded");
    let again = api.post(&format!("/v1/executions/{id}/answer"), &json!({ "feedback": "late" }));
    assert_eq!((again.status, again.kind()), (409, "invalid_state".to_string()), "{}", again.body);
}

#[test]
fn requests_are_refused_with_kind_and_status() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let server = serve(&crew, &[]);
    let api = &server.api;
    let health = api.get_anonymous("/v1/health");
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("ok")));

    let anonymous = api.get_anonymous("/v1/queue");
    assert_eq!((anonymous.status, anonymous.kind().as_str()), (401, "unauthorized"));
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let wrong = Api { addr: api.addr.clone(), token: "0".repeat(64) }.get("/v1/queue");
    assert_eq!((wrong.status, wrong.kind().as_str()), (401, "unauthorized"));
    assert!(!wrong.body.contains(&api.token));

    let unknown = api.get(&format!("/v1/executions/{}", "01J00000000000000000000000"));
    assert_eq!((unknown.status, unknown.kind().as_str()), (404, "not_found"));
    let malformed = api.get("/v1/executions/nope");
    assert_eq!((malformed.status, malformed.kind().as_str()), (400, "invalid_argument"));
    assert_eq!(api.get("/v1/nothing-here").status, 404);
    assert_eq!(api.send(Request { method: "DELETE", path: "/v1/queue", headers: vec![], body: None }).status, 405);

    let broken = crew.write("broken.yaml", "name: broken\nagents: {}\ntasks:\n  t:\n    description: x\n    agent: nobody\n");
    let invalid = api.post("/v1/executions", &json!({ "crew": arg(&broken) }));
    assert_eq!((invalid.status, invalid.kind().as_str()), (400, "invalid_crew"), "{}", invalid.body);
    let relative = api.post("/v1/executions", &json!({ "crew": "tests/fixtures/cli/one-step.yaml" }));
    assert_eq!((relative.status, relative.kind().as_str()), (400, "invalid_argument"));
    let missing = api.post("/v1/executions", &json!({ "crew": one_step() }));
    assert_eq!((missing.status, missing.kind().as_str()), (400, "missing_inputs"), "{}", missing.body);
    let typo = api.post("/v1/executions", &json!({ "crew": one_step(), "priorty": "high" }));
    assert_eq!((typo.status, typo.kind().as_str()), (400, "invalid_argument"));
    assert_eq!(api.get("/v1/executions").json()["executions"], json!([]), "nothing recorded");

    let huge = json!({ "crew": one_step(), "inputs": { "item": "x".repeat(2 * 1024 * 1024) } });
    let too_large = api.post("/v1/executions", &huge);
    assert_eq!((too_large.status, too_large.kind().as_str()), (413, "body_too_large"));

    for host in ["evil.example", &format!("evil.example:{}", api.addr.rsplit(':').next().unwrap())] {
        let foreign = api.send(Request { method: "GET", path: "/v1/health", headers: vec![("Host", host.to_string())], body: None });
        assert_eq!((foreign.status, foreign.kind().as_str()), (403, "forbidden_host"), "{host}");
    }
    let port = api.addr.rsplit(':').next().unwrap();
    let by_name = api.send(Request { method: "GET", path: "/v1/health", headers: vec![("Host", format!("localhost:{port}"))], body: None });
    assert_eq!(by_name.status, 200);
    assert!(by_name.header("access-control-allow-origin").is_none(), "no CORS without --cors-origin");
}

#[test]
fn idempotency_priority_queue_and_validation() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let server = serve(&crew, &[]);
    let api = &server.api;
    assert_eq!(api.post("/v1/queue/pause", &json!({})).json()["paused"], true);
    let body = json!({ "crew": one_step(), "rows": [{ "item": 1 }, { "item": 2 }], "idempotency_key": "nightly-1", "timeout": "90s" });
    let first = submit(api, body.clone());
    assert_eq!(first.len(), 2);
    let replay = api.post("/v1/executions", &body);
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.json()["replayed"], true);
    let replayed: Vec<String> = replay.json()["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(replayed, first);
    let conflict = api.post("/v1/executions", &json!({ "crew": one_step(), "inputs": { "item": 3 }, "idempotency_key": "nightly-1" }));
    assert_eq!((conflict.status, conflict.kind().as_str()), (409, "idempotency_conflict"));

    let e = api.get(&format!("/v1/executions/{}", first[0])).json();
    assert_eq!((e["status"].as_str(), e["timeout_ms"].as_u64()), (Some("queued"), Some(90_000)));
    let raised = api.put(&format!("/v1/executions/{}/priority", first[0]), &json!({ "priority": "urgent" }));
    assert_eq!(raised.json()["priority"], "urgent");
    let bad = api.put(&format!("/v1/executions/{}/priority", first[0]), &json!({ "priority": "asap" }));
    assert_eq!(bad.status, 400);
    let unfinished = api.post(&format!("/v1/executions/{}/retry", first[0]), &json!({}));
    assert_eq!((unfinished.status, unfinished.kind().as_str()), (409, "invalid_state"));
    let page = api.get("/v1/executions?limit=1").json();
    assert_eq!(page["executions"].as_array().unwrap().len(), 1);
    let next = page["next_before"].as_str().unwrap();
    assert_eq!(api.get(&format!("/v1/executions?limit=1&before={next}")).json()["executions"].as_array().unwrap().len(), 1);

    let queue = api.get("/v1/queue").json();
    assert_eq!((queue["settings"]["paused"].as_bool(), queue["counts"]["queued"].as_u64()), (Some(true), Some(2)));
    assert_eq!(api.post("/v1/queue/resume", &json!({})).json()["paused"], false);

    let report = api.post("/v1/crews/validate", &json!({ "crew": one_step() })).json();
    assert_eq!(report["crew"]["name"], "one_step");
    assert_eq!(report["required_inputs"][0]["name"], "item");
    assert_eq!(report["engine"]["engine"], "native");
    let broken = crew.write("broken.yaml", "name: [unclosed\n");
    let invalid = api.post("/v1/crews/validate", &json!({ "crew": arg(&broken) }));
    assert_eq!((invalid.status, invalid.kind().as_str()), (400, "invalid_crew"), "{}", invalid.body);
}

#[test]
fn openapi_token_file_cors_and_a_graceful_sigterm() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let mut server = serve(&crew, &["--cors-origin", "http://app.example"]);
    let api = server.api.clone();
    let doc = api.get("/v1/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for path in
        ["/v1/executions", "/v1/executions/{id}", "/v1/executions/{id}/events", "/v1/queue/pause", "/v1/crews/validate", "/v1/health"]
    {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(doc["paths"]["/v1/executions"]["post"]["requestBody"].is_object());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(crew.data_dir().join("http-token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let preflight = api.send(Request {
        method: "OPTIONS",
        path: "/v1/executions",
        headers: vec![("Origin", "http://app.example".into()), ("Access-Control-Request-Method", "POST".into())],
        body: None,
    });
    assert_eq!(preflight.header("access-control-allow-origin"), Some("http://app.example"));
    let other =
        api.send(Request { method: "GET", path: "/v1/health", headers: vec![("Origin", "http://evil.example".into())], body: None });
    assert!(other.header("access-control-allow-origin").is_none());

    // A queued execution's stream stays open until SIGTERM ends it; the server then exits 0.
    assert_eq!(api.post("/v1/queue/pause", &json!({})).status, 200);
    let id = submit(&api, json!({ "crew": one_step(), "inputs": { "item": 1 } })).remove(0);
    let mut stream = api.events(&format!("/v1/executions/{id}/events"), Vec::new());
    assert_eq!(stream.next_event().unwrap().event, "status");
    harness::signal(&server.child, "TERM");
    while let Some(event) = stream.next_event() {
        assert_ne!(event.event, "end", "the execution never ran");
    }
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    // The same token is read back at the next start.
    let again = serve(&crew, &[]);
    assert_eq!(again.api.token, api.token);
}

#[test]
fn a_remote_bind_needs_allow_remote() {
    let crew = Crew::new(None);
    let stderr = crew.usage_error(&["serve", "--host", "0.0.0.0", "--port", "0"]);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(!crew.data_dir().join("http-token").exists(), "nothing started");
    let stderr = crew.usage_error(&["serve", "--host", "not-an-address"]);
    assert!(stderr.contains("not an IP address"), "{stderr}");
}
