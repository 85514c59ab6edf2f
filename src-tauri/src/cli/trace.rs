//! `crew-runner trace ID [--call N] [--json]`: the trace of a run ([`Runner::trace`](crate::app::Runner::trace))
//! as an indented waterfall, or what one LLM call sent and received
//! ([`Runner::trace_call`](crate::app::Runner::trace_call)); `--json` prints the [`Trace`] or [`TraceCall`].

use std::fmt::Write;

use super::args::{GlobalArgs, TraceCommand};
use super::escape::{block, line};
use super::runtime::{client, llm_env};
use super::CliError;
use crate::app::{SpanKind, SpanStatus, Trace, TraceCall, TraceSpan};

/// Prints the trace or the call; exit 0 (errors: see `Command::Trace`).
pub fn trace(global: &GlobalArgs, c: TraceCommand) -> Result<i32, CliError> {
    let runner = client(global)?;
    match c.call {
        Some(call) => {
            let call = runner.trace_call(&c.id, call).map_err(CliError::runner)?;
            if c.json {
                outln!("{}", serde_json::to_string_pretty(&call).expect("a TraceCall serialises"));
            } else {
                out!("{}", render_call(&call));
            }
        }
        None => {
            let trace = runner.trace(&c.id, llm_env(global)?.trace_payloads()).map_err(CliError::runner)?;
            if c.json {
                outln!("{}", serde_json::to_string_pretty(&trace).expect("a Trace serialises"));
            } else {
                out!("{}", render(&trace));
            }
        }
    }
    Ok(0)
}

/// The waterfall: a header with the totals, then one line per span, each under its parent (offset
/// from the execution's start, duration, tokens, cost, status, then the span indented by depth
/// with its summary).
pub fn render(t: &Trace) -> String {
    let mut s = String::new();
    let origin = t.started_at.into_iter().chain(t.spans.iter().map(|x| x.start_ms)).min().unwrap_or(0);
    let totals = &t.totals;
    let _ = writeln!(
        s,
        "execution {}  {}  {} LLM call(s), {} tool call(s), {} delegation(s)  tokens {} (prompt {}, completion {})  cost {}  payloads: {}",
        t.execution_id,
        t.status,
        totals.llm_calls,
        totals.tool_calls,
        totals.delegations,
        totals.total_tokens,
        totals.prompt_tokens,
        totals.completion_tokens,
        cost(totals.cost_usd),
        t.payloads
    );
    if t.spans.is_empty() {
        s.push_str("No task has started.\n");
        return s;
    }
    let _ = writeln!(s, "{:>9}  {:>9}  {:>7}  {:>9}  {:<9}  SPAN", "OFFSET", "DURATION", "TOKENS", "COST", "STATUS");
    for (span, d) in tree_order(&t.spans) {
        let duration = span.end_ms.map_or("…".to_string(), |end| seconds(end - span.start_ms));
        let tokens = span.usage.as_ref().map_or("-".to_string(), |u| u.total_tokens.to_string());
        let cost = if span.usage.is_some() { cost(span.cost_usd) } else { "-".into() };
        let _ = writeln!(
            s,
            "{:>9}  {:>9}  {:>7}  {:>9}  {:<9}  {}{}",
            format!("+{}", seconds(span.start_ms - origin)),
            duration,
            tokens,
            cost,
            status(span.status),
            "  ".repeat(d),
            label(span)
        );
    }
    s
}

/// The spans depth first (each one's children after it, by start, as the spans are ordered),
/// with their depth: tasks that ran in parallel keep their calls under them.
fn tree_order(spans: &[TraceSpan]) -> Vec<(&TraceSpan, usize)> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span.parent.map(|p| p as usize).filter(|&p| p < spans.len() && p != i) {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    let mut out = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        out.push((&spans[i], depth));
        stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
    }
    out
}

/// A span's name with what it is, its agent, attempt and call number, and its summary.
fn label(span: &TraceSpan) -> String {
    let kind = match span.kind {
        SpanKind::Task => "task",
        SpanKind::LlmCall => "llm",
        SpanKind::ToolCall => "tool",
        SpanKind::Delegation => "delegation",
    };
    let mut text = format!("{kind} {}", line(&span.name));
    if span.kind == SpanKind::Task {
        if let Some(agent) = &span.agent {
            let _ = write!(text, " ({})", line(agent));
        }
        if span.attempt > 1 {
            let _ = write!(text, " [attempt {}]", span.attempt);
        }
    }
    if let Some(call) = span.call {
        let _ = write!(text, " [call {call}]");
    }
    if !span.summary.is_empty() && span.kind != SpanKind::Task && span.kind != SpanKind::Delegation {
        let _ = write!(text, ": {}", line(&span.summary));
    }
    text
}

