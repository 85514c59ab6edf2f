// The crew graph's layout (dagre) and the pure decisions of its view: each node's place, edge
// routes, async group boxes, task states and which node an arrow key moves to.

import dagre from '@dagrejs/dagre';
import type { TaskState } from './timeline';
import type { CrewGraph, GraphEdge, GraphNode } from './types';

/** A node's box size (labels longer than `LABEL_CHARS` are shortened; the full text is in its title). */
export const NODE_WIDTH = 184;
export const NODE_HEIGHT = 46;
export const LABEL_CHARS = 24;
/** Room around an async group's tasks. */
const GROUP_PAD = 10;
const MARGIN = 16;

export interface PlacedNode {
  node: GraphNode;
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  edge: GraphEdge;
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** One box around each async group's tasks. */
  groups: { index: number; x: number; y: number; width: number; height: number }[];
  width: number;
  height: number;
}

/** Lays `graph` out left to right with dagre: tasks flow in order, agents and tools beside them. */
export function layoutGraph(graph: CrewGraph): GraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(graph.nodes.map((n) => n.id));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  // Context runs left to right; a task points back at its agent (so agents sit after their tasks).
  const drawn = graph.edges.filter((e) => known.has(e.from) && known.has(e.to));
  drawn.forEach((e, i) => g.setEdge(e.from, e.to, { weight: e.kind === 'context' ? 4 : 1 }, String(i)));
  dagre.layout(g);
  const nodes = graph.nodes.map((node) => {
    const p = g.node(node.id);
    return { node, x: (p.x ?? 0) - NODE_WIDTH / 2, y: (p.y ?? 0) - NODE_HEIGHT / 2, width: NODE_WIDTH, height: NODE_HEIGHT };
  });
  const edges = drawn.map((edge, i) => ({ edge, points: g.edge({ v: edge.from, w: edge.to, name: String(i) })?.points ?? [] }));
  const byId = new Map(nodes.map((n) => [n.node.id, n]));
  const groups = graph.async_groups.map((group, index) => {
    const members = group.tasks.map((t) => byId.get(t)).filter((n): n is PlacedNode => !!n);
    const x = Math.min(...members.map((n) => n.x)) - GROUP_PAD;
    const y = Math.min(...members.map((n) => n.y)) - GROUP_PAD;
    return {
      index, x, y,
      width: Math.max(...members.map((n) => n.x + n.width)) + GROUP_PAD - x,
      height: Math.max(...members.map((n) => n.y + n.height)) + GROUP_PAD - y,
    };
  }).filter((b) => Number.isFinite(b.width));
  const label = g.graph();
  const width = Math.max(label.width ?? 0, ...groups.map((b) => b.x + b.width + MARGIN));
  const height = Math.max(label.height ?? 0, ...groups.map((b) => b.y + b.height + MARGIN));
  return { nodes, edges, groups, width, height };
}

/** `label` cut to `LABEL_CHARS` characters with an ellipsis. */
export function shortLabel(label: string): string {
  const chars = [...label.trim().replace(/\s+/g, ' ')];
  return chars.length > LABEL_CHARS ? `${chars.slice(0, LABEL_CHARS - 1).join('')}…` : chars.join('');
}

/** What the node is, in words, for its aria label and details: `Task research`, `Agent Researcher`. */
export function nodeDescription(node: GraphNode): string {
  const kind = { agent: 'Agent', task: 'Task', manager: 'Manager', tool: 'Tool', mcp_server: 'MCP server' }[node.kind];
  const label = node.kind === 'manager' ? node.label.replace(/^Manager(: )?/, '') : node.label;
  const warned = node.warnings.length ? `, ${node.warnings.length} warning${node.warnings.length > 1 ? 's' : ''}` : '';
  return `${kind}${label ? ` ${label}` : ''}${warned}`;
}

/** Each task node's state from the timeline's rows (by task key); other nodes have none. */
export function taskStates(graph: CrewGraph, rows: { key: string; state: TaskState }[]): Map<string, TaskState> {
  const byKey = new Map(rows.map((r) => [r.key, r.state]));
  const states = new Map<string, TaskState>();
  for (const n of graph.nodes) {
    const s = n.kind === 'task' && n.key != null ? byKey.get(n.key) : undefined;
    if (s) states.set(n.id, s);
  }
  return states;
}

export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * The node an arrow key moves to from `fromId`: the nearest node whose centre lies in that
 * direction (within a 45° cone, the straight line counting twice the sideways distance), `null`
 * when there is none.
 */
export function neighbour(layout: GraphLayout, fromId: string, direction: Direction): string | null {
  const from = layout.nodes.find((n) => n.node.id === fromId);
  if (!from) return null;
  const cx = from.x + from.width / 2;
  const cy = from.y + from.height / 2;
  let best: { id: string; score: number } | null = null;
  for (const n of layout.nodes) {
    if (n === from) continue;
    const dx = n.x + n.width / 2 - cx;
    const dy = n.y + n.height / 2 - cy;
    const [ahead, side] = direction === 'left' ? [-dx, dy] : direction === 'right' ? [dx, dy] : direction === 'up' ? [-dy, dx] : [dy, dx];
    if (ahead <= 0 || Math.abs(side) > ahead) continue;
    const score = ahead + 2 * Math.abs(side);
    if (!best || score < best.score) best = { id: n.node.id, score };
  }
  return best?.id ?? null;
}
