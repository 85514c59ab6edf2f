// The page calls only commands the Rust side registers, and has a wrapper for each: both read from
// the one list, `src-tauri/src/gui/commands/list.rs`.
import { describe, expect, it } from 'vitest';
import list from '../../src-tauri/src/gui/commands/list.rs?raw';
import api from './api.ts?raw';

function registered(): string[] {
  return [...list.matchAll(/^\s*[a-z_]+::([a-z_]+),\s*$/gm)].map((m) => m[1]);
}

function called(): string[] {
  return [...new Set([...api.matchAll(/call<[^>]*>\('([a-z_]+)'/g)].map((m) => m[1]))];
}

describe('the app commands', () => {
  it('are read from the list', () => {
    expect(registered()).toContain('submit_execution');
    expect(registered().length).toBeGreaterThan(15);
  });

  it('the page calls only registered commands, and wraps every one', () => {
    expect([...called()].sort()).toEqual([...registered()].sort());
  });
});
