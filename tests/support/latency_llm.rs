//! An OpenAI-compatible server that answers every chat request after a fixed latency, built so
//! that it is never the bottleneck of a concurrency measurement.
//!
//! ```ignore
//! let llm = LatencyLlm::start(Duration::from_millis(200)); // 127.0.0.1, an OS-chosen port
//! // point crew-runner at llm.base_url() (OPENAI_API_BASE), run N executions …
//! assert_eq!(llm.stats().chats, 2 * n);
//! println!("{} requests were in flight at once", llm.stats().max_in_flight);
//! ```
//!
//! - Async (axum on its own current-thread tokio runtime on one thread): a waiting request is a
//!   timer, not a thread, so thousands can wait at once and each is answered `latency` after it
//!   was read, whatever the load.
//! - `POST …/chat/completions`: after the latency, [`default_answer`] of the last user message
//!   (CrewAI's ReAct form), as SSE chunks when the body says `"stream": true` (with a usage chunk
//!   when `stream_options.include_usage` is set), else as one JSON completion. `GET …/models`
//!   lists one model. Anything else is a 404.
//! - [`LatencyLlm::stats`]: chat requests answered, in flight now, and the most in flight at once
//!   (the concurrency the client really reached).
//! - Dropping it stops the server (open requests are dropped) and joins its thread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::mock_llm::{default_answer, last_user_message};

/// What the server has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencyStats {
    /// Chat requests answered.
    pub chats: usize,
    /// Chat requests read and not yet answered.
    pub in_flight: usize,
    /// The most chat requests in flight at once.
    pub max_in_flight: usize,
    /// When the first chat request was read.
    pub first_request: Option<Instant>,
    /// When the last chat answer was sent.
    pub last_answer: Option<Instant>,
}

#[derive(Default)]
struct Counters {
    chats: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// (first request read, last answer sent).
    span: Mutex<(Option<Instant>, Option<Instant>)>,
    /// When each chat request was read, in order.
    arrivals: Mutex<Vec<Instant>>,
}

struct Shared {
    latency: Duration,
    counters: Counters,
}

/// The running server (see the module docs).
pub struct LatencyLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LatencyLlm {
    /// Starts the server on 127.0.0.1 with an OS-chosen port; every chat answer waits `latency`.
    pub fn start(latency: Duration) -> LatencyLlm {
        let shared = Arc::new(Shared { latency, counters: Counters::default() });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("latency-llm".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let router = Router::new()
                        .route("/{*path}", post(chat))
                        .route("/v1/models", get(models))
                        .route("/models", get(models))
                        .with_state(state);
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .expect("spawn the latency-llm thread");
        LatencyLlm { addr, shared, stop: Some(stop), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// When each chat request was read, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.shared.counters.arrivals.lock().unwrap().clone()
    }

    /// The counters now.
    pub fn stats(&self) -> LatencyStats {
        let c = &self.shared.counters;
        let (first_request, last_answer) = *c.span.lock().unwrap();
        LatencyStats {
            chats: c.chats.load(Ordering::SeqCst),
            in_flight: c.in_flight.load(Ordering::SeqCst),
            max_in_flight: c.max_in_flight.load(Ordering::SeqCst),
            first_request,
            last_answer,
        }
    }
}

impl Drop for LatencyLlm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Counts a request in flight until dropped.
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn enter(counters: &'a Counters) -> InFlight<'a> {
        counters.span.lock().unwrap().0.get_or_insert_with(Instant::now);
        counters.arrivals.lock().unwrap().push(Instant::now());
        let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(counters)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn models() -> Json<Value> {
    Json(json!({"object": "list", "data": [{"id": "mock-model", "object": "model", "owned_by": "mock"}]}))
}

async fn chat(State(shared): State<Arc<Shared>>, uri: axum::http::Uri, Json(body): Json<Value>) -> Response {
    if !uri.path().trim_end_matches('/').ends_with("/chat/completions") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let answer = {
        let _in_flight = InFlight::enter(&shared.counters);
        tokio::time::sleep(shared.latency).await;
        default_answer(&last_user_message(&body))
    };
    shared.counters.chats.fetch_add(1, Ordering::SeqCst);
    shared.counters.span.lock().unwrap().1 = Some(Instant::now());
    let model = body["model"].as_str().unwrap_or("mock-model").to_string();
    let usage = json!({"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120});
    if !body["stream"].as_bool().unwrap_or(false) {
        return Json(json!({
            "id": "chatcmpl-latency", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": usage,
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-latency", "object": "chat.completion.chunk", "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": answer}), Value::Null), chunk(json!({}), json!("stop"))];
    if body["stream_options"]["include_usage"].as_bool().unwrap_or(false) {
        events.push(json!({"id": "chatcmpl-latency", "object": "chat.completion.chunk", "model": model, "choices": [], "usage": usage}));
    }
    let mut text: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], text).into_response()
}
