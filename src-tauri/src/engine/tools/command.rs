//! Command tools: a program the crew declares (`command_tools:`), run in the workspace with the
//! model's arguments as JSON on stdin; its stdout is the tool's result.
//!
//! The program runs in a process group of its own, killed whole when the timeout passes or the
//! call is abandoned (the execution was cancelled). Stdout beyond the output cap is read and
//! discarded (so the program never blocks on a full pipe) and the result says it was cut.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::process_group::spawn_in_group;
use super::stderr_tail::{StderrTail, TOOL_TAIL_LINES};
use super::{Tool, ToolError};
use crate::crew::command_tool::{DEFAULT_COMMAND_OUTPUT_BYTES, DEFAULT_COMMAND_TIMEOUT_SECS};
use crate::crew::CommandToolSpec;
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// A declared command tool, bound to the execution's workspace folder.
pub struct CommandTool {
    pub name: String,
    pub spec: CommandToolSpec,
    /// The folder it runs in (the crew's resolved workspace).
    pub workspace: PathBuf,
}

impl CommandTool {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.spec.timeout_secs.unwrap_or(DEFAULT_COMMAND_TIMEOUT_SECS))
    }

    fn cap(&self) -> usize {
        self.spec.max_output_bytes.unwrap_or(DEFAULT_COMMAND_OUTPUT_BYTES)
    }

    async fn run(&self, arguments: serde_json::Value) -> Result<String, ToolError> {
        let program = &self.spec.command[0];
        let path = if program.contains('/') { self.workspace.join(program) } else { PathBuf::from(program) };
        let mut command = Command::new(&path);
        command.args(&self.spec.command[1..]).current_dir(&self.workspace);
        let (mut child, mut group) = spawn_in_group(command)
            .map_err(|e| ToolError::Refused(format!("command tool `{}` could not run `{program}`: {e}", self.name)))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = StderrTail::follow(child.stderr.take().expect("stderr is piped"), TOOL_TAIL_LINES);
        let input = arguments.to_string();
        let cap = self.cap();
        let finished = tokio::time::timeout(self.timeout(), async {
            // A program that does not read its input must not make the call fail.
            let feed = async move {
                let _ = stdin.write_all(input.as_bytes()).await;
                drop(stdin);
            };
            let ((), output, status) = tokio::join!(feed, read_capped(stdout, cap), child.wait());
            (output, status)
        })
        .await;
        let Ok((output, status)) = finished else {
            group.kill();
            return Err(ToolError::Refused(format!(
                "command tool `{}` did not finish within {}s and was stopped",
                self.name,
                self.timeout().as_secs()
            )));
        };
        let (mut text, cut) = output.map_err(|e| ToolError::Refused(format!("command tool `{}`: reading its output: {e}", self.name)))?;
        let status = status.map_err(|e| ToolError::Refused(format!("command tool `{}`: {e}", self.name)))?;
        if !status.success() {
            tokio::task::yield_now().await;
            return Err(ToolError::Refused(format!("command tool `{}` failed ({status}): {}", self.name, stderr.text())));
        }
        if cut {
            text.push_str(&format!("\n[output cut at {cap} bytes]"));
        }
        Ok(text)
    }
}

/// Reads all of `reader`, keeping the first `cap` bytes (as UTF-8, lossily); `true` when more was
/// written.
async fn read_capped(mut reader: impl AsyncRead + Unpin, cap: usize) -> std::io::Result<(String, bool)> {
    let mut kept = Vec::new();
    let mut cut = false;
    let mut buf = [0u8; 8192];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        cut |= n > room;
    }
    Ok((String::from_utf8_lossy(&kept).into_owned(), cut))
}

impl Tool for CommandTool {
    fn definition(&self) -> ToolDef {
        ToolDef { name: self.name.clone(), description: self.spec.description.clone(), parameters: self.spec.input_schema.clone() }
    }

    /// Runs the program; a failure (cannot start, non-zero exit, timeout) is `Error: …` text for
    /// the model, with the stderr tail.
    ///
    /// Cancellation: dropping the future kills the program's process group.
    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(self.run(arguments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(dir: &std::path::Path, script: &str, timeout: Option<u64>, cap: Option<usize>) -> CommandTool {
        let spec = CommandToolSpec {
            description: "d".into(),
            command: vec!["sh".into(), "-c".into(), script.into()],
            input_schema: serde_json::json!({"type": "object"}),
            timeout_secs: timeout,
            max_output_bytes: cap,
        };
        CommandTool { name: "t".into(), spec, workspace: dir.to_path_buf() }
    }

    #[tokio::test]
    async fn input_is_json_on_stdin_and_runs_in_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("here.txt"), "x").unwrap();
        let out = tool(dir.path(), "cat; ls", None, None).call(serde_json::json!({"a": 1})).await.unwrap();
        assert_eq!(out, "{\"a\":1}here.txt\n");
    }

    #[tokio::test]
    async fn output_is_capped_and_failures_carry_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let out = tool(dir.path(), "head -c 100000 /dev/zero | tr '\\0' a", None, Some(10)).call(serde_json::json!({})).await.unwrap();
        assert_eq!(out, "aaaaaaaaaa\n[output cut at 10 bytes]");
        let err = tool(dir.path(), "echo boom >&2; exit 3", None, None).call(serde_json::json!({})).await.unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
    }

    #[tokio::test]
    async fn a_command_past_its_timeout_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let err = tool(dir.path(), "exec sleep 60", Some(1), None).call(serde_json::json!({})).await.unwrap_err();
        assert!(err.to_string().contains("did not finish within 1s"), "{err}");
    }
}
