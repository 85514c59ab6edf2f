//! LLM-bound concurrency: N executions of a 2-task crew against an LLM that answers every request
//! after a fixed latency d, through the real binary (`crew-runner run CREW --inputs-file ROWS
//! --concurrency c` on a fresh data dir), for each c. The ideal wall time is N·2·d/c (every
//! execution makes two sequential LLM calls; c run at once); the target is ≤ 1.25× that.
//!
//! `cargo bench --no-default-features --bench llm_concurrency -- [--n 200] [--latency-ms 200]
//! [--concurrency 10,50,200] [--reps 3] [--json]`
//!
//! The LLM is [`LatencyLlm`] (async, in this process, on its own thread): it answers each request
//! exactly d after reading it, however many wait, and counts the most requests in flight at once,
//! so the table shows both the wall time and the concurrency the binary really reached. Each
//! repetition checks that all N executions succeeded and that the LLM saw exactly 2·N requests.
//! Bounded: every run is killed after 10 minutes. `LLM_BENCH_WRAP="strace -f -tt -o /tmp/t"` runs
//! the binary under that command (for profiling).

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::LatencyLlm;

const CREW: &str = "\
name: concurrency_bench
process: sequential
agents:
  researcher:
    role: Researcher
    goal: Find facts about {topic}
    backstory: You research topics.
  writer:
    role: Writer
    goal: Write about {topic}
    backstory: You write short summaries.
tasks:
  research:
    description: List three facts about {topic}.
    expected_output: Three facts.
    agent: researcher
  write:
    description: Summarise the facts about {topic} in one paragraph.
    expected_output: One paragraph.
    agent: writer
    context: [research]
";

struct Options {
    n: usize,
    latency: Duration,
    concurrency: Vec<usize>,
    reps: usize,
    json: bool,
}

