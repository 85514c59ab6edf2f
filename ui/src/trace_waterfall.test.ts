import { describe, expect, it, vi } from 'vitest';

import { bigTrace, finishedTrace, runningTrace } from './trace_fixture';
import type { TraceCall } from './trace_types';
import { ROW_HEIGHT, TraceWaterfallView } from './views/trace_waterfall';

const flush = () => new Promise((r) => setTimeout(r, 0));

function call(n: number): TraceCall {
  return {
    execution_id: '01JTRACE', call: n, model: 'gpt-4o-mini', endpoint: 'http://127.0.0.1:9/v1', tools: ['search'],
    messages: [
      { role: 'system', content: 'You are Researcher.' },
      { role: 'user', content: 'Research <img src=x onerror="window.__pwned=1"> owls' },
    ],
    response: { content: 'Owls hunt at night.', tool_calls: [], finish_reason: 'stop' },
    usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30, llm_calls: 1 }, started_at: 1300, ended_at: 1590,
  };
}

function mounted(load = vi.fn(async (n: number) => call(n))) {
  const view = new TraceWaterfallView(load);
  document.body.replaceChildren(view.el);
  return { view, load, rows: () => [...view.el.querySelectorAll<HTMLElement>('.wf-row')] };
}

function key(el: Element, k: string): void {
  el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
}

