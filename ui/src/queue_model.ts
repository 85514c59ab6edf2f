// The Queue view's data: a page of executions kept current by scheduler events.

import type { Execution, ExecutionEventPayload, ExecutionState, Status } from './types';
import { STATE_KEYS } from './types';

/** What applying an event did. `refetch`: the event is about something the page does not hold. */
export type ApplyResult = 'changed' | 'unchanged' | 'refetch';

/** `e` with its state replaced by `state` (fields of the old state removed). The execution keeps
 *  its own `started_at` (its first attempt's start); a first attempt sets it from the running
 *  state's `attempt_started_at`. */
export function withState(e: Execution, state: ExecutionState): Execution {
  const next: Record<string, unknown> = { ...e };
  for (const k of STATE_KEYS) delete next[k];
  Object.assign(next, state);
  if (next.started_at == null && state.status === 'running') next.started_at = state.attempt_started_at;
  return next as Execution;
}

/** Applies a scheduler event to `rows` in place. */
export function applyEvent(rows: Execution[], event: ExecutionEventPayload): ApplyResult {
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
