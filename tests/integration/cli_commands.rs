//! The scripting commands through the binary: submit and worker, queue control without a worker,
//! reruns, logs, usage errors for unknown ids and bad values, and `--help` everywhere.

use crate::harness;
use crate::support;

use harness::{arg, fixture, Crew};
use serde_json::Value;
use support::{MockLlm, Reply};

/// A safety net for waits on a child process; never reached when things work.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A well-formed id (a ULID) that no execution has.
const UNKNOWN_ID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

fn one_step() -> String {
    arg(&fixture("cli/one-step.yaml"))
}

fn three_step() -> String {
    arg(&fixture("cli/three-step.yaml"))
}

/// The single line `submit` prints: the id.
fn submit(crew: &Crew, args: &[&str]) -> String {
    let mut all = vec!["submit"];
    all.extend_from_slice(args);
    let out = crew.ok(&all);
    let id = out.trim().to_string();
    assert!(!id.is_empty() && !id.contains('\n'), "submit printed {out:?}");
    id
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

/// The chat prompts that ran the task whose description starts with `description`.
fn prompts_for(mock: &MockLlm, description: &str) -> usize {
    let marker = format!("Current Task: {description}");
    mock.chat_requests().iter().filter(|r| r.last_user_message().starts_with(&marker)).count()
}

#[test]
fn submit_then_worker_runs_it_with_metadata() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let tagged = submit(&crew, &[&one_step(), "--input", "item=1", "--meta", "team=x"]);
    let plain = submit(&crew, &[&one_step(), "--input", "item=2"]);
    assert_eq!(crew.status(&tagged)["status"], "queued");
    assert_eq!(mock.chat_count(), 0, "submit must not run anything");

    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(mock.chat_count(), 2);
    let succeeded = crew.json(&["list", "--status", "succeeded", "--json"]);
    let mut got = ids(&succeeded);
    got.sort();
    let mut want = vec![tagged.clone(), plain.clone()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(ids(&crew.json(&["list", "--status", "failed", "--json"])), Vec::<String>::new());

    let e = crew.status(&tagged);
    assert_eq!(e["meta"]["team"], "x");
    assert!(crew.ok(&["status", &tagged]).contains("team=x"));
    assert_eq!(ids(&crew.json(&["list", "--meta", "team=x", "--json"])), std::slice::from_ref(&tagged));
    assert_eq!(ids(&crew.json(&["list", "--meta", "team=y", "--json"])), Vec::<String>::new());
    let table = crew.ok(&["list"]);
    assert!(table.contains(&tagged) && table.contains(&plain), "{table}");
}

#[test]
fn submit_json_prints_the_id() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let out = crew.json(&["submit", &one_step(), "--input", "item=1", "--json"]);
    let id = out["id"].as_str().unwrap();
    assert_eq!(crew.status(id)["status"], "queued");
}

#[test]
fn queue_control_without_a_worker() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    crew.ok(&["pause"]);
    let a = submit(&crew, &[&one_step(), "--input", "item=a", "--priority", "low"]);
    let b = submit(&crew, &[&one_step(), "--input", "item=b"]);
    assert_eq!(crew.status(&a)["priority"], "low");
    assert_eq!(crew.status(&b)["priority"], "normal");

    crew.ok(&["priority", &a, "urgent"]);
    assert_eq!(crew.status(&a)["priority"], "urgent");

    let cancelled = crew.json(&["cancel", &b, "--json"]);
    assert_eq!(cancelled["outcome"], "cancelled");
    let b_after = crew.status(&b);
    assert_eq!(b_after["status"], "cancelled");
    assert_eq!(b_after["was_running"], false);

    let again = crew.ok(&["cancel", &b]);
    assert!(again.contains("already cancelled"), "{again}");
    assert_eq!(crew.json(&["cancel", &b, "--json"])["outcome"], "already_finished");
    assert_eq!(crew.status(&b), b_after, "a second cancel changed the execution");

    crew.ok(&["resume"]);
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status(&a)["status"], "succeeded");
    assert_eq!(crew.status(&b), b_after);
    assert_eq!(mock.chat_count(), 1);
    assert!(mock.chat_requests()[0].last_user_message().contains("Handle item a"));

    let err = crew.usage_error(&["priority", &a, "high"]);
    assert!(err.contains(&a) || err.contains("succeeded") || err.contains("queued"), "{err}");
    assert_eq!(crew.status(&a)["priority"], "urgent");
}

