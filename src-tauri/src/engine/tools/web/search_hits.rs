//! What the search tools return: hits in CrewAI's text layout, and the parts every search
//! provider shares (the endpoint, its key, the query argument).

use serde_json::json;

use super::fetch::Fetched;
use crate::engine::tools::ToolError;
use crate::llm::ToolDef;

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub title: String,
    pub link: String,
    pub snippet: String,
}

/// The hits as CrewAI's search tools show them (`Title:`, `Link:`, `Snippet:`, `---` between),
/// after `heading` lines (an answer box, Tavily's answer) when there are any.
pub fn hits_text(heading: &[String], hits: &[SearchHit]) -> String {
    let mut parts: Vec<String> = heading.iter().filter(|h| !h.trim().is_empty()).cloned().collect();
    if hits.is_empty() {
        parts.push("No results.".into());
    }
    parts.extend(hits.iter().map(|h| format!("Title: {}\nLink: {}\nSnippet: {}", h.title, h.link, h.snippet)));
    parts.join("\n---\n")
}

/// The hits in `items` (a JSON array of objects), reading each field from the first of its
/// candidate keys that holds a string.
pub fn hits_from(items: Option<&serde_json::Value>, title: &[&str], link: &[&str], snippet: &[&str]) -> Vec<SearchHit> {
    let field = |item: &serde_json::Value, keys: &[&str]| {
        keys.iter().find_map(|k| item.get(*k).and_then(|v| v.as_str())).unwrap_or("").trim().to_string()
    };
    items
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter().map(|item| SearchHit { title: field(item, title), link: field(item, link), snippet: field(item, snippet) }).collect()
        })
        .unwrap_or_default()
}

/// The definition of a search tool whose one argument is the query, named `query_field`.
pub fn query_tool_definition(name: &str, description: &str, query_field: &str) -> ToolDef {
    ToolDef {
        name: name.into(),
        description: description.into(),
        parameters: json!({
            "type": "object",
            "properties": {query_field: {"type": "string", "description": "What to search the internet for"}},
            "required": [query_field]
        }),
    }
}

/// A search API's answer as JSON; `provider` names it in the error.
pub fn answer_json(fetched: &Fetched, provider: &str) -> Result<serde_json::Value, ToolError> {
    serde_json::from_slice(&fetched.body).map_err(|e| ToolError::Refused(format!("{provider} answered with invalid JSON: {e}")))
}

/// A search API endpoint: its base URL (the default, or the override environment variable's
/// value) and its key (from its environment variable, read when the tool is built).
#[derive(Clone, Debug)]
pub struct SearchEndpoint {
    pub base_url: String,
    /// `None` when the variable is unset or blank.
    pub api_key: Option<String>,
    /// The key's variable, named when it is missing.
    pub key_env: &'static str,
}

impl SearchEndpoint {
    /// The endpoint from the process environment: `base_url_env` when set, else `default_url`.
    pub fn from_env(default_url: &str, base_url_env: &str, key_env: &'static str) -> Self {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        SearchEndpoint {
            base_url: var(base_url_env).unwrap_or_else(|| default_url.to_string()).trim_end_matches('/').to_string(),
            api_key: var(key_env),
            key_env,
        }
    }

    /// The key, or the error naming its variable.
    pub fn key(&self) -> Result<&str, ToolError> {
        self.api_key
            .as_deref()
            .ok_or_else(|| ToolError::Refused(format!("{} is not set; this tool cannot search without it", self.key_env)))
    }

    /// `path` appended to the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_are_laid_out_like_crewai() {
        let items = serde_json::json!([{"title": "A", "link": "http://a", "snippet": "sa"}, {"name": "B", "url": "http://b"}]);
        let hits = hits_from(Some(&items), &["title", "name"], &["link", "url"], &["snippet"]);
        assert_eq!(hits[1], SearchHit { title: "B".into(), link: "http://b".into(), snippet: String::new() });
        assert_eq!(hits_text(&["Answer: 42".into()], &hits[..1]), "Answer: 42\n---\nTitle: A\nLink: http://a\nSnippet: sa");
        assert_eq!(hits_text(&[], &[]), "No results.");
    }
}
