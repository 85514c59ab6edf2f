import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (cmd: string, args: unknown) => invoke(cmd, args), Channel: class {} }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { curlExample, httpApiStatus, parsePort, shellQuote, tokenFile } from './http_api';
import type { HttpApiView, SettingsView } from './types';
import { settingsView } from './views/settings';

const flush = () => new Promise((r) => setTimeout(r, 0));
const TOKEN = 'ab'.repeat(32);
const off: HttpApiView = { enabled: false, port: 8765, url: null, token: null, error: null };

describe('parsePort', () => {
  it('takes whole numbers from 1 to 65535 only', () => {
    expect(parsePort('8765')).toBe(8765);
    expect(parsePort(' 1 ')).toBe(1);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['0', '65536', '-1', '80.5', '1e3', '', 'http']) expect(parsePort(bad), bad).toBeNull();
  });
});

describe('the curl example', () => {
  it('reads the token from the data dir, quoted for the shell', () => {
    expect(tokenFile('/home/me/.local/share/crew-runner/')).toBe('/home/me/.local/share/crew-runner/http-token');
    expect(shellQuote('/srv/data/http-token')).toBe('/srv/data/http-token');
    expect(shellQuote("/my data/it's")).toBe(`'/my data/it'\\''s'`);
    expect(curlExample('http://127.0.0.1:8765', '/d/http-token'))
      .toBe('curl -H "Authorization: Bearer $(cat /d/http-token)" http://127.0.0.1:8765/v1/queue');
  });
});

describe('httpApiStatus', () => {
  it('shows the address, the token and a curl line while listening', () => {
    const el = httpApiStatus({ ...off, enabled: true, url: 'http://127.0.0.1:9000', token: TOKEN }, '/d', () => {});
    expect(el.querySelector('#http-api-url')!.textContent).toBe('http://127.0.0.1:9000');
    const token = el.querySelector<HTMLInputElement>('#http-api-token')!;
    expect(token.value).toBe(TOKEN);
    expect(token.readOnly).toBe(true);
    expect(el.querySelector('#http-api-curl')!.textContent).toContain('http://127.0.0.1:9000/v1/queue');
    expect(el.querySelector('#http-api-error')).toBeNull();
  });

  it('shows why it is not running, or that it is off', () => {
    const failed = httpApiStatus({ ...off, enabled: true, error: 'cannot listen on 127.0.0.1:8765: Address in use' }, '/d', () => {});
    expect(failed.querySelector('#http-api-error')!.textContent).toBe('Not running: cannot listen on 127.0.0.1:8765: Address in use');
    expect(failed.querySelector('#http-api-token')).toBeNull();
    const stopped = httpApiStatus(off, '/d', () => {});
    expect(stopped.textContent).toBe('Off.');
  });
});

describe('Settings with the HTTP API', () => {
  const settings: SettingsView = {
    provider: '', base_url: '', model: '', api_key_set: false, notify_on_finish: true, allowed_workspaces: [],
    concurrency: 4, paused: false, data_dir: '/d', database: '/d/crew-runner.db', providers: ['openai'], http_api: off,
    api_key_storage: null, config_file: '/d/settings.json', env_overrides: {},
  };

  beforeEach(() => {
    invoke.mockReset();
    document.body.innerHTML = '<div id="toast"></div>';
  });

  it('saves the switch and the port, then shows where it listens', async () => {
    invoke.mockImplementation(async (cmd: string, args: { update?: { http_api_port?: number } }) => {
      if (cmd === 'get_settings') return settings;
      if (cmd === 'set_settings') {
        const port = args.update!.http_api_port!;
        return { ...settings, http_api: { enabled: true, port, url: `http://127.0.0.1:${port}`, token: TOKEN, error: null } };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const root = document.createElement('div');
    settingsView(root, undefined);
    await flush();
    const enabled = root.querySelector<HTMLInputElement>('#http-api-enabled')!;
    expect(enabled.checked).toBe(false);
    expect(root.querySelector<HTMLInputElement>('#http-api-port')!.value).toBe('8765');
    enabled.checked = true;
    root.querySelector<HTMLInputElement>('#http-api-port')!.value = '9100';
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
    const update = invoke.mock.calls.find(([cmd]) => cmd === 'set_settings')![1].update;
    expect(update).toMatchObject({ http_api_enabled: true, http_api_port: 9100 });
    expect(root.querySelector('#http-api-url')!.textContent).toBe('http://127.0.0.1:9100');
    expect(root.querySelector<HTMLInputElement>('#http-api-token')!.value).toBe(TOKEN);
  });

  it('refuses port 0 without saving', async () => {
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'get_settings') return settings;
      throw new Error(`unexpected ${cmd}`);
    });
    const root = document.createElement('div');
    settingsView(root, undefined);
    await flush();
    root.querySelector<HTMLInputElement>('#http-api-port')!.value = '0';
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
    expect(invoke.mock.calls.map(([cmd]) => cmd)).toEqual(['get_settings']);
    expect(document.getElementById('toast')!.textContent).toBe('The HTTP API port must be a number from 1 to 65535');
  });
});
