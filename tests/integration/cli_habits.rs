//! Shell habits through the binary: `wait` and its exit codes, the duration syntax, colour,
//! `--quiet`, completions and the man page, log retention.

use crate::harness;
use crate::support;

use harness::{arg, fixture, Crew, Spawned, PROC_WAIT};
use serde_json::Value;
use support::{MockLlm, Reply};

/// A well-formed id (a ULID) that no execution has.
const UNKNOWN_ID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

fn one_step() -> String {
    arg(&fixture("cli/one-step.yaml"))
}

/// Queues the one-step crew for `item` and returns its id.
fn submit(crew: &Crew, item: &str) -> String {
    let id = crew.ok(&["submit", &one_step(), "--input", &format!("item={item}")]).trim().to_string();
    assert!(!id.is_empty() && !id.contains('\n'), "submit printed {id:?}");
    id
}

/// Runs `wait` in the background (so it is waiting before anything runs), returning the process.
fn spawn_wait(crew: &Crew, label: &str, args: &[&str]) -> Spawned {
    let mut all = vec!["wait"];
    all.extend_from_slice(args);
    crew.spawn_logged(label, &all)
}

fn run_worker_to_idle(crew: &Crew) {
    crew.ok(&["worker", "--until-idle"]);
}

#[test]
fn wait_exits_0_once_a_worker_in_another_process_finishes() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let a = submit(&crew, "a");
    let b = submit(&crew, "b");
    let mut waiting = spawn_wait(&crew, "wait", &[&a, &b]);
    run_worker_to_idle(&crew);
    let status = waiting.wait_exit(PROC_WAIT);
    assert_eq!(status.code(), Some(0), "{}", waiting.stderr());
    let mut lines: Vec<String> = waiting.stdout().lines().map(str::to_string).collect();
    lines.sort();
    let mut want = vec![format!("{a} succeeded"), format!("{b} succeeded")];
    want.sort();
    assert_eq!(lines, want);

    // Already finished: returns at once; --json prints the executions in the order given.
    let out = crew.outcome(&["wait", &b, &a, "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let got: Vec<(&str, &str)> = v.as_array().unwrap().iter().map(|e| (e["id"].as_str().unwrap(), e["status"].as_str().unwrap())).collect();
    assert_eq!(got, [(b.as_str(), "succeeded"), (a.as_str(), "succeeded")]);
}

#[test]
fn wait_exits_1_when_any_failed_and_prints_the_error() {
    let mock = MockLlm::start();
    mock.push_for("Handle item bad", Reply::status(400, "the model rejected the request"));
    let crew = Crew::new(Some(&mock.base_url()));
    let good = submit(&crew, "good");
    let bad = submit(&crew, "bad");
    let cancelled = submit(&crew, "gone");
    crew.ok(&["cancel", &cancelled]);
    run_worker_to_idle(&crew);
    let out = crew.outcome(&["wait", &good, &bad, &cancelled]);
    assert_eq!(out.code, Some(1), "failed wins over cancelled:\n{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(&format!("{good} succeeded\n")), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("{cancelled} cancelled\n")), "{}", out.stdout);
    let failed = out.stdout.lines().find(|l| l.starts_with(&bad)).unwrap();
    assert!(failed.starts_with(&format!("{bad} failed ")) && failed.contains("the model rejected the request"), "{failed}");
}

#[test]
fn wait_exits_3_when_one_was_cancelled() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let id = submit(&crew, "1");
    let mut waiting = spawn_wait(&crew, "wait", &[&id]);
    crew.ok(&["cancel", &id]);
    assert_eq!(waiting.wait_exit(PROC_WAIT).code(), Some(3), "{}", waiting.stderr());
    assert_eq!(waiting.stdout(), format!("{id} cancelled\n"));
}

#[test]
fn wait_exits_124_on_timeout_naming_the_unfinished() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let done = submit(&crew, "done");
    run_worker_to_idle(&crew);
    let queued = submit(&crew, "queued");
    let out = crew.outcome(&["wait", &done, &queued, "--timeout", "300ms"]);
    assert_eq!(out.code, Some(124), "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, format!("{done} succeeded\n{queued} queued\n"));
    assert!(out.stderr.contains("timed out after 0.3s") && out.stderr.contains(&queued) && !out.stderr.contains(&done), "{}", out.stderr);
    let json = crew.outcome(&["wait", &queued, "--timeout", "0", "--json"]);
    assert_eq!(json.code, Some(124));
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v[0]["status"], "queued");
    crew.usage_error(&["wait", &queued, "--timeout", "soon"]);
}

