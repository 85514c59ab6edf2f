// The New run inputs form: fields from `validate_crew`'s required inputs, values as submitted.

import type { JsonValue, RequiredInput } from './types';
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
export function parseInputValue(text: string): JsonValue {
  const t = text.trim();
  if (t === '') return '';
  try {
    return JSON.parse(t) as JsonValue;
  } catch {
    return text;
  }
}

export interface InputsResult {
  inputs: Record<string, JsonValue>;
  /** Required inputs left empty. */
  missing: string[];
}

/**
 * The inputs to submit from the form's `values`: empty fields fall back to the crew's default
 * (they are left out), and required fields left empty are reported as missing.
 */
export function collectInputs(fields: InputField[], values: Record<string, string>): InputsResult {
  const inputs: Record<string, JsonValue> = {};
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

/** One row of the free-form inputs editor (a Python crew's inputs come from its `main.py`). */
export interface FreeInput {
  key: string;
  value: string;
}

/**
 * The inputs of the free-form editor: rows with an empty key are ignored, keys are trimmed, values
 * parsed as [`parseInputValue`] does (a later row with the same key wins). They override the
 * defaults of the crew's `main.py`.
 */
export function collectFreeInputs(rows: FreeInput[]): Record<string, JsonValue> {
  const inputs: Record<string, JsonValue> = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (key) inputs[key] = parseInputValue(r.value);
  }
  return inputs;
}