fn parse_options() -> Options {
    let mut options = Options { n: 200, latency: Duration::from_millis(200), concurrency: vec![10, 50, 200], reps: 3, json: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--n" => options.n = value().parse().expect("--n: a count"),
            "--latency-ms" => options.latency = Duration::from_millis(value().parse().expect("--latency-ms: milliseconds")),
            "--concurrency" => {
                options.concurrency = value().split(',').map(|c| c.trim().parse().expect("--concurrency: 10,50,200")).collect()
            }
            "--reps" => options.reps = value().parse().expect("--reps: a count"),
            "--json" => options.json = true,
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// One measured run: the wall time of the binary and the most LLM requests in flight at once.
struct Sample {
    wall: Duration,
    /// User + system CPU time of the binary.
    cpu: Duration,
    max_in_flight: usize,
    /// From the start of the binary to the first LLM request.
    to_first_request: Duration,
    /// From the last LLM answer to the binary's exit.
    after_last_answer: Duration,
}

/// User + system CPU time of this process's waited-for children so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn run_once(dir: &Path, options: &Options, concurrency: usize) -> Sample {
    let data_dir = tempfile::tempdir_in(dir).expect("data dir");
    let llm = LatencyLlm::start(options.latency);
    let cpu_before = children_cpu();
    let started = Instant::now();
    let binary = env!("CARGO_BIN_EXE_crew-runner");
    let mut command = match std::env::var("LLM_BENCH_WRAP") {
        Ok(wrap) if !wrap.trim().is_empty() => {
            let mut words = wrap.split_whitespace();
            let mut command = Command::new(words.next().unwrap());
            command.args(words).arg(binary);
            command
        }
        _ => Command::new(binary),
    };
    let mut child = command
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["run", "crew.yaml", "--inputs-file", "rows.jsonl", "--concurrency", &concurrency.to_string()])
        .args(["--model", "openai/gpt-4o-mini", "--quiet"])
        .current_dir(dir)
        .env("OPENAI_API_BASE", llm.base_url())
        .env("OPENAI_BASE_URL", llm.base_url())
        .env("OPENAI_API_KEY", "sk-bench")
        .env_remove("CREW_RUNNER_LLM")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crew-runner");
    let pid = child.id();
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if watchdog.recv_timeout(Duration::from_secs(600)).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let status = child.wait().expect("wait for crew-runner");
    let _ = done.send(());
    let wall = started.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    let stats = llm.stats();
    if !status.success() {
        let mut stderr = String::new();
        use std::io::Read;
        let _ = child.stderr.take().map(|mut s| s.read_to_string(&mut stderr));
        panic!("crew-runner exited with {status}: {stderr}");
    }
    assert_eq!(stats.chats, 2 * options.n, "every execution makes exactly two LLM calls");
    let ended = started + wall;
    if std::env::var_os("LLM_BENCH_DEBUG").is_some() {
        let arrivals = llm.arrivals();
        let at = |i: usize| arrivals.get(i).map_or(-1.0, |t| t.duration_since(started).as_secs_f64());
        let marks: Vec<String> = [0, concurrency - 1, concurrency, arrivals.len() / 2, arrivals.len() - 1]
            .iter()
            .map(|&i| format!("#{}: {:.3}", i + 1, at(i)))
            .collect();
        eprintln!("c={concurrency}: request arrivals {} s; exit {:.3} s", marks.join(", "), wall.as_secs_f64());
    }
    Sample {
        wall,
        cpu,
        max_in_flight: stats.max_in_flight,
        to_first_request: stats.first_request.map_or(Duration::ZERO, |t| t.duration_since(started)),
        after_last_answer: stats.last_answer.map_or(Duration::ZERO, |t| ended.duration_since(t)),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn main() {
    let options = parse_options();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("crew.yaml"), CREW).unwrap();
    let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
    for i in 0..options.n {
        writeln!(rows, "{{\"topic\": \"topic number {i}\"}}").unwrap();
    }
    drop(rows);
    let d = options.latency.as_secs_f64();
    if !options.json {
        println!("N = {}, two LLM calls per execution, latency d = {} ms, {} reps", options.n, options.latency.as_millis(), options.reps);
        println!("| c | wall s, median [min-max] | ideal N·2·d/c s | wall / ideal | CPU s | start → 1st LLM request s | last answer → exit s | most requests in flight |");
        println!("|---|---|---|---|---|---|---|---|");
    }
    let mut results = Vec::new();
    for &c in &options.concurrency {
        let samples: Vec<Sample> = (0..options.reps).map(|_| run_once(dir.path(), &options, c)).collect();
        let walls: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64()).collect();
        let (lo, hi) = walls.iter().fold((f64::MAX, 0f64), |(lo, hi), w| (lo.min(*w), hi.max(*w)));
        let wall = median(walls.clone());
        let ideal = options.n as f64 * 2.0 * d / c.min(options.n) as f64;
        let cpu = median(samples.iter().map(|s| s.cpu.as_secs_f64()).collect());
        let first = median(samples.iter().map(|s| s.to_first_request.as_secs_f64()).collect());
        let last = median(samples.iter().map(|s| s.after_last_answer.as_secs_f64()).collect());
        let in_flight = samples.iter().map(|s| s.max_in_flight).max().unwrap_or(0);
        if options.json {
            results.push(serde_json::json!({"c": c, "walls": walls, "median": wall, "ideal": ideal, "ratio": wall / ideal, "cpu": cpu, "to_first_request": first, "after_last_answer": last, "max_in_flight": in_flight}));
        } else {
            println!(
                "| {c} | {wall:.3} [{lo:.3}-{hi:.3}] | {ideal:.3} | {:.2} | {cpu:.3} | {first:.3} | {last:.3} | {in_flight} |",
                wall / ideal
            );
        }
    }
    if options.json {
        println!("{}", serde_json::json!({"n": options.n, "latency_ms": options.latency.as_millis() as u64, "runs": results}));
    }
}
