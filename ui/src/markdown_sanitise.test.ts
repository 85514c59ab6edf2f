import { describe, expect, it } from 'vitest';
import { ALLOWED_ATTR, ALLOWED_TAGS, sanitiseHtml } from './markdown_sanitise';
import { dom } from './test_html';

// The sanitiser is the second line of defence: these feed it raw HTML that markdown-it (raw HTML
// off) never produces, to check the allow-list on its own.
describe('sanitiseHtml', () => {
  it('keeps the markup the renderer produces', () => {
    const html = '<h2>t</h2><p>a <strong>b</strong> <em>c</em> <s>d</s> <code>e</code><br>f <span class="md-url">(u)</span></p>'
      + '<ol start="3"><li>x</li></ol><pre><code class="language-ts">y</code></pre>'
      + '<table><thead><tr><th class="md-align-center">h</th></tr></thead><tbody><tr><td>v</td></tr></tbody></table><hr>';
    expect(sanitiseHtml(html)).toBe(html);
  });

  it('removes elements outside the allow-list, keeping their text but not script or style bodies', () => {
    const el = dom(sanitiseHtml('<p>a<a href="https://x.dev">link</a><img src="https://x.dev/t.png" alt="i"><script>s()</script><style>p{}</style><iframe src="x"></iframe><svg><g onload="x()"></g></svg>b</p>'));
    expect(el.innerHTML).toBe('<p>alinkb</p>');
  });

  it('removes every attribute outside the allow-list', () => {
    const el = dom(sanitiseHtml('<p style="color:red" onclick="x()" id="i" data-x="1" aria-label="l" title="t">a</p><code href="javascript:alert(1)" src="x">c</code>'));
    for (const node of el.querySelectorAll('*')) expect(node.attributes).toHaveLength(0);
  });

  it('keeps class and start only with the values the renderer writes', () => {
    const el = dom(sanitiseHtml('<p class="visible error">a</p><p class="md-url x">b</p><code class="language-&quot;x">c</code><ol start="1 onload=x"><li>d</li></ol><ol start="-1"><li>e</li></ol>'));
    for (const node of el.querySelectorAll('*')) expect(node.attributes, node.outerHTML).toHaveLength(0);
  });

  it('neutralises mutation-XSS shapes', () => {
    const attacks = [
      '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
      '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
      '<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>',
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    ];
    expect(attacks.flatMap((src) => outsidePolicy(dom(sanitiseHtml(src))))).toEqual([]);
  });
});

/** The elements and attributes under `el` that the allow-lists do not name, as `tag` / `tag@attr`. */
function outsidePolicy(el: HTMLElement): string[] {
  return [...el.querySelectorAll('*')].flatMap((node) => {
    const tag = node.tagName.toLowerCase();
    const attrs = [...node.attributes].filter((a) => !ALLOWED_ATTR.includes(a.name)).map((a) => `${tag}@${a.name}`);
    return ALLOWED_TAGS.includes(tag) ? attrs : [tag, ...attrs];
  });
}
