//! Human review (`human_input: true`) through the real binary, against the mock OpenAI-compatible
//! server: the execution pauses in `awaiting_input` (holding no slot, surviving the worker's end),
//! `crew-runner answer` with feedback makes the agent revise (CrewAI's feedback instructions in
//! its prompt) and asks again, accepting finishes it with the reviewed answer and its
//! `output_file`; `--run` without a terminal leaves it waiting (exit 4), in a terminal it asks there.

use crate::harness;
use crate::support;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{arg, Crew};
use support::mock_llm::last_user_message;
use support::{MockLlm, Reply};

/// What CrewAI's `feedback_instructions` start with.
const FEEDBACK: &str = "User feedback: ";

/// A crew of `research` then `write` (human_input, writing report.md) on the mock.
fn crew_file(crew: &Crew) -> String {
    let text = "name: reviewed\nllm: openai/mock-model\nagents:\n  writer:\n    role: Writer\n    goal: Write\n    backstory: You write.\n\
         tasks:\n  research:\n    description: Research owls\n    expected_output: Notes.\n    agent: writer\n\
         \x20 write:\n    description: Write about owls\n    expected_output: A paragraph.\n    agent: writer\n    human_input: true\n    output_file: report.md\n";
    arg(&crew.write("crew/crew.yaml", text))
}

fn final_answer(text: &str) -> Reply {
    Reply::text(format!("Thought: I now know the final answer\nFinal Answer: {text}"))
}

#[test]
fn a_review_pauses_survives_workers_and_is_answered_from_the_cli() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew);
    mock.push(final_answer("Owls hunt at night."));
    mock.push(final_answer("Owls are nocturnal hunters with silent flight and keen hearing, found on every continent but Antarctica."));
    let id = crew.ok(&["submit", &file, "--quiet"]).trim().to_string();

    // The worker runs `research`, then `write` waits for review; with nothing else to run, the
    // worker ends (awaiting input holds no slot and is no work a worker can do).
    crew.ok(&["worker", "--until-idle"]);
    let status = crew.status(&id);
    assert_eq!(status["status"], "awaiting_input", "{status:#}");
    assert_eq!(status["request"]["task"], "write");
    assert_eq!(status["request"]["round"], 1);
    assert!(status["request"]["draft"].as_str().unwrap().contains("silent flight"), "{status:#}");
    assert_eq!(status["attempt"], 0, "the pause refunded the attempt");
    let listed = crew.json(&["list", "--status", "awaiting_input", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let text = crew.ok(&["status", &id]);
    assert!(text.contains("crew-runner answer") && text.contains("silent flight"), "{text}");
    assert!(!crew.dir.path().join("crew/report.md").exists(), "nothing written before the review");

    // A waiting review holds no slot: with one slot, other work runs to the end meanwhile.
    let other = crew.write("other.yaml", "name: other\nllm: openai/mock-model\nagents:\n  a:\n    role: A\n    goal: G\n    backstory: B\ntasks:\n  t:\n    description: Say hi\n    expected_output: Hi.\n    agent: a\n");
    let other_id = crew.ok(&["submit", &arg(&other), "--quiet"]).trim().to_string();
    crew.ok(&["worker", "--until-idle", "--concurrency", "1"]);
    assert_eq!(crew.status(&other_id)["status"], "succeeded");
    assert_eq!(crew.status(&id)["status"], "awaiting_input");

    // Feedback: the agent revises with its draft and the feedback, and is asked again.
    let answered = crew.json(&["answer", &id, "--text", "Make it one short sentence.", "--json"]);
    assert_eq!((answered["answer"].as_str(), answered["status"].as_str()), (Some("feedback"), Some("queued")));
    mock.push(final_answer("Owls hunt silently at night."));
    let calls = mock.chat_count();
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(mock.chat_count(), calls + 1, "only the revision: `research` is reused");
    let revision = last_user_message(&mock.chat_requests().last().unwrap().body);
    assert!(revision.contains("silent flight") && revision.contains(&format!("{FEEDBACK}Make it one short sentence.")), "{revision}");
    let status = crew.status(&id);
    assert_eq!((status["status"].as_str(), status["request"]["round"].as_u64()), (Some("awaiting_input"), Some(2)), "{status:#}");
    assert_eq!(status["request"]["draft"], "Owls hunt silently at night.");

    // Accepted: it finishes with the reviewed answer, with no further LLM call.
    crew.ok(&["answer", &id]);
    let calls = mock.chat_count();
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(mock.chat_count(), calls);
    let status = crew.status(&id);
    assert_eq!(status["status"], "succeeded", "{status:#}");
    assert_eq!(status["output"], "Owls hunt silently at night.");
    let report = std::fs::read_to_string(crew.dir.path().join("crew/report.md")).unwrap();
    assert_eq!(report.trim(), "Owls hunt silently at night.");
    let kinds: Vec<String> = crew.logs(&id).iter().map(|l| l["kind"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "awaiting_input").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "input_answered").count(), 2, "{kinds:?}");

    // Nothing to answer any more: a usage error naming the status.
    let refused = crew.usage_error(&["answer", &id]);
    assert!(refused.contains("cannot answer") && refused.contains("succeeded"), "{refused}");
}

#[test]
fn run_without_a_terminal_leaves_the_review_waiting_and_exits_4() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew);
    let out = crew.outcome(&["--run", &file]);
    assert_eq!(out.code, Some(4), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("awaits a person's review") && out.stderr.contains("crew-runner answer"), "{}", out.stderr);
    let id = crew.executions()[0]["id"].as_str().unwrap().to_string();
    assert_eq!(crew.status(&id)["status"], "awaiting_input");
    // Answered later, any worker finishes it.
    crew.ok(&["answer", &id]);
    crew.ok(&["worker", "--until-idle"]);
    assert_eq!(crew.status(&id)["status"], "succeeded");
}

#[test]
fn run_in_a_terminal_asks_there_revises_and_finishes() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew);
    mock.push(final_answer("Notes on owls."));
    mock.push(final_answer("A long first draft about owls."));
    mock.push(final_answer("Owls: short."));
    // `script` gives the binary a pseudo-terminal for stdin, stdout and stderr, fed from our pipe.
    let command = format!("{} --run {file}", env!("CARGO_BIN_EXE_crew-runner"));
    let mut script = std::process::Command::new("script");
    script.args(["-q", "-e", "-c", &command, "/dev/null"]).current_dir(harness::repo_root());
    for var in ["OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_KEY", "MODEL", "RUST_LOG", "CREW_RUNNER_DATA_DIR"] {
        script.env_remove(var);
    }
    script.envs(crew.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))).env("TERM", "dumb").env("NO_COLOR", "1");
    let mut child = script.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("script runs");
    let mut stdin = child.stdin.take().unwrap();
    // The first answer is sent back, the second (Enter) accepts the revision.
    stdin.write_all(b"Much shorter please\n\n").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "--run in a terminal did not finish");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(status.success(), "{out}");
    assert!(out.contains("awaits your review (round 1)") && out.contains("A long first draft"), "{out}");
    assert!(out.contains("awaits your review (round 2)") && out.contains("Owls: short."), "{out}");
    let revision = last_user_message(&mock.chat_requests().last().unwrap().body);
    assert!(revision.contains(&format!("{FEEDBACK}Much shorter please")), "{revision}");
    let id = crew.executions()[0]["id"].as_str().unwrap().to_string();
    let status = crew.status(&id);
    assert_eq!((status["status"].as_str(), status["output"].as_str()), (Some("succeeded"), Some("Owls: short.")), "{status:#}");
}
