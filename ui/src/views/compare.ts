// Compare: two executions of one crew side by side, each task's output as a word diff, the first
// task whose output differs highlighted and scrolled into view. Run text goes in as text nodes.

import { api } from '../api';
import { clear, h, statusBadge } from '../dom';
import { segmentElement, summaryRows, taskOutcome, taskRows } from '../compare_model';
import type { RunComparison, TaskComparison } from '../types';
import type { View } from './view';

/** `param` is `A/B` (from `#/compare/A/B`). */
export const compareView: View = (root, param) => {
  let stopped = false;
  const [a, b] = (param ?? '').split('/').map(decodeURIComponent);
  const body = h('div', { class: 'compare' });
  clear(root);
  root.append(h('a', { href: '#/queue', class: 'back' }, '← Queue'), body);
  if (!a || !b) {
    body.append(h('p', { class: 'empty' }, 'Select two runs of the same crew in the Queue to compare them.'));
    return () => {};
  }
  body.append(h('p', { class: 'muted' }, 'Comparing…'));

  void api.compareExecutions(a, b).then(
    (c) => { if (!stopped) render(c); },
    (e) => {
      if (stopped) return;
      clear(body);
      body.append(h('div', { class: 'error-box', role: 'alert', id: 'compare-error' }, (e as { message: string }).message));
    },
  );

  function render(c: RunComparison): void {
    clear(body);
    body.append(h('h1', { class: 'crew-title' }, `Compare runs of ${c.a.crew_name}`));
    const summary = h('table', { class: 'compare-summary', 'aria-label': 'Runs compared' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, 'A'), h('th', { scope: 'col' }, 'B'))));
    const rows = h('tbody');
    for (const [label, x, y] of summaryRows(c)) {
      const cell = (v: string) => (label === 'Status' ? h('td', {}, statusBadge(v)) : h('td', {}, v));
      rows.append(h('tr', { class: x === y ? '' : 'changed' }, h('th', { scope: 'row' }, label), cell(x), cell(y)));
    }
    summary.append(rows);
    body.append(h('section', { class: 'panel' }, h('h2', {}, 'Runs'), summary));

    const first = c.first_difference;
    body.append(h('p', { class: first ? 'first-difference-note' : 'muted', id: 'first-difference', role: 'status' },
      first ? `First difference: task ${first}` : 'Every task’s output is the same.'));

    const tasks = h('table', { class: 'compare-tasks', 'aria-label': 'Tasks compared' },
      h('thead', {}, h('tr', {}, ...['Task', 'Agent (A | B)', 'Duration (A | B)', 'Tokens (A | B)', 'Cost (A | B)', 'Output']
        .map((t) => h('th', { scope: 'col' }, t)))));
    const taskBody = h('tbody');
    const cells = taskRows(c);
    c.tasks.forEach((t, i) => {
      const isFirst = t.task === first;
      const [name, ...rest] = cells[i];
      const outcome = rest.pop()!;
      const link = t.differs ? h('a', { href: `#diff-${i}`, onclick: (ev: Event) => { ev.preventDefault(); focusDiff(i); } }, name) : name;
      taskBody.append(h('tr', {
        class: `${t.differs ? 'differs' : 'same'}${isFirst ? ' first-difference' : ''}`,
        'data-task': t.task,
        'aria-current': isFirst ? 'true' : null,
      },
        h('th', { scope: 'row' }, link, isFirst ? h('span', { class: 'badge first-badge' }, 'first difference') : null),
        ...rest.map((v) => h('td', {}, v)),
        h('td', { class: `outcome outcome-${taskOutcome(t).replace(/ /g, '-')}` }, outcome),
      ));
    });
    tasks.append(taskBody);
    body.append(h('section', { class: 'panel' }, h('h2', {}, 'Tasks'),
      c.tasks.length ? tasks : h('p', { class: 'empty' }, 'No task finished in either run.')));

    c.tasks.forEach((t, i) => { if (t.differs) body.append(diffSection(t, i, t.task === first)); });

    const firstRow = first ? taskBody.querySelector<HTMLElement>('tr.first-difference') : null;
    firstRow?.scrollIntoView({ block: 'center' });
  }

  function focusDiff(i: number): void {
    const section = body.querySelector<HTMLElement>(`#diff-${i}`);
    section?.scrollIntoView({ block: 'start' });
    section?.focus();
  }

  return () => { stopped = true; };
};

/** A differing task's output: deletions (only in A) as `<del>`, insertions (only in B) as `<ins>`. */
function diffSection(t: TaskComparison, i: number, first: boolean): HTMLElement {
  const pre = h('pre', { class: 'diff', 'data-task': t.task });
  for (const s of t.diff.segments) {
    const tag = segmentElement(s.op);
    pre.append(tag === 'span' ? document.createTextNode(s.text) : h(tag, { title: tag === 'del' ? 'only in A' : 'only in B' }, s.text));
  }
  return h('section', { class: `panel task-diff${first ? ' first-difference' : ''}`, id: `diff-${i}`, tabindex: -1, 'aria-label': `Output of ${t.task}, A against B` },
    h('h2', {}, `${t.task} — ${taskOutcome(t)}`),
    t.diff.note ? h('p', { class: 'muted small' }, t.diff.note) : null,
    h('p', { class: 'muted small legend' }, h('del', {}, 'only in A'), ' ', h('ins', {}, 'only in B')),
    pre,
  );
}
