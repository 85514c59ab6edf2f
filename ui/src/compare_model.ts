// The Compare view's data: picking two executions in the Queue, and a comparison as rows.

import { formatDuration, formatTokens, inputText } from './format';
import type { RunComparison, RunSummary, SegmentOp, TaskComparison, TaskRun } from './types';

/** The selection after toggling `id`: added (the oldest pick dropped past two) or removed. */
export function toggleSelection(selected: string[], id: string): string[] {
  if (selected.includes(id)) return selected.filter((s) => s !== id);
  return [...selected, id].slice(-2);
}

/**
 * Why the selection cannot be compared (`null` when it can): two executions of the same crew,
 * by crew name, are needed. `crewOf` gives an id's crew (`undefined` when not listed).
 */
export function compareBlocker(selected: string[], crewOf: (id: string) => string | undefined): string | null {
  if (selected.length < 2) return `Select ${2 - selected.length} more run${selected.length === 1 ? '' : 's'} of the same crew to compare`;
  const [a, b] = selected.map(crewOf);
  if (a !== undefined && b !== undefined && a !== b) return `Different crews (${a} and ${b}): pick two runs of the same crew`;
  return null;
}

/** `#/compare/A/B` for the selection (older pick as A). */
export function compareHref(selected: string[]): string {
  return `#/compare/${encodeURIComponent(selected[0])}/${encodeURIComponent(selected[1])}`;
}

/** `$0.0012`, or `unknown` when the price of a model is not known. */
export function formatCost(usd: number | null | undefined): string {
  return usd == null ? 'unknown' : `$${usd.toFixed(4)}`;
}

/** The side-by-side summary: `[label, A, B]` rows. */
export function summaryRows(c: RunComparison): [string, string, string][] {
  const row = (label: string, f: (r: RunSummary) => string): [string, string, string] => [label, f(c.a), f(c.b)];
  const inputs = (r: RunSummary) => Object.entries(r.inputs).map(([k, v]) => `${k}=${inputText(v)}`).join(', ') || '—';
  return [
    row('Run', (r) => r.id),
    row('Status', (r) => r.status),
    row('Inputs', inputs),
    row('Models', (r) => (r.models.length ? r.models.join(', ') : 'configured default')),
    row('Duration', (r) => formatDuration(r.duration_ms)),
    row('Tokens', (r) => formatTokens(r.total_tokens)),
    row('Cost', (r) => formatCost(r.cost_usd)),
  ];
}

/** What became of a task's output: `same`, `differs`, or finished in one run only. */
export function taskOutcome(t: TaskComparison): 'same' | 'differs' | 'only in A' | 'only in B' {
  if (t.a && !t.b) return 'only in A';
  if (!t.a && t.b) return 'only in B';
  return t.differs ? 'differs' : 'same';
}

/** A per-task cell: A's value and B's, `—` for a run that did not finish the task. */
export function pair(t: TaskComparison, f: (r: TaskRun) => string): string {
  return `${t.a ? f(t.a) : '—'} | ${t.b ? f(t.b) : '—'}`;
}

/** The per-task table: task, agent, duration, tokens, cost, outcome (in the crew's order). */
export function taskRows(c: RunComparison): string[][] {
  return c.tasks.map((t) => [
    t.task,
    pair(t, (r) => r.agent),
    pair(t, (r) => formatDuration(r.duration_ms)),
    pair(t, (r) => formatTokens(r.total_tokens)),
    pair(t, (r) => formatCost(r.cost_usd)),
    taskOutcome(t),
  ]);
}

/** The element a diff segment is drawn as: `<del>` (only in A), `<ins>` (only in B), or text. */
export function segmentElement(op: SegmentOp): 'del' | 'ins' | 'span' {
  return op === 'delete' ? 'del' : op === 'insert' ? 'ins' : 'span';
}