#[test]
fn retry_of_a_failed_run_continues_from_the_failed_task() {
    let mock = MockLlm::start();
    mock.push_for("Step two", Reply::status(401, "Incorrect API key provided"));
    let crew = Crew::new(Some(&mock.base_url()));
    let out = crew.outcome(&["--run", &three_step(), "--input", "item=3"]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    let failed = &crew.executions()[0];
    let failed_id = failed["id"].as_str().unwrap().to_string();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["kind"], "llm_client");
    assert_eq!(failed["progress"]["completed_steps"], 1);
    assert_eq!(prompts_for(&mock, "Step one"), 1);
    assert_eq!(prompts_for(&mock, "Step two"), 1);

    let rerun = crew.json(&["retry", &failed_id, "--json"]);
    assert_eq!(rerun["retry_of"], failed_id.as_str());
    assert_eq!(rerun["reused_steps"], 1);
    let rerun_id = rerun["id"].as_str().unwrap();
    crew.ok(&["worker", "--until-idle"]);
    let e = crew.status(rerun_id);
    assert_eq!(e["status"], "succeeded");
    assert_eq!(e["retry_of"], failed_id.as_str());
    assert_eq!(e["progress"]["completed_steps"], 3);
    assert_eq!(prompts_for(&mock, "Step one"), 1, "step one was requested again");
    assert_eq!(prompts_for(&mock, "Step two"), 2);
    assert_eq!(prompts_for(&mock, "Step three"), 1);
    assert_eq!(crew.status(&failed_id)["status"], "failed", "the original changed");
}

#[test]
fn run_on_a_paused_queue_says_so_and_waits_for_resume() {
    use std::io::{BufRead, BufReader};
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    crew.ok(&["pause"]);
    let mut run = crew.spawn(&["--run", &one_step(), "--input", "item=p"]);
    let stderr = BufReader::new(run.stderr.take().unwrap());
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        // The timeout is only a safety net against a hang; the notice comes at once.
        match seen.recv_timeout(WAIT) {
            Ok(line) if line.contains("queue is paused") => break,
            Ok(_) => {}
            Err(e) => {
                let _ = run.kill();
                panic!("--run did not say the queue is paused ({e})");
            }
        }
    }
    assert_eq!(mock.chat_count(), 0, "a paused queue started the run");
    crew.ok(&["resume"]);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8(out.stdout).unwrap().trim().is_empty());
    assert_eq!(mock.chat_count(), 1);
}

#[test]
fn retry_from_a_task_reruns_it_and_the_tasks_after_it() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let first = crew.json(&["--run", &three_step(), "--input", "item=4", "--json"]);
    assert_eq!(first["status"], "succeeded");
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(mock.chat_count(), 3);

    let rerun_id = crew.ok(&["retry", first_id, "--from-task", "step_two"]).trim().to_string();
    crew.ok(&["worker", "--until-idle"]);
    let e = crew.status(&rerun_id);
    assert_eq!(e["status"], "succeeded");
    assert_eq!(e["retry_of"], first_id);
    assert_eq!(mock.chat_count(), 5);
    assert_eq!(prompts_for(&mock, "Step one"), 1);
    assert_eq!(prompts_for(&mock, "Step two"), 2);
    assert_eq!(prompts_for(&mock, "Step three"), 2);

    let err = crew.usage_error(&["retry", first_id, "--from-task", "nope"]);
    assert!(err.contains("nope") && err.contains("step_one, step_two, step_three"), "{err}");
    assert_eq!(crew.executions().len(), 2);
}