#[test]
fn wait_refuses_unknown_and_malformed_ids_before_waiting() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let queued = submit(&crew, "1");
    // Checked before waiting: the queued one (no worker runs) would otherwise block forever.
    for bad in [UNKNOWN_ID, "not-an-id"] {
        let err = crew.usage_error(&["wait", &queued, bad]);
        assert!(err.contains(bad), "{err}");
    }
    crew.usage_error(&["wait"]);
}

#[test]
fn wait_does_not_block_on_an_execution_whose_worker_is_gone() {
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text("Thought: done\nFinal Answer: never sent.")));
    let crew = Crew::new(Some(&mock.base_url()));
    let id = submit(&crew, "orphan");
    let mut worker = crew.spawn_logged("worker", &["worker", "--concurrency", "1"]);
    assert!(mock.wait_for_held(1, PROC_WAIT), "{}", worker.stderr());
    let mut waiting = spawn_wait(&crew, "wait", &[&id]);
    worker.kill_hard();
    assert_eq!(waiting.wait_exit(PROC_WAIT).code(), Some(1), "{}", waiting.stderr());
    assert_eq!(waiting.stdout(), format!("{id} orphaned\n"));
    assert!(waiting.stderr().contains("is gone and no worker is running"), "{}", waiting.stderr());
}

#[test]
fn timeouts_take_the_duration_syntax() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let cases = [("2m", 120_000), ("90", 90_000), ("1.5s", 1500), ("500ms", 500), ("1h30m", 5_400_000)];
    for (text, ms) in cases {
        let v = crew.json(&["submit", &one_step(), "--input", "item=1", "--timeout", text, "--json"]);
        let id = v["id"].as_str().unwrap();
        assert_eq!(crew.status(id)["timeout_ms"], ms, "--timeout {text}");
    }
    for bad in ["soon", "5 m", "1d2", "0", "0s"] {
        let err = crew.usage_error(&["--run", &one_step(), "--input", "item=1", "--timeout", bad]);
        assert!(err.contains("--timeout"), "{bad}: {err}");
    }
    let err = crew.usage_error(&["--run", &one_step(), "--input", "item=1", "--timeout", "soon"]);
    assert!(err.contains("500ms, 90s, 5m, 2h, 30d"), "the accepted forms are not named: {err}");
    let err = crew.usage_error(&["prune", "--older-than", "30"]);
    assert!(err.contains("--older-than") && err.contains("30d"), "{err}");
    assert_eq!(crew.executions().len(), cases.len());
}

#[test]
fn verbose_logs_on_a_redirected_stderr_have_no_colour() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    submit(&crew, "1");
    // stderr is a pipe here, not a terminal.
    let out = crew.outcome(&["worker", "--until-idle", "-v"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("INFO") && out.stderr.contains("worker started"), "-v logged nothing:\n{}", out.stderr);
    assert!(!out.stderr.contains("\u{1b}["), "escape codes on a redirected stderr:\n{:?}", out.stderr);
    let logs = crew.data_dir().join("logs");
    for file in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert!(text.contains("worker started") && !text.contains('\u{1b}'), "{text:?}");
    }
}

#[test]
fn completion_scripts_for_every_shell() {
    let crew = Crew::new(None);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = crew.ok(&["completions", shell]);
        assert!(script.contains("submit") && script.contains("wait") && script.contains("data-dir"), "{shell}:\n{script}");
    }
    let script = crew.dir.path().join("crew-runner.bash");
    std::fs::write(&script, crew.ok(&["completions", "bash"])).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&script).output().expect("bash runs");
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));
    crew.usage_error(&["completions", "tcsh"]);
    assert!(!crew.data_dir().exists(), "completions touched the data dir");
}

#[test]
fn man_page_in_roff() {
    let crew = Crew::new(None);
    let page = crew.ok(&["man"]);
    assert!(page.contains(".TH crew-runner 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS") && page.contains("submit") && page.contains("wait"), "{page}");
    assert!(!crew.data_dir().exists(), "man touched the data dir");
}

