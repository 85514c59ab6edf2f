//! Running the real `crew-runner` binary from integration tests, each on its own temp data dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The repository root (tests live in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("src-tauri has a parent").to_path_buf()
}

/// A fixture path under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// One isolated installation: a temp data dir and the environment the binary sees.
pub struct Crew {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Crew {
    /// A fresh data dir; LLM variables point at `api_base` when given.
    pub fn new(api_base: Option<&str>) -> Crew {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = vec![("CREW_RUNNER_DATA_DIR".to_string(), dir.path().join("data").display().to_string())];
        if let Some(base) = api_base {
            env.push(("OPENAI_API_BASE".into(), base.to_string()));
            env.push(("OPENAI_API_KEY".into(), "sk-test-secret-key".into()));
        }
        Crew { dir, env }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command for the binary with this installation's environment (and no inherited LLM vars).
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_via(&[], args)
    }

    /// [`cmd`](Crew::cmd), with the binary started by `launcher` (e.g. `unshare --pid --fork`):
    /// `launcher… crew-runner args…`.
    pub fn cmd_via(&self, launcher: &[&str], args: &[&str]) -> Command {
        let binary = env!("CARGO_BIN_EXE_crew-runner");
        let mut c = match launcher.split_first() {
            None => Command::new(binary),
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(binary);
                c
            }
        };
        for var in [
            "OPENAI_API_BASE",
            "OPENAI_BASE_URL",
            "OPENAI_API_KEY",
            "MODEL",
            "RUST_LOG",
            "CREW_RUNNER_DATA_DIR",
            "CREW_RUNNER_CONFIG_DIR",
            "OLLAMA_HOST",
            "CREW_RUNNER_TRACE_PAYLOADS",
        ] {
            c.env_remove(var);
        }
        c.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c.args(args).current_dir(repo_root()).stdin(Stdio::null());
        c
    }

    /// Runs to completion and returns the output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the binary runs")
    }

    /// Runs, asserts the exit code, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "crew-runner {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and parses stdout as JSON (the command must succeed).
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let s = self.ok(args);
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("crew-runner {args:?}: not JSON ({e}):\n{s}"))
    }

    /// Spawns the binary with piped stdout/stderr.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts")
    }

    /// All executions (newest first), via `list --json`.
    pub fn executions(&self) -> Vec<serde_json::Value> {
        self.json(&["list", "--json", "--limit", "100000"]).as_array().expect("a JSON array").clone()
    }
}

/// Copies a file or folder (recursively) to `dest`, creating its parent folders.
pub fn copy_tree(src: &Path, dest: &Path) {
    if src.is_dir() {
        std::fs::create_dir_all(dest).unwrap();
        for entry in std::fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &dest.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::copy(src, dest).unwrap();
    }
}

