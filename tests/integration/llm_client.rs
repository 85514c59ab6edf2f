//! The OpenAI-compatible client, classification, and record/replay, against the mock server.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crew_runner::execution::{ErrorKind, ExecutionError, LlmOptions};
use crew_runner::llm::{
    ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmEnv, LlmError, LlmErrorKind, ModelRegistry, TokenSink, ToolCall, ToolDef,
};
use serde_json::json;
use support::{default_answer, MockLlm, MockToolCall, Reply};

const KEY: &str = "sk-test-key-0123456789";
/// A safety net for waits on the mock; never reached when things work.
const WAIT: Duration = Duration::from_secs(20);

fn env(pairs: &[(&str, &str)]) -> LlmEnv {
    LlmEnv { vars: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), secrets: None, python_cache: None }
}

fn options(mock: &MockLlm) -> LlmOptions {
    LlmOptions { api_base: Some(mock.base_url()), ..Default::default() }
}

/// `openai/gpt-4o-mini` at the mock, with a key.
fn model(mock: &MockLlm) -> Arc<dyn ChatModel> {
    ModelRegistry::new(options(mock), env(&[("OPENAI_API_KEY", KEY)])).unwrap().model("openai/gpt-4o-mini").unwrap()
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![ChatMessage::system("You are a careful researcher."), ChatMessage::user(text)],
        tools: vec![],
        temperature: Some(0.2),
        stream: false,
        response_format: None,
        label: Some("research_task".into()),
    }
}

fn streamed(text: &str) -> ChatRequest {
    ChatRequest { stream: true, ..request(text) }
}

/// A sink collecting deltas.
fn collector() -> (TokenSink, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    (Arc::new(move |t: &str| seen2.lock().unwrap().push(t.to_string())), seen)
}

async fn fails(mock: &MockLlm, reply: Reply, stream: bool) -> LlmError {
    mock.push(reply);
    let req = if stream { streamed("go") } else { request("go") };
    model(mock).chat(req, None).await.expect_err("the call should fail")
}

