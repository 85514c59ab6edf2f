//! [`CrewGraph`]: a normalised crew as nodes and edges (agents, tasks, the hierarchical manager,
//! tools and MCP servers), each loader warning pinned to the node it concerns. The desktop app
//! draws it in New run and Run detail; `validate --json` prints it.

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;

use super::diagnostic::CrewWarning;
use super::mcp::McpTarget;
use super::spec::{CrewSpec, Process, ToolUse};

/// What a [`GraphNode`] stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An agent of the crew (`agent:<key>`).
    Agent,
    /// A task of the crew (`task:<key>`).
    Task,
    /// The manager of a hierarchical crew (`manager`): built in, or the crew's `manager_agent`.
    Manager,
    /// A tool an agent or a task is given, by canonical name (`tool:<name>`).
    Tool,
    /// An MCP server agents attach with `mcps:` (`mcp:<name or URL>`).
    McpServer,
}

/// What a [`GraphEdge`] means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Task → the agent that performs it (→ the manager when a hierarchical crew's task names none).
    Performs,
    /// Task → a later task that reads its output.
    Context,
    /// Manager → an agent it may delegate to (a coworker).
    Delegates,
    /// Agent or task → a tool or MCP server it uses.
    Uses,
}

/// One node of a [`CrewGraph`].
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct GraphNode {
    /// Unique in the graph: `agent:<key>`, `task:<key>`, `manager`, `tool:<name>`, `mcp:<server>`.
    pub id: String,
    /// What the node stands for.
    pub kind: NodeKind,
    /// What to show: an agent's role, a task's key, a tool's or server's name.
    pub label: String,
    /// The crew's key for it (agent or task key, tool or server name); `None` for a built-in manager.
    pub key: Option<String>,
    /// For tasks: the index of the [`AsyncGroup`] the task belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub async_group: Option<usize>,
    /// The loader's warnings about this node, in the order given.
    pub warnings: Vec<CrewWarning>,
}

/// One edge of a [`CrewGraph`], between two node ids.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct GraphEdge {
    /// The id of the node the edge leaves.
    pub from: String,
    /// The id of the node the edge enters.
    pub to: String,
    /// What the edge means.
    pub kind: EdgeKind,
    /// A `context` edge that stands for "all earlier tasks' outputs" (the task sets no `context`;
    /// drawn from the task just before, or for an async task from the one before its group, as
    /// the tasks of a group do not see each other's outputs); a `uses` edge to one tool of an MCP server names it here
    /// as `#tool`. `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
}

/// Consecutive `async_execution` tasks: they run together; the next synchronous task waits for them.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct AsyncGroup {
    /// The tasks' node ids, in execution order (at least one).
    pub tasks: Vec<String>,
}

/// A crew as a graph: nodes in a stable order (manager, agents, tasks in execution order, tools,
/// MCP servers), edges, async groups, and the warnings no node is named by.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct CrewGraph {
    /// Each id once.
    pub nodes: Vec<GraphNode>,
    /// Between ids of `nodes`, each once, in the order found (tasks in execution order).
    pub edges: Vec<GraphEdge>,
    /// In execution order; a task node's `async_group` indexes this list.
    pub async_groups: Vec<AsyncGroup>,
    /// Warnings about the crew as a whole (or naming nothing in the graph).
    pub warnings: Vec<CrewWarning>,
}

/// The `note` of a `context` edge standing for all earlier tasks.
pub const ALL_EARLIER_TASKS: &str = "all earlier tasks";

impl CrewGraph {
    /// The graph of `spec`, with each of `warnings` pinned to the node its `field` names
    /// (`agents.<key>…`, `tasks.<key>…`, `nodes[i] (id <key>)…`, `mcp_servers.<name>…`,
    /// `manager_agent`/`manager_llm`; the longest matching key wins) and the others kept in
    /// [`CrewGraph::warnings`].
    pub fn build(spec: &CrewSpec, warnings: &[CrewWarning]) -> CrewGraph {
        let mut graph = CrewGraph { nodes: Vec::new(), edges: Vec::new(), async_groups: Vec::new(), warnings: Vec::new() };
        let hierarchical = spec.process == Process::Hierarchical;
        let manager_agent = spec.manager_agent.as_deref().filter(|k| hierarchical && spec.agent(k).is_some());
        if hierarchical {
            let label = match manager_agent.and_then(|k| spec.agent(k)) {
                Some(a) => format!("Manager: {}", a.role.trim()),
                None => "Manager".to_string(),
            };
            graph.node(MANAGER, NodeKind::Manager, label, manager_agent.map(str::to_string));
        }
        for agent in spec.agents.iter().filter(|a| Some(a.key.as_str()) != manager_agent) {
            let role = agent.role.trim();
            graph.node(
                &agent_id(&agent.key),
                NodeKind::Agent,
                if role.is_empty() { agent.key.clone() } else { role.to_string() },
                Some(agent.key.clone()),
            );
            if hierarchical {
                graph.edge(MANAGER, &agent_id(&agent.key), EdgeKind::Delegates, None);
            }
        }
        graph.tasks(spec, manager_agent);
        for agent in &spec.agents {
            let from = if Some(agent.key.as_str()) == manager_agent { MANAGER.to_string() } else { agent_id(&agent.key) };
            graph.tools(&from, &agent.tools);
            for mcp in &agent.mcps {
                let server = match &mcp.target {
                    McpTarget::Named(n) | McpTarget::Url(n) => n,
                };
                let id = format!("mcp:{server}");
                graph.node(&id, NodeKind::McpServer, server.clone(), Some(server.clone()));
                graph.edge(&from, &id, EdgeKind::Uses, mcp.tool.as_ref().map(|t| format!("#{t}")));
            }
        }
        for name in spec.mcp_servers.keys() {
            graph.node(&format!("mcp:{name}"), NodeKind::McpServer, name.clone(), Some(name.clone()));
        }
        graph.order_nodes();
        for warning in warnings {
            match pinned_node(spec, &graph, manager_agent, warning.field.as_deref()) {
                Some(i) => graph.nodes[i].warnings.push(warning.clone()),
                None => graph.warnings.push(warning.clone()),
            }
        }
        graph
    }

