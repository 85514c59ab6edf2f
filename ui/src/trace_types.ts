// The trace's types and the streamed-token batches of the `execution-tokens` event (`TokenBatch`),
// generated from the Rust types like the rest (`types.ts`).

export type { SpanKind, SpanStatus, TokenBatch, Trace, TraceCall, TraceSpan, TraceTotals } from './types';
