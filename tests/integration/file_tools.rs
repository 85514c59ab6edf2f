//! The file tools and `output_file` cannot leave the crew's workspace: `..`, absolute paths,
//! symlinks inside the workspace pointing out, symlinked parent folders, and symlinks swapped in
//! while the tools run. Tested on the tools themselves (the engine's API) and through the binary,
//! with an agent (the mock LLM) asking for the escapes.
//!
//! The race tests are not timing-based: a thread swaps symlinks as fast as it can while the tools
//! run a fixed number of times, and the assertion (nothing outside is ever read or written) must
//! hold for every interleaving.

use crate::harness;
use crate::support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crew_runner::engine::tools::{ListDirectoryTool, ReadFileTool, Tool, ToolError, Workspace, WorkspaceError, WriteFileTool};
use harness::{arg, Crew};
use serde_json::json;
use support::{MockLlm, Reply};

const SECRET: &str = "TOP SECRET outside the workspace";

/// A workspace folder and an outside folder holding `secret.txt`.
struct Setup {
    _dir: tempfile::TempDir,
    ws_dir: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path().join("ws");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&ws_dir).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    Setup { _dir: dir, ws_dir, outside }
}

/// The outside folder still holds exactly `secret.txt`, unchanged.
fn assert_outside_untouched(outside: &Path) {
    let names: Vec<String> = std::fs::read_dir(outside).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["secret.txt".to_string()], "files appeared outside the workspace");
    assert_eq!(std::fs::read_to_string(outside.join("secret.txt")).unwrap(), SECRET);
}

