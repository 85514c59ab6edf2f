//! `website_search` (CrewAI `WebsiteSearchTool`): the passages of a web page that best match a
//! query. Unlike CrewAI, which embeds the page and searches by meaning (needing an embedding model
//! and a vector store), this fetches the page and ranks its passages by shared words
//! ([`rank_passages`](crate::engine::tools::passages::rank_passages)).
//!
//! Constructor argument (CrewAI's): `website`, the page to search; without it the model gives
//! `website` at each call, with `search_query`.

use serde_json::json;

use super::fetch::FetchPolicy;
use super::page_text::fetch_page_text;
use crate::engine::tools::passages::{best_passages_text, split_passages};
use crate::engine::tools::{fixed_or_given, required_str, ConstructorArgs, Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// Passages returned per search.
pub const PASSAGES_RETURNED: usize = 5;

/// The website search tool, with its fixed page when the crew gave one.
pub struct WebsiteSearchTool {
    pub policy: FetchPolicy,
    pub website: Option<String>,
}

impl WebsiteSearchTool {
    /// The tool as the crew constructed it.
    pub fn new(policy: FetchPolicy, args: ConstructorArgs<'_>) -> Self {
        WebsiteSearchTool { policy, website: args.text("website") }
    }
}

impl Tool for WebsiteSearchTool {
    fn kept_in_recordings(&self) -> bool {
        true
    }

    fn definition(&self) -> ToolDef {
        let query = json!({"type": "string", "description": "What to look for in the page"});
        match &self.website {
            Some(url) => ToolDef {
                name: "website_search".into(),
                description: format!("Search the content of {url}: the passages that best match the query."),
                parameters: json!({"type": "object", "properties": {"search_query": query}, "required": ["search_query"]}),
            },
            None => ToolDef {
                name: "website_search".into(),
                description: "Search a website's content: the passages that best match the query.".into(),
                parameters: json!({
                    "type": "object",
                    "properties": {"search_query": query, "website": {"type": "string", "description": "The http(s) URL of the page to search"}},
                    "required": ["search_query", "website"]
                }),
            },
        }
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let query = required_str(&arguments, "search_query")?;
            let url = fixed_or_given(self.website.as_deref(), &arguments, "website")?;
            let text = fetch_page_text(&self.policy, &url).await?;
            Ok(best_passages_text(&split_passages(&text), query, PASSAGES_RETURNED))
        })
    }
}
