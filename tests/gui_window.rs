//! The desktop app end to end in a real window: Xvfb, a D-Bus session, tauri-driver (W3C
//! WebDriver) and the real `crew-runner` binary on a temp data dir with the offline model.
//!
//! Needs `Xvfb`, `dbus-run-session`, `WebKitWebDriver` (Debian: xvfb, dbus-x11, webkit2gtk-driver)
//! and `tauri-driver` (`cargo install tauri-driver --locked`) on PATH, so it is `#[ignore]`d; run:
//! `cargo test --features gui --test gui_window -- --ignored --test-threads 1`.
//! Screenshots of each view are saved under `target/gui-screenshots/`.
//! `CREW_RUNNER_GUI_BINARY` runs another build of the app (e.g. the release binary).
//!
//! Waiting for the page is polling the DOM with a generous bound (`GIVE_UP`); reaching it fails.

#[path = "harness/mod.rs"]
mod harness;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

const GIVE_UP: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(100);
/// Each offline LLM call waits this long, so a run lasts long enough to cancel or kill it.
const OFFLINE_DELAY_MS: &str = "400";

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

/// tauri-driver inside its own D-Bus session (the single-instance plugin needs the session bus).
fn start_driver(display: &str, data_dir: &Path, port: u16) -> Reaped {
    let child = Command::new("dbus-run-session")
        .args(["--", "tauri-driver", "--port", &port.to_string(), "--native-port", &free_port().to_string()])
        .env("DISPLAY", display)
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("CREW_RUNNER_DATA_DIR", data_dir)
        .env("CREW_RUNNER_OFFLINE_DELAY_MS", OFFLINE_DELAY_MS)
        .env_remove("OPENAI_API_KEY")
        .env_remove("MODEL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-run-session and tauri-driver run (cargo install tauri-driver --locked)");
    Reaped(child)
}

/// A minimal W3C WebDriver client.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn connect(port: u16) -> Driver {
        let http = reqwest::Client::new();
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
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {v}");
        }
        v["value"].clone()
    }

    async fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
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

/// Loads `crew` in New run, picks the offline model and submits; returns the new execution's id.
async fn submit_from_new_run(d: &Driver, crew: &Path) -> String {
    d.go("#/new").await;
    d.until("the new run form", "return document.querySelector('#crew-path')", json!([])).await;
    d.js("const i = document.querySelector('#crew-path'); i.value = arguments[0];", json!([crew])).await;
    d.click("#validate-crew").await;
    d.until("the inputs form", "return document.querySelector('textarea[data-input=\"subject\"]')", json!([])).await;
    d.click("input[name='llm-mode'][value='offline']").await;
    d.click("#submit-run").await;
    let id = d.until("the run detail", "const m = /^#\\/run\\/(\\w+)$/.exec(location.hash); return m && m[1];", json!([])).await;
    id.as_str().unwrap().to_string()
}

async fn status_in_detail(d: &Driver, status: &str) {
    d.until(&format!("status {status}"), "const b = document.querySelector('.crew-title .badge'); return b && b.textContent === arguments[0];", json!([status])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, dbus-run-session and tauri-driver; NOT YET PASSING: hangs after the session is created (see the report)"]
async fn the_app_runs_cancels_follows_the_cli_and_recovers() {
    let crew_cli = harness::Crew::new(None);
    let data_dir = crew_cli.data_dir();
    std::fs::create_dir_all(&data_dir).unwrap();
    let crew = harness::repo_root().join("examples/blog-writer.yaml");
    let (_xvfb, display) = start_xvfb();
    eprintln!("xvfb on {display}");
    let port = free_port();
    let _driver = start_driver(&display, &data_dir, port);
    let d = Driver::connect(port).await;
    eprintln!("session {}", d.session);

    // The queue of an empty database.
    d.until("the queue", "return document.querySelector('table.queue') && document.querySelector('.empty')", json!([])).await;
    d.screenshot("1-queue-empty").await;

    // Submit from New run and see the output rendered.
    let id = submit_from_new_run(&d, &crew).await;
    status_in_detail(&d, "succeeded").await;
    let output = d.until("the output", "const o = document.querySelector('[data-testid=final-output]'); return o && o.querySelector('p, h1, h2, li') && o.textContent;", json!([])).await;
    assert!(!output.as_str().unwrap().is_empty());
    let log_rows = d.js("return document.querySelectorAll('.log-row').length", json!([])).await;
    assert!(log_rows.as_u64().unwrap() > 0, "log rows shown");
    d.screenshot("2-run-detail-succeeded").await;

    // Cancel a running one from its detail view.
    let slow = submit_from_new_run(&d, &crew).await;
    assert_ne!(slow, id);
    status_in_detail(&d, "running").await;
    d.click("button[data-action='cancel']").await;
    status_in_detail(&d, "cancelled").await;
    d.screenshot("3-run-detail-cancelled").await;

    // Submitted from the CLI: shows up live in the queue and runs here.
    d.go("#/queue").await;
    let submitted = crew_cli.ok(&["submit", crew.to_str().unwrap()]).trim().to_string();
    d.until("the CLI submission in the queue", "return document.querySelector(`tr[data-id=\"${arguments[0]}\"]`)", json!([submitted])).await;
    d.until("the CLI submission to finish", "const r = document.querySelector(`tr[data-id=\"${arguments[0]}\"]`); return r && r.dataset.status === 'succeeded';", json!([submitted])).await;
    d.screenshot("4-queue").await;

    d.go("#/settings").await;
    d.until("settings", "return document.querySelector('#data-dir') && document.querySelector('#data-dir').textContent", json!([])).await;
    d.screenshot("5-settings").await;
    d.go("#/new").await;
    d.until("new run", "return document.querySelector('#crew-path')", json!([])).await;
    d.js("document.querySelector('#crew-path').value = arguments[0]", json!([crew])).await;
    d.click("#validate-crew").await;
    d.until("the inputs form", "return document.querySelector('textarea[data-input=\"subject\"]')", json!([])).await;
    d.screenshot("6-new-run").await;

    // Kill the app mid-run; the next start recovers the execution and finishes it.
    let victim = submit_from_new_run(&d, &crew).await;
    status_in_detail(&d, "running").await;
    let running = crew_cli.json(&["status", &victim, "--json"]);
    let owner = running["owner"].as_str().expect("a running owner").to_string();
    let pid: i32 = owner.split(':').nth(1).unwrap().parse().unwrap();
    // SAFETY: kill(2) on the app's own pid, read from the database it is running in.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    d.quit().await;
    let d = Driver::connect(port).await;
    d.go(&format!("#/run/{victim}")).await;
    status_in_detail(&d, "succeeded").await;
    let logs = crew_cli.ok(&["logs", &victim]);
    assert!(logs.contains("recovered"), "{logs}");
    d.screenshot("7-recovered").await;
    d.quit().await;
}