#[tokio::test]
async fn non_streaming_text_with_usage_cost_and_auth() {
    let mock = MockLlm::start();
    mock.push(Reply::text("Thought: done\nFinal Answer: forty-two"));
    let reply = model(&mock).chat(request("What is the answer?"), None).await.unwrap();
    assert_eq!(reply.content, "Thought: done\nFinal Answer: forty-two");
    assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
    assert_eq!(reply.model, "gpt-4o-mini");
    // The mock counts words: 5 + 4 prompt, 5 + 1 completion.
    assert_eq!((reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens), (9, 6, 15));
    assert_eq!(reply.usage.llm_calls, 1);
    let cost = reply.usage.cost_usd.expect("gpt-4o-mini has a price");
    assert!((cost - (9.0 * 0.15 + 6.0 * 0.60) / 1e6).abs() < 1e-12, "{cost}");

    let sent = mock.chat_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/chat/completions");
    assert_eq!(sent[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(sent[0].body["model"], "gpt-4o-mini");
    assert_eq!(sent[0].body["stream"], false);
    assert_eq!(sent[0].body["messages"][1], json!({"role": "user", "content": "What is the answer?"}));
    assert!(sent[0].body.get("label").is_none());
}

#[tokio::test]
async fn streaming_text_reaches_the_sink_and_the_reply() {
    let mock = MockLlm::start();
    let text = "The quick brown fox jumps over the lazy dog";
    mock.push(Reply::text(text));
    let (sink, seen) = collector();
    let reply = model(&mock).chat(streamed("Tell me"), Some(sink)).await.unwrap();
    assert_eq!(reply.content, text);
    let deltas = seen.lock().unwrap().clone();
    assert!(deltas.len() > 1, "{deltas:?}");
    assert_eq!(deltas.concat(), text);
    assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
    assert_eq!(reply.usage.completion_tokens, 10);
    assert_eq!(reply.usage.llm_calls, 1);
    let sent = &mock.chat_requests()[0];
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
}

fn two_calls() -> Vec<MockToolCall> {
    vec![
        MockToolCall { id: "call_a".into(), name: "search".into(), arguments: r#"{"query":"rust async"}"#.into() },
        MockToolCall { id: "call_b".into(), name: "calculator".into(), arguments: r#"{"expression":"6*7"}"#.into() },
    ]
}

fn expected_calls() -> Vec<ToolCall> {
    vec![
        ToolCall { id: "call_a".into(), name: "search".into(), arguments: r#"{"query":"rust async"}"#.into() },
        ToolCall { id: "call_b".into(), name: "calculator".into(), arguments: r#"{"expression":"6*7"}"#.into() },
    ]
}

fn with_tools(mut r: ChatRequest) -> ChatRequest {
    r.tools = vec![ToolDef {
        name: "search".into(),
        description: "Search the web".into(),
        parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
    }];
    r
}

#[tokio::test]
async fn tool_calls_plain_and_streamed() {
    let mock = MockLlm::start();
    mock.push(Reply::ToolCalls(two_calls()));
    mock.push(Reply::ToolCalls(two_calls()));
    let m = model(&mock);
    let plain = m.chat(with_tools(request("find it")), None).await.unwrap();
    assert_eq!(plain.tool_calls, expected_calls());
    assert_eq!(plain.finish_reason.as_deref(), Some("tool_calls"));
    let (sink, seen) = collector();
    let stream = m.chat(with_tools(streamed("find it")), Some(sink)).await.unwrap();
    assert_eq!(stream.tool_calls, expected_calls());
    assert_eq!(stream.content, "");
    assert!(seen.lock().unwrap().is_empty());
    let sent = mock.chat_requests();
    assert_eq!(sent[0].body["tools"][0]["type"], "function");
    assert_eq!(sent[0].body["tools"][0]["function"]["name"], "search");
    assert_eq!(sent[0].body["tools"][0]["function"]["parameters"]["required"][0], "query");
}

#[tokio::test]
async fn tool_results_are_sent_back_in_openai_form() {
    let mock = MockLlm::start();
    let mut r = request("find it");
    r.messages.push(ChatMessage::assistant("", expected_calls()));
    r.messages.push(ChatMessage::tool("call_a", "found: tokio"));
    model(&mock).chat(r, None).await.unwrap();
    let body = &mock.chat_requests()[0].body;
    assert_eq!(body["messages"][2]["tool_calls"][1]["function"]["name"], "calculator");
    assert_eq!(body["messages"][3], json!({"role": "tool", "content": "found: tokio", "tool_call_id": "call_a"}));
}

#[tokio::test]
async fn rate_limit_carries_retry_after() {
    let mock = MockLlm::start();
    for stream in [false, true] {
        let err = fails(&mock, Reply::rate_limited("2"), stream).await;
        assert_eq!(err.kind, LlmErrorKind::RateLimited { retry_after_ms: Some(2000) });
        assert!(err.retryable());
        let exec: ExecutionError = err.into();
        assert_eq!(exec.kind, ErrorKind::LlmRateLimited);
        assert_eq!(exec.retry_after_ms, Some(2000));
        assert!(exec.retryable);
    }
    // No internal retry: one request per call.
    assert_eq!(mock.chat_count(), 2);
}

#[tokio::test]
async fn server_errors_are_retryable_and_not_retried_here() {
    let mock = MockLlm::start();
    let err = fails(&mock, Reply::status(500, "the engine overheated"), false).await;
    assert_eq!(err.kind, LlmErrorKind::Server { status: 500 });
    assert!(err.message.contains("the engine overheated"), "{}", err.message);
    assert!(err.retryable());
    let err = fails(&mock, Reply::status(503, "busy"), true).await;
    assert_eq!(err.kind, LlmErrorKind::Server { status: 503 });
    assert_eq!(mock.chat_count(), 2);
    assert_eq!(mock.pending_replies(), 0);
}

#[tokio::test]
async fn client_errors_are_final_and_never_show_the_key() {
    let mock = MockLlm::start();
    let err = fails(&mock, Reply::status(401, &format!("Incorrect API key provided: {KEY}")), false).await;
    assert_eq!(err.kind, LlmErrorKind::Client { status: 401 });
    assert!(!err.retryable());
    assert!(err.message.contains("Incorrect API key provided"), "{}", err.message);
    assert!(!err.message.contains(KEY), "{}", err.message);
    let exec: ExecutionError = err.into();
    assert_eq!(exec.kind, ErrorKind::LlmClient);
    assert!(!exec.retryable);
    assert!(!exec.message.contains(KEY));
    let err = fails(&mock, Reply::status(404, "The model `gpt-9` does not exist"), true).await;
    assert_eq!(err.kind, LlmErrorKind::Client { status: 404 });
    assert!(err.message.contains("does not exist"), "{}", err.message);
}

#[tokio::test]
async fn reset_and_stream_cut_are_connection_errors() {
    let mock = MockLlm::start();
    for stream in [false, true] {
        assert_eq!(fails(&mock, Reply::Reset, stream).await.kind, LlmErrorKind::Connection);
        let cut = fails(&mock, Reply::StreamCut, stream).await;
        assert_eq!(cut.kind, LlmErrorKind::Connection, "{}", cut.message);
        assert!(cut.retryable());
    }
}

#[tokio::test]
async fn refused_connections_are_connection_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = LlmOptions { api_base: Some(format!("http://127.0.0.1:{port}/v1")), ..Default::default() };
    let m = ModelRegistry::new(options, env(&[])).unwrap().model("gpt-4o-mini").unwrap();
    let err = m.chat(request("hi"), None).await.unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Connection, "{}", err.message);
}

#[tokio::test]
async fn slow_replies_time_out() {
    let mock = MockLlm::start();
    let registry = ModelRegistry::new(options(&mock), env(&[("CREW_RUNNER_LLM_TIMEOUT_SECS", "0.2")])).unwrap();
    let m = registry.model("gpt-4o-mini").unwrap();
    for req in [request("slow"), streamed("slow")] {
        mock.push(Reply::delay(2_000, Reply::text("too late")));
        let err = m.chat(req, None).await.unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Timeout, "{}", err.message);
        assert!(err.retryable());
        assert_eq!(ExecutionError::from(err).kind, ErrorKind::LlmTimeout);
    }
    // A stream that starts and then goes silent times out too.
    mock.push(Reply::StreamStall("a start and then nothing".into()));
    let err = m.chat(streamed("stall"), None).await.unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Timeout, "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_get_their_keyed_replies() {
    let mock = MockLlm::start();
    for n in 0..8 {
        mock.push_for(&format!("topic {n}."), Reply::text(format!("answer {n}")));
    }
    let m = model(&mock);
    let calls: Vec<_> = (0..8)
        .map(|n| {
            let req = if n % 2 == 0 { request(&format!("topic {n}.")) } else { streamed(&format!("topic {n}.")) };
            tokio::spawn(m.chat(req, None))
        })
        .collect();
    for (n, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap().content, format!("answer {n}"));
    }
    assert_eq!(mock.chat_count(), 8);
    assert_eq!(mock.pending_replies(), 0);
}

#[tokio::test]
async fn invalid_json_and_empty_choices_are_invalid_responses() {
    let mock = MockLlm::start();
    for stream in [false, true] {
        let err = fails(&mock, Reply::InvalidJson, stream).await;
        assert_eq!(err.kind, LlmErrorKind::InvalidResponse, "{}", err.message);
        assert!(!err.retryable());
        let err = fails(&mock, Reply::EmptyChoices, stream).await;
        assert_eq!(err.kind, LlmErrorKind::InvalidResponse, "{}", err.message);
        assert_eq!(ExecutionError::from(err).kind, ErrorKind::LlmInvalidResponse);
    }
}

/// Runs `call` on the runtime, waits until the mock has the request (and `ready` fired, when
/// given), drops the call, and expects the mock to see the client go away.
async fn assert_drop_aborts(
    mock: &MockLlm,
    call: crew_runner::execution::BoxFuture<'static, Result<ChatResponse, LlmError>>,
    ready: Option<tokio::sync::oneshot::Receiver<()>>,
) {
    let task = tokio::spawn(call);
    if let Some(ready) = ready {
        ready.await.expect("the first delta arrives");
    }
    let chat_seen = tokio::task::block_in_place(|| mock.wait_for_chat_count(1, WAIT));
    assert!(chat_seen, "the request reached the mock");
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let aborted = tokio::task::block_in_place(|| mock.wait_for_aborts(1, WAIT));
    assert!(aborted, "the mock saw the connection closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_plain_call_closes_the_connection() {
    let mock = MockLlm::start();
    mock.push(Reply::delay(600_000, Reply::text("never")));
    assert_drop_aborts(&mock, model(&mock).chat(request("wait"), None), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_mid_reply_closes_the_connection() {
    let mock = MockLlm::start();
    mock.push(Reply::StreamStall("first words then silence".into()));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let sink: TokenSink = Arc::new(move |_t: &str| {
        if let Some(tx) = tx.lock().unwrap().take() {
            let _ = tx.send(());
        }
    });
    assert_drop_aborts(&mock, model(&mock).chat(streamed("wait"), Some(sink)), Some(rx)).await;
}

#[tokio::test]
async fn ollama_models_need_no_key_and_cost_nothing() {
    let mock = MockLlm::start();
    let host = mock.addr().to_string(); // OLLAMA_HOST is host:port, no scheme, no /v1
    let registry = ModelRegistry::new(LlmOptions::default(), env(&[("OLLAMA_HOST", &host)])).unwrap();
    let reply = registry.model("ollama/llama3.1").unwrap().chat(request("hello"), None).await.unwrap();
    assert_eq!(reply.content, default_answer("hello"));
    assert_eq!(reply.usage.cost_usd, Some(0.0));
    let sent = &mock.chat_requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["model"], "llama3.1");
    assert_eq!(sent.header("authorization"), None);
}

#[tokio::test]
async fn record_then_replay_without_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.jsonl").display().to_string();
    let mut mock = MockLlm::start();
    mock.push(Reply::text("first answer"));
    mock.push(Reply::text("second answer"));
    mock.push(Reply::ToolCalls(two_calls()));
    let recording = LlmOptions { api_base: Some(mock.base_url()), record: Some(file.clone()), ..Default::default() };
    let registry = ModelRegistry::new(recording, env(&[("OPENAI_API_KEY", KEY)])).unwrap();
    let m = registry.model("gpt-4o-mini").unwrap();
    let requests = vec![request("same question"), request("same question"), with_tools(request("use a tool")), streamed("defaulted")];
    let mut recorded = Vec::new();
    for r in &requests {
        recorded.push(m.chat(r.clone(), None).await.unwrap());
    }
    assert_eq!(recorded[0].content, "first answer");
    assert_eq!(recorded[1].content, "second answer");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(!text.contains(KEY));
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["label"], "research_task");
    assert!(line["hash"].as_str().is_some_and(|h| h.len() == 64));
    let served_before = mock.chat_count();
    mock.stop();

    // Replay: no key, the server gone; same responses in the same order.
    let replaying = LlmOptions { replay: Some(file.clone()), ..Default::default() };
    let registry = ModelRegistry::new(replaying, env(&[])).unwrap();
    let m = registry.model("gpt-4o-mini").unwrap();
    let (sink, seen) = collector();
    for (r, expected) in requests.iter().zip(&recorded) {
        let replayed = m.chat(r.clone(), Some(sink.clone())).await.unwrap();
        assert_eq!(&replayed, expected);
    }
    assert_eq!(seen.lock().unwrap().concat(), recorded[3].content, "the streamed request's content went to the sink");
    assert_eq!(mock.chat_count(), served_before);
}

#[tokio::test]
async fn replay_mismatch_names_the_task_and_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.jsonl").display().to_string();
    let mock = MockLlm::start();
    let recording = LlmOptions { api_base: Some(mock.base_url()), record: Some(file.clone()), ..Default::default() };
    let registry = ModelRegistry::new(recording, env(&[("OPENAI_API_KEY", KEY)])).unwrap();
    registry.model("gpt-4o-mini").unwrap().chat(request("Summarise the state of solid-state batteries in 2024."), None).await.unwrap();

    let replaying = LlmOptions { replay: Some(file), ..Default::default() };
    let registry = ModelRegistry::new(replaying, env(&[])).unwrap();
    let err = registry
        .model("gpt-4o-mini")
        .unwrap()
        .chat(request("Summarise the state of sodium-ion batteries in 2024."), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::ReplayMismatch);
    assert!(err.message.contains("task `research_task`"), "{}", err.message);
    assert!(err.message.contains("message #1 (user)"), "{}", err.message);
    assert!(err.message.contains("solid-state") && err.message.contains("sodium-ion"), "{}", err.message);
    let exec = ExecutionError::from(err);
    assert_eq!(exec.kind, ErrorKind::ReplayMismatch);
    assert!(!exec.retryable);
}

#[test]
fn mock_serves_models_keyed_replies_and_defaults_to_sync_clients() {
    use std::io::{Read, Write};
    let mock = MockLlm::start();
    mock.push_for("weather", Reply::text("sunny"));
    mock.push(Reply::text("unkeyed"));
    let post = |text: &str| {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": text}]}).to_string();
        let mut s = std::net::TcpStream::connect(mock.addr()).unwrap();
        write!(s, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}", body.len())
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let json: serde_json::Value = serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        json["choices"][0]["message"]["content"].as_str().unwrap().to_string()
    };
    assert_eq!(post("hello"), "unkeyed");
    assert_eq!(post("what is the weather?"), "sunny");
    let fallback = post("anything else");
    assert_eq!(fallback, default_answer("anything else"));
    assert!(fallback.starts_with("Thought: ") && fallback.contains("\nFinal Answer: "));
    assert_ne!(default_answer("a"), default_answer("b"));

    let mut s = std::net::TcpStream::connect(mock.addr()).unwrap();
    write!(s, "GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("mock-model"));
    assert_eq!(mock.chat_count(), 3);
    assert_eq!(mock.requests().len(), 4);
}
