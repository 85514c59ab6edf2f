//! Pydantic models defined in a project's Python files, as JSON Schemas.
//!
//! A model is a class whose bases include `BaseModel` (or another model found here). Each annotated
//! field is a property; its type is read from the annotation's text: `str`, `int`, `float`, `bool`,
//! `list[T]`/`List[T]`/`set[T]`/`tuple[T, ...]`, `dict`/`Dict[str, T]`, `Optional[T]`, `T | None`,
//! `Union[…]`, `Any`, `Literal[…]`, and other models (nested, inlined). A field with a default
//! (`= value` or `Field(default=…)`) is not required; `Field(description=…)` becomes the
//! property's `description`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::literal::to_json;
use super::syntax::{ClassDef, Expr};

/// Nested models deeper than this are described as `{"type": "object"}` (a cycle ends there).
const MAX_DEPTH: usize = 8;

/// The project's Pydantic models, by class name.
pub(crate) struct Models<'a> {
    classes: BTreeMap<&'a str, &'a ClassDef>,
}

impl<'a> Models<'a> {
    /// The models among `classes` (of every file of the project).
    pub fn of(classes: impl IntoIterator<Item = &'a ClassDef>) -> Self {
        let all: Vec<&ClassDef> = classes.into_iter().collect();
        let mut models: BTreeMap<&str, &ClassDef> = BTreeMap::new();
        // A class is a model when a base is `BaseModel` or a model already found; repeat until
        // nothing is added (bases may come later in the files).
        loop {
            let before = models.len();
            for &c in &all {
                let is_model = c.bases.iter().any(|b| {
                    let short = b.rsplit('.').next().unwrap_or(b);
                    short == "BaseModel" || models.contains_key(short)
                });
                if is_model {
                    models.entry(c.name.as_str()).or_insert(c);
                }
            }
            if models.len() == before {
                break;
            }
        }
        Models { classes: models }
    }

    /// The JSON Schema of the model `name`; `None` when no model has that name.
    pub fn schema(&self, name: &str) -> Option<Value> {
        let class = self.classes.get(name)?;
        Some(self.object(class, 0))
    }

    fn object(&self, class: &ClassDef, depth: usize) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut fields: Vec<&super::syntax::ClassField> = Vec::new();
        // Inherited fields first, as Pydantic orders them.
        for base in &class.bases {
            if let Some(parent) = self.classes.get(base.rsplit('.').next().unwrap_or(base)) {
                if depth < MAX_DEPTH {
                    fields.extend(parent.fields.iter());
                }
            }
        }
        fields.extend(class.fields.iter());
        for field in fields {
            if field.annotation.starts_with("ClassVar") || field.name.starts_with('_') || field.name == "model_config" {
                continue;
            }
            let mut schema = self.annotation(&field.annotation, depth);
            let (has_default, description) = default_and_description(field.default.as_ref());
            if let (Some(d), Value::Object(map)) = (description, &mut schema) {
                map.insert("description".into(), Value::String(d));
            }
            let literal_default = field.default.as_ref().filter(|d| !matches!(d, Expr::Call(_))).and_then(to_json);
            if let (Some(value), Value::Object(map)) = (literal_default, &mut schema) {
                map.insert("default".into(), value);
            }
            if !has_default {
                required.push(Value::String(field.name.clone()));
            }
            properties.insert(field.name.clone(), schema);
        }
        let mut out = json!({"type": "object", "title": class.name, "properties": properties});
        if !required.is_empty() {
            out["required"] = Value::Array(required);
        }
        out
    }

    /// The schema of a type annotation's text.
    fn annotation(&self, text: &str, depth: usize) -> Value {
        let text = text.trim();
        // `A | B | None`: split at top-level bars.
        let alternatives = split_top(text, '|');
        if alternatives.len() > 1 {
            return self.union(&alternatives, depth);
        }
        let (head, params) = match text.find('[') {
            Some(i) if text.ends_with(']') => (text[..i].trim(), split_top(&text[i + 1..text.len() - 1], ',')),
            _ => (text, Vec::new()),
        };
        let head = head.rsplit('.').next().unwrap_or(head);
        let param = |i: usize| params.get(i).map(|p| self.annotation(p, depth + 1)).unwrap_or_else(|| json!({}));
        match head {
            "str" => json!({"type": "string"}),
            "int" => json!({"type": "integer"}),
            "float" => json!({"type": "number"}),
            "bool" => json!({"type": "boolean"}),
            "list" | "List" | "set" | "Set" | "Sequence" | "frozenset" => json!({"type": "array", "items": param(0)}),
            "tuple" | "Tuple" => json!({"type": "array", "items": param(0)}),
            "dict" | "Dict" | "Mapping" => match params.len() {
                2 => json!({"type": "object", "additionalProperties": param(1)}),
                _ => json!({"type": "object"}),
            },
            "Optional" => self.union(&[params.first().copied().unwrap_or("Any"), "None"], depth),
            "Union" => self.union(&params, depth),
            "Literal" => {
                let values: Vec<Value> = params.iter().filter_map(|p| super::literal::string(p).map(Value::String)).collect();
                json!({"enum": values})
            }
            "None" | "NoneType" => json!({"type": "null"}),
            "Annotated" => param(0),
            "Any" | "object" | "" => json!({}),
            name => match self.classes.get(name) {
                Some(class) if depth < MAX_DEPTH => self.object(class, depth + 1),
                _ => json!({}),
            },
        }
    }

    fn union(&self, alternatives: &[&str], depth: usize) -> Value {
        let schemas: Vec<Value> = alternatives.iter().map(|a| self.annotation(a, depth)).collect();
        // `T | None` with a simple `T`: `{"type": [T, "null"]}`.
        let null = json!({"type": "null"});
        if schemas.len() == 2 && schemas.contains(&null) {
            let simple = schemas.iter().find(|s| **s != null).and_then(Value::as_object).filter(|o| o.len() == 1);
            if let Some(Value::String(t)) = simple.and_then(|o| o.get("type")) {
                return json!({"type": [t, "null"]});
            }
        }
        json!({"anyOf": schemas})
    }
}

