//! A crew file parsed into an order-preserving tree ([`Node`]), from YAML, JSON or JSONC.
//!
//! Mappings keep their order (task order is the order in `tasks.yaml`) and keep duplicate keys (so
//! the reader can report them). Parsing is bounded: YAML (serde-saphyr's budget) and JSON refuse
//! nesting deeper than 128 levels, YAML refuses runaway alias expansion, and on top of that a document may
//! not expand to more than [`MAX_NODES`] values or [`MAX_STRING_BYTES`] bytes of strings (a
//! "billion laughs" file fails fast with an error instead of eating memory).

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::diagnostic::Diagnostic;
use super::jsonc;
use super::source::SourceText;

/// The largest YAML text parsed (a crew is a few KB; the budget below bounds what aliases expand).
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
    let result = match syntax {
        Syntax::Yaml => {
            if source.text.len() > MAX_YAML_BYTES {
                return Err(source.diag(format!(
                    "file is too large for YAML ({} bytes; YAML crews are limited to {MAX_YAML_BYTES} bytes, JSON ones to {})",
                    source.text.len(),
                    super::source::MAX_FILE_BYTES
                )));
            }
            on_parser_stack(|| parse_yaml(&source.text, &Budget::default()))
        }
        Syntax::Json => parse_json(&source.text, &Budget::default()),
        Syntax::Jsonc => parse_json(&jsonc::to_json(&source.text), &Budget::default()),
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

/// Most nested mappings and lists in YAML (as serde_json's recursion limit for JSON).
const MAX_YAML_DEPTH: usize = 128;
/// Most events aliases may replay in one document (a "billion laughs" file fails fast).
const MAX_ALIAS_EVENTS: usize = 200_000;

/// YAML with `serde-saphyr` (pure Rust, no unsafe): YAML 1.2 scalars (`yes` is text, as in
/// JSON), merge keys applied as PyYAML (and so CrewAI) does (a mapping's own keys win, then the
/// first merged mapping), duplicate keys passed through (the reader reports them), tags other than
/// YAML's own refused, and the crate's budget (nesting depth, nodes, events, alias replays) on top
/// of ours (values and bytes of text after alias expansion).
fn parse_yaml(text: &str, budget: &Budget) -> Result<Node, ParseFailure> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.reject_unsupported_tags = true;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options.merge_keys = serde_saphyr::MergeKeyPolicy::Merge;
    options.with_snippet = false;
    let mut limits = serde_saphyr::Budget::default();
    limits.max_depth = MAX_YAML_DEPTH;
    limits.flow_nesting_limit = MAX_YAML_DEPTH;
    limits.max_nodes = MAX_NODES;
    limits.max_events = 4 * MAX_NODES;
    // Ours (MAX_STRING_BYTES) answers first, with the path of the value at fault.
    limits.max_total_scalar_bytes = 2 * MAX_STRING_BYTES;
    options.budget = Some(limits);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    let path = RefCell::new(Vec::new());
    let parsed =
        serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| NodeSeed { budget, path: &path }.deserialize(de));
    parsed.map_err(|e| {
        let place = e.location().map(|l| (l.line() as u32, l.column() as usize));
        // serde-saphyr appends every place (" at line L, column C (defined at …)"): we report one.
        let full = e.to_string();
        let message = full.find(" at line ").map_or(full.as_str(), |i| &full[..i]).trim_end_matches(" (defined").to_string();
        let message = match message.strip_prefix("unsupported tag ") {
            Some(tag) => format!("YAML tags are not supported (found {tag})"),
            None => message,
        };
        if let Some(breach) = message.strip_prefix("budget breached: ") {
            return budget_failure(breach, text, place);
        }
        if message.starts_with("recursion limit exceeded") {
            return budget_failure("Depth", text, place);
        }
        if message.starts_with("alias replay") {
            return budget_failure("Alias replay", text, place);
        }
        let path: String = path.borrow().concat();
        let path = path.trim_start_matches('.');
        let message = if path.is_empty() || message.starts_with(path) { message } else { format!("{path}: {message}") };
        (message, place.map(|p| p.0), place.map(|p| p.1))
    })
}

/// The stack [`on_parser_stack`] gives the YAML parser: its recursion (a few KB a nesting level
/// in a debug build, up to [`MAX_YAML_DEPTH`] levels) must not depend on the caller's stack
/// (tokio's blocking threads and test threads have 2 MB).
const PARSER_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Runs `parse` on a thread of its own with a [`PARSER_STACK_BYTES`] stack (reserved, not
/// committed: pages are only used as deep as the document goes), and waits for it. A thread that
/// cannot be started (the process is out of threads) is a failure saying so.
fn on_parser_stack(parse: impl FnOnce() -> Result<Node, ParseFailure> + Send) -> Result<Node, ParseFailure> {
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new().name("yaml-parser".into()).stack_size(PARSER_STACK_BYTES);
        match parser.spawn_scoped(scope, parse) {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err((format!("cannot start the YAML parser's thread: {e}"), None, None)),
        }
    })
}

/// Our message for a breach of serde-saphyr's budget (`Depth { depth: 129 }`, `Nodes { … }`, …).
fn budget_failure(breach: &str, text: &str, place: Option<(u32, usize)>) -> ParseFailure {
    let line = place.map(|p| p.0);
    if breach.starts_with("Depth") {
        return (format!("nested deeper than {MAX_YAML_DEPTH} levels (recursion limit exceeded)"), line, place.map(|p| p.1));
    }
    let aliased = breach.contains("lias") || breach.contains("nchor") || breach.contains("eplay");
    if aliased || (breach.starts_with("Nodes") && first_alias_line(text).is_some()) {
        // The crate places the breach where the expansion gave out: name the first alias instead.
        return (
            "too many alias expansions (`*name` references, as in a \"billion laughs\" file)".to_string(),
            first_alias_line(text),
            None,
        );
    }
    (format!("document too large ({})", breach.split(" at line ").next().unwrap_or(breach).trim()), line, None)
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
    let path = RefCell::new(Vec::new());
    let node = NodeSeed { budget, path: &path }.deserialize(&mut de).and_then(|n| de.end().map(|_| n));
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
    /// Where the value being read is (`.agents`, `[3]`, …): on a failure, what is left is the
    /// path to the value at fault.
    path: &'b RefCell<Vec<String>>,
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
        loop {
            self.path.borrow_mut().push(format!("[{}]", items.len()));
            let Some(item) = seq.next_element_seed(NodeSeed { budget: self.budget, path: self.path })? else {
                self.path.borrow_mut().pop();
                break;
            };
            self.path.borrow_mut().pop();
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        self.budget.take_node()?;
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed { budget: self.budget })? {
            self.path.borrow_mut().push(format!(".{key}"));
            let value = map.next_value_seed(NodeSeed { budget: self.budget, path: self.path })?;
            self.path.borrow_mut().pop();
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        Err(de::Error::custom("YAML tags (`!tag`) are not supported"))
    }
}

/// Reads a mapping key: text, or a number, boolean or null written as text. A list or mapping
/// as a key is refused where it is read, so the error carries its place.
struct KeySeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key (text)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok("null".to_string())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.budget.take_string(v.len())?;
        Ok(v.to_string())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        self.budget.take_string(v.len())?;
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<String, A::Error> {
        Err(de::Error::custom("a mapping key must be text, not a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<String, A::Error> {
        Err(de::Error::custom("a mapping key must be text, not a mapping"))
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
        assert!(e.message.contains("too large") || e.message.contains("too many alias expansions"), "{e}");
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
