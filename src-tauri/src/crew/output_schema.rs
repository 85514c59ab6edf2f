//! A task's `output_schema`: checking that it is a JSON Schema (at load time) and checking an
//! output against it (at run time).
//!
//! Schemas are compiled with the `jsonschema` crate without remote references: a `$ref` to a URL
//! fails to compile (nothing is fetched); `$ref`s inside the schema (`#/$defs/…`, as Pydantic
//! writes them) work.

use jsonschema::Validator;
use serde_json::Value;

use super::inputs::json_kind;

/// Most validation errors listed in one [`OutputSchemaError::Mismatch`].
const MAX_LISTED_ERRORS: usize = 5;

/// Why a schema or an output was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutputSchemaError {
    /// The schema is not a mapping, or does not compile as a JSON Schema (the reason follows).
    #[error("not a valid JSON Schema: {0}")]
    InvalidSchema(String),
    /// The output is not JSON at all (the parser's message follows).
    #[error("the output is not valid JSON: {0}")]
    NotJson(String),
    /// The output is JSON but does not match: up to five errors, each `at <path>: <reason>`,
    /// joined by `; ` (the path is `/` for the whole value).
    #[error("the output does not match the schema: {0}")]
    Mismatch(String),
}

/// A compiled `output_schema`.
pub struct OutputSchema {
    validator: Validator,
}

impl OutputSchema {
    /// Compiles `schema`. It must be a mapping and a valid JSON Schema (any draft the crate knows;
    /// the draft is read from `$schema`, else 2020-12).
    pub fn compile(schema: &Value) -> Result<OutputSchema, OutputSchemaError> {
        if !schema.is_object() {
            return Err(OutputSchemaError::InvalidSchema(format!("expected a mapping (a JSON object), found {}", json_kind(schema))));
        }
        let validator = jsonschema::validator_for(schema).map_err(|e| OutputSchemaError::InvalidSchema(e.to_string()))?;
        Ok(OutputSchema { validator })
    }

    /// `Ok` when `value` matches, else [`OutputSchemaError::Mismatch`] listing why.
    pub fn check(&self, value: &Value) -> Result<(), OutputSchemaError> {
        let errors: Vec<String> = self
            .validator
            .iter_errors(value)
            .map(|e| {
                let path = e.instance_path().to_string();
                format!("at {}: {e}", if path.is_empty() { "/" } else { path.as_str() })
            })
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        let mut listed = errors.iter().take(MAX_LISTED_ERRORS).cloned().collect::<Vec<_>>().join("; ");
        if errors.len() > MAX_LISTED_ERRORS {
            listed.push_str(&format!("; and {} more", errors.len() - MAX_LISTED_ERRORS));
        }
        Err(OutputSchemaError::Mismatch(listed))
    }

    /// Parses `text` as JSON and checks it: the parsed value, or why it fails.
    pub fn parse_and_check(&self, text: &str) -> Result<Value, OutputSchemaError> {
        let value: Value = serde_json::from_str(text).map_err(|e| OutputSchemaError::NotJson(e.to_string()))?;
        self.check(&value)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn report() -> OutputSchema {
        OutputSchema::compile(&json!({
            "type": "object",
            "properties": {"title": {"type": "string"}, "score": {"type": "integer"}},
            "required": ["title", "score"]
        }))
        .unwrap()
    }

    #[test]
    fn a_matching_output_passes_and_a_mismatch_names_the_path() {
        let s = report();
        assert_eq!(s.parse_and_check(r#"{"title": "T", "score": 3}"#).unwrap(), json!({"title": "T", "score": 3}));
        let err = s.parse_and_check(r#"{"title": 5, "score": 3}"#).unwrap_err();
        let OutputSchemaError::Mismatch(text) = &err else { panic!("{err:?}") };
        assert!(text.contains("at /title") && text.contains("string"), "{text}");
        let err = s.parse_and_check(r#"{"title": "T"}"#).unwrap_err();
        assert!(err.to_string().contains("at /:") && err.to_string().contains("score"), "{err}");
        assert!(matches!(s.parse_and_check("not json"), Err(OutputSchemaError::NotJson(_))));
    }

    #[test]
    fn a_schema_that_does_not_compile_is_refused() {
        assert!(matches!(OutputSchema::compile(&json!("Report")), Err(OutputSchemaError::InvalidSchema(m)) if m.contains("a string")));
        assert!(matches!(OutputSchema::compile(&json!({"type": "nonsense"})), Err(OutputSchemaError::InvalidSchema(_))));
        assert!(matches!(OutputSchema::compile(&json!({"$ref": "https://example.com/s.json"})), Err(OutputSchemaError::InvalidSchema(_))));
    }

    #[test]
    fn many_errors_are_capped() {
        let props: serde_json::Map<String, Value> = (0..8).map(|i| (format!("k{i}"), json!({"type": "string"}))).collect();
        let s = OutputSchema::compile(&json!({"type": "object", "properties": props})).unwrap();
        let bad: serde_json::Map<String, Value> = (0..8).map(|i| (format!("k{i}"), json!(i))).collect();
        let err = s.check(&Value::Object(bad)).unwrap_err().to_string();
        assert!(err.ends_with("; and 3 more"), "{err}");
    }
}
