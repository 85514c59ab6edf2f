//! Finding the Python that runs a CrewAI crew, and checking that it imports CrewAI.
//!
//! Candidates, in order ([`candidates`]):
//! 1. `--python PATH`;
//! 2. `CREW_RUNNER_PYTHON`;
//! 3. the project's `.venv/bin/python`;
//! 4. `uv run --project ROOT python`, when the project has `uv.lock` or `pyproject.toml` and `uv`
//!    is on `PATH`;
//! 5. `python3` on `PATH`.
//!
//! The first two are the user's explicit choice: when the one given cannot import CrewAI the search
//! stops there with an error. The others are tried in order until one imports CrewAI. A probe
//! (`PYTHON -c "import crewai"`, several seconds) is remembered in the cache file with what makes it
//! stale (the interpreter's and CrewAI's files, their sizes and modification times).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A Python command line: `program args… script…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, TS)]
pub struct PythonCommand {
    pub program: PathBuf,
    /// Arguments before the script (`["run", "--project", ROOT, "python"]` for uv).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl PythonCommand {
    fn plain(program: PathBuf) -> Self {
        PythonCommand { program, args: Vec::new() }
    }

    /// The command as a shell-like line, for messages.
    pub fn display(&self) -> String {
        std::iter::once(self.program.display().to_string()).chain(self.args.iter().cloned()).collect::<Vec<_>>().join(" ")
    }

    /// A `Command` running `script args` with this Python.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        c
    }
}

/// A Python that imports CrewAI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct FoundPython {
    pub command: PythonCommand,
    /// Where it came from (`--python`, `CREW_RUNNER_PYTHON`, `the project's .venv`, `uv run`, `python3 on PATH`).
    pub source: String,
    pub python_version: String,
    pub crewai_version: String,
}

/// One candidate and why it was not used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tried {
    pub command: String,
    pub source: String,
    pub reason: String,
}

/// No Python that imports CrewAI was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("no Python with CrewAI found; tried: {}. Install CrewAI in the project (`uv sync`, or `python3 -m venv .venv && .venv/bin/pip install crewai`) or name a Python with --python PATH or CREW_RUNNER_PYTHON", tried_list(.tried))]
pub struct NoPython {
    pub tried: Vec<Tried>,
}

fn tried_list(tried: &[Tried]) -> String {
    if tried.is_empty() {
        return "nothing".into();
    }
    tried.iter().map(|t| format!("{} ({}): {}", t.command, t.source, t.reason)).collect::<Vec<_>>().join("; ")
}

/// Where to look: the explicit choices and the environment.
#[derive(Clone, Debug, Default)]
pub struct PythonSearch {
    /// `--python PATH`.
    pub explicit: Option<PathBuf>,
    /// The environment's variables (`CREW_RUNNER_PYTHON`, `PATH`).
    pub vars: BTreeMap<String, String>,
    /// The probe cache file (`~/.cache/crew-runner/python-envs.json`, see `AppPaths::python_cache`).
    pub cache: Option<PathBuf>,
}

/// Each candidate in search order, with its source and whether it is an explicit choice.
pub fn candidates(search: &PythonSearch, project_root: &Path) -> Vec<(PythonCommand, &'static str, bool)> {
    let mut out = Vec::new();
    let path = search.vars.get("PATH").map(OsString::from);
    // A bare name (`python3.12`) is looked up on PATH, as a shell would.
    let named = |p: &Path| match p.components().count() {
        1 => on_path(&p.to_string_lossy(), path.as_ref()).unwrap_or_else(|| p.to_path_buf()),
        _ => p.to_path_buf(),
    };
    if let Some(p) = &search.explicit {
        out.push((PythonCommand::plain(named(p)), "--python", true));
    }
    if let Some(p) = search.vars.get("CREW_RUNNER_PYTHON").filter(|p| !p.is_empty()) {
        out.push((PythonCommand::plain(named(Path::new(p))), "CREW_RUNNER_PYTHON", true));
    }
    let venv = project_root.join(".venv/bin/python");
    if venv.exists() {
        out.push((PythonCommand::plain(venv), "the project's .venv", false));
    }
    if project_root.join("uv.lock").exists() || project_root.join("pyproject.toml").exists() {
        if let Some(uv) = on_path("uv", path.as_ref()) {
            let args = vec!["run".into(), "--project".into(), project_root.display().to_string(), "python".into()];
            out.push((PythonCommand { program: uv, args }, "uv run", false));
        }
    }
    if let Some(p) = on_path("python3", path.as_ref()) {
        out.push((PythonCommand::plain(p), "python3 on PATH", false));
    }
    out
}

