import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMarkdown } from './markdown';
import { dom } from './test_html';

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
    // CommonMark: a fenced block's content ends with its last newline (the old renderer dropped it).
    expect(el.querySelector('pre code')?.textContent).toBe('x < y\n');
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
      '[x][r]\n\n[r]: javascript:alert(1)',
      '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '<javascript:alert(1)> <https://example.com/t>',
      '&lt;script&gt;alert(1)&lt;/script&gt; &#106;avascript:alert(1)',
      '```"><img src=x onerror=alert(1)>\ncode\n```',
      '| <img src=x onerror=alert(1)> |\n|:-:|\n| <script>x</script> |',
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

describe('renderMarkdown: the hostile reply of tests/gui_window.rs', () => {
  it('shows it as text and bold, with no script, handler, link or frame', () => {
    const hostile = "# Hostile report\n\n<script>document.title = 'pwned-script'; window.__pwned = 1;</script>\n\n"
      + '<img src="x" onerror="document.title = \'pwned-img\'; window.__pwned = 2">\n\n'
      + '[click me](javascript:window.__pwned=3) and <a href="javascript:window.__pwned=4">a raw link</a>\n\n'
      + '<iframe src="javascript:window.parent.__pwned=5"></iframe> <svg onload="window.__pwned=6"></svg>\n\n'
      + 'Plain **bold** text that must survive.';
    const el = dom(renderMarkdown(hostile));
    expect(el.querySelector('h1')?.textContent).toBe('Hostile report');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect(el.querySelector('script, img, a, iframe, svg, object, embed')).toBeNull();
    expect([...el.querySelectorAll('*')].flatMap((n) => [...n.attributes])).toEqual([]);
    expect(el.textContent).toContain('[click me](javascript:window.__pwned=3)');
  });
});

describe('renderMarkdown: blocks markdown-it adds', () => {
  it('renders GFM tables with alignment as classes, not inline styles', () => {
    const el = dom(renderMarkdown('| name | n |\n|:-----|--:|\n| **a** | 1 |\n| b | 2 |'));
    expect([...el.querySelectorAll('thead th')].map((th) => th.textContent)).toEqual(['name', 'n']);
    expect(el.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(el.querySelector('tbody td strong')?.textContent).toBe('a');
    expect(el.querySelector('th')?.className).toBe('md-align-left');
    expect(el.querySelector('td:last-child')?.className).toBe('md-align-right');
    expect(el.querySelector('[style]')).toBeNull();
  });

  it('renders an ordered list inside an unordered one, three levels deep', () => {
    const el = dom(renderMarkdown('- fruit\n  1. apple\n     - green\n     - red\n  2. pear\n- veg'));
    expect(el.querySelectorAll(':scope > ul > li')).toHaveLength(2);
    expect(el.querySelectorAll(':scope > ul > li > ol > li')).toHaveLength(2);
    const third = el.querySelectorAll(':scope > ul > li > ol > li > ul > li');
    expect([...third].map((li) => li.textContent)).toEqual(['green', 'red']);
  });

  it('keeps an ordered list start number', () => {
    expect(dom(renderMarkdown('3. c\n4. d')).querySelector('ol')?.getAttribute('start')).toBe('3');
  });

  it('escapes HTML inside fenced and indented code blocks', () => {
    const src = '```html\n<script>alert(1)</script>\n<b onclick="x()">b</b>\n```\n\n    <iframe src="x"></iframe>';
    const el = dom(renderMarkdown(src));
    const blocks = el.querySelectorAll('pre > code');
    expect(blocks).toHaveLength(2);
    expect(blocks[0].textContent).toBe('<script>alert(1)</script>\n<b onclick="x()">b</b>\n');
    expect(blocks[0].className).toBe('language-html');
    expect(blocks[1].textContent).toBe('<iframe src="x"></iframe>\n');
    expect(el.querySelector('script, b, iframe')).toBeNull();
  });

  it('drops a code block language that is not a plain name', () => {
    const el = dom(renderMarkdown('```a"b<c\nx\n```'));
    expect(el.querySelector('code')?.hasAttribute('class')).toBe(false);
  });

  it('keeps single newlines as line breaks and renders strikethrough', () => {
    const el = dom(renderMarkdown('one\ntwo ~~gone~~'));
    expect(el.querySelectorAll('p br')).toHaveLength(1);
    expect(el.querySelector('s')?.textContent).toBe('gone');
  });

  it('shows an autolink as its text alone and a nested link with its own URL', () => {
    expect(dom(renderMarkdown('<https://x.dev/a>')).textContent).toBe('https://x.dev/a');
    expect(dom(renderMarkdown('a [b *c*](https://x.dev/b) d')).textContent).toBe('a b c (https://x.dev/b) d');
  });
});

describe('escapeHtml', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