#[test]
fn retry_of_an_unfinished_execution_is_refused() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let id = submit(&crew, &[&one_step(), "--input", "item=1"]);
    let err = crew.usage_error(&["retry", &id]);
    assert!(err.contains("queued"), "{err}");
    assert_eq!(crew.executions().len(), 1);
    crew.ok(&["cancel", &id]);
    let rerun = crew.ok(&["retry", &id]).trim().to_string();
    assert_eq!(crew.status(&rerun)["status"], "queued");
    assert_eq!(crew.status(&rerun)["retry_of"], id.as_str());
}

#[test]
fn logs_follow_prints_until_the_execution_finishes() {
    let mock = MockLlm::start();
    mock.push(Reply::delay(300, Reply::text("Final Answer: followed")));
    let crew = Crew::new(Some(&mock.base_url()));
    let id = submit(&crew, &[&one_step(), "--input", "item=1"]);
    let worker = crew.spawn(&["worker", "--until-idle"]);
    let follow = crew.spawn(&["logs", &id, "--follow", "--json"]);
    let followed = follow.wait_with_output().unwrap();
    assert_eq!(followed.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(followed.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.last().map(|l| l["kind"].clone()), Some("succeeded".into()), "{lines:#?}");
    assert_eq!(lines, crew.logs(&id), "--follow missed or repeated lines");
    assert_eq!(worker.wait_with_output().unwrap().status.code(), Some(0));
}

#[test]
fn logs_show_the_engine_events() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let e = crew.json(&["--run", &one_step(), "--input", "item=1", "--json"]);
    let id = e["id"].as_str().unwrap();
    let text = crew.ok(&["logs", id]);
    for kind in ["task_started", "task_completed", "llm_call_completed"] {
        assert!(text.contains(kind), "no {kind} line:\n{text}");
    }
    let lines = crew.logs(id);
    // One entry per JSON line; continuation lines of multi-line messages are indented.
    let heads: Vec<&str> = text.lines().filter(|t| !t.starts_with("      ")).collect();
    assert_eq!(heads.len(), lines.len(), "{text}");
    for (head, l) in heads.iter().zip(&lines) {
        assert!(head.starts_with(&format!("{:>5} ", l["seq"].as_u64().unwrap())), "{head}");
    }
    assert!(lines.iter().all(|l| l["execution_id"] == id));
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(lines.iter().any(|l| l["kind"] == "task_completed" && l["task"] == "only_step"));
    let after = crew.ok(&["logs", id, "--json", "--after", &seqs[0].to_string()]);
    assert_eq!(after.lines().count(), lines.len() - 1);
}

#[test]
fn closed_stdout_ends_quietly() {
    let crew = Crew::new(None);
    let e = crew.json(&["--run", &one_step(), "--input", "item=1", "--model", "offline", "--json"]);
    let id = e["id"].as_str().unwrap();
    let commands: [&[&str]; 4] = [&["list"], &["status", id], &["logs", id], &["validate", &one_step()]];
    for args in commands {
        // The reading end is closed before the command starts, so every write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = crew.cmd(args).stdout(writer).stderr(std::process::Stdio::piped()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked on a closed stdout:\n{stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn unknown_and_malformed_ids_are_usage_errors() {
    let crew = Crew::new(None);
    let commands: [&[&str]; 5] = [&["status"], &["logs"], &["cancel"], &["retry"], &["priority"]];
    for command in commands {
        for id in [UNKNOWN_ID, "not-an-id"] {
            let mut args = command.to_vec();
            args.push(id);
            if command[0] == "priority" {
                args.push("high");
            }
            let err = crew.usage_error(&args);
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: not one line: {err}");
            assert!(err.contains(id), "{args:?}: the id is not named: {err}");
        }
    }
    crew.assert_nothing_recorded();
}

#[test]
fn an_overflowing_id_is_refused_and_quoted_as_given() {
    let crew = Crew::new(None);
    // 26 base32 characters hold 130 bits: a first character above 7 is no ULID (it was read as
    // `0ZZZ…` and answered "no execution with id 0ZZZ…").
    let overflowing = "8ZZZZZZZZZZZZZZZZZZZZZZZZZ";
    let err = crew.usage_error(&["status", overflowing]);
    assert!(err.contains(&format!("`{overflowing}` is not an execution id")), "{err}");
    assert!(!err.contains("0ZZZ"), "{err}");
    let lower = UNKNOWN_ID.to_lowercase();
    let err = crew.usage_error(&["status", &lower]);
    assert!(err.contains(&format!("no execution with id `{lower}`")), "the id as given is not quoted: {err}");
    crew.assert_nothing_recorded();
}

#[test]
fn bad_priority_is_a_usage_error() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    crew.usage_error(&["--run", &one_step(), "--input", "item=1", "--priority", "asap"]);
    crew.usage_error(&["submit", &one_step(), "--input", "item=1", "--priority", "asap"]);
    crew.assert_nothing_recorded();
    let id = submit(&crew, &[&one_step(), "--input", "item=1"]);
    crew.usage_error(&["priority", &id, "asap"]);
    assert_eq!(crew.status(&id)["priority"], "normal");
}

