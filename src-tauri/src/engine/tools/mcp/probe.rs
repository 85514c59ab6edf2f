//! `crew-runner validate`'s MCP check: connect to each server a crew uses, list its tools, end.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::McpConnection;
use crate::crew::mcp::HttpServer;
use crate::crew::{CrewSpec, McpServerSpec, McpTarget};

/// How long `validate` waits for one server.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// One server's answer: its tools (name and description), or why it could not be used.
#[derive(Clone, Debug, Serialize)]
pub struct ServerProbe {
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Connects to every server `spec` declares or its agents attach by URL (in name order, one at a
/// time, each within `timeout`) and lists its tools; each connection is ended before the next.
pub async fn probe_servers(spec: &CrewSpec, timeout: Duration) -> Vec<ServerProbe> {
    let mut servers: BTreeMap<String, McpServerSpec> = spec.mcp_servers.clone();
    for r in spec.agents.iter().flat_map(|a| &a.mcps) {
        if let McpTarget::Url(url) = &r.target {
            servers.entry(url.clone()).or_insert_with(|| McpServerSpec::Http(HttpServer { url: url.clone(), headers: BTreeMap::new() }));
        }
    }
    let mut out = Vec::new();
    for (name, server) in &servers {
        let probe = match McpConnection::connect(name, server, Path::new(&spec.workspace), timeout).await {
            Ok(c) => ServerProbe {
                server: name.clone(),
                tools: Some(
                    c.tools.iter().map(|t| (t.name.to_string(), t.description.as_deref().unwrap_or_default().to_string())).collect(),
                ),
                error: None,
            },
            Err(e) => ServerProbe { server: name.clone(), tools: None, error: Some(e.to_string()) },
        };
        out.push(probe);
    }
    out
}
