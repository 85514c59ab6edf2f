//! A visual editor's graph: `{"nodes": [{"id", "type": "agent"|"task"|"crew", "data": {…}}],
//! "edges": [{"source", "target"}]}`.
//!
//! - An agent→task edge assigns the agent to the task (at most one per task; a task's
//!   `data.agent`, naming an agent node, may stand in for the edge).
//! - A task→task edge makes the source part of the target's context. In a graph the edges ARE the
//!   context: a task's context is exactly its incoming task edges, in node order, so a task with
//!   none has no context (`Some([])`), unlike a YAML task without a `context` field (which gets the
//!   earlier tasks' outputs). `data.context` is ignored, with a warning.
//! - Task order is topological over task→task edges, ties broken by node order.
//! - The crew node's `data` holds the crew settings (name, process, manager_llm, llm, inputs, …);
//!   without a name there, a top-level `name` names the crew, else the file stem.
//! - Agent keys and task keys are the node ids.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::crew::diagnostic::Findings;
use crate::crew::document::Node;
use crate::crew::draft::{Draft, DraftParts};
use crate::crew::entries::{read_agent, read_task};
use crate::crew::fields::{Fields, KeySet};
use crate::crew::origin::Origin;
use crate::crew::settings::{read_settings, CrewSettings};
use crate::crew::source::SourceText;
use crate::crew::{AgentSpec, CrewFormat, TaskSpec};

/// Keys a node's `data` may hold besides the CrewAI fields (editor labels).
const DATA_EXTRA: &[&str] = &["label"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Agent,
    Task,
    Crew,
}

struct GraphNode<'a> {
    index: usize,
    id: String,
    kind: Kind,
    data: Option<&'a Node>,
    origin: Origin,
}

impl GraphNode<'_> {
    fn data_origin(&self) -> Origin {
        self.origin.child("data", "data")
    }
}

/// Reads the graph in `root` (the parsed file at `path`, absolute).
pub(crate) fn read(root: &Node, source: Arc<SourceText>, path: &Path, findings: &mut Findings) -> Option<Draft> {
    let top = Origin::new(source.clone(), "", Vec::new());
    let fields = Fields::of(root, top.clone(), findings)?;
    fields.check_keys(&KeySet { known: &["nodes", "edges", "viewport", "name", "version"], unsupported: &[] }, findings);
    let nodes_origin = Origin::new(source.clone(), "nodes", vec!["nodes".into()]);
    let Some(Node::List(raw_nodes)) = fields.get("nodes") else {
        let found = fields.get("nodes").map(Node::kind).unwrap_or("nothing");
        findings.error(nodes_origin.whole(format!("expected a list of nodes, found {found}")));
        return None;
    };
    let nodes = read_nodes(raw_nodes, &source, findings);
    let by_id: BTreeMap<&str, &GraphNode> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();

    let (mut settings, settings_origin) = read_crew_node(&nodes, &top, findings);
    if settings.name.is_none() {
        settings.name = fields.string("name", findings).map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    }
    let edges = read_edges(fields.get("edges"), &source, &by_id, findings);

    let agents: Vec<(AgentSpec, Origin)> = nodes
        .iter()
        .filter(|n| n.kind == Kind::Agent)
        .filter_map(|n| {
            let fields = data_fields(n, findings)?;
            Some((read_agent(&n.id, &fields, DATA_EXTRA, findings), n.data_origin()))
        })
        .collect();

    let mut tasks: Vec<(usize, TaskSpec, Origin)> = Vec::new();
    for n in nodes.iter().filter(|n| n.kind == Kind::Task) {
        let Some(fields) = data_fields(n, findings) else {
            continue;
        };
        let mut task = read_task(&n.id, &fields, DATA_EXTRA, findings);
        if fields.get("context").is_some() {
            findings.warn(fields.origin.at("context", "ignored: in a graph, the task→task edges are the context"));
        }
        let edge_agents = edges.agents.get(n.id.as_str()).cloned().unwrap_or_default();
        match (edge_agents.as_slice(), &task.agent) {
            ([], _) => {}
            ([one], None) => task.agent = Some(one.clone()),
            ([one], Some(data_agent)) if one == data_agent => {}
            (several, data_agent) => {
                let mut names: Vec<String> = several.iter().map(|a| format!("`{a}`")).collect();
                if let Some(d) = data_agent.as_ref().filter(|d| !several.contains(d)) {
                    names.push(format!("`{d}` (data.agent)"));
                }
                findings.error(n.origin.whole(format!("several agents: {} (a task has one agent)", names.join(", "))));
            }
        }
        let mut context: Vec<&GraphNode> =
            edges.context.get(n.id.as_str()).into_iter().flatten().filter_map(|s| by_id.get(s.as_str()).copied()).collect();
        context.sort_by_key(|c| c.index);
        task.context = Some(context.iter().map(|c| c.id.clone()).collect());
        tasks.push((n.index, task, n.data_origin()));
    }
    let tasks = topological(tasks, findings);

    Some(Draft::assemble(DraftParts {
        format: CrewFormat::Graph,
        source: path.to_path_buf(),
        base_dir: path.parent().unwrap_or(path).to_path_buf(),
        default_name: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        settings,
        settings_origin,
        agents_origin: nodes_origin.clone(),
        tasks_origin: nodes_origin,
        agents,
        tasks,
        input_sources: Default::default(),
        env_file: None,
        env_vars: Vec::new(),
    }))
}

