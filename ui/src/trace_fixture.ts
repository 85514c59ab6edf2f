// Traces for the waterfall's tests: a finished two-task run, a running one, and a big one.

import type { Trace, TraceSpan } from './trace_types';

export function span(p: Partial<TraceSpan> & Pick<TraceSpan, 'id' | 'kind' | 'name' | 'start_ms'>): TraceSpan {
  return {
    parent: null, task: null, agent: null, attempt: 1, end_ms: p.start_ms + 100, status: 'ok', usage: null, cost_usd: null,
    model: null, call: null, summary: '', detail: null, ...p,
  };
}

/** research (LLM → tool → LLM) then write (LLM), 1000 ms in all. */
export function finishedTrace(): Trace {
  const u = (p: number, c: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c, llm_calls: 1 });
  return {
    execution_id: '01JTRACE', status: 'succeeded', started_at: 1000, ended_at: 2000, payloads: 'full',
    totals: { llm_calls: 3, tool_calls: 1, delegations: 0, prompt_tokens: 60, completion_tokens: 30, total_tokens: 90, cost_usd: 0.0009 },
    spans: [
      span({ id: 0, kind: 'task', name: 'research', task: 'research', agent: 'Researcher', start_ms: 1000, end_ms: 1600, usage: u(40, 20), cost_usd: 0.0006 }),
      span({ id: 1, parent: 0, kind: 'llm_call', name: 'gpt-4o-mini', task: 'research', agent: 'Researcher', start_ms: 1010, end_ms: 1200, usage: u(20, 10), cost_usd: 0.0003, model: 'gpt-4o-mini', call: 7, summary: 'calling tools: search' }),
      span({ id: 2, parent: 0, kind: 'tool_call', name: 'search', task: 'research', agent: 'Researcher', start_ms: 1200, end_ms: 1300, detail: { tool: 'search', input: '{"q":"owls"}', output: 'Owls hunt at night.' } }),
      span({ id: 3, parent: 0, kind: 'llm_call', name: 'gpt-4o-mini', task: 'research', agent: 'Researcher', start_ms: 1300, end_ms: 1590, usage: u(20, 10), cost_usd: 0.0003, model: 'gpt-4o-mini', call: 11 }),
      span({ id: 4, kind: 'task', name: 'write', task: 'write', agent: 'Writer', start_ms: 1600, end_ms: 2000, usage: u(20, 10), cost_usd: 0.0003 }),
      span({ id: 5, parent: 4, kind: 'llm_call', name: 'gpt-4o-mini', task: 'write', agent: 'Writer', start_ms: 1610, end_ms: 1990, usage: u(20, 10), cost_usd: 0.0003, model: 'gpt-4o-mini', call: 15 }),
    ],
  };
}

/** write's call still streaming (no end), the run going on. */
export function runningTrace(): Trace {
  const t = finishedTrace();
  t.status = 'running';
  t.ended_at = null;
  t.spans[4] = { ...t.spans[4], end_ms: null, status: 'running', usage: null, cost_usd: null };
  t.spans[5] = { ...t.spans[5], end_ms: null, status: 'running', usage: null, cost_usd: null, call: null };
  return t;
}

/** `tasks` tasks of `callsPerTask` LLM calls each, 10 ms apart. */
export function bigTrace(tasks: number, callsPerTask: number): Trace {
  const spans: TraceSpan[] = [];
  let at = 0;
  for (let t = 0; t < tasks; t++) {
    const task = span({ id: spans.length, kind: 'task', name: `task_${t}`, task: `task_${t}`, start_ms: at, end_ms: at + callsPerTask * 10 });
    spans.push(task);
    for (let c = 0; c < callsPerTask; c++) {
      spans.push(span({ id: spans.length, parent: task.id, kind: 'llm_call', name: 'm', task: `task_${t}`, start_ms: at + c * 10, end_ms: at + c * 10 + 9, call: spans.length }));
    }
    at += callsPerTask * 10;
  }
  return {
    execution_id: '01JBIG', status: 'succeeded', started_at: 0, ended_at: at, payloads: 'full', spans,
    totals: { llm_calls: tasks * callsPerTask, tool_calls: 0, delegations: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: null },
  };
}
