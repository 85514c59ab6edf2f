//! `serper_search` (CrewAI `SerperDevTool`): Google results through serper.dev.
//!
//! Constructor arguments (CrewAI's): `n_results` (default 10), `search_type` (`search`, `news`,
//! `images`, `places`, …; default `search`), `country` (`gl`), `locale` (`hl`), `location`.
//! The model gives `search_query`. Key: `SERPER_API_KEY`; endpoint `https://google.serper.dev`,
//! overridden by `CREW_RUNNER_SERPER_URL`.

use serde_json::json;

use super::fetch::{fetch, FetchPolicy, Outgoing, JSON_TYPES};
use super::search_hits::{answer_json, hits_from, hits_text, query_tool_definition, SearchEndpoint};
use crate::engine::tools::{required_str, ConstructorArgs, Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// The default endpoint.
pub const SERPER_URL: &str = "https://google.serper.dev";

/// The Serper search tool with its constructor arguments.
pub struct SerperSearchTool {
    pub endpoint: SearchEndpoint,
    pub policy: FetchPolicy,
    pub n_results: usize,
    /// The path segment after the base URL (`search`, `news`, …).
    pub search_type: String,
    pub country: Option<String>,
    pub locale: Option<String>,
    pub location: Option<String>,
}

impl SerperSearchTool {
    /// The tool as the crew constructed it.
    pub fn new(endpoint: SearchEndpoint, policy: FetchPolicy, args: ConstructorArgs<'_>) -> Self {
        let search_type = args.text("search_type").unwrap_or_else(|| "search".into()).to_ascii_lowercase();
        SerperSearchTool {
            endpoint,
            policy,
            n_results: args.count("n_results").unwrap_or(10),
            search_type: if search_type.chars().all(|c| c.is_ascii_alphabetic()) { search_type } else { "search".into() },
            country: args.text("country"),
            locale: args.text("locale"),
            location: args.text("location"),
        }
    }
}

impl Tool for SerperSearchTool {
    fn kept_in_recordings(&self) -> bool {
        true
    }

    fn definition(&self) -> ToolDef {
        query_tool_definition(
            "serper_search",
            "Search the internet with Serper (Google results): titles, links and snippets.",
            "search_query",
        )
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let query = required_str(&arguments, "search_query")?;
            let key = self.endpoint.key()?;
            let mut body = json!({"q": query, "num": self.n_results});
            for (field, value) in [("gl", &self.country), ("hl", &self.locale), ("location", &self.location)] {
                if let Some(v) = value {
                    body[field] = json!(v);
                }
            }
            let request = Outgoing {
                method: reqwest::Method::POST,
                url: self.endpoint.url(&format!("/{}", self.search_type)),
                headers: vec![("x-api-key", key.to_string())],
                json: Some(body),
                accept: JSON_TYPES,
            };
            let fetched = fetch(&self.policy, request).await?;
            let answer = answer_json(&fetched, "Serper")?;
            Ok(serper_text(&answer, self.n_results))
        })
    }
}

/// Serper's answer as text: the answer box, then the organic (or news, …) results.
fn serper_text(answer: &serde_json::Value, n: usize) -> String {
    let mut heading = Vec::new();
    if let Some(b) = answer.get("answerBox") {
        let text = ["answer", "snippet"].iter().find_map(|k| b.get(*k).and_then(|v| v.as_str())).unwrap_or("");
        if !text.is_empty() {
            heading.push(format!("Answer: {text}"));
        }
    }
    let list = ["organic", "news", "images", "places", "videos", "shopping", "scholar", "patents"].iter().find_map(|k| answer.get(*k));
    let mut hits = hits_from(list, &["title"], &["link", "website"], &["snippet", "address"]);
    hits.truncate(n);
    hits_text(&heading, &hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_box_and_organic_results() {
        let answer = json!({
            "answerBox": {"answer": "42"},
            "organic": [{"title": "T1", "link": "http://1", "snippet": "s1"}, {"title": "T2", "link": "http://2", "snippet": "s2"}]
        });
        assert_eq!(serper_text(&answer, 1), "Answer: 42\n---\nTitle: T1\nLink: http://1\nSnippet: s1");
        assert_eq!(serper_text(&json!({"news": [{"title": "N", "link": "http://n"}]}), 5), "Title: N\nLink: http://n\nSnippet: ");
    }

    #[tokio::test]
    async fn a_missing_key_is_named() {
        let endpoint = SearchEndpoint { base_url: "http://127.0.0.1:9".into(), api_key: None, key_env: "SERPER_API_KEY" };
        let map = Default::default();
        let tool = SerperSearchTool::new(endpoint, FetchPolicy::new(true), ConstructorArgs(&map));
        let err = tool.call(json!({"search_query": "x"})).await.unwrap_err();
        assert!(err.to_string().contains("SERPER_API_KEY is not set"), "{err}");
    }
}
