// The New run inputs form: fields from `validate_crew`'s required inputs, values as submitted.

import type { RequiredInput } from './types';
import { inputText } from './format';

export interface InputField {
  name: string;
  /** The crew's default as text, or `null` when the input must be given. */
  defaultText: string | null;
  required: boolean;
}

export function inputFields(required: RequiredInput[]): InputField[] {
  return required.map((r) => ({
    name: r.name,
    defaultText: r.default == null ? null : inputText(r.default),
    required: r.default == null,
  }));
}

/** A form value as the CLI reads `--input KEY=VALUE`: JSON when it parses as JSON, else text. */
export function parseInputValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return '';
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}

export interface InputsResult {
  inputs: Record<string, unknown>;
  /** Required inputs left empty. */
  missing: string[];
}

/**
 * The inputs to submit from the form's `values`: empty fields fall back to the crew's default
 * (they are left out), and required fields left empty are reported as missing.
 */
export function collectInputs(fields: InputField[], values: Record<string, string>): InputsResult {
  const inputs: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const f of fields) {
    const raw = values[f.name] ?? '';
    if (raw.trim() === '') {
      if (f.required) missing.push(f.name);
      continue;
    }
    inputs[f.name] = parseInputValue(raw);
  }
  return { inputs, missing };
}
