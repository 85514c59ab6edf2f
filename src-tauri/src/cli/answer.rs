//! `answer ID [--text FEEDBACK]`: answers the human review an execution awaits, through the
//! [`Runner`](crate::app::Runner); the process owning the queue claims it again within one
//! heartbeat.

use super::args::{AnswerCommand, GlobalArgs};
use super::runtime::client;
use super::CliError;
use crate::execution::InputAnswer;

pub async fn answer(global: &GlobalArgs, c: AnswerCommand) -> Result<i32, CliError> {
    let answer = InputAnswer::from_text(c.text.as_deref());
    let e = client(global)?.answer(&c.id, answer.clone()).await.map_err(CliError::runner)?;
    let word = match answer {
        InputAnswer::Accepted => "accepted",
        InputAnswer::Feedback { .. } => "feedback",
    };
    if c.json {
        outln!("{}", serde_json::json!({ "id": e.id, "answer": word, "status": e.status() }));
    } else {
        outln!("{}: {word}; {}", e.id, e.status());
        if !global.quiet {
            eprintln!("a worker or the app runs it on (`crew-runner status {}` shows how it goes)", e.id);
        }
    }
    Ok(0)
}