/// Sends a signal to a child (unix `kill`).
pub fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill").args([format!("-{sig}"), child.id().to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill -{sig} failed");
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit code, stdout and stderr of a finished run.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Crew {
    /// Runs to completion and returns exit code, stdout and stderr as text.
    pub fn outcome(&self, args: &[&str]) -> Outcome {
        let out = self.run(args);
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts exit code 2 (usage error); returns stderr.
    pub fn usage_error(&self, args: &[&str]) -> String {
        let out = self.outcome(args);
        assert_eq!(out.code, Some(2), "crew-runner {args:?} should exit 2:\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
        out.stderr
    }

    /// The database file in the data dir.
    pub fn database(&self) -> PathBuf {
        self.data_dir().join("crew-runner.db")
    }

    /// Asserts that no execution was recorded: the database does not exist, or lists none.
    pub fn assert_nothing_recorded(&self) {
        if self.database().exists() {
            assert_eq!(self.executions(), Vec::<serde_json::Value>::new(), "executions were recorded");
        }
    }

    /// One execution, via `status ID --json`.
    pub fn status(&self, id: &str) -> serde_json::Value {
        self.json(&["status", id, "--json"])
    }

    /// The log of an execution, via `logs ID --json` (one JSON object per line).
    pub fn logs(&self, id: &str) -> Vec<serde_json::Value> {
        self.ok(&["logs", id, "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}")))
            .collect()
    }

    /// Writes `text` to `name` inside the temp dir (outside the data dir) and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// A path argument as text.
pub fn arg(p: &Path) -> String {
    p.display().to_string()
}

// ---- Multi-process helpers (workers, crash recovery, signals, storage errors) ----

/// The longest any single wait in the multi-process tests may take before it fails the test.
pub const PROC_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A spawned `crew-runner` whose stdout and stderr go to files (no pipe can fill up and block
/// it), read back after it exits.
pub struct Spawned {
    pub child: Child,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

impl Spawned {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit, at most `timeout`; on timeout kills the process and fails the test.
    pub fn wait_exit(&mut self, timeout: std::time::Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("crew-runner (pid {}) did not exit within {timeout:?}\nstderr: {}", self.child.id(), self.stderr());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// SIGKILLs the process and reaps it (a zombie would still count as a live pid).
    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap the killed process");
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits (polling its stderr file every 20 ms, at most `timeout`) until the process has
    /// written a line containing any of `needles`; fails the test if it exits or the time runs
    /// out first. Returns the needle found.
    pub fn wait_stderr(&mut self, needles: &[&str], timeout: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let text = self.stderr();
            if let Some(found) = needles.iter().find(|n| text.contains(**n)) {
                return found.to_string();
            }
            assert!(self.child.try_wait().expect("try_wait").is_none(), "pid {} exited before writing {needles:?}:\n{text}", self.id());
            assert!(std::time::Instant::now() < deadline, "pid {} wrote none of {needles:?} within {timeout:?}:\n{text}", self.id());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    /// Never leaves a process behind when a test fails half-way.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Crew {
    /// Spawns the binary with stdout/stderr written to files in the temp dir (named by `label`).
    pub fn spawn_logged(&self, label: &str, args: &[&str]) -> Spawned {
        self.spawn_command(label, self.cmd(args))
    }

    /// Spawns `command` (made with [`cmd`](Crew::cmd) or [`cmd_via`](Crew::cmd_via), perhaps
    /// with more environment) with stdout/stderr written to files named by `label`.
    pub fn spawn_command(&self, label: &str, mut command: Command) -> Spawned {
        let stdout_path = self.dir.path().join(format!("{label}.stdout"));
        let stderr_path = self.dir.path().join(format!("{label}.stderr"));
        let out = std::fs::File::create(&stdout_path).expect("stdout file");
        let err = std::fs::File::create(&stderr_path).expect("stderr file");
        let child = command.stdout(out).stderr(err).spawn().expect("the binary starts");
        Spawned { child, stdout_path, stderr_path }
    }

    /// `status ID --json`.
    pub fn status_json(&self, id: &str) -> serde_json::Value {
        self.json(&["status", id, "--json"])
    }

    /// `logs ID --json`, one JSON value per line.
    pub fn logs_json(&self, id: &str) -> Vec<serde_json::Value> {
        self.ok(&["logs", id, "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}")))
            .collect()
    }

    /// Polls `status ID --json` every 50 ms until its status is one of `want`; fails the test
    /// after `timeout` (the bound is the failure condition, never a pass condition).
    pub fn wait_status(&self, id: &str, want: &[&str], timeout: std::time::Duration) -> serde_json::Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let e = self.status_json(id);
            if want.iter().any(|w| e["status"] == *w) {
                return e;
            }
            assert!(std::time::Instant::now() < deadline, "execution {id} did not reach {want:?} within {timeout:?}: {e}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// Writes one JSON object per line: `{"item": ITEM}` for each item.
/// The (item, task) a request of the item-rows fixture crews is for: its prompt says
/// `TASK-<task> for row <item>`.
pub fn request_key(prompt: &str) -> Option<(String, String)> {
    let at = prompt.find("TASK-")?;
    let rest = &prompt[at + 5..];
    let task: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let after = rest[task.len()..].strip_prefix(" for row ")?;
    let item: String = after.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    Some((item, task))
}

pub fn write_item_rows(path: &Path, items: &[String]) {
    let text: String = items.iter().map(|i| format!("{}\n", serde_json::json!({ "item": i }))).collect();
    std::fs::write(path, text).expect("write the rows file");
}

/// `kind` of each log line (as written by `logs --json`).
pub fn log_kinds(lines: &[serde_json::Value]) -> Vec<String> {
    lines.iter().map(|l| l["kind"].as_str().unwrap_or_default().to_string()).collect()
}

/// The ids printed by `submit --json` (`{"id"}` or `{"ids"}`).
pub fn submitted_ids(v: &serde_json::Value) -> Vec<String> {
    match (v.get("id"), v.get("ids")) {
        (Some(id), _) => vec![id.as_str().expect("id is a string").to_string()],
        (_, Some(ids)) => ids.as_array().expect("ids array").iter().map(|i| i.as_str().expect("id string").to_string()).collect(),
        _ => panic!("submit --json printed neither id nor ids: {v}"),
    }
}