describe('the trace waterfall', () => {
  it('draws a tree of tasks and calls with durations, tokens and costs', () => {
    const { view, rows } = mounted();
    view.show(finishedTrace(), 5000);
    const r = rows();
    expect(r.map((e) => [e.dataset.kind, e.getAttribute('aria-level')])).toEqual([
      ['task', '1'], ['llm_call', '2'], ['tool_call', '2'], ['llm_call', '2'], ['task', '1'], ['llm_call', '2']]);
    expect(r[0].getAttribute('aria-expanded')).toBe('true');
    expect(r[1].hasAttribute('aria-expanded')).toBe(false);
    expect(r[2].textContent).toContain('100 ms');
    expect(r[1].textContent).toContain('$0.0003');
    expect(r[1].querySelector<HTMLElement>('.wf-bar')!.style.left).toBe('1%');
    expect(view.el.querySelector('[data-testid=trace-totals]')!.textContent).toContain('3 LLM calls · 1 tool calls');
    expect(view.el.dataset.rows).toBe('6');
    expect(Number(view.el.dataset.renderMs)).toBeGreaterThanOrEqual(0);
  });

  it('opens a call with what was sent and received, as text', async () => {
    const { view, load, rows } = mounted();
    view.show(finishedTrace(), 5000);
    rows()[3].click();
    expect(load).toHaveBeenCalledWith(11);
    await flush();
    const detail = view.el.querySelector('[data-testid=trace-detail]')!;
    expect([...detail.querySelectorAll('.wf-message')].map((m) => (m as HTMLElement).dataset.role)).toEqual(['system', 'user']);
    expect(detail.textContent).toContain('onerror="window.__pwned=1"');
    expect(detail.querySelector('img')).toBeNull();
    expect(detail.querySelector('[data-testid=trace-response]')!.textContent).toBe('Owls hunt at night.');
    expect(detail.textContent).toContain('http://127.0.0.1:9/v1');
    expect(rows()[3].classList.contains('selected')).toBe(true);
  });

  it('opens a tool call with its arguments and result', () => {
    const { view, load, rows } = mounted();
    view.show(finishedTrace(), 5000);
    rows()[2].click();
    expect(load).not.toHaveBeenCalled();
    const detail = view.el.querySelector('[data-testid=trace-detail]')!.textContent!;
    expect(detail).toContain('{"q":"owls"}');
    expect(detail).toContain('Owls hunt at night.');
  });

  it('says when only metadata was kept', () => {
    const { view, load, rows } = mounted();
    const t = finishedTrace();
    t.payloads = 'metadata';
    t.spans = t.spans.map((s) => ({ ...s, call: null }));
    view.show(t, 5000);
    rows()[1].click();
    expect(load).not.toHaveBeenCalled();
    expect(view.el.querySelector('[data-testid=trace-detail]')!.textContent).toContain('trace_payloads = metadata');
  });

  it('moves, collapses and opens with the keyboard', async () => {
    const { view, load, rows } = mounted();
    view.show(finishedTrace(), 5000);
    rows()[0].focus();
    key(rows()[0], 'ArrowDown');
    expect(document.activeElement).toBe(rows()[1]);
    expect(rows()[1].tabIndex).toBe(0);
    expect(rows()[0].tabIndex).toBe(-1);
    key(rows()[1], 'ArrowLeft');
    expect(document.activeElement).toBe(rows()[0]);
    key(rows()[0], 'ArrowLeft');
    expect(rows().length).toBe(3);
    expect(rows()[0].getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(rows()[0]);
    key(rows()[0], 'ArrowRight');
    expect(rows().length).toBe(6);
    key(rows()[0], 'End');
    key(document.activeElement!, 'Enter');
    expect(load).toHaveBeenCalledWith(15);
  });

  it("streams the running call's answer into its row and its open detail", () => {
    const { view, rows } = mounted();
    view.show(runningTrace(), 2500);
    const live = () => rows()[5].querySelector<HTMLElement>('.wf-live')!;
    expect(live().hidden).toBe(true);
    view.addTokens('write', 'Owls are ');
    view.addTokens('write', 'silent hunters');
    expect(live().hidden).toBe(false);
    expect(live().textContent).toBe('Owls are silent hunters');
    rows()[5].click();
    expect(view.el.querySelector('[data-testid=live-answer]')!.textContent).toBe('Owls are silent hunters');
    view.addTokens('write', '.');
    expect(view.el.querySelector('[data-testid=live-answer]')!.textContent).toBe('Owls are silent hunters.');
    // Re-drawn (a reload while running): the text stays; a new call starts it again.
    view.show(runningTrace(), 2600);
    expect(live().textContent).toBe('Owls are silent hunters.');
    view.addTokens('write', 'Second', true);
    expect(live().textContent).toBe('Second');
    // Text of a task without a running call shows nowhere.
    view.addTokens('research', 'no running call of that task');
    expect(view.el.textContent).not.toContain('no running call of that task');
  });

  it('shows the answer streamed before the page looked', () => {
    const { view, rows } = mounted();
    const t = runningTrace();
    t.spans[5] = { ...t.spans[5], streamed: { text: 'Owls are', length: 8 } };
    view.show(t, 2500);
    expect(rows()[5].querySelector('.wf-live')!.textContent).toBe('Owls are');
    // A batch sent before the snapshot was taken, arriving after it: not shown twice.
    view.addTokens('write', 'Owls', false, 0);
    view.addTokens('write', ' are silent', false, 4);
    view.show(t, 2600);
    expect(rows()[5].querySelector('.wf-live')!.textContent).toBe('Owls are silent');
  });

  it('loads the messages once a call that was streaming ends', async () => {
    const { view, load, rows } = mounted();
    view.show(runningTrace(), 2500);
    rows()[5].click();
    expect(load).not.toHaveBeenCalled();
    const done = finishedTrace();
    view.show(done, 2500);
    expect(load).toHaveBeenCalledWith(15);
    await flush();
    expect(view.el.querySelector('[data-testid=trace-messages]')).not.toBeNull();
  });

  it('draws only the rows in view of 2,000 calls, each at its place', () => {
    const { view, rows } = mounted();
    view.show(bigTrace(100, 20), 0);
    expect(view.el.dataset.rows).toBe('2100');
    const drawn = rows();
    expect(drawn.length).toBeGreaterThan(20);
    expect(drawn.length).toBeLessThan(100);
    expect(drawn[3].style.top).toBe(`${3 * ROW_HEIGHT}px`);
    expect(view.el.querySelector<HTMLElement>('.wf-sizer')!.style.height).toBe(`${2100 * ROW_HEIGHT}px`);
  });
});
