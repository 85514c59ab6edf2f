//! Fills a database with a large, realistic history fast: the real schema (the store creates and
//! migrates the file), then direct batched inserts on one connection, 1,000 executions per
//! transaction.
//!
//! Rows look like the store's own: the crew snapshot is a real example crew's `CrewSpec` JSON,
//! inputs, usage, progress, outputs and errors are serialised from the domain types, and each
//! finished execution has `lines_per_execution` log lines (submitted, started, engine events,
//! the final transition), two step outputs and, when failed, its attempt errors. Execution times
//! spread over the last 90 days; the newest 1 % are live work (queued or retrying).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crew_runner::app::{prepare_submission, SubmitRequest};
use crew_runner::execution::{now_ms, ErrorKind, ExecutionError, LlmOptions, Millis, Priority, Progress, Status, Usage};
use crew_runner::llm::LlmEnv;
use crew_runner::store::SqliteStore;
use rand::{Rng, SeedableRng};
use rusqlite::params;

/// How big a history to make.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub executions: usize,
    /// Log lines of every finished execution (live ones have one or two).
    pub lines_per_execution: usize,
    /// Log lines of one extra succeeded execution, for `logs ID` on a long log.
    pub big_log_lines: usize,
}

/// What was generated: enough to know the right answer of every measured query.
pub struct Filled {
    pub data_dir: PathBuf,
    pub database: PathBuf,
    /// Every execution, oldest (smallest id) first.
    pub rows: Vec<RowInfo>,
    /// The execution with `big_log_lines` lines.
    pub big_log: String,
    pub log_lines: u64,
    pub seconds: f64,
}

#[derive(Clone, Debug)]
pub struct RowInfo {
    pub id: String,
    pub status: Status,
    pub crew: String,
}

/// The crew names; executions cycle through them.
pub const CREWS: [&str; 8] =
    ["research_crew", "blog_writer", "support_triage", "nightly_digest", "lead_scoring", "code_review", "invoice_check", "release_notes"];

const DAY_MS: i64 = 86_400_000;
const TEAMS: [&str; 3] = ["a", "b", "c"];

fn snapshots() -> Vec<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("examples");
    ["research-crew", "blog-writer.yaml", "support-graph.json"]
        .iter()
        .map(|crew| {
            let request = SubmitRequest {
                llm: LlmOptions { model: Some("offline".into()), ..LlmOptions::default() },
                ..SubmitRequest::new(root.join(crew))
            };
            let (new, _) = prepare_submission(&request, &LlmEnv::default()).expect("the example crews load");
            (*new.crew_spec).clone()
        })
        .collect()
}

const KINDS: [(&str, &str); 8] = [
    ("task_started", "Task research started: Research the latest developments in the topic"),
    ("agent_step", "Thought: I should look for recent sources first, then summarise the three most relevant findings"),
    ("llm_call_started", "LLM call 3 to openai/gpt-4o-mini (1,843 prompt tokens, 2 tools offered)"),
    ("llm_call_completed", "LLM call 3 completed in 2.41 s: 412 completion tokens, finish_reason stop"),
    ("tool_call", "Tool SerperDevTool({\"query\": \"durable job queues sqlite\"}) returned 8 results"),
    ("agent_step", "Observation: the results agree on WAL mode and a single writer; noting the trade-offs"),
    ("task_completed", "Task research completed: 3 findings, 1,202 characters"),
    ("delegation", "Delegated 'summarise findings' to Technical Writer and got an answer (640 characters)"),
];

const OUTPUT: &str = "# Findings\n\n1. Durable queues on SQLite use WAL mode and one writer; reads never block.\n\
2. Priorities and FIFO order come from a partial index on waiting rows.\n\
3. Leases and heartbeats recover the work of crashed workers within seconds.\n\n\
## Recommendation\nKeep history bounded: prune old runs regularly and VACUUM after large deletions.\n";

