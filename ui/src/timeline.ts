// The Run detail's per-task timeline, from the crew snapshot, completed steps and the log.

import type { CrewSpec, LogEntry, Status, StepOutput, Usage } from './types';

export type TaskState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';

export interface TaskRow {
  key: string;
  agent: string;
  state: TaskState;
  /** From its `task_started` line to its `task_completed` line (or now while running). */
  durationMs: number | null;
  usage: Usage | null;
  output: string | null;
}

export function buildTimeline(spec: CrewSpec | null, steps: StepOutput[], logs: LogEntry[], status: Status, now: number): TaskRow[] {
  const tasks = spec?.tasks ?? [];
  const stepByKey = new Map(steps.map((s) => [s.step, s]));
  const started = new Map<string, number>();
  const completed = new Map<string, number>();
  const skipped = new Set<string>();
  const agentOf = new Map<string, string>();
  for (const l of logs) {
    if (!l.task) continue;
    if (l.agent) agentOf.set(l.task, l.agent);
    if (l.kind === 'task_started') started.set(l.task, l.at);
    else if (l.kind === 'task_completed') completed.set(l.task, l.at);
    else if (l.kind === 'task_skipped') skipped.add(l.task);
  }
  const roleOf = (key: string | null | undefined) => spec?.agents.find((a) => a.key === key)?.role?.trim() ?? key ?? '';
  return tasks.map((t) => {
    const step = stepByKey.get(t.key);
    const start = started.get(t.key);
    const end = completed.get(t.key);
    let state: TaskState;
    if (step) state = skipped.has(t.key) && start == null ? 'skipped' : 'done';
    else if (start != null) {
      state = status === 'running' ? 'running' : status === 'failed' ? 'failed' : status === 'cancelled' ? 'cancelled' : 'pending';
    } else state = 'pending';
    const durationMs = start != null ? (end ?? (state === 'running' ? now : null) ?? start) - start : null;
    return {
      key: t.key,
      agent: step?.agent || agentOf.get(t.key) || roleOf(t.agent),
      state,
      durationMs: state === 'pending' ? null : durationMs,
      usage: step?.usage ?? null,
      output: step?.output ?? null,
    };
  });
}
