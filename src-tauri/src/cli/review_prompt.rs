//! `--run` in a terminal: a task's answer awaiting human review (`human_input`) is asked about on
//! the terminal, as CrewAI does, instead of leaving the execution waiting for `crew-runner
//! answer` or the app.

use std::io::{IsTerminal, Write};

use tokio::sync::oneshot;

use super::escape::{block, line};
use crate::execution::{ExecutionId, InputRequest};

/// Whether a person is at the terminal: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Shows the draft on stderr and reads one line of feedback from stdin: `Some("")` (Enter)
/// accepts, other text is feedback; `None` when stdin is closed (nothing answered).
///
/// The line is read on a thread of its own, so dropping the future (Ctrl-C cancels the run)
/// leaves nothing for the runtime to wait for; the thread ends with the process.
pub async fn ask(id: &ExecutionId, request: &InputRequest) -> Option<String> {
    eprintln!();
    eprintln!("── {id}: task `{}` ({}) awaits your review (round {}) ──", line(&request.task), line(&request.agent), request.round);
    eprintln!("{}", block(&request.draft));
    eprint!("Feedback for the agent (press Enter to accept the answer): ");
    let _ = std::io::stderr().flush();
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let read = std::io::stdin().read_line(&mut text);
        let _ = tx.send(match read {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(text),
        });
    });
    rx.await.ok().flatten()
}
