//! The desktop app end to end in a real window: Xvfb, a D-Bus session, tauri-driver (W3C
//! WebDriver) and the real `crew-runner` binary on a temp data dir, with the offline model and a mock OpenAI server.
//! The in-app HTTP API is switched on in Settings and called while the window is open.
//!
//! Needs `Xvfb`, `dbus-run-session`, `WebKitWebDriver` (Debian: xvfb, dbus-x11, webkit2gtk-driver)
//! and `tauri-driver` (`cargo install tauri-driver --locked`) on PATH; `.ci/run` installs them. It is
//! built only with the `gui` feature: `cargo test --features gui-test --test gui_window`.
//! Screenshots of each view are saved under `target/gui-screenshots/`.
//! `CREW_RUNNER_GUI_BINARY` runs another build of the app (e.g. the release binary).
//!
//! Waiting for the page is polling the DOM with a generous bound (`GIVE_UP`); reaching it fails.

#[path = "window_steps/compare_runs.rs"]
mod compare_runs;
#[path = "window_steps/crew_graph.rs"]
mod crew_graph;
#[path = "harness/mod.rs"]
mod harness;
#[path = "window_steps/human_review.rs"]
mod human_review;
#[path = "support/mock_llm.rs"]
#[allow(dead_code)]
mod support;
#[path = "window_steps/trace_waterfall.rs"]
mod trace_waterfall;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

const GIVE_UP: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(100);
/// Each offline LLM call waits this long, so a run lasts long enough to cancel or kill it.
const OFFLINE_DELAY_MS: &str = "1000";

fn app_binary() -> PathBuf {
    std::env::var_os("CREW_RUNNER_GUI_BINARY").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_crew-runner")))
}

