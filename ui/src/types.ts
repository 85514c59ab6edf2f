// The JSON the commands return and the events carry (mirrors the Rust types, snake_case keys).

export type Status = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'cancelled' | 'awaiting_input';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export const STATUSES: Status[] = ['queued', 'running', 'retrying', 'awaiting_input', 'succeeded', 'failed', 'cancelled'];
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];

export interface ExecutionError {
  kind: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

export interface Progress {
  completed_steps: number;
  total_steps: number;
  current_step?: string;
  current_agent?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  llm_calls: number;
  cost_usd?: number;
}

/** A task's answer waiting for a person's review (`human_input`): accept it or send feedback. */
export interface InputRequest {
  task: string;
  agent: string;
  /** 1 for the first answer, one more for each revision after feedback. */
  round: number;
  draft: string;
  json?: unknown;
  usage: Usage;
  asked_at: number;
}

/** The execution's state, flattened into it (`status` plus what is true in that state). */
export interface StateFields {
  status: Status;
  owner?: string;
  lease_expires_at?: number;
  lease_token?: number;
  /** Running, but its worker process is gone (read-time, not stored): recovered by the next worker. */
  owner_gone?: boolean;
  next_run_at?: number;
  last_error?: ExecutionError;
  output?: string;
  error?: ExecutionError;
  finished_at?: number;
  was_running?: boolean;
  /** Awaiting input: what waits for review. */
  request?: InputRequest;
}

export const STATE_KEYS: (keyof StateFields)[] = [
  'status', 'owner', 'lease_expires_at', 'lease_token', 'owner_gone', 'next_run_at', 'last_error', 'output', 'error', 'finished_at', 'was_running', 'request',
];

export interface Execution extends StateFields {
  id: string;
  crew_name: string;
  crew_source: string;
  /** The engine that runs it; `crew_spec` is that engine's form of the crew. */
  engine: Engine;
  /** `null` in lists (`get_execution` has it). */
  crew_spec: CrewSnapshot | null;
  inputs: Record<string, unknown>;
  priority: Priority;
  attempt: number;
  max_attempts: number;
  timeout_ms: number | null;
  llm: { model?: string; api_base?: string; record?: string; replay?: string };
  meta: Record<string, string>;
  cancel_requested: boolean;
  progress: Progress;
  usage: Usage;
  attempt_errors: { attempt: number; at: number; error: ExecutionError }[];
  retry_of: string | null;
  created_at: number;
  started_at: number | null;
}

export interface ExecutionPage {
  executions: Execution[];
  next_before: string | null;
}

export interface StepOutput {
  step: string;
  agent: string;
  output: string;
  json: unknown;
  usage: Usage;
  attempt: number;
  completed_at: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  execution_id: string;
  attempt: number;
  seq: number;
  at: number;
  level: LogLevel;
  kind: string;
  task?: string;
  agent?: string;
  message: string;
  data?: unknown;
}

export type LogStreamMessage =
  | { type: 'lines'; entries: LogEntry[] }
  | { type: 'end'; status: Status }
  | { type: 'error'; message: string };

export type ExecutionEvent =
  | { type: 'state'; id: string; state: StateFields; attempt: number; priority: Priority }
  | { type: 'progress'; id: string; progress: Progress }
  | { type: 'queue'; paused: boolean; concurrency: number };

export interface QueueSettings {
  paused: boolean;
  concurrency: number;
}

export type StatusCounts = Record<Status, number>;

export interface QueueView {
  settings: QueueSettings;
  counts: StatusCounts;
  /** Why this app's scheduler stopped (e.g. the disk is full); null while it runs. */
  halted: string | null;
}

export interface AgentSpec {
  key: string;
  role: string;
  goal?: string;
  llm?: string | null;
  /** A bare name, or `{name, args}` when the crew gave the tool constructor arguments. */
  tools?: (string | { name: string; args: Record<string, unknown> })[];
}

export interface TaskSpec {
  key: string;
  description?: string;
  expected_output?: string;
  agent?: string | null;
}

export interface CrewSpec {
  name: string;
  source?: string;
  process?: string;
  agents: AgentSpec[];
  tasks: TaskSpec[];
  llm?: string | null;
}

/** `auto` | `native` | `crewai` (`--engine`). */
export type EngineChoice = 'auto' | 'native' | 'crewai';
export const ENGINE_CHOICES: EngineChoice[] = ['auto', 'native', 'crewai'];
export type Engine = 'native' | 'crewai';

/** How the CrewAI engine runs a Python crew (`engine/crewai/target.rs`). */
export type PythonCrewKind = 'crew_project' | 'flow_project' | 'script';

/** A Python that imports CrewAI. */
export interface FoundPython {
  command: { program: string; args?: string[] };
  source: string;
  python_version: string;
  crewai_version: string;
}

export interface EngineDecision {
  engine: Engine;
  reason: string;
  /** The Python that runs it (CrewAI engine only). */
  python?: FoundPython;
  /** Shown with the native engine's warnings (`--engine crewai` would run the dropped parts). */
  hint?: string;
}

/** A CrewAI project, Flow or script found on disk. */
export interface PythonCrew {
  kind: PythonCrewKind;
  root: string;
  entry: string;
}

/** What a CrewAI execution runs (its `crew_spec`); `translated`: a native crew run through CrewAI. */
export interface CrewaiTarget {
  kind: PythonCrewKind;
  root: string;
  entry: string;
  python: FoundPython;
  translated?: CrewSpec;
}

/** An execution's `crew_spec`: the native snapshot or the CrewAI target. */
export type CrewSnapshot = CrewSpec | CrewaiTarget;

/** `preview_crew`: the engine decision, the native report when the native engine loads the crew. */
export interface CrewPreview {
  engine: EngineDecision;
  report: CrewReport | null;
  python_crew: PythonCrew | null;
  /** The native crew as a graph, warnings pinned to their nodes (`null` with `report`). */
  graph?: CrewGraph | null;
}

/** A crew graph node's kind (`crew/graph.rs`). */
export type GraphNodeKind = 'agent' | 'task' | 'manager' | 'tool' | 'mcp_server';
/** A crew graph edge's kind: task→agent `performs`, task→task `context`, manager→agent `delegates`, →tool/MCP `uses`. */
export type GraphEdgeKind = 'performs' | 'context' | 'delegates' | 'uses';

export interface GraphNode {
  /** `agent:<key>`, `task:<key>`, `manager`, `tool:<name>`, `mcp:<server>`. */
  id: string;
  kind: GraphNodeKind;
  label: string;
  key: string | null;
  /** A task's async group (index into `async_groups`). */
  async_group?: number;
  warnings: Diagnostic[];
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: GraphEdgeKind;
  /** `all earlier tasks` (an implicit context) or `#tool` (one tool of an MCP server). */
  note?: string;
}

/** `preview_crew`'s and `get_execution_graph`'s crew graph. */
export interface CrewGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  async_groups: { tasks: string[] }[];
  /** Warnings about the crew as a whole. */
  warnings: Diagnostic[];
}