/// What the call sent (each message under its role) and what it answered.
pub fn render_call(c: &TraceCall) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "call {} of execution {}", c.call, c.execution_id);
    let _ = writeln!(s, "model: {}", line(&c.model));
    if let Some(endpoint) = &c.endpoint {
        let _ = writeln!(s, "endpoint: {}", line(endpoint));
    }
    let _ = writeln!(s, "duration: {}", seconds(c.ended_at - c.started_at));
    if let Some(u) = &c.usage {
        let _ = writeln!(
            s,
            "tokens: {} (prompt {}, completion {})  cost: {}",
            u.total_tokens,
            u.prompt_tokens,
            u.completion_tokens,
            cost(u.cost_usd)
        );
    }
    if !c.tools.is_empty() {
        let names: Vec<String> = c.tools.iter().map(|t| line(t).into_owned()).collect();
        let _ = writeln!(s, "tools offered: {}", names.join(", "));
    }
    for m in &c.messages {
        let who = match &m.tool_call_id {
            Some(id) => format!("{} (answers {})", m.role, line(id)),
            None => m.role.clone(),
        };
        let _ = writeln!(s, "\n--- {who} ---");
        s.push_str(&block(&m.content));
        if !m.content.ends_with('\n') {
            s.push('\n');
        }
        for call in &m.tool_calls {
            let _ = writeln!(s, "→ calls {}({})", line(&call.name), line(&call.arguments));
        }
    }
    let _ = writeln!(s, "\n=== answer ({}) ===", c.response.finish_reason.as_deref().unwrap_or("no finish reason"));
    s.push_str(&block(&c.response.content));
    if !c.response.content.ends_with('\n') {
        s.push('\n');
    }
    for call in &c.response.tool_calls {
        let _ = writeln!(s, "→ calls {}({})", line(&call.name), line(&call.arguments));
    }
    s
}

fn seconds(ms: i64) -> String {
    format!("{:.3}s", ms as f64 / 1000.0)
}

fn cost(usd: Option<f64>) -> String {
    usd.map_or("unknown".into(), |c| format!("${c:.4}"))
}

fn status(s: SpanStatus) -> &'static str {
    match s {
        SpanStatus::Running => "running",
        SpanStatus::Ok => "ok",
        SpanStatus::Failed => "failed",
        SpanStatus::Skipped => "skipped",
        SpanStatus::Cancelled => "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{Status, TracePayloads};

    fn span(id: u32, parent: Option<u32>, kind: SpanKind, name: &str, start_ms: i64) -> TraceSpan {
        TraceSpan { id, parent, ..TraceSpan::running(kind, name, start_ms) }
    }

    #[test]
    fn parallel_tasks_keep_their_calls_under_them_and_running_spans_have_no_duration() {
        let spans = vec![
            span(0, None, SpanKind::Task, "a", 0),
            span(1, None, SpanKind::Task, "b", 1),
            span(2, Some(0), SpanKind::LlmCall, "m1", 2),
            span(3, Some(1), SpanKind::LlmCall, "m2", 3),
        ];
        let order: Vec<(&str, usize)> = tree_order(&spans).into_iter().map(|(s, d)| (s.name.as_str(), d)).collect();
        assert_eq!(order, [("a", 0), ("m1", 1), ("b", 0), ("m2", 1)]);
        let trace = Trace {
            execution_id: "x".into(),
            status: Status::Running,
            started_at: Some(0),
            ended_at: None,
            spans,
            totals: Default::default(),
            payloads: TracePayloads::Metadata,
        };
        let text = render(&trace);
        assert!(text.contains("payloads: metadata"), "{text}");
        let m1 = text.lines().find(|l| l.contains("llm m1")).unwrap();
        assert!(m1.contains("+0.002s") && m1.contains('…') && m1.contains("running") && m1.contains("    llm m1"), "{text}");
    }
}
