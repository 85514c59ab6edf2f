// Run detail: timeline of tasks, live log, output (sanitised Markdown), error, inputs, and the
// review panel while a task's answer awaits a person (`human_input`).

import { api } from '../api';
import { append, clear, h, orphanBadge, statusBadge, toast } from '../dom';
import { executionDuration, formatDuration, formatTime, formatTokens, inputText, isTerminal, progressLabel } from '../format';
import { engineLabel } from '../engine';
import { renderMarkdown } from '../markdown';
import { withState } from '../queue_model';
import { taskStates } from '../crew_graph_layout';
import { buildTimeline } from '../timeline';
import type { CrewGraph, Execution, StepOutput } from '../types';
import { CrewGraphView } from './crew_graph';
import { LogView } from './log_view';
import { reviewPanel } from './review_panel';
import { TraceWaterfallView } from './trace_waterfall';
import type { View } from './view';

export const detailView: View = (root, id) => {
  let execution: Execution | null = null;
  let steps: StepOutput[] = [];
  let stopped = false;
  let unfollow: (() => void) | null = null;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const log = new LogView();
  /** Fetched once with the first load; its task nodes are coloured from the timeline's rows. */
  let graph: CrewGraph | null = null;
  const graphView = new CrewGraphView();
  const graphPanel = h('section', { class: 'panel', hidden: true }, h('h2', {}, 'Crew graph'), graphView.el);
  const waterfall = new TraceWaterfallView((call) => api.getTraceCall(id!, call));
  let traceTimer: ReturnType<typeof setTimeout> | undefined;

  const header = h('div', { class: 'detail-header' });
  const errorBox = h('div', { class: 'error-box', hidden: true, role: 'alert' });
  // The review panel while the run awaits input; rebuilt only when what waits changes (so typed
  // feedback survives progress renders).
  const review = h('div', { class: 'review' });
  let reviewShown = '';
  const timeline = h('table', { class: 'timeline', 'aria-label': 'Tasks' });
  const output = h('div', { class: 'output markdown', 'data-testid': 'final-output' });
  const inputs = h('table', { class: 'inputs' });
  clear(root);
  root.append(
    h('a', { href: '#/queue', class: 'back' }, '← Queue'),
    header,
    errorBox,
    review,
    h('section', { class: 'panel' }, h('h2', {}, 'Tasks'), timeline),
    h('section', { class: 'panel trace-panel' }, h('h2', {}, 'Trace'), waterfall.el),
    graphPanel,
    h('section', { class: 'panel output-panel' }, h('h2', {}, 'Output'), output),
    h('section', { class: 'panel' }, h('h2', {}, 'Log'), log.el),
    h('section', { class: 'panel' }, h('h2', {}, 'Inputs'), inputs),
  );

  if (!id) {
    header.append(h('p', {}, 'No execution selected.'));
    return () => {};
  }

  async function load(): Promise<void> {
    try {
      const first = execution === null;
      const [e, s, g, t] = await Promise.all([api.getExecution(id!), api.getExecutionSteps(id!),
        first ? api.getExecutionGraph(id!) : Promise.resolve(graph), api.getExecutionTrace(id!)]);
      if (stopped) return;
      execution = e;
      steps = s;
      waterfall.show(t);
      if (first) {
        graph = g;
        graphView.show(g);
        graphPanel.hidden = !g;
      }
      render();
    } catch (e) {
      toast((e as { message: string }).message, 'error');
    }
  }

  /**
   * Re-reads the trace when calls start or end: at most every 250 ms, and never spending more
   * than about a quarter of the time on it (a big run's trace takes longer to fetch and draw).
   */
  let traceGap = 250;
  function scheduleTrace(): void {
    if (traceTimer !== undefined) return;
    traceTimer = setTimeout(() => {
      const t0 = performance.now();
      api.getExecutionTrace(id!).then((t) => {
        if (!stopped) waterfall.show(t);
      }, () => {}).finally(() => {
        traceGap = Math.max(250, 3 * (performance.now() - t0));
        traceTimer = undefined;
      });
    }, traceGap);
  }

  function scheduleReload(): void {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(), 150);
  }

  async function follow(): Promise<void> {
    unfollow?.();
    unfollow = await api.followLogs(id!, log.lastSeq, (m) => {
      if (m.type === 'lines') {
        log.append(m.entries);
        if (m.entries.some((l) => TRACED.has(l.kind))) scheduleTrace();
        if (m.entries.some((l) => l.kind === 'task_completed' || l.kind === 'task_started')) scheduleReload();
        else if (execution) renderTimeline();
      } else if (m.type === 'end') {
        scheduleReload();
      } else if (m.type === 'orphaned') {
        // Its worker process is gone and none is alive to recover it: nothing is logged until one starts.
        toast(`The worker running this execution (${m.owner}) is gone; it goes on when a worker starts.`, 'error');
        scheduleReload();
      } else {
        toast(m.message, 'error');
      }
    });
    if (stopped) unfollow();
  }

  async function retry(fromTask?: string): Promise<void> {
    try {
      const n = await api.retryExecution(id!, fromTask);
      location.hash = `#/run/${n.id}`;
    } catch (e) { toast((e as { message: string }).message, 'error'); }
  }

  function render(): void {
    if (!execution) return;
    const e = execution;
    clear(header);
    const actions = h('div', { class: 'actions' });
    if (!isTerminal(e.status)) {
      actions.append(h('button', {
        class: 'secondary', 'data-action': 'cancel', disabled: e.cancel_requested,
        onclick: async () => { try { await api.cancelExecution(e.id); scheduleReload(); } catch (err) { toast((err as { message: string }).message, 'error'); } },
      }, e.cancel_requested ? 'Cancelling…' : 'Cancel'));
    } else {
      actions.append(h('button', { class: 'primary', 'data-action': 'retry', onclick: () => void retry() }, 'Retry'));
    }
    header.append(
      h('div', {}, h('h2', { class: 'crew-title' }, e.crew_name, ' ', statusBadge(e.status), orphanBadge(e)),
        h('div', { class: 'muted small' }, `${e.id} · ${e.crew_source}`),
        h('div', { class: 'facts' },
          fact('Engine', engineLabel(e)), fact('Priority', e.priority), fact('Attempt', `${e.attempt}/${e.max_attempts}`),
          fact('Created', formatTime(e.created_at)), fact('Duration', formatDuration(executionDuration(e, Date.now()))),
          fact('Tokens', formatTokens(e.usage.total_tokens)), fact('LLM calls', String(e.usage.llm_calls)),
          e.usage.cost_usd != null ? fact('Cost', `$${e.usage.cost_usd.toFixed(4)}`) : null,
          fact('Progress', progressLabel(e) || '—'),
          e.llm.model ? fact('Model', e.llm.model) : null, e.llm.replay ? fact('Replay', e.llm.replay) : null)),
      actions,
    );
    const err = e.status === 'failed' ? e.error : e.status === 'retrying' ? e.last_error : undefined;
    errorBox.hidden = !err;
    clear(errorBox);
    if (err) append(errorBox, h('strong', { class: 'error-kind' }, err.kind), ' ', h('span', { class: 'error-message' }, err.message),
      e.status === 'retrying' && e.next_run_at ? h('div', { class: 'small' }, `retrying at ${formatTime(e.next_run_at)}`) : null);
    const waiting = e.status === 'awaiting_input' && e.request ? `${e.request.task}#${e.request.round}` : '';
    if (waiting !== reviewShown) {
      reviewShown = waiting;
      clear(review);
      append(review, reviewPanel(e, () => { reviewShown = ''; scheduleReload(); }));
    }
    renderTimeline();
    clear(output);
    if (e.status === 'succeeded' && e.output != null) output.innerHTML = renderMarkdown(e.output);
    else output.append(h('p', { class: 'muted' }, e.status === 'cancelled' ? 'Cancelled.' : isTerminal(e.status) ? 'No output.'
      : e.status === 'awaiting_input' ? 'Waiting for your review (above).' : 'Not finished yet.'));
    clear(inputs);
    const keys = Object.keys(e.inputs);
    if (keys.length === 0) inputs.append(h('tr', {}, h('td', { class: 'muted' }, 'No inputs.')));
    for (const k of keys) inputs.append(h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, inputText(e.inputs[k]))));
  }

  function renderTimeline(): void {
    if (!execution) return;
    const e = execution;
    const rows = buildTimeline(e.crew_spec, steps, log.entries, e.status, Date.now());
    if (graph) graphView.setStates(taskStates(graph, rows));
    clear(timeline);
    timeline.append(h('thead', {}, h('tr', {}, ...['Task', 'Agent', 'State', 'Duration', 'Tokens', ''].map((t) => h('th', { scope: 'col' }, t)))));
    const body = h('tbody');
    for (const r of rows) {
      const details = r.output != null
        ? h('details', {}, h('summary', {}, 'Output'), markdownBlock(r.output))
        : null;
      append(body,
        h('tr', { 'data-task': r.key },
          h('td', {}, h('code', {}, r.key)), h('td', {}, r.agent), h('td', {}, h('span', { class: `badge task-${r.state}` }, r.state)),
          h('td', {}, formatDuration(r.durationMs)), h('td', {}, r.usage ? formatTokens(r.usage.total_tokens) : '—'),
          h('td', {}, isTerminal(e.status)
            ? h('button', { class: 'secondary small', title: `Run ${r.key} and the tasks after it again, reusing earlier outputs`, onclick: () => void retry(r.key) }, 'Retry from here')
            : null)),
        details ? h('tr', { class: 'task-output' }, h('td', { colspan: 6 }, details)) : null,
      );
    }
    timeline.append(body);
  }

  const unlisten = [
    api.onExecutionEvent((ev) => {
      if (!execution || ev.type === 'queue' || ev.id !== execution.id) return;
      if (ev.type === 'state') {
        if (isTerminal(ev.state.status)) {
          // The end: show it together with the final steps, usage and output (one consistent render).
          clearTimeout(reloadTimer);
          void load();
          return;
        }
        execution = { ...withState(execution, ev.state), attempt: ev.attempt, priority: ev.priority };
        render();
        scheduleReload();
      } else {
        execution = { ...execution, progress: ev.progress };
        render();
      }
    }),
    api.onStoreChanged(scheduleReload),
    api.onTokens((batches) => {
      for (const b of batches) {
        if (b.id !== id) continue;
        waterfall.addTokens(b.task, b.text, b.restart, b.offset);
        if (b.restart) scheduleTrace();
      }
    }),
  ];
  void load().then(() => { if (!stopped) void follow(); });

  return () => {
    stopped = true;
    clearTimeout(reloadTimer);
    clearTimeout(traceTimer);
    unfollow?.();
    log.dispose();
    for (const u of unlisten) void u.then((f) => f());
  };
};

/** Log lines that change the trace. */
const TRACED = new Set(['task_started', 'task_completed', 'task_skipped', 'llm_call_started', 'llm_call_completed', 'tool_call', 'delegation']);

function fact(label: string, value: string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'muted small' }, label), h('span', {}, value));
}

function markdownBlock(text: string): HTMLElement {
  const el = h('div', { class: 'markdown' });
  el.innerHTML = renderMarkdown(text);
  return el;
}
