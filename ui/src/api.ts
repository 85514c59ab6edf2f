// The only module that talks to the Rust side: typed wrappers over the commands and events.

import { Channel, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  CancelOutcome, CrewEntry, CrewGraph, CrewPreview, CrewReport, EngineChoice, Execution, ExecutionEventPayload, ExecutionPage, ListQuery,
  LogEntry, LogStreamMessage, Priority, QueueSettings, QueueView, RunComparison, SettingsUpdate, SettingsView, StepOutput,
  SubmitArgs, Submitted, Trace, TraceCall, UiError,
} from './types';
import type { TokenBatch } from './trace_types';

/** Event names (see `src-tauri/src/gui/events.rs`). */
export const EXECUTION_EVENT = 'execution-event';
export const STORE_CHANGED_EVENT = 'store-changed';
export const TOKENS_EVENT = 'execution-tokens';

/** Any rejection as a `{kind, message}` (commands reject with a `CommandError`, exactly that; other
 *  failures are wrapped as `internal`). */
export function toCommandError(e: unknown): UiError {
  if (e && typeof e === 'object' && 'kind' in e && 'message' in e) {
    const o = e as { kind: unknown; message: unknown };
    return { kind: String(o.kind) as UiError['kind'], message: String(o.message) };
  }
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toCommandError(e);
  }
}

export const api = {
  submitExecution: (request: SubmitArgs) => call<Submitted>('submit_execution', { request }),
  cancelExecution: (id: string) => call<CancelOutcome>('cancel_execution', { id }),
  /** Answers the review the execution awaits: no feedback accepts the answer, feedback sends it back. */
  answerExecution: (id: string, feedback?: string) => call<Execution>('answer_execution', { id, feedback: feedback ?? null }),
  getExecution: (id: string) => call<Execution>('get_execution', { id }),
  getExecutionSteps: (id: string) => call<StepOutput[]>('get_execution_steps', { id }),
  getExecutionGraph: (id: string) => call<CrewGraph | null>('get_execution_graph', { id }),
  listExecutions: (query: ListQuery) => call<ExecutionPage>('list_executions', { query }),
  getExecutionLogs: (id: string, after_seq: number, limit?: number) =>
    call<LogEntry[]>('get_execution_logs', { id, after_seq, limit }),
  retryExecution: (id: string, from_task?: string) => call<Execution>('retry_execution', { id, from_task: from_task ?? null }),
  setPriority: (id: string, priority: Priority) => call<Execution>('set_priority', { id, priority }),
  compareExecutions: (a: string, b: string) => call<RunComparison>('compare_executions', { a, b }),
  /** The run's trace: task spans with their LLM calls, tool calls and delegations (`crew-runner trace --json`). */
  getExecutionTrace: (id: string) => call<Trace>('get_execution_trace', { id }),
  /** What LLM call `call` (a span's `call`) sent and received; rejects `not_found` when it was not kept. */
  getTraceCall: (id: string, n: number) => call<TraceCall>('get_trace_call', { id, call: n }),
  pauseQueue: () => call<QueueSettings>('pause_queue'),
  resumeQueue: () => call<QueueSettings>('resume_queue'),
  getQueue: () => call<QueueView>('get_queue'),
  validateCrew: (path: string) => call<CrewReport>('validate_crew', { path }),
  previewCrew: (path: string, engine: EngineChoice, python: string | null) =>
    call<CrewPreview>('preview_crew', { path, engine, python }),
  listCrews: () => call<CrewEntry[]>('list_crews'),
  importCrew: (path: string) => call<CrewEntry>('import_crew', { path }),
  pickCrew: (folder: boolean) => call<string | null>('pick_crew', { folder }),
  pickFile: () => call<string | null>('pick_file'),
  getSettings: () => call<SettingsView>('get_settings'),
  setSettings: (update: SettingsUpdate) => call<SettingsView>('set_settings', { update }),

  /** Streams the log after `afterSeq` to `onMessage`; resolves to a function that stops it. */
  async followLogs(id: string, afterSeq: number, onMessage: (m: LogStreamMessage) => void): Promise<() => void> {
    const channel = new Channel<LogStreamMessage>(onMessage);
    const sub = await call<number>('follow_execution_logs', { id, after_seq: afterSeq, channel });
    return () => {
      channel.onmessage = () => {};
      void call<boolean>('unfollow_execution_logs', { subscription: sub }).catch(() => {});
    };
  },

  onExecutionEvent: (handler: (e: ExecutionEventPayload) => void): Promise<UnlistenFn> =>
    listen<ExecutionEventPayload>(EXECUTION_EVENT, (e) => handler(e.payload)),
  /** Streamed LLM text of executions this app runs, a batch per execution and task at most every 100 ms. */
  onTokens: (handler: (batches: TokenBatch[]) => void): Promise<UnlistenFn> =>
    listen<TokenBatch[]>(TOKENS_EVENT, (e) => handler(e.payload)),
  onStoreChanged: (handler: () => void): Promise<UnlistenFn> => listen(STORE_CHANGED_EVENT, () => handler()),
};