/// Creates `data_dir/crew-runner.db` (the CLI's file name) and fills it.
pub fn fill(data_dir: &Path, shape: Shape, seed: u64) -> Filled {
    let started = Instant::now();
    std::fs::create_dir_all(data_dir).unwrap();
    let database = data_dir.join("crew-runner.db");
    drop(SqliteStore::open(&database).expect("the store creates and migrates the file"));

    let mut conn = rusqlite::Connection::open(&database).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;").unwrap();

    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let specs: Vec<String> = snapshots().iter().map(|s| s.to_string()).collect();
    let now = now_ms();
    let start = now - 90 * DAY_MS;
    let step_ms = (90 * DAY_MS) / (shape.executions.max(1) as i64 + 1);
    let live_from = shape.executions - shape.executions / 100;
    let mut rows = Vec::with_capacity(shape.executions + 1);
    let mut log_lines = 0u64;
    let mut big_log = String::new();

    let total = shape.executions + 1;
    let mut i = 0;
    while i < total {
        let tx = conn.transaction().unwrap();
        {
            let mut ins_exec = tx.prepare_cached(INSERT_EXECUTION).unwrap();
            let mut ins_log = tx.prepare_cached(INSERT_LOG).unwrap();
            let mut ins_step = tx.prepare_cached(INSERT_STEP).unwrap();
            let mut ins_err = tx.prepare_cached(INSERT_ATTEMPT_ERROR).unwrap();
            for _ in 0..1000 {
                if i >= total {
                    break;
                }
                // The last one is the long-log execution (the newest finished one).
                let big = i == shape.executions;
                let created = start + step_ms * i as i64;
                let id = ulid::Ulid::from_parts(created as u64, rng.random::<u128>()).to_string();
                let status = if big {
                    Status::Succeeded
                } else if i >= live_from {
                    if rng.random_bool(0.8) {
                        Status::Queued
                    } else {
                        Status::Retrying
                    }
                } else {
                    match rng.random_range(0..100) {
                        0..85 => Status::Succeeded,
                        85..94 => Status::Failed,
                        _ => Status::Cancelled,
                    }
                };
                let crew = CREWS[i % CREWS.len()];
                let spec = &specs[i % specs.len()];
                let e = ExecRow::new(&mut rng, created, status);
                ins_exec
                    .execute(params![
                        id,
                        crew,
                        format!("/home/me/crews/{crew}"),
                        spec,
                        serde_json::json!({ "topic": format!("topic number {i}"), "audience": "engineers" }).to_string(),
                        e.priority.rank(),
                        status.as_str(),
                        e.attempt,
                        3,
                        e.next_run_at,
                        serde_json::to_string(&e.progress).unwrap(),
                        e.output,
                        e.error,
                        serde_json::to_string(&e.usage).unwrap(),
                        serde_json::to_string(&LlmOptions::default()).unwrap(),
                        serde_json::json!({ "team": TEAMS[i % 3], "batch": format!("b{}", i / 1000) }).to_string(),
                        created,
                        e.started_at,
                        e.finished_at,
                        status == Status::Cancelled && e.started_at.is_some(),
                    ])
                    .unwrap();
                let lines = match status {
                    Status::Queued => 1,
                    Status::Retrying => 3,
                    _ if big => shape.big_log_lines,
                    _ => shape.lines_per_execution.max(2),
                };
                for seq in 1..=lines {
                    let (kind, message, attempt) = if seq == 1 {
                        ("submitted", "submitted with priority normal".to_string(), 0)
                    } else if seq == 2 {
                        ("started", "attempt 1 started".to_string(), 1)
                    } else if seq == lines && status.is_terminal() {
                        (status.as_str(), format!("{status} after {} steps", e.progress.completed_steps), 1)
                    } else {
                        let (k, m) = KINDS[seq % KINDS.len()];
                        (k, m.to_string(), 1)
                    };
                    let data = serde_json::json!({ "seq": seq, "model": "openai/gpt-4o-mini", "tokens": 400 + seq % 97 }).to_string();
                    ins_log
                        .execute(params![
                            id,
                            seq as i64,
                            attempt,
                            created + seq as i64 * 40,
                            "info",
                            kind,
                            "research",
                            "Senior Researcher",
                            message,
                            data
                        ])
                        .unwrap();
                }
                log_lines += lines as u64;
                if status == Status::Succeeded || status == Status::Failed {
                    for (n, step) in ["research", "report"].iter().enumerate().take(if status == Status::Succeeded { 2 } else { 1 }) {
                        ins_step
                            .execute(params![
                                id,
                                step,
                                "Senior Researcher",
                                OUTPUT.repeat(n + 1),
                                "null",
                                serde_json::to_string(&e.usage).unwrap(),
                                1,
                                created + 20_000
                            ])
                            .unwrap();
                    }
                }
                if let Some(error) = &e.error {
                    for attempt in 1..=e.attempt {
                        ins_err.execute(params![id, attempt, created + attempt as i64 * 1000, error]).unwrap();
                    }
                }
                if big {
                    big_log = id.clone();
                }
                rows.push(RowInfo { id, status, crew: crew.to_string() });
                i += 1;
            }
        }
        tx.commit().unwrap();
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(conn);
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Filled { data_dir: data_dir.to_path_buf(), database, rows, big_log, log_lines, seconds: started.elapsed().as_secs_f64() }
}

/// The state columns of one generated execution.
struct ExecRow {
    priority: Priority,
    attempt: u32,
    next_run_at: Option<Millis>,
    progress: Progress,
    output: Option<String>,
    error: Option<String>,
    usage: Usage,
    started_at: Option<Millis>,
    finished_at: Option<Millis>,
}

impl ExecRow {
    fn new(rng: &mut impl Rng, created: Millis, status: Status) -> ExecRow {
        let priority = [Priority::Low, Priority::Normal, Priority::Normal, Priority::High][rng.random_range(0..4)];
        let tokens = rng.random_range(2_000..20_000u64);
        let usage = Usage {
            prompt_tokens: tokens,
            completion_tokens: tokens / 4,
            total_tokens: tokens + tokens / 4,
            llm_calls: 6,
            cost_usd: Some(tokens as f64 * 2e-7),
        };
        let error = |kind, message: &str, retryable| {
            serde_json::to_string(&ExecutionError {
                kind,
                message: message.into(),
                retryable,
                details: serde_json::json!({ "status": 503 }),
                retry_after_ms: None,
            })
            .unwrap()
        };
        let started = created + rng.random_range(10..5_000);
        let finished = started + rng.random_range(20_000..180_000);
        let done = |completed| Progress { completed_steps: completed, total_steps: 2, current_step: None, current_agent: None };
        match status {
            Status::Succeeded => ExecRow {
                priority,
                attempt: 1,
                next_run_at: None,
                progress: done(2),
                output: Some(OUTPUT.into()),
                error: None,
                usage,
                started_at: Some(started),
                finished_at: Some(finished),
            },
            Status::Failed => ExecRow {
                priority,
                attempt: 3,
                next_run_at: None,
                progress: done(1),
                output: None,
                error: Some(error(
                    ErrorKind::LlmServer,
                    "HTTP 503 from https://api.openai.com/v1/chat/completions: the server is overloaded",
                    true,
                )),
                usage,
                started_at: Some(started),
                finished_at: Some(finished),
            },
            Status::Cancelled => ExecRow {
                priority,
                attempt: 1,
                next_run_at: None,
                progress: done(1),
                output: None,
                error: None,
                usage,
                started_at: Some(started),
                finished_at: Some(finished),
            },
            Status::Retrying => ExecRow {
                priority,
                attempt: 1,
                next_run_at: Some(now_ms() + 3_600_000),
                progress: done(0),
                output: None,
                error: Some(error(ErrorKind::LlmRateLimited, "HTTP 429: rate limited", true)),
                usage: Usage::default(),
                started_at: Some(started),
                finished_at: None,
            },
            // The history never holds executions awaiting input.
            Status::Queued | Status::Running | Status::AwaitingInput => ExecRow {
                priority,
                attempt: 0,
                next_run_at: None,
                progress: done(0),
                output: None,
                error: None,
                usage: Usage::default(),
                started_at: None,
                finished_at: None,
            },
        }
    }
}

const INSERT_EXECUTION: &str = "INSERT INTO executions (id, crew_name, crew_source, crew_spec, inputs, priority, status,
    attempt, max_attempts, next_run_at, progress, output, error, usage, llm, meta, created_at, started_at, finished_at, was_running)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";
const INSERT_LOG: &str = "INSERT INTO execution_logs (execution_id, seq, attempt, at, level, kind, task, agent, message, data)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const INSERT_STEP: &str = "INSERT INTO step_outputs (execution_id, step, agent, output, json, usage, attempt, completed_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const INSERT_ATTEMPT_ERROR: &str = "INSERT INTO attempt_errors (execution_id, attempt, at, error) VALUES (?1, ?2, ?3, ?4)";
