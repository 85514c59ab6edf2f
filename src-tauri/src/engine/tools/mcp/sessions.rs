//! One execution's MCP connections: each server is connected the first time an agent needing it
//! starts a task, shared by later tasks, and ended when the sessions are closed or dropped (the
//! execution ended, failed, or was cancelled: its `Run` is dropped with it).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{McpConnection, McpError, McpTool};
use crate::crew::mcp::HttpServer;
use crate::crew::{McpRef, McpServerSpec, McpTarget};
use crate::engine::tools::Tool;

/// What a new connection reports, for the execution log.
#[derive(Clone, Debug)]
pub struct Connected {
    pub server: String,
    /// The stdio server's process group (its pid).
    pub pgid: Option<i32>,
    pub tools: Vec<String>,
}

/// The connections of one execution, by server name (or URL).
pub struct McpSessions {
    servers: BTreeMap<String, McpServerSpec>,
    workspace: PathBuf,
    timeout: Duration,
    connections: tokio::sync::Mutex<HashMap<String, Arc<McpConnection>>>,
}

impl McpSessions {
    /// Sessions over the crew's declared `servers`; stdio servers run in `workspace`.
    pub fn new(servers: BTreeMap<String, McpServerSpec>, workspace: PathBuf, timeout: Duration) -> McpSessions {
        McpSessions { servers, workspace, timeout, connections: tokio::sync::Mutex::new(HashMap::new()) }
    }

    /// The tools `refs` attach, connecting the servers not connected yet (`on_connect` is told of
    /// each new connection). A `#tool` a server does not list is an error naming the ones it has.
    ///
    /// Cancellation: dropping the future stops connecting; a server it was starting is killed.
    pub async fn tools_for(&self, refs: &[McpRef], mut on_connect: impl FnMut(Connected)) -> Result<Vec<Arc<dyn Tool>>, McpError> {
        let mut out: Vec<Arc<dyn Tool>> = Vec::new();
        for r in refs {
            let connection = self.connection(r, &mut on_connect).await?;
            for info in &connection.tools {
                if r.tool.as_deref().is_some_and(|wanted| wanted != info.name) {
                    continue;
                }
                out.push(Arc::new(McpTool::new(connection.clone(), info)));
            }
            if let Some(wanted) = &r.tool {
                if !connection.tools.iter().any(|t| t.name == *wanted) {
                    let listed: Vec<&str> = connection.tools.iter().map(|t| t.name.as_ref()).collect();
                    return Err(McpError::Config {
                        server: connection.name.clone(),
                        reason: format!("it has no tool `{wanted}` (it lists: {})", listed.join(", ")),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn connection(&self, r: &McpRef, on_connect: &mut impl FnMut(Connected)) -> Result<Arc<McpConnection>, McpError> {
        let key = r.server_key().to_string();
        let mut connections = self.connections.lock().await;
        if let Some(c) = connections.get(&key) {
            return Ok(c.clone());
        }
        let spec = match &r.target {
            McpTarget::Named(name) => self.servers.get(name).cloned().ok_or_else(|| McpError::Unknown(name.clone()))?,
            McpTarget::Url(url) => McpServerSpec::Http(HttpServer { url: url.clone(), headers: BTreeMap::new() }),
        };
        let connection = Arc::new(McpConnection::connect(&key, &spec, &self.workspace, self.timeout).await?);
        on_connect(Connected {
            server: key.clone(),
            pgid: connection.pgid(),
            tools: connection.tools.iter().map(|t| t.name.to_string()).collect(),
        });
        connections.insert(key, connection.clone());
        Ok(connection)
    }

    /// Ends every connection this execution made (a stdio server's group is killed once the last
    /// tool holding it is dropped too).
    pub async fn close(&self) {
        self.connections.lock().await.clear();
    }
}
