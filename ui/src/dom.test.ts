import { describe, expect, it } from 'vitest';
import { orphanBadge, statusBadge } from './dom';
import type { ExecutionState } from './types';

const running: ExecutionState = { status: 'running', owner: 'host:42:abc', lease_expires_at: 9, attempt_started_at: 1, lease_token: 1 };

describe('orphanBadge', () => {
  it('marks a running execution whose worker process is gone, naming the worker', () => {
    const badge = orphanBadge({ ...running, owner_gone: true });
    expect(badge?.textContent).toBe('worker gone');
    expect(badge?.getAttribute('title')).toContain('host:42:abc');
  });

  it('shows nothing while the worker is alive (the flag is absent)', () => {
    expect(orphanBadge(running)).toBeNull();
    expect(orphanBadge({ ...running, owner_gone: false })).toBeNull();
    expect(orphanBadge({ status: 'queued' })).toBeNull();
  });

  it('sits beside the status badge', () => {
    expect(statusBadge('running').className).toBe('badge status-running');
  });
});
