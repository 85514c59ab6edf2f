import { describe, expect, it } from 'vitest';
import { buildTimeline } from './timeline';
import type { CrewaiTarget, CrewSpec, EventKind, JsonValue, LogEntry, StepOutput } from './types';
import { agentSpec, crewSpec, logEntry, taskSpec } from './test_samples';

const spec: CrewSpec = crewSpec({
  name: 'c',
  agents: [agentSpec({ key: 'r', role: 'Researcher' }), agentSpec({ key: 'w', role: 'Writer' })],
  tasks: [taskSpec({ key: 'research', agent: 'r' }), taskSpec({ key: 'write', agent: 'w' }), taskSpec({ key: 'review', agent: 'w' })],
});
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, llm_calls: 1 };
const log = (seq: number, kind: EventKind, task: string, at: number): LogEntry =>
  logEntry({ seq, at, kind, task, agent: task === 'research' ? 'Researcher' : 'Writer' });
const python = { command: { program: '/p/.venv/bin/python' }, source: 'the project\'s .venv', python_version: '3.11.7', crewai_version: '1.15.30' };
const project: CrewaiTarget = { kind: 'crew_project', root: '/p', entry: '/p/src/research', python };

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

  it('takes a Python crew\'s tasks from its log and steps (a CrewAI target has no tasks)', () => {
    const kickoff: LogEntry = {
      execution_id: 'A', attempt: 1, seq: 1, at: 50, level: 'info', kind: 'agent_step', message: 'crew `c` kicked off (3 tasks)',
      data: { crew: 'c', tasks: ['research', 'write', 'review'] },
    };
    const steps: StepOutput[] = [{ step: 'research', agent: 'Researcher', output: 'notes', json: null, usage, attempt: 1, completed_at: 300 }];
    const logs = [kickoff, log(2, 'task_started', 'research', 100), log(3, 'task_completed', 'research', 300), log(4, 'task_started', 'write', 400)];
    const rows = buildTimeline(project, steps, logs, 'running', 1000);
    expect(rows.map((r) => [r.key, r.state, r.agent])).toEqual([
      ['research', 'done', 'Researcher'], ['write', 'running', 'Writer'], ['review', 'pending', ''],
    ]);
    expect(rows[0]).toMatchObject({ durationMs: 200, output: 'notes' });
    // Before anything ran: no rows, and no crash.
    expect(buildTimeline(project, [], [], 'queued', 0)).toEqual([]);
    // Steps of an earlier attempt count even when this attempt's log does not name them.
    expect(buildTimeline(project, steps, [], 'retrying', 0).map((r) => [r.key, r.state])).toEqual([['research', 'done']]);
  });

  it('shows a flow\'s methods as rows, done when their finished line is logged', () => {
    const line = (seq: number, kind: EventKind, task: string, data: JsonValue): LogEntry => logEntry({ seq, at: seq * 100, kind, task, data });
    const logs = [
      line(1, 'task_started', 'generate', { flow: 'PoemFlow' }),
      line(2, 'agent_step', 'generate', { flow: 'PoemFlow', output: 'a poem' }),
      line(3, 'task_started', 'save', { flow: 'PoemFlow' }),
    ];
    const rows = buildTimeline({ ...project, kind: 'flow_project' }, [], logs, 'running', 1000);
    expect(rows.map((r) => [r.key, r.state, r.output])).toEqual([['generate', 'done', 'a poem'], ['save', 'running', null]]);
    expect(rows[0].durationMs).toBe(100);
  });

  it('uses the translated crew\'s tasks for a native crew run on CrewAI', () => {
    const rows = buildTimeline({ ...project, translated: spec }, [], [], 'queued', 0);
    expect(rows.map((r) => [r.key, r.agent])).toEqual([['research', 'Researcher'], ['write', 'Writer'], ['review', 'Writer']]);
  });
});
