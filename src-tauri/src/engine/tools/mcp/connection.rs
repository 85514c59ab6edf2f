//! One live connection to an MCP server (a stdio child or a streamable-HTTP endpoint): connect,
//! list its tools, call them.
//!
//! Dropping a [`McpConnection`] ends it: the client service is cancelled and a stdio server's
//! whole process group is killed (`SIGKILL`), so nothing outlives the execution that started it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool as McpToolInfo};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceError, ServiceExt};
use tokio::process::{Child, Command};

use super::env_vars::{expand, ExpandError};
use super::McpError;
use crate::crew::mcp::{HttpServer, StdioServer};
use crate::crew::McpServerSpec;
use crate::engine::tools::process_group::{spawn_in_group, GroupGuard};
use crate::engine::tools::stderr_tail::{StderrTail, TOOL_TAIL_LINES};

/// How long connecting (start, `initialize`, `tools/list`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// A stdio server's child process.
struct ServerProcess {
    /// Declared first, so dropped first: the group is killed before the child is reaped (its
    /// pid, the group's id, cannot have been reused yet).
    group: GroupGuard,
    child: Mutex<Child>,
    stderr: StderrTail,
}

/// A connected MCP server and the tools it listed.
pub struct McpConnection {
    /// The server's name in the crew (or its URL).
    pub name: String,
    /// What the server listed at connect time, in its order.
    pub tools: Vec<McpToolInfo>,
    service: RunningService<RoleClient, ()>,
    process: Option<ServerProcess>,
}

impl McpConnection {
    /// Connects to `spec` (a stdio server runs in `workspace`, or in its `cwd` relative to it) and
    /// lists its tools, all within `timeout`. `${VAR}`s are expanded from the environment first.
    ///
    /// Cancellation: dropping the future kills a server it started.
    pub async fn connect(name: &str, spec: &McpServerSpec, workspace: &Path, timeout: Duration) -> Result<McpConnection, McpError> {
        match spec {
            McpServerSpec::Stdio(StdioServer { command, args, env, cwd }) => {
                let mut cmd = Command::new(expand_field(name, command)?);
                for arg in args {
                    cmd.arg(expand_field(name, arg)?);
                }
                for (key, value) in env {
                    cmd.env(key, expand_field(name, value)?);
                }
                let dir = match cwd {
                    Some(c) => workspace.join(expand_field(name, c)?),
                    None => workspace.to_path_buf(),
                };
                cmd.current_dir(dir);
                connect_stdio(name, command, cmd, timeout).await
            }
            McpServerSpec::Http(HttpServer { url, headers }) => {
                let mut expanded = BTreeMap::new();
                for (key, value) in headers {
                    expanded.insert(key.clone(), expand_field(name, value)?);
                }
                connect_http(name, &expand_field(name, url)?, &expanded, timeout).await
            }
        }
    }

    /// The server's process group id (stdio servers only).
    pub fn pgid(&self) -> Option<i32> {
        self.process.as_ref().and_then(|p| p.group.pgid())
    }

    /// Calls `tool` with `arguments` (a JSON object). A server-side error (`isError`, a JSON-RPC
    /// error) is `Ok` text for the model; a broken connection or a dead server is `Err`.
    ///
    /// Cancellation: dropping the future abandons the call (rmcp sends `notifications/cancelled`).
    pub async fn call(&self, tool: &str, arguments: serde_json::Value) -> Result<String, McpError> {
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let serde_json::Value::Object(map) = arguments {
            params = params.with_arguments(map);
        }
        match self.service.call_tool(params).await {
            Ok(result) => Ok(result_text(&result)),
            Err(ServiceError::McpError(e)) => Ok(format!("Error: {}", e.message)),
            Err(e) => Err(self.broken(e.to_string())),
        }
    }