    fn tasks(&mut self, spec: &CrewSpec, manager_agent: Option<&str>) {
        let mut group: Option<usize> = None;
        // The index of the current async group's first task.
        let mut group_start = 0;
        for (i, task) in spec.tasks.iter().enumerate() {
            let id = task_id(&task.key);
            self.node(&id, NodeKind::Task, task.key.clone(), Some(task.key.clone()));
            if task.async_execution {
                if group.is_none() {
                    group_start = i;
                }
                let g = *group.get_or_insert_with(|| {
                    self.async_groups.push(AsyncGroup { tasks: Vec::new() });
                    self.async_groups.len() - 1
                });
                self.async_groups[g].tasks.push(id.clone());
                self.nodes.last_mut().expect("just added").async_group = Some(g);
            } else {
                group = None;
            }
            let performer = match task.agent.as_deref() {
                Some(a) if Some(a) == manager_agent => Some(MANAGER.to_string()),
                Some(a) => Some(agent_id(a)),
                None if spec.process == Process::Hierarchical => Some(MANAGER.to_string()),
                None => None,
            };
            if let Some(performer) = performer {
                self.edge(&id, &performer, EdgeKind::Performs, None);
            }
            match &task.context {
                Some(keys) => {
                    for key in keys {
                        self.edge(&task_id(key), &id, EdgeKind::Context, None);
                    }
                }
                None => {
                    // An async task sees only what finished before it started: not its own group's.
                    let before = if task.async_execution { group_start } else { i };
                    if before > 0 {
                        self.edge(&task_id(&spec.tasks[before - 1].key), &id, EdgeKind::Context, Some(ALL_EARLIER_TASKS.to_string()));
                    }
                }
            }
            self.tools(&id, &task.tools);
        }
    }

    fn tools(&mut self, from: &str, tools: &[ToolUse]) {
        for tool in tools {
            let id = format!("tool:{}", tool.name);
            self.node(&id, NodeKind::Tool, tool.name.clone(), Some(tool.name.clone()));
            self.edge(from, &id, EdgeKind::Uses, None);
        }
    }

    /// Adds the node unless one with `id` exists.
    fn node(&mut self, id: &str, kind: NodeKind, label: String, key: Option<String>) {
        if !self.nodes.iter().any(|n| n.id == id) {
            self.nodes.push(GraphNode { id: id.to_string(), kind, label, key, async_group: None, warnings: Vec::new() });
        }
    }

    /// Adds the edge unless the same one exists.
    fn edge(&mut self, from: &str, to: &str, kind: EdgeKind, note: Option<String>) {
        let edge = GraphEdge { from: from.to_string(), to: to.to_string(), kind, note };
        if !self.edges.contains(&edge) {
            self.edges.push(edge);
        }
    }

    /// Manager, agents, tasks, tools, MCP servers (stable within each kind).
    fn order_nodes(&mut self) {
        let rank = |k: NodeKind| match k {
            NodeKind::Manager => 0,
            NodeKind::Agent => 1,
            NodeKind::Task => 2,
            NodeKind::Tool => 3,
            NodeKind::McpServer => 4,
        };
        self.nodes.sort_by_key(|n| rank(n.kind));
    }

    /// The node with `id`.
    pub fn node_by_id(&self, id: &str) -> Option<&GraphNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// The id of the hierarchical crew's manager node.
pub const MANAGER: &str = "manager";

fn agent_id(key: &str) -> String {
    format!("agent:{key}")
}

fn task_id(key: &str) -> String {
    format!("task:{key}")
}

/// The index of the node `field` names, if any.
fn pinned_node(spec: &CrewSpec, graph: &CrewGraph, manager_agent: Option<&str>, field: Option<&str>) -> Option<usize> {
    let field = field?;
    let position = |id: &str| graph.nodes.iter().position(|n| n.id == id);
    let agent = |key: &str| if Some(key) == manager_agent { position(MANAGER) } else { position(&agent_id(key)) };
    if field.starts_with("manager_agent") || field.starts_with("manager_llm") {
        return position(MANAGER);
    }
    if let Some(key) = longest_key(field, "agents.", spec.agents.iter().map(|a| a.key.as_str())) {
        return agent(key);
    }
    if let Some(key) = longest_key(field, "tasks.", spec.tasks.iter().map(|t| t.key.as_str())) {
        return position(&task_id(key));
    }
    if let Some(key) = longest_key(field, "mcp_servers.", spec.mcp_servers.keys().map(String::as_str)) {
        return position(&format!("mcp:{key}"));
    }
    // A graph crew's node: `nodes[3] (id task-2).data.agent`.
    let id = field.strip_prefix("nodes[")?.split_once("] (id ")?.1;
    let id = &id[..id.find(')')?];
    if spec.agent(id).is_some() {
        agent(id)
    } else if spec.task(id).is_some() {
        position(&task_id(id))
    } else {
        None
    }
}

/// The longest of `keys` that `field` names after `prefix` (the whole rest, or followed by `.` or `[`).
fn longest_key<'k>(field: &str, prefix: &str, keys: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let rest = field.strip_prefix(prefix)?;
    keys.filter(|k| rest.strip_prefix(k).is_some_and(|after| after.is_empty() || after.starts_with('.') || after.starts_with('[')))
        .max_by_key(|k| k.len())
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
