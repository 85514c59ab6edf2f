//! Times the read paths on a filled database and checks every answer against what was generated.
//!
//! In process, through the store API the CLI and the GUI use (`SqliteStore` behind `dyn Store`):
//! `list` (first page, by status, by several statuses, by crew, by crew and status, by metadata, a
//! deep page), `get` (what `status ID` does), `logs` of a long log, the GUI's `list_executions`
//! (the same `list` call, `crew_spec` dropped, paging with `next_before`) and `get_queue`
//! (settings and counts). Through the binary: `list --json`, `status ID --json`, `logs ID --json`.
//! Plus the database size and the query plans of every `list` shape.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crew_runner::execution::{Execution, ExecutionFilter, ExecutionId, Status};
use crew_runner::store::{DiskUsage, SqliteStore, Store};
use rand::{Rng, SeedableRng};

use super::fill::{Filled, RowInfo, CREWS};

/// One timed operation.
pub struct Figure {
    pub name: String,
    pub calls: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Everything measured.
pub struct Report {
    pub figures: Vec<Figure>,
    pub disk: DiskUsage,
    /// `(query shape, EXPLAIN QUERY PLAN)`.
    pub plans: Vec<(String, String)>,
}

/// How many calls per figure.
#[derive(Clone, Copy)]
pub struct Calls {
    pub store: usize,
    pub process: usize,
}

/// Runs `f` `calls` times (call number as argument), checking each answer with `check`.
fn time<T>(name: &str, calls: usize, mut f: impl FnMut(usize) -> T, mut check: impl FnMut(usize, T)) -> Figure {
    let mut took = Vec::with_capacity(calls);
    for i in 0..calls {
        let t = Instant::now();
        let answer = f(i);
        took.push(t.elapsed());
        check(i, answer);
    }
    took.sort();
    let at = |q: f64| took[((calls as f64 * q).ceil() as usize).clamp(1, calls) - 1];
    Figure { name: name.to_string(), calls, p50: at(0.50), p99: at(0.99), max: took[calls - 1] }
}

/// The newest `limit` rows (id descending) of `rows` matching `keep`, below `before` when given.
fn expected(rows: &[RowInfo], keep: impl Fn(&RowInfo) -> bool, before: Option<&str>, limit: usize) -> Vec<String> {
    rows.iter().rev().filter(|r| before.is_none_or(|b| r.id.as_str() < b)).filter(|r| keep(r)).take(limit).map(|r| r.id.clone()).collect()
}

fn ids(list: &[Execution]) -> Vec<String> {
    list.iter().map(|e| e.id.to_string()).collect()
}

pub fn run(filled: &Filled, calls: Calls, binary: &Path) -> Report {
    let store = SqliteStore::open(&filled.database).expect("the filled database opens");
    let store: &dyn Store = &store;
    let rows = &filled.rows;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let n = calls.store;
    let mut figures = Vec::new();
    let list = |filter: ExecutionFilter| store.list(&filter).expect("list");
    let page = |statuses: Vec<Status>, crew: Option<&str>, before: Option<&str>| ExecutionFilter {
        statuses,
        crew_name: crew.map(str::to_string),
        limit: 50,
        before: before.map(ExecutionId::from),
        ..ExecutionFilter::default()
    };

    let want = expected(rows, |_| true, None, 50);
    figures.push(time("list: first page", n, |_| list(page(vec![], None, None)), |_, got| assert_eq!(ids(&got), want)));

    for status in [Status::Succeeded, Status::Failed, Status::Queued] {
        let want = expected(rows, |r| r.status == status, None, 50);
        figures.push(time(
            &format!("list --status {status}"),
            n,
            |_| list(page(vec![status], None, None)),
            |_, got| {
                assert_eq!(ids(&got), want);
            },
        ));
    }
    let several = [Status::Failed, Status::Cancelled];
    let want = expected(rows, |r| several.contains(&r.status), None, 50);
    figures.push(time(
        "list --status failed,cancelled",
        n,
        |_| list(page(several.to_vec(), None, None)),
        |_, got| {
            assert_eq!(ids(&got), want);
        },
    ));

    let crews: Vec<&str> = (0..n).map(|_| CREWS[rng.random_range(0..CREWS.len())]).collect();
    figures.push(time(
        "list --crew C",
        n,
        |i| list(page(vec![], Some(crews[i]), None)),
        |i, got| {
            assert_eq!(ids(&got), expected(rows, |r| r.crew == crews[i], None, 50));
        },
    ));
    figures.push(time(
        "list --crew C --status failed",
        n,
        |i| list(page(vec![Status::Failed], Some(crews[i]), None)),
        |i, got| {
            assert_eq!(ids(&got), expected(rows, |r| r.crew == crews[i] && r.status == Status::Failed, None, 50));
        },
    ));

    // A deep page: below an id in the oldest tenth of the history.
    let befores: Vec<&str> = (0..n).map(|_| rows[rng.random_range(50..(rows.len() / 10).max(51))].id.as_str()).collect();
    figures.push(time(
        "list: deep page (before=ID)",
        n,
        |i| list(page(vec![], None, Some(befores[i]))),
        |i, got| {
            assert_eq!(ids(&got), expected(rows, |_| true, Some(befores[i]), 50));
        },
    ));
    figures.push(time(
        "list: deep page --status succeeded",
        n,
        |i| list(page(vec![Status::Succeeded], None, Some(befores[i]))),
        |i, got| {
            assert_eq!(ids(&got), expected(rows, |r| r.status == Status::Succeeded, Some(befores[i]), 50));
        },
    ));
    figures.push(time(
        "list: deep page --status failed,cancelled --crew C",
        n,
        |i| list(page(several.to_vec(), Some(crews[i]), Some(befores[i]))),
        |i, got| {
            assert_eq!(ids(&got), expected(rows, |r| several.contains(&r.status) && r.crew == crews[i], Some(befores[i]), 50));
        },
    ));
    let meta = ExecutionFilter { meta: [("team".to_string(), "b".to_string())].into(), limit: 50, ..ExecutionFilter::default() };
    figures.push(time(
        "list --meta team=b",
        n,
        |_| list(meta.clone()),
        |_, got| {
            assert_eq!(got.len(), 50);
            assert!(got.iter().all(|e| e.meta.get("team").map(String::as_str) == Some("b")));
        },
    ));

    let picks: Vec<&RowInfo> = (0..n).map(|_| &rows[rng.random_range(0..rows.len())]).collect();
    figures.push(time(
        "status ID (get)",
        n,
        |i| store.get(&ExecutionId::from(picks[i].id.as_str())).expect("get"),
        |i, got| {
            let e = got.expect("the execution exists");
            assert_eq!((e.id.as_str(), e.status()), (picks[i].id.as_str(), picks[i].status));
        },
    ));

    let big = ExecutionId::from(filled.big_log.as_str());
    let big_lines = store.logs(&big, 0, 0).expect("logs").len();
    figures.push(time(
        "logs ID: first 1000 lines of the long log",
        n,
        |_| store.logs(&big, 0, 1000).expect("logs"),
        |_, got| {
            assert_eq!(got.len(), 1000.min(big_lines));
            assert_eq!(got.first().map(|l| l.seq), Some(1));
        },
    ));
    figures.push(time(
        &format!("logs ID: all {big_lines} lines, pages of 1000"),
        (n / 10).max(3),
        |_| {
            let mut after = 0;
            let mut count = 0;
            loop {
                let lines = store.logs(&big, after, 1000).expect("logs");
                count += lines.len();
                match lines.last() {
                    Some(l) if lines.len() == 1000 => after = l.seq,
                    _ => break count,
                }
            }
        },
        |_, got| assert_eq!(got, big_lines),
    ));

    // The GUI's list_executions: the same store call, crew_spec dropped, next_before for paging.
    let mut before: Option<String> = None;
    let mut seen = 0usize;
    figures.push(time(
        "gui list_executions: successive pages",
        n,
        |_| {
            let mut got = list(page(vec![], None, before.as_deref()));
            for e in &mut got {
                e.crew_spec = serde_json::Value::Null.into();
            }
            let next = (got.len() == 50).then(|| got.last().map(|e| e.id.to_string())).flatten();
            (got, std::mem::replace(&mut before, next))
        },
        |_, (got, previous)| {
            assert_eq!(ids(&got), expected(rows, |_| true, previous.as_deref(), 50));
            seen += got.len();
        },
    ));
    figures.push(time(
        "gui get_queue (settings + counts)",
        n,
        |_| (store.queue_settings().expect("settings"), store.counts().expect("counts")),
        |_, (_, counts)| {
            let by = |s: Status| rows.iter().filter(|r| r.status == s).count() as u64;
            assert_eq!(counts.get(Status::Succeeded), by(Status::Succeeded));
            assert_eq!(counts.get(Status::Queued), by(Status::Queued));
        },
    ));

    // The binary, as a script or a shell user runs it: a whole process per call.
    let cli = |args: &[&str]| -> String {
        let out = Command::new(binary).arg("--data-dir").arg(&filled.data_dir).args(args).output().expect("the binary runs");
        assert!(out.status.success(), "crew-runner {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let p = calls.process;
    let want = expected(rows, |_| true, None, 50);
    figures.push(time(
        "process: list --json",
        p,
        |_| cli(&["list", "--json"]),
        |_, out| {
            let got: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
            let got: Vec<String> = got.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
            assert_eq!(got, want);
        },
    ));
    let picks: Vec<&RowInfo> = (0..p).map(|_| &rows[rng.random_range(0..rows.len())]).collect();
    figures.push(time(
        "process: status ID --json",
        p,
        |i| cli(&["status", &picks[i].id, "--json"]),
        |i, out| {
            let got: serde_json::Value = serde_json::from_str(&out).expect("JSON");
            assert_eq!(got["id"], picks[i].id.as_str());
            assert_eq!(got["status"], picks[i].status.as_str());
        },
    ));
    figures.push(time(
        &format!("process: logs ID --json ({big_lines} lines)"),
        (p / 10).max(3),
        |_| cli(&["logs", &filled.big_log, "--json"]),
        |_, out| {
            assert_eq!(out.lines().count(), big_lines);
        },
    ));

    Report { figures, disk: store.disk_usage().expect("disk usage"), plans: plans(&filled.database) }
}

/// The `list` query shapes (as `store/sqlite/read.rs` builds them) and SQLite's plan for each.
pub fn plans(database: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let page = |clause: &str| format!("SELECT id FROM executions {clause} ORDER BY id DESC LIMIT 50");
    // Several statuses: the newest page of each status, merged.
    let several = |extra: &str| {
        let part = |s: &str| format!("SELECT id FROM (SELECT id FROM executions WHERE status = '{s}'{extra} ORDER BY id DESC LIMIT 50)");
        format!("SELECT id FROM executions WHERE id IN ({} UNION ALL {}) ORDER BY id DESC LIMIT 50", part("failed"), part("cancelled"))
    };
    let before = "'01ZZZZZZZZZZZZZZZZZZZZZZZZ'";
    let shapes = [
        ("all", page("")),
        ("status", page("WHERE status = 'failed'")),
        ("crew", page("WHERE crew_name = 'blog_writer'")),
        ("crew + status", page("WHERE crew_name = 'blog_writer' AND status = 'failed'")),
        ("before", page(&format!("WHERE id < {before}"))),
        ("status + before", page(&format!("WHERE id < {before} AND status = 'failed'"))),
        ("crew + before", page(&format!("WHERE crew_name = 'blog_writer' AND id < {before}"))),
        ("crew + status + before", page(&format!("WHERE crew_name = 'blog_writer' AND id < {before} AND status = 'failed'"))),
        ("several statuses", several("")),
        ("several statuses + crew + before", several(&format!(" AND crew_name = 'blog_writer' AND id < {before}"))),
    ];
    shapes
        .iter()
        .map(|(name, sql)| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
            (name.to_string(), plan.join("; "))
        })
        .collect()
}

/// Prints the report as a table.
pub fn print(filled: &Filled, report: &Report) {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "history: {} executions, {} log lines, filled in {:.1} s; database {:.1} MiB (+ WAL {:.1} MiB, {} free pages)",
        filled.rows.len(),
        filled.log_lines,
        filled.seconds,
        mib(report.disk.file_bytes),
        mib(report.disk.wal_bytes),
        report.disk.free_pages
    );
    println!("{:<52} {:>6} {:>10} {:>10} {:>10}", "operation", "calls", "p50 ms", "p99 ms", "max ms");
    for f in &report.figures {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("{:<52} {:>6} {:>10.3} {:>10.3} {:>10.3}", f.name, f.calls, ms(f.p50), ms(f.p99), ms(f.max));
    }
    println!("query plans (list, ORDER BY id DESC LIMIT 50):");
    for (name, plan) in &report.plans {
        println!("  {name:<28} {plan}");
    }
}