fn refused(r: Result<String, ToolError>) -> String {
    match r {
        Ok(text) => panic!("the tool should have refused, it returned: {text}"),
        Err(ToolError::Workspace(e)) => e.to_string(),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[tokio::test]
async fn the_tools_refuse_every_way_out() {
    let s = setup();
    let ws = Arc::new(Workspace::open(&s.ws_dir).unwrap());
    let read = ReadFileTool { workspace: ws.clone(), file_path: None };
    let write = WriteFileTool { workspace: ws.clone() };
    let list = ListDirectoryTool { workspace: ws.clone(), directory: None };
    let abs = s.outside.join("secret.txt").display().to_string();
    std::os::unix::fs::symlink(s.outside.join("secret.txt"), s.ws_dir.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&s.outside, s.ws_dir.join("out")).unwrap();
    std::fs::create_dir_all(s.ws_dir.join("a/b")).unwrap();
    std::os::unix::fs::symlink("../../../outside", s.ws_dir.join("a/b/up")).unwrap();

    for path in ["../outside/secret.txt", "a/../../outside/secret.txt", "./../outside/secret.txt"] {
        assert!(refused(read.call(json!({"path": path})).await).contains("outside the workspace"), "{path}");
        assert!(refused(write.call(json!({"path": path, "content": "x", "overwrite": true})).await).contains("outside"), "{path}");
    }
    assert!(refused(read.call(json!({"path": abs})).await).contains("absolute"));
    assert!(refused(write.call(json!({"path": abs, "content": "x", "overwrite": true})).await).contains("absolute"));
    assert!(refused(list.call(json!({"path": "/"})).await).contains("absolute"));
    assert!(refused(list.call(json!({"path": ".."})).await).contains("outside"));
    // A symlinked file and symlinked parent folders (direct, and deep with a relative target).
    for path in ["link.txt", "out/secret.txt", "a/b/up/secret.txt"] {
        assert!(refused(read.call(json!({"path": path})).await).contains("outside"), "{path}");
        assert!(refused(write.call(json!({"path": path, "content": "x", "overwrite": true})).await).contains("outside"), "{path}");
    }
    for path in ["out/new.txt", "out/deep/new.txt", "a/b/up/new.txt"] {
        assert!(refused(write.call(json!({"path": path, "content": "x"})).await).contains("outside"), "{path}");
    }
    for path in ["out", "a/b/up"] {
        assert!(refused(list.call(json!({"path": path})).await).contains("outside"), "{path}");
    }
    assert!(matches!(ws.write_atomic("out/report.md", "x"), Err(WorkspaceError::Escapes(_))));
    assert!(matches!(ws.write_atomic("../report.md", "x"), Err(WorkspaceError::Escapes(_))));
    assert!(matches!(ws.write_atomic(&abs, "x"), Err(WorkspaceError::Absolute(_))));
    // `output_file` replaces a symlink at its path instead of writing through it.
    ws.write_atomic("link.txt", "report").unwrap();
    assert_eq!(std::fs::read_to_string(s.ws_dir.join("link.txt")).unwrap(), "report");
    assert_outside_untouched(&s.outside);
    // Inside the workspace everything still works.
    write.call(json!({"path": "notes/a.md", "content": "hello"})).await.unwrap();
    assert_eq!(read.call(json!({"path": "notes/../notes/a.md"})).await.unwrap(), "hello");
    assert_eq!(list.call(json!({"path": "notes"})).await.unwrap(), "a.md");
}

/// Swaps `link` between a symlink to `inside_target` and one to `outside_target`, atomically
/// (a new symlink renamed over it), until `stop`.
fn swapper(dir: &Path, link: &str, inside_target: &Path, outside_target: &Path, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let dir = dir.to_path_buf();
    let link = dir.join(link);
    let (a, b) = (inside_target.to_path_buf(), outside_target.to_path_buf());
    std::thread::spawn(move || {
        let tmp = dir.join(".swap-tmp");
        let mut swaps = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let target = if swaps.is_multiple_of(2) { &a } else { &b };
            let _ = std::fs::remove_file(&tmp);
            std::os::unix::fs::symlink(target, &tmp).unwrap();
            std::fs::rename(&tmp, &link).unwrap();
            swaps += 1;
        }
        swaps
    })
}

#[test]
fn a_parent_folder_swapped_for_a_symlink_during_the_calls_never_leads_out() {
    let s = setup();
    let ws = Workspace::open(&s.ws_dir).unwrap();
    std::fs::create_dir_all(s.ws_dir.join("real")).unwrap();
    std::fs::write(s.ws_dir.join("real/secret.txt"), "inside").unwrap();
    // `sub` exists from the start (else the first write would create it as a real folder).
    std::os::unix::fs::symlink(s.ws_dir.join("real"), s.ws_dir.join("sub")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&s.ws_dir, "sub", &s.ws_dir.join("real"), &s.outside, stop.clone());
    let mut outcomes = [0usize; 2];
    for i in 0..1500 {
        match ws.read("sub/secret.txt") {
            Ok(text) => {
                assert!(text == "inside" || text == "overwritten", "read through a swapped symlink: {text}");
                outcomes[0] += 1;
            }
            Err(WorkspaceError::Escapes(_) | WorkspaceError::NotFound(_)) => outcomes[1] += 1,
            Err(e) => panic!("unexpected: {e}"),
        }
        let _ = ws.write(&format!("sub/w{i}.txt"), "x", false);
        let _ = ws.write("sub/secret.txt", "overwritten", true);
        let _ = ws.write_atomic(&format!("sub/deeper/o{i}.md"), "x");
        let _ = ws.list("sub");
    }
    stop.store(true, Ordering::Relaxed);
    assert!(swaps.join().unwrap() > 0);
    assert_outside_untouched(&s.outside);
}

#[test]
fn a_file_swapped_for_a_symlink_during_the_calls_never_leads_out() {
    let s = setup();
    let ws = Workspace::open(&s.ws_dir).unwrap();
    std::fs::write(s.ws_dir.join("inside.txt"), "inside").unwrap();
    std::os::unix::fs::symlink("inside.txt", s.ws_dir.join("f.txt")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&s.ws_dir, "f.txt", Path::new("inside.txt"), &s.outside.join("secret.txt"), stop.clone());
    for _ in 0..1500 {
        match ws.read("f.txt") {
            Ok(text) => assert!(text == "inside" || text == "overwritten", "read through a swapped symlink: {text}"),
            Err(WorkspaceError::Escapes(_) | WorkspaceError::NotFound(_)) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
        let _ = ws.write("f.txt", "overwritten", true);
    }
    stop.store(true, Ordering::Relaxed);
    assert!(swaps.join().unwrap() > 0);
    assert_outside_untouched(&s.outside);
}

// ---- Through the binary: an agent asking for the escapes ----

fn crew_file(crew: &Crew, output_file: &str) -> std::path::PathBuf {
    crew.write(
        "crew/crew.yaml",
        &format!(
            "name: escaper\nllm: openai/mock-model\nworkspace: ws\nagents:\n  agent:\n    role: Escaper\n    goal: Get out\n    \
             backstory: Tries.\n    tools: [read_file, write_file, list_directory]\ntasks:\n  escape:\n    description: Escape {{target}}.\n    \
             expected_output: Anything.\n    agent: agent\n    output_file: \"{output_file}\"\n"
        ),
    )
}

#[test]
fn an_agent_cannot_read_or_write_outside_through_the_binary() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew, "report.md");
    let ws = crew.dir.path().join("crew/ws");
    let outside = crew.dir.path().join("outside");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), ws.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("out")).unwrap();
    let abs = outside.join("secret.txt").display().to_string();
    let calls = [
        ("read_file", json!({"path": "../../outside/secret.txt"})),
        ("read_file", json!({"path": abs})),
        ("read_file", json!({"path": "link.txt"})),
        ("read_file", json!({"path": "out/secret.txt"})),
        ("list_directory", json!({"path": "out"})),
        ("write_file", json!({"path": "out/pwned.txt", "content": "pwned"})),
        ("write_file", json!({"path": "../../outside/pwned.txt", "content": "pwned"})),
        ("write_file", json!({"path": "link.txt", "content": "pwned", "overwrite": true})),
    ];
    for (name, args) in &calls {
        mock.push(Reply::tool_call(name, args.clone()));
    }
    mock.push(Reply::text("I could not get out."));
    let out = crew.outcome(&["run", &arg(&file), "--input", "target=the sandbox"]);
    assert_eq!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    let requests = mock.chat_requests();
    assert_eq!(requests.len(), calls.len() + 1);
    let last = requests.last().unwrap().raw_body.clone();
    assert!(!last.contains("TOP SECRET"), "a tool result carried the secret: {last}");
    let results: Vec<String> = requests.last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(results.len(), calls.len(), "{results:?}");
    for r in &results {
        assert!(r.starts_with("Error: ") && (r.contains("outside the workspace") || r.contains("absolute")), "{r}");
    }
    assert_outside_untouched(&outside);
    assert_eq!(std::fs::read_to_string(ws.join("report.md")).unwrap(), "I could not get out.");
}