fn read_nodes<'a>(raw: &'a [Node], source: &Arc<SourceText>, findings: &mut Findings) -> Vec<GraphNode<'a>> {
    let mut out: Vec<GraphNode> = Vec::new();
    let mut first_index: HashMap<String, usize> = HashMap::new();
    for (i, node) in raw.iter().enumerate() {
        let bare = Origin::new(source.clone(), format!("nodes[{i}]"), vec!["nodes".into()]);
        if !matches!(node, Node::Map(_)) {
            findings.error(bare.whole(format!("expected a node object, found {}", node.kind())));
            continue;
        }
        let id = match node.get("id") {
            Some(Node::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Node::Number(n)) => n.to_string(),
            _ => {
                findings.error(bare.at("id", "a node needs an `id` (text)"));
                continue;
            }
        };
        let origin = Origin::new(source.clone(), format!("nodes[{i}] (id {id})"), vec!["nodes".into(), id.clone()]);
        let kind = match node.get("type") {
            Some(Node::String(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "agent" => Some(Kind::Agent),
                "task" => Some(Kind::Task),
                "crew" => Some(Kind::Crew),
                _ => None,
            },
            _ => None,
        };
        let Some(kind) = kind else {
            findings.error(origin.at("type", "a node's `type` must be `agent`, `task` or `crew`"));
            continue;
        };
        if let Some(first) = first_index.get(&id) {
            findings.error(origin.at("id", format!("duplicate node id `{id}` (also nodes[{first}])")));
            continue;
        }
        first_index.insert(id.clone(), i);
        out.push(GraphNode { index: i, id, kind, data: node.get("data"), origin });
    }
    out
}

fn data_fields<'a>(n: &'a GraphNode, findings: &mut Findings) -> Option<Fields<'a>> {
    match n.data {
        Some(data) => Fields::of(data, n.data_origin(), findings),
        None => {
            findings.error(n.origin.at("data", "a node needs `data` with its fields"));
            None
        }
    }
}

fn read_crew_node(nodes: &[GraphNode], top: &Origin, findings: &mut Findings) -> (CrewSettings, Origin) {
    let crews: Vec<&GraphNode> = nodes.iter().filter(|n| n.kind == Kind::Crew).collect();
    for extra in crews.iter().skip(1) {
        findings.error(extra.origin.whole(format!("more than one crew node (the first is `{}`)", crews[0].id)));
    }
    let Some(crew) = crews.first() else {
        return (CrewSettings::default(), top.clone());
    };
    let origin = crew.data_origin();
    match crew.data {
        None | Some(Node::Null) => (CrewSettings::default(), origin),
        Some(data) => match Fields::of(data, origin.clone(), findings) {
            Some(fields) => (read_settings(&fields, DATA_EXTRA, findings), origin),
            None => (CrewSettings::default(), origin),
        },
    }
}

/// What the edges say: task id -> agent ids (agent→task), task id -> source task ids (task→task).
#[derive(Default)]
struct Edges {
    agents: BTreeMap<String, Vec<String>>,
    context: BTreeMap<String, Vec<String>>,
}

