// Run detail's review panel: a task with `human_input` answered and the run waits for a person.
// The answer is shown (sanitised Markdown) with a feedback box: Accept finishes the task with it,
// Send feedback has the agent revise it (the run then asks again).

import { api } from '../api';
import { h, toast } from '../dom';
import { renderMarkdown } from '../markdown';
import type { Execution } from '../types';

/**
 * The panel for `e`, or null when it does not await input. `answered` runs after an answer was
 * recorded (the view reloads); buttons are disabled while the answer is being sent.
 */
export function reviewPanel(e: Execution, answered: () => void): HTMLElement | null {
  const request = e.status === 'awaiting_input' ? e.request : undefined;
  if (!request) return null;
  const draft = h('div', { class: 'output markdown review-draft', 'data-testid': 'review-draft' });
  draft.innerHTML = renderMarkdown(request.draft);
  const feedback = h('textarea', {
    id: 'review-feedback', rows: 3, 'aria-label': 'Feedback for the agent',
    placeholder: 'What should the agent change? (leave empty and Accept to keep the answer)',
  }) as HTMLTextAreaElement;
  const accept = h('button', { class: 'primary', 'data-action': 'accept-review' }, 'Accept') as HTMLButtonElement;
  const send = h('button', { class: 'secondary', 'data-action': 'send-feedback', disabled: true }, 'Send feedback') as HTMLButtonElement;
  feedback.addEventListener('input', () => { send.disabled = feedback.value.trim() === ''; });
  const submit = async (text: string | undefined) => {
    accept.disabled = true;
    send.disabled = true;
    try {
      await api.answerExecution(e.id, text);
      answered();
    } catch (err) {
      toast((err as { message: string }).message, 'error');
      accept.disabled = false;
      send.disabled = feedback.value.trim() === '';
    }
  };
  accept.addEventListener('click', () => void submit(undefined));
  send.addEventListener('click', () => void submit(feedback.value));
  return h('section', { class: 'panel review-panel', 'data-testid': 'review-panel', 'aria-label': 'Review' },
    h('h2', {}, 'Your review'),
    h('p', { class: 'muted' }, 'Task ', h('code', {}, request.task), ` (${request.agent}) answered`,
      request.round > 1 ? `, revision ${request.round - 1} after your feedback` : '', '. Accept it, or tell the agent what to change.'),
    draft,
    feedback,
    h('div', { class: 'actions' }, accept, send));
}
