// The crew graph (New run, Run detail): an SVG built with DOM calls (crew text is untrusted, it
// only ever becomes text nodes), laid out by dagre. Nodes are focusable: arrow keys move between
// them, Enter or Space (or a click) shows the node's details and warnings below the graph.

import { append, clear, h } from '../dom';
import { layoutGraph, neighbour, nodeDescription, shortLabel, type Direction, type GraphLayout, type PlacedNode } from '../crew_graph_layout';
import type { TaskState } from '../timeline';
import type { CrewGraph, Diagnostic } from '../types';

const SVG = 'http://www.w3.org/2000/svg';
const KIND_TEXT = { agent: 'agent', task: 'task', manager: 'manager', tool: 'tool', mcp_server: 'MCP server' } as const;
/**
 * Crews with more nodes are not laid out: dagre's layout grows much faster than linearly (about
 * 0.25 s at 200 nodes, 1.2 s at 400, a minute at 2,000 on the CI machine), and it runs on the
 * window's one thread. Such a crew gets a note instead of a picture.
 */
export const MAX_DRAWN_NODES = 200;
const ARROWS: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

export function warningText(w: Diagnostic): string {
  return `${w.field ? `${w.field}: ` : ''}${w.message}`;
}

export class CrewGraphView {
  /** The graph and its details pane; hidden while there is no graph. */
  readonly el: HTMLElement;
  private readonly canvas: HTMLElement;
  private readonly details: HTMLElement;
  private graph: CrewGraph | null = null;
  private layout: GraphLayout | null = null;
  private readonly nodeEls = new Map<string, SVGGElement>();
  private selected: string | null = null;

  constructor() {
    this.canvas = h('div', { class: 'crew-graph-canvas' });
    this.details = h('div', { class: 'crew-graph-details', 'aria-live': 'polite', 'data-testid': 'graph-details' });
    this.el = h('div', { class: 'crew-graph', hidden: true, 'data-testid': 'crew-graph' }, this.canvas, this.details);
  }

  /** Draws `graph` (hides the view for `null`); the node selected before stays selected if still there. */
  show(graph: CrewGraph | null): void {
    this.graph = graph;
    this.nodeEls.clear();
    clear(this.canvas);
    this.el.hidden = !graph || graph.nodes.length === 0;
    if (!graph || graph.nodes.length === 0) { this.layout = null; this.selected = null; clear(this.details); return; }
    if (graph.nodes.length > MAX_DRAWN_NODES) {
      this.layout = null;
      this.selected = null;
      clear(this.details);
      const warned = graph.nodes.filter((n) => n.warnings.length > 0);
      this.canvas.append(h('p', { class: 'muted graph-too-big', 'data-testid': 'graph-too-big' },
        `This crew has ${graph.nodes.length} nodes; the graph is drawn for crews of up to ${MAX_DRAWN_NODES}.`));
      for (const n of warned) append(this.details, h('p', {}, h('strong', {}, n.label), ': ', n.warnings.map(warningText).join('; ')));
      return;
    }
    const layout = layoutGraph(graph);
    this.layout = layout;
    const root = svg('svg', {
      class: 'crew-graph-svg', role: 'group', 'aria-label': `Crew graph: ${graph.nodes.length} nodes; arrow keys move, Enter shows details`,
      viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`, width: Math.ceil(layout.width), height: Math.ceil(layout.height),
    });
    root.append(svg('defs', {}, svg('marker', { id: 'graph-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'graph-arrow' }))));
    for (const b of layout.groups) {
      root.append(svg('g', { class: 'graph-async-group', 'data-group': b.index },
        svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 10 }),
        svg('text', { x: b.x + 8, y: b.y + 11, class: 'graph-group-label' }, 'async')));
    }
    for (const e of layout.edges) {
      if (e.points.length < 2) continue;
      const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      const implicit = e.edge.kind === 'context' && e.edge.note === 'all earlier tasks';
      root.append(svg('path', { d, class: `graph-edge edge-${e.edge.kind}${implicit ? ' edge-implicit' : ''}`, 'marker-end': 'url(#graph-arrow)', 'data-from': e.edge.from, 'data-to': e.edge.to },
        svg('title', {}, `${e.edge.kind}${e.edge.note ? ` (${e.edge.note})` : ''}`)));
    }
    layout.nodes.forEach((p, i) => root.append(this.nodeElement(p, i === 0)));
    root.addEventListener('keydown', (ev) => this.onKey(ev));
    this.canvas.append(root);
    if (this.selected && this.nodeEls.has(this.selected)) this.select(this.selected, false);
    else { this.selected = null; this.renderDetails(); }
  }

  /** Colours task nodes by state (`state-done`, …); nodes missing from `states` lose theirs. */
  setStates(states: Map<string, TaskState>): void {
    for (const [id, el] of this.nodeEls) {
      const state = states.get(id);
      el.classList.forEach((c) => { if (c.startsWith('state-')) el.classList.remove(c); });
      if (state) { el.classList.add(`state-${state}`); el.dataset.state = state; } else delete el.dataset.state;
      const node = this.graph?.nodes.find((n) => n.id === id);
      if (node) el.setAttribute('aria-label', `${nodeDescription(node)}${state ? `, ${state}` : ''}`);
    }
  }

  private nodeElement(p: PlacedNode, first: boolean): SVGGElement {
    const n = p.node;
    const el = svg('g', {
      class: `graph-node kind-${n.kind}${n.warnings.length ? ' has-warnings' : ''}`, transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`,
      tabindex: first ? 0 : -1, role: 'button', 'aria-label': nodeDescription(n), 'data-node': n.id,
    },
    svg('title', {}, n.label),
    svg('rect', { width: p.width, height: p.height, rx: n.kind === 'task' ? 6 : 16 }),
    svg('text', { x: 12, y: 17, class: 'graph-kind' }, KIND_TEXT[n.kind]),
    svg('text', { x: 12, y: 35, class: 'graph-label' }, shortLabel(n.label)));
    if (n.warnings.length) {
      el.append(svg('g', { class: 'graph-warning', 'data-warnings': n.warnings.length, transform: `translate(${p.width - 4},4)` },
        svg('circle', { r: 10 }), svg('text', { 'text-anchor': 'middle', y: 4 }, `!${n.warnings.length > 1 ? n.warnings.length : ''}`)));
    }
    el.addEventListener('click', () => this.select(n.id, true));
    this.nodeEls.set(n.id, el);
    return el;
  }

