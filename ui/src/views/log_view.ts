// The live ExecutionLog: a windowed list (fixed row height) that follows the tail while the user
// is at the bottom.

import { h } from '../dom';
import { formatTime } from '../format';
import { appendBySeq, atBottom, rowWindow } from '../log_window';
import type { LogEntry } from '../types';

export const ROW_HEIGHT = 22;

export class LogView {
  readonly el: HTMLElement;
  readonly entries: LogEntry[] = [];
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private follow = true;
  private frame = 0;

  constructor() {
    this.rows = h('div', { class: 'log-rows' });
    this.spacer = h('div', { class: 'log-spacer' }, this.rows);
    this.el = h('div', { class: 'log', tabindex: 0, role: 'log', 'aria-label': 'Execution log' }, this.spacer);
    this.el.addEventListener('scroll', () => {
      this.follow = atBottom(this.el.scrollTop, this.el.clientHeight, this.entries.length * ROW_HEIGHT);
      this.schedule();
    });
  }

  /** Adds lines (duplicates by seq are dropped) and redraws on the next frame. */
  append(entries: LogEntry[]): void {
    if (appendBySeq(this.entries, entries) > 0) this.schedule();
  }

  get lastSeq(): number {
    return this.entries.length ? this.entries[this.entries.length - 1].seq : 0;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const total = this.entries.length * ROW_HEIGHT;
    this.spacer.style.height = `${total}px`;
    if (this.follow) this.el.scrollTop = total;
    const w = rowWindow(this.entries.length, ROW_HEIGHT, this.el.scrollTop, this.el.clientHeight || 400);
    this.rows.style.transform = `translateY(${w.offset}px)`;
    const now = Date.now();
    const nodes: HTMLElement[] = [];
    for (let i = w.start; i < w.end; i++) {
      const e = this.entries[i];
      const who = [e.task, e.agent].filter(Boolean).join(' · ');
      nodes.push(h('div', { class: `log-row level-${e.level}`, title: e.message },
        h('span', { class: 'log-seq' }, String(e.seq)),
        h('span', { class: 'log-time' }, formatTime(e.at, now)),
        h('span', { class: 'log-kind' }, e.kind),
        who ? h('span', { class: 'log-who' }, who) : null,
        h('span', { class: 'log-msg' }, e.message)));
    }
    this.rows.replaceChildren(...nodes);
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
  }
}
