//! Fuzzing the crew loader: the three formats' parsers (YAML, JSON, JSONC), the graph translation,
//! the CrewAI project reader and the checks, for panics and hangs.
//!
//! Every input is written to a temp file (or project folder) and loaded by
//! `crew_runner::crew::load` on its own thread, bounded by [`LIMIT`]: a panic, a hang past the
//! limit, or an error without a diagnostic that names a file and a reason fails the test. A crew
//! that loads must also survive what the app does next: `validate`, filling its inputs, and the
//! JSON round trip the scheduler stores it through.
//!
//! Generators (proptest):
//! - arbitrary bytes, as `.yaml`, `.json` and `.jsonc`;
//! - mutations of valid crews (`tests/fixtures/crews/`, `examples/`): bytes deleted, duplicated,
//!   replaced, lines swapped, YAML/JSON tokens inserted (`[`, `&a`, `*a`, `<<:`, `!tag`, …);
//! - structured documents: JSON trees over the crews' own vocabulary, written as JSON and YAML,
//!   and graph-shaped `{nodes, edges}` documents with random ids, types and edges;
//! - CrewAI project folders with mutated `config/agents.yaml` and `config/tasks.yaml`;
//! - short token runs repeated up to 200 000 times (work that grows faster than the input).
//!
//! The corpus is kept in `tests/fuzz-corpus/`:
//! - every file (and every folder, read as a project) there is replayed by
//!   [`the_corpus_replays_cleanly`]; an input that fails a generated case is saved there as
//!   `found-<hash>.<ext>` before the test fails, so it is replayed from then on;
//! - proptest's own regression seeds go to `tests/fuzz-corpus/proptest-regressions.txt`
//!   (replayed first by every generator).
//!
//! Runs are deterministic (a fixed seed) and take seconds: [`cases`] per generator. With
//! `CREW_RUNNER_LONG_TESTS=1` the seed is random and there are 50 times more cases.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::Value;

/// The longest one load may take before the test calls it a hang.
const LIMIT: Duration = Duration::from_secs(20);

/// Relative to the package dir (`src-tauri/`), where `cargo test` runs.
const REGRESSIONS: &str = "../tests/fuzz-corpus/proptest-regressions.txt";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn corpus_dir() -> PathBuf {
    repo_root().join("tests/fuzz-corpus")
}

fn long() -> bool {
    std::env::var("CREW_RUNNER_LONG_TESTS").is_ok_and(|v| v == "1")
}

/// Cases per generator.
fn cases(base: u32) -> u32 {
    if long() {
        base * 50
    } else {
        base
    }
}

fn runner(base: u32) -> TestRunner {
    let config = Config {
        cases: cases(base),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        max_shrink_iters: 256,
        // A hang costs the limit per shrink step: stop shrinking after a minute.
        max_shrink_time: 60_000,
        ..Config::default()
    };
    if long() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]))
    }
}

/// What one generated case is: a crew file, or a project folder's two config files.
#[derive(Clone, Debug)]
enum Input {
    File { ext: &'static str, bytes: Vec<u8> },
    Project { agents: Vec<u8>, tasks: Vec<u8> },
}

/// Loads `path` on its own thread, bounded by [`LIMIT`], and checks what comes back.
fn load_bounded(path: &Path) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| exercise(&p));
        let _ = tx.send(outcome);
    });
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => {
            let msg =
                panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            Err(format!("the loader panicked: {msg}"))
        }
        Err(_) => Err(format!("the loader did not finish within {LIMIT:?} (a hang)")),
    }
}

