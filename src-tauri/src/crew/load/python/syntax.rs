//! A Python file's parts that a CrewAI project's meaning rests on, read with tree-sitter's Python
//! grammar: decorated methods (`@agent`, `@task`, `@crew`) and the call they return, every
//! `name = value` assignment (with the function it is in), and class definitions with their
//! annotated fields (Pydantic models). Nothing is executed.
//!
//! Expressions become [`Expr`]: literals, names, calls with their keyword arguments (each with its
//! line), and the source text of anything else.

use tree_sitter::{Node, Parser};

/// Why a Python file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyntaxError {
    /// The Python grammar could not be loaded into the parser (a tree-sitter version mismatch).
    #[error("the Python grammar could not be loaded: {0}")]
    Grammar(String),
    /// The parser gave no tree (it was cancelled or timed out).
    #[error("the file could not be parsed")]
    NoTree,
}

/// A Python expression as far as we read it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A string literal (adjacent literals joined; an f-string without `{…}` fields counts).
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    /// A list or tuple display.
    List(Vec<Expr>),
    /// A dict display.
    Dict(Vec<(Expr, Expr)>),
    /// A name or dotted name: `x`, `self.agents`, `Process.sequential`.
    Name(String),
    /// A call of a named (dotted) function.
    Call(Call),
    /// `value[index]` on a named value: `self.agents_config['researcher']`.
    Subscript {
        value: String,
        index: Box<Expr>,
    },
    /// Anything else, as its source text (whitespace runs folded to one space).
    Other(String),
}

/// `func(args…, name=value…)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    /// The called name as written (`Agent`, `crewai_tools.FileReadTool`, `self.researcher`).
    pub func: String,
    pub args: Vec<Expr>,
    pub kwargs: Vec<Kwarg>,
    /// 1-based line of the call.
    pub line: u32,
}

/// One keyword argument.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Kwarg {
    pub name: String,
    pub value: Expr,
    /// The value's source text, for messages.
    pub text: String,
    /// 1-based line of the argument.
    pub line: u32,
}

impl Call {
    /// The last part of the called name (`FileReadTool` for `crewai_tools.FileReadTool`).
    pub fn short_name(&self) -> &str {
        self.func.rsplit('.').next().unwrap_or(&self.func)
    }

    /// The value of the keyword argument `name`, if given.
    pub fn kwarg(&self, name: &str) -> Option<&Expr> {
        self.kwargs.iter().find(|k| k.name == name).map(|k| &k.value)
    }
}

/// A method decorated `@<decorator>` whose body returns a call.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Decorated {
    pub decorator: String,
    pub method: String,
    /// The call in its first `return` that returns one.
    pub call: Option<Call>,
    /// 1-based line of the method's `def`.
    pub line: u32,
}

/// `target = value` (annotated or not; only a single name as target). A class attribute's target
/// is `self.<name>`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Assignment {
    pub target: String,
    pub value: Expr,
    /// The function the assignment is in (`None` at module or class level).
    pub function: Option<String>,
    pub line: u32,
}

/// A class definition and its annotated fields.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClassDef {
    pub name: String,
    /// Base classes as written (`BaseModel`, `pydantic.BaseModel`).
    pub bases: Vec<String>,
    pub fields: Vec<ClassField>,
}

/// `name: annotation = default` in a class body.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClassField {
    pub name: String,
    /// The annotation's source text (`list[str] | None`).
    pub annotation: String,
    pub default: Option<Expr>,
}

/// What one Python file defines, in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PyFile {
    pub decorated: Vec<Decorated>,
    pub assignments: Vec<Assignment>,
    pub classes: Vec<ClassDef>,
    /// Lines (1-based) where the parser met text it could not read.
    pub error_lines: Vec<u32>,
}

