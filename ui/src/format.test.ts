import { describe, expect, it } from 'vitest';
import { executionDuration, formatDuration, formatTokens, progressFraction, progressLabel } from './format';

describe('format', () => {
  it('formats durations at each scale', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-5)).toBe('—');
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(184_000)).toBe('3 min 04 s');
    expect(formatDuration(7_500_000)).toBe('2 h 05 min');
  });

  it('measures running executions to now and finished ones to their end', () => {
    expect(executionDuration({ started_at: 1000, finished_at: 4000, status: 'succeeded', output: '' }, 9000)).toBe(3000);
    const running = { status: 'running', owner: 'o', lease_expires_at: 0, lease_token: 1, attempt_started_at: 5000 } as const;
    expect(executionDuration({ ...running, started_at: 1000 }, 9000)).toBe(8000);
    expect(executionDuration({ started_at: null, status: 'queued' }, 9000)).toBeNull();
  });

  it('formats token counts', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(1234)).toBe('1.2k');
    expect(formatTokens(45_600)).toBe('46k');
    expect(formatTokens(4_500_000)).toBe('4.5M');
  });

  it('shows progress with the current task and agent while running', () => {
    const progress = { completed_steps: 1, total_steps: 3, current_step: 'write', current_agent: 'Writer' };
    expect(progressLabel({ status: 'running', progress })).toBe('1/3 · write · Writer');
    expect(progressLabel({ status: 'queued', progress })).toBe('1/3');
    expect(progressFraction({ status: 'running', progress })).toBeCloseTo(1 / 3);
    expect(progressFraction({ status: 'succeeded', progress })).toBe(1);
    expect(progressFraction({ status: 'queued', progress: { completed_steps: 0, total_steps: 0 } })).toBe(0);
  });
});
