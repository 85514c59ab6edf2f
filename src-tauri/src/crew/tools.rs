//! The tool catalogue: every built-in tool, its canonical name, the CrewAI names that mean it,
//! whether it reaches the network and which key it needs. The loader, the engine, `validate` and
//! the export all read this one table.

/// A built-in tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinTool {
    /// `read_file` (CrewAI `FileReadTool`).
    ReadFile,
    /// `write_file` (CrewAI `FileWriterTool`).
    WriteFile,
    /// `list_directory` (CrewAI `DirectoryReadTool`).
    ListDirectory,
    /// `serper_search` (CrewAI `SerperDevTool`): Google results through serper.dev.
    SerperSearch,
    /// `brave_search` (CrewAI `BraveSearchTool`): the Brave Search API.
    BraveSearch,
    /// `tavily_search` (CrewAI `TavilySearchTool`): the Tavily search API.
    TavilySearch,
    /// `scrape_website` (CrewAI `ScrapeWebsiteTool`): a page as readable text.
    ScrapeWebsite,
    /// `website_search` (CrewAI `WebsiteSearchTool`): a page's passages ranked for a query.
    WebsiteSearch,
    /// `csv_search` (CrewAI `CSVSearchTool`): a workspace CSV file's rows ranked for a query.
    CsvSearch,
    /// `json_search` (CrewAI `JSONSearchTool`): a workspace JSON file's values ranked for a query.
    JsonSearch,
}

/// One row of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct ToolEntry {
    pub tool: BuiltinTool,
    /// Our name, offered to the model and stored in a crew snapshot.
    pub canonical: &'static str,
    /// The `crewai_tools` classes that mean this tool; the first is the one an export writes.
    pub crewai: &'static [&'static str],
    /// The tool reaches the network (off with `allow_network_tools: false` or `--no-network-tools`).
    pub network: bool,
    /// The environment variable holding the API key the tool needs, if any.
    pub api_key_env: Option<&'static str>,
    /// The environment variable that overrides the endpoint's base URL, if the tool calls an API.
    pub base_url_env: Option<&'static str>,
}

/// Every built-in tool.
pub const CATALOGUE: &[ToolEntry] = &[
    entry(BuiltinTool::ReadFile, "read_file", &["FileReadTool", "FileReaderTool"]),
    entry(BuiltinTool::WriteFile, "write_file", &["FileWriterTool", "FileWriteTool"]),
    entry(BuiltinTool::ListDirectory, "list_directory", &["DirectoryReadTool", "DirectoryListTool", "ListDir"]),
    api(BuiltinTool::SerperSearch, "serper_search", &["SerperDevTool"], "SERPER_API_KEY", "CREW_RUNNER_SERPER_URL"),
    api(BuiltinTool::BraveSearch, "brave_search", &["BraveSearchTool"], "BRAVE_API_KEY", "CREW_RUNNER_BRAVE_URL"),
    api(BuiltinTool::TavilySearch, "tavily_search", &["TavilySearchTool"], "TAVILY_API_KEY", "CREW_RUNNER_TAVILY_URL"),
    web(BuiltinTool::ScrapeWebsite, "scrape_website", &["ScrapeWebsiteTool"]),
    web(BuiltinTool::WebsiteSearch, "website_search", &["WebsiteSearchTool"]),
    entry(BuiltinTool::CsvSearch, "csv_search", &["CSVSearchTool"]),
    entry(BuiltinTool::JsonSearch, "json_search", &["JSONSearchTool"]),
];

