//! [`ShimPool`]: one warm `shim.py serve` process per Python environment, each forking a fresh
//! child per attempt (see docs/CREWAI_ENGINE.md, "Processes").
//!
//! A server is started at the first attempt that needs its Python, and kept while this process
//! lives: importing CrewAI takes seconds, forking a child that already has it takes milliseconds.
//! The server's stdin is a pipe this process holds, so the server exits when this process dies
//! (and it has `PR_SET_PDEATHSIG=SIGTERM` besides).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, ChildStdin};
use tokio::sync::{Mutex, OnceCell};

use super::python::PythonCommand;
use crate::engine::tools::stderr_tail::StderrTail;

/// The shim, embedded in the binary and written next to each server's socket.
pub const SHIM_SOURCE: &str = include_str!("shim.py");

/// How long a server may take to import CrewAI and say it is ready (`uv run` may first sync).
const START_TIMEOUT: Duration = Duration::from_secs(300);
/// Lines of a server's stderr kept for its start-up error.
const SERVER_TAIL_LINES: usize = 30;

/// Why no connection to a shim server could be made.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// The server could not be started (the Python is missing, or cannot import CrewAI).
    #[error("cannot start CrewAI with {python}: {reason}")]
    Start { python: String, reason: String },
    /// The server is running but refused the connection.
    #[error("cannot reach the CrewAI server of {python}: {reason}")]
    Connect { python: String, reason: String },
}

/// A running `shim.py serve`.
struct ShimServer {
    socket: PathBuf,
    /// Holding it keeps the server alive; dropping it (at exit) makes the server exit.
    _stdin: ChildStdin,
    child: std::sync::Mutex<Child>,
    crewai_version: String,
}

impl ShimServer {
    fn is_alive(&self) -> bool {
        self.child.lock().map(|mut c| matches!(c.try_wait(), Ok(None))).unwrap_or(false)
    }
}

type Slot = Arc<OnceCell<Arc<ShimServer>>>;

/// Warm shim servers, one per Python command.
#[derive(Default)]
pub struct ShimPool {
    servers: Mutex<HashMap<PythonCommand, Slot>>,
}

impl ShimPool {
    /// The pool of this process.
    pub fn global() -> &'static ShimPool {
        static POOL: OnceLock<ShimPool> = OnceLock::new();
        POOL.get_or_init(ShimPool::default)
    }

    /// A new connection to the server of `python` (started, or restarted if it died, first).
    /// Returns the connection and the server's CrewAI version.
    ///
    /// Cancellation: dropping the future while a server starts leaves the start to finish for the
    /// next caller (the start is shared, not owned by one caller).
    pub async fn connect(&self, python: &PythonCommand) -> Result<(UnixStream, String), ShimError> {
        for _ in 0..2 {
            let slot = self.servers.lock().await.entry(python.clone()).or_default().clone();
            let started = {
                let to_start = python.clone();
                // The start runs in its own task so a cancelled attempt does not abort it halfway.
                let slot = slot.clone();
                tokio::spawn(async move { slot.get_or_try_init(|| start(to_start)).await.cloned() })
                    .await
                    .map_err(|e| ShimError::Start { python: python.display(), reason: e.to_string() })?
            };
            let server = match started {
                Ok(s) => s,
                Err(e) => {
                    self.forget(python, &slot).await;
                    return Err(e);
                }
            };
            match UnixStream::connect(&server.socket).await {
                Ok(stream) => return Ok((stream, server.crewai_version.clone())),
                Err(e) if server.is_alive() => return Err(ShimError::Connect { python: python.display(), reason: e.to_string() }),
                Err(_) => {
                    tracing::warn!(python = %python.display(), "the CrewAI server had exited; starting it again");
                    self.forget(python, &slot).await;
                }
            }
        }
        Err(ShimError::Connect { python: python.display(), reason: "the server exited again right after its start".into() })
    }

    async fn forget(&self, python: &PythonCommand, slot: &Slot) {
        let mut servers = self.servers.lock().await;
        if servers.get(python).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            servers.remove(python);
        }
    }
}

/// Starts `python -u shim.py serve --socket S` and waits for its ready line.
async fn start(python: PythonCommand) -> Result<Arc<ShimServer>, ShimError> {
    let fail = |reason: String| ShimError::Start { python: python.display(), reason };
    let runtime = super::orphans::private_dir(super::orphans::runtime_dir()).map_err(|e| fail(format!("runtime folder: {e}")))?;
    let script = shim_file(&runtime).map_err(|e| fail(format!("cannot write the shim in {}: {e}", runtime.display())))?;
    // One socket per server; the server removes it when it exits.
    static SERVERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let socket = runtime.join(format!("shim-{}-{n}.sock", std::process::id()));
    let children = super::orphans::private_dir(super::orphans::children_dir()).map_err(|e| fail(format!("children registry: {e}")))?;
    super::orphans::reap_orphans(&children);
    let mut command: tokio::process::Command = python.command().into();
    command
        .arg("-u")
        .arg(&script)
        .arg("serve")
        .arg("--socket")
        .arg(&socket)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("CREW_RUNNER_CHILDREN_DIR", &children)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: prctl and getppid are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // SIGTERM: the server's handler removes its socket file, then exits (its children
            // have their own parent-death SIGKILL).
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong, 0, 0, 0);
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| fail(format!("cannot start {}: {e}", python.program.display())))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr_tail = StderrTail::follow(stderr, SERVER_TAIL_LINES);
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(START_TIMEOUT, lines.next_line()).await;
    let tail = || stderr_tail.text();
    let line = match ready {
        Ok(Ok(Some(line))) => line,
        Ok(Ok(None)) | Ok(Err(_)) => {
            let status = child.wait().await.map(|s| s.to_string()).unwrap_or_default();
            // The stderr reader may still be draining: give it its last lines.
            tokio::task::yield_now().await;
            return Err(fail(format!("it exited ({status}) before it was ready: {}", tail())));
        }
        Err(_) => return Err(fail(format!("not ready after {} s: {}", START_TIMEOUT.as_secs(), tail()))),
    };
    let answer: serde_json::Value = serde_json::from_str(&line).map_err(|_| fail(format!("unexpected first line {line:?}: {}", tail())))?;
    if answer["ready"] != serde_json::Value::Bool(true) {
        let reason = answer["error"].as_str().unwrap_or("not ready").to_string();
        return Err(fail(reason));
    }
    let crewai_version = answer["crewai_version"].as_str().unwrap_or("?").to_string();
    tracing::info!(python = %python.display(), pid = answer["pid"].as_i64(), crewai = %crewai_version, "CrewAI server ready");
    // Later stdout lines (there should be none) are drained so the server never blocks on them.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Arc::new(ShimServer { socket, _stdin: stdin, child: std::sync::Mutex::new(child), crewai_version }))
}

/// The shim as a file in `runtime`, named by a digest of its text (`shim-<12 hex>.py`): written
/// once (atomically), shared by every server of this version, never a leftover per process.
fn shim_file(runtime: &std::path::Path) -> std::io::Result<PathBuf> {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(SHIM_SOURCE.as_bytes()));
    let path = runtime.join(format!("shim-{}.py", &digest[..12]));
    if std::fs::read(&path).is_ok_and(|text| text == SHIM_SOURCE.as_bytes()) {
        return Ok(path);
    }
    let tmp = runtime.join(format!(".shim-{}.{}.tmp", &digest[..12], std::process::id()));
    std::fs::write(&tmp, SHIM_SOURCE)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