#[test]
fn bad_values_are_usage_errors() {
    let crew = Crew::new(Some("http://127.0.0.1:9/v1"));
    let file = one_step();
    crew.usage_error(&["--run", &file, "--input", "item=1", "--timeout", "0"]);
    crew.usage_error(&["--run", &file, "--input", "item=1", "--max-attempts", "0"]);
    crew.usage_error(&["--run", &file, "--input", "item=1", "--meta", "novalue"]);
    crew.usage_error(&["--run", &file, "--input", "noequals"]);
    crew.usage_error(&["list", "--status", "sleeping"]);
    crew.usage_error(&["--input", "item=1", "list"]);
    crew.assert_nothing_recorded();
}

#[test]
fn help_for_every_command() {
    let crew = Crew::new(None);
    let top = crew.ok(&["--help"]);
    let commands =
        ["run", "submit", "worker", "status", "list", "logs", "wait", "cancel", "retry", "priority", "pause", "resume", "validate"];
    for command in commands {
        assert!(top.contains(command), "--help does not list {command}");
        let text = crew.ok(&[command, "--help"]);
        assert!(text.contains("Usage:"), "{command} --help:\n{text}");
    }
    crew.ok(&["help", "retry"]);
    crew.ok(&["--version"]);
}

/// Control characters a crew file can carry through JSON escapes: ESC sequences (colour, clear
/// screen, window title), BEL, CR, backspace, DEL and a C1 CSI.
const HOSTILE: &str = "\u{1b}[31mred\u{1b}[2J\u{1b}]0;owned\u{7}\rback\u{8}\u{7f}\u{9b}1m";

/// Whether `text` holds a control character a terminal would act on (newlines and tabs aside).
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control() && *c != '\n' && *c != '\t')
}

