//! A scripted OpenAI-compatible server for tests.
//!
//! ```ignore
//! let mock = MockLlm::start();                 // 127.0.0.1 with an OS-chosen port
//! mock.push(Reply::text("Final Answer: 42"));  // served to the next chat request
//! mock.push_for("weather", Reply::rate_limited("2"));
//! // point a client (or `crew-runner` via OPENAI_API_BASE) at mock.base_url()
//! assert_eq!(mock.chat_count(), 1);
//! ```
//!
//! - Runs on its own threads (an acceptor and one thread per connection), so sync tests, async
//!   tests and tests that spawn the `crew-runner` binary can all use it. HTTP/1.1 with keep-alive.
//! - `POST /v1/chat/completions` (streamed as SSE when the body says `"stream": true`, with a
//!   usage chunk when `stream_options.include_usage` is set) and `GET /v1/models`.
//! - Replies come from a script: the first pushed reply whose key (a substring) occurs in the
//!   request's last user message, else the first unkeyed one; each is used once. With nothing
//!   left that fits, the answer is [`default_answer`] of the last user message, in CrewAI's
//!   ReAct form (`Thought: …\nFinal Answer: …`).
//! - Every request is recorded ([`RecordedRequest`]: method, path, headers, JSON body).
//! - Waiting helpers ([`MockLlm::wait_for_chat_count`], [`MockLlm::wait_for_aborts`]) block on
//!   a condition variable (no polling in tests); their timeout is only a safety net.
//! - Dropping the mock stops it: the port closes and open connections are closed.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A tool call the mock answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockToolCall {
    pub id: String,
    pub name: String,
    /// JSON text.
    pub arguments: String,
}

/// One scripted reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A normal answer with this text (`finish_reason: stop`).
    Text(String),
    /// An answer that calls these tools (`finish_reason: tool_calls`).
    ToolCalls(Vec<MockToolCall>),
    /// An HTTP error: status, body (sent as JSON), optional `Retry-After` header value.
    Status { code: u16, body: String, retry_after: Option<String> },
    /// Read the request, then close the connection without answering.
    Reset,
    /// Wait this many milliseconds, then send the inner reply. If the client closes the
    /// connection while the mock waits, the wait ends and an abort is counted.
    Delay(u64, Box<Reply>),
    /// A 200 whose body is not JSON (for streams: a chunk that is not JSON).
    InvalidJson,
    /// A 200 completion with `"choices": []` (for streams: only a chunk without choices).
    EmptyChoices,
    /// Start the answer (SSE chunks, or half of a fixed-length body), then close the connection.
    StreamCut,
    /// Stream the first piece of this text, then hold the connection open until the client
    /// closes it (counted as an abort) or the mock stops.
    StreamStall(String),
    /// Hold the request until [`MockLlm::release`] is called, then send the inner reply. If
    /// the client closes the connection while held, an abort is counted and nothing is sent.
    /// Held requests are counted by [`MockLlm::held`] (and waited for with
    /// [`MockLlm::wait_for_held`]).
    Held(Box<Reply>),
    /// Stream the first half of this text's pieces, hold until [`MockLlm::release`] (counted by
    /// [`MockLlm::held`] like [`Reply::Held`]), then stream the rest and finish normally. Not
    /// streamed: the whole text once released.
    StreamHeld(String),
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::Text(text.into())
    }

    /// One tool call with id `call_<name>`.
    pub fn tool_call(name: &str, arguments: Value) -> Reply {
        Reply::ToolCalls(vec![MockToolCall { id: format!("call_{name}"), name: name.into(), arguments: arguments.to_string() }])
    }

    /// An OpenAI-style error body `{"error": {"message": …}}` with this status.
    pub fn status(code: u16, message: &str) -> Reply {
        Reply::Status { code, body: json!({"error": {"message": message, "type": "mock_error"}}).to_string(), retry_after: None }
    }

    /// A 429 with this `Retry-After` value.
    pub fn rate_limited(retry_after: &str) -> Reply {
        Reply::Status {
            code: 429,
            body: json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}).to_string(),
            retry_after: Some(retry_after.into()),
        }
    }

    pub fn delay(ms: u64, then: Reply) -> Reply {
        Reply::Delay(ms, Box::new(then))
    }

    /// `then`, once the test calls [`MockLlm::release`].
    pub fn held(then: Reply) -> Reply {
        Reply::Held(Box::new(then))
    }
}

