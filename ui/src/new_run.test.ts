import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (cmd: string, args: unknown) => invoke(cmd, args), Channel: class {} }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { newRunView } from './views/new_run';

const python = { command: { program: '/p/.venv/bin/python' }, source: "the project's .venv", python_version: '3.11.7', crewai_version: '1.15.30' };
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('New run with a Python crew', () => {
  beforeEach(() => { invoke.mockReset(); });

  it('previews on the chosen engine, shows the decision and submits free-form inputs', async () => {
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'list_crews') return [];
      if (cmd === 'preview_crew') {
        return {
          engine: { engine: 'crewai', reason: `--engine ${String(args.engine)}`, python },
          report: null,
          python_crew: { kind: 'script', root: '/p', entry: '/p/s.py' },
        };
      }
      if (cmd === 'submit_execution') return { execution: { id: '01J0ABC' }, warnings: [] };
      throw new Error(`unexpected ${cmd}`);
    });
    const root = document.createElement('div');
    newRunView(root, undefined);
    root.querySelector<HTMLInputElement>('#crew-path')!.value = '/p/s.py';
    root.querySelector<HTMLButtonElement>('#validate-crew')!.click();
    await flush();
    expect(invoke).toHaveBeenCalledWith('preview_crew', { path: '/p/s.py', engine: 'auto', python: null });
    expect(root.querySelector('#engine-decision')!.textContent).toContain('Runs on CrewAI 1.15.30 (Python 3.11.7, /p/.venv/bin/python): --engine auto');
    expect(root.querySelector('.python-crew')!.textContent).toBe('Python script · /p/s.py');

    root.querySelector<HTMLButtonElement>('#add-input')!.click();
    root.querySelector<HTMLInputElement>('.free-key')!.value = 'topic';
    root.querySelector<HTMLTextAreaElement>('.free-value')!.value = 'agents';
    // Another engine reloads the preview and keeps the rows typed.
    const engine = root.querySelector<HTMLSelectElement>('#engine')!;
    engine.value = 'crewai';
    engine.dispatchEvent(new Event('change'));
    await flush();
    expect(invoke).toHaveBeenLastCalledWith('preview_crew', { path: '/p/s.py', engine: 'crewai', python: null });
    expect(root.querySelector<HTMLInputElement>('.free-key')!.value).toBe('topic');
    const submit = root.querySelector<HTMLButtonElement>('#submit-run')!;
    expect(submit.disabled).toBe(false);

    root.querySelector('form')!.dispatchEvent(new Event('submit'));
    await flush();
    expect(invoke).toHaveBeenLastCalledWith('submit_execution', {
      request: { crew: '/p/s.py', inputs: { topic: 'agents' }, priority: 'normal', llm: { mode: 'configured' }, engine: 'crewai', python: undefined },
    });
  });
});
