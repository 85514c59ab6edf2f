// Queue: every execution, live, with filters and controls.

import { api } from '../api';
import { clear, h, orphanBadge, statusBadge, toast } from '../dom';
import {
  executionDuration, formatDuration, formatTime, formatTokens, isTerminal, progressFraction, progressLabel,
} from '../format';
import { compareBlocker, compareHref, toggleSelection } from '../compare_model';
import { applyEvent, matchesFilter, priorityEditable } from '../queue_model';
import type { Execution, Priority, QueueView, Status } from '../types';
import { PRIORITIES, STATUSES } from '../types';
import type { View } from './view';

let statusFilter: Status[] = [];

export const queueView: View = (root) => {
  let rows: Execution[] = [];
  let queue: QueueView | null = null;
  let nextBefore: string | null = null;
  let stopped = false;
  let refetchTimer: ReturnType<typeof setTimeout> | undefined;
  // Up to two executions picked to compare (ids; the older pick is A).
  let selected: string[] = [];

  const toolbar = h('div', { class: 'toolbar' });
  const table = h('table', { class: 'queue', 'aria-label': 'Executions' });
  const more = h('button', { class: 'secondary', onclick: () => void load(true) }, 'Load more');
  const empty = h('p', { class: 'empty' }, 'No executions yet. Start one from New run, or with `crew-runner submit`.');
  clear(root);
  root.append(h('section', { class: 'panel' }, toolbar, table, empty, more));

  async function load(append = false): Promise<void> {
    try {
      const [page, q] = await Promise.all([
        api.listExecutions({ statuses: statusFilter, limit: 100, before: append ? nextBefore : null }),
        api.getQueue(),
      ]);
      if (stopped) return;
      rows = append ? rows.concat(page.executions) : page.executions;
      nextBefore = page.next_before;
      queue = q;
      render();
    } catch (e) {
      toast((e as { message: string }).message, 'error');
    }
  }

  function scheduleRefetch(): void {
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(() => void load(false), 150);
  }

  function renderToolbar(): void {
    clear(toolbar);
    const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Filter by status' });
    const chip = (label: string, active: boolean, onclick: () => void, count?: number) =>
      h('button', { class: `chip${active ? ' active' : ''}`, 'aria-pressed': String(active), onclick }, label,
        count != null ? h('span', { class: 'count' }, String(count)) : null);
    chips.append(chip('All', statusFilter.length === 0, () => { statusFilter = []; void load(); }));
    for (const s of STATUSES) {
      chips.append(chip(s.replace('_', ' '), statusFilter.includes(s), () => {
        statusFilter = statusFilter.includes(s) ? statusFilter.filter((x) => x !== s) : [...statusFilter, s];
        void load();
      }, queue?.counts[s]));
    }
    const paused = queue?.settings.paused ?? false;
    const pause = h('button', {
      class: paused ? 'primary' : 'secondary',
      id: 'pause-toggle',
      onclick: async () => {
        try {
          const settings = paused ? await api.resumeQueue() : await api.pauseQueue();
          if (queue) queue.settings = settings;
          renderToolbar();
        } catch (e) { toast((e as { message: string }).message, 'error'); }
      },
    }, paused ? 'Resume queue' : 'Pause queue');
    const state = h('span', { class: 'muted' }, paused ? 'Paused: nothing new starts' : `Running up to ${queue?.settings.concurrency ?? '…'} at once`);
    const blocker = compareBlocker(selected, (id) => rows.find((r) => r.id === id)?.crew_name);
    const compare = h('button', {
      class: 'secondary', id: 'compare-selected', disabled: blocker !== null, title: blocker ?? 'Compare the two selected runs',
      onclick: () => { location.hash = compareHref(selected); },
    }, `Compare selected (${selected.length}/2)`);
    toolbar.append(chips, h('div', { class: 'spacer' }), compare, state, pause);
    if (queue?.halted) {
      toolbar.append(h('div', { class: 'error-box', role: 'alert', id: 'scheduler-halted' },
        `Runs stopped: ${queue.halted}. Fix the cause and restart the app; unfinished runs continue then.`));
    }
  }

  function renderRows(): void {
    syncClock();
    clear(table);
    table.append(h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Compare')),
      ...['Status', 'Crew', 'Priority', 'Progress', 'Created', 'Duration', 'Tokens', ''].map((t) => h('th', { scope: 'col' }, t)))));
    const body = h('tbody');
    const now = Date.now();
    for (const e of rows.filter((r) => matchesFilter(r, statusFilter))) {
      body.append(row(e, now));
    }
    table.append(body);
    empty.hidden = rows.length > 0;
    more.hidden = !nextBefore;
  }

  function row(e: Execution, now: number): HTMLElement {
    const open = () => (location.hash = `#/run/${e.id}`);
    const priority = priorityEditable(e)
      ? h('select', {
          'aria-label': `Priority of ${e.crew_name}`,
          onclick: (ev: Event) => ev.stopPropagation(),
          onkeydown: (ev: Event) => ev.stopPropagation(),
          onchange: async (ev: Event) => {
            const p = (ev.target as HTMLSelectElement).value as Priority;
            try { await api.setPriority(e.id, p); } catch (err) { toast((err as { message: string }).message, 'error'); scheduleRefetch(); }
          },
        }, ...PRIORITIES.map((p) => h('option', { value: p, selected: p === e.priority }, p)))
      : h('span', { class: `priority p-${e.priority}` }, e.priority);
    const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(progressFraction(e) * 100) },
      fill(progressFraction(e)));
    const actions = h('td', { class: 'actions' });
    if (!isTerminal(e.status)) {
      actions.append(h('button', {
        class: 'secondary small', 'data-action': 'cancel', disabled: e.cancel_requested,
        onclick: async (ev: Event) => {
          ev.stopPropagation();
          try { await api.cancelExecution(e.id); scheduleRefetch(); } catch (err) { toast((err as { message: string }).message, 'error'); }
        },
      }, e.cancel_requested ? 'Cancelling…' : 'Cancel'));
    } else {
      actions.append(h('button', {
        class: 'secondary small', 'data-action': 'retry',
        onclick: async (ev: Event) => {
          ev.stopPropagation();
          try { const n = await api.retryExecution(e.id); toast(`Queued ${n.id} as a rerun`); scheduleRefetch(); } catch (err) { toast((err as { message: string }).message, 'error'); }
        },
      }, 'Retry'));
    }
    return h('tr', {
      tabindex: 0, 'data-id': e.id, 'data-status': e.status, class: 'clickable',
      onclick: open,
      onkeydown: (ev: Event) => { if ((ev as KeyboardEvent).key === 'Enter') open(); },
    },
      h('td', { class: 'pick' }, h('input', {
        type: 'checkbox', class: 'compare-pick', 'data-id': e.id, checked: selected.includes(e.id),
        'aria-label': `Select ${e.crew_name} run ${e.id} to compare`,
        onclick: (ev: Event) => ev.stopPropagation(),
        onkeydown: (ev: Event) => ev.stopPropagation(),
        onchange: () => { selected = toggleSelection(selected, e.id); renderToolbar(); syncPicks(); },
      })),
      h('td', {}, statusBadge(e.status), orphanBadge(e)),
      h('td', {}, h('div', { class: 'crew' }, e.crew_name), h('div', { class: 'id muted' }, e.id)),
      h('td', {}, priority),
      h('td', { class: 'progress' }, bar, h('div', { class: 'muted small' }, progressLabel(e))),
      h('td', {}, formatTime(e.created_at, now)),
      h('td', { class: 'duration', 'data-id': e.id }, formatDuration(executionDuration(e, now))),
      h('td', {}, formatTokens(e.usage.total_tokens)),
      actions,
    );
  }

  /** Ticks the checkboxes of the selection (a third pick unticks the oldest) without redrawing rows. */
  function syncPicks(): void {
    for (const box of table.querySelectorAll<HTMLInputElement>('input.compare-pick')) box.checked = selected.includes(box.dataset.id ?? '');
  }

  function render(): void {
    renderToolbar();
    renderRows();
  }

  // Running durations tick without re-fetching; the clock runs only while a running execution is
  // listed (an idle window wakes nothing).
  let clock: ReturnType<typeof setInterval> | undefined;
  function tickDurations(): void {
    const now = Date.now();
    for (const cell of table.querySelectorAll<HTMLElement>('td.duration')) {
      const e = rows.find((r) => r.id === cell.dataset.id);
      if (e && e.status === 'running') cell.textContent = formatDuration(executionDuration(e, now));
    }
  }
  function syncClock(): void {
    const running = !stopped && rows.some((r) => r.status === 'running');
    if (running && clock === undefined) clock = setInterval(tickDurations, 1000);
    if (!running && clock !== undefined) {
      clearInterval(clock);
      clock = undefined;
    }
  }

  const unlisten = [
    api.onExecutionEvent((ev) => {
      if (ev.type === 'queue') {
        if (queue) queue.settings = { paused: ev.paused, concurrency: ev.concurrency };
        renderToolbar();
        return;
      }
      const result = applyEvent(rows, ev);
      if (result === 'refetch' || ev.type === 'state') scheduleRefetch();
      if (result === 'changed') renderRows();
    }),
    api.onStoreChanged(scheduleRefetch),
  ];
  void load();

  return () => {
    stopped = true;
    syncClock();
    clearTimeout(refetchTimer);
    for (const u of unlisten) void u.then((f) => f());
  };
};

/** The bar's fill; its width is set through the CSSOM (the CSP forbids inline style attributes). */
function fill(fraction: number): HTMLElement {
  const el = h('div', { class: 'fill' });
  el.style.width = `${(fraction * 100).toFixed(1)}%`;
  return el;
}
