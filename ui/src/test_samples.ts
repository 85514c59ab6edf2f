// Test helpers: values of the generated types built on the real JSON of `gen/samples.ts` (serde's
// output of Rust values), so a test states only what it is about.

import { executions } from './gen/samples';
import type { AgentSpec, CrewSpec, Execution, ExecutionState, LogEntry, StateKey, TaskSpec } from './types';

const native = executions[0].crew_spec as CrewSpec;

export function agentSpec(over: Pick<AgentSpec, 'key' | 'role'> & Partial<AgentSpec>): AgentSpec {
  return { ...native.agents[0], ...over };
}

export function taskSpec(over: Pick<TaskSpec, 'key'> & Partial<TaskSpec>): TaskSpec {
  return { ...native.tasks[0], ...over };
}

export function crewSpec(over: Partial<CrewSpec>): CrewSpec {
  return { ...native, ...over };
}

/** The fields of an execution that are not its state's (`started_at` is both: the first attempt's start). */
export type ExecutionBase = Omit<Execution, Exclude<StateKey, 'started_at'>>;

/** A native execution `id` in `state` (queued), with `over` on top. */
export function execution(id: string, state: ExecutionState = { status: 'queued' }, over: Partial<ExecutionBase> = {}): Execution {
  const { status: _, ...base } = executions[0];
  void _;
  return { ...base, engine: 'native', priority: 'normal', id, ...over, ...state } as Execution;
}

export function logEntry(over: Pick<LogEntry, 'seq' | 'kind'> & Partial<LogEntry>): LogEntry {
  return { execution_id: 'A', attempt: 1, at: 0, level: 'info', message: '', data: null, ...over };
}
