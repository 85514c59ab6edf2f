//! Broken and hostile crew files, through the real binary (`run`, `submit`, `validate`).
//!
//! Every case must: exit with code 2, print on stderr the file at fault and the field (or line)
//! and a reason, not panic, finish within [`WAIT`] (a hang fails the test) using at most
//! [`MAX_RSS_KB`] of memory, and record nothing (the database is never even created).
//!
//! The committed corpus is `tests/fixtures/broken/` (one file or folder a case; the table below
//! says what each message must contain). Cases too big or too odd to commit (a 50 MB file, binary
//! garbage, invalid UTF-8, a FIFO, a folder named like a file, a symlink loop) are made at test
//! time in a temp dir, and so are files past the loader's
//! limits on nesting depth, nesting work and YAML size.

use crate::harness;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use harness::{fixture, Crew};

/// The longest one command may take; past it the process is killed and the test fails.
const WAIT: Duration = Duration::from_secs(60);
/// The most memory (max RSS, KiB) one refused command may use.
const MAX_RSS_KB: i64 = 512 * 1024;

/// What `validate` (and `run`, `submit`) must say about each committed fixture, besides its path:
/// the field or `:line:` and words of the reason.
const CASES: &[(&str, &[&str])] = &[
    ("agent-missing-role.yaml", &[":4:", "agents.writer.role", "is required"]),
    ("agents-wrong-type.yaml", &[":3:", "agents:", "found a string"]),
    ("alias-big-string.yaml", &[":2:", "agents[", "document too large"]),
    ("billion-laughs.yaml", &[":2:", "too many alias expansions"]),
    ("comments-only.yaml", &["the file is empty"]),
    ("complex-key.yaml", &[":3:", "mapping key must be text"]),
    ("context-cycle.yaml", &[":13:", "tasks.a.context[0]", "cannot be its context"]),
    ("context-not-a-list.yaml", &[":13:", "tasks.a.context", "expected a list"]),
    ("context-self.yaml", &[":13:", "tasks.a.context[0]", "its own context"]),
    ("context-unknown-task.yaml", &[":13:", "tasks.a.context[0]", "unknown task `nonexistent`"]),
    ("deep-nesting-block.yaml", &[":130:", "recursion limit"]),
    ("deep-nesting.json", &[":1:", "invalid JSON", "recursion limit"]),
    ("deep-nesting.yaml", &[":2:", "nested deeper than"]),
    ("duplicate-agent.yaml", &[":4:", "agents.w", "duplicate agent"]),
    ("empty.yaml", &["the file is empty"]),
    ("graph-context-cycle.json", &[":24:", "nodes[2] (id t2).data", "cycle in task edges"]),
    ("graph-edge-unknown-node.json", &[":29:", "edges[1].source", "no node has id `ghost`"]),
    ("graph-node-data-wrong-type.json", &[":6:", "nodes[0] (id w).data", "expected a mapping"]),
    ("graph-node-missing-type.json", &[":4:", "nodes[0] (id w).type", "must be `agent`"]),
    ("graph-nodes-not-list.json", &[":2:", "nodes:", "expected a list of nodes"]),
    ("graph-syntax-error.json", &[":4:", "invalid JSON"]),
    ("graph-trailing-garbage.json", &[":2:", "trailing characters"]),
    ("inputs-wrong-type.yaml", &[":3:", "inputs:", "found a list"]),
    ("json-wrong-types.json", &[":2:", "name:", ":6:", "agents.w.role", ":18:", "tasks.t.async_execution"]),
    ("jsonc-unclosed-comment.jsonc", &[":5:", "invalid JSONC"]),
    ("llm-wrong-type.yaml", &[":2:", "llm:", "expected text"]),
    ("max-iter-not-number.yaml", &[":8:", "agents.writer.max_iter", "whole number"]),
    ("no-agents.yaml", &["agents:", "no agents"]),
    ("no-tasks.yaml", &["tasks:", "no tasks"]),
    ("not-a-crew.txt", &["not a crew"]),
    ("output-file-absolute.yaml", &[":13:", "tasks.draft.output_file", "not an absolute one"]),
    ("output-file-escape.yaml", &[":13:", "tasks.draft.output_file", "must not contain `..`"]),
    ("process-unknown.yaml", &[":3:", "process:", "unknown process `parallel`"]),
    ("project-empty", &["not a CrewAI project"]),
    ("project-syntax-error", &["config/agents.yaml:3:", "invalid YAML"]),
    ("project-unknown-agent", &["config/tasks.yaml:4:", "tasks.draft.agent", "unknown agent `editor`"]),
    ("syntax-bad-indent.yaml", &[":5:", "invalid YAML"]),
    ("syntax-duplicate-anchor-alias.yaml", &[":2:", "unknown anchor"]),
    ("syntax-tab-indent.yaml", &[":3:", "invalid YAML"]),
    ("syntax-unclosed-bracket.yaml", &[":4:", "invalid YAML"]),
    ("syntax-unclosed-quote.yaml", &[":2:", "invalid YAML"]),
    ("task-description-list.yaml", &[":10:", "tasks.draft.description", "expected text"]),
    ("task-missing-description.yaml", &[":9:", "tasks.draft.description", "is required"]),
    ("tasks-wrong-type.yaml", &[":8:", "tasks:", "found a number"]),
    ("top-level-list.yaml", &[":1:", "expected a mapping at the top level"]),
    ("top-level-scalar.yaml", &[":1:", "expected a mapping at the top level"]),
    ("unknown-agent.yaml", &[":12:", "tasks.draft.agent", "unknown agent `ghostwriter`"]),
    ("unknown-manager-agent.yaml", &[":4:", "manager_agent:", "unknown agent `boss`"]),
    ("yaml-custom-tag.yaml", &[":2:", "llm:", "tags"]),
    ("yaml-python-tag.yaml", &[":1:", "name:", "tags are not supported"]),
];

