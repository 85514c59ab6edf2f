//! `tavily_search` (CrewAI `TavilySearchTool`): the Tavily search API.
//!
//! Constructor arguments (CrewAI's): `max_results` (default 5), `search_depth` (`basic` or
//! `advanced`), `topic` (`general`, `news`, `finance`), `include_answer`. The model gives `query`.
//! Key: `TAVILY_API_KEY`; endpoint `https://api.tavily.com`, overridden by
//! `CREW_RUNNER_TAVILY_URL` (the tool posts to `{base}/search`).

use serde_json::json;

use super::fetch::{fetch, FetchPolicy, Outgoing, JSON_TYPES};
use super::search_hits::{answer_json, hits_from, hits_text, query_tool_definition, SearchEndpoint};
use crate::engine::tools::{required_str, ConstructorArgs, Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// The default endpoint.
pub const TAVILY_URL: &str = "https://api.tavily.com";

/// The Tavily search tool with its constructor arguments.
pub struct TavilySearchTool {
    pub endpoint: SearchEndpoint,
    pub policy: FetchPolicy,
    pub max_results: usize,
    pub search_depth: String,
    pub topic: String,
    pub include_answer: bool,
}

impl TavilySearchTool {
    /// The tool as the crew constructed it.
    pub fn new(endpoint: SearchEndpoint, policy: FetchPolicy, args: ConstructorArgs<'_>) -> Self {
        TavilySearchTool {
            endpoint,
            policy,
            max_results: args.count("max_results").unwrap_or(5),
            search_depth: args.text("search_depth").unwrap_or_else(|| "basic".into()),
            topic: args.text("topic").unwrap_or_else(|| "general".into()),
            include_answer: args.text("include_answer").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }
    }
}

impl Tool for TavilySearchTool {
    fn kept_in_recordings(&self) -> bool {
        true
    }

    fn definition(&self) -> ToolDef {
        query_tool_definition(
            "tavily_search",
            "Search the internet with Tavily: titles, links and the relevant content of each page.",
            "query",
        )
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let query = required_str(&arguments, "query")?;
            let key = self.endpoint.key()?;
            let request = Outgoing {
                method: reqwest::Method::POST,
                url: self.endpoint.url("/search"),
                headers: vec![("authorization", format!("Bearer {key}"))],
                json: Some(json!({
                    "query": query,
                    "max_results": self.max_results,
                    "search_depth": self.search_depth,
                    "topic": self.topic,
                    "include_answer": self.include_answer,
                })),
                accept: JSON_TYPES,
            };
            let fetched = fetch(&self.policy, request).await?;
            let answer = answer_json(&fetched, "Tavily")?;
            let heading: Vec<String> = answer.get("answer").and_then(|a| a.as_str()).map(|a| format!("Answer: {a}")).into_iter().collect();
            let mut hits = hits_from(answer.get("results"), &["title"], &["url"], &["content"]);
            hits.truncate(self.max_results);
            Ok(hits_text(&heading, &hits))
        })
    }
}
