import { describe, expect, it } from 'vitest';
import { workspaceLines } from './views/settings';

describe('workspaceLines', () => {
  it('takes one folder per line, trimmed, without blank lines', () => {
    expect(workspaceLines(' /srv/crews \n\n/home/me/out\n  ')).toEqual(['/srv/crews', '/home/me/out']);
    expect(workspaceLines('')).toEqual([]);
  });
});
