// The trace waterfall in Run detail: one row per task with its LLM calls, tool calls and
// delegations nested under it on a shared time axis; the running call's answer streams into its
// row; a row opens what was sent and received. Keyboard: ↑/↓/Home/End/PageUp/PageDown move,
// →/← expand/collapse (or go to the child/parent), Enter or Space opens the row.
//
// Only the rows in view (and `OVERSCAN` around them) are in the DOM, each `ROW_HEIGHT` high: a run
// with thousands of calls draws as fast as a small one.

import { append, clear, h } from '../dom';
import { formatDuration, formatTokens } from '../format';
import { axisOf, axisTicks, formatCost, LiveText, liveCallOf, nextRow, parentRow, waterfallRows, type WaterfallRow } from '../trace_model';
import type { Trace, TraceCall, TraceSpan } from '../trace_types';

/** Every row's height in px (`.wf-row` in styles.css). */
export const ROW_HEIGHT = 24;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 20;
/** The list's height when it is not laid out (its CSS max-height). */
const FALLBACK_HEIGHT = 520;

const KIND_LABEL: Record<TraceSpan['kind'], string> = { task: 'task', llm_call: 'LLM', tool_call: 'tool', delegation: 'delegation' };

export class TraceWaterfallView {
  readonly el: HTMLElement;
  private readonly totals = h('div', { class: 'wf-totals small muted', 'data-testid': 'trace-totals' });
  private readonly axisEl = h('div', { class: 'wf-axis', 'aria-hidden': 'true' });
  private readonly rowsEl = h('div', { class: 'wf-rows', role: 'tree', 'aria-label': 'Trace: tasks, LLM calls, tool calls and delegations' });
  /** As high as every row together; the drawn rows sit in it at their places. */
  private readonly sizer = h('div', { class: 'wf-sizer' });
  /** The rows drawn now: [first, end). */
  private drawn: [number, number] = [0, 0];
  private scrollQueued = false;
  private readonly detail = h('div', { class: 'wf-detail', 'data-testid': 'trace-detail', hidden: true, 'aria-live': 'polite' });
  private trace: Trace | null = null;
  private rows: WaterfallRow[] = [];
  private readonly collapsed = new Set<number>();
  private focused = 0;
  private selected: number | null = null;
  private readonly live = new LiveText();
  /** Bumped per opened row, so a slow `loadCall` cannot overwrite a newer selection. */
  private opening = 0;

  constructor(private readonly loadCall: (call: number) => Promise<TraceCall>) {
    this.el = h('div', { class: 'waterfall' }, this.totals, this.axisEl, this.rowsEl, this.detail);
    this.rowsEl.addEventListener('click', (ev) => {
      const row = (ev.target as Element).closest<HTMLElement>('.wf-row');
      if (!row) return;
      const index = Number(row.dataset.index);
      if ((ev.target as Element).closest('.wf-toggle')) this.toggle(index);
      else this.open(index);
    });
    this.rowsEl.addEventListener('keydown', (ev) => this.onKey(ev));
    this.rowsEl.append(this.sizer);
    this.rowsEl.addEventListener('scroll', () => {
      if (this.scrollQueued) return;
      this.scrollQueued = true;
      requestAnimationFrame(() => { this.scrollQueued = false; this.drawWindow(false); });
    });
  }

  /** Draws `trace` (keeping what is collapsed, focused and open); `data-render-ms` says how long it took. */
  show(trace: Trace, now: number = Date.now()): void {
    const t0 = performance.now();
    this.trace = trace;
    for (const s of trace.spans) {
      if (s.streamed && s.kind === 'llm_call' && s.end_ms == null) this.live.adopt(s.task, s.streamed.text, s.streamed.length);
    }
    const focusedId = this.rows[this.focused]?.span.id;
    const hadFocus = this.rowsEl.contains(document.activeElement);
    this.rows = waterfallRows(trace, now, this.collapsed);
    const keep = focusedId == null ? -1 : this.rows.findIndex((r) => r.span.id === focusedId);
    this.focused = keep >= 0 ? keep : 0;
    this.renderTotals(trace);
    this.renderAxis(trace, now);
    this.sizer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.drawWindow(true);
    if (this.rows.length === 0) this.sizer.replaceChildren(h('p', { class: 'muted small' }, 'No calls yet.'));
    if (hadFocus) this.rowElAt(this.focused)?.focus();
    if (this.selected != null) this.refreshDetail(trace);
    this.el.dataset.renderMs = (performance.now() - t0).toFixed(1);
    this.el.dataset.rows = String(this.rows.length);
  }

