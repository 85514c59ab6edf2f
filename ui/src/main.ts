// The page's entry: a hash router over the four views.

import { compareView } from './views/compare';
import { detailView } from './views/detail';
import { newRunView } from './views/new_run';
import { queueView } from './views/queue';
import { settingsView } from './views/settings';
import type { View } from './views/view';

export interface Route {
  name: 'queue' | 'run' | 'new' | 'settings' | 'compare';
  param?: string;
}

/**
 * `#/run/ID` → `{name: 'run', param: 'ID'}`; `#/compare/A/B` → `{name: 'compare', param: 'A/B'}`
 * (each still URI-encoded); anything unknown is the queue.
 */
export function parseRoute(hash: string): Route {
  const [name, param, second] = hash.replace(/^#\/?/, '').split('/');
  if (name === 'run' && param) return { name: 'run', param: decodeURIComponent(param) };
  if (name === 'compare' && param && second) return { name: 'compare', param: `${param}/${second}` };
  if (name === 'new' || name === 'settings') return { name };
  return { name: 'queue' };
}

const VIEWS: Record<Route['name'], View> = {
  queue: queueView, run: detailView, new: newRunView, settings: settingsView, compare: compareView,
};

let stop: (() => void) | null = null;

function show(): void {
  const root = document.getElementById('view');
  if (!root) return;
  const route = parseRoute(location.hash);
  stop?.();
  stop = VIEWS[route.name](root, route.param);
  // A new view starts at its top (the page's scroll is not the new view's).
  if (document.scrollingElement) document.scrollingElement.scrollTop = 0;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav.tabs a')) {
    const active = a.dataset.view === route.name || ((route.name === 'run' || route.name === 'compare') && a.dataset.view === 'queue');
    a.classList.toggle('active', active);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

if (typeof window !== 'undefined' && document.getElementById('view')) {
  window.addEventListener('hashchange', show);
  // Alt+1..3 switch views.
  window.addEventListener('keydown', (ev) => {
    if (!ev.altKey) return;
    const target = { '1': '#/queue', '2': '#/new', '3': '#/settings' }[ev.key];
    if (target) { ev.preventDefault(); location.hash = target; }
  });
  show();
}
