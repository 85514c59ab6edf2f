// The Queue view's data: a page of executions kept current by scheduler events.

import type { Execution, ExecutionEvent, Status, StateFields } from './types';
import { STATE_KEYS } from './types';

/** What applying an event did. `refetch`: the event is about something the page does not hold. */
export type ApplyResult = 'changed' | 'unchanged' | 'refetch';

/** `e` with its state replaced by `state` (fields of the old state removed). */
export function withState(e: Execution, state: StateFields): Execution {
  const next: Execution = { ...e };
  for (const k of STATE_KEYS) delete (next as Partial<Execution>)[k];
  Object.assign(next, state);
  if (state.status === 'running' && next.started_at == null) next.started_at = Date.now();
  return next;
}

/** Applies a scheduler event to `rows` in place. */
export function applyEvent(rows: Execution[], event: ExecutionEvent): ApplyResult {
  if (event.type === 'queue') return 'unchanged';
  const i = rows.findIndex((r) => r.id === event.id);
  if (i < 0) return 'refetch';
  if (event.type === 'state') {
    rows[i] = { ...withState(rows[i], event.state), attempt: event.attempt, priority: event.priority };
    // The final output, usage and errors are only in the stored execution.
    return event.state.status === 'succeeded' || event.state.status === 'failed' ? 'refetch' : 'changed';
  }
  rows[i] = { ...rows[i], progress: event.progress };
  return 'changed';
}

/** Whether `e` passes a status filter (an empty filter passes everything). */
export function matchesFilter(e: Pick<Execution, 'status'>, statuses: Status[]): boolean {
  return statuses.length === 0 || statuses.includes(e.status);
}

/** Whether the row's priority can still be changed. */
export function priorityEditable(e: Pick<Execution, 'status'>): boolean {
  return e.status === 'queued' || e.status === 'retrying';
}