/// A request the mock received.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub body: Value,
    pub raw_body: String,
    /// When the request (head and body) had been read.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The content of the last `user` message (else of the last message), or "".
    pub fn last_user_message(&self) -> String {
        last_user_message(&self.body)
    }

    /// The contents of the `tool` messages (tool results), in order.
    pub fn tool_results(&self) -> Vec<String> {
        let messages = self.body["messages"].as_array().cloned().unwrap_or_default();
        messages.iter().filter(|m| m["role"] == "tool").map(|m| m["content"].as_str().unwrap_or_default().to_string()).collect()
    }

    /// The path without its query string and trailing `/`.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or_default().trim_end_matches('/')
    }

    pub fn is_chat(&self) -> bool {
        self.method == "POST" && self.route().ends_with("/chat/completions")
    }

    pub fn is_stream(&self) -> bool {
        self.body["stream"].as_bool().unwrap_or(false)
    }
}

/// The answer when the script has nothing that fits: ReAct form, text derived from a hash of
/// the last user message (so equal prompts get equal answers, different prompts differ).
pub fn default_answer(last_user_message: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in last_user_message.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let gist: String = last_user_message.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
    format!("Thought: I now know the final answer\nFinal Answer: Mock answer {hash:016x} about: {gist}")
}

struct Scripted {
    key: Option<String>,
    reply: Reply,
}

#[derive(Default)]
struct State {
    script: VecDeque<Scripted>,
    requests: Vec<RecordedRequest>,
    chat_count: usize,
    aborts: usize,
    connections: usize,
    /// Requests waiting in a [`Reply::Held`] right now.
    held: usize,
    /// Set by [`MockLlm::release`]: held replies go out.
    released: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `done` holds or `timeout` passes; returns whether it holds.
    fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while !done(&state) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
        true
    }
}

/// A running mock server. Stops when dropped.
pub struct MockLlm {
    shared: Arc<Shared>,
    addr: SocketAddr,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: Option<JoinHandle<()>>,
}

/// How often blocked connection threads look at the stop flag.
const POLL: Duration = Duration::from_millis(50);

