import { describe, expect, it } from 'vitest';
import { collectFreeInputs, collectInputs, inputFields, parseInputValue } from './inputs';

describe('inputs form', () => {
  const fields = inputFields([
    { name: 'topic', default: null },
    { name: 'year', default: 2024 },
    { name: 'tone', default: 'friendly' },
  ]);

  it('marks inputs without a default as required and shows defaults as text', () => {
    expect(fields.map((f) => [f.name, f.required, f.defaultText])).toEqual([
      ['topic', true, null],
      ['year', false, '2024'],
      ['tone', false, 'friendly'],
    ]);
  });

  it('reports missing required inputs and leaves empty optional ones to the default', () => {
    expect(collectInputs(fields, { topic: '  ', year: '' })).toEqual({ inputs: {}, missing: ['topic'] });
    expect(collectInputs(fields, { topic: 'AI agents', year: '2025' })).toEqual({
      inputs: { topic: 'AI agents', year: 2025 },
      missing: [],
    });
  });

  it('parses values like --input: JSON when it parses, else text', () => {
    expect(parseInputValue('42')).toBe(42);
    expect(parseInputValue('{"a":[1]}')).toEqual({ a: [1] });
    expect(parseInputValue('true')).toBe(true);
    expect(parseInputValue('hello world')).toBe('hello world');
    expect(parseInputValue('"quoted"')).toBe('quoted');
  });

  it('collects free-form inputs: empty keys ignored, keys trimmed, values parsed, the last of a key wins', () => {
    expect(collectFreeInputs([])).toEqual({});
    expect(collectFreeInputs([
      { key: ' topic ', value: 'AI agents' },
      { key: '', value: 'ignored' },
      { key: '   ', value: '1' },
      { key: 'year', value: '2025' },
      { key: 'empty', value: '' },
      { key: 'year', value: '2026' },
    ])).toEqual({ topic: 'AI agents', year: 2026, empty: '' });
  });
});
