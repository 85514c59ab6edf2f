//! A crew file parsed into an order-preserving tree ([`Node`]), from YAML, JSON or JSONC.
//!
//! Mappings keep their order (task order is the order in `tasks.yaml`) and keep duplicate keys (so
//! the reader can report them). Parsing is bounded: serde_yaml and serde_json refuse nesting deeper
//! than 128 levels, serde_yaml refuses runaway alias expansion, and on top of that a document may
//! not expand to more than [`MAX_NODES`] values or [`MAX_STRING_BYTES`] bytes of strings (a
//! "billion laughs" file fails fast with an error instead of eating memory).

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::diagnostic::Diagnostic;
use super::flow_depth;
use super::jsonc;
use super::source::SourceText;

/// The largest YAML text parsed: libyaml holds every event of a document in memory (up to ~90
/// bytes per byte of text) before the node budget below can refuse it.
pub const MAX_YAML_BYTES: usize = 4 * 1024 * 1024;
/// Most values one document may hold after alias expansion.
pub const MAX_NODES: usize = 1_000_000;
/// Most bytes of string data one document may hold after alias expansion.
pub const MAX_STRING_BYTES: usize = 64 * 1024 * 1024;

/// A parsed value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    List(Vec<Node>),
    /// Entries in document order; duplicate keys are kept.
    Map(Vec<(String, Node)>),
}

/// The syntax a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    Yaml,
    Json,
    /// JSON with `//` and `/* */` comments and trailing commas.
    Jsonc,
}

impl Node {
    /// What kind of value this is, for messages ("a string", "a list", …).
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "a string",
            Node::List(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The first value under `key`, if this is a mapping holding it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// As a JSON value (duplicate keys: the last wins, as in JSON parsers).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.clone()),
            Node::List(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }
}

/// Parses `source` as `syntax`; a syntax error names the line (and column) where it is.
pub(crate) fn parse(source: &SourceText, syntax: Syntax) -> Result<Node, Diagnostic> {
    let budget = Budget::default();
    let result = match syntax {
        Syntax::Yaml => {
            if source.text.len() > MAX_YAML_BYTES {
                return Err(source.diag(format!(
                    "file is too large for YAML ({} bytes; YAML crews are limited to {MAX_YAML_BYTES} bytes, JSON ones to {})",
                    source.text.len(),
                    super::source::MAX_FILE_BYTES
                )));
            }
            if let Err(problem) = flow_depth::check(&source.text) {
                return Err(source.diag(problem.message()).at_line(Some(problem.line())));
            }
            let de = serde_yaml::Deserializer::from_str(&source.text);
            NodeSeed { budget: &budget }.deserialize(de).map(apply_merge_keys).map_err(|e| {
                let message = message_without_location(&e.to_string());
                match e.location() {
                    Some(l) => (message, Some(l.line() as u32), Some(l.column())),
                    // serde_yaml gives no place for runaway aliases: name the first alias.
                    None if message.contains("repetition limit") => (
                        "too many alias expansions (`*name` references, as in a \"billion laughs\" file)".to_string(),
                        first_alias_line(&source.text),
                        None,
                    ),
                    None => (message, None, None),
                }
            })
        }
        Syntax::Json => parse_json(&source.text, &budget),
        Syntax::Jsonc => parse_json(&jsonc::to_json(&source.text), &budget),
    };
    result.map_err(|(message, line, column)| {
        let what = match syntax {
            Syntax::Yaml => "YAML",
            Syntax::Json => "JSON",
            Syntax::Jsonc => "JSONC",
        };
        let at = column.map(|c| format!(" (column {c})")).unwrap_or_default();
        source.diag(format!("invalid {what}: {message}{at}")).at_line(line)
    })
}

/// YAML merge keys, as PyYAML (and so CrewAI) applies them: in a mapping, `<<: *base` (or a list
/// of mappings) adds the merged mappings' entries that the mapping does not have itself; among
/// several merged mappings the first one wins. Values are moved, never copied.
fn apply_merge_keys(node: Node) -> Node {
    match node {
        Node::Map(entries) => {
            let mut own: Vec<(String, Node)> = Vec::with_capacity(entries.len());
            let mut merged: Vec<(String, Node)> = Vec::new();
            for (key, value) in entries {
                let value = apply_merge_keys(value);
                match (key.as_str(), value) {
                    ("<<", Node::Map(m)) => merged.extend(m),
                    ("<<", Node::List(items)) if items.iter().all(|i| matches!(i, Node::Map(_))) => {
                        for item in items {
                            if let Node::Map(m) = item {
                                merged.extend(m);
                            }
                        }
                    }
                    (_, value) => own.push((key, value)),
                }
            }
            let mut present: HashSet<String> = own.iter().map(|(k, _)| k.clone()).collect();
            for (key, value) in merged {
                if present.insert(key.clone()) {
                    own.push((key, value));
                }
            }
            Node::Map(own)
        }
        Node::List(items) => Node::List(items.into_iter().map(apply_merge_keys).collect()),
        other => other,
    }
}

/// The 1-based line of the first alias (`*name` where a value starts).
fn first_alias_line(text: &str) -> Option<u32> {
    text.lines()
        .position(|line| {
            line.match_indices('*').any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + 1..].chars().next();
                matches!(before, None | Some(' ' | '[' | '{' | ',' | '\t'))
                    && after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
            })
        })
        .map(|i| i as u32 + 1)
}

type ParseFailure = (String, Option<u32>, Option<usize>);

