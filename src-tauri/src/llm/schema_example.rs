//! A value shaped like a JSON Schema, for the offline model's structured answers.
//!
//! Deterministic: strings come from the given words (cycled), numbers count up from the schema's
//! `minimum` (else 1), booleans are `true`. Handled: `type` (a name or a list: the first that is
//! not `null`), `properties` (every one), `items`, `minItems`, `enum`/`const` (the first value),
//! `anyOf`/`oneOf` (the first branch that is not `null`), `allOf` (branches merged),
//! `$ref` to `#/$defs/…` or `#/definitions/…`, and `format: date`/`date-time`/`email`/`uri`.
//! Nesting deeper than [`MAX_DEPTH`] (a recursive schema) ends in `null`.

use serde_json::{json, Map, Value};

/// The deepest nesting followed.
pub const MAX_DEPTH: usize = 8;

/// A value matching `schema` (for the schemas described in the module docs), its strings made of
/// `words` (`item` when there are none).
pub fn example_of(schema: &Value, words: &[String]) -> Value {
    let mut state = Example { root: schema, words, next: 0 };
    state.value(schema, 0)
}

struct Example<'a> {
    root: &'a Value,
    words: &'a [String],
    /// Counts values made, so strings and numbers vary.
    next: usize,
}

impl<'a> Example<'a> {
    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Some(obj) = schema.as_object() else { return json!("") };
        if let Some(target) = obj.get("$ref").and_then(Value::as_str).and_then(|r| resolve(self.root, r)) {
            return self.value(target, depth + 1);
        }
        if let Some(v) = obj.get("const") {
            return v.clone();
        }
        if let Some(first) = obj.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
            return first.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                let branch = branches.iter().find(|b| b.get("type").and_then(Value::as_str) != Some("null")).or(branches.first());
                if let Some(branch) = branch {
                    return self.value(branch, depth + 1);
                }
            }
        }
        if let Some(branches) = obj.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for branch in branches {
                if let Value::Object(part) = self.value(branch, depth + 1) {
                    merged.extend(part);
                }
            }
            return Value::Object(merged);
        }
        let kind = match obj.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
            _ if obj.contains_key("properties") => "object",
            _ if obj.contains_key("items") => "array",
            _ => "string",
        };
        self.next += 1;
        match kind {
            "object" => {
                let mut out = Map::new();
                if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                    for (name, sub) in props {
                        out.insert(name.clone(), self.value(sub, depth + 1));
                    }
                }
                Value::Object(out)
            }
            "array" => {
                let count = obj.get("minItems").and_then(Value::as_u64).unwrap_or(2).max(1) as usize;
                let items = obj.get("items").cloned().unwrap_or(json!({}));
                Value::Array((0..count).map(|_| self.value(&items, depth + 1)).collect())
            }
            "integer" => json!(obj.get("minimum").and_then(Value::as_i64).unwrap_or(1) + (self.next % 5) as i64),
            "number" => json!(obj.get("minimum").and_then(Value::as_f64).unwrap_or(1.0) + (self.next % 5) as f64 + 0.5),
            "boolean" => json!(true),
            "null" => Value::Null,
            _ => json!(self.string(obj.get("format").and_then(Value::as_str))),
        }
    }

    fn string(&self, format: Option<&str>) -> String {
        let word = |i: usize| self.words.get((self.next + i) % self.words.len().max(1)).cloned().unwrap_or_else(|| "item".to_string());
        match format {
            Some("date") => "2025-01-01".to_string(),
            Some("date-time") => "2025-01-01T00:00:00Z".to_string(),
            Some("email") => format!("{}@example.com", word(0).to_lowercase()),
            Some("uri") | Some("url") => format!("https://example.com/{}", word(0).to_lowercase()),
            _ => format!("{} {}", word(0), word(1)),
        }
    }
}

/// The schema a local `$ref` (`#/$defs/Day`) points at inside `root`.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let path = reference.strip_prefix("#/")?;
    path.split('/').try_fold(root, |node, part| node.get(part.replace("~1", "/").replace("~0", "~")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crew::output_schema::OutputSchema;

    fn words() -> Vec<String> {
        vec!["Rust".into(), "safety".into(), "speed".into()]
    }

    #[test]
    fn examples_match_their_schemas() {
        let schemas = [
            json!({"type": "object", "properties": {"title": {"type": "string"}, "score": {"type": "integer", "minimum": 3}}, "required": ["title", "score"]}),
            json!({"title": "Plan", "type": "object", "properties": {
                "days": {"type": "array", "items": {"$ref": "#/$defs/Day"}, "minItems": 3},
                "budget": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "kind": {"enum": ["trip", "stay"]},
                "start": {"type": "string", "format": "date"}
            }, "required": ["days", "budget", "kind"], "$defs": {"Day": {"type": "object", "properties": {"city": {"type": "string"}, "ok": {"type": "boolean"}}, "required": ["city", "ok"]}}}),
            json!({"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "object", "properties": {"b": {"type": ["null", "integer"]}}}]}),
        ];
        for schema in schemas {
            let value = example_of(&schema, &words());
            OutputSchema::compile(&schema).unwrap().check(&value).unwrap_or_else(|e| panic!("{value}: {e}"));
        }
    }

    #[test]
    fn strings_come_from_the_words_and_recursion_ends() {
        let v = example_of(&json!({"type": "object", "properties": {"title": {"type": "string"}}}), &words());
        let title = v["title"].as_str().unwrap();
        assert!(words().iter().any(|w| title.contains(w.as_str())), "{title}");
        let recursive =
            json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}});
        let v = example_of(&recursive, &[]);
        assert!(v.is_object());
        assert_eq!(example_of(&json!({"type": "string"}), &[]), json!("item item"));
    }
}