impl MockLlm {
    /// Binds 127.0.0.1:0 and starts serving.
    pub fn start() -> MockLlm {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mock LLM server");
        let addr = listener.local_addr().expect("mock address");
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new(), stopping: AtomicBool::new(false) });
        let threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let acceptor = {
            let shared = shared.clone();
            let threads = threads.clone();
            std::thread::Builder::new()
                .name("mock-llm-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if shared.stopping() {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        shared.update(|s| s.connections += 1);
                        let shared = shared.clone();
                        let handle = std::thread::Builder::new()
                            .name("mock-llm-conn".into())
                            .spawn(move || Connection::new(stream, shared).serve())
                            .expect("spawn a mock connection thread");
                        let mut threads = threads.lock().unwrap_or_else(|p| p.into_inner());
                        threads.retain(|t| !t.is_finished());
                        threads.push(handle);
                    }
                })
                .expect("spawn the mock acceptor")
        };
        MockLlm { shared, addr, threads, acceptor: Some(acceptor) }
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply for the next chat request.
    pub fn push(&self, reply: Reply) {
        self.shared.update(|s| s.script.push_back(Scripted { key: None, reply }));
    }

    /// Queues a reply for the next chat request whose last user message contains `key`.
    pub fn push_for(&self, key: &str, reply: Reply) {
        self.shared.update(|s| s.script.push_back(Scripted { key: Some(key.to_string()), reply }));
    }

    /// Scripted replies not used yet.
    pub fn pending_replies(&self) -> usize {
        self.shared.lock().script.len()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The chat-completion requests so far.
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.iter().filter(|r| r.is_chat()).cloned().collect()
    }

    /// How many chat-completion requests arrived.
    pub fn chat_count(&self) -> usize {
        self.shared.lock().chat_count
    }

    /// How many times a client closed the connection while the mock was still answering
    /// (during a `Delay` or a `StreamStall`, or when a write failed).
    pub fn aborts(&self) -> usize {
        self.shared.lock().aborts
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Blocks until `n` chat requests arrived (true) or `timeout` passed (false).
    pub fn wait_for_chat_count(&self, n: usize, timeout: Duration) -> bool {
        self.shared.wait_until(timeout, |s| s.chat_count >= n)
    }

    /// Blocks until `n` aborts were seen (true) or `timeout` passed (false).
    pub fn wait_for_aborts(&self, n: usize, timeout: Duration) -> bool {
        self.shared.wait_until(timeout, |s| s.aborts >= n)
    }

    /// Requests held by a [`Reply::Held`] right now (not yet released, client still there).
    pub fn held(&self) -> usize {
        self.shared.lock().held
    }

    /// Blocks until `n` requests are held at once (true) or `timeout` passed (false).
    pub fn wait_for_held(&self, n: usize, timeout: Duration) -> bool {
        self.shared.wait_until(timeout, |s| s.held >= n)
    }

    /// Lets every held reply (now and later) go out.
    pub fn release(&self) {
        self.shared.update(|s| s.released = true);
    }

    /// Stops serving: the port closes, connection threads end. Idempotent.
    pub fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        self.shared.changed.notify_all();
        let _ = TcpStream::connect(self.addr); // wakes the acceptor
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for MockLlm {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What to do with the connection after a reply.
enum After {
    KeepAlive,
    Close,
}

struct Connection {
    stream: TcpStream,
    shared: Arc<Shared>,
    buf: Vec<u8>,
}

struct Parsed {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Connection {
    fn new(stream: TcpStream, shared: Arc<Shared>) -> Connection {
        let _ = stream.set_read_timeout(Some(POLL));
        let _ = stream.set_nodelay(true);
        Connection { stream, shared, buf: Vec::new() }
    }

    fn serve(mut self) {
        while let Some(request) = self.read_request() {
            if self.shared.stopping() {
                break;
            }
            let close_requested = request.headers.iter().any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"));
            let recorded = RecordedRequest {
                method: request.method.clone(),
                path: request.path.clone(),
                headers: request.headers.clone(),
                body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
                raw_body: String::from_utf8_lossy(&request.body).into_owned(),
                received_at: Instant::now(),
            };
            let reply = if recorded.is_chat() {
                let last = recorded.last_user_message();
                let mut reply = None;
                self.shared.update(|s| {
                    s.chat_count += 1;
                    s.requests.push(recorded.clone());
                    reply = take_reply(&mut s.script, &last);
                });
                Some(reply.unwrap_or_else(|| Reply::Text(default_answer(&last))))
            } else {
                self.shared.update(|s| s.requests.push(recorded.clone()));
                None
            };
            let after = match reply {
                Some(reply) => self.answer_chat(&recorded, reply),
                None => self.answer_other(&recorded),
            };
            if matches!(after, After::Close) || close_requested {
                break;
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Reads more bytes; `false` on EOF, error, or stop.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        loop {
            if self.shared.stopping() {
                return false;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => continue,
                Err(_) => return false,
            }
        }
    }

    /// The next request on the connection, `None` when the client is gone.
    fn read_request(&mut self) -> Option<Parsed> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if !self.fill() {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split_whitespace();
        let method = first.next()?.to_string();
        let path = first.next()?.to_string();
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
        let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let body = if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            self.read_chunked()?
        } else {
            let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            while self.buf.len() < length {
                if !self.fill() {
                    return None;
                }
            }
            self.buf.drain(..length).collect()
        };
        Some(Parsed { method, path, headers, body })
    }

    fn read_chunked(&mut self) -> Option<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                if !self.fill() {
                    return None;
                }
            };
            let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            self.buf.drain(..line_end + 2);
            while self.buf.len() < size + 2 {
                if !self.fill() {
                    return None;
                }
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
            if size == 0 {
                return Some(body);
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> bool {
        let ok = self.stream.write_all(bytes).and_then(|()| self.stream.flush()).is_ok();
        if !ok {
            self.shared.update(|s| s.aborts += 1);
        }
        ok
    }

    fn answer_other(&mut self, request: &RecordedRequest) -> After {
        if request.method == "GET" && request.route().ends_with("/models") {
            let body = json!({"object": "list", "data": [{"id": "mock-model", "object": "model", "created": 0, "owned_by": "mock"}]});
            self.json_response(200, &body.to_string(), None)
        } else {
            let body = json!({"error": {"message": format!("no route for {} {}", request.method, request.path), "type": "not_found"}});
            self.json_response(404, &body.to_string(), None)
        }
    }

    fn json_response(&mut self, code: u16, body: &str, retry_after: Option<&str>) -> After {
        let mut head = format!("HTTP/1.1 {code} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", reason(code), body.len());
        if let Some(v) = retry_after {
            head.push_str(&format!("retry-after: {v}\r\n"));
        }
        head.push_str("\r\n");
        if self.write(format!("{head}{body}").as_bytes()) {
            After::KeepAlive
        } else {
            After::Close
        }
    }

    /// Waits `ms` watching for the client closing the connection; `false` if it did (or the
    /// mock stops).
    fn wait_watching_client(&mut self, ms: Option<u64>) -> bool {
        let deadline = ms.map(|ms| Instant::now() + Duration::from_millis(ms));
        let mut probe = [0u8; 1];
        loop {
            if self.shared.stopping() {
                return false;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return true;
            }
            match self.stream.peek(&mut probe) {
                Ok(0) => {
                    self.shared.update(|s| s.aborts += 1);
                    return false;
                }
                // The client sent more bytes (a next request): keep them for later, wait on.
                Ok(_) => {
                    let state = self.shared.lock();
                    let _ = self.shared.changed.wait_timeout(state, POLL);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(_) => {
                    self.shared.update(|s| s.aborts += 1);
                    return false;
                }
            }
        }
    }

    /// Waits until [`MockLlm::release`], counted in `held` meanwhile; `false` if the client
    /// closed the connection (an abort) or the mock stops.
    fn wait_for_release(&mut self) -> bool {
        self.shared.update(|s| s.held += 1);
        let mut probe = [0u8; 1];
        let outcome = loop {
            if self.shared.stopping() {
                break false;
            }
            {
                let state = self.shared.lock();
                if state.released {
                    break true;
                }
                let _ = self.shared.changed.wait_timeout(state, POLL);
            }
            match self.stream.peek(&mut probe) {
                Ok(0) => break false,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(_) => break false,
            }
        };
        let aborted = !outcome && !self.shared.stopping();
        // One update: a waiter never sees the abort counted while the request still counts as
        // held (it would take the held request for the next one).
        self.shared.update(|s| {
            s.held -= 1;
            if aborted {
                s.aborts += 1;
            }
        });
        outcome
    }

    fn answer_chat(&mut self, request: &RecordedRequest, reply: Reply) -> After {
        let model = request.body["model"].as_str().unwrap_or("mock-model").to_string();
        let stream = request.is_stream();
        let include_usage = request.body["stream_options"]["include_usage"].as_bool().unwrap_or(false);
        let prompt_tokens = prompt_tokens(&request.body);
        match reply {
            Reply::Delay(ms, then) => {
                if self.wait_watching_client(Some(ms)) {
                    self.answer_chat(request, *then)
                } else {
                    After::Close
                }
            }
            Reply::Held(then) => {
                if self.wait_for_release() {
                    self.answer_chat(request, *then)
                } else {
                    After::Close
                }
            }
            Reply::StreamHeld(text) if !stream => self.answer_chat(request, Reply::Held(Box::new(Reply::Text(text)))),
            Reply::Reset => After::Close,
            Reply::Status { code, body, retry_after } => self.json_response(code, &body, retry_after.as_deref()),
            Reply::InvalidJson if !stream => self.json_response(200, "{\"id\": \"chatcmpl-mock\", \"choices\": [", None),
            Reply::EmptyChoices if !stream => {
                let body = json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": model, "choices": []});
                self.json_response(200, &body.to_string(), None)
            }
            Reply::StreamCut if !stream => {
                let body = completion(&model, &Reply::text("this reply is cut short"), prompt_tokens).to_string();
                let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
                self.write(format!("{head}{}", &body[..body.len() / 2]).as_bytes());
                After::Close
            }
            Reply::StreamStall(_) if !stream => {
                self.wait_watching_client(None);
                After::Close
            }
            reply if !stream => {
                let body = completion(&model, &reply, prompt_tokens).to_string();
                self.json_response(200, &body, None)
            }
            reply => self.stream_chat(&model, reply, include_usage, prompt_tokens),
        }
    }

    fn stream_chat(&mut self, model: &str, reply: Reply, include_usage: bool, prompt_tokens: u64) -> After {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
        if !self.write(head.as_bytes()) {
            return After::Close;
        }
        let chunk = |delta: Value, finish: Option<&str>| {
            json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let role = chunk(json!({"role": "assistant", "content": ""}), None);
        let mut events: Vec<String> = Vec::new();
        let mut completion_text = String::new();
        let mut close_after = false;
        let mut hold_at = None;
        match &reply {
            Reply::StreamHeld(text) => {
                events.push(role.to_string());
                let parts = pieces(text);
                hold_at = Some(1 + parts.len() / 2);
                for piece in parts {
                    events.push(chunk(json!({"content": piece}), None).to_string());
                }
                events.push(chunk(json!({}), Some("stop")).to_string());
                completion_text = text.clone();
            }
            Reply::Text(text) => {
                events.push(role.to_string());
                for piece in pieces(text) {
                    events.push(chunk(json!({"content": piece}), None).to_string());
                }
                events.push(chunk(json!({}), Some("stop")).to_string());
                completion_text = text.clone();
            }
            Reply::ToolCalls(calls) => {
                events.push(role.to_string());
                for (i, call) in calls.iter().enumerate() {
                    let split = call.arguments.len() / 2;
                    let split = (0..=split).rev().find(|&k| call.arguments.is_char_boundary(k)).unwrap_or(0);
                    let (a, b) = call.arguments.split_at(split);
                    events.push(
                        chunk(
                            json!({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                        "function": {"name": call.name, "arguments": ""}}]}),
                            None,
                        )
                        .to_string(),
                    );
                    events.push(chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": a}}]}), None).to_string());
                    events.push(chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": b}}]}), None).to_string());
                    completion_text.push_str(&call.arguments);
                }
                events.push(chunk(json!({}), Some("tool_calls")).to_string());
            }
            Reply::InvalidJson => events.push("{\"choices\": [{\"delta\": ".to_string()),
            Reply::EmptyChoices => {
                events.push(
                    json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": []})
                        .to_string(),
                );
            }
            Reply::StreamCut => {
                events.push(role.to_string());
                events.push(chunk(json!({"content": "this reply is "}), None).to_string());
                close_after = true;
            }
            Reply::StreamStall(text) => {
                events.push(role.to_string());
                events.push(chunk(json!({"content": pieces(text).first().cloned().unwrap_or_default()}), None).to_string());
                close_after = true;
            }
            other => unreachable!("handled before streaming: {other:?}"),
        }
        if include_usage && !close_after && matches!(reply, Reply::Text(_) | Reply::ToolCalls(_) | Reply::StreamHeld(_)) {
            events.push(
                json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [], "usage": usage(prompt_tokens, &completion_text)})
                .to_string(),
            );
        }
        for (i, event) in events.into_iter().enumerate() {
            if hold_at == Some(i) && !self.wait_for_release() {
                return After::Close;
            }
            if !self.write_chunk(&format!("data: {event}\n\n")) {
                return After::Close;
            }
        }
        if close_after {
            if matches!(reply, Reply::StreamStall(_)) {
                self.wait_watching_client(None);
            }
            return After::Close;
        }
        if !self.write_chunk("data: [DONE]\n\n") || !self.write(b"0\r\n\r\n") {
            return After::Close;
        }
        After::KeepAlive
    }

    fn write_chunk(&mut self, data: &str) -> bool {
        self.write(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
    }
}

/// Takes the reply for a request whose last user message is `last`: the first keyed reply whose
/// key occurs in it, else the first unkeyed reply.
fn take_reply(script: &mut VecDeque<Scripted>, last: &str) -> Option<Reply> {
    let index = script
        .iter()
        .position(|s| s.key.as_deref().is_some_and(|k| last.contains(k)))
        .or_else(|| script.iter().position(|s| s.key.is_none()))?;
    script.remove(index).map(|s| s.reply)
}

/// The content of the last `user` message of a chat request body (else of the last message), or "".
pub fn last_user_message(body: &Value) -> String {
    let Some(messages) = body["messages"].as_array() else { return String::new() };
    let pick = messages.iter().rev().find(|m| m["role"] == "user").or_else(|| messages.last());
    pick.and_then(|m| m["content"].as_str()).unwrap_or_default().to_string()
}

/// Words in all messages: a deterministic stand-in for tokens.
fn prompt_tokens(body: &Value) -> u64 {
    body["messages"]
        .as_array()
        .map(|ms| ms.iter().map(|m| m["content"].as_str().unwrap_or_default().split_whitespace().count() as u64).sum())
        .unwrap_or(0)
}

fn usage(prompt_tokens: u64, completion: &str) -> Value {
    let completion_tokens = completion.split_whitespace().count() as u64 + 1;
    json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens})
}

fn completion(model: &str, reply: &Reply, prompt_tokens: u64) -> Value {
    let (message, finish, text) = match reply {
        Reply::ToolCalls(calls) => (
            json!({"role": "assistant", "content": null, "tool_calls": calls.iter().map(|c| json!({
                "id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})).collect::<Vec<_>>()}),
            "tool_calls",
            calls.iter().map(|c| c.arguments.as_str()).collect::<Vec<_>>().join(" "),
        ),
        Reply::Text(text) => (json!({"role": "assistant", "content": text}), "stop", text.clone()),
        other => unreachable!("not a completion: {other:?}"),
    };
    json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": model,
           "choices": [{"index": 0, "message": message, "finish_reason": finish}],
           "usage": usage(prompt_tokens, &text)})
}

/// The text in pieces of a few words (whitespace kept), so streams have several deltas.
fn pieces(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    words.chunks(2).map(|c| c.concat()).filter(|p| !p.is_empty()).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
