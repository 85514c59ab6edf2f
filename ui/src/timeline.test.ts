import { describe, expect, it } from 'vitest';
import { buildTimeline } from './timeline';
import type { CrewSpec, LogEntry, StepOutput } from './types';

const spec: CrewSpec = {
  name: 'c',
  agents: [{ key: 'r', role: 'Researcher' }, { key: 'w', role: 'Writer' }],
  tasks: [{ key: 'research', agent: 'r' }, { key: 'write', agent: 'w' }, { key: 'review', agent: 'w' }],
};
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, llm_calls: 1 };
const log = (seq: number, kind: string, task: string, at: number): LogEntry =>
  ({ execution_id: 'A', attempt: 1, seq, at, level: 'info', kind, task, agent: task === 'research' ? 'Researcher' : 'Writer', message: '' });

describe('buildTimeline', () => {
  it('marks done, running and pending tasks with durations and tokens', () => {
    const steps: StepOutput[] = [{ step: 'research', agent: 'Researcher', output: 'notes', json: null, usage, attempt: 1, completed_at: 300 }];
    const logs = [log(1, 'task_started', 'research', 100), log(2, 'task_completed', 'research', 300), log(3, 'task_started', 'write', 400)];
    const rows = buildTimeline(spec, steps, logs, 'running', 1000);
    expect(rows.map((r) => r.state)).toEqual(['done', 'running', 'pending']);
    expect(rows[0]).toMatchObject({ agent: 'Researcher', durationMs: 200, output: 'notes' });
    expect(rows[0].usage?.total_tokens).toBe(15);
    expect(rows[1].durationMs).toBe(600);
    expect(rows[2]).toMatchObject({ agent: 'Writer', durationMs: null, usage: null });
  });

  it('shows the started task as failed when the execution failed', () => {
    const rows = buildTimeline(spec, [], [log(1, 'task_started', 'research', 100)], 'failed', 1000);
    expect(rows[0].state).toBe('failed');
  });

  it('is empty without a crew snapshot', () => {
    expect(buildTimeline(null, [], [], 'queued', 0)).toEqual([]);
  });
});
