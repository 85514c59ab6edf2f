//! Kickoff inputs from the command line and from files.
//!
//! - `--input k=v`: [`parse_input_pair`].
//! - `--inputs FILE.json`: [`read_inputs_json`], one JSON object.
//! - `--inputs-file FILE.jsonl|FILE.csv`: [`read_inputs_rows`], one set of inputs per row.

mod csv;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::source::{read_text, MAX_FILE_BYTES};

/// One set of inputs: name -> value.
pub type Inputs = BTreeMap<String, Value>;

/// Inputs that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputsError {
    /// A `KEY=VALUE` argument without `=` or with an empty key.
    #[error("invalid input `{pair}`: expected KEY=VALUE")]
    Pair { pair: String },
    /// An inputs file that cannot be used: unreadable, too large, not text, bad syntax, wrong
    /// shape. `line` is the 1-based line where known.
    #[error("{}", FileLocation { file, line: *line, message })]
    File { file: String, line: Option<u32>, message: String },
}

struct FileLocation<'a> {
    file: &'a str,
    line: Option<u32>,
    message: &'a str,
}

impl fmt::Display for FileLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

fn file_error(path: &Path, line: Option<u32>, message: impl Into<String>) -> InputsError {
    InputsError::File { file: path.display().to_string(), line, message: message.into() }
}

/// `"k=v"` as `(k, v)`. The key is trimmed; the value (everything after the first `=`) is JSON when
/// it parses as a JSON number, boolean, array or object, else the text as it is (`"null"` and
/// quoted strings stay text: `k="x"` gives the three characters `"x"`).
pub fn parse_input_pair(pair: &str) -> Result<(String, Value), InputsError> {
    let Some((key, value)) = pair.split_once('=') else {
        return Err(InputsError::Pair { pair: pair.to_string() });
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(InputsError::Pair { pair: pair.to_string() });
    }
    let value = match serde_json::from_str::<Value>(value.trim()) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => v,
        _ => Value::String(value.to_string()),
    };
    Ok((key.to_string(), value))
}

/// The JSON object in `path` (at most [`MAX_FILE_BYTES`]).
pub fn read_inputs_json(path: &Path) -> Result<Inputs, InputsError> {
    let text = read(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| json_error(path, None, &e))?;
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        other => Err(file_error(path, None, format!("expected a JSON object of inputs, found {}", json_kind(&other)))),
    }
}

/// One set of inputs per row: `.jsonl`/`.ndjson` (one JSON object per line; blank lines skipped)
/// or `.csv` (a header row of names, then one row per set; values are text). Errors name the line.
pub fn read_inputs_rows(path: &Path) -> Result<Vec<Inputs>, InputsError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let text = read(path)?;
    match ext.as_str() {
        "jsonl" | "ndjson" => jsonl_rows(path, &text),
        "csv" => csv_rows(path, &text),
        _ => Err(file_error(path, None, "expected a .jsonl or .csv inputs file")),
    }
}

fn read(path: &Path) -> Result<String, InputsError> {
    read_text(path, MAX_FILE_BYTES).map_err(|e| file_error(path, e.line, e.message))
}

fn jsonl_rows(path: &Path, text: &str) -> Result<Vec<Inputs>, InputsError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => rows.push(map.into_iter().collect()),
            Ok(other) => return Err(file_error(path, Some(n), format!("expected a JSON object, found {}", json_kind(&other)))),
            Err(e) => return Err(json_error(path, Some(n), &e)),
        }
    }
    if rows.is_empty() {
        return Err(file_error(path, None, "no rows of inputs"));
    }
    Ok(rows)
}

fn csv_rows(path: &Path, text: &str) -> Result<Vec<Inputs>, InputsError> {
    let records = csv::records(text).map_err(|e| file_error(path, Some(e.line), e.message))?;
    let mut records = records.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err(file_error(path, None, "empty: expected a header row of input names"));
    };
    let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
    if let Some(i) = header.iter().position(String::is_empty) {
        return Err(file_error(path, Some(header_line), format!("column {} has no name", i + 1)));
    }
    if let Some((i, h)) = header.iter().enumerate().find(|(i, h)| header[..*i].contains(h)) {
        return Err(file_error(path, Some(header_line), format!("column {} repeats the name `{h}`", i + 1)));
    }
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != header.len() {
            return Err(file_error(path, Some(line), format!("{} values for {} columns", fields.len(), header.len())));
        }
        rows.push(header.iter().cloned().zip(fields.into_iter().map(Value::String)).collect());
    }
    if rows.is_empty() {
        return Err(file_error(path, None, "no rows of inputs after the header"));
    }
    Ok(rows)
}

