import { describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn(), Channel: class {} }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { parseRoute } from './main';
import { toCommandError } from './api';

describe('routing', () => {
  it('parses the hash', () => {
    expect(parseRoute('#/run/01J0ABC')).toEqual({ name: 'run', param: '01J0ABC' });
    expect(parseRoute('#/new')).toEqual({ name: 'new' });
    expect(parseRoute('#/settings')).toEqual({ name: 'settings' });
    expect(parseRoute('')).toEqual({ name: 'queue' });
    expect(parseRoute('#/run')).toEqual({ name: 'queue' });
    expect(parseRoute('#/nonsense')).toEqual({ name: 'queue' });
    expect(parseRoute('#/compare/01A/01B')).toEqual({ name: 'compare', param: '01A/01B' });
    expect(parseRoute('#/compare/01A')).toEqual({ name: 'queue' });
  });
});

describe('toCommandError', () => {
  it('keeps command errors and wraps anything else', () => {
    expect(toCommandError({ kind: 'not_found', message: 'no execution' })).toEqual({ kind: 'not_found', message: 'no execution' });
    expect(toCommandError(new Error('boom'))).toEqual({ kind: 'internal', message: 'boom' });
    expect(toCommandError('text')).toEqual({ kind: 'internal', message: 'text' });
  });
});
