// The stored trace of a run (`src-tauri/src/app/trace.rs`): what the `get_execution_trace` and
// `get_trace_call` commands return, and `crew-runner trace ID --json` prints.

import type { Status } from './types';

export type SpanKind = 'task' | 'llm_call' | 'tool_call' | 'delegation';
export type SpanStatus = 'running' | 'ok' | 'failed' | 'skipped' | 'cancelled';

/** Tokens of one call (or summed over a task's calls). */
export interface TraceUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** One row of the waterfall: a task, or an LLM call, tool call or delegation inside it. */
export interface TraceSpan {
  /** Its index in `Trace.spans`. */
  id: number;
  parent: number | null;
  kind: SpanKind;
  /** Task key, model, tool name, or `From role → To role`. */
  name: string;
  task: string | null;
  agent: string | null;
  attempt: number;
  start_ms: number;
  /** Null while it still runs. */
  end_ms: number | null;
  status: SpanStatus;
  usage: TraceUsage | null;
  cost_usd: number | null;
  model: string | null;
  /** An LLM call whose messages were kept: the key for `get_trace_call`. */
  call: number | null;
  /** One line: the answer's start, the tool's result, or the error. */
  summary: string;
  /** Tool calls: `{tool, input, output}`; delegations: `{request, …}`; otherwise null. */
  detail: unknown;
}

export interface TraceTotals {
  llm_calls: number;
  tool_calls: number;
  delegations: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Null when any call's price is unknown. */
  cost_usd: number | null;
}

export interface Trace {
  execution_id: string;
  status: Status;
  started_at: number | null;
  ended_at: number | null;
  spans: TraceSpan[];
  totals: TraceTotals;
  /** Whether LLM calls' messages are kept (`full`) or only their timing, tokens and cost. */
  payloads: 'full' | 'metadata';
}

export interface TraceMessage {
  role: string;
  content: string | null;
  name?: string | null;
  tool_call_id?: string | null;
  tool_calls?: { name: string; arguments: string }[] | null;
}

/** What one LLM call sent and received (secrets redacted). */
export interface TraceCall {
  execution_id: string;
  call: number;
  model: string;
  endpoint: string | null;
  messages: TraceMessage[];
  tools: string[];
  response: { content: string | null; tool_calls: { name: string; arguments: string }[]; finish_reason: string | null };
  usage: TraceUsage | null;
  started_at: number;
  ended_at: number;
}

/** Streamed LLM text of an execution this app runs (`execution-tokens`, throttled). */
export interface TokenBatch {
  id: string;
  task: string | null;
  /** True when a new LLM call of this task began before `text`: the shown answer starts again. */
  restart: boolean;
  text: string;
}
