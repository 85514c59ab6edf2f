import { describe, expect, it } from 'vitest';
import type { SettingsView } from './types';
import { envNote, keyStorageText } from './views/settings_env';

const base: SettingsView = {
  provider: 'openai', base_url: '', model: 'm', api_key_set: true, api_key_storage: 'keyring', notify_on_finish: true,
  allowed_workspaces: [], concurrency: 4, paused: false, data_dir: '/d', database: '/d/crew-runner.db',
  config_file: '/c/settings.json', env_overrides: { 'llm.api_key': 'OPENAI_API_KEY' }, providers: ['openai'],
  http_api: { enabled: false, port: 8765, url: null, token: null, error: null },
};

describe('the environment in Settings', () => {
  it('names the variable that overrides a key, and nothing for the others', () => {
    expect(envNote(base, 'llm.api_key')?.textContent).toBe('Overridden by the environment: OPENAI_API_KEY');
    expect(envNote(base, 'llm.model')).toBeNull();
  });

  it('says where the key is kept', () => {
    expect(keyStorageText(base)).toContain('system keyring');
    expect(keyStorageText({ ...base, api_key_storage: 'file' })).toContain('credentials.json beside /c/settings.json');
    expect(keyStorageText({ ...base, api_key_storage: null })).toContain('No key stored');
  });
});