#[test]
fn quiet_prints_errors_only() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    // `extra` is used by no placeholder: a warning, and the run shows progress lines.
    let args = ["--run", &one_step(), "--input", "item=1", "--input", "extra=2"];
    let loud = crew.outcome(&args);
    assert_eq!(loud.code, Some(0), "{}", loud.stderr);
    assert!(loud.stderr.contains("warning:") && loud.stderr.contains("task only_step"), "{}", loud.stderr);

    for quiet in ["-q", "--quiet"] {
        let mut all = vec![quiet];
        all.extend_from_slice(&args);
        let out = crew.outcome(&all);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(out.stderr, "", "{quiet}: stderr not empty");
        assert!(!out.stdout.trim().is_empty(), "{quiet}: no output");
    }
    let out = crew.outcome(&["submit", &one_step(), "--input", "item=1", "--input", "extra=2", "-q"]);
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""), "submit -q");
    // Errors are still printed.
    mock.push(Reply::status(400, "the model rejected the request"));
    let out = crew.outcome(&["run", "-q", &one_step(), "--input", "item=1"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("failed") && out.stderr.contains("the model rejected the request"), "{}", out.stderr);
    assert!(!out.stderr.contains("task only_step"), "{}", out.stderr);
    crew.usage_error(&["-q", "-v", "list"]);
}

/// The UTC date `days_ago` days before today, as `YYYY-MM-DD` (Howard Hinnant's civil_from_days).
fn utc_date(days_ago: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let z = now.div_euclid(86_400) - days_ago + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{m:02}-{d:02}", yoe + era * 400 + i64::from(m <= 2))
}

#[test]
fn old_log_files_are_deleted_at_start() {
    let mut crew = Crew::new(None);
    let logs = crew.data_dir().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let file = |days_ago: i64| logs.join(format!("crew-runner.log.{}", utc_date(days_ago)));
    for days_ago in [1, 13, 14, 15, 400] {
        std::fs::write(file(days_ago), "old lines\n").unwrap();
    }
    std::fs::write(logs.join("mine.txt"), "not a log file\n").unwrap();
    crew.ok(&["list"]);
    let kept: Vec<bool> = [1, 13, 14, 15, 400].iter().map(|d| file(*d).exists()).collect();
    assert_eq!(kept, [true, true, false, false, false], "the default keeps 14 days (today and 13 before)");
    assert!(file(0).exists() && logs.join("mine.txt").exists());

    crew.env.push(("CREW_RUNNER_LOG_KEEP_DAYS".into(), "2".into()));
    crew.ok(&["list"]);
    assert!(file(1).exists() && !file(13).exists());
    crew.env.push(("CREW_RUNNER_LOG_KEEP_DAYS".into(), "0".into()));
    std::fs::write(file(1000), "kept forever\n").unwrap();
    crew.ok(&["list"]);
    assert!(file(1000).exists(), "0 keeps every file");
    crew.env.push(("CREW_RUNNER_LOG_KEEP_DAYS".into(), "two weeks".into()));
    let err = crew.usage_error(&["list"]);
    assert!(err.contains("CREW_RUNNER_LOG_KEEP_DAYS"), "{err}");
}

#[test]
fn text_times_name_their_zone_json_keeps_milliseconds() {
    let crew = Crew::new(None);
    let e = crew.json(&["--run", &one_step(), "--input", "item=1", "--model", "offline", "--json"]);
    let id = e["id"].as_str().unwrap();
    assert!(e["created_at"].is_i64() && e["finished_at"].is_i64(), "{e}");
    let status = crew.ok(&["status", id]);
    for field in ["created:", "started:", "finished:"] {
        let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}:\n{status}"));
        assert!(line.ends_with(" UTC"), "{line}");
    }
    let list = crew.ok(&["list"]);
    let row = list.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(row.contains(" UTC  "), "{list}");
    let logs = crew.ok(&["logs", id]);
    assert!(logs.lines().filter(|l| !l.starts_with("      ")).all(|l| l.contains(" UTC ")), "{logs}");
}

#[test]
fn model_help_says_it_overrides_every_agent() {
    let crew = Crew::new(None);
    for command in ["run", "submit"] {
        let help = crew.ok(&[command, "--help"]);
        assert!(help.contains("Run every agent on MODEL") && help.contains("manager_llm"), "{help}");
    }
}
