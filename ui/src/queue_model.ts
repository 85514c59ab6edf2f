// The Queue view's data: a page of executions kept current by scheduler events.

import type { Execution, ExecutionEventPayload, ExecutionState, Status } from './types';
import { STATE_KEYS } from './types';

/** What applying an event did. `refetch`: the event is about something the page does not hold. */
export type ApplyResult = 'changed' | 'unchanged' | 'refetch';

/** `e` with its state replaced by `state` (fields of the old state removed). A running state's
 *  `started_at` is its attempt's start: the execution keeps its own (the first attempt's), as
 *  `get_execution`'s JSON does (it has both under one key; a JSON parser keeps the execution's). */
export function withState(e: Execution, state: ExecutionState): Execution {
  const next: Record<string, unknown> = { ...e };
  for (const k of STATE_KEYS) if (k !== 'started_at') delete next[k];
  const { started_at: attemptStart, ...fields } = { started_at: undefined, ...state };
  Object.assign(next, fields);
  if (next.started_at == null && attemptStart != null) next.started_at = attemptStart;
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
