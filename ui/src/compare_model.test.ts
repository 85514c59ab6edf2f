import { describe, expect, it } from 'vitest';
import { compareBlocker, compareHref, formatCost, segmentElement, summaryRows, taskOutcome, taskRows, toggleSelection } from './compare_model';
import { comparison, task } from './compare_fixture';

describe('picking runs to compare', () => {
  it('toggles ids, keeping the two latest picks', () => {
    expect(toggleSelection([], 'a')).toEqual(['a']);
    expect(toggleSelection(['a'], 'b')).toEqual(['a', 'b']);
    expect(toggleSelection(['a', 'b'], 'c')).toEqual(['b', 'c']);
    expect(toggleSelection(['a', 'b'], 'a')).toEqual(['b']);
  });

  it('needs two runs of the same crew', () => {
    const crews: Record<string, string> = { a: 'blog', b: 'blog', c: 'support' };
    const crewOf = (id: string) => crews[id];
    expect(compareBlocker([], crewOf)).toBe('Select 2 more runs of the same crew to compare');
    expect(compareBlocker(['a'], crewOf)).toBe('Select 1 more run of the same crew to compare');
    expect(compareBlocker(['a', 'c'], crewOf)).toBe('Different crews (blog and support): pick two runs of the same crew');
    expect(compareBlocker(['a', 'b'], crewOf)).toBeNull();
    expect(compareHref(['a', 'b/c'])).toBe('#/compare/a/b%2Fc');
  });
});

describe('a comparison as rows', () => {
  it('lays the summaries side by side', () => {
    const rows = summaryRows(comparison());
    expect(rows).toContainEqual(['Run', 'A1', 'B2']);
    expect(rows).toContainEqual(['Inputs', 'topic=queues', 'topic=locks, n=3']);
    expect(rows).toContainEqual(['Models', 'configured default', 'offline']);
    expect(rows).toContainEqual(['Duration', '2.5 s', '2.5 s']);
    expect(rows).toContainEqual(['Cost', 'unknown', 'unknown']);
  });

  it('gives each task its numbers in A and B and its outcome', () => {
    const rows = taskRows(comparison());
    expect(rows.map((r) => r[0])).toEqual(['research', 'write', 'review']);
    expect(rows[0]).toEqual(['research', 'Writer | Writer', '1.5 s | 1.5 s', '1.2k | 1.2k', '$0.0012 | $0.0012', 'same']);
    expect(rows[1][5]).toBe('differs');
    expect(rows[2][4]).toBe('$0.0012 | —');
    expect(taskOutcome(task('t', { a: null, differs: true }))).toBe('only in B');
    expect(formatCost(0)).toBe('$0.0000');
  });

  it('draws deletions and insertions as del and ins', () => {
    expect([segmentElement('delete'), segmentElement('insert'), segmentElement('equal')]).toEqual(['del', 'ins', 'span']);
  });
});