/// Parses `text` as Python.
pub(crate) fn parse(text: &str) -> Result<PyFile, SyntaxError> {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_python::LANGUAGE.into()).map_err(|e| SyntaxError::Grammar(e.to_string()))?;
    let tree = parser.parse(text, None).ok_or(SyntaxError::NoTree)?;
    let mut reader = Reader { src: text.as_bytes(), out: PyFile::default() };
    reader.walk(tree.root_node(), None, false);
    Ok(reader.out)
}

struct Reader<'s> {
    src: &'s [u8],
    out: PyFile,
}

fn line(node: Node) -> u32 {
    node.start_position().row as u32 + 1
}

impl Reader<'_> {
    /// The node's source text, whitespace runs folded to one space (for names and messages).
    fn text(&self, node: Node) -> String {
        self.raw(node).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The node's source text as written.
    fn raw(&self, node: Node) -> &str {
        node.utf8_text(self.src).unwrap_or("")
    }

    /// Visits `node`'s statements; `function` is the enclosing function, `in_class` whether the
    /// statements are a class body.
    fn walk(&mut self, node: Node, function: Option<&str>, in_class: bool) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "ERROR" => self.out.error_lines.push(line(child)),
                "decorated_definition" => self.decorated(child, function),
                "function_definition" => self.function(child),
                "class_definition" => self.class(child, function),
                "expression_statement" => self.statement(child, function, in_class),
                "if_statement" | "try_statement" | "with_statement" | "for_statement" | "while_statement" | "block" | "else_clause"
                | "elif_clause" | "except_clause" | "finally_clause" | "with_clause" => self.walk(child, function, false),
                _ => {}
            }
        }
    }

    fn function(&mut self, node: Node) {
        let name = node.child_by_field_name("name").map(|n| self.text(n)).unwrap_or_default();
        if let Some(body) = node.child_by_field_name("body") {
            self.walk(body, Some(&name), false);
        }
    }

    fn decorated(&mut self, node: Node, function: Option<&str>) {
        let Some(definition) = node.child_by_field_name("definition") else { return };
        if definition.kind() == "class_definition" {
            self.class(definition, function);
            return;
        }
        let mut cursor = node.walk();
        let decorators: Vec<String> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "decorator")
            .map(|d| self.text(d).trim_start_matches('@').trim().to_string())
            .collect();
        let method = definition.child_by_field_name("name").map(|n| self.text(n)).unwrap_or_default();
        let call = definition.child_by_field_name("body").and_then(|b| self.returned_call(b));
        for decorator in decorators {
            let decorator = decorator.split('(').next().unwrap_or("").rsplit('.').next().unwrap_or("").to_string();
            self.out.decorated.push(Decorated { decorator, method: method.clone(), call: call.clone(), line: line(definition) });
        }
        self.function(definition);
    }

    /// The call in the first `return <call>` under `node` (nested blocks included).
    fn returned_call(&self, node: Node) -> Option<Call> {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            if child.kind() == "return_statement" {
                let mut c = child.walk();
                let value = child.named_children(&mut c).next();
                if let Some(Expr::Call(call)) = value.map(|v| self.expr(v)) {
                    return Some(call);
                }
            } else if !matches!(child.kind(), "function_definition" | "class_definition" | "decorated_definition") {
                if let Some(call) = self.returned_call(child) {
                    return Some(call);
                }
            }
        }
        None
    }

    fn class(&mut self, node: Node, function: Option<&str>) {
        let name = node.child_by_field_name("name").map(|n| self.text(n)).unwrap_or_default();
        let bases = match node.child_by_field_name("superclasses") {
            Some(list) => {
                let mut c = list.walk();
                list.named_children(&mut c).filter(|b| b.kind() != "keyword_argument").map(|b| self.text(b)).collect()
            }
            None => Vec::new(),
        };
        let mut fields = Vec::new();
        if let Some(body) = node.child_by_field_name("body") {
            let mut cursor = body.walk();
            for statement in body.named_children(&mut cursor) {
                if statement.kind() != "expression_statement" {
                    continue;
                }
                let mut c = statement.walk();
                for assignment in statement.named_children(&mut c).filter(|a| a.kind() == "assignment") {
                    let (Some(left), Some(annotation)) = (assignment.child_by_field_name("left"), assignment.child_by_field_name("type"))
                    else {
                        continue;
                    };
                    if left.kind() != "identifier" {
                        continue;
                    }
                    fields.push(ClassField {
                        name: self.text(left),
                        annotation: self.text(annotation),
                        default: assignment.child_by_field_name("right").map(|r| self.expr(r)),
                    });
                }
            }
            self.walk(body, function, true);
        }
        self.out.classes.push(ClassDef { name, bases, fields });
    }

    fn statement(&mut self, node: Node, function: Option<&str>, in_class: bool) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            if child.kind() != "assignment" {
                continue;
            }
            let (Some(left), Some(right)) = (child.child_by_field_name("left"), child.child_by_field_name("right")) else {
                continue;
            };
            if left.kind() != "identifier" {
                continue;
            }
            // A class attribute is what its methods call `self.<name>`.
            let target = if in_class { format!("self.{}", self.text(left)) } else { self.text(left) };
            self.out.assignments.push(Assignment {
                target,
                value: self.expr(right),
                function: function.map(str::to_string),
                line: line(child),
            });
        }
    }

    /// The [`Expr`] of an expression node.
    fn expr(&self, node: Node) -> Expr {
        let text = || self.text(node);
        match node.kind() {
            "string" => super::literal::string(self.raw(node)).map(Expr::Str).unwrap_or_else(|| Expr::Other(text())),
            "concatenated_string" => {
                let mut cursor = node.walk();
                let parts: Option<Vec<String>> = node.named_children(&mut cursor).map(|s| super::literal::string(self.raw(s))).collect();
                parts.map(|p| Expr::Str(p.concat())).unwrap_or_else(|| Expr::Other(text()))
            }
            "integer" => super::literal::integer(&text()).map(Expr::Int).unwrap_or_else(|| Expr::Other(text())),
            "float" => text().replace('_', "").parse().map(Expr::Float).unwrap_or_else(|_| Expr::Other(text())),
            "true" => Expr::Bool(true),
            "false" => Expr::Bool(false),
            "none" => Expr::None,
            "identifier" => Expr::Name(text()),
            "attribute" => {
                let object = node.child_by_field_name("object").map(|o| self.expr(o));
                match object {
                    Some(Expr::Name(base)) => {
                        let attribute = node.child_by_field_name("attribute").map(|a| self.text(a)).unwrap_or_default();
                        Expr::Name(format!("{base}.{attribute}"))
                    }
                    _ => Expr::Other(text()),
                }
            }
            "parenthesized_expression" => {
                let mut cursor = node.walk();
                let inner = node.named_children(&mut cursor).find(|c| c.kind() != "comment");
                inner.map(|i| self.expr(i)).unwrap_or_else(|| Expr::Other(text()))
            }
            "unary_operator" => {
                let operator = node.child_by_field_name("operator").map(|o| self.text(o));
                match (operator.as_deref(), node.child_by_field_name("argument").map(|a| self.expr(a))) {
                    (Some("-"), Some(Expr::Int(i))) => Expr::Int(-i),
                    (Some("-"), Some(Expr::Float(f))) => Expr::Float(-f),
                    _ => Expr::Other(text()),
                }
            }
            "list" | "tuple" => {
                let mut cursor = node.walk();
                Expr::List(node.named_children(&mut cursor).filter(|c| c.kind() != "comment").map(|c| self.expr(c)).collect())
            }
            "dictionary" => {
                let mut cursor = node.walk();
                let mut pairs = Vec::new();
                for pair in node.named_children(&mut cursor) {
                    match (pair.kind(), pair.child_by_field_name("key"), pair.child_by_field_name("value")) {
                        ("pair", Some(k), Some(v)) => pairs.push((self.expr(k), self.expr(v))),
                        ("comment", _, _) => {}
                        _ => return Expr::Other(text()),
                    }
                }
                Expr::Dict(pairs)
            }
            "subscript" => {
                let value = node.child_by_field_name("value").map(|v| self.expr(v));
                match (value, node.child_by_field_name("subscript")) {
                    (Some(Expr::Name(value)), Some(index)) => Expr::Subscript { value, index: Box::new(self.expr(index)) },
                    _ => Expr::Other(text()),
                }
            }
            "call" => self.call(node).map(Expr::Call).unwrap_or_else(|| Expr::Other(text())),
            _ => Expr::Other(text()),
        }
    }

    fn call(&self, node: Node) -> Option<Call> {
        let Expr::Name(func) = self.expr(node.child_by_field_name("function")?) else { return None };
        let arguments = node.child_by_field_name("arguments")?;
        if arguments.kind() != "argument_list" {
            return None;
        }
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let mut cursor = arguments.walk();
        for a in arguments.named_children(&mut cursor) {
            match a.kind() {
                "comment" => {}
                "keyword_argument" => {
                    let (Some(name), Some(value)) = (a.child_by_field_name("name"), a.child_by_field_name("value")) else {
                        continue;
                    };
                    kwargs.push(Kwarg { name: self.text(name), value: self.expr(value), text: self.text(value), line: line(a) });
                }
                "dictionary_splat" => {
                    kwargs.push(Kwarg { name: "**".into(), value: Expr::Other(self.text(a)), text: self.text(a), line: line(a) })
                }
                _ => args.push(self.expr(a)),
            }
        }
        Some(Call { func, args, kwargs, line: line(node) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_decorated_calls_with_their_keyword_arguments() {
        let py = parse(
            "class C:\n    @agent\n    def a(self) -> Agent:\n        return Agent(\n            config=self.agents_config['x'],  # note\n            tools=[FileReadTool(file_path='a.md')],\n            max_iter=-3,\n        )\n",
        )
        .unwrap();
        assert_eq!(py.decorated.len(), 1);
        let d = &py.decorated[0];
        assert_eq!((d.decorator.as_str(), d.method.as_str()), ("agent", "a"));
        let call = d.call.as_ref().unwrap();
        assert_eq!(call.func, "Agent");
        assert_eq!(
            call.kwargs.iter().map(|k| (k.name.as_str(), k.line)).collect::<Vec<_>>(),
            [("config", 5), ("tools", 6), ("max_iter", 7)]
        );
        assert_eq!(
            call.kwarg("config"),
            Some(&Expr::Subscript { value: "self.agents_config".into(), index: Box::new(Expr::Str("x".into())) })
        );
        assert_eq!(call.kwarg("max_iter"), Some(&Expr::Int(-3)));
        let Some(Expr::List(tools)) = call.kwarg("tools") else { panic!() };
        let Expr::Call(tool) = &tools[0] else { panic!() };
        assert_eq!(tool.kwarg("file_path"), Some(&Expr::Str("a.md".into())));
    }

    #[test]
    fn reads_assignments_and_classes() {
        let py = parse(
            "from pydantic import BaseModel\nclass M(BaseModel):\n    title: str\n    n: int | None = None\n\ndef run():\n    inputs = {'a': 1, \"b\": str(x)}\nt = Task(agent=a)\n",
        )
        .unwrap();
        assert_eq!(py.classes[0].name, "M");
        assert_eq!(py.classes[0].bases, ["BaseModel"]);
        assert_eq!(py.classes[0].fields[1].annotation, "int | None");
        assert_eq!(py.classes[0].fields[1].default, Some(Expr::None));
        let targets: Vec<&str> = py.assignments.iter().map(|a| a.target.as_str()).collect();
        assert_eq!(targets, ["self.n", "inputs", "t"], "a class attribute is `self.<name>`");
        assert_eq!(py.assignments[1].function.as_deref(), Some("run"));
        assert!(matches!(&py.assignments[2].value, Expr::Call(c) if c.func == "Task"));
    }
}
