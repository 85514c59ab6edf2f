// Markdown to HTML for untrusted model output (the run detail view's Output).
//
// Rendered by markdown-it with raw HTML off (`markdown_rules.ts`: links become text, images their
// alt text), then passed through a DOMPurify allow-list (`markdown_sanitise.ts`). So `<script>`,
// `<img onerror>` and `javascript:` URLs come out as plain text, and nothing navigates or loads.

import { createMarkdownIt, escapeHtml, MAX_NESTING } from './markdown_rules';
import { sanitiseHtml } from './markdown_sanitise';

export { escapeHtml };

/** Sources longer than this many UTF-16 code units are shown as plain text, not parsed. */
export const MAX_MARKDOWN_CHARS = 256 * 1024;

/** Quotes nested deeper than this are shown at this depth (their text is kept). */
export const MAX_QUOTE_DEPTH = 20;

const md = createMarkdownIt();

/**
 * Renders `source` as sanitised HTML: headings, paragraphs (a single newline is a `<br>`),
 * nested lists, quotes, fenced and indented code, rules, GFM tables and strikethrough, emphasis,
 * code spans; links as their text plus `(URL)`, images as their alt text.
 *
 * Bounds, so that no source throws or takes more than linear time, and no text is lost:
 * `>` markers past `MAX_QUOTE_DEPTH` on a line are dropped before parsing (a code line starting
 * with that many `>` loses them too); the whole source becomes one escaped
 * `<pre class="md-plain">` if it is longer than `MAX_MARKDOWN_CHARS` or if its blocks nest to
 * markdown-it's `maxNesting` (where markdown-it would drop the rest of the document).
 */
export function renderMarkdown(source: string): string {
  if (source.length > MAX_MARKDOWN_CHARS) return plainText(source);
  const clamped = source.split('\n').map((line) => clampQuoteDepth(line, MAX_QUOTE_DEPTH)).join('\n');
  const env = {};
  const tokens = md.parse(clamped, env);
  if (tokens.some((t) => t.level >= MAX_NESTING - 1)) return plainText(source);
  // markdown-it ends every block with a newline; the last one is dropped (blocks stay joined by one).
  return sanitiseHtml(md.renderer.render(tokens, md.options, env)).replace(/\n$/, '');
}

/** `source` escaped in one `<pre class="md-plain">` (wrapped by the stylesheet). */
function plainText(source: string): string {
  return `<pre class="md-plain">${escapeHtml(source)}</pre>`;
}

/**
 * Returns `line` without its block-quote markers (`>` after up to 3 spaces, with one optional
 * following space or tab) past the first `max`; the line is unchanged if it has at most `max`.
 * A linear scan, not a regular expression (the marker grammar is ambiguous enough to backtrack).
 */
export function clampQuoteDepth(line: string, max: number): string {
  let pos = 0;
  let depth = 0;
  let keptEnd = 0;
  for (;;) {
    let i = pos;
    while (i < line.length && i - pos < 3 && line[i] === ' ') i++;
    if (line[i] !== '>') break;
    i++;
    if (line[i] === ' ' || line[i] === '\t') i++;
    pos = i;
    depth++;
    if (depth === max) keptEnd = pos;
  }
  return depth > max ? line.slice(0, keptEnd) + line.slice(pos) : line;
}
