import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (cmd: string, args: unknown) => invoke(cmd, args), Channel: class {} }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { reviewPanel } from './views/review_panel';
import { buildTimeline } from './timeline';
import type { Execution } from './types';
import { execution } from './test_samples';

const flush = () => new Promise((r) => setTimeout(r, 0));

function waiting(round = 1): Execution {
  return execution('01JREVIEW', {
    status: 'awaiting_input',
    request: { task: 'write', agent: 'Writer', round, draft: '# Owls\n<script>alert(1)</script>Owls hunt at night.', json: null, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, llm_calls: 1 }, asked_at: 1 },
  });
}

describe('the review panel', () => {
  beforeEach(() => { invoke.mockReset(); invoke.mockResolvedValue({}); });

  it('is shown only while a run awaits input', () => {
    expect(reviewPanel(execution('01JREVIEW', { status: 'running', owner: 'o', lease_expires_at: 0, attempt_started_at: 1, lease_token: 1 }), () => {})).toBeNull();
    expect(reviewPanel(waiting(), () => {})).not.toBeNull();
  });

  it('renders the draft sanitised and names the task and round', () => {
    const panel = reviewPanel(waiting(2), () => {})!;
    const draft = panel.querySelector('[data-testid=review-draft]')!;
    expect(draft.querySelector('h1')!.textContent).toBe('Owls');
    expect(draft.querySelector('script')).toBeNull();
    expect(panel.textContent).toContain('revision 1 after your feedback');
  });

  it('accepts with no feedback and sends typed feedback', async () => {
    const answered = vi.fn();
    const panel = reviewPanel(waiting(), answered)!;
    const send = panel.querySelector<HTMLButtonElement>('[data-action=send-feedback]')!;
    expect(send.disabled).toBe(true);
    const box = panel.querySelector<HTMLTextAreaElement>('#review-feedback')!;
    box.value = 'Shorter, please';
    box.dispatchEvent(new Event('input'));
    expect(send.disabled).toBe(false);
    send.click();
    await flush();
    expect(invoke).toHaveBeenCalledWith('answer_execution', { id: '01JREVIEW', feedback: 'Shorter, please' });
    expect(answered).toHaveBeenCalledTimes(1);

    const again = reviewPanel(waiting(), answered)!;
    again.querySelector<HTMLButtonElement>('[data-action=accept-review]')!.click();
    await flush();
    expect(invoke).toHaveBeenLastCalledWith('answer_execution', { id: '01JREVIEW', feedback: null });
  });

  it('keeps the buttons usable when the answer is refused', async () => {
    invoke.mockRejectedValue({ kind: 'invalid_state', message: 'cannot answer execution 01JREVIEW: it is queued' });
    const answered = vi.fn();
    const panel = reviewPanel(waiting(), answered)!;
    const accept = panel.querySelector<HTMLButtonElement>('[data-action=accept-review]')!;
    accept.click();
    await flush();
    expect(answered).not.toHaveBeenCalled();
    expect(accept.disabled).toBe(false);
  });
});

describe('the timeline of a run awaiting review', () => {
  it('shows the started task as awaiting review', () => {
    const snapshot = { name: 'c', agents: [{ key: 'w', role: 'Writer' }], tasks: [{ key: 'write', agent: 'w' }] };
    const logs = [{ execution_id: 'x', attempt: 1, seq: 1, at: 10, level: 'info', kind: 'task_started', task: 'write', agent: 'Writer', message: '', data: null }];
    const rows = buildTimeline(snapshot as never, [], logs as never, 'awaiting_input', 20);
    expect(rows[0].state).toBe('awaiting_review');
  });
});