/// The first candidate that imports CrewAI (see the module docs for the order and the rules).
pub fn find(search: &PythonSearch, project_root: &Path) -> Result<FoundPython, NoPython> {
    let mut tried = Vec::new();
    let mut cache = Cache::load(search.cache.as_deref());
    let mut seen = std::collections::BTreeSet::new();
    for (command, source, explicit) in candidates(search, project_root) {
        if !seen.insert(command.clone()) {
            continue;
        }
        match probe(&command, &mut cache) {
            Ok((python_version, crewai_version)) => {
                cache.save(search.cache.as_deref());
                return Ok(FoundPython { command, source: source.into(), python_version, crewai_version });
            }
            Err(reason) => {
                tried.push(Tried { command: command.display(), source: source.into(), reason });
                if explicit {
                    break;
                }
            }
        }
    }
    cache.save(search.cache.as_deref());
    Err(NoPython { tried })
}

/// `name` in the folders of `path` (`PATH`'s value), if there and executable.
fn on_path(name: &str, path: Option<&OsString>) -> Option<PathBuf> {
    std::env::split_paths(path?).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

/// A file with an execute permission bit.
#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Not Unix: no execute bit; any file.
#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(false)
}

/// What the probe prints.
#[derive(Deserialize)]
struct ProbeAnswer {
    python: String,
    crewai: String,
    crewai_file: String,
    executable: String,
}

/// The probe: imports CrewAI and prints the versions and files that make a cached answer stale.
const PROBE: &str = "import json, sys\n\
try:\n    import crewai\n\
except Exception as e:\n    print(json.dumps({'error': type(e).__name__ + ': ' + str(e)})); sys.exit(0)\n\
print(json.dumps({'python': sys.version.split()[0], 'crewai': getattr(crewai, '__version__', '?'), \
'crewai_file': crewai.__file__, 'executable': sys.executable}))\n";

/// Kills the probe `pid` that did not answer in time (`SIGKILL`).
#[cfg(unix)]
fn kill_probe(pid: u32) {
    // SAFETY: kill(2) has no memory effects; `pid` is our child, not yet reaped (its waiting
    // thread has not returned).
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

/// Not Unix: the probe is left to end on its own (its waiting thread reaps it).
#[cfg(not(unix))]
fn kill_probe(_pid: u32) {}

/// How long a probe may take (`uv run` may first sync the project's environment).
const PROBE_TIMEOUT: Duration = Duration::from_secs(300);

fn probe(command: &PythonCommand, cache: &mut Cache) -> Result<(String, String), String> {
    if command.args.is_empty() && !command.program.exists() {
        return Err("not found".into());
    }
    let key = command.display();
    if let Some(hit) = cache.fresh(&key) {
        return Ok((hit.python.clone(), hit.crewai.clone()));
    }
    let child = command
        .command()
        .args(["-c", PROBE])
        .env("CREWAI_DISABLE_TELEMETRY", "true")
        .env("OTEL_SDK_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(PROBE_TIMEOUT) {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("cannot read its answer: {e}")),
        Err(_) => {
            kill_probe(pid);
            return Err(format!("no answer in {} s", PROBE_TIMEOUT.as_secs()));
        }
    };
    let status = output.status;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or("").trim();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("exited with {status}: {}", stderr.lines().last().unwrap_or("").trim()));
    }
    let value: serde_json::Value = serde_json::from_str(last).map_err(|_| format!("unexpected answer: {last:?}"))?;
    if let Some(e) = value.get("error").and_then(|e| e.as_str()) {
        return Err(format!("cannot import crewai ({e})"));
    }
    let answer: ProbeAnswer = serde_json::from_value(value).map_err(|e| format!("unexpected answer: {e}"))?;
    cache.put(key, &answer, command);
    Ok((answer.python, answer.crewai))
}

/// A file's identity for staleness checks: size and modification time.
fn stamp(path: &Path) -> Option<(u64, u128)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos()))
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CacheEntry {
    python: String,
    crewai: String,
    /// Files whose stamp must not have changed, with the stamp seen at the probe.
    files: Vec<(PathBuf, Option<(u64, u128)>)>,
}

/// The probe cache: probes that imported CrewAI, by command line. Failed probes are not kept (a
/// failing probe is fast, and the user is about to fix it).
#[derive(Default, Serialize, Deserialize)]
struct Cache {
    entries: BTreeMap<String, CacheEntry>,
    #[serde(skip)]
    dirty: bool,
}

