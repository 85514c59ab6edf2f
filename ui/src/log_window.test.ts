import { describe, expect, it } from 'vitest';
import { appendBySeq, atBottom, rowWindow } from './log_window';

describe('rowWindow', () => {
  it('renders only the rows in view plus the overscan', () => {
    const w = rowWindow(10_000, 20, 50_000, 400, 10);
    expect(w.total).toBe(200_000);
    expect(w.start).toBe(2490);
    expect(w.end).toBe(2500 + 21 + 10);
    expect(w.offset).toBe(2490 * 20);
    expect(w.end - w.start).toBeLessThan(60);
  });

  it('clamps at both ends', () => {
    expect(rowWindow(5, 20, 0, 400, 10)).toEqual({ start: 0, end: 5, offset: 0, total: 100 });
    const w = rowWindow(100, 20, 99_999, 400, 0);
    expect(w.end).toBe(100);
    expect(w.start).toBe(80);
    expect(rowWindow(0, 20, 0, 400)).toEqual({ start: 0, end: 0, offset: 0, total: 0 });
  });
});

describe('atBottom', () => {
  it('is true within the slack of the end only', () => {
    expect(atBottom(600, 400, 1000)).toBe(true);
    expect(atBottom(597, 400, 1000)).toBe(true);
    expect(atBottom(500, 400, 1000)).toBe(false);
  });
});

describe('appendBySeq', () => {
  it('drops lines already held and keeps order', () => {
    const held = [{ seq: 1 }, { seq: 2 }];
    expect(appendBySeq(held, [{ seq: 2 }, { seq: 3 }, { seq: 4 }])).toBe(2);
    expect(held.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(appendBySeq(held, [{ seq: 1 }])).toBe(0);
  });
});
