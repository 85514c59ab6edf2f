// New run: pick a crew, see which engine runs it, fill its inputs, choose priority, engine and LLM
// mode, submit.

import { api } from '../api';
import { append, clear, h, toast } from '../dom';
import { decisionText, pythonCrewKind } from '../engine';
import { collectFreeInputs, collectInputs, inputFields, type FreeInput, type InputField } from '../inputs';
import type { CrewPreview, EngineChoice, LlmMode, Priority } from '../types';
import { ENGINE_CHOICES, PRIORITIES } from '../types';
import { CrewGraphView } from './crew_graph';
import type { View } from './view';

export const newRunView: View = (root) => {
  let preview: CrewPreview | null = null;
  let fields: InputField[] = [];
  let stopped = false;
  /** Counts previews: a slower earlier one (probing Python takes seconds) never overwrites a later one. */
  let previewSeq = 0;
  /** The crew the inputs form is for: reloading it (another engine, another Python) keeps what was typed. */
  let shownPath = '';

  const crewPath = h('input', { type: 'text', id: 'crew-path', placeholder: '/path/to/crew.yaml or a CrewAI project folder', 'aria-label': 'Crew path', spellcheck: 'false' });
  const library = h('select', { id: 'crew-library', 'aria-label': 'Crew library' });
  const summary = h('div', { class: 'crew-summary' });
  const graphView = new CrewGraphView();
  const problems = h('div', { class: 'error-box', hidden: true, role: 'alert', id: 'validation-errors' });
  const inputsBox = h('div', { class: 'inputs-form' });
  const engineDecision = h('div', { class: 'engine-decision', id: 'engine-decision', 'aria-live': 'polite' });
  const engine = h('select', { id: 'engine', 'aria-label': 'Engine', onchange: () => void validate() },
    ...ENGINE_CHOICES.map((c) => h('option', { value: c, selected: c === 'auto' }, c)));
  const python = h('input', {
    type: 'text', id: 'python-path', placeholder: 'Python for CrewAI (default: the project\'s .venv, uv, python3)', 'aria-label': 'Python', spellcheck: 'false',
    onchange: () => { if (engine.value !== 'native') void validate(); },
  });
  const priority = h('select', { id: 'priority', 'aria-label': 'Priority' }, ...PRIORITIES.map((p) => h('option', { value: p, selected: p === 'normal' }, p)));
  const replayFile = h('input', { type: 'text', id: 'replay-file', placeholder: 'recording.jsonl', 'aria-label': 'Recording file', disabled: true });
  const mode = (value: string, label: string, checked = false) =>
    h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'llm-mode', value, checked, onchange: () => { replayFile.disabled = value !== 'replay'; } }), label);
  const submit = h('button', { class: 'primary', id: 'submit-run', type: 'submit', disabled: true }, 'Start run');

  const form = h('form', { class: 'panel new-run', onsubmit: (ev: Event) => { ev.preventDefault(); void doSubmit(); } },
    h('h2', {}, 'Crew'),
    h('div', { class: 'row' }, library,
      h('button', { type: 'button', class: 'secondary', onclick: () => void pick(false) }, 'Open file…'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void pick(true) }, 'Open folder…')),
    h('div', { class: 'row' }, crewPath,
      h('button', { type: 'button', class: 'secondary', id: 'validate-crew', onclick: () => void validate() }, 'Load'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void importCrew() }, 'Add to library')),
    problems,
    engineDecision,
    summary,
    graphView.el,
    h('h2', {}, 'Inputs'),
    inputsBox,
    h('h2', {}, 'Run'),
    h('div', { class: 'row' }, h('label', { for: 'priority' }, 'Priority'), priority),
    h('div', { class: 'row' }, h('label', { for: 'engine' }, 'Engine'), engine, python),
    h('fieldset', { class: 'llm-mode' }, h('legend', {}, 'LLM'),
      mode('configured', 'Configured model (Settings)', true), mode('offline', 'Offline model (no network)'), mode('replay', 'Replay a recording'),
      h('div', { class: 'row' }, replayFile, h('button', { type: 'button', class: 'secondary', onclick: async () => {
        const p = await api.pickFile().catch(() => null);
        if (p) replayFile.value = p;
      } }, 'Choose…'))),
    h('div', { class: 'row end' }, submit),
  );
  clear(root);
  root.append(form);

  async function loadLibrary(): Promise<void> {
    try {
      const crews = await api.listCrews();
      if (stopped) return;
      clear(library);
      library.append(h('option', { value: '' }, crews.length ? 'Crew library…' : 'Library is empty'));
      for (const c of crews) library.append(h('option', { value: c.path }, c.folder ? `${c.name}/` : c.name));
    } catch (e) { toast((e as { message: string }).message, 'error'); }
  }
  library.addEventListener('change', () => {
    if (library.value) { crewPath.value = library.value; void validate(); }
  });
  crewPath.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); void validate(); }
  });

  async function pick(folder: boolean): Promise<void> {
    try {
      const p = await api.pickCrew(folder);
      if (p) { crewPath.value = p; await validate(); }
    } catch (e) { toast((e as { message: string }).message, 'error'); }
  }

  async function importCrew(): Promise<void> {
    if (!crewPath.value.trim()) return;
    try {
      const entry = await api.importCrew(crewPath.value.trim());
      toast(`Added ${entry.name} to the library`);
      crewPath.value = entry.path;
      await loadLibrary();
      library.value = entry.path;
    } catch (e) { showProblems((e as { message: string }).message); }
  }

  function showProblems(message: string | null): void {
    clear(problems);
    problems.hidden = !message;
    if (message) for (const line of message.split('\n')) problems.append(h('div', {}, line));
  }

  /** Loads the crew's preview (engine decision, native report or Python crew) and shows its inputs form. */
  async function validate(): Promise<void> {
    const path = crewPath.value.trim();
    const kept = path === shownPath ? formValues() : { named: {}, free: [] };
    shownPath = path;
    const seq = ++previewSeq;
    preview = null;
    submit.disabled = true;
    clear(summary);
    graphView.show(null);
    clear(inputsBox);
    clear(engineDecision);
    if (!path) return;
    engineDecision.append(h('p', { class: 'muted' }, 'Checking the crew and its engine…'));
    let p: CrewPreview;
    try {
      p = await api.previewCrew(path, engine.value as EngineChoice, python.value.trim() || null);
    } catch (e) {
      if (seq !== previewSeq || stopped) return;
      clear(engineDecision);
      showProblems((e as { message: string }).message);
      return;
    }
    if (seq !== previewSeq || stopped) return;
    preview = p;
    showProblems(null);
    clear(engineDecision);
    engineDecision.append(h('p', { class: `engine engine-${p.engine.engine}` }, decisionText(p.engine)));
    if (p.engine.hint) engineDecision.append(h('div', { class: 'hint muted small' }, `Hint: ${p.engine.hint}`));
    const r = p.report;
    if (r) {
      summary.append(
        h('p', {}, h('strong', {}, r.crew.name), ` · ${r.crew.process ?? 'sequential'} · ${r.crew.agents.length} agent(s) · ${r.crew.tasks.length} task(s)`),
        h('ol', { class: 'task-list' }, ...r.crew.tasks.map((t) => h('li', {}, h('code', {}, t.key), ' by ', t.agent ?? 'the manager'))),
        ...r.warnings.map((w) => h('div', { class: 'warning' }, `⚠ ${w.field ? `${w.field}: ` : ''}${w.message}`)),
      );
      graphView.show(p.graph ?? null);
      fields = inputFields(r.required_inputs);
      if (fields.length === 0) inputsBox.append(h('p', { class: 'muted' }, 'This crew needs no inputs.'));
      for (const f of fields) {
        const id = `input-${f.name}`;
        inputsBox.append(h('div', { class: 'field' },
          h('label', { for: id }, f.name, f.required ? h('span', { class: 'required', title: 'required' }, ' *') : null),
          h('textarea', { id, rows: 1, 'data-input': f.name, placeholder: f.defaultText ?? 'required', required: f.required, value: kept.named[f.name] ?? '' })));
      }
    } else {
      fields = [];
      const c = p.python_crew;
      if (c) {
        append(summary,
          h('p', { class: 'python-crew' }, h('strong', {}, pythonCrewKind(c.kind)), ' · ', h('code', {}, c.entry)),
          c.root !== c.entry ? h('div', { class: 'muted small' }, `Runs in ${c.root}`) : null);
      }
      freeInputsEditor(kept.free);
    }
    submit.disabled = false;
  }

  /** A key/value editor: a Python crew's inputs (its `main.py` has the defaults) override them by name. */
  function freeInputsEditor(rows: FreeInput[]): void {
    const list = h('div', { class: 'free-inputs', id: 'free-inputs' });
    const addRow = (row: FreeInput = { key: '', value: '' }) => {
      const el = h('div', { class: 'row free-input' },
        h('input', { type: 'text', class: 'free-key', 'aria-label': 'Input name', placeholder: 'name', spellcheck: 'false', value: row.key }),
        h('textarea', { class: 'free-value', rows: 1, 'aria-label': 'Input value', placeholder: 'value (JSON or text)', value: row.value }),
        h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Remove input', onclick: () => el.remove() }, '×'));
      list.append(el);
    };
    for (const r of rows) addRow(r);
    inputsBox.append(
      h('p', { class: 'muted' }, 'Its inputs and their defaults are in its main.py; any given here override them by name.'),
      list,
      h('button', { type: 'button', class: 'secondary', id: 'add-input', onclick: () => addRow() }, 'Add input'),
    );
  }

  /** What the inputs form holds now (kept when the preview is reloaded). */
  function formValues(): { named: Record<string, string>; free: FreeInput[] } {
    const named: Record<string, string> = {};
    for (const el of inputsBox.querySelectorAll<HTMLTextAreaElement>('textarea[data-input]')) named[el.dataset.input!] = el.value;
    const free = [...inputsBox.querySelectorAll<HTMLElement>('.free-input')].map((row) => ({
      key: row.querySelector<HTMLInputElement>('.free-key')?.value ?? '',
      value: row.querySelector<HTMLTextAreaElement>('.free-value')?.value ?? '',
    }));
    return { named, free };
  }

  function llmMode(): LlmMode | string {
    const checked = form.querySelector<HTMLInputElement>('input[name="llm-mode"]:checked')?.value ?? 'configured';
    if (checked === 'offline') return { mode: 'offline' };
    if (checked === 'replay') return replayFile.value.trim() ? { mode: 'replay', file: replayFile.value.trim() } : 'Choose a recording to replay.';
    return { mode: 'configured' };
  }

  async function doSubmit(): Promise<void> {
    if (!preview) { await validate(); if (!preview) return; }
    const values = formValues();
    const { inputs, missing } = preview.report ? collectInputs(fields, values.named) : { inputs: collectFreeInputs(values.free), missing: [] };
    const llm = llmMode();
    if (missing.length || typeof llm === 'string') {
      showProblems([missing.length ? `Missing inputs: ${missing.join(', ')}` : '', typeof llm === 'string' ? llm : ''].filter(Boolean).join('\n'));
      return;
    }
    submit.disabled = true;
    try {
      const done = await api.submitExecution({
        crew: crewPath.value.trim(), inputs, priority: priority.value as Priority, llm,
        engine: engine.value as EngineChoice, python: python.value.trim() || undefined,
      });
      location.hash = `#/run/${done.execution.id}`;
    } catch (e) {
      showProblems((e as { message: string }).message);
    } finally {
      submit.disabled = false;
    }
  }

  void loadLibrary();
  return () => { stopped = true; };
};
