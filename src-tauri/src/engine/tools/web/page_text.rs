//! Web pages as readable text: HTML rendered to plain text by `html2text` (scripts and styles
//! left out, no markup), other text types as they are.

use super::fetch::{fetch, FetchPolicy, Fetched, Outgoing, PAGE_TYPES};
use crate::engine::tools::ToolError;

/// The column width HTML is laid out to.
const TEXT_WIDTH: usize = 120;

/// The readable text of a fetched page.
pub fn page_text(page: &Fetched) -> Result<String, ToolError> {
    if page.content_type == "text/html" || page.content_type == "application/xhtml+xml" {
        html_text(&page.body).map_err(|e| ToolError::Refused(format!("{}: the page could not be read as HTML: {e}", page.url)))
    } else {
        Ok(String::from_utf8_lossy(&page.body).into_owned())
    }
}

/// HTML as plain text.
pub fn html_text(html: &[u8]) -> Result<String, html2text::Error> {
    let text = html2text::config::plain_no_decorate().string_from_read(html, TEXT_WIDTH)?;
    // Collapse runs of blank lines the layout leaves.
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out.trim().to_string())
}

/// Fetches `url` under `policy` and returns its readable text.
pub async fn fetch_page_text(policy: &FetchPolicy, url: &str) -> Result<String, ToolError> {
    let page = fetch(policy, Outgoing::get(url, PAGE_TYPES)).await?;
    page_text(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text_without_scripts() {
        let html = b"<html><head><title>T</title><style>p{color:red}</style><script>var secret = 1;</script></head>\
            <body><h1>Heading</h1><p>First <b>para</b>graph.</p><p>Second &amp; last.</p></body></html>";
        let text = html_text(html).unwrap();
        assert!(text.contains("Heading"), "{text}");
        assert!(text.contains("First paragraph."), "{text}");
        assert!(text.contains("Second & last."), "{text}");
        assert!(!text.contains("secret") && !text.contains("color"), "{text}");
    }
}