#[test]
fn an_output_file_that_resolves_outside_fails_the_task_and_writes_nothing() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    // The placeholder passes the load-time check; its value climbs out.
    let file = crew_file(&crew, "reports/{target}.md");
    let ws = crew.dir.path().join("crew/ws");
    let outside = crew.dir.path().join("outside");
    std::fs::create_dir_all(ws.join("reports")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    mock.push(Reply::text("report text"));
    let out = crew.outcome(&["run", &arg(&file), "--input", "target=../../../outside/escaped"]);
    assert_ne!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("output_file") && out.stderr.contains("outside the workspace"), "{}", out.stderr);
    assert_outside_untouched(&outside);
    // And through a symlinked folder inside the workspace.
    std::os::unix::fs::symlink(&outside, ws.join("reports/out")).unwrap();
    mock.push(Reply::text("report text"));
    let out = crew.outcome(&["run", &arg(&file), "--input", "target=out/escaped"]);
    assert_ne!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("outside the workspace"), "{}", out.stderr);
    assert_outside_untouched(&outside);
}

// ---- Where the workspace itself may be ----

/// A crew in `<tmp>/crew/` on the offline model whose one task writes `report.md` to `workspace`.
fn workspace_crew(crew: &Crew, workspace: &str) -> std::path::PathBuf {
    crew.write(
        "crew/placed.yaml",
        &format!(
            "name: placed\nllm: offline\nworkspace: {}\nagents:\n  writer:\n    role: Writer\n    goal: Write\n    backstory: Writes.\n\
             tasks:\n  write:\n    description: Write a line.\n    expected_output: A line.\n    agent: writer\n    output_file: report.md\n",
            json!(workspace)
        ),
    )
}

/// An installation (no LLM), its temp dir (canonical) and `<tmp>/outside` holding `secret.txt`.
fn placement_setup() -> (Crew, std::path::PathBuf, std::path::PathBuf) {
    let crew = Crew::new(None);
    let tmp = std::fs::canonicalize(crew.dir.path()).unwrap();
    let outside = tmp.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    (crew, tmp, outside)
}

