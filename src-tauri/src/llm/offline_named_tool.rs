//! The offline model's generic tool use: when a task's description names an offered tool, call
//! it once, with arguments built from its JSON Schema and the task's text.
//!
//! Required properties are filled by type: a string gets the first quoted text (`"…"`, `'…'` or
//! `` `…` ``) of the description, else the whole description; numbers and integers get the
//! description's numbers in order (then 0); a boolean `true`; arrays `[]`; objects `{}`.
//! A property with an `enum` gets its first value.

use serde_json::{json, Map, Value};

use super::ToolDef;

/// The call to make: the first offered tool that `description` names as a word, that `used`
/// says was not called yet, and that `skip` does not exclude.
pub(crate) fn named_tool_call(
    tools: &[ToolDef],
    description: &str,
    used: impl Fn(&str) -> bool,
    skip: impl Fn(&str) -> bool,
) -> Option<(String, Value)> {
    let tool = tools.iter().find(|t| !skip(&t.name) && !used(&t.name) && names_word(description, &t.name))?;
    Some((tool.name.clone(), arguments_for(&tool.parameters, description)))
}

/// `text` holds `word` with no letter, digit or `_` on either side.
fn names_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// Arguments for `schema` (an object schema) drawn from `text`.
fn arguments_for(schema: &Value, text: &str) -> Value {
    let mut numbers = numbers_in(text).into_iter();
    let quoted = quoted_in(text).unwrap_or_else(|| text.trim().to_string());
    let mut args = Map::new();
    let required: Vec<&str> = schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    for name in required {
        let property = &schema["properties"][name];
        let value = if let Some(first) = property["enum"].as_array().and_then(|e| e.first()) {
            first.clone()
        } else {
            match property["type"].as_str().unwrap_or("string") {
                "integer" => json!(numbers.next().map(|n| n.trunc() as i64).unwrap_or(0)),
                "number" => json!(numbers.next().unwrap_or(0.0)),
                "boolean" => json!(true),
                "array" => json!([]),
                "object" => json!({}),
                _ => json!(quoted),
            }
        };
        args.insert(name.to_string(), value);
    }
    Value::Object(args)
}

fn numbers_in(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|w| w.trim_matches(|c| c == '.' || c == '-').parse::<f64>().ok())
        .collect()
}

fn quoted_in(text: &str) -> Option<String> {
    ['"', '\'', '`'].iter().find_map(|q| {
        let start = text.find(*q)? + 1;
        let len = text[start..].find(*q)?;
        Some(text[start..start + len].to_string()).filter(|s| !s.trim().is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, parameters: Value) -> ToolDef {
        ToolDef { name: name.into(), description: String::new(), parameters }
    }

    #[test]
    fn a_named_tool_is_called_with_arguments_from_its_schema() {
        let echo = def("echo", json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}));
        let add = def(
            "get-sum",
            json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}),
        );
        let tools = vec![echo, add];
        let call = named_tool_call(&tools, "Use echo to repeat \"hello there\".", |_| false, |_| false).unwrap();
        assert_eq!(call, ("echo".to_string(), json!({"message": "hello there"})));
        let call = named_tool_call(&tools, "Call get-sum on 2 and 3.5", |_| false, |_| false).unwrap();
        assert_eq!(call, ("get-sum".to_string(), json!({"a": 2.0, "b": 3.5})));
        assert_eq!(named_tool_call(&tools, "Use echo.", |n| n == "echo", |_| false), None, "called once");
        assert_eq!(named_tool_call(&tools, "an echoing hall", |_| false, |_| false), None, "whole words only");
    }
}
