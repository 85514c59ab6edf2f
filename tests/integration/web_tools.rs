//! The built-in network tools through the real binary: Serper, Brave and Tavily searches and
//! page scraping against local fixtures (the search endpoints pointed there by their base-URL
//! variables, fetches allowed to 127.0.0.1 by `--allow-private-network`), the fetch policy's
//! refusals without that flag, `--no-network-tools`, and a missing API key named before any LLM
//! call.

use crate::harness;
use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use harness::{arg, Crew};
use serde_json::{json, Value};
use support::{MockLlm, Reply};

const PAGE: &str = "<html><head><title>Fixture</title><script>var HIDDEN_SCRIPT = 1;</script></head>\
    <body><h1>Fixture page</h1><p>SCRAPED-TEXT about async rust.</p></body></html>";

/// The fixture server: search APIs shaped like Serper's, Brave's and Tavily's, and an HTML page.
struct Fixtures {
    addr: SocketAddr,
    /// Requests served, all routes.
    hits: Arc<AtomicUsize>,
}

impl Fixtures {
    fn start() -> Fixtures {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let state = hits.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/search", post(serper))
                    .route("/res/v1/web/search", get(brave))
                    .route("/tavily/search", post(tavily))
                    .route("/page.html", get(page))
                    .route("/redirect", get(redirect))
                    .with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Fixtures { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()) == Some(value)
}

async fn serper(State(hits): State<Arc<AtomicUsize>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    if !header_is(&headers, "x-api-key", "serper-key") {
        return (StatusCode::FORBIDDEN, Json(json!({"message": "bad key"}))).into_response();
    }
    let q = body["q"].as_str().unwrap_or_default();
    Json(json!({"organic": [{"title": format!("Serper result for {q}"), "link": "https://example.org/serper", "snippet": "SERPER-SNIPPET"}]}))
        .into_response()
}

async fn brave(State(hits): State<Arc<AtomicUsize>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    if !header_is(&headers, "x-subscription-token", "brave-key") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let query = query.unwrap_or_default();
    let q = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.into_owned()).unwrap_or_default();
    Json(json!({"web": {"results": [{"title": format!("Brave result for {q}"), "url": "https://example.org/brave", "description": "BRAVE-SNIPPET"}]}}))
        .into_response()
}

async fn tavily(State(hits): State<Arc<AtomicUsize>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    if !header_is(&headers, "authorization", "Bearer tavily-key") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let q = body["query"].as_str().unwrap_or_default();
    Json(
        json!({"results": [{"title": format!("Tavily result for {q}"), "url": "https://example.org/tavily", "content": "TAVILY-CONTENT"}]}),
    )
    .into_response()
}

async fn page(State(hits): State<Arc<AtomicUsize>>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}

async fn redirect(State(hits): State<Arc<AtomicUsize>>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    Redirect::temporary("/page.html").into_response()
}

/// A crew whose one agent has `tools`, on the mock LLM (or `--model offline`), with `description`.
fn crew_file(crew: &Crew, tools: &str, description: &str) -> std::path::PathBuf {
    crew.write(
        "crew/crew.yaml",
        &format!(
            "name: web\nllm: openai/mock-model\nagents:\n  researcher:\n    role: Researcher\n    goal: Find things\n    \
             backstory: Searches.\n    tools: [{tools}]\ntasks:\n  research:\n    description: {}\n    \
             expected_output: A short summary.\n    agent: researcher\n",
            serde_json::to_string(description).unwrap()
        ),
    )
}

/// A crew installation whose search endpoints point at `fx`, with keys for all three.
fn crew_with_keys(mock: &MockLlm, fx: &Fixtures) -> Crew {
    let mut crew = Crew::new(Some(&mock.base_url()));
    for (k, v) in [
        ("SERPER_API_KEY", "serper-key".to_string()),
        ("BRAVE_API_KEY", "brave-key".into()),
        ("TAVILY_API_KEY", "tavily-key".into()),
        ("CREW_RUNNER_SERPER_URL", fx.url("")),
        ("CREW_RUNNER_BRAVE_URL", fx.url("")),
        ("CREW_RUNNER_TAVILY_URL", fx.url("/tavily")),
    ] {
        crew.env.push((k.into(), v));
    }
    crew
}

