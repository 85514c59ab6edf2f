//! `{placeholder}` inputs, as CrewAI fills them.
//!
//! A placeholder is `{name}` where `name` is an identifier (`[A-Za-z_][A-Za-z0-9_-]*`). Anything else
//! in braces (JSON such as `{"a": 1}`, `{ }`, `{{`) is left untouched.

use std::collections::{BTreeMap, BTreeSet};

use super::CrewSpec;

/// Inputs named by placeholders that have no value; lists every one at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing inputs: {}", .missing.iter().cloned().collect::<Vec<_>>().join(", "))]
pub struct MissingInputs {
    pub missing: BTreeSet<String>,
}

/// The placeholder names in `text`, in order of first appearance, each once.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    scan(text, |name| {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        None
    });
    out
}

/// `text` with every placeholder that has a value in `inputs` replaced; others are left as they are.
pub fn fill(text: &str, inputs: &BTreeMap<String, serde_json::Value>) -> String {
    scan(text, |name| inputs.get(name).map(input_text))
}

/// How an input value reads inside a prompt: strings as they are, everything else as JSON.
pub fn input_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every input the crew's text fields name (role, goal, backstory, description, expected_output,
/// output_file), sorted.
pub fn required_inputs(spec: &CrewSpec) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for_each_text(spec, |t| names.extend(placeholders(t)));
    names
}

/// The crew with every placeholder filled from `inputs` (merged over the crew's defaults).
///
/// Fails, listing all of them, when any placeholder has no value.
pub fn interpolate(spec: &CrewSpec, inputs: &BTreeMap<String, serde_json::Value>) -> Result<CrewSpec, MissingInputs> {
    let mut merged = spec.inputs.clone();
    merged.extend(inputs.iter().map(|(k, v)| (k.clone(), v.clone())));
    let missing: BTreeSet<String> = required_inputs(spec).into_iter().filter(|n| !merged.contains_key(n)).collect();
    if !missing.is_empty() {
        return Err(MissingInputs { missing });
    }
    let mut out = spec.clone();
    for a in &mut out.agents {
        a.role = fill(&a.role, &merged);
        a.goal = fill(&a.goal, &merged);
        a.backstory = fill(&a.backstory, &merged);
    }
    for t in &mut out.tasks {
        t.description = fill(&t.description, &merged);
        t.expected_output = fill(&t.expected_output, &merged);
        t.output_file = t.output_file.as_deref().map(|f| fill(f, &merged));
    }
    out.inputs = merged;
    Ok(out)
}

fn for_each_text(spec: &CrewSpec, mut f: impl FnMut(&str)) {
    for a in &spec.agents {
        f(&a.role);
        f(&a.goal);
        f(&a.backstory);
    }
    for t in &spec.tasks {
        f(&t.description);
        f(&t.expected_output);
        if let Some(o) = &t.output_file {
            f(o);
        }
    }
}

/// Walks `text`, calling `on_name` for each placeholder; a `Some` return replaces it.
fn scan(text: &str, mut on_name: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let end = after.find('}');
        let name = end.map(|e| &after[..e]).filter(|n| is_identifier(n));
        match (name, end) {
            (Some(name), Some(e)) => {
                match on_name(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..open + e + 2]),
                }
                rest = &after[e + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_identifiers_and_leaves_json_alone() {
        let t = r#"Research {topic} for {year}; reply as {"answer": 1} or { } or {{x}} and {topic} again"#;
        assert_eq!(placeholders(t), vec!["topic", "year", "x"]);
        let inputs = BTreeMap::from([("topic".to_string(), json!("Rust")), ("year".to_string(), json!(2026))]);
        assert_eq!(fill(t, &inputs), r#"Research Rust for 2026; reply as {"answer": 1} or { } or {{x}} and Rust again"#);
    }

    #[test]
    fn unclosed_brace_is_text() {
        assert_eq!(placeholders("a {b"), Vec::<String>::new());
        assert_eq!(fill("a {b", &BTreeMap::new()), "a {b");
    }
}
