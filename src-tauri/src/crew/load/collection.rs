//! Agents or tasks written as a mapping (`key: {fields}`) or as a list of mappings naming
//! themselves (`- name: key`), read in document order.

use crate::crew::diagnostic::Findings;
use crate::crew::document::Node;
use crate::crew::entries::{read_agent, read_task};
use crate::crew::fields::Fields;
use crate::crew::origin::Origin;
use crate::crew::{AgentSpec, TaskSpec};

/// The fields a list item may name itself by, in order of preference.
const NAME_FIELDS: &[&str] = &["name", "key", "id"];

/// One member of a collection: its key, its fields' node, where it is.
pub(crate) struct Member<'a> {
    pub key: String,
    pub node: &'a Node,
    pub origin: Origin,
    /// Keys the item used to name itself (not unknown fields).
    pub naming: &'static [&'static str],
}

/// The members of `node` (a mapping or a list), in order. `origin` is the collection's; a member's
/// path is `<collection>.<key>`, or `<collection>[i]` when a list item has no name.
pub(crate) fn members<'a>(node: &'a Node, origin: &Origin, findings: &mut Findings) -> Vec<Member<'a>> {
    match node {
        Node::Null => Vec::new(),
        Node::Map(entries) => entries
            .iter()
            .map(|(key, value)| Member { key: key.clone(), node: value, origin: origin.child(key, key), naming: &[] })
            .collect(),
        Node::List(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if !matches!(item, Node::Map(_)) {
                    let at = Origin::new(origin.source.clone(), format!("{}[{i}]", origin.path), origin.keys.clone());
                    findings.error(at.whole(format!("expected a mapping of fields, found {}", item.kind())));
                    continue;
                }
                let name = NAME_FIELDS.iter().find_map(|f| match item.get(f) {
                    Some(Node::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                    Some(Node::Number(n)) => Some(n.to_string()),
                    _ => None,
                });
                match name {
                    Some(key) => {
                        let child = origin.child(&key, &key);
                        out.push(Member { key, node: item, origin: child, naming: NAME_FIELDS });
                    }
                    None => findings.error(
                        Origin::new(origin.source.clone(), format!("{}[{i}]", origin.path), origin.keys.clone())
                            .whole("a list item needs a `name`, `key` or `id`"),
                    ),
                }
            }
            out
        }
        other => {
            findings.error(origin.whole(format!("expected a mapping or a list, found {}", other.kind())));
            Vec::new()
        }
    }
}

/// Reads every agent in `node`.
pub(crate) fn agents(node: &Node, origin: &Origin, findings: &mut Findings) -> Vec<(AgentSpec, Origin)> {
    members(node, origin, findings)
        .into_iter()
        .filter_map(|m| {
            let fields = Fields::of(m.node, m.origin.clone(), findings)?;
            Some((read_agent(&m.key, &fields, m.naming, findings), m.origin))
        })
        .collect()
}

/// Reads every task in `node`.
pub(crate) fn tasks(node: &Node, origin: &Origin, findings: &mut Findings) -> Vec<(TaskSpec, Origin)> {
    members(node, origin, findings)
        .into_iter()
        .filter_map(|m| {
            let fields = Fields::of(m.node, m.origin.clone(), findings)?;
            Some((read_task(&m.key, &fields, m.naming, findings), m.origin))
        })
        .collect()
}
