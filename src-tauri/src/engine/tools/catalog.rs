//! Which built-in tool a crew's tool name means (`FileReadTool`, `read_file`, …).

/// The built-in tools a crew can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinTool {
    ReadFile,
    WriteFile,
    ListDirectory,
}

/// The built-in tool for a name as written in a crew: our names (`read_file`, `write_file`,
/// `list_directory`) or CrewAI's (`FileReadTool`, `FileWriterTool`, `DirectoryReadTool`), compared
/// ignoring case, `_` and `-`. `None` for anything else.
pub fn builtin_tool(name: &str) -> Option<BuiltinTool> {
    let norm: String = name.chars().filter(|c| *c != '_' && *c != '-' && !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    match norm.as_str() {
        "readfile" | "filereadtool" | "fileread" | "filereader" | "filereadertool" => Some(BuiltinTool::ReadFile),
        "writefile" | "filewritertool" | "filewritetool" | "filewriter" | "filewrite" => Some(BuiltinTool::WriteFile),
        "listdirectory" | "directoryreadtool" | "listdir" | "directoryread" | "directorylisttool" => Some(BuiltinTool::ListDirectory),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_our_names_and_crewai_names() {
        assert_eq!(builtin_tool("read_file"), Some(BuiltinTool::ReadFile));
        assert_eq!(builtin_tool("FileReadTool"), Some(BuiltinTool::ReadFile));
        assert_eq!(builtin_tool("FileWriterTool"), Some(BuiltinTool::WriteFile));
        assert_eq!(builtin_tool("write_file"), Some(BuiltinTool::WriteFile));
        assert_eq!(builtin_tool("DirectoryReadTool"), Some(BuiltinTool::ListDirectory));
        assert_eq!(builtin_tool("list_directory"), Some(BuiltinTool::ListDirectory));
        assert_eq!(builtin_tool("SerperDevTool"), None);
    }
}
