// What the Settings view says about the environment and the key's storage: a value an environment
// variable overrides (the environment wins for every face), and where the API key is kept.

import { h } from '../dom';
import type { SettingsView } from '../types';

/** A note naming the variable that overrides `key` (`llm.model`, …), or null when none does. */
export function envNote(s: SettingsView, key: string): HTMLElement | null {
  const variable = s.env_overrides[key];
  if (!variable) return null;
  return h('span', { class: 'muted small env-override', 'data-key': key }, `Overridden by the environment: ${variable}`);
}

/** Where the API key is stored, for the line under the key field. */
export function keyStorageText(s: SettingsView): string {
  const shared = 'Shared with `crew-runner config` and every worker on this configuration; the environment wins.';
  switch (s.api_key_storage) {
    case 'keyring': return `The key is in your system keyring and is never shown again. ${shared}`;
    case 'file': return `The key is in credentials.json beside ${s.config_file}, readable only by you, and never shown again. ${shared}`;
    default: return `No key stored: the keyring when there is one, else a file readable only by you. ${shared}`;
  }
}
