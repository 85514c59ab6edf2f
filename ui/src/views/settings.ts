// Settings: LLM provider, base URL, model, API key (write-only), notifications, concurrency,
// workspaces, the local HTTP API, data dir. A value the environment overrides says so, naming the variable.

import { api } from '../api';
import { clear, h, toast } from '../dom';
import { httpApiStatus, parsePort } from '../http_api';
import type { SettingsUpdate, SettingsView } from '../types';
import { envNote, keyStorageText } from './settings_env';
import type { View } from './view';

export const settingsView: View = (root) => {
  let stopped = false;
  clear(root);
  const panel = h('section', { class: 'panel settings' }, h('p', { class: 'muted' }, 'Loading…'));
  root.append(panel);

  function render(s: SettingsView): void {
    clear(panel);
    const provider = h('select', { id: 'provider' }, h('option', { value: '' }, '(from the environment)'),
      ...s.providers.map((p) => h('option', { value: p, selected: p === s.provider }, p)));
    const baseUrl = h('input', { id: 'base-url', type: 'url', value: s.base_url, placeholder: 'provider default', spellcheck: 'false' });
    const model = h('input', { id: 'model', type: 'text', value: s.model, placeholder: 'e.g. gpt-4o-mini', spellcheck: 'false' });
    const key = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', placeholder: s.api_key_set ? '•••••••• (set; type to replace)' : 'not set' });
    let removeKey = false;
    const remove = h('button', { type: 'button', class: 'secondary small', disabled: !s.api_key_set, onclick: () => { removeKey = true; key.value = ''; key.placeholder = 'will be removed on save'; } }, 'Remove key');
    const notify = h('input', { id: 'notify', type: 'checkbox', checked: s.notify_on_finish });
    const concurrency = h('input', { id: 'concurrency', type: 'number', min: 1, max: 64, value: String(s.concurrency) });
    const workspaces = h('textarea', { id: 'allowed-workspaces', rows: 3, spellcheck: 'false', placeholder: 'one folder per line' });
    workspaces.value = s.allowed_workspaces.join('\n');
    const httpEnabled = h('input', { id: 'http-api-enabled', type: 'checkbox', checked: s.http_api.enabled });
    const httpPort = h('input', { id: 'http-api-port', type: 'number', min: 1, max: 65535, value: String(s.http_api.port) });
    const field = (label: string, forId: string, ...control: (Node | null)[]) =>
      h('div', { class: 'field' }, h('label', { for: forId }, label), h('div', { class: 'row' }, ...control));
    const form = h('form', {
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const n = Number(concurrency.value);
        if (!Number.isInteger(n) || n < 1) { toast('Concurrency must be a whole number of at least 1', 'error'); return; }
        const port = parsePort(httpPort.value);
        if (port === null) { toast('The HTTP API port must be a number from 1 to 65535', 'error'); return; }
        const update: SettingsUpdate = {
          provider: provider.value, base_url: baseUrl.value, model: model.value,
          notify_on_finish: notify.checked, concurrency: n,
          allowed_workspaces: workspaceLines(workspaces.value),
          http_api_enabled: httpEnabled.checked, http_api_port: port,
        };
        if (removeKey) update.api_key = '';
        else if (key.value) update.api_key = key.value;
        try {
          const saved = await api.setSettings(update);
          toast('Settings saved');
          if (!stopped) render(saved);
        } catch (e) { toast((e as { message: string }).message, 'error'); }
      },
    },
      h('h2', {}, 'LLM'),
      field('Provider', 'provider', provider),
      field('Base URL', 'base-url', baseUrl, envNote(s, 'llm.base_url')),
      field('Model', 'model', model, envNote(s, 'llm.model')),
      field('API key', 'api-key', key, remove, envNote(s, 'llm.api_key')),
      h('p', { class: 'muted small', id: 'api-key-storage' }, keyStorageText(s)),
      h('h2', {}, 'Queue'),
      field('Executions at once', 'concurrency', concurrency),
      h('div', { class: 'field' }, h('label', { class: 'check' }, notify, ' Notify me when an execution ends while the window is in the background')),
      h('h2', {}, 'Workspaces'),
      field('Allowed workspaces', 'allowed-workspaces', workspaces),
      h('p', { class: 'muted small' }, 'A crew\'s `workspace:` (where its file tools and output files write) must be inside the crew\'s own folder or the data folder\'s workspaces/, or inside one of these folders (like `--allow-workspace DIR` on the command line).'),
      h('h2', {}, 'HTTP API'),
      h('div', { class: 'field' }, h('label', { class: 'check' }, httpEnabled, ' Local HTTP API: serve this app\'s queue to scripts on this machine (127.0.0.1 only, with a token)')),
      field('Port', 'http-api-port', httpPort),
      httpApiStatus(s.http_api, s.data_dir, (ok) => toast(ok ? 'Token copied' : 'Could not copy: select the token and copy it', ok ? 'info' : 'error')),
      h('h2', {}, 'Data'),
      h('div', { class: 'field' }, h('span', { class: 'muted small' }, 'Folder'), h('code', { id: 'data-dir' }, s.data_dir)),
      h('div', { class: 'field' }, h('span', { class: 'muted small' }, 'Database'), h('code', {}, s.database)),
      h('div', { class: 'field' }, h('span', { class: 'muted small' }, 'Settings file'), h('code', { id: 'config-file' }, s.config_file)),
      h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary', id: 'save-settings' }, 'Save')),
    );
    panel.append(form);
  }

  api.getSettings().then((s) => { if (!stopped) render(s); }, (e) => toast((e as { message: string }).message, 'error'));
  return () => { stopped = true; };
};

/** The allowed workspace folders typed one per line: trimmed, blank lines dropped. */
export function workspaceLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}
