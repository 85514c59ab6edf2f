//! The offline model's use of tools by name: a task whose description names an offered tool (its
//! name, or for a built-in tool any CrewAI class that means it: "search with SerperDevTool") gets
//! that tool called once, with arguments drawn from the tool's schema and the task's text. Works
//! for any tool the engine offers (built-in, MCP, command), so every tool path runs offline.

use serde_json::{json, Value};

use super::types::ToolDef;
use crate::crew::tools::names_for;

/// The next named tool to call: among `tools` not yet `used`, the one whose name appears first in
/// `description`, with its arguments ([`arguments_for`]); `None` when no unused tool is named or
/// the text lacks what its required arguments need (a URL for a `…url` argument).
pub(super) fn named_tool_call(tools: &[ToolDef], description: &str, used: impl Fn(&str) -> bool) -> Option<(String, Value)> {
    let lower = description.to_lowercase();
    let mut named: Vec<(usize, &ToolDef)> = tools
        .iter()
        .filter(|t| !used(&t.name))
        .filter_map(|t| names_for(&t.name).iter().filter_map(|n| mention(&lower, &n.to_lowercase())).min().map(|at| (at, t)))
        .collect();
    named.sort_by_key(|(at, _)| *at);
    named.into_iter().find_map(|(_, t)| arguments_for(t, description).map(|args| (t.name.clone(), args)))
}

/// Where `name` first appears in `text` as a whole word (not inside a longer name).
fn mention(text: &str, name: &str) -> Option<usize> {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(name)
        .map(|(at, _)| at)
        .find(|at| !part(text[..*at].chars().next_back()) && !part(text[at + name.len()..].chars().next()))
}

/// Arguments for the tool's required properties: a URL from the text for a property whose name
/// says url, website or link; a file path from the text for one that says path, file, directory,
/// csv or json; the task's query (quoted text, else the description) for any other string; `1`
/// for a number, `false` for a boolean.
pub(super) fn arguments_for(tool: &ToolDef, description: &str) -> Option<Value> {
    let mut args = serde_json::Map::new();
    let required = tool.parameters["required"].as_array().cloned().unwrap_or_default();
    for name in required.iter().filter_map(Value::as_str) {
        let kind = tool.parameters["properties"][name]["type"].as_str().unwrap_or("string");
        let key = name.to_lowercase();
        let value = match kind {
            "integer" | "number" => json!(1),
            "boolean" => json!(false),
            "string" if ["url", "website", "link"].iter().any(|w| key.contains(w)) => json!(url_in(description)?),
            "string" if ["path", "file", "directory", "csv", "json"].iter().any(|w| key.contains(w)) => json!(path_in(description)?),
            "string" => json!(query_in(description, &tool.name)),
            _ => continue,
        };
        args.insert(name.to_string(), value);
    }
    Some(Value::Object(args))
}

/// The first `http://` or `https://` URL in `text`, without trailing punctuation.
fn url_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '<' | '>' | '(' | ')'))
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ';', ':', '!', '?']).to_string())
}

/// The first word of `text` that looks like a relative file path (`data.csv`, `notes/a.md`).
fn path_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '(' | ')' | ','))
        .map(|w| w.trim_end_matches(['.', ':', ';', '!', '?']))
        .find(|w| {
            !w.contains("://")
                && w.rsplit_once('.').is_some_and(|(stem, ext)| {
                    !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
                })
        })
        .map(str::to_string)
}

/// The task's query: the first quoted text (`"…"`, `'…'` or `` `…` ``) that is not a tool's name,
/// else the description with the tool's names left out, at most 200 characters.
fn query_in(text: &str, tool: &str) -> String {
    let names: Vec<String> = names_for(tool).iter().map(|n| n.to_lowercase()).collect();
    for quote in ['"', '`', '\''] {
        let mut parts = text.split(quote).skip(1).step_by(2);
        if let Some(q) = parts.find(|q| !q.trim().is_empty() && !names.contains(&q.trim().to_lowercase()) && q.len() <= 200) {
            return q.trim().to_string();
        }
    }
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !names.contains(&w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_').to_lowercase()))
        .collect();
    words.join(" ").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, properties: Value, required: &[&str]) -> ToolDef {
        ToolDef {
            name: name.into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": properties, "required": required}),
        }
    }

    #[test]
    fn the_first_named_unused_tool_is_called_with_arguments_from_the_text() {
        let tools = vec![
            tool("scrape_website", json!({"website_url": {"type": "string"}}), &["website_url"]),
            tool("serper_search", json!({"search_query": {"type": "string"}}), &["search_query"]),
            tool("lookup_ticket", json!({"id": {"type": "integer"}, "verbose": {"type": "boolean"}}), &["id", "verbose"]),
        ];
        let text = "Search with SerperDevTool for \"rust async\", then use ScrapeWebsiteTool on https://example.com/page.html.";
        let none_used = |_: &str| false;
        assert_eq!(named_tool_call(&tools, text, none_used), Some(("serper_search".into(), json!({"search_query": "rust async"}))));
        let searched = |n: &str| n == "serper_search";
        assert_eq!(
            named_tool_call(&tools, text, searched),
            Some(("scrape_website".into(), json!({"website_url": "https://example.com/page.html"})))
        );
        assert_eq!(named_tool_call(&tools, text, |_| true), None);
        assert_eq!(
            named_tool_call(&tools, "call lookup_ticket now", none_used),
            Some(("lookup_ticket".into(), json!({"id": 1, "verbose": false})))
        );
        assert_eq!(named_tool_call(&tools, "use scrape_website on nothing", none_used), None, "no URL in the text");
        assert_eq!(named_tool_call(&tools, "use my_serper_search_x", none_used), None, "not a whole word");
    }

    #[test]
    fn queries_and_paths_come_from_the_text() {
        assert_eq!(query_in("Use SerperDevTool to find rust news", "serper_search"), "Use to find rust news");
        assert_eq!(query_in("Use `SerperDevTool` for 'tokio'", "serper_search"), "tokio");
        assert_eq!(path_in("Search data/cities.csv for Japan."), Some("data/cities.csv".into()));
        assert_eq!(path_in("see https://x.org/a.html"), None);
        assert_eq!(url_in("read <https://x.org/a>."), Some("https://x.org/a".into()));
    }
}