    /// Why the connection failed, with the server's exit status and stderr tail when it is a
    /// process.
    fn broken(&self, reason: String) -> McpError {
        let Some(process) = &self.process else {
            return McpError::Broken { server: self.name.clone(), reason, stderr: String::new() };
        };
        let status = process.child.lock().unwrap_or_else(|p| p.into_inner()).try_wait().ok().flatten();
        let reason = match status {
            Some(status) => format!("the server exited ({status})"),
            None => reason,
        };
        McpError::Broken { server: self.name.clone(), reason, stderr: process.stderr.text() }
    }
}

fn expand_field(server: &str, text: &str) -> Result<String, McpError> {
    expand(text).map_err(|e: ExpandError| McpError::Config { server: server.to_string(), reason: e.to_string() })
}

async fn connect_stdio(name: &str, program: &str, command: Command, timeout: Duration) -> Result<McpConnection, McpError> {
    let start_failed = |reason: String, stderr: String| McpError::Start { server: name.to_string(), reason, stderr };
    let (mut child, group) = spawn_in_group(command).map_err(|e| start_failed(format!("cannot run `{program}`: {e}"), String::new()))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = StderrTail::follow(child.stderr.take().expect("stderr is piped"), TOOL_TAIL_LINES);
    let started = tokio::time::timeout(timeout, async {
        let service = ().serve((stdout, stdin)).await.map_err(|e| e.to_string())?;
        let tools = service.list_all_tools().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((service, tools))
    })
    .await;
    let failure = match started {
        Ok(Ok((service, tools))) => {
            let process = ServerProcess { group, child: Mutex::new(child), stderr };
            return Ok(McpConnection { name: name.to_string(), tools, service, process: Some(process) });
        }
        Ok(Err(e)) => e,
        Err(_) => format!("no answer within {}s", timeout.as_secs()),
    };
    // Give the stderr reader the server's last words when it has exited.
    let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await.ok().and_then(Result::ok);
    tokio::task::yield_now().await;
    let reason = match status {
        Some(status) => format!("it exited ({status}) before it was ready: {failure}"),
        None => failure,
    };
    drop(group);
    Err(start_failed(reason, stderr.text()))
}

async fn connect_http(name: &str, url: &str, headers: &BTreeMap<String, String>, timeout: Duration) -> Result<McpConnection, McpError> {
    let fail = |reason: String| McpError::Start { server: name.to_string(), reason, stderr: String::new() };
    let mut custom = HashMap::new();
    for (key, value) in headers {
        let header = reqwest::header::HeaderName::from_bytes(key.as_bytes()).map_err(|e| fail(format!("header `{key}`: {e}")))?;
        let value = reqwest::header::HeaderValue::from_str(value).map_err(|e| fail(format!("header `{key}`: {e}")))?;
        custom.insert(header, value);
    }
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string()).custom_headers(custom);
    let transport = StreamableHttpClientTransport::from_config(config);
    let started = tokio::time::timeout(timeout, async {
        let service = ().serve(transport).await.map_err(|e| e.to_string())?;
        let tools = service.list_all_tools().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((service, tools))
    })
    .await;
    match started {
        Ok(Ok((service, tools))) => Ok(McpConnection { name: name.to_string(), tools, service, process: None }),
        Ok(Err(e)) => Err(fail(format!("{url}: {e}"))),
        Err(_) => Err(fail(format!("{url}: no answer within {}s", timeout.as_secs()))),
    }
}

/// A tool result as text for the model: its text blocks (other blocks as their JSON), the
/// structured content when there is no text, `Error: ` first when the server flagged an error.
fn result_text(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = result
        .content
        .iter()
        .map(|block| match block.as_text() {
            Some(text) => text.text.clone(),
            None => serde_json::to_string(block).unwrap_or_default(),
        })
        .collect();
    if parts.is_empty() {
        if let Some(structured) = &result.structured_content {
            parts.push(structured.to_string());
        }
    }
    let text = parts.join("\n");
    if result.is_error == Some(true) {
        format!("Error: {text}")
    } else {
        text
    }
}
