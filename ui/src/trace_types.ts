// The trace's types live with the other Rust-mirrored types (`types.ts`); this adds what only the
// page's live view needs: the streamed-token batches of the `execution-tokens` event.

export type { SpanKind, SpanStatus, Trace, TraceCall, TraceSpan, TraceTotals } from './types';

/** Streamed LLM text of an execution this app runs (`execution-tokens`, throttled). */
export interface TokenBatch {
  id: string;
  task: string | null;
  /** True when a new LLM call of this task began before `text`: the shown answer starts again. */
  restart: boolean;
  /** Where `text` starts in the call's answer (JavaScript string length). */
  offset: number;
  text: string;
}