fn parse_json(text: &str, budget: &Budget) -> Result<Node, ParseFailure> {
    let mut de = serde_json::Deserializer::from_str(text);
    let node = NodeSeed { budget }.deserialize(&mut de).and_then(|n| de.end().map(|_| n));
    node.map_err(|e| {
        let located = e.line() > 0;
        (message_without_location(&e.to_string()), located.then_some(e.line() as u32), located.then_some(e.column()))
    })
}

/// serde's messages end in " at line L column C"; we report the location separately.
fn message_without_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[derive(Default)]
struct Budget {
    nodes: Cell<usize>,
    string_bytes: Cell<usize>,
}

impl Budget {
    fn take_node<E: de::Error>(&self) -> Result<(), E> {
        let n = self.nodes.get() + 1;
        self.nodes.set(n);
        if n > MAX_NODES {
            return Err(E::custom(format!("document too large: more than {MAX_NODES} values (after alias expansion)")));
        }
        Ok(())
    }

    fn take_string<E: de::Error>(&self, len: usize) -> Result<(), E> {
        let n = self.string_bytes.get().saturating_add(len);
        self.string_bytes.set(n);
        if n > MAX_STRING_BYTES {
            return Err(E::custom(format!("document too large: more than {MAX_STRING_BYTES} bytes of text (after alias expansion)")));
        }
        Ok(())
    }
}

struct NodeSeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        self.budget.take_node()?;
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        self.budget.take_node()?;
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        self.budget.take_node()?;
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        self.budget.take_node()?;
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        self.budget.take_node()?;
        // NaN and infinities (YAML `.nan`, `.inf`) have no JSON number; keep them as text.
        Ok(serde_json::Number::from_f64(v).map(Node::Number).unwrap_or_else(|| Node::String(v.to_string())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        self.budget.take_node()?;
        self.budget.take_string(v.len())?;
        Ok(Node::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        self.budget.take_node()?;
        self.budget.take_string(v.len())?;
        Ok(Node::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        self.budget.take_node()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed { budget: self.budget })? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        self.budget.take_node()?;
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(NodeSeed { budget: self.budget })? {
            let key = match key {
                Node::String(s) => s,
                Node::Number(n) => n.to_string(),
                Node::Bool(b) => b.to_string(),
                Node::Null => "null".to_string(),
                other => return Err(de::Error::custom(format!("a mapping key must be text, not {}", other.kind()))),
            };
            let value = map.next_value_seed(NodeSeed { budget: self.budget })?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        Err(de::Error::custom("YAML tags (`!tag`) are not supported"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> SourceText {
        SourceText::new("crew.yaml", text)
    }

    #[test]
    fn keeps_order_and_duplicates() {
        let n = parse(&src("b: 1\na: [x, 2]\nb: ~\n"), Syntax::Yaml).unwrap();
        let Node::Map(entries) = n else { panic!("not a map") };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        let j = parse(&src(r#"{"z": 1, "a": {"q": true}, "z": 2}"#), Syntax::Json).unwrap();
        let Node::Map(entries) = j else { panic!("not a map") };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].0, "z");
    }

    #[test]
    fn merge_keys_are_applied() {
        let text = "base: &base {goal: G, backstory: B}\nother: &other {backstory: X, llm: offline}\n\
                    a:\n  <<: [*base, *other]\n  role: R\n  goal: mine\n";
        let n = parse(&src(text), Syntax::Yaml).unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(a.get("role"), Some(&Node::String("R".into())));
        assert_eq!(a.get("goal"), Some(&Node::String("mine".into())));
        assert_eq!(a.get("backstory"), Some(&Node::String("B".into())));
        assert_eq!(a.get("llm"), Some(&Node::String("offline".into())));
        assert_eq!(a.get("<<"), None);
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let e = parse(&src("a: 1\nb: [unclosed\n"), Syntax::Yaml).unwrap_err();
        assert_eq!(e.file, "crew.yaml");
        assert!(e.line.is_some(), "{e}");
        assert!(e.message.starts_with("invalid YAML"), "{e}");
        let e = parse(&src("{\n  \"a\": 1,\n  \"b\" 2\n}"), Syntax::Json).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.starts_with("invalid JSON"), "{e}");
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from("a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse(&src(&text), Syntax::Yaml).unwrap_err();
        assert!(e.message.contains("too many alias expansions"), "{e}");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn wide_alias_expansion_is_bounded() {
        // One big anchored list referenced many times: few alias jumps, many values.
        let big: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        let mut text = format!("a: &a [{}]\nb: [", big.join(","));
        text.push_str(&vec!["*a"; 400].join(","));
        text.push_str("]\n");
        let e = parse(&src(&text), Syntax::Yaml).unwrap_err();
        assert!(e.message.contains("too large") || e.message.contains("limit"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse(&src(&deep), Syntax::Yaml).unwrap_err();
        assert!(e.message.contains("nested deeper than"), "{e}");
        let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = parse(&src(&nested), Syntax::Yaml).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{e}");
        let e = parse(&src(&deep), Syntax::Json).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{e}");
    }

    #[test]
    fn big_yaml_is_refused_before_parsing() {
        let text = "- 1\n".repeat(MAX_YAML_BYTES / 4 + 1);
        let e = parse(&src(&text), Syntax::Yaml).unwrap_err();
        assert!(e.message.contains("too large for YAML"), "{e}");
    }

    #[test]
    fn tags_and_complex_keys_are_errors() {
        assert!(parse(&src("a: !foo 1\n"), Syntax::Yaml).is_err());
        assert!(parse(&src("? [a, b]\n: 1\n"), Syntax::Yaml).is_err());
    }
}
