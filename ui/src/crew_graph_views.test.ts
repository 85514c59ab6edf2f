import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (cmd: string, args: unknown) => invoke(cmd, args), Channel: class {} }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { newRunView } from './views/new_run';
import { detailView } from './views/detail';
import type { CrewGraph } from './types';
import { finishedTrace } from './trace_fixture';

const flush = () => new Promise((r) => setTimeout(r, 0));
const warning = { file: '/c/w.yaml', field: 'agents.a.tools', message: 'unknown tool `MagicTool`' };
const crewGraph: CrewGraph = {
  nodes: [
    { id: 'agent:a', kind: 'agent', label: 'Analyst', key: 'a', warnings: [warning] },
    { id: 'task:t1', kind: 'task', label: 't1', key: 't1', warnings: [] },
    { id: 'task:t2', kind: 'task', label: 't2', key: 't2', warnings: [] },
  ],
  edges: [
    { from: 'task:t1', to: 'agent:a', kind: 'performs' },
    { from: 'task:t2', to: 'agent:a', kind: 'performs' },
    { from: 'task:t1', to: 'task:t2', kind: 'context', note: 'all earlier tasks' },
  ],
  async_groups: [],
  warnings: [],
};
const spec = {
  name: 'w', format: 'single_file', source: '/c/w.yaml', workspace: '/c', process: 'sequential',
  agents: [{ key: 'a', role: 'Analyst', goal: 'G', backstory: 'B', tools: [] }],
  tasks: [{ key: 't1', description: 'D', expected_output: 'E', agent: 'a' }, { key: 't2', description: 'D', expected_output: 'E', agent: 'a' }],
};

describe('the crew graph in the views', () => {
  beforeEach(() => { invoke.mockReset(); });

  it('New run draws the previewed crew with the warning on its node', async () => {
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'list_crews') return [];
      if (cmd === 'preview_crew') {
        return { engine: { engine: 'native', reason: 'it loads' }, report: { crew: spec, required_inputs: [], warnings: [warning] }, python_crew: null, graph: crewGraph };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const root = document.createElement('div');
    newRunView(root, undefined);
    root.querySelector<HTMLInputElement>('#crew-path')!.value = '/c/w.yaml';
    root.querySelector<HTMLButtonElement>('#validate-crew')!.click();
    await flush();
    const graph = root.querySelector<HTMLElement>('[data-testid=crew-graph]')!;
    expect(graph.hidden).toBe(false);
    expect([...graph.querySelectorAll('.graph-warning')].map((b) => b.closest('[data-node]')!.getAttribute('data-node'))).toEqual(['agent:a']);
  });

  it('Run detail colours the tasks by the timeline state, fetching the graph once', async () => {
    const execution = {
      id: '01J0ABC', crew_name: 'w', crew_source: '/c/w.yaml', engine: 'native', crew_spec: spec, inputs: {}, priority: 'normal',
      attempt: 1, max_attempts: 3, status: 'running', created_at: 0, usage: { total_tokens: 0, llm_calls: 0 }, llm: {},
      progress: { completed_steps: 1, total_steps: 2 },
    };
    const steps = [{ step: 't1', agent: 'Analyst', output: 'x' }];
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'get_execution') return execution;
      if (cmd === 'get_execution_steps') return steps;
      if (cmd === 'get_execution_graph') return crewGraph;
      if (cmd === 'get_execution_trace') return { ...finishedTrace(), status: 'running' };
      if (cmd === 'follow_execution_logs') return 1;
      throw new Error(`unexpected ${cmd}`);
    });
    const root = document.createElement('div');
    const stop = detailView(root, '01J0ABC');
    await flush();
    await flush();
    const state = (id: string) => root.querySelector(`[data-node="${id}"]`)!.getAttribute('data-state');
    expect(state('task:t1')).toBe('done');
    expect(state('task:t2')).toBe('pending');
    expect(root.querySelector('[data-node="agent:a"]')!.getAttribute('data-state')).toBeNull();
    expect(invoke.mock.calls.filter(([c]) => c === 'get_execution_graph')).toHaveLength(1);
    stop();
  });
});