  private onKey(ev: KeyboardEvent): void {
    const id = (ev.target as Element).closest?.('[data-node]')?.getAttribute('data-node');
    if (!id || !this.layout) return;
    const direction = ARROWS[ev.key];
    if (direction) {
      ev.preventDefault();
      const next = neighbour(this.layout, id, direction);
      if (next) this.focus(next);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      this.select(id, true);
    }
  }

  /** Moves the roving tabindex to `id` and focuses it. */
  private focus(id: string): void {
    for (const [other, el] of this.nodeEls) el.setAttribute('tabindex', other === id ? '0' : '-1');
    this.nodeEls.get(id)?.focus();
  }

  private select(id: string, focus: boolean): void {
    this.selected = id;
    for (const [other, el] of this.nodeEls) el.classList.toggle('selected', other === id);
    if (focus) this.focus(id);
    this.renderDetails();
  }

  private renderDetails(): void {
    clear(this.details);
    const graph = this.graph;
    if (!graph) return;
    const node = graph.nodes.find((n) => n.id === this.selected);
    if (!node) {
      this.details.append(h('p', { class: 'muted small' }, 'Select a node (click, or Tab then arrow keys and Enter) for its details.'));
      if (graph.warnings.length) this.details.append(warningList('Crew warnings', graph.warnings));
      return;
    }
    const label = (id: string) => graph.nodes.find((n) => n.id === id)?.label ?? id;
    const links = graph.edges.flatMap((e) => {
      if (e.from === node.id) return [`${e.kind} → ${label(e.to)}${e.note ? ` (${e.note})` : ''}`];
      if (e.to === node.id) return [`${label(e.from)} ${e.kind} →${e.note ? ` (${e.note})` : ''}`];
      return [];
    });
    const state = this.nodeEls.get(node.id)?.dataset.state;
    append(this.details,
      h('h3', {}, `${KIND_TEXT[node.kind]}: `, node.label, state ? ' ' : null, state ? h('span', { class: `badge task-${state}` }, state) : null),
      node.key && node.key !== node.label ? h('div', { class: 'muted small' }, 'key ', h('code', {}, node.key)) : null,
      node.async_group != null ? h('div', { class: 'small' }, 'Runs asynchronously with the other tasks of its group.') : null,
      links.length ? h('ul', { class: 'graph-links small' }, ...links.map((l) => h('li', {}, l))) : null,
      node.warnings.length ? warningList('Warnings', node.warnings) : h('p', { class: 'muted small' }, 'No warnings.'),
    );
  }
}

function warningList(title: string, warnings: Diagnostic[]): HTMLElement {
  return h('div', { class: 'graph-warnings' }, h('strong', {}, title),
    ...warnings.map((w) => h('div', { class: 'warning' }, `⚠ ${warningText(w)}`)));
}