/// The crew is refused (exit 2) by `validate`, `--run` and `submit`, naming the file, the field
/// and the resolved path; nothing is recorded.
fn assert_workspace_refused(crew: &Crew, file: &Path, resolved: &Path, extra: &[&str]) {
    let file = arg(file);
    for command in [vec!["validate", file.as_str()], vec!["--run", file.as_str()], vec!["submit", file.as_str()]] {
        let args: Vec<&str> = command.iter().copied().chain(extra.iter().copied()).collect();
        let err = crew.usage_error(&args);
        assert!(err.contains(&file) && err.contains(": workspace: "), "{args:?}: {err}");
        assert!(err.contains(&format!("resolves to `{}`", resolved.display())), "{args:?}: {err}");
    }
    crew.assert_nothing_recorded();
}

#[test]
fn a_workspace_outside_the_crews_folder_is_an_invalid_crew() {
    let (crew, tmp, outside) = placement_setup();

    assert_workspace_refused(&crew, &workspace_crew(&crew, "/"), Path::new("/"), &[]);
    let mut up = tmp.join("crew");
    for _ in 0..4 {
        up.pop();
    }
    assert_workspace_refused(&crew, &workspace_crew(&crew, "../../../.."), &up, &[]);
    assert_workspace_refused(&crew, &workspace_crew(&crew, "../outside"), &outside, &[]);
    // A symlink inside the crew's folder that leads out, with `..` after it applied to its target.
    std::fs::create_dir_all(tmp.join("far/sub")).unwrap();
    std::os::unix::fs::symlink(tmp.join("far/sub"), tmp.join("crew/link")).unwrap();
    assert_workspace_refused(&crew, &workspace_crew(&crew, "link/../elsewhere"), &tmp.join("far/elsewhere"), &[]);
    assert!(!tmp.join("far/elsewhere").exists());
    // Allowing another folder does not allow this one.
    assert_workspace_refused(&crew, &workspace_crew(&crew, "../outside"), &outside, &["--allow-workspace", &arg(&tmp.join("other"))]);
    assert_outside_untouched(&outside);
}

#[test]
fn allowed_workspaces_are_resolved_shown_and_used() {
    let (crew, tmp, outside) = placement_setup();

    // Inside the crew's folder, through `..` that stays inside.
    let file = workspace_crew(&crew, "a/../ws");
    let text = crew.ok(&["validate", &arg(&file)]);
    assert!(text.contains(&format!("workspace: {}\n", tmp.join("crew/ws").display())), "{text}");

    // Elsewhere with --allow-workspace (a symlink to the allowed folder counts as that folder).
    std::os::unix::fs::symlink(&outside, tmp.join("alias")).unwrap();
    let file = workspace_crew(&crew, "../outside/../outside/run");
    let allow = ["--allow-workspace", &arg(&tmp.join("alias"))];
    let report = crew.json(&["validate", &arg(&file), "--json", allow[0], allow[1]]);
    assert_eq!(report["crew"]["workspace"], json!(outside.join("run").display().to_string()));
    let out = crew.ok(&["--run", &arg(&file), allow[0], allow[1]]);
    assert!(!out.is_empty());
    assert!(outside.join("run/report.md").is_file(), "output_file not written in the allowed workspace");
    let id = crew.json(&["submit", &arg(&file), "--json", allow[0], allow[1]])["id"].as_str().unwrap().to_string();
    assert_eq!(crew.status(&id)["crew_spec"]["workspace"], json!(outside.join("run").display().to_string()));

    // In the data dir's `workspaces/` folder, with no option.
    let in_data = crew.data_dir().join("workspaces/placed");
    let file = workspace_crew(&crew, &arg(&in_data));
    crew.ok(&["--run", &arg(&file)]);
    assert!(in_data.join("report.md").is_file());
}

#[test]
fn a_symlink_swapped_onto_a_submitted_workspace_is_refused_by_the_worker() {
    let (crew, tmp, outside) = placement_setup();
    let file = workspace_crew(&crew, "ws/inner");
    std::fs::create_dir_all(tmp.join("crew/ws")).unwrap();
    let id = crew.json(&["submit", &arg(&file), "--json"])["id"].as_str().unwrap().to_string();
    // After the check: the workspace's parent becomes a symlink leading out.
    std::fs::remove_dir(tmp.join("crew/ws")).unwrap();
    std::os::unix::fs::symlink(&outside, tmp.join("crew/ws")).unwrap();
    let out = crew.outcome(&["worker", "--until-idle"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let e = crew.status(&id);
    assert_eq!(e["status"], "failed", "{e}");
    assert_eq!(e["error"]["kind"], "invalid_crew", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("not the folder that was checked"), "{e}");
    assert_outside_untouched(&outside);
}