  /** Streamed text of `task`'s running call: shown in its row (and in the open detail). */
  addTokens(task: string | null, text: string, restart = false, offset?: number): void {
    if (restart) this.live.reset(task);
    const kept = this.live.push(task, text, offset);
    if (!this.trace) return;
    const span = liveCallOf(this.trace, task);
    if (!span) return;
    const el = this.rowsEl.querySelector<HTMLElement>(`.wf-row[data-span="${span.id}"] .wf-live`);
    if (el) {
      el.textContent = lastLine(kept);
      el.hidden = false;
    }
    if (this.selected === span.id) {
      const pre = this.detail.querySelector<HTMLElement>('[data-testid=live-answer]');
      if (pre) pre.textContent = kept;
    }
  }

  private rowEls(): HTMLElement[] {
    return [...this.rowsEl.querySelectorAll<HTMLElement>('.wf-row')];
  }

  private rowElAt(index: number): HTMLElement | null {
    return this.rowsEl.querySelector<HTMLElement>(`.wf-row[data-index="${index}"]`);
  }

  /** Draws the rows in view (again, with `force`, else only when the window moved). */
  private drawWindow(force: boolean): void {
    const height = this.rowsEl.clientHeight || FALLBACK_HEIGHT;
    const first = Math.max(0, Math.floor(this.rowsEl.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const end = Math.min(this.rows.length, Math.ceil((this.rowsEl.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    if (!force && first === this.drawn[0] && end === this.drawn[1]) return;
    const hadFocus = this.rowsEl.contains(document.activeElement);
    this.drawn = [first, end];
    const frag = document.createDocumentFragment();
    for (let i = first; i < end; i++) {
      const el = this.rowEl(this.rows[i], i);
      el.style.top = `${i * ROW_HEIGHT}px`;
      frag.append(el);
    }
    this.sizer.replaceChildren(frag);
    if (hadFocus) this.rowElAt(this.focused)?.focus();
  }

  private renderTotals(trace: Trace): void {
    const t = trace.totals;
    this.totals.textContent = `${t.llm_calls} LLM calls · ${t.tool_calls} tool calls · ${t.delegations} delegations · `
      + `${formatTokens(t.total_tokens)} tokens · cost ${formatCost(t.cost_usd)}`
      + (trace.payloads === 'metadata' ? ' · messages not kept (trace_payloads = metadata)' : '');
  }

  private renderAxis(trace: Trace, now: number): void {
    clear(this.axisEl);
    const axis = axisOf(trace, now);
    const track = h('div', { class: 'wf-axis-track' });
    for (const t of axisTicks(axis)) {
      const tick = h('span', { class: 'wf-tick' }, t.label);
      tick.style.left = `${(t.at * 100).toFixed(3)}%`;
      track.append(tick);
    }
    this.axisEl.append(h('div', { class: 'wf-label' }), track, h('div', { class: 'wf-num' }, 'time'), h('div', { class: 'wf-num' }, 'tokens'),
      h('div', { class: 'wf-num' }, 'cost'));
  }

  private rowEl(r: WaterfallRow, index: number): HTMLElement {
    const s = r.span;
    const expanded = r.hasChildren ? String(!this.collapsed.has(s.id)) : null;
    const label = h('div', { class: 'wf-label', title: s.agent ? `${s.name} (${s.agent})` : s.name },
      r.hasChildren ? h('button', { class: 'wf-toggle', tabindex: -1, 'aria-hidden': 'true' }, this.collapsed.has(s.id) ? '▸' : '▾') : h('span', { class: 'wf-toggle-space' }),
      h('span', { class: `wf-kind kind-${s.kind}` }, KIND_LABEL[s.kind]), ' ', h('span', { class: 'wf-name' }, s.name),
      s.attempt > 1 && s.kind === 'task' ? h('span', { class: 'muted small' }, ` attempt ${s.attempt}`) : null);
    label.style.paddingLeft = `${r.depth * 16}px`;
    const bar = h('span', { class: `wf-bar status-${s.status}` });
    bar.style.left = `${(r.offset * 100).toFixed(3)}%`;
    bar.style.width = `max(2px, ${(r.width * 100).toFixed(3)}%)`;
    const liveText = s.kind === 'llm_call' && s.end_ms == null ? lastLine(this.live.get(s.task)) : '';
    const row = h('div', {
      class: `wf-row kind-${s.kind} status-${s.status}${this.selected === s.id ? ' selected' : ''}`,
      role: 'treeitem', 'aria-level': r.depth + 1, 'aria-expanded': expanded, 'aria-selected': String(this.selected === s.id),
      tabindex: index === this.focused ? 0 : -1,
      'data-index': index, 'data-span': s.id, 'data-kind': s.kind, 'data-status': s.status,
      'aria-label': `${KIND_LABEL[s.kind]} ${s.name}, ${s.status}, ${formatDuration(r.durationMs)}`,
    },
    label,
    h('div', { class: 'wf-track' }, bar, h('span', { class: 'wf-live', hidden: !liveText }, liveText)),
    h('div', { class: 'wf-num' }, formatDuration(r.durationMs)),
    h('div', { class: 'wf-num' }, s.usage ? formatTokens(s.usage.total_tokens) : '—'),
    h('div', { class: 'wf-num' }, formatCost(s.cost_usd)));
    return row;
  }

  private onKey(ev: KeyboardEvent): void {
    if (this.rows.length === 0) return;
    const i = this.focused;
    const r = this.rows[i];
    let to = nextRow(this.rows, i, ev.key);
    if (ev.key === 'ArrowRight' && r.hasChildren) {
      if (this.collapsed.has(r.span.id)) return this.handled(ev, () => this.toggle(i));
      to = i + 1;
    } else if (ev.key === 'ArrowLeft') {
      if (r.hasChildren && !this.collapsed.has(r.span.id)) return this.handled(ev, () => this.toggle(i));
      to = parentRow(this.rows, i);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      return this.handled(ev, () => this.open(i));
    }
    if (to == null) return;
    this.handled(ev, () => this.focusRow(to!));
  }

  private handled(ev: KeyboardEvent, act: () => void): void {
    ev.preventDefault();
    act();
  }

  private focusRow(index: number): void {
    this.rowElAt(this.focused)?.setAttribute('tabindex', '-1');
    this.focused = index;
    // Scrolled so the row is in view (then drawn), as `block: 'nearest'` would.
    const top = index * ROW_HEIGHT;
    const height = this.rowsEl.clientHeight || FALLBACK_HEIGHT;
    if (top < this.rowsEl.scrollTop) this.rowsEl.scrollTop = top;
    else if (top + ROW_HEIGHT > this.rowsEl.scrollTop + height) this.rowsEl.scrollTop = top + ROW_HEIGHT - height;
    this.drawWindow(false);
    const el = this.rowElAt(index);
    if (!el) return;
    el.setAttribute('tabindex', '0');
    el.focus();
  }

  private toggle(index: number): void {
    const id = this.rows[index]?.span.id;
    if (id == null || !this.trace) return;
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.focused = index;
    this.show(this.trace);
    this.rowElAt(this.focused)?.focus();
  }

  private open(index: number): void {
    const span = this.rows[index]?.span;
    if (!span) return;
    this.selected = span.id;
    for (const el of this.rowEls()) {
      const on = el.dataset.span === String(span.id);
      el.classList.toggle('selected', on);
      el.setAttribute('aria-selected', String(on));
    }
    this.focusRow(index);
    this.load(span);
  }

  /** Keeps the open detail current: a call that was streaming is shown with its messages once it ended. */
  private refreshDetail(trace: Trace): void {
    const span = trace.spans.find((s) => s.id === this.selected);
    if (!span) return;
    const wasLive = this.detail.dataset.live === 'true';
    if (span.kind !== 'llm_call' || span.end_ms == null) this.renderDetail(span, null);
    else if (wasLive) this.load(span);
  }

  private load(span: TraceSpan): void {
    const ticket = ++this.opening;
    this.renderDetail(span, null);
    if (span.kind === 'llm_call' && span.call != null && span.end_ms != null) {
      this.loadCall(span.call).then(
        (call) => { if (ticket === this.opening) this.renderDetail(span, call); },
        (e) => { if (ticket === this.opening) this.renderDetail(span, null, (e as { message?: string }).message ?? String(e)); },
      );
    }
  }

  private renderDetail(span: TraceSpan, call: TraceCall | null, error?: string): void {
    clear(this.detail);
    this.detail.hidden = false;
    this.detail.dataset.span = String(span.id);
    this.detail.dataset.live = String(span.kind === 'llm_call' && span.end_ms == null);
    const facts = h('div', { class: 'facts' },
      fact('Kind', KIND_LABEL[span.kind]), fact('Status', span.status),
      fact('Duration', formatDuration(span.end_ms != null ? span.end_ms - span.start_ms : Date.now() - span.start_ms)),
      span.agent ? fact('Agent', span.agent) : null, span.task ? fact('Task', span.task) : null,
      span.model ? fact('Model', span.model) : null,
      span.usage ? fact('Tokens', `${formatTokens(span.usage.prompt_tokens)} in · ${formatTokens(span.usage.completion_tokens)} out`) : null,
      fact('Cost', formatCost(span.cost_usd)),
      call?.endpoint ? fact('Endpoint', call.endpoint) : null);
    append(this.detail, h('h3', {}, `${KIND_LABEL[span.kind]}: ${span.name}`), facts);
    if (span.summary) append(this.detail, h('p', { class: 'wf-summary' }, span.summary));
    if (span.kind === 'llm_call') {
      if (span.end_ms == null) {
        append(this.detail, h('h4', {}, 'Answer so far'), h('pre', { class: 'wf-text', 'data-testid': 'live-answer' }, this.live.get(span.task)));
      } else if (error) {
        append(this.detail, h('p', { class: 'error-message' }, error));
      } else if (span.call == null) {
        append(this.detail, h('p', { class: 'muted' }, this.trace?.payloads === 'metadata'
          ? 'Only timing, tokens and cost were kept for this run (setting trace_payloads = metadata).'
          : 'The messages of this call were not kept.'));
      } else if (!call) {
        append(this.detail, h('p', { class: 'muted' }, 'Loading the messages…'));
      } else {
        const list = h('ol', { class: 'wf-messages', 'data-testid': 'trace-messages' });
        for (const m of call.messages) {
          list.append(h('li', { class: `wf-message role-${m.role}`, 'data-role': m.role },
            h('div', { class: 'wf-role' }, m.role, m.name ? ` (${m.name})` : '', m.tool_call_id ? ` · ${m.tool_call_id}` : ''),
            m.content ? h('pre', { class: 'wf-text' }, m.content) : null,
            ...(m.tool_calls ?? []).map((t) => h('pre', { class: 'wf-text wf-tool-args' }, `${t.name}(${t.arguments})`))));
        }
        append(this.detail, h('h4', {}, `Sent (${call.messages.length} messages${call.tools.length ? `, tools: ${call.tools.join(', ')}` : ''})`), list,
          h('h4', {}, `Received${call.response.finish_reason ? ` (${call.response.finish_reason})` : ''}`),
          h('pre', { class: 'wf-text', 'data-testid': 'trace-response' }, call.response.content ?? ''),
          ...call.response.tool_calls.map((t) => h('pre', { class: 'wf-text wf-tool-args' }, `${t.name}(${t.arguments})`)));
      }
    } else if (span.kind === 'tool_call' || span.kind === 'delegation') {
      const d = (span.detail ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(d)) {
        if (k === 'tool' || v == null) continue;
        append(this.detail, h('h4', {}, k), h('pre', { class: 'wf-text' }, typeof v === 'string' ? v : JSON.stringify(v, null, 2)));
      }
    }
  }
}

function fact(label: string, value: string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'muted small' }, label), h('span', {}, value));
}

/** The end of streamed text that fits a row: its last non-empty line. */
function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim());
  const last = lines[lines.length - 1] ?? '';
  return last.length > 160 ? `…${last.slice(-160)}` : last;
}
