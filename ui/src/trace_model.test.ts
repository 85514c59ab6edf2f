import { describe, expect, it } from 'vitest';

import { axisOf, axisTicks, formatCost, LiveText, liveCallOf, nextRow, parentRow, waterfallRows } from './trace_model';
import { bigTrace, finishedTrace, runningTrace, span } from './trace_fixture';

describe('the waterfall rows', () => {
  it('nest calls under their task, depth first, on one axis', () => {
    const rows = waterfallRows(finishedTrace(), 5000);
    expect(rows.map((r) => [r.span.id, r.depth])).toEqual([[0, 0], [1, 1], [2, 1], [3, 1], [4, 0], [5, 1]]);
    expect(rows[0].offset).toBe(0);
    expect(rows[0].width).toBeCloseTo(0.6);
    expect(rows[2].offset).toBeCloseTo(0.2);
    expect(rows[2].durationMs).toBe(100);
    expect(rows[0].hasChildren).toBe(true);
    expect(rows[1].hasChildren).toBe(false);
  });

  it('hide what is collapsed', () => {
    const rows = waterfallRows(finishedTrace(), 5000, new Set([0]));
    expect(rows.map((r) => r.span.id)).toEqual([0, 4, 5]);
  });

  it('grow a running span to now', () => {
    const rows = waterfallRows(runningTrace(), 2500);
    const live = rows.find((r) => r.span.id === 5)!;
    expect(live.durationMs).toBe(890);
    expect(axisOf(runningTrace(), 2500)).toEqual({ start: 1000, end: 2500 });
    expect(live.offset + live.width).toBeCloseTo(1);
  });

  it('keep a span whose parent is missing as a top-level row', () => {
    const t = finishedTrace();
    t.spans = [span({ id: 9, parent: 42, kind: 'tool_call', name: 'orphan', start_ms: 1000 })];
    expect(waterfallRows(t, 0).map((r) => r.depth)).toEqual([0]);
  });

  it('handle 2,000 calls without recursion', () => {
    const rows = waterfallRows(bigTrace(100, 20), 0);
    expect(rows.length).toBe(2100);
    expect(rows[2099].span.name).toBe('m');
  });
});

describe('the axis', () => {
  it('has nice ticks from 0', () => {
    expect(axisTicks({ start: 0, end: 1000 }).map((t) => t.label)).toEqual(['0 ms', '200 ms', '400 ms', '600 ms', '800 ms', '1 s']);
    expect(axisTicks({ start: 5, end: 5 })).toEqual([{ at: 0, label: '0 ms' }]);
    expect(axisTicks({ start: 0, end: 90_000 }).slice(-1)[0].label).toBe('1 min 30 s');
  });
});

describe('costs and live text', () => {
  it('never shows an unknown cost as $0', () => {
    expect(formatCost(null)).toBe('—');
    expect(formatCost(0.00012)).toBe('$0.0001');
    expect(formatCost(0.0000381)).toBe('$0.000038');
    expect(formatCost(1.5)).toBe('$1.50');
  });

  it('finds the running call of a task and keeps only the end of a long answer', () => {
    expect(liveCallOf(runningTrace(), 'write')?.id).toBe(5);
    expect(liveCallOf(runningTrace(), 'research')).toBeNull();
    expect(liveCallOf(finishedTrace(), 'write')).toBeNull();
    const live = new LiveText(10);
    live.push('write', 'Hello ');
    expect(live.push('write', 'wonderful world')).toBe('erful world'.slice(-10));
    live.reset('write');
    expect(live.get('write')).toBe('');
    // Offsets: pieces already held are skipped, overlapping ones add only their new end.
    const a = new LiveText();
    a.push('t', 'Owls ', 0);
    a.push('t', 'Owls ', 0);
    a.push('t', 's hunt', 3);
    expect(a.get('t')).toBe('Owls hunt');
    a.adopt('t', 'Owls', 4);
    expect(a.get('t')).toBe('Owls hunt');
    a.adopt('t', 'Owls hunt at', 12);
    a.push('t', ' night', 12);
    expect(a.get('t')).toBe('Owls hunt at night');
  });
});

describe('keyboard navigation', () => {
  it('moves within bounds and finds the parent', () => {
    const rows = waterfallRows(finishedTrace(), 0);
    expect(nextRow(rows, 0, 'ArrowUp')).toBe(0);
    expect(nextRow(rows, 0, 'ArrowDown')).toBe(1);
    expect(nextRow(rows, 1, 'End')).toBe(5);
    expect(nextRow(rows, 5, 'Home')).toBe(0);
    expect(nextRow(rows, 5, 'x')).toBeNull();
    expect(parentRow(rows, 3)).toBe(0);
    expect(parentRow(rows, 4)).toBeNull();
  });
});