/// The mock LLM, the fixtures and an installation pointed at both.
fn setup() -> (MockLlm, Fixtures, Crew) {
    let mock = MockLlm::start();
    let fx = Fixtures::start();
    let crew = crew_with_keys(&mock, &fx);
    (mock, fx, crew)
}

/// Runs the binary and asserts it exits 0.
fn succeeds(crew: &Crew, args: &[&str]) -> harness::Outcome {
    let out = crew.outcome(args);
    assert_eq!(out.code, Some(0), "crew-runner {args:?}\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
    out
}

/// The `tool` messages of the last chat request, in order.
fn tool_results(mock: &MockLlm) -> Vec<String> {
    mock.chat_requests().last().expect("a chat request").tool_results()
}

#[test]
fn search_and_scrape_results_reach_the_model() {
    let (mock, fx, crew) = setup();
    let file = crew_file(&crew, "SerperDevTool, ScrapeWebsiteTool, BraveSearchTool, TavilySearchTool", "Research async rust.");
    mock.push(Reply::tool_call("serper_search", json!({"search_query": "async rust"})));
    mock.push(Reply::tool_call("scrape_website", json!({"website_url": fx.url("/redirect")})));
    mock.push(Reply::tool_call("brave_search", json!({"search_query": "tokio"})));
    mock.push(Reply::tool_call("tavily_search", json!({"query": "axum"})));
    mock.push(Reply::text("Final Answer: done"));
    let out = succeeds(&crew, &["--run", &arg(&file), "--allow-private-network"]);
    let first = &mock.chat_requests()[0];
    let offered: Vec<&str> = first.body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(offered, ["serper_search", "scrape_website", "brave_search", "tavily_search"]);
    let results = tool_results(&mock);
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(results[0].contains("Title: Serper result for async rust") && results[0].contains("SERPER-SNIPPET"), "{}", results[0]);
    assert!(results[1].contains("Fixture page") && results[1].contains("SCRAPED-TEXT about async rust."), "{}", results[1]);
    assert!(!results[1].contains("HIDDEN_SCRIPT") && !results[1].contains("<p>"), "{}", results[1]);
    assert!(results[2].contains("Brave result for tokio") && results[2].contains("BRAVE-SNIPPET"), "{}", results[2]);
    assert!(results[3].contains("Tavily result for axum") && results[3].contains("TAVILY-CONTENT"), "{}", results[3]);
    assert!(out.stdout.contains("done"), "{}", out.stdout);
}

#[test]
fn the_offline_model_calls_the_named_tools_and_its_output_carries_their_results() {
    let (mock, fx, crew) = setup();
    let description = format!("Search with SerperDevTool for \"async rust\", then read {} with ScrapeWebsiteTool.", fx.url("/page.html"));
    let file = crew_file(&crew, "SerperDevTool, ScrapeWebsiteTool", &description);
    let out = succeeds(&crew, &["--run", &arg(&file), "--model", "offline", "--allow-private-network"]);
    assert!(out.stdout.contains("SERPER-SNIPPET"), "{}", out.stdout);
    assert!(out.stdout.contains("SCRAPED-TEXT"), "{}", out.stdout);
    assert_eq!(mock.chat_count(), 0, "the offline model needs no LLM server");
}

#[test]
fn private_addresses_are_refused_without_the_flag() {
    let (mock, fx, crew) = setup();
    let file = crew_file(&crew, "ScrapeWebsiteTool, WebsiteSearchTool, SerperDevTool", "Read pages.");
    let port = fx.addr.port();
    let urls = [
        fx.url("/page.html"),
        format!("http://localhost:{port}/page.html"),
        format!("http://[::1]:{port}/page.html"),
        "http://10.0.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ];
    for url in &urls {
        mock.push(Reply::tool_call("scrape_website", json!({"website_url": url})));
    }
    mock.push(Reply::tool_call("website_search", json!({"search_query": "rust", "website": fx.url("/redirect")})));
    mock.push(Reply::tool_call("serper_search", json!({"search_query": "rust"})));
    mock.push(Reply::text("Final Answer: nothing fetched"));
    succeeds(&crew, &["--run", &arg(&file)]);
    let results = tool_results(&mock);
    assert_eq!(results.len(), urls.len() + 2, "{results:?}");
    for (r, class) in results.iter().zip(["loopback", "loopback", "loopback", "private", "private", "link-local", "loopback", "loopback"]) {
        assert!(r.starts_with("Error: ") && r.contains("refused") && r.contains(&format!("a {class} address")), "{r}");
    }
    assert_eq!(fx.hits(), 0, "no request reached the fixtures");
}

#[test]
fn no_network_tools_drops_them_with_the_warning() {
    let (mock, fx, crew) = setup();
    let file = crew_file(&crew, "SerperDevTool, read_file", "Research.");
    mock.push(Reply::text("Final Answer: offline"));
    let out = succeeds(&crew, &["--run", &arg(&file), "--no-network-tools"]);
    assert!(
        out.stderr.contains("tool `SerperDevTool` needs the network; not available (network tools are off: --no-network-tools), dropped"),
        "{}",
        out.stderr
    );
    let offered: Vec<String> = mock.chat_requests()[0].body["tools"]
        .as_array()
        .map(|a| a.iter().map(|t| t["function"]["name"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    assert_eq!(offered, ["read_file"]);

    let validated = crew.outcome(&["validate", &arg(&file), "--no-network-tools"]);
    assert_eq!(validated.code, Some(0), "{}", validated.stderr);
    assert!(validated.stderr.contains("needs the network; not available"), "{}", validated.stderr);
    assert_eq!(fx.hits(), 0);
}

#[test]
fn a_missing_key_is_named_by_validate_and_refused_by_run_before_any_llm_call() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew, "SerperDevTool, TavilySearchTool", "Research.");
    let run = |args: &[&str]| {
        let out = crew.cmd(args).env_remove("SERPER_API_KEY").env_remove("TAVILY_API_KEY").output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, stderr) = run(&["validate", &arg(&file)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("SerperDevTool` needs SERPER_API_KEY") && stderr.contains("TAVILY_API_KEY"), "{stderr}");
    let (code, stderr) = run(&["--run", &arg(&file)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("SERPER_API_KEY") && stderr.contains("TAVILY_API_KEY"), "{stderr}");
    assert_eq!(mock.chat_count(), 0);
    crew.assert_nothing_recorded();
    // Without network tools the key is not needed.
    mock.push(Reply::text("Final Answer: fine"));
    let (code, stderr) = run(&["--run", &arg(&file), "--no-network-tools"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_replay_of_a_tool_using_run_needs_no_server_and_no_network() {
    let (mock, fx, crew) = setup();
    let file = crew_file(&crew, "SerperDevTool, ScrapeWebsiteTool", "Research async rust.");
    let recording = crew.dir.path().join("run.jsonl");
    mock.push(Reply::tool_call("serper_search", json!({"search_query": "async rust"})));
    mock.push(Reply::tool_call("scrape_website", json!({"website_url": fx.url("/page.html")})));
    mock.push(Reply::text("Final Answer: recorded answer"));
    succeeds(&crew, &["--run", &arg(&file), "--allow-private-network", "--record", &arg(&recording)]);
    let (served, asked) = (fx.hits(), mock.chat_count());
    assert_eq!(served, 2);
    let text = std::fs::read_to_string(&recording).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("{\"tool_result\"")).count(), 2, "{text}");

    // No keys, no endpoints, no private network: every tool result comes from the recording.
    let replayer = Crew::new(None);
    let out = succeeds(&replayer, &["--run", &arg(&file), "--replay", &arg(&recording)]);
    assert!(out.stdout.contains("recorded answer"), "{}", out.stdout);
    assert_eq!((fx.hits(), mock.chat_count()), (served, asked), "the replay reached a server");
}
