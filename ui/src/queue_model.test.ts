import { describe, expect, it } from 'vitest';
import { events, executions } from './gen/samples';
import { applyEvent, matchesFilter, priorityEditable, withState } from './queue_model';
import { execution } from './test_samples';
import { STATE_KEYS, type ExecutionState } from './types';

/** The state fields of an execution (real JSON: `gen/samples.ts`). */
function stateOf(e: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([k]) => (STATE_KEYS as readonly string[]).includes(k)));
}

describe('queue model', () => {
  it('applies state changes, dropping the old state fields', () => {
    const retrying = executions.find((e) => e.status === 'retrying')!;
    const rows = [{ ...retrying, id: 'A' }];
    const running: ExecutionState = { status: 'running', owner: 'o', lease_expires_at: 9, attempt_started_at: 7, lease_token: 2 };
    expect(applyEvent(rows, { type: 'state', id: 'A', state: running, attempt: 2, priority: 'high' })).toBe('changed');
    expect(rows[0].status).toBe('running');
    expect(rows[0].attempt).toBe(2);
    expect(rows[0].priority).toBe('high');
    expect(stateOf(rows[0])).toEqual(stateOf(running));
    expect('last_error' in rows[0]).toBe(false);
  });

  it('turns an execution in any state into one in any other as the store has it', () => {
    // Each sample state event applied to each sample execution gives that event's execution's state fields.
    for (const from of executions) {
      for (const [i, event] of events.entries()) {
        if (event.type !== 'state') continue;
        const next = withState(from, event.state);
        expect(stateOf(next)).toEqual(stateOf(executions[i]));
        expect(next.crew_name).toBe(from.crew_name);
      }
    }
  });

  it("keeps the execution's first start when an attempt starts (the state's attempt_started_at is the attempt's)", () => {
    const running: ExecutionState = { status: 'running', owner: 'o', lease_expires_at: 9, attempt_started_at: 50, lease_token: 2 };
    expect(withState(execution('A', { status: 'queued' }, { started_at: 10 }), running).started_at).toBe(10);
    expect(withState(execution('A', { status: 'queued' }, { started_at: null }), running).started_at).toBe(50);
  });

  it('asks for a refetch for unknown executions and for final results', () => {
    const rows = [execution('A')];
    expect(applyEvent(rows, { type: 'progress', id: 'B', progress: { completed_steps: 1, total_steps: 2 } })).toBe('refetch');
    expect(applyEvent(rows, { type: 'state', id: 'A', state: { status: 'succeeded', output: 'o', finished_at: 3 }, attempt: 1, priority: 'normal' })).toBe('refetch');
    expect(rows[0].status === 'succeeded' && rows[0].output).toBe('o');
  });

  it('applies progress', () => {
    const rows = [execution('A')];
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
    const e = withState(execution('A', { status: 'queued' }, { crew_name: 'x' }), { status: 'cancelled', finished_at: 2, was_running: false });
    expect(e.crew_name).toBe('x');
    expect(e.status === 'cancelled' && e.was_running).toBe(false);
  });
});
