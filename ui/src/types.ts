// The JSON the commands take and return and the events carry: generated from the Rust types
// (`src-tauri/src/gui/bindings.rs`, with ts-rs) into `gen/bindings.ts`, never written by hand.
// After changing a Rust type the page sees, regenerate it (and `gen/samples.ts`, real JSON typed
// with it) from the repository's root:
//
//   UPDATE_BINDINGS=1 cargo test --locked --features gui-test --lib gui::bindings
//
// (`cargo test` fails while the committed files are out of date). This module re-exports them and
// adds what only the page has: lists for pickers and filters, and helper types.

import type { CommandErrorKind, EngineChoice, ExecutionEvent, ExecutionState, Priority, Status } from './gen/bindings';

export type * from './gen/bindings';

export const STATUSES: Status[] = ['queued', 'running', 'retrying', 'awaiting_input', 'succeeded', 'failed', 'cancelled'];
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];
export const ENGINE_CHOICES: EngineChoice[] = ['auto', 'native', 'crewai'];

/** Every key of any variant of a union. */
type KeysOfAny<T> = T extends unknown ? keyof T : never;

/** The fields an execution's state flattens into it (`status` and what is true in that state). */
export type StateKey = KeysOfAny<ExecutionState>;

/** Every state field; the check below fails to compile when a state gains a field not listed. */
export const STATE_KEYS = [
  'status', 'owner', 'lease_expires_at', 'attempt_started_at', 'lease_token', 'owner_gone', 'next_run_at', 'last_error', 'output', 'error',
  'finished_at', 'was_running', 'request',
] as const satisfies readonly StateKey[];
const stateKeysComplete: Exclude<StateKey, (typeof STATE_KEYS)[number]> extends never ? true : false = true;
void stateKeysComplete;

/** The `execution-event` payload: every `ExecutionEvent` but `log` (lines come through the log
 *  channel) and `token` (batched as `execution-tokens`): see `src-tauri/src/gui/events.rs`. */
export type ExecutionEventPayload = Exclude<ExecutionEvent, { type: 'log' | 'token' }>;

/** How a failed call reaches the views: a command's `{kind, message}`, or `internal` for anything else
 *  (a rejected IPC call, a thrown error). */
export interface UiError {
  kind: CommandErrorKind | 'internal';
  message: string;
}
