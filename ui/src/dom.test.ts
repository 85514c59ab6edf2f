import { describe, expect, it } from 'vitest';
import { orphanBadge, statusBadge } from './dom';

describe('orphanBadge', () => {
  it('marks a running execution whose worker process is gone, naming the worker', () => {
    const badge = orphanBadge({ owner_gone: true, owner: 'host:42:abc' });
    expect(badge?.textContent).toBe('worker gone');
    expect(badge?.getAttribute('title')).toContain('host:42:abc');
  });

  it('shows nothing while the worker is alive (the flag is absent)', () => {
    expect(orphanBadge({ owner: 'host:42:abc' })).toBeNull();
    expect(orphanBadge({ owner_gone: false })).toBeNull();
  });

  it('sits beside the status badge', () => {
    expect(statusBadge('running').className).toBe('badge status-running');
  });
});
