import { describe, expect, it } from 'vitest';
import { layoutGraph, neighbour, nodeDescription, shortLabel, taskStates, LABEL_CHARS } from './crew_graph_layout';
import type { CrewGraph } from './types';
import { CrewGraphView, MAX_DRAWN_NODES } from './views/crew_graph';

/** A hierarchical crew: two async tasks, then a third reading both; a tool and an MCP server. */
function graph(): CrewGraph {
  const warning = { file: '/c/crew.yaml', field: 'agents.writer.tools', message: 'unknown tool `MagicTool`; dropped' };
  return {
    nodes: [
      { id: 'manager', kind: 'manager', label: 'Manager', key: null, warnings: [] },
      { id: 'agent:writer', kind: 'agent', label: '<img src=x onerror=alert(1)> Writer', key: 'writer', warnings: [warning] },
      { id: 'task:a', kind: 'task', label: 'a', key: 'a', async_group: 0, warnings: [] },
      { id: 'task:b', kind: 'task', label: 'b', key: 'b', async_group: 0, warnings: [] },
      { id: 'task:c', kind: 'task', label: 'c', key: 'c', warnings: [] },
      { id: 'tool:write_file', kind: 'tool', label: 'write_file', key: 'write_file', warnings: [] },
      { id: 'mcp:files', kind: 'mcp_server', label: 'files', key: 'files', warnings: [] },
    ],
    edges: [
      { from: 'manager', to: 'agent:writer', kind: 'delegates' },
      { from: 'task:a', to: 'manager', kind: 'performs' },
      { from: 'task:b', to: 'manager', kind: 'performs' },
      { from: 'task:c', to: 'agent:writer', kind: 'performs' },
      { from: 'task:a', to: 'task:c', kind: 'context' },
      { from: 'task:b', to: 'task:c', kind: 'context' },
      { from: 'agent:writer', to: 'tool:write_file', kind: 'uses' },
      { from: 'agent:writer', to: 'mcp:files', kind: 'uses', note: '#read' },
    ],
    async_groups: [{ tasks: ['task:a', 'task:b'] }],
    warnings: [{ file: '/c/crew.yaml', field: 'planning', message: 'ignored' }],
  };
}

const key = (el: Element, k: string) => el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));

