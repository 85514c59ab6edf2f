//! `brave_search` (CrewAI `BraveSearchTool`): the Brave Search API.
//!
//! Constructor arguments (CrewAI's): `n_results` (default 10), `country`. The model gives
//! `search_query`. Key: `BRAVE_API_KEY`; endpoint `https://api.search.brave.com`, overridden by
//! `CREW_RUNNER_BRAVE_URL` (the tool calls `{base}/res/v1/web/search`).

use super::fetch::{fetch, FetchPolicy, Outgoing, JSON_TYPES};
use super::search_hits::{answer_json, hits_from, hits_text, query_tool_definition, SearchEndpoint};
use crate::engine::tools::{required_str, ConstructorArgs, Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// The default endpoint.
pub const BRAVE_URL: &str = "https://api.search.brave.com";

/// The Brave search tool with its constructor arguments.
pub struct BraveSearchTool {
    pub endpoint: SearchEndpoint,
    pub policy: FetchPolicy,
    pub n_results: usize,
    pub country: Option<String>,
}

impl BraveSearchTool {
    /// The tool as the crew constructed it.
    pub fn new(endpoint: SearchEndpoint, policy: FetchPolicy, args: ConstructorArgs<'_>) -> Self {
        BraveSearchTool { endpoint, policy, n_results: args.count("n_results").unwrap_or(10), country: args.text("country") }
    }
}

impl BraveSearchTool {
    /// The URL query for a search: `q`, `count` and `country` when set.
    fn query_string(&self, query: &str) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("q", query).append_pair("count", &self.n_results.to_string());
        if let Some(c) = &self.country {
            pairs.append_pair("country", c);
        }
        pairs.finish()
    }
}

impl Tool for BraveSearchTool {
    fn kept_in_recordings(&self) -> bool {
        true
    }

    fn definition(&self) -> ToolDef {
        query_tool_definition("brave_search", "Search the internet with Brave Search: titles, links and snippets.", "search_query")
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let query = required_str(&arguments, "search_query")?;
            let key = self.endpoint.key()?;
            let mut request = Outgoing::get(self.endpoint.url(&format!("/res/v1/web/search?{}", self.query_string(query))), JSON_TYPES);
            request.headers = vec![("x-subscription-token", key.to_string()), ("accept", "application/json".into())];
            let fetched = fetch(&self.policy, request).await?;
            let answer = answer_json(&fetched, "Brave")?;
            let mut hits = hits_from(answer.pointer("/web/results"), &["title"], &["url"], &["description"]);
            hits.truncate(self.n_results);
            Ok(hits_text(&[], &hits))
        })
    }
}
