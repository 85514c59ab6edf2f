//! `csv_search` (CrewAI `CSVSearchTool`) and `json_search` (CrewAI `JSONSearchTool`): the rows
//! of a workspace CSV file, or the entries of a workspace JSON file, that best match a query,
//! ranked by shared words ([`rank_passages`](super::passages::rank_passages)) rather than by
//! CrewAI's embeddings.
//!
//! Constructor arguments (CrewAI's): `csv` / `json_path`, the file to search (relative to the
//! workspace); without it the model gives the file at each call, with `search_query`.

use std::sync::Arc;

use serde_json::{json, Value};

use super::passages::best_passages_text;
use super::{fixed_or_given, required_str, ConstructorArgs, Tool, ToolError, Workspace};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// Rows or entries returned per search.
pub const ENTRIES_RETURNED: usize = 5;

/// Which kind of file a [`DataSearchTool`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    Csv,
    Json,
}

impl DataFormat {
    fn tool_name(self) -> &'static str {
        match self {
            DataFormat::Csv => "csv_search",
            DataFormat::Json => "json_search",
        }
    }

    /// CrewAI's argument naming the file.
    fn file_arg(self) -> &'static str {
        match self {
            DataFormat::Csv => "csv",
            DataFormat::Json => "json_path",
        }
    }
}

/// A search over one workspace CSV or JSON file.
pub struct DataSearchTool {
    pub workspace: Arc<Workspace>,
    pub format: DataFormat,
    /// The file fixed by the crew, relative to the workspace.
    pub file: Option<String>,
}

impl DataSearchTool {
    /// The tool as the crew constructed it.
    pub fn new(workspace: Arc<Workspace>, format: DataFormat, args: ConstructorArgs<'_>) -> Self {
        DataSearchTool { workspace, format, file: args.text(format.file_arg()) }
    }
}

impl Tool for DataSearchTool {
    fn definition(&self) -> ToolDef {
        let kind = match self.format {
            DataFormat::Csv => "CSV file's rows",
            DataFormat::Json => "JSON file's entries",
        };
        let query = json!({"type": "string", "description": "What to look for"});
        let (description, parameters) = match &self.file {
            Some(file) => (
                format!("Search {file} (the {kind} that best match the query)."),
                json!({"type": "object", "properties": {"search_query": query}, "required": ["search_query"]}),
            ),
            None => (
                format!("Search a workspace {kind} for the ones that best match the query."),
                json!({
                    "type": "object",
                    "properties": {"search_query": query, self.format.file_arg(): {"type": "string", "description": "File path relative to the workspace"}},
                    "required": ["search_query", self.format.file_arg()]
                }),
            ),
        };
        ToolDef { name: self.format.tool_name().into(), description, parameters }
    }

    fn call(&self, arguments: Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let query = required_str(&arguments, "search_query")?;
            let file = fixed_or_given(self.file.as_deref(), &arguments, self.format.file_arg())?;
            let text = self.workspace.read(&file)?;
            let entries = match self.format {
                DataFormat::Csv => csv_rows(&text).map_err(|e| ToolError::Refused(format!("{file} is not valid CSV: {e}")))?,
                DataFormat::Json => {
                    json_entries(&serde_json::from_str(&text).map_err(|e| ToolError::Refused(format!("{file} is not valid JSON: {e}")))?)
                }
            };
            Ok(best_passages_text(&entries, query, ENTRIES_RETURNED))
        })
    }
}

/// Each data row of a CSV text with a header row, as `column: value` pairs joined by `, `.
fn csv_rows(text: &str) -> Result<Vec<String>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let cells: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, v)| match header.get(i) {
                Some(h) => format!("{h}: {v}"),
                None => v.to_string(),
            })
            .collect();
        rows.push(cells.join(", "));
    }
    Ok(rows)
}

/// A JSON document's entries: an array's elements, an object's members, or the value itself;
/// each as its leaves, one `path: value` a line.
fn json_entries(value: &Value) -> Vec<String> {
    let mut entries = Vec::new();
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                entries.push(leaves(item, &format!("[{i}]")));
            }
        }
        Value::Object(members) => {
            for (k, v) in members {
                entries.push(leaves(v, k));
            }
        }
        other => entries.push(leaves(other, "")),
    }
    entries
}

fn leaves(value: &Value, path: &str) -> String {
    let mut lines = Vec::new();
    collect_leaves(value, path, &mut lines);
    lines.join("\n")
}

fn collect_leaves(value: &Value, path: &str, lines: &mut Vec<String>) {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        Value::Object(members) => members.iter().for_each(|(k, v)| collect_leaves(v, &join(k), lines)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| collect_leaves(v, &format!("{path}[{i}]"), lines)),
        Value::String(s) => lines.push(format!("{path}: {s}")),
        other => lines.push(format!("{path}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[tokio::test]
    async fn csv_and_json_files_are_searched_by_query() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cities.csv"), "city,country\nParis,France\nLyon,France\nOsaka,Japan\n").unwrap();
        std::fs::write(dir.path().join("c.json"), r#"[{"name": "Paris", "tags": ["art"]}, {"name": "Osaka", "tags": ["food"]}]"#).unwrap();
        let ws = Arc::new(Workspace::open(dir.path()).unwrap());
        let fixed: BTreeMap<String, Value> = [("csv".to_string(), json!("cities.csv"))].into();
        let csv_tool = DataSearchTool::new(ws.clone(), DataFormat::Csv, ConstructorArgs(&fixed));
        assert_eq!(csv_tool.definition().parameters["required"], json!(["search_query"]));
        assert_eq!(csv_tool.call(json!({"search_query": "Japan"})).await.unwrap(), "city: Osaka, country: Japan");
        let none = BTreeMap::new();
        let json_tool = DataSearchTool::new(ws, DataFormat::Json, ConstructorArgs(&none));
        assert_eq!(
            json_tool.call(json!({"search_query": "food", "json_path": "c.json"})).await.unwrap(),
            "[1].name: Osaka\n[1].tags[0]: food"
        );
        assert!(matches!(json_tool.call(json!({"search_query": "food"})).await, Err(ToolError::InvalidArguments(_))));
        assert!(matches!(json_tool.call(json!({"search_query": "x", "json_path": "cities.csv"})).await, Err(ToolError::Refused(_))));
    }
}
