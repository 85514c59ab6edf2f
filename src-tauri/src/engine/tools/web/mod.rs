//! The built-in tools that reach the network: web search (Serper, Brave, Tavily), page scraping
//! and page search, all through [`fetch`]'s policy (time limit, size cap, content types, at most
//! five redirects, no private addresses unless the run allows them).

mod address;
mod brave;
pub mod fetch;
mod page_text;
mod scrape;
mod search_hits;
mod serper;
mod tavily;
mod website_search;

use std::sync::Arc;

pub use address::non_public_class;
pub use brave::{BraveSearchTool, BRAVE_URL};
pub use fetch::{FetchError, FetchPolicy};
pub use scrape::ScrapeWebsiteTool;
pub use search_hits::SearchEndpoint;
pub use serper::{SerperSearchTool, SERPER_URL};
pub use tavily::{TavilySearchTool, TAVILY_URL};
pub use website_search::WebsiteSearchTool;

use super::{ConstructorArgs, Tool};
use crate::crew::tools::{BuiltinTool, ToolEntry};

/// The network tool of catalogue row `entry`, built with the crew's constructor arguments and
/// the process environment (API key, base URL override); `None` for a tool that does not reach
/// the network.
pub fn network_tool(entry: &ToolEntry, args: ConstructorArgs<'_>, policy: FetchPolicy) -> Option<Arc<dyn Tool>> {
    let endpoint =
        |default: &str| SearchEndpoint::from_env(default, entry.base_url_env.unwrap_or_default(), entry.api_key_env.unwrap_or_default());
    Some(match entry.tool {
        BuiltinTool::SerperSearch => Arc::new(SerperSearchTool::new(endpoint(SERPER_URL), policy, args)),
        BuiltinTool::BraveSearch => Arc::new(BraveSearchTool::new(endpoint(BRAVE_URL), policy, args)),
        BuiltinTool::TavilySearch => Arc::new(TavilySearchTool::new(endpoint(TAVILY_URL), policy, args)),
        BuiltinTool::ScrapeWebsite => Arc::new(ScrapeWebsiteTool::new(policy, args)),
        BuiltinTool::WebsiteSearch => Arc::new(WebsiteSearchTool::new(policy, args)),
        _ => return None,
    })
}
