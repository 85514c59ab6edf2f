//! `read_file`, `write_file` and `list_directory`: file access confined to the crew's workspace.

use std::sync::Arc;

use serde_json::json;

use super::{optional_str, required_str, Tool, ToolError, Workspace};
use crate::execution::BoxFuture;
use crate::llm::ToolDef;

/// `read_file {path}`: a UTF-8 file's content. CrewAI's `FileReadTool(file_path=…)` fixes the
/// file: then `path` may be left out (`file_path` is accepted as its other name).
pub struct ReadFileTool {
    pub workspace: Arc<Workspace>,
    /// The file read when the model names none.
    pub file_path: Option<String>,
}

/// `write_file {path, content, overwrite?}`: writes a file, creating folders; refuses to replace an
/// existing file unless `overwrite` is true.
pub struct WriteFileTool {
    pub workspace: Arc<Workspace>,
}

/// `list_directory {path?}`: a folder's entries, one a line, folders ending in `/`. CrewAI's
/// `DirectoryReadTool(directory=…)` sets the folder listed when the model names none (`directory`
/// is accepted as `path`'s other name).
pub struct ListDirectoryTool {
    pub workspace: Arc<Workspace>,
    /// The folder listed when the model names none (else the workspace root).
    pub directory: Option<String>,
}

impl Tool for ReadFileTool {
    fn definition(&self) -> ToolDef {
        ToolDef {
            name: "read_file".into(),
            description: match &self.file_path {
                Some(file) => {
                    format!("Read the text file {file} from the workspace (or another file, given its path relative to the workspace).")
                }
                None => "Read a text file from the workspace. The path is relative to the workspace.".into(),
            },
            parameters: json!({
                "type": "object",
                "properties": {"path": {"type": "string", "description": "File path relative to the workspace"}},
                "required": if self.file_path.is_some() { json!([]) } else { json!(["path"]) }
            }),
        }
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let given = match optional_str(&arguments, "path")? {
                Some(p) => Some(p),
                None => optional_str(&arguments, "file_path")?,
            };
            let path = match (given, &self.file_path) {
                (Some(p), _) => p,
                (None, Some(fixed)) => fixed.as_str(),
                (None, None) => required_str(&arguments, "path")?,
            };
            Ok(self.workspace.read(path)?)
        })
    }
}

impl Tool for WriteFileTool {
    fn definition(&self) -> ToolDef {
        ToolDef {
            name: "write_file".into(),
            description: "Write a text file in the workspace (folders are created). The path is relative to the \
                          workspace; an existing file is replaced only when overwrite is true."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path relative to the workspace"},
                    "content": {"type": "string", "description": "The text to write"},
                    "overwrite": {"type": "boolean", "description": "Replace the file if it exists", "default": false}
                },
                "required": ["path", "content"]
            }),
        }
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let path = required_str(&arguments, "path")?;
            let content = required_str(&arguments, "content")?;
            let overwrite = match arguments.get("overwrite") {
                None | Some(serde_json::Value::Null) => false,
                Some(serde_json::Value::Bool(b)) => *b,
                Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
                Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
                Some(_) => return Err(ToolError::InvalidArguments("`overwrite` must be a boolean".into())),
            };
            let bytes = self.workspace.write(path, content, overwrite)?;
            Ok(format!("Wrote {bytes} bytes to {path}"))
        })
    }
}

impl Tool for ListDirectoryTool {
    fn definition(&self) -> ToolDef {
        ToolDef {
            name: "list_directory".into(),
            description: match &self.directory {
                Some(dir) => format!("List a folder of the workspace (default: {dir})."),
                None => "List a folder of the workspace (default: the workspace root).".into(),
            },
            parameters: json!({
                "type": "object",
                "properties": {"path": {"type": "string", "description": "Folder path relative to the workspace"}},
                "required": []
            }),
        }
    }

    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            let given = match optional_str(&arguments, "path")? {
                Some(p) => Some(p),
                None => optional_str(&arguments, "directory")?,
            };
            let path = given.or(self.directory.as_deref()).unwrap_or("");
            let entries = self.workspace.list(path)?;
            Ok(listing(&entries))
        })
    }
}

/// Most entries `list_directory` shows; the rest are counted.
pub const MAX_LISTED: usize = 1000;

/// The entries one a line (at most [`MAX_LISTED`], then `… and N more`).
fn listing(entries: &[String]) -> String {
    if entries.is_empty() {
        return "(empty folder)".into();
    }
    let mut text = entries[..entries.len().min(MAX_LISTED)].join("\n");
    if entries.len() > MAX_LISTED {
        text.push_str(&format!("\n… and {} more", entries.len() - MAX_LISTED));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_tools_round_trip_and_report_errors() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Arc::new(Workspace::open(dir.path()).unwrap());
        let write = WriteFileTool { workspace: ws.clone() };
        let read = ReadFileTool { workspace: ws.clone(), file_path: None };
        let list = ListDirectoryTool { workspace: ws.clone(), directory: None };
        assert_eq!(write.call(json!({"path": "a/b.md", "content": "hi"})).await.unwrap(), "Wrote 2 bytes to a/b.md");
        assert_eq!(read.call(json!({"path": "a/b.md"})).await.unwrap(), "hi");
        assert_eq!(list.call(json!({})).await.unwrap(), "a/");
        assert_eq!(list.call(json!({"path": "a"})).await.unwrap(), "b.md");
        assert!(matches!(read.call(json!({})).await, Err(ToolError::InvalidArguments(_))));
        assert!(matches!(read.call(json!({"path": "../x"})).await, Err(ToolError::Workspace(_))));
        assert!(matches!(write.call(json!({"path": "a/b.md", "content": "x"})).await, Err(ToolError::Workspace(_))));
        write.call(json!({"path": "a/b.md", "content": "x", "overwrite": true})).await.unwrap();
        assert_eq!(read.call(json!({"path": "a/b.md"})).await.unwrap(), "x");
        let fixed_read = ReadFileTool { workspace: ws.clone(), file_path: Some("a/b.md".into()) };
        assert_eq!(fixed_read.definition().parameters["required"], json!([]));
        assert_eq!(fixed_read.call(json!({})).await.unwrap(), "x");
        assert_eq!(read.call(json!({"file_path": "a/b.md"})).await.unwrap(), "x");
        let fixed_list = ListDirectoryTool { workspace: ws, directory: Some("a".into()) };
        assert_eq!(fixed_list.call(json!({})).await.unwrap(), "b.md");
        assert_eq!(fixed_list.call(json!({"directory": "."})).await.unwrap(), "a/");
    }

    #[test]
    fn long_listings_are_cut() {
        let names: Vec<String> = (0..MAX_LISTED + 5).map(|i| format!("f{i:05}")).collect();
        let text = listing(&names);
        assert_eq!(text.lines().count(), MAX_LISTED + 1);
        assert!(text.ends_with("… and 5 more"), "{}", &text[text.len() - 30..]);
        assert_eq!(listing(&names[..2]), "f00000\nf00001");
    }
}