export interface Diagnostic {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

export interface RequiredInput {
  name: string;
  default: unknown | null;
  /** Where the default was written (`crew.yaml`, `…/main.py:16`). */
  default_from?: string;
}

/** What became of the fields of one agent (`agents.x`), task (`tasks.y`) or the crew (`crew`). */
export interface FieldUses {
  entry: string;
  applied: string[];
  ignored: string[];
}

export interface CrewReport {
  crew: CrewSpec;
  required_inputs: RequiredInput[];
  warnings: Diagnostic[];
  fields?: FieldUses[];
}

export interface CrewEntry {
  name: string;
  path: string;
  folder: boolean;
}

export type LlmMode = { mode: 'configured' } | { mode: 'offline' } | { mode: 'replay'; file: string };

export interface SubmitArgs {
  crew: string;
  inputs: Record<string, unknown>;
  priority: Priority;
  llm: LlmMode;
  max_attempts?: number;
  timeout_secs?: number;
  engine?: EngineChoice;
  /** The Python the CrewAI engine uses (else the search). */
  python?: string;
}

export interface Submitted {
  execution: Execution;
  warnings: Diagnostic[];
}

export type CancelOutcome =
  | { outcome: 'cancelled' }
  | { outcome: 'requested' }
  | { outcome: 'already_finished'; status: Status };

export interface SettingsView {
  provider: string;
  base_url: string;
  model: string;
  api_key_set: boolean;
  /** Where the stored key is: the OS credential store, `credentials.json` beside the settings, or none. */
  api_key_storage: 'keyring' | 'file' | null;
  notify_on_finish: boolean;
  /** Folders a crew's workspace may be in besides its own folder and the data dir's `workspaces/`. */
  allowed_workspaces: string[];
  concurrency: number;
  paused: boolean;
  data_dir: string;
  database: string;
  /** The settings file (`<config dir>/settings.json`), shared with `crew-runner config`. */
  config_file: string;
  /** Configuration keys the environment overrides (`llm.model`, …) and the variable that does. */
  env_overrides: Record<string, string>;
  providers: string[];
  /** The local HTTP API: the setting and the server's state. */
  http_api: HttpApiView;
}

/** The in-app HTTP API: `url` and `token` while it listens, `error` when it could not start. */
export interface HttpApiView {
  enabled: boolean;
  port: number;
  url: string | null;
  token: string | null;
  error: string | null;
}

/** `api_key`: absent keeps the stored key, `""` removes it, other text replaces it. */
export interface SettingsUpdate {
  provider?: string;
  base_url?: string;
  model?: string;
  api_key?: string;
  notify_on_finish?: boolean;
  concurrency?: number;
  allowed_workspaces?: string[];
  http_api_enabled?: boolean;
  /** 1 to 65535. */
  http_api_port?: number;
}

/** Every command error: `{kind, message}`. */
export interface CommandError {
  kind: string;
  message: string;
}

/** One execution in a comparison (`compare_executions`). */
export interface RunSummary {
  id: string;
  crew_name: string;
  status: Status;
  inputs: Record<string, unknown>;
  /** The models it names (its `--model`, else the crew's and agents'); empty: the configured default. */
  models: string[];
  duration_ms: number | null;
  total_tokens: number;
  cost_usd: number | null;
}

/** One task's numbers in one execution of a comparison. */
export interface TaskRun {
  agent: string;
  duration_ms: number | null;
  total_tokens: number;
  cost_usd: number | null;
}

export type SegmentOp = 'equal' | 'insert' | 'delete';

/** A word diff of two outputs: `delete` is only in A, `insert` only in B. */
export interface OutputDiff {
  granularity: 'word' | 'line';
  segments: { op: SegmentOp; text: string }[];
  /** Why it is line by line (too large), when it is. */
  note?: string;
}

export interface TaskComparison {
  task: string;
  /** `null`: execution A did not finish it. */
  a: TaskRun | null;
  b: TaskRun | null;
  differs: boolean;
  diff: OutputDiff;
}

/** Two executions of one crew compared, tasks in the crew's order. */
export interface RunComparison {
  a: RunSummary;
  b: RunSummary;
  tasks: TaskComparison[];
  first_difference: string | null;
}

/** What a trace span stands for. */
export type SpanKind = 'task' | 'llm_call' | 'tool_call' | 'delegation';
/** How a trace span ended (`running`: not yet). */
export type SpanStatus = 'running' | 'ok' | 'failed' | 'skipped' | 'cancelled';
/** What is kept of each LLM call (the `trace_payloads` setting). */
export type TracePayloads = 'full' | 'metadata';

/** One row of the trace waterfall (`src-tauri/src/app/trace.rs`). */
export interface TraceSpan {
  /** Its index in `Trace.spans`. */
  id: number;
  /** The enclosing task or delegation span. */
  parent: number | null;
  kind: SpanKind;
  /** The task key, the model, the tool's name, or `From role → To role`. */
  name: string;
  task: string | null;
  agent: string | null;
  attempt: number;
  /** Epoch milliseconds. */
  start_ms: number;
  /** `null` while running. */
  end_ms: number | null;
  status: SpanStatus;
  /** An LLM call's tokens, or the sum over the calls under a task or delegation. */
  usage: Usage | null;
  /** `null` when unknown. */
  cost_usd: number | null;
  model: string | null;
  /** An LLM call whose payload was kept: the key for `getTraceCall`. */
  call: number | null;
  summary: string;
  /** tool_call: {tool, input, output}; delegation: {request, context, kind, from, to}; else null. */
  detail: unknown;
  /** A running LLM call's answer so far (its end, and the whole length), when the app runs the execution. */
  streamed?: { text: string; length: number };
}

export interface TraceTotals {
  llm_calls: number;
  tool_calls: number;
  delegations: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** `null` when any call's cost is unknown. */
  cost_usd: number | null;
}

/** The trace of one execution: spans ordered by start, parents before their children. */
export interface Trace {
  execution_id: string;
  status: Status;
  started_at: number | null;
  ended_at: number | null;
  spans: TraceSpan[];
  totals: TraceTotals;
  payloads: TracePayloads;
}

export interface PayloadToolCall {
  name: string;
  arguments: string;
}

/** A message sent to the model (secrets redacted). */
export interface PayloadMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: PayloadToolCall[];
  tool_call_id?: string;
  name?: string;
}

/** What one LLM call sent and received. */
export interface TraceCall {
  execution_id: string;
  call: number;
  model: string;
  endpoint: string | null;
  messages: PayloadMessage[];
  tools: string[];
  response: { content: string; tool_calls: PayloadToolCall[]; finish_reason: string | null };
  usage: Usage | null;
  started_at: number;
  ended_at: number;
}