fn screenshots_dir() -> PathBuf {
    let dir = harness::repo_root().join("target/gui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Kills and reaps a child we started (by its own pid) when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Xvfb on a display it picks itself. Its stdout stays open for its lifetime (it may write there).
fn start_xvfb() -> ((Reaped, std::io::BufReader<std::process::ChildStdout>), String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb runs (apt-get install xvfb)");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    ((Reaped(child), out), format!(":{}", line.trim()))
}

/// Kills a whole process group (dbus-run-session, its bus, tauri-driver, WebKitWebDriver and the
/// app) when dropped; killing only the group's leader would leave the driver holding its port.
struct ReapedGroup(Child);

impl Drop for ReapedGroup {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created (its id is the leader's pid).
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// tauri-driver inside its own D-Bus session (the single-instance plugin needs the session bus), in
/// a process group of its own.
///
/// `WEBKIT_DISABLE_COMPOSITING_MODE` is deliberately NOT set: with it WebKitWebDriver's screenshot
/// command never answers under Xvfb; without it the window renders and screenshots fine here.
fn start_driver(display: &str, data_dir: &Path, port: u16) -> ReapedGroup {
    use std::os::unix::process::CommandExt;
    let child = Command::new("dbus-run-session")
        .args(["--", "tauri-driver", "--port", &port.to_string(), "--native-port", &free_port().to_string()])
        .process_group(0)
        .env("DISPLAY", display)
        .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
        .env("CREW_RUNNER_DATA_DIR", data_dir)
        .env("CREW_RUNNER_OFFLINE_DELAY_MS", OFFLINE_DELAY_MS)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_API_BASE")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("MODEL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-run-session and tauri-driver run (cargo install tauri-driver --locked)");
    ReapedGroup(child)
}

/// A minimal W3C WebDriver client.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn connect(port: u16) -> Driver {
        // A new connection per command and a bound on each: tauri-driver's proxy does not serve a
        // reused (keep-alive) connection reliably, and a stuck command must fail the test, not hang it.
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(60)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app_binary()}
        }}});
        let started = Instant::now();
        let session = loop {
            match http.post(format!("{base}/session")).json(&caps).send().await {
                Ok(r) => {
                    let v: Value = r.json().await.unwrap();
                    match v["value"]["sessionId"].as_str() {
                        Some(id) => break id.to_string(),
                        None => panic!("no session: {v}"),
                    }
                }
                Err(_) if started.elapsed() < GIVE_UP => tokio::time::sleep(POLL).await, // the driver is starting
                Err(e) => panic!("tauri-driver did not answer: {e}"),
            }
        };
        Driver { http, base, session }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let t = Instant::now();
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if t.elapsed() > Duration::from_secs(2) {
            eprintln!("slow webdriver command {path}: {:?}", t.elapsed());
        }
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {v}");
        }
        v["value"].clone()
    }

    async fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// Runs an asynchronous script: it gets a callback as its last argument and calls it with the result.
    async fn js_async(&self, script: &str, args: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": args}))).await
    }

    /// Calls a Tauri command the way the page does (`__TAURI_INTERNALS__.invoke`): `{"ok": result}` or
    /// `{"err": the rejection as text}`.
    async fn invoke(&self, command: &str, args: Value) -> Value {
        self.js_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
               .then((ok) => done({ ok: ok === undefined ? null : ok }), (e) => done({ err: typeof e === 'string' ? e : JSON.stringify(e) }));",
            json!([command, args]),
        )
        .await
    }

    /// Polls `script` until it returns something truthy (not null/false/""), and returns it.
    async fn until(&self, what: &str, script: &str, args: Value) -> Value {
        let started = Instant::now();
        loop {
            let v = self.js(script, args.clone()).await;
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            if started.elapsed() > GIVE_UP {
                let _ = self.screenshot(&format!("timeout-{}", what.replace(' ', "-"))).await;
                panic!("gave up waiting for {what}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn click(&self, css: &str) {
        let el = self.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        let id = el.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_string();
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        let path = screenshots_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    async fn go(&self, hash: &str) {
        self.js("location.hash = arguments[0]", json!([hash])).await;
    }

    async fn quit(&self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
}

/// Loads `crew` in New run, fills `input` with `value`, picks the LLM mode (`offline` or
/// `configured`) and submits; returns the new execution's id.
async fn submit_from_new_run(d: &Driver, crew: &Path, input: &str, value: &str, llm_mode: &str) -> String {
    d.go("#/new").await;
    d.until("the new run form", "return document.querySelector('#crew-path')", json!([])).await;
    d.js("const i = document.querySelector('#crew-path'); i.value = arguments[0];", json!([crew])).await;
    d.click("#validate-crew").await;
    let field = format!("textarea[data-input=\"{input}\"]");
    d.until("the inputs form", "return document.querySelector(arguments[0])", json!([field])).await;
    d.js("document.querySelector(arguments[0]).value = arguments[1]", json!([field, value])).await;
    d.click(&format!("input[name='llm-mode'][value='{llm_mode}']")).await;
    d.click("#submit-run").await;
    let id = d.until("the run detail", "const m = /^#\\/run\\/(\\w+)$/.exec(location.hash); return m && m[1];", json!([])).await;
    id.as_str().unwrap().to_string()
}

async fn status_in_detail(d: &Driver, status: &str) {
    d.until(
        &format!("status {status}"),
        "const b = document.querySelector('.crew-title .badge'); return b && b.textContent === arguments[0];",
        json!([status]),
    )
    .await;
}

/// Waits until every task row of the detail's timeline is `done`.
async fn all_tasks_done(d: &Driver) {
    d.until(
        "every task done",
        "const s = [...document.querySelectorAll('table.timeline tbody .badge')].map((b) => b.textContent);
         return s.length > 0 && s.every((t) => t === 'done');",
        json!([]),
    )
    .await;
}

/// The pid in an execution's `owner` (`host:pid:…`), while it runs.
fn owner_pid(crew_cli: &harness::Crew, id: &str) -> i32 {
    let running = crew_cli.json(&["status", id, "--json"]);
    let owner = running["owner"].as_str().unwrap_or_else(|| panic!("a running owner: {running}")).to_string();
    owner.split(':').nth(1).unwrap().parse().unwrap()
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// The app's HTTP API as the Settings view shows it.
struct HttpApi {
    http: reqwest::Client,
    url: String,
    token: String,
}

/// Ticks "Local HTTP API" in Settings, sets `port` and saves; returns the address and the token the
/// view then shows.
async fn http_api_on(d: &Driver, port: u16) -> HttpApi {
    d.go("#/settings").await;
    d.until("the HTTP API switch", "const c = document.querySelector('#http-api-enabled'); return c && !c.checked;", json!([])).await;
    d.click("#http-api-enabled").await;
    d.js("document.querySelector('#http-api-port').value = arguments[0]", json!([port.to_string()])).await;
    d.click("#save-settings").await;
    let shown = d
        .until(
            "the HTTP API listening",
            "const u = document.querySelector('#http-api-url'), t = document.querySelector('#http-api-token'),
                   e = document.querySelector('#http-api-error');
             if (e) return { error: e.textContent };
             return u && t && { url: u.textContent, token: t.value, curl: document.querySelector('#http-api-curl').textContent };",
            json!([]),
        )
        .await;
    assert!(shown.get("error").is_none(), "the HTTP API did not start: {shown}");
    assert!(shown["curl"].as_str().unwrap().contains("/v1/queue"), "{shown}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let api = HttpApi { http, url: shown["url"].as_str().unwrap().to_string(), token: shown["token"].as_str().unwrap().to_string() };
    let health: Value = api.http.get(format!("{}/v1/health", api.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    let anonymous = api.http.get(format!("{}/v1/queue", api.url)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let queue = api.queue().await;
    assert!(queue["counts"].is_object(), "{queue}");
    api
}

impl HttpApi {
    /// `GET /v1/queue` with the token.
    async fn queue(&self) -> Value {
        let r = self.http.get(format!("{}/v1/queue", self.url)).bearer_auth(&self.token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// Submits `crew` offline with `subject` through `POST /v1/executions`; returns the id.
    async fn submit(&self, crew: &Path, subject: &str) -> String {
        let body = json!({"crew": crew, "inputs": {"subject": subject}, "model": "offline"});
        let r = self.http.post(format!("{}/v1/executions", self.url)).bearer_auth(&self.token).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        v["ids"][0].as_str().unwrap_or_else(|| panic!("{v}")).to_string()
    }

    /// Polls `GET /v1/health` until it answers (the app is starting).
    async fn until_healthy(&self) {
        let started = Instant::now();
        loop {
            if let Ok(r) = self.http.get(format!("{}/v1/health", self.url)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(started.elapsed() < GIVE_UP, "the HTTP API did not come back at the next start");
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Model output the page must show as text or sanitised Markdown, never run.
const HOSTILE: &str = "# Hostile report\n\n<script>document.title = 'pwned-script'; window.__pwned = 1;</script>\n\n\
<img src=\"x\" onerror=\"document.title = 'pwned-img'; window.__pwned = 2\">\n\n\
[click me](javascript:window.__pwned=3) and <a href=\"javascript:window.__pwned=4\">a raw link</a>\n\n\
<iframe src=\"javascript:window.parent.__pwned=5\"></iframe> <svg onload=\"window.__pwned=6\"></svg>\n\n\
Plain **bold** text that must survive.";

const CANARY_KEY: &str = "sk-canary-GUI-3f9a1c77e2b54d0e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_runs_cancels_follows_the_cli_and_recovers() {
    let mock = support::MockLlm::start();
    let crew_cli = harness::Crew::new(None);
    let data_dir = crew_cli.data_dir();
    std::fs::create_dir_all(&data_dir).unwrap();
    let crew = harness::repo_root().join("examples/blog-writer.yaml");
    let hostile = harness::repo_root().join("tests/fixtures/gui/hostile-output.yaml");
    let (_xvfb, display) = start_xvfb();
    eprintln!("xvfb on {display}");
    let port = free_port();
    let _driver = start_driver(&display, &data_dir, port);
    let d = Driver::connect(port).await;
    eprintln!("session {}", d.session);

    // The queue of an empty database.
    d.until(
        "the queue",
        "return document.querySelector('table.queue') && document.querySelector('.empty') && !document.querySelector('.empty').hidden",
        json!([]),
    )
    .await;
    let more_hidden = d.js("return document.querySelector('.panel > button.secondary').offsetParent === null", json!([])).await;
    assert_eq!(more_hidden, json!(true), "no 'Load more' under an empty queue");
    d.screenshot("1-queue-empty").await;

    // Submit from New run and see the output rendered.
    let id = submit_from_new_run(&d, &crew, "subject", "durable job queues", "offline").await;
    status_in_detail(&d, "succeeded").await;
    all_tasks_done(&d).await;
    let output = d.until("the output", "const o = document.querySelector('[data-testid=final-output]'); return o && o.querySelector('p, h1, h2, li') && o.textContent;", json!([])).await;
    assert!(!output.as_str().unwrap().is_empty());
    let log_rows = d.js("return document.querySelectorAll('.log-row').length", json!([])).await;
    assert!(log_rows.as_u64().unwrap() > 0, "log rows shown");
    let stored = crew_cli.json(&["status", &id, "--json"]);
    assert_eq!(stored["status"], "succeeded", "{stored}");
    d.screenshot("2-run-detail").await;
    crew_graph::shown_in_new_run_and_run_detail(&d, &data_dir, &id).await;
    crew_graph::other_formats_in_new_run(&d, &data_dir).await;
    trace_waterfall::finished_run(&d, &id).await;

    // Cancel a running one from its detail view.
    let slow = submit_from_new_run(&d, &crew, "subject", "cancelling", "offline").await;
    assert_ne!(slow, id);
    status_in_detail(&d, "running").await;
    d.click("button[data-action='cancel']").await;
    status_in_detail(&d, "cancelled").await;
    assert_eq!(crew_cli.json(&["status", &slow, "--json"])["status"], "cancelled");
    d.screenshot("3-run-detail-cancelled").await;

    // Submitted from the CLI: shows up live in the queue and runs here.
    d.go("#/queue").await;
    d.until("the queue", "return document.querySelector('table.queue tbody tr')", json!([])).await;
    let submitted = crew_cli.ok(&["submit", crew.to_str().unwrap()]).trim().to_string();
    d.until("the CLI submission in the queue", "return document.querySelector(`tr[data-id=\"${arguments[0]}\"]`)", json!([submitted]))
        .await;
    d.until(
        "the CLI submission to finish",
        "const r = document.querySelector(`tr[data-id=\"${arguments[0]}\"]`); return r && r.dataset.status === 'succeeded';",
        json!([submitted]),
    )
    .await;
    d.screenshot("4-queue").await;
    compare_runs::compare_two_runs(&d, &crew_cli).await;

    // Settings: point the configured model at the mock, with a key the page must never show again.
    d.go("#/settings").await;
    d.until("settings", "return document.querySelector('#data-dir') && document.querySelector('#data-dir').textContent", json!([])).await;
    d.js(
        "const set = (sel, v) => { const el = document.querySelector(sel); el.value = v; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); };
         set('#provider', 'openai'); set('#base-url', arguments[0]); set('#model', 'gpt-4o-mini'); set('#api-key', arguments[1]);",
        json!([mock.base_url(), CANARY_KEY]),
    )
    .await;
    d.click("#save-settings").await;
    let started = Instant::now();
    let settings = loop {
        let s = d.invoke("get_settings", json!({})).await;
        if s["ok"]["api_key_set"] == json!(true) && s["ok"]["base_url"] == json!(mock.base_url()) {
            break s;
        }
        assert!(started.elapsed() < GIVE_UP, "settings were not saved: {s}");
        tokio::time::sleep(POLL).await;
    };
    assert!(!settings.to_string().contains(CANARY_KEY), "get_settings sends the key back: {settings}");
    // Marked first, so the wait below cannot find the old page's field while the reload is under way.
    d.js("window.__before_reload = true; location.reload()", json!([])).await;
    d.until("settings after a reload", "return !window.__before_reload && document.querySelector('#api-key')", json!([])).await;
    let page = d.js("return document.documentElement.outerHTML + document.querySelector('#api-key').value", json!([])).await;
    assert!(!page.as_str().unwrap().contains(CANARY_KEY), "the page shows the key");
    d.screenshot("5-settings").await;

    // The local HTTP API, switched on in Settings: it answers while the window is open.
    let api_port = free_port();
    let api = http_api_on(&d, api_port).await;
    assert_eq!(api.url, format!("http://127.0.0.1:{api_port}"));
    assert_eq!(std::fs::read_to_string(data_dir.join("http-token")).unwrap().trim(), api.token);
    d.screenshot("5b-settings-http-api").await;
    let from_http = api.submit(&crew, "served by the app").await;
    d.go(&format!("#/run/{from_http}")).await;
    status_in_detail(&d, "succeeded").await;
    all_tasks_done(&d).await;

    // Hostile model output: rendered as sanitised Markdown, nothing in it runs.
    mock.push(support::Reply::text(HOSTILE));
    let evil = submit_from_new_run(&d, &hostile, "topic", "<img src=x onerror=\"window.__pwned=7\">", "configured").await;
    status_in_detail(&d, "succeeded").await;
    all_tasks_done(&d).await;
    d.until(
        "the hostile output",
        "return [...document.querySelectorAll('[data-testid=final-output] strong')].some((b) => b.textContent === 'bold');",
        json!([]),
    )
    .await;
    let verdict = d
        .js(
            "const out = document.querySelector('[data-testid=final-output]');
             return {
               title: document.title,
               pwned: window.__pwned === undefined ? null : window.__pwned,
               inlineScripts: document.querySelectorAll('script:not([src])').length,
               scriptsInOutput: out.querySelectorAll('script').length,
               handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
               jsLinks: [...document.querySelectorAll('a[href], iframe[src]')].filter((a) => /^\\s*javascript:/i.test(a.getAttribute('href') || a.getAttribute('src'))).length,
               frames: document.querySelectorAll('iframe, object, embed').length,
               text: out.textContent,
             };",
            json!([]),
        )
        .await;
    eprintln!("hostile output: {verdict}");
    assert_eq!(verdict["title"], "Crew Runner", "{verdict}");
    assert_eq!(verdict["pwned"], Value::Null, "{verdict}");
    assert_eq!(verdict["inlineScripts"], 0, "{verdict}");
    assert_eq!(verdict["scriptsInOutput"], 0, "{verdict}");
    assert_eq!(verdict["handlers"], 0, "{verdict}");
    assert_eq!(verdict["jsLinks"], 0, "{verdict}");
    assert_eq!(verdict["frames"], 0, "{verdict}");
    assert!(verdict["text"].as_str().unwrap().contains("Hostile report"), "{verdict}");
    // The configured key reached the model server, and nowhere the user can see.
    let chats = mock.chat_requests();
    assert_eq!(chats.len(), 1, "one model call for the one task");
    assert_eq!(chats[0].header("authorization"), Some(format!("Bearer {CANARY_KEY}").as_str()));
    let page = d.js("return document.documentElement.outerHTML", json!([])).await;
    assert!(!page.as_str().unwrap().contains(CANARY_KEY), "the run detail shows the key");
    let logs = crew_cli.ok(&["logs", &evil, "--json"]);
    assert!(!logs.contains(CANARY_KEY), "the ExecutionLog holds the key");
    d.screenshot("6-run-detail-hostile-output").await;

    // The capabilities: granted commands work, anything else is refused by Tauri.
    let granted = d.invoke("get_queue", json!({})).await;
    assert!(granted.get("ok").is_some(), "a granted command works: {granted}");
    for (command, args) in [
        ("plugin:dialog|open", json!({"options": {}})),
        ("plugin:notification|notify", json!({"options": {"title": "x"}})),
        ("plugin:window|close", json!({})),
        ("plugin:webview|create_webview_window", json!({"options": {"label": "evil", "url": "https://example.com"}})),
    ] {
        let refused = d.invoke(command, args).await;
        let err = refused["err"].as_str().unwrap_or_else(|| panic!("{command} was not refused: {refused}"));
        assert!(err.contains("not allowed") || err.contains("not found"), "{command}: {err}");
        eprintln!("{command}: refused: {err}");
    }

    // The trace waterfall: tokens streaming live from the mock, then a run with 2,000 LLM calls.
    trace_waterfall::live_tokens(&d, &mock, &hostile).await;
    trace_waterfall::two_thousand_calls(&d, &crew_cli, &screenshots_dir()).await;

    d.go("#/new").await;
    d.until("new run", "return document.querySelector('#crew-path')", json!([])).await;
    d.js("document.querySelector('#crew-path').value = arguments[0]", json!([crew])).await;
    d.click("#validate-crew").await;
    d.until("the inputs form", "return document.querySelector('textarea[data-input=\"subject\"]')", json!([])).await;
    d.screenshot("7-new-run").await;

    // A run waiting for a person's review (human_input), answered after the app's restart below.
    let reviewed = human_review::pause_for_review(&d, &crew_cli).await;

    // Stop the app mid-run the way a logout or `kill` does (SIGTERM): it takes the same path as
    // closing the window (RunEvent::Exit, scheduler shutdown) and requeues the run, which the next
    // start finishes. (WebDriver's "close window" is no substitute: WebKitWebDriver ends the browser
    // process itself when its last window closes, so the app's exit path never runs.)
    let closed = submit_from_new_run(&d, &crew, "subject", "stopping the app", "offline").await;
    status_in_detail(&d, "running").await;
    let pid = owner_pid(&crew_cli, &closed);
    // SAFETY: kill(2) on the app's own pid, read from the database it is running in.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let started = Instant::now();
    while alive(pid) {
        assert!(started.elapsed() < GIVE_UP, "the app did not exit on SIGTERM");
        tokio::time::sleep(POLL).await;
    }
    let after_close = crew_cli.json(&["status", &closed, "--json"]);
    assert_eq!(after_close["status"], "queued", "requeued at shutdown: {after_close}");
    assert!(after_close["owner"].is_null(), "{after_close}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", api_port)).is_err(), "the HTTP API stopped with the app");
    d.quit().await;
    let d = Driver::connect(port).await;
    d.go(&format!("#/run/{closed}")).await;
    status_in_detail(&d, "succeeded").await;
    all_tasks_done(&d).await;
    human_review::answer_review(&d, &crew_cli, &reviewed).await;
    // The setting is kept: the next start serves again, with the same token.
    api.until_healthy().await;
    assert_eq!(api.queue().await["settings"]["concurrency"], 4);

    // Kill the app mid-run; the next start recovers the execution and finishes it.
    let victim = submit_from_new_run(&d, &crew, "subject", "surviving a crash", "offline").await;
    status_in_detail(&d, "running").await;
    let pid = owner_pid(&crew_cli, &victim);
    // SAFETY: kill(2) on the app's own pid, read from the database it is running in.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    d.quit().await;
    let d = Driver::connect(port).await;
    d.go(&format!("#/run/{victim}")).await;
    status_in_detail(&d, "succeeded").await;
    all_tasks_done(&d).await;
    let logs = crew_cli.ok(&["logs", &victim]);
    assert!(logs.contains("recovered"), "{logs}");
    d.screenshot("8-run-detail-recovered").await;
    d.quit().await;
}
