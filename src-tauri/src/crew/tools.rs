//! The tool-name catalogue: CrewAI tool names and ours, mapped to our canonical names.

/// Our tools, by canonical name.
pub const CANONICAL_TOOLS: &[&str] = &["read_file", "write_file", "list_directory"];

/// CrewAI tools we implement, and the canonical name each maps to; the first for a canonical name
/// is the `crewai_tools` class an export uses ([`crewai_class`]).
const CREWAI_ALIASES: &[(&str, &str)] = &[
    ("FileReadTool", "read_file"),
    ("FileWriterTool", "write_file"),
    ("FileWriteTool", "write_file"),
    ("DirectoryReadTool", "list_directory"),
];

/// CrewAI tools that reach the network (search, scraping, hosted APIs); we do not run them.
const NETWORK_TOOLS: &[&str] = &[
    "SerperDevTool",
    "ScrapeWebsiteTool",
    "ScrapeElementFromWebsiteTool",
    "WebsiteSearchTool",
    "BraveSearchTool",
    "EXASearchTool",
    "TavilySearchTool",
    "TavilyExtractorTool",
    "SerpApiGoogleSearchTool",
    "SerpApiGoogleShoppingTool",
    "SerplyWebSearchTool",
    "SerplyNewsSearchTool",
    "SerplyScholarSearchTool",
    "SerplyJobSearchTool",
    "SerplyWebpageToMarkdownTool",
    "FirecrawlSearchTool",
    "FirecrawlScrapeWebsiteTool",
    "FirecrawlCrawlWebsiteTool",
    "SeleniumScrapingTool",
    "SpiderTool",
    "BrowserbaseLoadTool",
    "HyperbrowserLoadTool",
    "JinaScrapeWebsiteTool",
    "LinkupSearchTool",
    "ApifyActorsTool",
    "GithubSearchTool",
    "YoutubeVideoSearchTool",
    "YoutubeChannelSearchTool",
    "CodeDocsSearchTool",
    "ArxivPaperTool",
    "DallETool",
    "VisionTool",
    "ComposioTool",
    "ZapierActionTool",
    "ScrapegraphScrapeTool",
    "OxylabsUniversalScraperTool",
    "BrightDataSearchTool",
    "BrightDataWebUnlockerTool",
];

/// What a tool name in a crew file means to us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolLookup {
    /// One of our tools, by canonical name.
    Known(&'static str),
    /// A CrewAI tool that needs the network; not available, dropped.
    Network(&'static str),
    /// A name we do not know; dropped.
    Unknown,
}

/// Looks a tool name up, as users write it: `FileReadTool`, `FileReadTool()`, `file_read_tool`,
/// `read_file`, `ReadFile` all find `read_file`. Case, `_`, `-` and a trailing `()` do not matter.
pub fn lookup(name: &str) -> ToolLookup {
    let wanted = fold(name);
    if let Some(c) = CANONICAL_TOOLS.iter().find(|c| fold(c) == wanted) {
        return ToolLookup::Known(c);
    }
    if let Some((_, c)) = CREWAI_ALIASES.iter().find(|(alias, _)| fold(alias) == wanted) {
        return ToolLookup::Known(c);
    }
    if let Some(n) = NETWORK_TOOLS.iter().find(|n| fold(n) == wanted) {
        return ToolLookup::Network(n);
    }
    ToolLookup::Unknown
}

/// The `crewai_tools` class for one of our tools (`read_file` → `FileReadTool`); `None` for a name
/// that is not canonical.
pub fn crewai_class(canonical: &str) -> Option<&'static str> {
    CREWAI_ALIASES.iter().find(|(_, c)| *c == canonical).map(|(class, _)| *class)
}

fn fold(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix("()").unwrap_or(name);
    name.chars().filter(|c| *c != '_' && *c != '-' && !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_crewai_names_and_ours() {
        assert_eq!(lookup("FileReadTool"), ToolLookup::Known("read_file"));
        assert_eq!(lookup("file_read_tool"), ToolLookup::Known("read_file"));
        assert_eq!(lookup("FileWriterTool()"), ToolLookup::Known("write_file"));
        assert_eq!(lookup("DirectoryReadTool"), ToolLookup::Known("list_directory"));
        assert_eq!(lookup("list_directory"), ToolLookup::Known("list_directory"));
        assert_eq!(lookup("SerperDevTool"), ToolLookup::Network("SerperDevTool"));
        assert_eq!(lookup("serper_dev_tool"), ToolLookup::Network("SerperDevTool"));
        assert_eq!(lookup("MagicTool"), ToolLookup::Unknown);
    }

    #[test]
    fn every_canonical_tool_has_a_crewai_class() {
        let classes: Vec<_> = CANONICAL_TOOLS.iter().map(|c| crewai_class(c)).collect();
        assert_eq!(classes, vec![Some("FileReadTool"), Some("FileWriterTool"), Some("DirectoryReadTool")]);
        assert_eq!(crewai_class("FileReadTool"), None);
    }
}
