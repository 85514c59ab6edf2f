// Pure formatting of times, durations, tokens and statuses for display.

import type { Execution, ExecutionState, Status } from './types';

/** `1.2 s`, `3 min 04 s`, `2 h 05 min`; `—` for a negative or missing duration. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const totalS = Math.floor(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m} min ${String(totalS % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

/** How long the execution has run: until it finished, or until `now` while it runs. */
export function executionDuration(e: Pick<Execution, 'started_at'> & ExecutionState, now: number): number | null {
  if (e.started_at == null) return null;
  if ('finished_at' in e) return e.finished_at - e.started_at;
  if (e.status === 'running' || e.status === 'retrying' || e.status === 'queued') return now - e.started_at;
  return null;
}

/** `950`, `12.3k`, `4.5M`. */
export function formatTokens(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** A local date and time without seconds for today's times omitted date. */
export function formatTime(ms: number | null | undefined, now: number = Date.now()): string {
  if (ms == null) return '—';
  const d = new Date(ms);
  const today = new Date(now);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

/** Whether nothing will change the status any more. */
export function isTerminal(s: Status): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'cancelled';
}

/** 0..1 for the progress bar (1 when succeeded). */
export function progressFraction(e: Pick<Execution, 'status' | 'progress'>): number {
  if (e.status === 'succeeded') return 1;
  const { completed_steps, total_steps } = e.progress;
  if (!total_steps) return 0;
  return Math.min(1, Math.max(0, completed_steps / total_steps));
}

/** `2/3 · write_task · Writer` while running; `2/3` otherwise. */
export function progressLabel(e: Pick<Execution, 'status' | 'progress'>): string {
  const p = e.progress;
  const count = p.total_steps ? `${p.completed_steps}/${p.total_steps}` : '';
  if (e.status !== 'running') return count;
  const parts = [count, p.current_step, p.current_agent].filter((x): x is string => !!x && x.length > 0);
  return parts.join(' · ');
}

/** The text shown for an input value: strings as they are, anything else as JSON. */
export function inputText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