/// Whether a field's default makes it optional, and its `Field(description=…)`.
fn default_and_description(default: Option<&Expr>) -> (bool, Option<String>) {
    match default {
        None => (false, None),
        Some(Expr::Call(c)) if c.short_name() == "Field" => {
            let description = match c.kwarg("description") {
                Some(Expr::Str(d)) => Some(d.clone()),
                _ => None,
            };
            // `Field(...)` / `Field()` without a default is still required.
            let positional_default = c.args.first().is_some_and(|a| !matches!(a, Expr::Other(t) if t == "..."));
            let has_default = positional_default || c.kwarg("default").is_some() || c.kwarg("default_factory").is_some();
            (has_default, description)
        }
        Some(_) => (true, None),
    }
}

/// `text` split at `sep` outside brackets, each part trimmed.
fn split_top(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::syntax::parse;
    use super::*;

    #[test]
    fn a_model_with_nested_models_optional_fields_and_descriptions() {
        let py = parse(
            r#"
from typing import List, Optional
from pydantic import BaseModel, Field

class Section(BaseModel):
    heading: str
    bullets: List[str] = []

class Report(BaseModel):
    title: str = Field(description="The report's title")
    year: int
    score: float | None = None
    tags: Optional[list[str]]
    sections: list[Section]
    meta: dict
    done: bool = Field(default=False, description="Finished?")
"#,
        )
        .unwrap();
        let models = Models::of(&py.classes);
        let schema = models.schema("Report").unwrap();
        assert_eq!(schema["required"], json!(["title", "year", "tags", "sections", "meta"]));
        assert_eq!(schema["properties"]["title"], json!({"type": "string", "description": "The report's title"}));
        assert_eq!(schema["properties"]["score"], json!({"type": ["number", "null"], "default": null}));
        assert_eq!(schema["properties"]["tags"], json!({"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]}));
        let section = &schema["properties"]["sections"]["items"];
        assert_eq!(section["properties"]["heading"], json!({"type": "string"}));
        assert_eq!(section["required"], json!(["heading"]));
        assert_eq!(schema["properties"]["meta"], json!({"type": "object"}));
        assert_eq!(schema["properties"]["done"], json!({"type": "boolean", "description": "Finished?"}));
        assert!(models.schema("List").is_none());
        // The engine checks outputs against it: it must compile.
        assert!(crate::crew::output_schema::OutputSchema::compile(&schema).is_ok());
    }
}
