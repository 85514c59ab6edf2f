// Test data: a comparison of two runs, for the Compare model and view tests.

import type { RunComparison, TaskComparison } from './types';

/** One task's numbers, the same in every run. */
export const run = { agent: 'Writer', duration_ms: 1500, total_tokens: 1200, cost_usd: 0.00123 };

/** A task finished the same way in both runs, unless `over` says otherwise. */
export function task(name: string, over: Partial<TaskComparison> = {}): TaskComparison {
  return { task: name, a: run, b: run, differs: false, diff: { granularity: 'word', segments: [{ op: 'equal', text: 'x' }] }, ...over };
}

/** Two runs of `blog`: `research` the same, `write` differs first, `review` only in A. */
export function comparison(): RunComparison {
  const summary = { crew_name: 'blog', status: 'succeeded' as const, models: [], duration_ms: 2500, total_tokens: 40, cost_usd: null };
  return {
    a: { ...summary, id: 'A1', inputs: { topic: 'queues' } },
    b: { ...summary, id: 'B2', inputs: { topic: 'locks', n: 3 }, models: ['offline'] },
    tasks: [
      task('research'),
      task('write', { differs: true, diff: { granularity: 'word', segments: [{ op: 'equal', text: 'About ' }, { op: 'delete', text: 'queues' }, { op: 'insert', text: 'locks' }] } }),
      task('review', { b: null, differs: true }),
    ],
    first_difference: 'write',
  };
}
