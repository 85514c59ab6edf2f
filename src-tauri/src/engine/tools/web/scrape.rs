//! `scrape_website` (CrewAI `ScrapeWebsiteTool`): a web page's readable text.
//!
//! Constructor argument (CrewAI's): `website_url`, the page to read; without it the model gives
//! `website_url` at each call.

use serde_json::json;

use super::fetch::FetchPolicy;
use super::page_text::fetch_page_text;
use crate::engine::tools::{fixed_or_given, ConstructorArgs, Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// The scrape tool, with its fixed page when the crew gave one.
pub struct ScrapeWebsiteTool {
    pub policy: FetchPolicy,
    pub website_url: Option<String>,
}

impl ScrapeWebsiteTool {
    /// The tool as the crew constructed it.
    pub fn new(policy: FetchPolicy, args: ConstructorArgs<'_>) -> Self {
        ScrapeWebsiteTool { policy, website_url: args.text("website_url") }
    }
}

impl Tool for ScrapeWebsiteTool {
    fn kept_in_recordings(&self) -> bool {
        true
    }

    fn definition(&self) -> ToolDef {
        match &self.website_url {
            Some(url) => ToolDef {
                name: "scrape_website".into(),
                description: format!("Read the content of {url} as text."),
                parameters: json!({"type": "object", "properties": {}, "required": []}),
            },
            None => ToolDef {
                name: "scrape_website".into(),
                description: "Read a website's content as text.".into(),
                parameters: json!({
                    "type": "object",
                    "properties": {"website_url": {"type": "string", "description": "The http(s) URL of the page to read"}},
                    "required": ["website_url"]
                }),
            },
        }
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let url = fixed_or_given(self.website_url.as_deref(), &arguments, "website_url")?;
            fetch_page_text(&self.policy, &url).await
        })
    }
}