#[test]
fn text_output_escapes_control_characters_json_keeps_them() {
    let crew = Crew::new(None);
    let spec = serde_json::json!({
        "name": format!("crew{HOSTILE}"),
        "llm": "offline",
        "agents": {"writer": {"role": format!("Writer{HOSTILE}"), "goal": "Write", "backstory": "Writes."}},
        "tasks": {format!("task{HOSTILE}"): {
            "description": format!("Write about {{topic}} and {HOSTILE}"),
            "expected_output": "A line.\nAnother line.",
            "agent": "writer"
        }},
        "knowledge_sources": format!("unsupported{HOSTILE}")
    });
    let file = crew.write("hostile.json", &spec.to_string());
    let file = arg(&file);
    let input = format!("topic=t{HOSTILE}");
    let meta = format!("note=m{HOSTILE}");
    let mut outputs = Vec::new();
    let run = crew.outcome(&["--run", &file, "--input", &input, "--meta", &meta]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("warning:"), "{}", run.stderr);
    outputs.push(("--run", run.stdout, run.stderr));
    let id = crew.executions()[0]["id"].as_str().unwrap().to_string();
    for args in [vec!["status", id.as_str()], vec!["list"], vec!["logs", id.as_str()], vec!["validate", file.as_str()]] {
        let out = crew.outcome(&args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        outputs.push((args[0], out.stdout, out.stderr));
    }
    // An invalid crew's error names the hostile task too.
    let broken = crew.write(
        "broken.json",
        &serde_json::json!({
            "agents": {"a": {"role": "R", "goal": "G", "backstory": "B"}},
            "tasks": {"t": {"description": "D", "expected_output": "E", "agent": format!("nobody{HOSTILE}")}}
        })
        .to_string(),
    );
    let err = crew.usage_error(&["validate", &arg(&broken)]);
    assert!(err.contains("nobody\\u{1b}[31m"), "{err}");
    outputs.push(("validate (invalid)", String::new(), err));
    for (what, stdout, stderr) in &outputs {
        assert_eq!(raw_control(stdout), None, "{what} printed a raw control character on stdout:\n{stdout:?}");
        assert_eq!(raw_control(stderr), None, "{what} printed a raw control character on stderr:\n{stderr:?}");
    }
    // The status text keeps the output's own newlines.
    let status = &outputs.iter().find(|o| o.0 == "status").unwrap().1;
    assert!(status.contains("crew:       crew\\u{1b}[31mred"), "{status}");
    let output = status.split("output:\n").nth(1).expect("status shows the output");
    assert!(output.lines().count() > 1 && !output.contains("\\n"), "{status}");
    // JSON is escaped by serde and keeps the text exactly.
    let e = crew.status(&id);
    assert_eq!(e["crew_name"], format!("crew{HOSTILE}"));
    assert_eq!(e["meta"]["note"], format!("m{HOSTILE}"));
}

#[test]
fn prices_come_from_the_table_and_the_users_overrides() {
    let mock = MockLlm::start();
    let mut crew = Crew::new(Some(&mock.base_url()));
    // `mock-model` is in no table: its cost is unknown, not $0.
    let out = crew.json(&["--run", &one_step(), "--input", "item=1", "--json"]);
    let id = out["id"].as_str().unwrap().to_string();
    let usage = &crew.status(&id)["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0, "{usage}");
    assert_eq!(usage.get("cost_usd"), None, "unknown model, unknown cost: {usage}");

    // The user's overrides price it, for runs and for `models`.
    let prices = crew.write(
        "prices.json",
        r#"{"mock-model": {"input_cost_per_token": 0.001, "output_cost_per_token": 0.002, "max_input_tokens": 4096}}"#,
    );
    crew.env.push(("CREW_RUNNER_PRICES".into(), prices.display().to_string()));
    let out = crew.json(&["--run", &one_step(), "--input", "item=2", "--json"]);
    let usage = crew.status(out["id"].as_str().unwrap())["usage"].clone();
    let want = usage["prompt_tokens"].as_f64().unwrap() * 0.001 + usage["completion_tokens"].as_f64().unwrap() * 0.002;
    assert!((usage["cost_usd"].as_f64().unwrap() - want).abs() < 1e-9, "{usage}");
    let listed = crew.json(&["models", "mock-model", "--json"]);
    assert_eq!(listed["models"]["mock-model"]["max_input_tokens"], 4096);
    assert_eq!(listed["overrides"], prices.display().to_string());
    assert!(listed["source"].as_str().unwrap().starts_with("LiteLLM "), "{listed}");
    let text = crew.ok(&["models", "gpt-4o-mini"]);
    assert!(text.contains("gpt-4o-mini") && text.contains("0.15") && text.contains(listed["date"].as_str().unwrap()), "{text}");

    // A broken overrides file: `models` names it and fails; a run warns and uses the built-in prices.
    std::fs::write(&prices, "{not json").unwrap();
    let outcome = crew.outcome(&["models"]);
    assert_eq!(outcome.code, Some(1));
    assert!(outcome.stderr.contains("prices.json"), "{}", outcome.stderr);
    let out = crew.json(&["--run", &one_step(), "--input", "item=3", "--json"]);
    assert_eq!(crew.status(out["id"].as_str().unwrap())["status"], "succeeded");
}
