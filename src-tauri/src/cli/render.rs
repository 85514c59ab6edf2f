//! Human-readable output of executions and log lines (the `--json` forms are the serde types).

use std::fmt::Write;

use super::escape::{block, line};
use crate::execution::{civil_from_days, Execution, ExecutionError, ExecutionState, LogEntry, Millis};

/// `kind: message` of an error, its message's control characters escaped (newlines kept).
fn error_text(error: &ExecutionError) -> String {
    format!("{}: {}", error.kind.as_str(), block(&error.message))
}

/// A multi-line description of one execution (for `status`). Text from the crew, its inputs,
/// the model and servers has its control characters escaped ([`line`], [`block`]).
pub fn execution(e: &Execution) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "id:         {}", e.id);
    let _ = writeln!(s, "crew:       {} ({})", line(&e.crew_name), line(&e.crew_source));
    let _ = writeln!(s, "engine:     {}", e.engine);
    let _ = writeln!(s, "status:     {}", line(&status_text(e)));
    let _ = writeln!(s, "priority:   {}", e.priority);
    let _ = writeln!(s, "attempt:    {}/{}", e.attempt, e.max_attempts);
    if e.abandons > 0 {
        let _ = writeln!(s, "abandoned:  {}/{} (attempts whose worker died; not counted)", e.abandons, e.max_abandons);
    }
    let p = &e.progress;
    let current = match (&p.current_step, &p.current_agent) {
        (Some(t), Some(a)) => format!(" (now: {} by {})", line(t), line(a)),
        (Some(t), None) => format!(" (now: {})", line(t)),
        _ => String::new(),
    };
    let _ = writeln!(s, "progress:   {}/{} tasks{current}", p.completed_steps, p.total_steps);
    let _ = writeln!(
        s,
        "tokens:     {} ({} LLM calls){}",
        e.usage.total_tokens,
        e.usage.llm_calls,
        e.usage.cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default()
    );
    let _ = writeln!(s, "created:    {}", timestamp(e.created_at));
    if let Some(t) = e.started_at {
        let _ = writeln!(s, "started:    {}", timestamp(t));
    }
    if let Some(t) = e.state.finished_at() {
        let _ = writeln!(s, "finished:   {}", timestamp(t));
    }
    if !e.inputs.is_empty() {
        let _ = writeln!(s, "inputs:     {}", line(&serde_json::to_string(&e.inputs).unwrap_or_default()));
    }
    if !e.meta.is_empty() {
        let pairs: Vec<String> = e.meta.iter().map(|(k, v)| format!("{}={}", line(k), line(v))).collect();
        let _ = writeln!(s, "meta:       {}", pairs.join(" "));
    }
    if let Some(r) = &e.retry_of {
        let _ = writeln!(s, "retry of:   {r}");
    }
    if e.cancel_requested {
        let _ = writeln!(s, "cancel:     requested");
    }
    match &e.state {
        ExecutionState::Running { owner, .. } => {
            let _ = writeln!(s, "owner:      {}", line(owner));
        }
        ExecutionState::Retrying { next_run_at, last_error } => {
            let _ = writeln!(s, "next try:   {}", timestamp(*next_run_at));
            let _ = writeln!(s, "last error: {}", error_text(last_error));
        }
        ExecutionState::Failed { error, .. } => {
            let _ = writeln!(s, "error:      {}", error_text(error));
        }
        ExecutionState::Succeeded { output, .. } => {
            let _ = writeln!(s, "output:\n{}", block(output));
        }
        ExecutionState::AwaitingInput { request } => {
            let _ = writeln!(s, "review:     task `{}` ({}), round {}", line(&request.task), line(&request.agent), request.round);
            let _ = writeln!(s, "answer:     crew-runner answer {} [--text FEEDBACK]", e.id);
            let _ = writeln!(s, "draft:\n{}", block(&request.draft));
        }
        _ => {}
    }
    for a in &e.attempt_errors {
        let _ = writeln!(s, "attempt {} failed: {}", a.attempt, error_text(&a.error));
    }
    s
}

/// One line per execution (for `list`), with a header.
pub fn table(executions: &[Execution]) -> String {
    let mut s =
        format!("{:<26}  {:<14}  {:<6}  {:<9}  {:>7}  {:<23}  {}\n", "ID", "STATUS", "PRIO", "PROGRESS", "TOKENS", "CREATED", "CREW");
    for e in executions {
        let _ = writeln!(
            s,
            "{:<26}  {:<14}  {:<6}  {:<9}  {:>7}  {:<23}  {}",
            e.id,
            if owner_gone(e) { "orphaned" } else { e.status().as_str() },
            e.priority.as_str(),
            format!("{}/{}", e.progress.completed_steps, e.progress.total_steps),
            e.usage.total_tokens,
            timestamp(e.created_at),
            line(&e.crew_name)
        );
    }
    if executions.iter().any(owner_gone) {
        s.push_str("(orphaned: running, but its worker process is gone; the next `crew-runner worker` recovers it)\n");
    }
    s
}

/// Whether `e` is running under a worker process that is gone (see `store/liveness.rs`).
pub fn owner_gone(e: &Execution) -> bool {
    matches!(e.state, ExecutionState::Running { owner_gone: true, .. })
}

/// The status as `status` shows it: a running execution whose worker is gone says so.
fn status_text(e: &Execution) -> String {
    match &e.state {
        ExecutionState::Running { owner, owner_gone: true, .. } => {
            format!("running, but its worker process ({owner}) is gone: the next `crew-runner worker` (or the desktop app) recovers it")
        }
        _ => e.status().to_string(),
    }
}

/// Indent for the continuation lines of a multi-line log message (past the `seq` column).
const CONTINUATION: &str = "\n      ";

/// One log entry: `seq time level kind [task/agent] message`. A multi-line message (an agent's
/// answer) continues on lines indented by six spaces, so every entry starts with its `seq`.
pub fn log_line(l: &LogEntry) -> String {
    let who = match (&l.event.task, &l.event.agent) {
        (Some(t), Some(a)) => format!(" [{} / {}]", line(t), line(a)),
        (Some(t), None) => format!(" [{}]", line(t)),
        (None, Some(a)) => format!(" [{}]", line(a)),
        (None, None) => String::new(),
    };
    let kind = serde_json::to_value(l.event.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let level = serde_json::to_value(l.event.level).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let message = block(l.event.message.trim_end()).replace('\n', CONTINUATION);
    format!("{:>5} {} {:<5} {}{} {message}", l.seq, timestamp(l.at), level, kind, who)
}

/// `YYYY-MM-DD HH:MM:SS UTC`: every text time is UTC, and says so (the same on every machine
/// sharing a data dir, and the zone of the log files' dates). JSON keeps milliseconds.
pub fn timestamp(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_are_indented_under_their_entry() {
        use crate::execution::{EventKind, ExecutionId, LogEvent};
        let entry = LogEntry {
            execution_id: ExecutionId::new(),
            attempt: 1,
            seq: 7,
            at: 0,
            event: LogEvent::info(EventKind::AgentStep, "Thought: done\nFinal Answer: a\nb\n"),
        };
        let text = log_line(&entry);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("    7 1970-01-01 00:00:00 UTC info  agent_step Thought: done"), "{text}");
        assert_eq!(&lines[1..], ["      Final Answer: a", "      b"]);
    }

    #[test]
    fn timestamps_are_utc_dates_and_say_so() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(timestamp(1_795_651_200_000), "2026-11-26 00:00:00 UTC");
        assert_eq!(timestamp(951_782_400_000 + 3_723_000), "2000-02-29 01:02:03 UTC");
    }
}