describe('crew graph layout', () => {
  it('places every node without overlaps, routes every edge and boxes the async group', () => {
    const l = layoutGraph(graph());
    expect(l.nodes.map((n) => n.node.id)).toEqual(graph().nodes.map((n) => n.id));
    for (const a of l.nodes) {
      for (const b of l.nodes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.node.id} / ${b.node.id}`).toBe(true);
      }
      expect(a.x + a.width).toBeLessThanOrEqual(l.width);
      expect(a.y + a.height).toBeLessThanOrEqual(l.height);
    }
    expect(l.edges).toHaveLength(8);
    for (const e of l.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    // Context flows left to right.
    const x = (id: string) => l.nodes.find((n) => n.node.id === id)!.x;
    expect(x('task:c')).toBeGreaterThan(x('task:a'));
    const [box] = l.groups;
    for (const id of ['task:a', 'task:b']) {
      const n = l.nodes.find((p) => p.node.id === id)!;
      expect(n.x).toBeGreaterThan(box.x);
      expect(n.x + n.width).toBeLessThan(box.x + box.width);
      expect(n.y).toBeGreaterThan(box.y);
      expect(n.y + n.height).toBeLessThan(box.y + box.height);
    }
  });

  it('leaves out edges to unknown nodes', () => {
    const g = graph();
    g.edges.push({ from: 'task:c', to: 'agent:gone', kind: 'performs' });
    expect(layoutGraph(g).edges).toHaveLength(8);
  });

  it('moves with arrow keys to the nearest node that way, or nowhere', () => {
    const l = layoutGraph(graph());
    const right = neighbour(l, 'task:a', 'right');
    expect(right).not.toBeNull();
    const from = l.nodes.find((n) => n.node.id === 'task:a')!;
    expect(l.nodes.find((n) => n.node.id === right)!.x).toBeGreaterThan(from.x);
    const leftmost = l.nodes.reduce((a, b) => (b.x < a.x ? b : a));
    expect(neighbour(l, leftmost.node.id, 'left')).toBeNull();
    expect(neighbour(l, 'nope', 'up')).toBeNull();
  });

  it('shortens long labels, describes nodes and maps task states', () => {
    expect(shortLabel('x'.repeat(40))).toHaveLength(LABEL_CHARS);
    expect(shortLabel(' a\n b ')).toBe('a b');
    expect(nodeDescription(graph().nodes[1])).toBe('Agent <img src=x onerror=alert(1)> Writer, 1 warning');
    expect(nodeDescription(graph().nodes[0])).toBe('Manager');
    const states = taskStates(graph(), [{ key: 'a', state: 'done' }, { key: 'c', state: 'running' }, { key: 'writer', state: 'failed' }]);
    expect([...states]).toEqual([['task:a', 'done'], ['task:c', 'running']]);
  });
});

describe('crew graph view', () => {
  it('draws nodes as text only, with the warning badge on its node and details on Enter', () => {
    const view = new CrewGraphView();
    document.body.append(view.el);
    view.show(graph());
    expect(view.el.hidden).toBe(false);
    expect(view.el.querySelector('img')).toBeNull();
    const nodes = view.el.querySelectorAll('[data-node]');
    expect(nodes).toHaveLength(7);
    expect(view.el.querySelectorAll('path.graph-edge')).toHaveLength(8);
    expect(view.el.querySelectorAll('.graph-async-group')).toHaveLength(1);
    const badges = view.el.querySelectorAll('.graph-warning');
    expect(badges).toHaveLength(1);
    expect(badges[0].closest('[data-node]')!.getAttribute('data-node')).toBe('agent:writer');
    // Roving focus: one tab stop.
    expect([...nodes].filter((n) => n.getAttribute('tabindex') === '0')).toHaveLength(1);
    const details = view.el.querySelector('[data-testid="graph-details"]')!;
    expect(details.textContent).toContain('Crew warnings');
    expect(details.textContent).toContain('planning: ignored');

    const writer = view.el.querySelector('[data-node="agent:writer"]')!;
    expect(writer.getAttribute('aria-label')).toBe('Agent <img src=x onerror=alert(1)> Writer, 1 warning');
    key(writer, 'Enter');
    expect(details.querySelector('h3')!.textContent).toBe('agent: <img src=x onerror=alert(1)> Writer');
    expect(details.textContent).toContain('agents.writer.tools: unknown tool `MagicTool`; dropped');
    expect(details.textContent).toContain('uses → files (#read)');
    expect(details.textContent).toContain('Manager delegates →');
    expect(writer.classList.contains('selected')).toBe(true);
    expect(document.activeElement).toBe(writer);

    const target = neighbour(layoutGraph(graph()), 'agent:writer', 'right') ?? neighbour(layoutGraph(graph()), 'agent:writer', 'left')!;
    key(writer, neighbour(layoutGraph(graph()), 'agent:writer', 'right') ? 'ArrowRight' : 'ArrowLeft');
    expect(document.activeElement!.getAttribute('data-node')).toBe(target);
    expect(writer.getAttribute('tabindex')).toBe('-1');
    key(document.activeElement!, ' ');
    expect(details.querySelector('h3')!.textContent).toContain(graph().nodes.find((n) => n.id === target)!.label);
    view.el.remove();
  });

  it('colours task nodes by state and keeps the selection across redraws', () => {
    const view = new CrewGraphView();
    view.show(graph());
    view.el.querySelector<SVGGElement>('[data-node="task:a"]')!.dispatchEvent(new Event('click'));
    view.setStates(new Map([['task:a', 'done'], ['task:c', 'failed']]));
    const a = view.el.querySelector('[data-node="task:a"]')!;
    expect(a.classList.contains('state-done')).toBe(true);
    expect(a.getAttribute('aria-label')).toBe('Task a, done');
    expect(view.el.querySelector('[data-node="task:c"]')!.classList.contains('state-failed')).toBe(true);
    view.setStates(new Map([['task:a', 'running']]));
    expect(a.classList.contains('state-done')).toBe(false);
    expect(a.classList.contains('state-running')).toBe(true);
    expect(view.el.querySelector('[data-node="task:c"]')!.classList.contains('state-failed')).toBe(false);
    view.show(graph());
    expect(view.el.querySelector('[data-node="task:a"]')!.classList.contains('selected')).toBe(true);
    view.show(null);
    expect(view.el.hidden).toBe(true);
    expect(view.el.querySelector('svg')).toBeNull();
  });
});

describe('a crew too big to lay out', () => {
  it('gets a note and its warnings instead of a picture', () => {
    const nodes = Array.from({ length: MAX_DRAWN_NODES + 1 }, (_, i) => ({ id: `task:t${i}`, key: `t${i}`, kind: 'task', label: `t${i}`, warnings: [] as { field: string; message: string }[] }));
    nodes[3].warnings.push({ field: 'tasks.t3.mystery', message: 'unknown field' });
    const view = new CrewGraphView();
    view.show({ nodes, edges: [], async_groups: [], warnings: [] } as unknown as CrewGraph);
    expect(view.el.hidden).toBe(false);
    expect(view.el.querySelector('svg')).toBeNull();
    expect(view.el.querySelector('[data-testid=graph-too-big]')!.textContent).toContain(`${MAX_DRAWN_NODES + 1} nodes`);
    expect(view.el.querySelector('[data-testid=graph-details]')!.textContent).toContain('tasks.t3.mystery: unknown field');
  });
});
