//! `crew-runner diff A B`: two executions of one crew side by side ([`Runner::compare`](crate::app::Runner::compare)),
//! as text (a summary table, a per-task table, then each differing task's word diff marked like
//! `git diff --word-diff=plain`) or as the [`RunComparison`] JSON.

use std::fmt::Write;
use std::io::IsTerminal;

use super::args::{DiffCommand, GlobalArgs};
use super::escape::{block, line};
use super::logging::use_colour;
use super::runtime::client;
use super::CliError;
use crate::app::{OutputDiff, RunComparison, RunSummary, SegmentOp, TaskRun};

/// Prints the comparison; exit 0 whether or not the outputs differ (see `DiffCommand`).
pub fn diff(global: &GlobalArgs, c: DiffCommand) -> Result<i32, CliError> {
    let comparison = client(global)?.compare(&c.a, &c.b).map_err(CliError::runner)?;
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&comparison).expect("a RunComparison serialises"));
    } else {
        let colour = use_colour(std::io::stdout().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
        out!("{}", render(&comparison, colour));
    }
    Ok(0)
}

/// The text form (see the module docs); `colour` adds ANSI red/green to deletions/insertions
/// (the markers stay). Text from runs has its control characters escaped.
pub fn render(c: &RunComparison, colour: bool) -> String {
    let mut s = String::new();
    let summary: Vec<Vec<String>> = vec![
        vec![String::new(), "A".into(), "B".into()],
        row("id", &c.a, &c.b, |r| r.id.to_string()),
        row("status", &c.a, &c.b, |r| r.status.to_string()),
        row("inputs", &c.a, &c.b, |r| serde_json::to_string(&r.inputs).unwrap_or_default()),
        row("models", &c.a, &c.b, |r| if r.models.is_empty() { "(configured default)".into() } else { r.models.join(", ") }),
        row("duration", &c.a, &c.b, |r| duration(r.duration_ms)),
        row("tokens", &c.a, &c.b, |r| r.total_tokens.to_string()),
        row("cost", &c.a, &c.b, |r| cost(r.cost_usd)),
    ];
    let _ = writeln!(s, "crew: {}\n", line(&c.a.crew_name));
    s.push_str(&table(&summary));
    s.push('\n');
    let mut tasks: Vec<Vec<String>> =
        vec![["TASK", "AGENT (A | B)", "DURATION (A | B)", "TOKENS (A | B)", "COST (A | B)", "OUTPUT"].map(String::from).to_vec()];
    for t in &c.tasks {
        let pair =
            |f: &dyn Fn(&TaskRun) -> String| format!("{} | {}", t.a.as_ref().map_or("-".into(), f), t.b.as_ref().map_or("-".into(), f));
        let output = match (&t.a, &t.b) {
            (Some(_), None) => "only in A".to_string(),
            (None, Some(_)) => "only in B".to_string(),
            _ if t.differs => "differs".to_string(),
            _ => "same".to_string(),
        };
        let first = if c.first_difference.as_deref() == Some(t.task.as_str()) { " (first)" } else { "" };
        tasks.push(vec![
            line(&t.task).into_owned(),
            pair(&|r| line(&r.agent).into_owned()),
            pair(&|r| duration(r.duration_ms)),
            pair(&|r| r.total_tokens.to_string()),
            pair(&|r| cost(r.cost_usd)),
            format!("{output}{first}"),
        ]);
    }
    if c.tasks.is_empty() {
        s.push_str("No task finished in either execution.\n");
    } else {
        s.push_str(&table(&tasks));
    }
    match &c.first_difference {
        None if !c.tasks.is_empty() => s.push_str("\nEvery task's output is the same.\n"),
        None => {}
        Some(first) => {
            let _ = writeln!(s, "\nFirst difference: task {}", line(first));
            for t in c.tasks.iter().filter(|t| t.differs) {
                let _ = writeln!(s, "\n=== {} ===", line(&t.task));
                if let Some(note) = &t.diff.note {
                    let _ = writeln!(s, "({note})");
                }
                s.push_str(&word_diff(&t.diff, colour));
                if !s.ends_with('\n') {
                    s.push('\n');
                }
            }
        }
    }
    s
}

