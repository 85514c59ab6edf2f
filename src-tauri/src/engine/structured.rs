//! Structured outputs: what a task with an `output_schema` asks the model for, and how its answer
//! is read and checked.
//!
//! - The schema is stated in the prompt ([`expected_output_with_schema`]) and sent as the request's
//!   [`ResponseSchema`] (the client decides whether the endpoint gets `response_format`).
//! - The answer's JSON is read as CrewAI's converter reads it: the whole answer (without a code
//!   fence), else the first `{` to the last `}` in it.
//! - The parsed value must match the schema; the stored output is the JSON text as read.
//!
//! [`expected_output_with_schema`]: super::prompts::expected_output_with_schema

use serde_json::Value;

use super::react::strip_code_fence;
use crate::crew::output_schema::{OutputSchema, OutputSchemaError};
use crate::crew::TaskSpec;
use crate::execution::{ErrorKind, ExecutionError};
use crate::llm::ResponseSchema;

/// The longest schema name OpenAI accepts.
const MAX_NAME: usize = 64;

/// The [`ResponseSchema`] for `task`: its `output_schema` named after the schema's `title` (a
/// Pydantic model's class name), else after the task key; `None` without a schema.
pub fn response_schema(task: &TaskSpec) -> Option<ResponseSchema> {
    let schema = task.output_schema.as_ref()?;
    let title = schema.get("title").and_then(Value::as_str).unwrap_or(&task.key);
    Some(ResponseSchema { name: schema_name(title), schema: schema.clone() })
}

/// `text` as a schema name: letters, digits, `_` and `-` kept, anything else `_`, at most 64
/// characters; `output` when nothing is left.
pub fn schema_name(text: &str) -> String {
    let name: String =
        text.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).take(MAX_NAME).collect();
    if name.is_empty() {
        "output".to_string()
    } else {
        name
    }
}

/// The JSON text in `answer`: the answer without a surrounding code fence when that parses, else
/// the span from its first `{` to its last `}` when that parses, else the unfenced answer (which
/// then fails to parse, with the parser's message).
pub fn json_text(answer: &str) -> &str {
    let body = strip_code_fence(answer);
    if serde_json::from_str::<Value>(body).is_ok() {
        return body;
    }
    match (body.find('{'), body.rfind('}')) {
        (Some(start), Some(end)) if start < end && serde_json::from_str::<Value>(&body[start..=end]).is_ok() => &body[start..=end],
        _ => body,
    }
}

/// Reads `answer` against `schema`: the stored text (the JSON as read) and the parsed value, or
/// why it does not match.
pub fn structured_output(schema: &OutputSchema, answer: &str) -> Result<(String, Value), OutputSchemaError> {
    let text = json_text(answer);
    let value = schema.parse_and_check(text)?;
    Ok((text.to_string(), value))
}

/// Compiles `task`'s schema for checking answers; a schema that does not compile (possible only
/// in a hand-edited snapshot: loading checks it) fails the task as an invalid crew.
pub fn compiled_schema(task: &TaskSpec) -> Result<Option<OutputSchema>, ExecutionError> {
    let Some(schema) = &task.output_schema else { return Ok(None) };
    OutputSchema::compile(schema).map(Some).map_err(|e| {
        ExecutionError::new(ErrorKind::InvalidCrew, format!("task `{}`: output_schema is {e}", task.key))
            .with_details(serde_json::json!({"task": task.key}))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::test_support::task;

    #[test]
    fn the_schema_is_named_after_its_title_else_the_task() {
        let mut t = task("write_report", Some("a"));
        assert_eq!(response_schema(&t), None);
        t.output_schema = Some(json!({"type": "object"}));
        assert_eq!(response_schema(&t).unwrap().name, "write_report");
        t.output_schema = Some(json!({"title": "Travel Plan!", "type": "object"}));
        let r = response_schema(&t).unwrap();
        assert_eq!(r.name, "Travel_Plan_");
        assert_eq!(r.schema["title"], "Travel Plan!");
        assert_eq!(schema_name(""), "output");
        assert_eq!(schema_name(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn json_is_read_from_fences_and_surrounding_prose() {
        assert_eq!(json_text("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(json_text("Here it is: {\"a\": {\"b\": 2}} — done."), "{\"a\": {\"b\": 2}}");
        assert_eq!(json_text("[1, 2]"), "[1, 2]");
        assert_eq!(json_text("no json {here"), "no json {here");
    }

    #[test]
    fn an_answer_is_checked_against_the_schema() {
        let schema = OutputSchema::compile(&json!({"type": "object", "required": ["title"]})).unwrap();
        let (text, value) = structured_output(&schema, "Final: {\"title\": \"T\"}").unwrap();
        assert_eq!(text, "{\"title\": \"T\"}");
        assert_eq!(value, json!({"title": "T"}));
        assert!(matches!(structured_output(&schema, "{}"), Err(OutputSchemaError::Mismatch(_))));
        assert!(matches!(structured_output(&schema, "nothing"), Err(OutputSchemaError::NotJson(_))));
    }

    #[test]
    fn a_broken_schema_in_a_snapshot_fails_as_an_invalid_crew() {
        let mut t = task("t", Some("a"));
        assert!(compiled_schema(&t).unwrap().is_none());
        t.output_schema = Some(json!({"type": 5}));
        let err = compiled_schema(&t).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidCrew);
        assert!(err.message.contains("output_schema"), "{}", err.message);
    }
}
