import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (cmd: string, args: unknown) => invoke(cmd, args), Channel: class {} }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { comparison } from './compare_fixture';
import { compareView } from './views/compare';

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('the Compare view', () => {
  beforeEach(() => {
    invoke.mockReset();
    Element.prototype.scrollIntoView = vi.fn();
  });

  it('highlights the first differing task, marks its diff, and keeps run text as text', async () => {
    const c = comparison();
    c.tasks[1].diff.segments.push({ op: 'insert', text: '<img src=x onerror=alert(1)>' });
    invoke.mockResolvedValue(c);
    const root = document.createElement('div');
    compareView(root, 'A1/B2');
    await flush();
    expect(invoke).toHaveBeenCalledWith('compare_executions', { a: 'A1', b: 'B2' });
    expect(root.querySelector('#first-difference')!.textContent).toBe('First difference: task write');
    const first = root.querySelector<HTMLElement>('.compare-tasks tr.first-difference')!;
    expect(first.dataset.task).toBe('write');
    expect(first.getAttribute('aria-current')).toBe('true');
    expect(root.querySelectorAll('.compare-tasks tr.first-difference')).toHaveLength(1);
    expect(first.scrollIntoView).toHaveBeenCalled();
    const diff = root.querySelector<HTMLElement>('#diff-1 pre.diff')!;
    expect(diff.querySelector('del')!.textContent).toBe('queues');
    expect([...diff.querySelectorAll('ins')].map((e) => e.textContent)).toEqual(['locks', '<img src=x onerror=alert(1)>']);
    expect(root.querySelector('img')).toBeNull();
    // Same tasks have no diff section; a task only A finished has one.
    expect(root.querySelector('#diff-0')).toBeNull();
    expect(root.querySelector('#diff-2 h2')!.textContent).toBe('review — only in A');
  });

  it('shows why two runs cannot be compared', async () => {
    invoke.mockRejectedValue({ kind: 'invalid_argument', message: 'execution A runs crew `a` and execution B runs crew `b`' });
    const root = document.createElement('div');
    compareView(root, 'A/B');
    await flush();
    expect(root.querySelector('#compare-error')!.textContent).toContain('runs crew `a`');
  });
});
