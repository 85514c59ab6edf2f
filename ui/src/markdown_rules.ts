// The markdown-it set-up for untrusted model output: CommonMark plus GFM tables and
// strikethrough, raw HTML off, and the renderer rules that keep the app's policy of no
// navigation and no remote content (links become text, images their alt text).

import MarkdownIt from 'markdown-it';
import type { Env, MarkdownIt as MarkdownItInstance, MarkdownItOptions, Renderer, Token } from 'markdown-it';

/**
 * markdown-it's bound on nested blocks and inline spans: a block that would open at this level
 * ends the document (the rest is not rendered); inline markup that deep stays text.
 */
export const MAX_NESTING = 100;

/** Where a render's `env` keeps the URLs to show after the links still open (`null`: none). */
const LINK_URLS = Symbol('linkUrls');

/** Escapes the five HTML special characters (`&`, `<`, `>`, `"`, `'`). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Returns a markdown-it instance with: `html: false` (tags in the source are text), `breaks: true`
 * (a single newline is a `<br>`, as model output expects), `linkify: false` and `typographer:
 * false`, `maxNesting` = `MAX_NESTING`, and these renderer rules:
 * - a link renders as its text followed by `<span class="md-url">(URL)</span>`; an autolink
 *   (`<https://…>`) as its text alone; no `<a>` is produced, so a click cannot navigate the app;
 * - an image renders as its alt text (no `<img>`, so nothing remote is fetched);
 * - a table cell's alignment becomes `class="md-align-left|center|right"` instead of an inline
 *   `style` (which the CSP would block).
 */
export function createMarkdownIt(): MarkdownItInstance {
  const md = new MarkdownIt('default', {
    html: false,
    breaks: true,
    linkify: false,
    typographer: false,
    maxNesting: MAX_NESTING,
  });
  const rules = md.renderer.rules;
  rules.link_open = (tokens, idx, _options, env) => {
    const token = tokens[idx];
    const href = String(token.attrGet('href') ?? '');
    linkUrls(env).push(token.markup === 'autolink' ? null : md.normalizeLinkText(href));
    return '';
  };
  rules.link_close = (_tokens, _idx, _options, env) => {
    const url = linkUrls(env).pop();
    return url ? ` <span class="md-url">(${escapeHtml(url)})</span>` : '';
  };
  rules.image = (tokens, idx, options, env) => imageAlt(md.renderer, tokens[idx], options, env);
  rules.th_open = (tokens, idx) => cellOpen('th', tokens[idx]);
  rules.td_open = (tokens, idx) => cellOpen('td', tokens[idx]);
  return md;
}

/** The stack of link URLs in `env` (markdown-it always passes an object; created on first use). */
function linkUrls(env: Env | undefined): (string | null)[] {
  const holder = (env ?? {}) as Env;
  return (holder[LINK_URLS] ??= []) as (string | null)[];
}

/** An image's alt text, escaped (what the reader would see if the image failed to load). */
function imageAlt(renderer: Renderer, token: Token, options: Required<MarkdownItOptions>, env: Env | undefined): string {
  return escapeHtml(renderer.renderInlineAsText(token.children ?? [], options, env));
}

/** `<th>` / `<td>` with the column's alignment (`style="text-align:X"` from markdown-it) as a class. */
function cellOpen(tag: 'th' | 'td', token: Token): string {
  const align = /^text-align:(left|center|right)$/.exec(String(token.attrGet('style') ?? ''));
  return align ? `<${tag} class="md-align-${align[1]}">` : `<${tag}>`;
}