/// Loads a crew and, when it loads, does with it what the app does next.
fn exercise(path: &Path) -> Result<(), String> {
    match crew_runner::crew::load(path) {
        Err(e) => {
            if e.diagnostics.is_empty() {
                return Err("an error without diagnostics".into());
            }
            for d in &e.diagnostics {
                if d.file.is_empty() || d.message.trim().is_empty() {
                    return Err(format!("a diagnostic without file or reason: {d:?}"));
                }
            }
            if e.diagnostics.len() > crew_runner::crew::MAX_DIAGNOSTICS + 1 {
                return Err(format!("{} diagnostics: the cap does not hold", e.diagnostics.len()));
            }
            Ok(())
        }
        Ok(loaded) => {
            let report = crew_runner::crew::validate(path).map_err(|e| format!("loads but does not validate: {e}"))?;
            let inputs = report.required_inputs.iter().map(|r| (r.name.clone(), Value::String(format!("{{{}}}", r.name)))).collect();
            crew_runner::crew::interpolate(&loaded.spec, &inputs).map_err(|e| format!("inputs given, still missing: {e:?}"))?;
            let stored = serde_json::to_string(&loaded.spec).map_err(|e| format!("does not serialise: {e}"))?;
            let back: crew_runner::crew::CrewSpec =
                serde_json::from_str(&stored).map_err(|e| format!("stored form does not load back: {e}"))?;
            if back != loaded.spec {
                return Err("the stored form differs from the crew".into());
            }
            Ok(())
        }
    }
}

/// Writes `input` into a fresh temp dir and returns the dir and the path to load.
fn materialise(input: &Input) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = match input {
        Input::File { ext, bytes } => {
            let path = dir.path().join(format!("crew.{ext}"));
            std::fs::write(&path, bytes).unwrap();
            path
        }
        Input::Project { agents, tasks } => {
            let project = dir.path().join("project");
            std::fs::create_dir_all(project.join("config")).unwrap();
            std::fs::write(project.join("config/agents.yaml"), agents).unwrap();
            std::fs::write(project.join("config/tasks.yaml"), tasks).unwrap();
            project
        }
    };
    (dir, path)
}

/// Saves a failing input to the corpus (so it is replayed from now on) and returns its path.
fn keep_in_corpus(input: &Input) -> PathBuf {
    let hash = |bytes: &[u8]| bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3));
    let dir = corpus_dir();
    match input {
        Input::File { ext, bytes } => {
            let path = dir.join(format!("found-{:016x}.{ext}", hash(bytes)));
            let _ = std::fs::write(&path, bytes);
            path
        }
        Input::Project { agents, tasks } => {
            let path = dir.join(format!("found-{:016x}", hash(&[agents.as_slice(), tasks].concat())));
            let _ = std::fs::create_dir_all(path.join("config"));
            let _ = std::fs::write(path.join("config/agents.yaml"), agents);
            let _ = std::fs::write(path.join("config/tasks.yaml"), tasks);
            path
        }
    }
}

fn check(input: Input) -> Result<(), TestCaseError> {
    let (_dir, path) = materialise(&input);
    load_bounded(&path).map_err(|reason| {
        let kept = keep_in_corpus(&input);
        TestCaseError::fail(format!("{reason}\n(input kept as {})", kept.display()))
    })
}

fn run<S: Strategy<Value = Input>>(base: u32, strategy: S) {
    let mut runner = runner(base);
    if let Err(e) = runner.run(&strategy, check) {
        panic!("{e}");
    }
}

// ---- Generators ----

const EXTS: &[&str] = &["yaml", "json", "jsonc"];

/// Tokens that tend to matter to the parsers and the checks.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "'",
    "\"",
    "#",
    "&a ",
    "*a",
    "<<: *a\n",
    "!tag ",
    "!!str ",
    "? ",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "~",
    "null",
    "true",
    "1e999",
    "-0",
    "0x1f",
    "{topic}",
    "{{",
    "}}",
    "..",
    "../",
    "/etc/passwd",
    "\u{feff}",
    "\u{0}",
    "\\u0000",
    "/*",
    "*/",
    "//",
    "agent: ",
    "context: [",
    "nodes",
    "edges",
    "source",
    "target",
    "\"type\": \"task\"",
    "agents:\n",
    "tasks:\n",
    "process: hierarchical\n",
    "manager_agent: x\n",
    "output_file: ",
    "max_iter: ",
];

/// Units that nest when repeated.
const NESTERS: &[&str] =
    &["[", "{", "{a: ", "[a, ", "{\"a\": ", "[1,", "- ", "&a [", "<<: {", "!t [", "*a, [", "a\n 'x, [", "? [", "- {a: "];

