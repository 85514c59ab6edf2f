//! MCP servers a crew declares (`mcp_servers:`) and the references agents attach (`mcps:`).
//!
//! ```yaml
//! mcp_servers:
//!   files: {command: npx, args: ["-y", "@modelcontextprotocol/server-filesystem", "."], env: {TOKEN: "${TOKEN}"}}
//!   search: {url: "https://mcp.example.com/mcp", headers: {Authorization: "Bearer ${SEARCH_KEY}"}}
//! ```
//!
//! `${VAR}` in a server's fields is kept as written in the spec (an execution's stored snapshot
//! holds no secret) and expanded from the worker's environment when the server is started.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::diagnostic::Findings;
use super::document::Node;
use super::fields::Fields;

/// How to reach one MCP server: `{command, args, env, cwd}` or `{url, headers}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(untagged)]
pub enum McpServerSpec {
    /// A local server started as a child process speaking MCP on its stdin/stdout.
    Stdio(StdioServer),
    /// A remote server over MCP's streamable HTTP transport.
    Http(HttpServer),
}

/// A server started as a child process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct StdioServer {
    /// The program (looked up on `PATH`).
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Variables added to the worker's environment for the server.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The folder it runs in, relative to the workspace; `None` = the workspace.
    #[serde(default)]
    pub cwd: Option<String>,
}

/// A server reached over streamable HTTP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct HttpServer {
    pub url: String,
    /// Headers sent with every request (`Authorization`, …).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// Which server a [`McpRef`] points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum McpTarget {
    /// A server of the crew's `mcp_servers`, by name.
    Named(String),
    /// A streamable-HTTP server by URL (`https://…`), with no headers.
    Url(String),
}

/// One entry of an agent's `mcps:` in CrewAI's forms: `name`, `name#tool`, `https://…`,
/// `https://…#tool`. Serialised as that text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
#[ts(type = "string")]
pub struct McpRef {
    pub target: McpTarget,
    /// Only this tool of the server; `None` = all its tools.
    pub tool: Option<String>,
}

/// Why an `mcps:` entry cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum McpRefError {
    /// The entry is empty, or its server or tool part is.
    #[error("an MCP reference needs a server name or an https:// URL (optionally `#tool`)")]
    Empty,
    /// A URL that is not `http://` or `https://` (`crewai-amp:` and other schemes).
    #[error("`{0}`: only server names and http(s):// URLs are supported")]
    Scheme(String),
}

impl FromStr for McpRef {
    type Err = McpRefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (server, tool) = match text.rsplit_once('#') {
            Some((server, tool)) => (server.trim(), Some(tool.trim().to_string())),
            None => (text, None),
        };
        if server.is_empty() || tool.as_deref() == Some("") {
            return Err(McpRefError::Empty);
        }
        let target = if server.starts_with("https://") || server.starts_with("http://") {
            McpTarget::Url(server.to_string())
        } else if server.contains("://") || server.contains(':') {
            return Err(McpRefError::Scheme(server.to_string()));
        } else {
            McpTarget::Named(server.to_string())
        };
        Ok(McpRef { target, tool })
    }
}

impl TryFrom<String> for McpRef {
    type Error = McpRefError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<McpRef> for String {
    fn from(r: McpRef) -> String {
        r.to_string()
    }
}

impl fmt::Display for McpRef {
    /// The reference as written: `name`, `name#tool`, `https://…#tool`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            McpTarget::Named(n) => f.write_str(n)?,
            McpTarget::Url(u) => f.write_str(u)?,
        }
        if let Some(tool) = &self.tool {
            write!(f, "#{tool}")?;
        }
        Ok(())
    }
}

impl McpRef {
    /// The key a connection to the target is shared under: the server name, or the URL.
    pub fn server_key(&self) -> &str {
        match &self.target {
            McpTarget::Named(n) | McpTarget::Url(n) => n,
        }
    }
}

/// Reads `mcp_servers:` (a mapping of names to servers); bad entries are errors and left out.
pub(crate) fn read_mcp_servers(fields: &Fields, findings: &mut Findings) -> BTreeMap<String, McpServerSpec> {
    let parse = |node: &Node| -> Result<McpServerSpec, String> {
        let value = node.to_json();
        if value.get("command").is_some() {
            serde_json::from_value(value).map(McpServerSpec::Stdio).map_err(|e| e.to_string())
        } else if let Some(url) = value.get("url") {
            let url = url.as_str().unwrap_or_default();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("`{url}` is not an http(s):// URL"));
            }
            serde_json::from_value(value).map(McpServerSpec::Http).map_err(|e| e.to_string())
        } else {
            Err("a server needs a `command` (stdio) or a `url` (streamable HTTP)".to_string())
        }
    };
    fields.named_map("mcp_servers", "server names to servers", parse, findings)
}

/// Reads an agent's `mcps:` list; entries that cannot be read are errors and left out.
pub(crate) fn read_mcps(fields: &Fields, findings: &mut Findings) -> Vec<McpRef> {
    let names = fields.string_list("mcps", findings).unwrap_or_default();
    let mut out: Vec<McpRef> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match name.parse::<McpRef>() {
            Ok(r) if !out.contains(&r) => out.push(r),
            Ok(_) => {}
            Err(e) => findings.error(fields.origin.at(&format!("mcps[{i}]"), e.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_crewais_forms() {
        let r: McpRef = "files".parse().unwrap();
        assert_eq!((r.target.clone(), r.tool.clone()), (McpTarget::Named("files".into()), None));
        let r: McpRef = "files#read".parse().unwrap();
        assert_eq!(r.tool.as_deref(), Some("read"));
        assert_eq!(r.to_string(), "files#read");
        let r: McpRef = "https://mcp.example.com/mcp#search".parse().unwrap();
        assert_eq!(r.target, McpTarget::Url("https://mcp.example.com/mcp".into()));
        assert_eq!(r.tool.as_deref(), Some("search"));
        assert_eq!(r.server_key(), "https://mcp.example.com/mcp");
        assert_eq!("".parse::<McpRef>(), Err(McpRefError::Empty));
        assert_eq!("files#".parse::<McpRef>(), Err(McpRefError::Empty));
        assert!(matches!("crewai-amp:search".parse::<McpRef>(), Err(McpRefError::Scheme(_))));
        let json = serde_json::to_value(McpRef::from_str("files#read").unwrap()).unwrap();
        assert_eq!(json, serde_json::json!("files#read"));
        assert_eq!(serde_json::from_value::<McpRef>(json).unwrap().to_string(), "files#read");
    }

    #[test]
    fn servers_serialise_in_their_written_form() {
        let stdio: McpServerSpec = serde_json::from_value(serde_json::json!({"command": "npx", "args": ["x"]})).unwrap();
        assert!(matches!(stdio, McpServerSpec::Stdio(ref s) if s.command == "npx"));
        let http: McpServerSpec = serde_json::from_value(serde_json::json!({"url": "http://127.0.0.1:1/mcp"})).unwrap();
        assert!(matches!(http, McpServerSpec::Http(_)));
    }
}
