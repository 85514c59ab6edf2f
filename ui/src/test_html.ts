// Test helper: parse HTML the way the run detail view does (`innerHTML` on a detached element).

/** A new detached `<div>` whose content is `html` parsed by the test DOM. */
export function dom(html: string): HTMLElement {
  const el = document.createElement('div');
  el.innerHTML = html;
  return el;
}
