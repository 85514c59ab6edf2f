// The Settings view's "Local HTTP API" section: what the in-app server is doing, its token and a
// curl line to try it.

import { h } from './dom';
import type { HttpApiView } from './types';

/** The port typed in the field: a whole number from 1 to 65535, else null. */
export function parsePort(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : null;
}

/** `text` as one POSIX shell word (single-quoted when it holds anything but safe characters). */
export function shellQuote(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A curl command listing the queue of the server at `url`, reading the token from `tokenFile`. */
export function curlExample(url: string, tokenFile: string): string {
  return `curl -H "Authorization: Bearer $(cat ${shellQuote(tokenFile)})" ${url}/v1/queue`;
}

/** The token file of a data dir (the server creates it at its first start). */
export function tokenFile(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}/http-token`;
}

/** Copies the read-only field's text (the clipboard API, else the selection). */
async function copyField(field: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    field.select();
    return document.execCommand('copy');
  }
}

/**
 * What the server is doing: where it listens with the token (a read-only field and a copy button)
 * and a curl example; why it could not start; or that it is off.
 */
export function httpApiStatus(v: HttpApiView, dataDir: string, copied: (ok: boolean) => void): HTMLElement {
  const box = h('div', { id: 'http-api-status', class: 'field' });
  if (v.url && v.token) {
    const token = h('input', { id: 'http-api-token', type: 'text', readonly: true, value: v.token, spellcheck: 'false', size: 66 });
    box.append(
      h('p', {}, 'Listening on ', h('code', { id: 'http-api-url' }, v.url)),
      h('label', { for: 'http-api-token' }, 'Token'),
      h('div', { class: 'row' }, token,
        h('button', { type: 'button', class: 'secondary small', id: 'copy-http-token', onclick: async () => copied(await copyField(token)) }, 'Copy')),
      h('p', { class: 'muted small' }, 'Send it as ', h('code', {}, 'Authorization: Bearer TOKEN'), '; try:'),
      h('code', { id: 'http-api-curl', class: 'small' }, curlExample(v.url, tokenFile(dataDir))),
    );
  } else if (v.error) {
    box.append(h('p', { id: 'http-api-error', class: 'error-box' }, `Not running: ${v.error}`));
  } else {
    box.append(h('p', { class: 'muted small' }, v.enabled ? 'Not running.' : 'Off.'));
  }
  return box;
}