const fn entry(tool: BuiltinTool, canonical: &'static str, crewai: &'static [&'static str]) -> ToolEntry {
    ToolEntry { tool, canonical, crewai, network: false, api_key_env: None, base_url_env: None }
}

const fn web(tool: BuiltinTool, canonical: &'static str, crewai: &'static [&'static str]) -> ToolEntry {
    ToolEntry { tool, canonical, crewai, network: true, api_key_env: None, base_url_env: None }
}

const fn api(
    tool: BuiltinTool,
    canonical: &'static str,
    crewai: &'static [&'static str],
    key: &'static str,
    url: &'static str,
) -> ToolEntry {
    ToolEntry { tool, canonical, crewai, network: true, api_key_env: Some(key), base_url_env: Some(url) }
}

/// CrewAI tools that reach the network and that we do not implement: named when dropped.
const UNSUPPORTED_NETWORK_TOOLS: &[&str] = &[
    "ScrapeElementFromWebsiteTool",
    "EXASearchTool",
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
    /// A CrewAI tool that needs the network and that we do not implement; dropped.
    Network(&'static str),
    /// A name we do not know; dropped.
    Unknown,
}

/// Looks a tool name up, as users write it: `FileReadTool`, `FileReadTool()`, `file_read_tool`,
/// `read_file`, `ReadFile` all find `read_file`. Case, `_`, `-` and a trailing `()` do not matter.
pub fn lookup(name: &str) -> ToolLookup {
    if let Some(e) = entry_for(name) {
        return ToolLookup::Known(e.canonical);
    }
    let wanted = fold(name);
    match UNSUPPORTED_NETWORK_TOOLS.iter().find(|n| fold(n) == wanted) {
        Some(n) => ToolLookup::Network(n),
        None => ToolLookup::Unknown,
    }
}

/// The catalogue row for a name as written in a crew or offered to a model (see [`lookup`]).
pub fn entry_for(name: &str) -> Option<&'static ToolEntry> {
    let wanted = fold(name);
    CATALOGUE.iter().find(|e| fold(e.canonical) == wanted || e.crewai.iter().any(|c| fold(c) == wanted))
}

/// The built-in tool a name means (see [`lookup`]); `None` for any other name.
pub fn builtin_tool(name: &str) -> Option<BuiltinTool> {
    entry_for(name).map(|e| e.tool)
}

/// Every name that means the tool named `name` (its canonical name and its CrewAI classes); just
/// `name` for a tool outside the catalogue.
pub fn names_for(name: &str) -> Vec<&str> {
    match entry_for(name) {
        Some(e) => std::iter::once(e.canonical).chain(e.crewai.iter().copied()).collect(),
        None => vec![name],
    }
}

/// The `crewai_tools` class for one of our tools (`read_file` → `FileReadTool`); `None` for a name
/// that is not canonical.
pub fn crewai_class(canonical: &str) -> Option<&'static str> {
    CATALOGUE.iter().find(|e| e.canonical == canonical).map(|e| e.crewai[0])
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
        assert_eq!(lookup("SerperDevTool"), ToolLookup::Known("serper_search"));
        assert_eq!(lookup("serper_dev_tool"), ToolLookup::Known("serper_search"));
        assert_eq!(lookup("ScrapeWebsiteTool"), ToolLookup::Known("scrape_website"));
        assert_eq!(lookup("CSVSearchTool"), ToolLookup::Known("csv_search"));
        assert_eq!(lookup("FirecrawlSearchTool"), ToolLookup::Network("FirecrawlSearchTool"));
        assert_eq!(lookup("MagicTool"), ToolLookup::Unknown);
        assert_eq!(builtin_tool("tavily_search"), Some(BuiltinTool::TavilySearch));
        assert_eq!(builtin_tool("MagicTool"), None);
    }

    #[test]
    fn every_tool_has_one_canonical_name_and_a_crewai_class() {
        for e in CATALOGUE {
            assert_eq!(lookup(e.canonical), ToolLookup::Known(e.canonical));
            assert_eq!(crewai_class(e.canonical), Some(e.crewai[0]));
            assert_eq!(e.api_key_env.is_some(), e.base_url_env.is_some(), "{}", e.canonical);
            assert!(e.network || e.api_key_env.is_none());
        }
        assert_eq!(crewai_class("FileReadTool"), None);
        assert_eq!(names_for("SerperDevTool"), ["serper_search", "SerperDevTool"]);
        assert_eq!(names_for("mcp_thing"), ["mcp_thing"]);
    }
}
