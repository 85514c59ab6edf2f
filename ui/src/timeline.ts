// The Run detail's per-task timeline, from the crew snapshot, completed steps and the log.

import { nativeSpec } from './engine';
import type { CrewSnapshot, LogEntry, Status, StepOutput, Usage } from './types';

export type TaskState = 'pending' | 'running' | 'awaiting_review' | 'done' | 'skipped' | 'failed' | 'cancelled';

export interface TaskRow {
  key: string;
  agent: string;
  state: TaskState;
  /** From its `task_started` line to its `task_completed` line (or now while running). */
  durationMs: number | null;
  usage: Usage | null;
  output: string | null;
}

/**
 * The rows of the crew's tasks. A native crew (or one translated to CrewAI) lists its tasks; a
 * Python crew's (a CrewAI target without `translated`) are the ones its log and steps name, in the
 * order they first appear, flow methods included.
 */
export function buildTimeline(snapshot: CrewSnapshot | null, steps: StepOutput[], logs: LogEntry[], status: Status, now: number): TaskRow[] {
  const spec = nativeSpec(snapshot);
  const tasks: { key: string; agent?: string | null }[] = spec ? spec.tasks : snapshot ? observedTasks(steps, logs) : [];
  const stepByKey = new Map(steps.map((s) => [s.step, s]));
  const started = new Map<string, number>();
  const completed = new Map<string, number>();
  const skipped = new Set<string>();
  const agentOf = new Map<string, string>();
  const methodOutput = new Map<string, string>();
  for (const l of logs) {
    if (!l.task) continue;
    if (l.agent) agentOf.set(l.task, l.agent);
    if (l.kind === 'task_started') started.set(l.task, l.at);
    else if (l.kind === 'task_completed') completed.set(l.task, l.at);
    else if (l.kind === 'task_skipped') skipped.add(l.task);
    else if (!spec && isMethodFinished(l)) {
      completed.set(l.task, l.at);
      methodOutput.set(l.task, String((l.data as { output?: unknown }).output ?? ''));
    }
  }
  const roleOf = (key: string | null | undefined) => spec?.agents.find((a) => a.key === key)?.role?.trim() ?? key ?? '';
  return tasks.map((t) => {
    const step = stepByKey.get(t.key);
    const start = started.get(t.key);
    const end = completed.get(t.key);
    const method = methodOutput.get(t.key);
    let state: TaskState;
    if (step || method != null) state = skipped.has(t.key) && start == null ? 'skipped' : 'done';
    else if (start != null) {
      state = status === 'running' ? 'running' : status === 'failed' ? 'failed' : status === 'cancelled' ? 'cancelled'
        : status === 'awaiting_input' ? 'awaiting_review' : 'pending';
    } else state = 'pending';
    const durationMs = start != null ? (end ?? (state === 'running' ? now : null) ?? start) - start : null;
    return {
      key: t.key,
      agent: step?.agent || agentOf.get(t.key) || roleOf(t.agent),
      state,
      durationMs: state === 'pending' ? null : durationMs,
      usage: step?.usage ?? null,
      output: step?.output ?? method ?? null,
    };
  });
}

/** A CrewAI flow method's `finished` line (an `agent_step` naming the flow and the method's output). */
function isMethodFinished(l: LogEntry): boolean {
  const d = l.data as Record<string, unknown> | null | undefined;
  return l.kind === 'agent_step' && !!d && typeof d === 'object' && 'flow' in d && 'output' in d;
}

/**
 * The tasks a Python crew ran or planned, in order of first appearance: a crew's kickoff line lists
 * its tasks (`data.tasks`), a resume names those it reused (`data.skipped`), then each line's task
 * and each stored step (earlier attempts' included).
 */
export function observedTasks(steps: StepOutput[], logs: LogEntry[]): { key: string }[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  const add = (key: unknown) => {
    if (typeof key === 'string' && key && !seen.has(key)) { seen.add(key); keys.push(key); }
  };
  for (const l of logs) {
    const d = l.data as { tasks?: unknown; skipped?: unknown } | null | undefined;
    if (d && typeof d === 'object') {
      if (l.kind === 'agent_step' && Array.isArray(d.tasks)) d.tasks.forEach(add);
      if (l.kind === 'task_skipped' && Array.isArray(d.skipped)) d.skipped.forEach(add);
    }
    if (l.task && (l.kind === 'task_started' || l.kind === 'task_completed' || l.kind === 'task_skipped')) add(l.task);
  }
  for (const s of steps) add(s.step);
  return keys.map((key) => ({ key }));
}
