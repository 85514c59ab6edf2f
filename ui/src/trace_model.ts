// The trace waterfall's pure logic: which rows show (collapsed subtrees hidden), where each bar
// sits on the shared time axis, the axis's ticks, and the live text streamed into a running call.

import type { Trace, TraceSpan } from './trace_types';

/** One visible row of the waterfall. */
export interface WaterfallRow {
  span: TraceSpan;
  /** 0 for a task (or any span without a parent), one more per nesting level. */
  depth: number;
  hasChildren: boolean;
  /** The bar's start and width as fractions (0..1) of the axis. */
  offset: number;
  width: number;
  /** Until its end, or until `now` while it runs. */
  durationMs: number;
}

/** The axis: from the first span's start (or the run's) to the last end, `now` while running. */
export interface Axis {
  start: number;
  end: number;
}

export function axisOf(trace: Trace, now: number): Axis {
  let start = trace.started_at ?? Infinity;
  let end = trace.ended_at ?? -Infinity;
  for (const s of trace.spans) {
    if (s.start_ms < start) start = s.start_ms;
    const e = s.end_ms ?? now;
    if (e > end) end = e;
  }
  if (!Number.isFinite(start)) start = now;
  if (!Number.isFinite(end) || end < start) end = start;
  if (trace.ended_at == null && trace.spans.some((s) => s.end_ms == null)) end = Math.max(end, now);
  return { start, end };
}

/** Children of each span (by id), in the order of `spans`; roots under key -1. */
export function childrenOf(spans: TraceSpan[]): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  const ids = new Set(spans.map((s) => s.id));
  for (const s of spans) {
    const p = s.parent != null && ids.has(s.parent) ? s.parent : -1;
    const list = kids.get(p);
    if (list) list.push(s.id);
    else kids.set(p, [s.id]);
  }
  return kids;
}

/**
 * The rows to draw, depth first in the order of the trace's spans, skipping the descendants of
 * spans in `collapsed`. Bars are placed on `axisOf(trace, now)`; a running span ends at `now`.
 */
export function waterfallRows(trace: Trace, now: number, collapsed: ReadonlySet<number> = new Set()): WaterfallRow[] {
  const axis = axisOf(trace, now);
  const length = Math.max(1, axis.end - axis.start);
  const byId = new Map(trace.spans.map((s) => [s.id, s]));
  const kids = childrenOf(trace.spans);
  const rows: WaterfallRow[] = [];
  // Iterative, so a deep or long trace cannot overflow the stack.
  const stack: [number, number][] = (kids.get(-1) ?? []).slice().reverse().map((id) => [id, 0]);
  const seen = new Set<number>();
  while (stack.length > 0) {
    const [id, depth] = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const span = byId.get(id)!;
    const children = kids.get(id) ?? [];
    const end = span.end_ms ?? Math.max(now, span.start_ms);
    const offset = clamp01((span.start_ms - axis.start) / length);
    rows.push({
      span, depth, hasChildren: children.length > 0, offset,
      width: Math.min(1 - offset, Math.max(0, (end - span.start_ms) / length)),
      durationMs: Math.max(0, end - span.start_ms),
    });
    if (!collapsed.has(id)) for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], depth + 1]);
  }
  return rows;
}

/** Steps a time axis may use, in ms: 1-2-5 below a second, then seconds and minutes people count in. */
const NICE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000];

/** Axis ticks at a nice step (see `NICE_STEPS`), about `count` of them, as fractions of the axis. */
export function axisTicks(axis: Axis, count = 6): { at: number; label: string }[] {
  const length = axis.end - axis.start;
  if (length <= 0) return [{ at: 0, label: '0 ms' }];
  const raw = length / count;
  const step = NICE_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / 3_600_000) * 3_600_000;
  const ticks: { at: number; label: string }[] = [];
  for (let t = 0; t <= length + 1e-9; t += step) ticks.push({ at: t / length, label: tickLabel(t) });
  return ticks;
}

function tickLabel(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m} min ${s} s` : `${m} min`;
}

/** `$0.000038`, `$0.0012`, `$1.25`; `—` for unknown (never `$0` for an unknown price). */
export function formatCost(usd: number | null | undefined): string {
  if (usd == null || !Number.isFinite(usd)) return '—';
  if (usd === 0) return '$0';
  if (usd < 0.0001) return `$${usd.toPrecision(2)}`;
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** The running LLM call a task's streamed text belongs to: its latest call without an end. */
export function liveCallOf(trace: Trace, task: string | null): TraceSpan | null {
  let found: TraceSpan | null = null;
  for (const s of trace.spans) {
    if (s.kind === 'llm_call' && s.end_ms == null && s.status === 'running' && (task == null || s.task === task)) found = s;
  }
  return found;
}

/** A running call's answer so far as the page knows it: its end, and its whole length. */
interface Answer {
  text: string;
  length: number;
}

/**
 * Text streamed into running calls, per task, keeping the last `cap` characters of each (a long
 * answer cannot grow the page without bound). Every piece says where it starts in the answer
 * (`offset`, in JavaScript string length), so a piece the page already has (from the trace's
 * snapshot, or seen twice) is not shown twice; `reset` starts a task's answer again.
 */
export class LiveText {
  private answers = new Map<string, Answer>();
  constructor(private readonly cap = 4000) {}

  /** Adds `text` found at `offset` of `task`'s answer; returns the answer's kept end. */
  push(task: string | null, text: string, offset?: number): string {
    const a = this.answers.get(task ?? '') ?? { text: '', length: 0 };
    const at = offset ?? a.length;
    const end = at + text.length;
    if (end > a.length) {
      // Only what is new: a piece starting before the known end is cut; one after it is a gap.
      const fresh = at >= a.length ? text : text.slice(a.length - at);
      this.set(task, a.text + fresh, end);
    }
    return this.get(task);
  }

  /** Takes a snapshot of `task`'s answer (`text` ending at `length`) when it knows more than the page. */
  adopt(task: string | null, text: string, length: number): void {
    if (length > (this.answers.get(task ?? '')?.length ?? 0)) this.set(task, text, length);
  }

  get(task: string | null): string {
    return this.answers.get(task ?? '')?.text ?? '';
  }

  reset(task: string | null): void {
    this.answers.delete(task ?? '');
  }

  private set(task: string | null, text: string, length: number): void {
    this.answers.set(task ?? '', { text: text.length > this.cap ? text.slice(text.length - this.cap) : text, length });
  }
}

/** The row to move to from `index` for a navigation key, or null when the key does not move. */
export function nextRow(rows: WaterfallRow[], index: number, key: string): number | null {
  if (rows.length === 0) return null;
  switch (key) {
    case 'ArrowDown': return Math.min(rows.length - 1, index + 1);
    case 'ArrowUp': return Math.max(0, index - 1);
    case 'Home': return 0;
    case 'End': return rows.length - 1;
    case 'PageDown': return Math.min(rows.length - 1, index + 10);
    case 'PageUp': return Math.max(0, index - 10);
    default: return null;
  }
}

/** The index of `rows[index]`'s parent row, or null for a top-level row. */
export function parentRow(rows: WaterfallRow[], index: number): number | null {
  const parent = rows[index]?.span.parent;
  if (parent == null) return null;
  const i = rows.findIndex((r) => r.span.id === parent);
  return i < 0 ? null : i;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