/// Field names of all three formats.
const KEYS: &[&str] = &[
    "name",
    "agents",
    "tasks",
    "nodes",
    "edges",
    "role",
    "goal",
    "backstory",
    "llm",
    "tools",
    "description",
    "expected_output",
    "agent",
    "context",
    "process",
    "manager_llm",
    "manager_agent",
    "inputs",
    "output_file",
    "output_json",
    "output_schema",
    "guardrail",
    "guardrail_max_retries",
    "max_iter",
    "allow_delegation",
    "respect_context_window",
    "async_execution",
    "id",
    "type",
    "data",
    "source",
    "target",
    "workspace",
    "max_rpm",
    "max_execution_time",
    "agents_config",
    "tasks_config",
    "label",
    "<<",
];

const WORDS: &[&str] = &[
    "agent",
    "task",
    "crew",
    "writer",
    "research",
    "a",
    "b",
    "sequential",
    "hierarchical",
    "offline",
    "openai/gpt-4o",
    "read_file",
    "FileWriterTool",
    "{topic}",
    "out/{topic}.md",
    "../x",
    "",
    " ",
];

/// The valid crews mutations start from: (extension, text).
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let root = repo_root();
    [
        ("yaml", "tests/fixtures/crews/single.yaml"),
        ("jsonc", "tests/fixtures/crews/single.jsonc"),
        ("json", "tests/fixtures/crews/graph.json"),
        ("yaml", "examples/blog-writer.yaml"),
        ("json", "examples/support-graph.json"),
        ("yaml", "tests/fixtures/cli/three-step.yaml"),
    ]
    .into_iter()
    .map(|(ext, rel)| (ext, std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("seed {rel}: {e}"))))
    .collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index, usize),
    Duplicate(Index, usize),
    Insert(Index, String),
    Replace(Index, u8),
    Truncate(Index),
    SwapLines(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![3 => select(TOKENS).prop_map(str::to_string), 1 => any::<String>().prop_map(|s| s.chars().take(6).collect())];
    prop_oneof![
        1 => (any::<Index>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        4 => (any::<Index>(), token).prop_map(|(i, t)| Mutation::Insert(i, t)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        1 => (any::<Index>()).prop_map(Mutation::Truncate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Delete(i, n) if len > 0 => {
                let at = i.index(len);
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Duplicate(i, n) if len > 0 => {
                let at = i.index(len);
                let piece: Vec<u8> = bytes[at..(at + n).min(len)].to_vec();
                bytes.splice(at..at, piece);
            }
            Mutation::Insert(i, t) => {
                let at = i.index(len + 1);
                bytes.splice(at..at, t.bytes());
            }
            Mutation::Replace(i, b) if len > 0 => bytes[i.index(len)] = *b,
            Mutation::Truncate(i) => bytes.truncate(i.index(len + 1)),
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<&[u8]> = bytes.split(|c| *c == b'\n').collect();
                let n = lines.len();
                lines.swap(a.index(n), b.index(n));
                bytes = lines.join(&b'\n');
            }
            _ => {}
        }
    }
    bytes
}

fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        select(WORDS).prop_map(Value::from),
        "[a-z{} ./_-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((select(KEYS), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// A `{nodes, edges}` document: ids from a small set, so edges meet nodes, cycles and duplicates.
fn graph() -> impl Strategy<Value = Value> {
    const IDS: &[&str] = &["a", "b", "c", "t1", "t2", "crew"];
    let node = (select(IDS), select(&["agent", "task", "crew", "note", ""][..]), json_tree()).prop_map(|(id, kind, data)| {
        let data = match data {
            Value::Object(_) => data,
            _ => serde_json::json!({"role": "R", "goal": "G", "backstory": "B", "description": "D {topic}", "expected_output": "E"}),
        };
        serde_json::json!({"id": id, "type": kind, "data": data})
    });
    let edge = (select(IDS), select(IDS)).prop_map(|(s, t)| serde_json::json!({"source": s, "target": t}));
    (prop::collection::vec(node, 0..8), prop::collection::vec(edge, 0..10))
        .prop_map(|(nodes, edges)| serde_json::json!({"nodes": nodes, "edges": edges}))
}

fn as_file(value: &Value, yaml: bool) -> Input {
    if yaml {
        Input::File { ext: "yaml", bytes: serde_saphyr::to_string(value).unwrap().into_bytes() }
    } else {
        Input::File { ext: "json", bytes: serde_json::to_vec_pretty(value).unwrap() }
    }
}

// ---- Tests ----

#[test]
fn arbitrary_bytes_never_panic_or_hang() {
    run(96, (select(EXTS), prop::collection::vec(any::<u8>(), 0..2048)).prop_map(|(ext, bytes)| Input::File { ext, bytes }));
}

#[test]
fn arbitrary_text_never_panics_or_hangs() {
    let text = prop::collection::vec(prop_oneof![select(TOKENS).prop_map(str::to_string), "[a-z{}: ]{0,6}"], 0..200);
    run(96, (select(EXTS), text).prop_map(|(ext, parts)| Input::File { ext, bytes: parts.concat().into_bytes() }));
}

/// Short token runs repeated up to 200 000 times, after a crew's first lines: finds work that grows
/// faster than the input (deep nesting, alias fan-out, many findings).
#[test]
fn repeated_tokens_never_hang() {
    let unit = prop_oneof![prop::collection::vec(select(TOKENS), 1..4).prop_map(|t| t.concat()), select(NESTERS).prop_map(str::to_string),];
    run(
        24,
        (select(EXTS), unit, 10_000usize..200_000).prop_map(|(ext, unit, n)| {
            let head = if ext == "yaml" { "name: x\nagents: " } else { "{\"agents\": " };
            Input::File { ext, bytes: format!("{head}{}", unit.repeat(n)).into_bytes() }
        }),
    );
}

#[test]
fn mutated_valid_crews_never_panic_or_hang() {
    let seeds = seeds();
    let n = seeds.len();
    run(
        160,
        (0..n, prop::collection::vec(mutation(), 1..10)).prop_map(move |(i, ms)| {
            let (ext, bytes) = &seeds[i];
            Input::File { ext, bytes: mutate(bytes.clone(), &ms) }
        }),
    );
}

#[test]
fn structured_documents_never_panic_or_hang() {
    let top = prop::collection::vec((select(KEYS), json_tree()), 0..8)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    run(128, (top, any::<bool>()).prop_map(|(v, yaml)| as_file(&v, yaml)));
}

#[test]
fn graphs_never_panic_or_hang() {
    run(160, (graph(), any::<bool>()).prop_map(|(v, yaml)| as_file(&v, yaml)));
}

#[test]
fn mutated_projects_never_panic_or_hang() {
    let root = repo_root().join("examples/research-crew/config");
    let agents = std::fs::read(root.join("agents.yaml")).unwrap();
    let tasks = std::fs::read(root.join("tasks.yaml")).unwrap();
    run(
        96,
        (prop::collection::vec(mutation(), 0..6), prop::collection::vec(mutation(), 0..6))
            .prop_map(move |(ma, mt)| Input::Project { agents: mutate(agents.clone(), &ma), tasks: mutate(tasks.clone(), &mt) }),
    );
}

/// The YAML parser's nesting limit never refuses a document that is not deep: serde's YAML and
/// JSON (JSON is YAML) of shallow trees whose text is full of brackets and quotes, in flow and in
/// block style.
#[test]
fn no_shallow_document_is_refused_as_deep() {
    let noisy = "[\\[\\]{}'\" a-z:#,|>-]{0,300}".prop_map(Value::from);
    let tree = noisy.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z{}\\[\\]' ]{1,8}", inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    let mut runner = runner(128);
    let result = runner.run(&(tree, any::<bool>()), |(value, block)| {
        let text = if block { serde_saphyr::to_string(&value).unwrap() } else { serde_json::to_string(&value).unwrap() };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crew.yaml");
        std::fs::write(&path, &text).unwrap();
        if let Err(e) = crew_runner::crew::load(&path) {
            let text_of = e.to_string();
            prop_assert!(
                !text_of.contains("nested deeper than") && !text_of.contains("too many values inside"),
                "a shallow document was refused as deep: {text_of}\n{text}"
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn the_corpus_replays_cleanly() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/fuzz-corpus exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md" && n != "proptest-regressions.txt"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 10, "the seed corpus is there: {entries:?}");
    for path in entries {
        if let Err(reason) = load_bounded(&path) {
            panic!("{}: {reason}", path.display());
        }
    }
}