/// A summary row: the label, then A's and B's value.
fn row(label: &str, a: &RunSummary, b: &RunSummary, value: impl Fn(&RunSummary) -> String) -> Vec<String> {
    vec![label.to_string(), line(&value(a)).into_owned(), line(&value(b)).into_owned()]
}

/// Rows as columns padded to their widest cell (in characters), two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..columns).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    let mut s = String::new();
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(s, "{}", cells.join("  ").trim_end());
    }
    s
}

/// The segments with deletions as `[-…-]` and insertions as `{+…+}` (`git diff --word-diff=plain`).
pub fn word_diff(diff: &OutputDiff, colour: bool) -> String {
    let mut s = String::new();
    for segment in &diff.segments {
        let text = block(&segment.text);
        match (segment.op, colour) {
            (SegmentOp::Equal, _) => s.push_str(&text),
            (SegmentOp::Delete, false) => {
                let _ = write!(s, "[-{text}-]");
            }
            (SegmentOp::Insert, false) => {
                let _ = write!(s, "{{+{text}+}}");
            }
            (SegmentOp::Delete, true) => {
                let _ = write!(s, "\x1b[31m[-{text}-]\x1b[0m");
            }
            (SegmentOp::Insert, true) => {
                let _ = write!(s, "\x1b[32m{{+{text}+}}\x1b[0m");
            }
        }
    }
    s
}

fn duration(ms: Option<u64>) -> String {
    ms.map_or("-".into(), |ms| format!("{:.1}s", ms as f64 / 1000.0))
}

fn cost(usd: Option<f64>) -> String {
    usd.map_or("unknown".into(), |c| format!("${c:.4}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{diff_outputs, TaskComparison};
    use crate::execution::{ExecutionId, Status};

    fn summary(tokens: u64) -> RunSummary {
        RunSummary {
            id: ExecutionId::new(),
            crew_name: "crew".into(),
            status: Status::Succeeded,
            inputs: Default::default(),
            models: vec![],
            duration_ms: Some(1_500),
            total_tokens: tokens,
            cost_usd: None,
        }
    }

    fn run() -> TaskRun {
        TaskRun { agent: "Writer".into(), duration_ms: Some(300), total_tokens: 12, cost_usd: Some(0.001) }
    }

    #[test]
    fn differing_tasks_are_marked_like_git_word_diff_and_coloured_only_on_request() {
        let diff = diff_outputs("the cat sat", "the dog sat");
        assert_eq!(word_diff(&diff, false), "the [-cat-]{+dog+} sat");
        assert_eq!(word_diff(&diff, true), "the \x1b[31m[-cat-]\x1b[0m\x1b[32m{+dog+}\x1b[0m sat");
        let escaped = diff_outputs("a", "a \x1b[2J");
        assert_eq!(word_diff(&escaped, false), "a{+ \\u{1b}[2J+}");
    }

    #[test]
    fn the_text_names_the_first_difference_and_lists_one_sided_tasks() {
        let c = RunComparison {
            a: summary(10),
            b: summary(20),
            tasks: vec![
                TaskComparison { task: "one".into(), a: Some(run()), b: Some(run()), differs: false, diff: diff_outputs("x", "x") },
                TaskComparison { task: "two".into(), a: Some(run()), b: Some(run()), differs: true, diff: diff_outputs("x y", "x z") },
                TaskComparison { task: "three".into(), a: Some(run()), b: None, differs: true, diff: crate::app::diff_outputs("gone", "") },
            ],
            first_difference: Some("two".into()),
        };
        let text = render(&c, false);
        assert!(text.contains("tokens    10"), "{text}");
        assert!(text.contains("differs (first)") && text.contains("only in A") && text.contains("same"), "{text}");
        assert!(text.contains("First difference: task two\n\n=== two ===\nx [-y-]{+z+}\n"), "{text}");
        assert!(text.contains("0.3s | 0.3s") && text.contains("$0.0010 | -"), "{text}");
        assert!(!text.contains("=== one ==="), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
    }
}