/// A refused command's result.
struct Refused {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    max_rss_kb: i64,
}

/// Runs the binary with `args`, bounded by [`WAIT`], and measures its peak memory (`wait4`).
fn run_bounded(crew: &Crew, label: &str, args: &[&str]) -> Refused {
    let out_path = crew.dir.path().join(format!("{label}.stdout"));
    let err_path = crew.dir.path().join(format!("{label}.stderr"));
    let child = crew
        .cmd(args)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(WAIT).is_err() {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let _ = done.send(());
    let killed = watchdog.join().unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(!killed, "crew-runner {args:?} did not finish within {WAIT:?}\nstderr: {stderr}");
    drop(child);
    Refused {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stderr,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        max_rss_kb: usage.ru_maxrss,
    }
}

/// Runs `validate`, `run` and `submit` on `crew_path` and checks each refusal; `at_fault` is the
/// file the message must name (the crew itself, or a config file of a project).
fn assert_refused(crew: &Crew, crew_path: &Path, at_fault: &Path, expect: &[&str], commands: &[&str]) {
    let path = crew_path.display().to_string();
    for command in commands {
        let label = format!("{}-{command}", crew_path.file_name().unwrap().to_string_lossy());
        let out = run_bounded(crew, &label, &[command, &path]);
        let what = format!("crew-runner {command} {path}:\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(2), "{what}");
        assert!(!out.stderr.contains("panicked"), "{what}");
        assert!(out.stderr.contains(&at_fault.display().to_string()), "the message must name {}: {what}", at_fault.display());
        for needle in expect {
            assert!(out.stderr.contains(needle), "the message must contain {needle:?}: {what}");
        }
        assert!(out.max_rss_kb < MAX_RSS_KB, "used {} KiB: {what}", out.max_rss_kb);
        assert!(!crew.database().exists(), "a database was created: {what}");
        assert!(!crew.data_dir().join("crew-runner.db-wal").exists(), "{what}");
    }
}

fn broken(name: &str) -> PathBuf {
    fixture("broken").join(name)
}

/// The file a fixture's message must name: the crew file, or the config file of a project.
fn at_fault(name: &str) -> PathBuf {
    let path = broken(name);
    match name {
        "project-syntax-error" => path.join("config/agents.yaml"),
        "project-unknown-agent" => path.join("config/tasks.yaml"),
        _ => path,
    }
}

#[test]
fn the_corpus_has_at_least_30_cases_and_the_table_covers_it() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("broken"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "missing-inputs.yaml")
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every fixture in tests/fixtures/broken/ has a row in CASES");
    assert!(CASES.len() >= 30);
}

#[test]
fn every_committed_broken_crew_is_refused_by_validate_run_and_submit() {
    let crew = Crew::new(None);
    for (name, expect) in CASES {
        assert_refused(&crew, &broken(name), &at_fault(name), expect, &["validate", "run", "submit"]);
    }
}

#[test]
fn missing_inputs_are_refused_by_run_and_submit_and_listed_by_validate() {
    let crew = Crew::new(None);
    let path = broken("missing-inputs.yaml");
    assert_refused(&crew, &path, &path, &["missing inputs: audience, topic"], &["run", "submit"]);
    let out = run_bounded(&crew, "validate-missing", &["validate", &path.display().to_string()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("audience") && out.stdout.contains("topic"), "{}", out.stdout);
    assert!(!crew.database().exists());
}

#[test]
fn generated_hostile_files_are_refused() {
    let crew = Crew::new(None);
    let dir = tempfile::tempdir().unwrap();
    let all = ["validate", "run", "submit"];

    // 50 MB of valid-looking YAML: refused by size, without reading it.
    let huge = dir.path().join("huge.yaml");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge).unwrap());
        let line = b"key: some value that repeats over and over\n";
        for _ in 0..(50 * 1024 * 1024 / line.len() + 1) {
            f.write_all(line).unwrap();
        }
    }
    assert!(std::fs::metadata(&huge).unwrap().len() >= 50 * 1024 * 1024);
    assert_refused(&crew, &huge, &huge, &["file is too large"], &all);

    // Binary garbage (a fixed pseudo-random stream, NUL bytes included).
    let garbage = dir.path().join("garbage.yaml");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&garbage, &bytes).unwrap();
    assert_refused(&crew, &garbage, &garbage, &["not a text file"], &all);

    // Latin-1 text: no NUL, but not UTF-8; the line of the first bad byte is named.
    let latin1 = dir.path().join("latin1.yaml");
    std::fs::write(&latin1, b"name: x\nagents:\n  caf\xe9:\n    role: R\n").unwrap();
    assert_refused(&crew, &latin1, &latin1, &[":3:", "invalid UTF-8"], &all);

    // A FIFO nobody writes to must not block the loader.
    let fifo = dir.path().join("fifo.yaml");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert_refused(&crew, &fifo, &fifo, &["the file is empty"], &all);

    // A folder named like a crew file is read as a project, and is not one.
    let folder = dir.path().join("folder.yaml");
    std::fs::create_dir(&folder).unwrap();
    assert_refused(&crew, &folder, &folder, &["not a CrewAI project"], &all);

    // A symlink loop and a missing file.
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    assert_refused(&crew, &a, &a, &["cannot open"], &all);
    let missing = dir.path().join("missing.yaml");
    assert_refused(&crew, &missing, &missing, &["cannot open"], &all);

    // Deep nesting far past the fixtures' (a million levels): still refused at once.
    let deeper = dir.path().join("deeper.yaml");
    std::fs::write(&deeper, format!("agents: {}{}\n", "[".repeat(1_000_000), "]".repeat(1_000_000))).unwrap();
    assert_refused(&crew, &deeper, &deeper, &[":1:", "nested deeper than"], &all);

    // Under the depth limit but a million values deep inside: refused by the value budget, at once.
    let heavy = dir.path().join("heavy.yaml");
    std::fs::write(&heavy, format!("agents: {}{}{}\n", "[".repeat(100), "1,".repeat(1_000_000), "]".repeat(100))).unwrap();
    assert_refused(&crew, &heavy, &heavy, &[":1:", "document too large"], &all);

    // 5 MB of block YAML: over the YAML size limit.
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, format!("name: x\nagents:\n{}", "  - role: a writer of things\n".repeat(5 * 1024 * 1024 / 29))).unwrap();
    assert_refused(&crew, &big, &big, &["too large for YAML"], &all);
}

#[test]
fn the_rows_form_is_refused_too() {
    // `--inputs-file` with a broken crew: refused before any row is submitted.
    let crew = Crew::new(None);
    let rows = crew.dir.path().join("rows.jsonl");
    std::fs::write(&rows, "{\"item\": 1}\n{\"item\": 2}\n").unwrap();
    let path = broken("unknown-agent.yaml");
    let out = run_bounded(&crew, "rows", &["submit", &path.display().to_string(), "--inputs-file", &rows.display().to_string()]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("unknown agent `ghostwriter`"), "{}", out.stderr);
    assert!(!crew.database().exists());
}