fn read_edges(raw: Option<&Node>, source: &Arc<SourceText>, by_id: &BTreeMap<&str, &GraphNode>, findings: &mut Findings) -> Edges {
    let mut edges = Edges::default();
    let items = match raw {
        None | Some(Node::Null) => return edges,
        Some(Node::List(items)) => items,
        Some(other) => {
            let origin = Origin::new(source.clone(), "edges", vec!["edges".into()]);
            findings.error(origin.whole(format!("expected a list of edges, found {}", other.kind())));
            return edges;
        }
    };
    let mut seen = BTreeSet::new();
    let edges_line = source.line_of(&["edges"]).unwrap_or(1);
    for (i, edge) in items.iter().enumerate() {
        let line = source.line_of_nth(edges_line, "source", i);
        let origin = Origin::new(source.clone(), format!("edges[{i}]"), vec!["edges".into()]).at_line(line);
        let mut end = |field: &str| -> Option<&GraphNode> {
            let id = match edge.get(field) {
                Some(Node::String(s)) => s.trim().to_string(),
                Some(Node::Number(n)) => n.to_string(),
                _ => {
                    findings.error(origin.at(field, format!("an edge needs a `{field}` node id")));
                    return None;
                }
            };
            let node = by_id.get(id.as_str()).copied();
            if node.is_none() {
                findings.error(origin.at(field, format!("dangling edge: no node has id `{id}`")));
            }
            node
        };
        let (from, to) = (end("source"), end("target"));
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        if !seen.insert((from.id.clone(), to.id.clone())) {
            continue;
        }
        match (from.kind, to.kind) {
            (Kind::Agent, Kind::Task) => edges.agents.entry(to.id.clone()).or_default().push(from.id.clone()),
            (Kind::Task, Kind::Task) => edges.context.entry(to.id.clone()).or_default().push(from.id.clone()),
            (Kind::Agent, Kind::Agent) => {
                findings.error(origin.whole(format!(
                    "an edge from agent `{}` to agent `{}` is not allowed (edges go agent→task or task→task)",
                    from.id, to.id
                )))
            }
            (Kind::Task, Kind::Agent) => {
                findings.error(origin.whole(format!(
                    "an edge from task `{}` to agent `{}` is not allowed (edges go agent→task or task→task)",
                    from.id, to.id
                )))
            }
            _ => findings.warn(origin.whole("an edge to or from the crew node means nothing; ignored")),
        }
    }
    edges
}

/// `tasks` (node index, task, origin) in topological order over their contexts, ties broken by
/// node order. A cycle is an error naming it; its tasks then follow in node order, without context.
fn topological(mut tasks: Vec<(usize, TaskSpec, Origin)>, findings: &mut Findings) -> Vec<(TaskSpec, Origin)> {
    tasks.sort_by_key(|(i, _, _)| *i);
    let position: HashMap<&str, usize> = tasks.iter().enumerate().map(|(i, (_, t, _))| (t.key.as_str(), i)).collect();
    // waits[i]: the tasks i waits on; feeds[j]: the tasks waiting on j.
    let waits: Vec<Vec<usize>> =
        tasks.iter().map(|(_, t, _)| t.context.iter().flatten().filter_map(|c| position.get(c.as_str()).copied()).collect()).collect();
    let mut feeds: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (i, w) in waits.iter().enumerate() {
        for &j in w {
            feeds[j].push(i);
        }
    }
    let mut pending: Vec<usize> = waits.iter().map(Vec::len).collect();
    let mut ready: BinaryHeap<Reverse<usize>> = (0..tasks.len()).filter(|&i| pending[i] == 0).map(Reverse).collect();
    let mut order: Vec<usize> = Vec::with_capacity(tasks.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &k in &feeds[i] {
            pending[k] -= 1;
            if pending[k] == 0 {
                ready.push(Reverse(k));
            }
        }
    }
    drop(position);
    let stuck: Vec<usize> = (0..tasks.len()).filter(|&i| pending[i] > 0).collect();
    if let Some(&start) = stuck.first() {
        let cycle = find_cycle(&waits, &pending, start);
        let names: Vec<&str> = cycle.iter().map(|&i| tasks[i].1.key.as_str()).collect();
        findings.error(tasks[cycle[0]].2.whole(format!("cycle in task edges: {}", names.join(" -> "))));
        for &i in &stuck {
            tasks[i].1.context = Some(Vec::new());
        }
        order.extend(stuck);
    }
    let mut slots: Vec<Option<(TaskSpec, Origin)>> = tasks.into_iter().map(|(_, t, o)| Some((t, o))).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// A cycle among the stuck tasks (`pending > 0`), as indices in edge direction, the first repeated
/// at the end. Every stuck task waits on a stuck task, so walking those waits must repeat.
fn find_cycle(waits: &[Vec<usize>], pending: &[usize], start: usize) -> Vec<usize> {
    let mut on_path: HashMap<usize, usize> = HashMap::new();
    let mut path = vec![start];
    on_path.insert(start, 0);
    loop {
        let current = path[path.len() - 1];
        let Some(&next) = waits[current].iter().find(|&&j| pending[j] > 0) else {
            return path;
        };
        if let Some(&pos) = on_path.get(&next) {
            // path[pos..] each waits on the next; edges run the other way.
            let mut cycle: Vec<usize> = path[pos..].to_vec();
            cycle.reverse();
            cycle.push(cycle[0]);
            return cycle;
        }
        on_path.insert(next, path.len());
        path.push(next);
    }
}
