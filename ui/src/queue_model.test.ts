import { describe, expect, it } from 'vitest';
import { applyEvent, matchesFilter, priorityEditable, withState } from './queue_model';
import type { Execution } from './types';

function execution(id: string, over: Partial<Execution> = {}): Execution {
  return {
    id, crew_name: 'c', crew_source: '/c.yaml', engine: 'native', crew_spec: null, inputs: {}, priority: 'normal', status: 'queued',
    attempt: 0, max_attempts: 3, timeout_ms: null, llm: {}, meta: {}, cancel_requested: false,
    progress: { completed_steps: 0, total_steps: 2 }, usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, llm_calls: 0 },
    attempt_errors: [], retry_of: null, created_at: 1, started_at: null, ...over,
  };
}

describe('queue model', () => {
  it('applies state changes, dropping the old state fields', () => {
    const rows = [execution('A', { status: 'retrying', next_run_at: 5, last_error: { kind: 'llm_server', message: 'x', retryable: true } })];
    expect(applyEvent(rows, { type: 'state', id: 'A', state: { status: 'running', owner: 'o', lease_expires_at: 9 }, attempt: 2, priority: 'high' })).toBe('changed');
    expect(rows[0].status).toBe('running');
    expect(rows[0].attempt).toBe(2);
    expect(rows[0].priority).toBe('high');
    expect(rows[0].next_run_at).toBeUndefined();
    expect(rows[0].last_error).toBeUndefined();
    expect(rows[0].started_at).not.toBeNull();
  });

  it('asks for a refetch for unknown executions and for final results', () => {
    const rows = [execution('A')];
    expect(applyEvent(rows, { type: 'progress', id: 'B', progress: { completed_steps: 1, total_steps: 2 } })).toBe('refetch');
    expect(applyEvent(rows, { type: 'state', id: 'A', state: { status: 'succeeded', output: 'o', finished_at: 3 }, attempt: 1, priority: 'normal' })).toBe('refetch');
    expect(rows[0].output).toBe('o');
  });

  it('applies progress', () => {
    const rows = [execution('A', { status: 'running' })];
    const progress = { completed_steps: 1, total_steps: 2, current_step: 't2', current_agent: 'W' };
    expect(applyEvent(rows, { type: 'progress', id: 'A', progress })).toBe('changed');
    expect(rows[0].progress).toEqual(progress);
  });

  it('filters by status and allows priority edits only while waiting', () => {
    expect(matchesFilter({ status: 'failed' }, [])).toBe(true);
    expect(matchesFilter({ status: 'failed' }, ['queued', 'running'])).toBe(false);
    expect(priorityEditable({ status: 'queued' })).toBe(true);
    expect(priorityEditable({ status: 'retrying' })).toBe(true);
    expect(priorityEditable({ status: 'running' })).toBe(false);
  });

  it('withState keeps the execution data', () => {
    const e = withState(execution('A', { crew_name: 'x' }), { status: 'cancelled', finished_at: 2, was_running: false });
    expect(e.crew_name).toBe('x');
    expect(e.was_running).toBe(false);
  });
});
