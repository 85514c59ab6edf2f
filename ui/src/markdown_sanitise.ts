// The sanitiser behind the Markdown renderer: a DOMPurify allow-list that only lets through the
// markup `markdown_rules.ts` can produce, as a second line of defence after markdown-it's own
// escaping (raw HTML is off there, so in normal operation nothing is removed here).

import DOMPurify from 'dompurify';

/** The elements rendered Markdown may contain: blocks, lists, tables, inline emphasis and code. */
export const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code',
  'ul', 'ol', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  'strong', 'em', 's', 'span',
];

/** The attributes rendered Markdown may carry (no `href`, `src`, `style`, handlers or `data-*`). */
export const ALLOWED_ATTR = ['class', 'start'];

/** A `class` value the renderer emits: one `md-*` class of ours or a fenced code block's `language-*`. */
const CLASS_VALUE = /^(?:md-[a-z-]+|language-[\w#+.-]{1,40})$/;

/** An `<ol start>` value: a list number as markdown-it writes it (at most 9 digits). */
const START_VALUE = /^\d{1,9}$/;

// A private instance, so the hook below does not leak into other users of DOMPurify.
const purify = DOMPurify(window);
purify.addHook('uponSanitizeAttribute', (_node, data) => {
  const value = data.attrValue;
  if (data.attrName === 'class' && !CLASS_VALUE.test(value)) data.keepAttr = false;
  if (data.attrName === 'start' && !START_VALUE.test(value)) data.keepAttr = false;
});

/**
 * Returns `html` with everything outside the allow-list removed: elements not in `ALLOWED_TAGS`
 * are dropped with their text kept (scripts, styles and their content go entirely), attributes
 * not in `ALLOWED_ATTR` are dropped, and `class` / `start` survive only with the values above.
 * So no element can load anything, navigate or run code, and no inline style reaches the CSP.
 */
export function sanitiseHtml(html: string): string {
  return purify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    KEEP_CONTENT: true,
  });
}
