import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMarkdown } from './markdown';

function dom(html: string): HTMLElement {
  const el = document.createElement('div');
  el.innerHTML = html;
  return el;
}

describe('renderMarkdown', () => {
  it('renders headings, lists, code and emphasis', () => {
    const html = renderMarkdown('# Title\n\nSome **bold** and *it* and `code`.\n\n- a\n- b\n\n1. one\n2. two\n\n```\nx < y\n```');
    const el = dom(html);
    expect(el.querySelector('h1')?.textContent).toBe('Title');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect(el.querySelector('em')?.textContent).toBe('it');
    expect(el.querySelector('p code')?.textContent).toBe('code');
    expect(el.querySelectorAll('ul li')).toHaveLength(2);
    expect(el.querySelectorAll('ol li')).toHaveLength(2);
    expect(el.querySelector('pre code')?.textContent).toBe('x < y');
  });

  it('keeps script tags as text', () => {
    const el = dom(renderMarkdown('<script>window.pwned = 1</script>\n\nok'));
    expect(el.querySelector('script')).toBeNull();
    expect(el.textContent).toContain('<script>window.pwned = 1</script>');
  });

  it('never creates elements or handlers from HTML in the source', () => {
    const attacks = [
      '<img src=x onerror="window.pwned=1">',
      '**<img src=x onerror=alert(1)>**',
      '- <svg onload=alert(1)>',
      '[click](javascript:alert(1))',
      '![x](https://example.com/t.png)',
      '`<b>` <iframe src="https://example.com"></iframe>',
      '> <a href="javascript:alert(1)">q</a>',
      '# <style>body{display:none}</style>',
    ];
    for (const src of attacks) {
      const el = dom(renderMarkdown(src));
      for (const node of el.querySelectorAll('*')) {
        expect(['img', 'svg', 'iframe', 'a', 'script', 'style']).not.toContain(node.tagName.toLowerCase());
        expect(node.attributes.length, `${src} -> ${el.innerHTML}`).toBe(node.className ? 1 : 0);
      }
    }
  });

  it('shows links as text with their URL and images as their alt text', () => {
    const el = dom(renderMarkdown('see [docs](https://x.dev/a) and ![a chart](https://x.dev/c.png)'));
    expect(el.textContent).toBe('see docs (https://x.dev/a) and a chart');
    expect(el.querySelector('a, img')).toBeNull();
  });
});

describe('escapeHtml', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
