//! The last lines a child process wrote to stderr, kept for error messages (tool processes: stdio
//! MCP servers, command tools; and the CrewAI engine's Python server). Every line is also logged
//! at `debug` (target `child_stderr`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Lines a tool process's tail keeps.
pub const TOOL_TAIL_LINES: usize = 20;
/// Bytes kept of one line.
const KEPT_LINE_BYTES: usize = 1000;

/// A shared tail of a child's stderr, filled by a background reader until the pipe closes.
#[derive(Clone, Debug, Default)]
pub struct StderrTail {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl StderrTail {
    /// Starts reading `stderr` in a background task that keeps its last `kept` lines; the task ends
    /// at end of file.
    pub fn follow(stderr: impl AsyncRead + Unpin + Send + 'static, kept_lines: usize) -> StderrTail {
        let tail = StderrTail::default();
        let lines = tail.lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(mut line)) = reader.next_line().await {
                tracing::debug!(target: "child_stderr", "{line}");
                if line.len() > KEPT_LINE_BYTES {
                    let mut cut = KEPT_LINE_BYTES;
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    line.truncate(cut);
                }
                let mut kept = lines.lock().unwrap_or_else(|p| p.into_inner());
                if kept.len() >= kept_lines {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        tail
    }

    /// The kept lines joined with newlines (empty when nothing was written).
    pub fn text(&self) -> String {
        let kept = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
    }
}
