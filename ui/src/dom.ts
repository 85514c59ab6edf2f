// A tiny element builder: text always goes in as text nodes, never as HTML.

import type { ExecutionState } from './types';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (k in el && typeof (el as unknown as Record<string, unknown>)[k] === 'boolean') (el as unknown as Record<string, unknown>)[k] = Boolean(v);
    else if (k === 'value') (el as unknown as { value: string }).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

/** A short message at the bottom of the window. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.className = `visible ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ''), kind === 'error' ? 8000 : 3000);
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status}` }, status.replace('_', ' '));
}

/** A "worker gone" badge for a running execution whose worker process died (`owner_gone`). */
export function orphanBadge(e: ExecutionState): HTMLElement | null {
  if (e.status !== 'running' || !e.owner_gone) return null;
  return h('span', {
    class: 'badge status-failed orphaned',
    title: `Its worker process (${e.owner}) is gone; the next worker or this app recovers it.`,
  }, 'worker gone');
}
