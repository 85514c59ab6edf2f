//! Progress on stderr while `--run` works: an indicatif bar per task on a terminal, plain lines
//! otherwise (one per task started/finished, warnings, retries).

use serde::Deserialize;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::escape::{block, line};
use crate::crew::CrewSpec;
use crate::execution::{EventKind, Execution, ExecutionEvent, ExecutionId, LogEntry};

/// The background task that renders progress; [`finish`](ProgressDisplay::finish) stops it.
pub struct ProgressDisplay {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl ProgressDisplay {
    /// Starts rendering events of `executions` from `events`.
    pub fn spawn(events: broadcast::Receiver<ExecutionEvent>, executions: &[Execution]) -> Self {
        let stop = CancellationToken::new();
        let view: Box<dyn View> = if std::io::stderr().is_terminal() {
            Box::new(Bars::new(executions))
        } else {
            Box::new(Lines { ids: executions.iter().map(|e| e.id.clone()).collect(), many: executions.len() > 1 })
        };
        let task = tokio::spawn(render(events, view, stop.clone()));
        ProgressDisplay { stop, task }
    }

    /// Renders what is already queued, then stops.
    pub async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    /// [`finish`](ProgressDisplay::finish)es `display`, if there is one (none under `--quiet`).
    pub async fn finish_some(display: Option<ProgressDisplay>) {
        if let Some(display) = display {
            display.finish().await;
        }
    }
}

async fn render(mut events: broadcast::Receiver<ExecutionEvent>, mut view: Box<dyn View>, stop: CancellationToken) {
    loop {
        let event = tokio::select! {
            biased;
            e = events.recv() => e,
            _ = stop.cancelled() => break,
        };
        match event {
            Ok(e) => view.show(&e),
            Err(RecvError::Lagged(n)) => view.note(&format!("({n} progress events skipped)")),
            Err(RecvError::Closed) => break,
        }
    }
    while let Ok(e) = events.try_recv() {
        view.show(&e);
    }
    view.done();
}

trait View: Send {
    fn show(&mut self, event: &ExecutionEvent);
    fn note(&mut self, text: &str);
    fn done(&mut self) {}
}

/// Plain lines, for logs and pipes.
struct Lines {
    ids: Vec<ExecutionId>,
    many: bool,
}

impl View for Lines {
    fn show(&mut self, event: &ExecutionEvent) {
        let ExecutionEvent::Log { entry } = event else { return };
        if !self.ids.contains(&entry.execution_id) {
            return;
        }
        if let Some(text) = line_for(entry) {
            if self.many {
                eprintln!("[{}] {text}", entry.execution_id);
            } else {
                eprintln!("{text}");
            }
        }
    }

    fn note(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// The log lines worth a line on stderr, control characters escaped.
fn line_for(entry: &LogEntry) -> Option<String> {
    let e = &entry.event;
    let task = line(e.task.as_deref().unwrap_or("-"));
    let agent = e.agent.as_deref().map(|a| format!(" ({})", line(a))).unwrap_or_default();
    let message = block(&e.message);
    Some(match e.kind {
        EventKind::Started => format!("started attempt {}", entry.attempt),
        EventKind::TaskStarted => format!("task {task} started{agent}"),
        EventKind::TaskCompleted => format!("task {task} completed{agent}"),
        EventKind::TaskSkipped => format!("task {task} reused: {message}"),
        EventKind::Delegation => format!("delegation: {message}"),
        EventKind::Warning => format!("warning: {message}"),
        EventKind::RetryScheduled | EventKind::Recovered | EventKind::Failed | EventKind::Cancelled | EventKind::Interrupted => {
            message.into_owned()
        }
        _ => return None,
    })
}

/// A bar per task (single run) or per execution (batch), on a terminal.
struct Bars {
    multi: MultiProgress,
    /// (execution, task) -> bar; task is `None` for per-execution bars.
    bars: HashMap<(ExecutionId, Option<String>), ProgressBar>,
    per_task: bool,
    style: ProgressStyle,
}

impl Bars {
    fn new(executions: &[Execution]) -> Self {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}").expect("valid template");
        let per_task = executions.len() == 1;
        let mut bars = HashMap::new();
        for e in executions {
            let tasks: Vec<String> =
                CrewSpec::deserialize(&*e.crew_spec).map(|s| s.tasks.into_iter().map(|t| t.key).collect()).unwrap_or_default();
            if per_task {
                for t in tasks {
                    let bar = multi.add(
                        ProgressBar::new_spinner().with_style(style.clone()).with_prefix(line(&t).into_owned()).with_message("waiting"),
                    );
                    bars.insert((e.id.clone(), Some(t)), bar);
                }
            } else {
                let bar =
                    multi.add(ProgressBar::new_spinner().with_style(style.clone()).with_prefix(e.id.to_string()).with_message("queued"));
                bars.insert((e.id.clone(), None), bar);
            }
        }
        Bars { multi, bars, per_task, style }
    }
}

impl View for Bars {
    fn show(&mut self, event: &ExecutionEvent) {
        match event {
            ExecutionEvent::Log { entry } if self.per_task => {
                let Some(task) = entry.event.task.clone() else {
                    if let Some(text) = line_for(entry) {
                        let _ = self.multi.println(text);
                    }
                    return;
                };
                let key = (entry.execution_id.clone(), Some(task.clone()));
                // A CrewAI crew's tasks are known only as they start: each gets its bar then.
                if entry.event.kind == EventKind::TaskStarted && !self.bars.contains_key(&key) {
                    let bar =
                        self.multi.add(ProgressBar::new_spinner().with_style(self.style.clone()).with_prefix(line(&task).into_owned()));
                    self.bars.insert(key.clone(), bar);
                }
                let Some(bar) = self.bars.get(&key) else { return };
                match entry.event.kind {
                    EventKind::TaskStarted => {
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar.set_message(format!("running ({})", line(entry.event.agent.as_deref().unwrap_or("?"))));
                    }
                    EventKind::TaskCompleted => bar.finish_with_message("done"),
                    EventKind::TaskSkipped => bar.finish_with_message("reused"),
                    EventKind::ToolCall | EventKind::Delegation | EventKind::AgentStep => {
                        bar.set_message(line(&entry.event.message).into_owned())
                    }
                    EventKind::Warning => {
                        let _ = self.multi.println(format!("warning: {}", block(&entry.event.message)));
                    }
                    _ => {}
                }
            }
            ExecutionEvent::Progress { id, progress } if !self.per_task => {
                if let Some(bar) = self.bars.get(&(id.clone(), None)) {
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar.set_message(format!(
                        "{}/{} {}",
                        progress.completed_steps,
                        progress.total_steps,
                        line(progress.current_step.as_deref().unwrap_or(""))
                    ));
                }
            }
            ExecutionEvent::State { id, state, .. } if state.is_terminal() => {
                for ((eid, _), bar) in &self.bars {
                    if eid == id && !bar.is_finished() {
                        bar.finish_with_message(state.status().to_string());
                    }
                }
            }
            _ => {}
        }
    }

    fn note(&mut self, text: &str) {
        let _ = self.multi.println(text);
    }

    fn done(&mut self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}
