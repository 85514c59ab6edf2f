//! Python literals for generated source: strings and JSON values, pure ASCII so any text (quotes,
//! backslashes, newlines, non-ASCII, control characters) round-trips whatever the file's encoding.

use std::fmt::Write;

/// `text` as a double-quoted Python `str` literal: `"` and `\` escaped, `\n` `\r` `\t` kept short,
/// other control characters as `\xNN`, non-ASCII as `\uNNNN` or `\UNNNNNNNN`.
pub fn python_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32).expect("writing to a String"),
            c if (c as u32) < 0x10000 => write!(out, "\\u{:04x}", c as u32).expect("writing to a String"),
            c => write!(out, "\\U{:08x}", c as u32).expect("writing to a String"),
        }
    }
    out.push('"');
    out
}

/// `value` as a Python literal: objects as dicts, arrays as lists, `true`/`false`/`null` as
/// `True`/`False`/`None`, numbers as written by JSON (valid Python for every finite number).
pub fn python_value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => python_str(s),
        Value::Array(items) => format!("[{}]", items.iter().map(python_value).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            format!("{{{}}}", map.iter().map(|(k, v)| format!("{}: {}", python_str(k), python_value(v))).collect::<Vec<_>>().join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_everything_python_would_misread() {
        assert_eq!(python_str("plain {topic}"), "\"plain {topic}\"");
        assert_eq!(python_str("say \"hi\" \\ ok"), r#""say \"hi\" \\ ok""#);
        assert_eq!(python_str("a\nb\r\tc"), r#""a\nb\r\tc""#);
        assert_eq!(python_str("nul\0 del\x7f"), r#""nul\x00 del\x7f""#);
        assert_eq!(python_str("café"), r#""caf\xe9""#);
        assert_eq!(python_str("line\u{2028}sep"), r#""line\u2028sep""#);
        assert_eq!(python_str("🐝"), r#""\U0001f41d""#);
        assert_eq!(python_str(r"\u0041 stays text"), r#""\\u0041 stays text""#);
        assert_eq!(python_str("'''"), "\"'''\"");
        assert!(python_str("any \u{1}\u{85}\u{ffff} text").is_ascii());
    }

    #[test]
    fn json_values_become_python_literals() {
        let v = serde_json::json!({"n": 3, "x": 1.5, "ok": true, "no": false, "none": null, "list": ["a\"", -2e-7], "nested": {"k": []}});
        assert_eq!(
            python_value(&v),
            r#"{"list": ["a\"", -2e-7], "n": 3, "nested": {"k": []}, "no": False, "none": None, "ok": True, "x": 1.5}"#
        );
    }
}