impl Cache {
    fn load(file: Option<&Path>) -> Cache {
        file.and_then(|f| std::fs::read(f).ok()).and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn fresh(&self, key: &str) -> Option<&CacheEntry> {
        self.entries.get(key).filter(|e| e.files.iter().all(|(p, seen)| stamp(p) == *seen))
    }

    fn put(&mut self, key: String, answer: &ProbeAnswer, command: &PythonCommand) {
        let mut files = vec![PathBuf::from(&answer.executable), PathBuf::from(&answer.crewai_file)];
        if command.args.is_empty() {
            files.push(command.program.clone());
        } else if let Some(root) = command.args.iter().position(|a| a == "--project").and_then(|i| command.args.get(i + 1)) {
            files.push(Path::new(root).join("uv.lock"));
            files.push(Path::new(root).join("pyproject.toml"));
        }
        let files = files.into_iter().map(|p| (p.clone(), stamp(&p))).collect();
        self.entries.insert(key, CacheEntry { python: answer.python.clone(), crewai: answer.crewai.clone(), files });
        self.dirty = true;
    }

    /// Writes the cache (atomically: a temp file renamed over it) when it changed; a failure only
    /// costs a probe next time.
    fn save(&self, file: Option<&Path>) {
        let (Some(file), true) = (file, self.dirty) else { return };
        let Some(dir) = file.parent() else { return };
        let _ = std::fs::create_dir_all(dir);
        let Ok(text) = serde_json::to_vec_pretty(self) else { return };
        let tmp = file.with_extension(format!("json.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, file).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn fake_python(dir: &Path, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn candidates_follow_the_documented_order() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        fake_python(&bin, "uv", "exit 1");
        fake_python(&bin, "python3", "exit 1");
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join(".venv/bin")).unwrap();
        fake_python(&project.join(".venv/bin"), "python", "exit 1");
        std::fs::write(project.join("pyproject.toml"), "").unwrap();
        let search = PythonSearch {
            explicit: Some("/opt/p/bin/python".into()),
            vars: [("CREW_RUNNER_PYTHON".to_string(), "/env/python".to_string()), ("PATH".into(), bin.display().to_string())].into(),
            cache: None,
        };
        let sources: Vec<&str> = candidates(&search, &project).into_iter().map(|(_, s, _)| s).collect();
        assert_eq!(sources, ["--python", "CREW_RUNNER_PYTHON", "the project's .venv", "uv run", "python3 on PATH"]);
    }

    #[test]
    fn an_explicit_python_without_crewai_stops_the_search_and_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = fake_python(dir.path(), "py-without-crewai", "echo '{\"error\": \"ModuleNotFoundError: No module named crewai\"}'");
        let good = fake_python(
            dir.path(),
            "python3",
            "echo '{\"python\": \"3.11.7\", \"crewai\": \"1.15.30\", \"crewai_file\": \"/x\", \"executable\": \"/y\"}'",
        );
        let vars: BTreeMap<String, String> = [("PATH".to_string(), dir.path().display().to_string())].into();
        let search = PythonSearch { explicit: Some(bad.clone()), vars: vars.clone(), cache: None };
        let err = find(&search, dir.path()).unwrap_err();
        assert_eq!(err.tried.len(), 1, "{err}");
        assert!(err.to_string().contains("cannot import crewai (ModuleNotFoundError"), "{err}");
        assert!(err.to_string().contains("pip install crewai"), "{err}");
        // Without the explicit choice, python3 on PATH is found.
        let found = find(&PythonSearch { explicit: None, vars, cache: None }, dir.path()).unwrap();
        assert_eq!(found.command.program, good);
        assert_eq!((found.python_version.as_str(), found.crewai_version.as_str()), ("3.11.7", "1.15.30"));
        assert_eq!(found.source, "python3 on PATH");
    }

    #[test]
    fn a_probe_is_cached_until_its_files_change() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        let crewai_file = dir.path().join("crewai_init.py");
        std::fs::write(&crewai_file, "x").unwrap();
        let py = fake_python(
            dir.path(),
            "python",
            &format!(
                "echo x >> {}\necho '{{\"python\": \"3.11.7\", \"crewai\": \"1.15.30\", \"crewai_file\": \"{}\", \"executable\": \"/bin/sh\"}}'",
                count.display(),
                crewai_file.display()
            ),
        );
        let search = PythonSearch { explicit: Some(py), vars: BTreeMap::new(), cache: Some(dir.path().join("cache.json")) };
        let probes = || std::fs::read_to_string(&count).map(|s| s.lines().count()).unwrap_or(0);
        find(&search, dir.path()).unwrap();
        find(&search, dir.path()).unwrap();
        assert_eq!(probes(), 1, "the second search reads the cache");
        std::fs::write(&crewai_file, "changed: another CrewAI installed").unwrap();
        find(&search, dir.path()).unwrap();
        assert_eq!(probes(), 2, "a changed CrewAI is probed again");
    }

    #[test]
    fn nothing_found_lists_what_was_tried() {
        let dir = tempfile::tempdir().unwrap();
        let search = PythonSearch { explicit: None, vars: [("PATH".to_string(), "/nonexistent".to_string())].into(), cache: None };
        let err = find(&search, dir.path()).unwrap_err();
        assert!(err.to_string().starts_with("no Python with CrewAI found; tried: nothing"), "{err}");
    }
}
