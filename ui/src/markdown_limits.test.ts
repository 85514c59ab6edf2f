import { describe, expect, it } from 'vitest';
import { clampQuoteDepth, MAX_MARKDOWN_CHARS, MAX_QUOTE_DEPTH, renderMarkdown } from './markdown';
import { createMarkdownIt } from './markdown_rules';
import { dom } from './test_html';

/** How many elements matching `selector` enclose the deepest one (itself included). */
function depth(el: HTMLElement, selector: string): number {
  let max = 0;
  for (const node of el.querySelectorAll(selector)) {
    let n = 0;
    for (let p: Element | null = node; p && p !== el; p = p.parentElement) if (p.matches(selector)) n++;
    max = Math.max(max, n);
  }
  return max;
}

// No timing thresholds: these inputs would throw (stack overflow) or hang a quadratic renderer for
// minutes; the test run's own time limit is the bound.

describe('renderMarkdown limits', () => {
  it('renders 2,432 nested quotes without throwing, keeping the innermost text', () => {
    for (const src of ['>'.repeat(2432) + ' deep', '> '.repeat(2432) + 'deep']) {
      const html = renderMarkdown(src);
      const el = dom(html);
      expect(depth(el, 'blockquote')).toBe(MAX_QUOTE_DEPTH);
      expect(el.textContent?.trim()).toBe('deep');
    }
  });

  it('renders 300 quote levels opened line by line (past maxNesting), keeping every line', () => {
    const src = Array.from({ length: 300 }, (_, i) => `${'>'.repeat(i + 1)} level ${i + 1}`).join('\n');
    const html = renderMarkdown(src);
    const el = dom(html);
    expect(depth(el, 'blockquote')).toBe(MAX_QUOTE_DEPTH);
    for (const n of [1, 20, 21, 101, 300]) expect(el.textContent).toContain(`level ${n}\n`);
  });

  it('shows lists nested to markdown-it maxNesting as plain text, losing nothing', () => {
    const byIndent = Array.from({ length: 300 }, (_, i) => `${'  '.repeat(i)}- item ${i}`).join('\n');
    const onOneLine = '- '.repeat(2432) + 'x';
    for (const src of [`${byIndent}\n\nafter`, `${onOneLine}\n\nafter`]) {
      const html = renderMarkdown(src);
      const el = dom(html);
      expect(el.querySelector('ul')).toBeNull();
      expect(el.querySelector('pre.md-plain')?.textContent).toBe(src);
    }
  });

  it('still renders lists nested 30 levels deep', () => {
    const src = Array.from({ length: 30 }, (_, i) => `${'  '.repeat(i)}- item ${i}`).join('\n');
    const el = dom(renderMarkdown(`${src}\n\nafter`));
    expect(depth(el, 'ul')).toBe(30);
    expect(el.lastElementChild?.outerHTML).toBe('<p>after</p>');
  });

  it('shows a source over the size limit (1 MB) as escaped plain text', () => {
    const src = '# <script>alert(1)</script>\n' + 'x'.repeat(1024 * 1024);
    const html = renderMarkdown(src);
    const el = dom(html);
    expect(el.children).toHaveLength(1);
    expect(el.firstElementChild?.outerHTML.startsWith('<pre class="md-plain">')).toBe(true);
    expect(el.querySelector('script, h1')).toBeNull();
    expect(el.textContent).toBe(src);
  });

  // jsdom builds and sanitises elements ~100 times slower than a browser, so the element-heavy
  // cases run markdown-it alone; the end-to-end cases produce few elements.
  it('parses pathological sources at the size limit', { timeout: 60_000 }, () => {
    const md = createMarkdownIt();
    const n = MAX_MARKDOWN_CHARS;
    const sources = [
      '[a]('.repeat(n / 4),
      '*a'.repeat(n / 2),
      '*_'.repeat(n / 2),
      '`a'.repeat(n / 2),
      '- a\n'.repeat(n / 4),
      '|a|b|\n|-|-|\n' + '|x|y|\n'.repeat(n / 6 - 2),
    ];
    for (const src of sources) {
      expect(src.length).toBeLessThanOrEqual(n);
      expect(md.render(src, {}).length, src.slice(0, 20)).toBeGreaterThan(0);
    }
  });

  it('renders few-element sources at the size limit', { timeout: 30_000 }, () => {
    for (const src of ['['.repeat(MAX_MARKDOWN_CHARS), '<'.repeat(MAX_MARKDOWN_CHARS)]) {
      expect(dom(renderMarkdown(src)).textContent?.trim(), src.slice(0, 20)).toBe(src);
    }
    expect(depth(dom(renderMarkdown('>'.repeat(MAX_MARKDOWN_CHARS))), 'blockquote')).toBe(MAX_QUOTE_DEPTH);
  });
});

describe('clampQuoteDepth', () => {
  it('keeps lines with at most `max` markers as they are', () => {
    for (const line of ['plain', '> a', '>> a', ' > > a', '    > code', '>\t>b']) expect(clampQuoteDepth(line, 2)).toBe(line);
  });

  it('drops the markers past `max`, whatever their spacing', () => {
    expect(clampQuoteDepth('>>>> a', 2)).toBe('>>a');
    expect(clampQuoteDepth('> > > > a', 2)).toBe('> > a');
    expect(clampQuoteDepth('   >  >   >> a', 1)).toBe('   > a');
  });
});