fn json_error(path: &Path, line: Option<u32>, e: &serde_json::Error) -> InputsError {
    let line = line.or((e.line() > 0).then_some(e.line() as u32));
    let message = e.to_string();
    let message = message.rfind(" at line ").map(|i| message[..i].to_string()).unwrap_or(message);
    file_error(path, line, format!("invalid JSON: {message}"))
}

/// What kind of JSON value `v` is, for messages ("a string", "an object", …).
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pairs() {
        assert_eq!(parse_input_pair("topic=AI agents").unwrap(), ("topic".into(), json!("AI agents")));
        assert_eq!(parse_input_pair("n=3").unwrap(), ("n".into(), json!(3)));
        assert_eq!(parse_input_pair("ok=true").unwrap(), ("ok".into(), json!(true)));
        assert_eq!(parse_input_pair("xs=[1,2]").unwrap(), ("xs".into(), json!([1, 2])));
        assert_eq!(parse_input_pair("o={\"a\":1}").unwrap(), ("o".into(), json!({"a": 1})));
        assert_eq!(parse_input_pair("s=\"q\"").unwrap(), ("s".into(), json!("\"q\"")));
        assert_eq!(parse_input_pair("eq=a=b").unwrap(), ("eq".into(), json!("a=b")));
        assert_eq!(parse_input_pair("empty=").unwrap(), ("empty".into(), json!("")));
        assert!(matches!(parse_input_pair("novalue"), Err(InputsError::Pair { .. })));
        assert!(matches!(parse_input_pair("=x"), Err(InputsError::Pair { .. })));
    }

    #[test]
    fn json_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.json");
        std::fs::write(&p, r#"{"topic": "Rust", "n": 2}"#).unwrap();
        let inputs = read_inputs_json(&p).unwrap();
        assert_eq!(inputs["topic"], json!("Rust"));
        assert_eq!(inputs["n"], json!(2));
        std::fs::write(&p, "[1]").unwrap();
        let e = read_inputs_json(&p).unwrap_err().to_string();
        assert!(e.contains("in.json") && e.contains("expected a JSON object"), "{e}");
        std::fs::write(&p, "{\n\"a\": 1,\n\"b\": }").unwrap();
        let e = read_inputs_json(&p).unwrap_err();
        assert!(matches!(&e, InputsError::File { line: Some(3), .. }), "{e}");
    }

    #[test]
    fn jsonl_rows_name_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rows.jsonl");
        std::fs::write(&p, "{\"topic\": \"a\"}\n\n{\"topic\": \"b\", \"n\": 1}\n").unwrap();
        let rows = read_inputs_rows(&p).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["n"], json!(1));
        std::fs::write(&p, "{\"topic\": \"a\"}\n[2]\n").unwrap();
        let e = read_inputs_rows(&p).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:2:", p.display())), "{e}");
        std::fs::write(&p, "{\"topic\": \"a\"}\n{oops\n").unwrap();
        let e = read_inputs_rows(&p).unwrap_err().to_string();
        assert!(e.contains(":2: invalid JSON"), "{e}");
    }

    #[test]
    fn csv_rows_are_text_keyed_by_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rows.csv");
        std::fs::write(&p, "topic,year\n\"Rust, async\",2026\nGo,\"20\"\"26\"\n").unwrap();
        let rows = read_inputs_rows(&p).unwrap();
        assert_eq!(rows[0]["topic"], json!("Rust, async"));
        assert_eq!(rows[0]["year"], json!("2026"));
        assert_eq!(rows[1]["year"], json!("20\"26"));
        std::fs::write(&p, "topic,year\na,1\nb\n").unwrap();
        let e = read_inputs_rows(&p).unwrap_err().to_string();
        assert!(e.contains("rows.csv:3: 1 values for 2 columns"), "{e}");
        std::fs::write(&p, "").unwrap();
        assert!(read_inputs_rows(&p).unwrap_err().to_string().contains("header"));
        let txt = dir.path().join("rows.txt");
        std::fs::write(&txt, "a").unwrap();
        assert!(read_inputs_rows(&txt).is_err());
    }
}
