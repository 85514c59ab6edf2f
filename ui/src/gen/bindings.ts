// Generated from the Rust types by ts-rs (src-tauri/src/gui/bindings.rs): do not edit.
// Regenerate with `UPDATE_BINDINGS=1 cargo test --locked --features gui-test --lib gui::bindings`.

/**
 * An agent, with CrewAI's field names.
 */
export type AgentSpec = {
/**
 * The agent's key (its name in `agents.yaml`, its node id in a graph).
 */
key: string, role: string, goal: string, backstory: string,
/**
 * Model string (`openai/gpt-4o-mini`, `offline`, …); `None` = the crew's default.
 */
llm: string | null,
/**
 * The model's settings beyond its name (`LLM(temperature=…, base_url=…)`, an `llm:` mapping).
 */
llm_settings?: LlmSettings,
/**
 * The agent's tools, by canonical name (`read_file`, …; see `crew::tools`) with the constructor
 * arguments the crew wrote: the loader maps CrewAI names (`FileReadTool`, …) and drops tools it
 * cannot run, warning.
 */
tools: Array<ToolUse>,
/**
 * MCP servers (or single tools of them) whose tools the agent gets (`mcps:`): names of the
 * crew's `mcp_servers`, or `https://…` URLs, each optionally `#tool`.
 */
mcps?: Array<McpRef>, allow_delegation: boolean,
/**
 * A prompt longer than the model's context window is summarised (true, CrewAI's default)
 * rather than failing the task (false); see `engine::context_window`.
 */
respect_context_window: boolean,
/**
 * Most reasoning iterations per task (CrewAI's default is 25).
 */
max_iter: number,
/**
 * Seconds an agent may spend on one task.
 */
max_execution_time: number | null,
/**
 * Most LLM requests per minute for this agent.
 */
max_rpm: number | null, };

/**
 * Consecutive `async_execution` tasks: they run together; the next synchronous task waits for them.
 */
export type AsyncGroup = {
/**
 * The tasks' node ids, in execution order (at least one).
 */
tasks: Array<string>, };

/**
 * One failed attempt's error, kept for history.
 */
export type AttemptError = { attempt: number, at: number, error: ExecutionError, };

/**
 * What a cancel request did.
 */
export type CancelOutcome = { "outcome": "cancelled" } | { "outcome": "requested" } | { "outcome": "already_finished", "status": Status };

/**
 * A command failed. Crosses the IPC boundary as `{kind, message}`; nothing secret is ever in
 * `message` (errors never include the API key).
 */
export type CommandError = { kind: CommandErrorKind, message: string, };

/**
 * What went wrong, as a stable snake_case word the UI can branch on.
 */
export type CommandErrorKind = "not_found" | "invalid_argument" | "invalid_state" | "invalid_crew" | "missing_inputs" | "model" | "storage" | "io" | "stopped" | "engine";

/**
 * One command tool: run `command` in the workspace with the model's arguments as JSON on stdin;
 * its stdout is the result.
 */
export type CommandToolSpec = {
/**
 * Shown to the model.
 */
description: string,
/**
 * The program and its arguments (no shell); a relative program path with a `/` is taken
 * from the workspace.
 */
command: Array<string>,
/**
 * The JSON Schema of the tool's input (an object); `{}` = any object.
 */
input_schema: JsonValue,
/**
 * Seconds before the command (its whole process group) is killed.
 */
timeout_secs: number | null,
/**
 * Bytes of stdout (and of the stderr tail on failure) kept; the rest is cut with a note.
 */
max_output_bytes: number | null, };

/**
 * One crew in the library.
 */
export type CrewEntry = {
/**
 * The file or folder name in the library.
 */
name: string,
/**
 * Its full path (what `validate_crew` and `submit_execution` take).
 */
path: string,
/**
 * A folder (CrewAI project) rather than a single file.
 */
folder: boolean, };

/**
 * Which format a crew was loaded from.
 */
export type CrewFormat = "yaml_project" | "single_file" | "graph";

/**
 * A crew as a graph: nodes in a stable order (manager, agents, tasks in execution order, tools,
 * MCP servers), edges, async groups, and the warnings no node is named by.
 */
export type CrewGraph = {
/**
 * Each id once.
 */
nodes: Array<GraphNode>,
/**
 * Between ids of `nodes`, each once, in the order found (tasks in execution order).
 */
edges: Array<GraphEdge>,
/**
 * In execution order; a task node's `async_group` indexes this list.
 */
async_groups: Array<AsyncGroup>,
/**
 * Warnings about the crew as a whole (or naming nothing in the graph).
 */
warnings: Array<Diagnostic>, };

/**
 * What a crew would run as, shown before anything is submitted (`validate`, the desktop app's New
 * run): the engine decision, the native report when the native engine loads the crew, and the
 * CrewAI project, Flow or script recognised on disk.
 */
export type CrewPreview = { engine: EngineDecision,
/**
 * `None` when the native engine cannot load the crew (a Python crew runs on CrewAI).
 */
report: CrewReport | null, python_crew: PythonCrew | null,
/**
 * The native crew as a graph, each of the report's warnings pinned to the node it concerns;
 * `None` with the report.
 */
graph: CrewGraph | null, };

/**
 * What `crew-runner validate --json` prints and the GUI builds its inputs form from.
 */
export type CrewReport = { crew: CrewSpec,
/**
 * Sorted by name.
 */
required_inputs: Array<RequiredInput>, warnings: Array<Diagnostic>,
/**
 * Per agent, task and the crew's settings: the fields applied and those ignored.
 */
fields: Array<FieldUses>, };

/**
 * An execution's `crew_spec` (stored as JSON): a `CrewSpec` for the native engine, a
 * `CrewaiTarget` for the CrewAI engine (they share no field that would tell them apart except
 * `python`, which only a target has).
 *
 * Only its TypeScript is used: `Execution::crew_spec` names it with `#[ts(type = ...)]`.
 */
export type CrewSnapshot = CrewSpec | CrewaiTarget;

/**
 * A whole crew, validated and normalised; what the engine runs and what an execution snapshots.
 *
 * Placeholders (`{topic}`) are still in the text; they are filled at run time from the inputs.
 */
export type CrewSpec = { name: string, format: CrewFormat,
/**
 * The file or folder it was loaded from (absolute).
 */
source: string, process: Process,
/**
 * The crew's default model; `None` = from the environment (`MODEL`) or the built-in default.
 */
llm: string | null,
/**
 * The manager's model for hierarchical crews.
 */
manager_llm: string | null,
/**
 * The settings of a `manager_llm` mapping (or `LLM(...)`): temperature, endpoint, key variable.
 */
manager_llm_settings?: LlmSettings,
/**
 * The key of the agent that manages a hierarchical crew (instead of a built-in manager).
 */
manager_agent: string | null, agents: Array<AgentSpec>,
/**
 * In execution order.
 */
tasks: Array<TaskSpec>,
/**
 * Default inputs; kickoff inputs override them.
 */
inputs: { [key in string]: JsonValue },
/**
 * The folder the file tools and `output_file` are confined to (absolute).
 */
workspace: string,
/**
 * Let tools that reach the network run (on by default; off with `allow_network_tools: false`
 * or `--no-network-tools`, which drop them from the agents and tasks with a warning).
 */
allow_network_tools: boolean,
/**
 * Let network tools reach loopback, private and link-local addresses
 * (`--allow-private-network`; off by default). Stored with the execution so the worker that
 * runs it honours it.
 */
allow_private_network: boolean,
/**
 * Crew-wide requests-per-minute cap.
 */
max_rpm: number | null,
/**
 * MCP servers agents may attach with `mcps:`, by name (`${VAR}` still unexpanded).
 */
mcp_servers?: { [key in string]: McpServerSpec },
/**
 * Command tools agents and tasks may name in `tools:`, by name.
 */
command_tools?: { [key in string]: CommandToolSpec },
/**
 * Where each default input came from (`main.py:14`, `crew.yaml`), by input name.
 */
input_sources?: { [key in string]: string },
/**
 * The project's `.env` (absolute), whose variables fill those the environment leaves unset
 * when the crew runs. Only its path and variable names are kept: the values are read again
 * by whoever runs the crew, so no secret is stored with an execution.
 */
env_file?: string,
/**
 * The variable names the `.env` set when the crew was loaded (names only, never values).
 */
env_vars?: Array<string>, };

/**
 * What a CrewAI execution runs, with which Python.
 */
export type CrewaiTarget = { kind: TargetKind,
/**
 * The working directory (the project root; a script's folder).
 */
root: string,
/**
 * The package folder `src/<pkg>` of a project; the file of a script.
 */
entry: string, python: FoundPython,
/**
 * A native crew translated to a CrewAI project at each attempt (`crew-runner export`'s
 * project, written to a temp folder); `root` and `entry` are then filled in at run time.
 */
translated?: CrewSpec, };

/**
 * One finding about a crew file: an error that stops loading or a warning that does not.
 *
 * `Display` prints `file:line: field: message`, leaving out the parts that are absent.
 */
export type Diagnostic = {
/**
 * The file (or folder) the finding is about, as a path.
 */
file: string,
/**
 * 1-based line in `file`, where it is known.
 */
line?: number,
/**
 * The field path, e.g. `tasks.research_task.context[0]` or `nodes[3] (id task-2).data.agent`.
 */
field?: string,
/**
 * What is wrong, in words.
 */
message: string, };

/**
 * How finely the outputs were compared.
 */
export type DiffGranularity = "word" | "line";

/**
 * A run of text with the same [`SegmentOp`]: concatenating the `equal` and `delete` segments
 * gives output A, the `equal` and `insert` ones output B.
 */
export type DiffSegment = { op: SegmentOp, text: string, };

/**
 * What a [`GraphEdge`] means.
 */
export type EdgeKind = "performs" | "context" | "delegates" | "uses";

/**
 * The engine that runs an execution, decided at submission and stored with it.
 *
 * - `Native`: the Rust engine; the execution's `crew_spec` is a `CrewSpec`.
 * - `Crewai`: the user's own CrewAI in a Python child process; `crew_spec` is a `CrewaiTarget`
 *   (see `engine::crewai` and docs/CREWAI_ENGINE.md).
 */
export type Engine = "native" | "crewai";

/**
 * What the caller asked for (`--engine`).
 */
export type EngineChoice = "auto" | "native" | "crewai";

/**
 * The engine picked and why, in words (`validate` shows it).
 */
export type EngineDecision = { engine: Engine, reason: string,
/**
 * The Python that runs it (CrewAI engine only).
 */
python?: FoundPython,
/**
 * A hint to show with the native engine's warnings (`--engine crewai` would run the dropped
 * parts).
 */
hint?: string, };

/**
 * Why an attempt failed, classified so the scheduler knows whether to retry.
 */
export type ErrorKind = "timeout" | "llm_connection" | "llm_timeout" | "llm_rate_limited" | "llm_server" | "llm_client" | "llm_invalid_response" | "replay_mismatch" | "invalid_crew" | "tool" | "output" | "agent_limit" | "abandoned" | "storage" | "python" | "internal";

/**
 * What an ExecutionLog line records.
 */
export type EventKind = "submitted" | "started" | "retry_scheduled" | "recovered" | "succeeded" | "failed" | "cancelled" | "cancel_requested" | "priority_changed" | "interrupted" | "awaiting_input" | "input_answered" | "task_started" | "task_completed" | "task_skipped" | "agent_step" | "llm_call_started" | "llm_call_completed" | "tool_call" | "delegation" | "warning" | "output";

/**
 * One run of one crew: what was asked, where it is, and what came of it.
 */
export type Execution = { id: ExecutionId, crew_name: string, crew_source: string,
/**
 * The engine that runs it (`crew_spec` is that engine's form of the crew).
 */
engine: Engine,
/**
 * A `CrewSpec` (native engine) or a `CrewaiTarget` (CrewAI engine); `null` in the desktop
 * app's lists. Shared: executions read together with the same crew hold one parsed copy.
 */
crew_spec: CrewSnapshot | null, inputs: { [key in string]: JsonValue }, priority: Priority,
/**
 * The current (or last) attempt's number: attempts that ended with an error or a result.
 * An attempt abandoned because its worker died is refunded (the next one has its number)
 * and counted in `abandons` instead.
 */
attempt: number, max_attempts: number,
/**
 * Attempts abandoned because their worker process died (see [`NewExecution::max_abandons`]).
 */
abandons: number,
/**
 * At this many abandoned attempts the execution fails (kind `abandoned`): it kills its
 * worker every time.
 */
max_abandons: number, timeout_ms: number | null, llm: LlmOptions, meta: { [key in string]: string },
/**
 * A cancel was requested while it was running and has not taken effect yet.
 */
cancel_requested: boolean, progress: Progress, usage: Usage,
/**
 * Every failed attempt's error, oldest first.
 */
attempt_errors: Array<AttemptError>, retry_of: ExecutionId | null, created_at: number,
/**
 * When the first attempt started.
 */
started_at: number | null, } & ({ "status": "queued" } | { "status": "running", owner: string, lease_expires_at: number, attempt_started_at: number, lease_token: number, owner_gone?: boolean, } | { "status": "retrying", next_run_at: number, last_error: ExecutionError, } | { "status": "succeeded", output: string, finished_at: number, } | { "status": "failed", error: ExecutionError, finished_at: number, } | { "status": "cancelled", finished_at: number, was_running: boolean, } | { "status": "awaiting_input", request: InputRequest, });

/**
 * An attempt's failure: `{kind, message, retryable, details}` as stored and shown.
 *
 * `retryable` is decided by whoever classifies the failure (the LLM client, the engine); the
 * scheduler retries only retryable errors, and only while attempts remain.
 */
export type ExecutionError = { kind: ErrorKind, message: string, retryable: boolean,
/**
 * Extra facts (HTTP status, task key, …); `null` when there are none.
 */
details: JsonValue,
/**
 * The server's Retry-After, when it sent one; the backoff waits at least this long.
 */
retry_after_ms?: number, };

/**
 * What subscribers (the CLI's progress display, the GUI) receive through the broadcast.
 *
 * Lagging subscribers lose events (tokio broadcast semantics) and should re-read the store.
 */
export type ExecutionEvent = { "type": "state", id: ExecutionId, state: ExecutionState, attempt: number, priority: Priority, } | { "type": "progress", id: ExecutionId, progress: Progress, } | { "type": "log", entry: LogEntry, } | { "type": "token", id: ExecutionId, task: string | null, text: string, restart: boolean, offset: number, } | { "type": "queue", paused: boolean, concurrency: number, };

/**
 * A sortable execution id: a ULID in its 26-character Crockford base32 form.
 *
 * Ids sort by creation time, so "newest first" is "id descending".
 */
export type ExecutionId = string;

/**
 * One page of executions. `crew_spec` is left out (`null`) in lists: `get_execution` has it.
 */
export type ExecutionPage = { executions: Array<Execution>,
/**
 * Pass as `before` for the next page; `null` on the last page.
 */
next_before: string | null, };

/**
 * Where an execution is in its life, with what is true in that state (like pueue's `TaskStatus`).
 *
 * Transitions: `Queued → Running → (Succeeded | Failed | Cancelled | Retrying | Queued |
 * AwaitingInput)`, `AwaitingInput → Queued` when answered (or `→ Cancelled`),
 * `Retrying → Queued` when the backoff is due (or straight to `Running` when claimed),
 * `Queued | Retrying → Cancelled`. A running execution whose owner dies goes back to `Queued`
 * (recovered) or to `Failed` with kind `abandoned` when no attempts remain.
 */
export type ExecutionState = { "status": "queued" } | { "status": "running", owner: string, lease_expires_at: number, attempt_started_at: number, lease_token: number, owner_gone?: boolean, } | { "status": "retrying", next_run_at: number, last_error: ExecutionError, } | { "status": "succeeded", output: string, finished_at: number, } | { "status": "failed", error: ExecutionError, finished_at: number, } | { "status": "cancelled", finished_at: number, was_running: boolean, } | { "status": "awaiting_input", request: InputRequest, };

/**
 * What became of the fields of one agent, one task, or the crew's settings.
 */
export type FieldUses = {
/**
 * `agents.researcher`, `tasks.reporting_task`, or `crew`.
 */
entry: string,
/**
 * The fields applied, in the order read: `name` (YAML/JSON) or `name (crew.py:12)`.
 */
applied: Array<string>,
/**
 * The fields ignored, each with a warning saying why.
 */
ignored: Array<string>, };

/**
 * A Python that imports CrewAI.
 */
export type FoundPython = { command: PythonCommand,
/**
 * Where it came from (`--python`, `CREW_RUNNER_PYTHON`, `the project's .venv`, `uv run`, `python3 on PATH`).
 */
source: string, python_version: string, crewai_version: string, };

/**
 * One edge of a [`CrewGraph`], between two node ids.
 */
export type GraphEdge = {
/**
 * The id of the node the edge leaves.
 */
from: string,
/**
 * The id of the node the edge enters.
 */
to: string,
/**
 * What the edge means.
 */
kind: EdgeKind,
/**
 * A `context` edge that stands for "all earlier tasks' outputs" (the task sets no `context`;
 * drawn from the task just before, or for an async task from the one before its group, as
 * the tasks of a group do not see each other's outputs); a `uses` edge to one tool of an MCP server names it here
 * as `#tool`. `None` otherwise.
 */
note?: string, };

/**
 * One node of a [`CrewGraph`].
 */
export type GraphNode = {
/**
 * Unique in the graph: `agent:<key>`, `task:<key>`, `manager`, `tool:<name>`, `mcp:<server>`.
 */
id: string,
/**
 * What the node stands for.
 */
kind: NodeKind,
/**
 * What to show: an agent's role, a task's key, a tool's or server's name.
 */
label: string,
/**
 * The crew's key for it (agent or task key, tool or server name); `None` for a built-in manager.
 */
key: string | null,
/**
 * For tasks: the index of the [`AsyncGroup`] the task belongs to.
 */
async_group?: number,
/**
 * The loader's warnings about this node, in the order given.
 */
warnings: Array<Diagnostic>, };

/**
 * The HTTP API part of the Settings view: the setting and what the server is doing.
 */
export type HttpApiView = { enabled: boolean,
/**
 * The port setting.
 */
port: number,
/**
 * `http://127.0.0.1:PORT` while the server listens, else `None`.
 */
url: string | null,
/**
 * The bearer token clients send (the data dir's `http-token`), while the server listens.
 */
token: string | null,
/**
 * Why the server could not start with the current setting, else `None`.
 */
error: string | null, };

/**
 * A server reached over streamable HTTP.
 */
export type HttpServer = { url: string,
/**
 * Headers sent with every request (`Authorization`, …).
 */
headers: { [key in string]: string }, };

/**
 * A task's answer waiting for a person's review.
 */
export type InputRequest = {
/**
 * The task's key.
 */
task: string,
/**
 * The agent (role) that answered.
 */
agent: string,
/**
 * 1 for the first answer, one more for each revision after feedback.
 */
round: number,
/**
 * The answer under review (the task's output if accepted).
 */
draft: string,
/**
 * The draft's parsed JSON for a structured task; `null` otherwise.
 */
json: JsonValue,
/**
 * What the task's LLM calls cost so far, over every round.
 */
usage: Usage,
/**
 * When the execution started waiting.
 */
asked_at: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * Where a stored key was found or put (the Settings view's `api_key_storage`).
 */
export type KeyLocation = "keyring" | "file";

/**
 * Which executions to list, newest first. In TypeScript every field may be left out (an `Option`
 * may also be `null`), as for [`SubmitArgs`].
 */
export type ListQuery = {
/**
 * Only these statuses (all when empty).
 */
statuses?: Array<Status>,
/**
 * Only this crew (by name).
 */
crew?: string | null,
/**
 * Page size (default 50, at most 500).
 */
limit?: number | null,
/**
 * The previous page's `next_before`.
 */
before?: string | null, };

/**
 * Which models a submitted run uses.
 */
export type LlmMode = { "mode": "configured" } | { "mode": "offline" } | { "mode": "replay", file: string, };

/**
 * How the execution talks to LLMs; stored with it so any worker runs it the same way.
 */
export type LlmOptions = {
/**
 * `--model`: overrides the crew's default model (per-agent `llm` still wins over the crew's).
 */
model?: string,
/**
 * `--api-base`: overrides the endpoint taken from the environment. As stored, its
 * credentials (password, secret query parameters) read `***`; the real URL is then in the
 * secrets file named by `secret_ref` (see `llm::endpoint_secrets`).
 */
api_base?: string,
/**
 * The file in `<data dir>/secrets/` holding the real `api_base`, when it carries credentials.
 */
secret_ref?: string,
/**
 * `--record FILE`: keep every LLM exchange of the run in this file.
 */
record?: string,
/**
 * `--replay FILE`: serve LLM exchanges from this recording, no network.
 */
replay?: string, };

/**
 * An agent's model settings beyond the model name; absent fields leave the provider's default.
 */
export type LlmSettings = {
/**
 * Sent as the request's `temperature`.
 */
temperature?: number,
/**
 * Sent as the request's `max_tokens`.
 */
max_tokens?: number,
/**
 * The endpoint's base URL (`http://127.0.0.1:11434/v1`), instead of the provider's
 * variables and default; `--api-base` still overrides it.
 */
base_url?: string,
/**
 * The environment variable holding the API key (never the key itself).
 */
api_key_env?: string, };

/**
 * One stored ExecutionLog line.
 */
export type LogEntry = { execution_id: ExecutionId, attempt: number,
/**
 * Per-execution sequence number, 1-based, gap-free, in commit order.
 */
seq: number, at: number, level: LogLevel, kind: EventKind, task?: string, agent?: string, message: string, data: JsonValue, };

/**
 * Severity of an ExecutionLog line.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * What a tail yields.
 */
export type LogStreamMessage = { "type": "lines", entries: Array<LogEntry>, } | { "type": "end", status: Status, } | { "type": "orphaned", owner: string, } | { "type": "error", message: string, };

/**
 * One entry of an agent's `mcps:` in CrewAI's forms: `name`, `name#tool`, `https://…`,
 * `https://…#tool`. Serialised as that text.
 */
export type McpRef = string;

/**
 * How to reach one MCP server: `{command, args, env, cwd}` or `{url, headers}`.
 */
export type McpServerSpec = StdioServer | HttpServer;

/**
 * What a [`GraphNode`] stands for.
 */
export type NodeKind = "agent" | "task" | "manager" | "tool" | "mcp_server";

/**
 * Two outputs compared: the segments, at which granularity, and why it is coarser when it is.
 */
export type OutputDiff = { granularity: DiffGranularity,
/**
 * In order; adjacent changes of the same op are merged into one segment. Empty when both
 * outputs are empty.
 */
segments: Array<DiffSegment>,
/**
 * Set when the diff is line by line: "too large to diff word by word (…); shown line by line".
 */
note?: string, };

/**
 * One message sent to the model.
 */
export type PayloadMessage = {
/**
 * `system`, `user`, `assistant` or `tool`.
 */
role: string, content: string,
/**
 * The tools an assistant message called.
 */
tool_calls?: Array<PayloadToolCall>,
/**
 * The call a `tool` message answers.
 */
tool_call_id?: string,
/**
 * The speaker's name, when the message had one.
 */
name?: string, };

/**
 * What the model answered.
 */
export type PayloadResponse = { content: string, tool_calls: Array<PayloadToolCall>, finish_reason: string | null, };

/**
 * A tool call as the model asked for it.
 */
export type PayloadToolCall = { name: string,
/**
 * The arguments as the model sent them (JSON text, possibly invalid).
 */
arguments: string, };

/**
 * How urgent an execution is. Strictly higher priorities run first; FIFO within a level.
 *
 * Stored as its [`rank`](Priority::rank) (0 = low … 3 = urgent) so the claim index can order by it.
 */
export type Priority = "low" | "normal" | "high" | "urgent";

/**
 * How tasks are run.
 */
export type Process = "sequential" | "hierarchical";

/**
 * How far a run is: completed steps (crew tasks) of the total, and what runs now.
 */
export type Progress = { completed_steps: number, total_steps: number,
/**
 * The task running now (its key), if any.
 */
current_step?: string,
/**
 * The agent (role) working on it.
 */
current_agent?: string, };

/**
 * A Python command line: `program args… script…`.
 */
export type PythonCommand = { program: string,
/**
 * Arguments before the script (`["run", "--project", ROOT, "python"]` for uv).
 */
args?: Array<string>, };

/**
 * A CrewAI Python crew found on disk (`validate --json` and the desktop app's preview show it as
 * `{kind, root, entry}`).
 */
export type PythonCrew = { kind: TargetKind, root: string, entry: string, };

/**
 * Queue settings shared by every process on one database.
 */
export type QueueSettings = { paused: boolean, concurrency: number, };

/**
 * The queue as a face shows it.
 */
export type QueueView = { settings: QueueSettings, counts: StatusCounts,
/**
 * Why this process's scheduler stopped on its own (a storage failure), if it did.
 */
halted: string | null, };

/**
 * An input the crew's text names as a `{placeholder}`, and its default from the crew's `inputs`.
 */
export type RequiredInput = { name: string,
/**
 * `None`: the input has no default and must be given at kickoff.
 */
default: JsonValue | null,
/**
 * Where the default was written (`crew.yaml`, `<path>/main.py:14`); `None` without a default
 * or when the format does not say.
 */
default_from?: string, };

/**
 * Two executions of one crew compared (see the module docs).
 */
export type RunComparison = { a: RunSummary, b: RunSummary,
/**
 * Every task either execution finished, in the crew's task order (tasks the crew file does
 * not list, as in CrewAI Python crews, follow in A's then B's completion order). Tasks
 * neither finished are left out.
 */
tasks: Array<TaskComparison>,
/**
 * The key of the first task (in that order) whose outputs differ; `null` when all agree.
 */
first_difference: string | null, };

/**
 * One execution as a comparison shows it.
 */
export type RunSummary = { id: ExecutionId, crew_name: string, status: Status,
/**
 * Kickoff inputs (merged with the crew's defaults).
 */
inputs: { [key in string]: JsonValue },
/**
 * The models it names, sorted: its `--model` override alone when it has one, else the crew's
 * `llm`, `manager_llm` and agents' `llm` (empty when the crew leaves every model to the
 * environment or settings, or is a CrewAI Python crew).
 */
models: Array<string>,
/**
 * From the first attempt's start to the end; `null` while unfinished or never started.
 */
duration_ms: number | null,
/**
 * Tokens of every LLM call of every attempt.
 */
total_tokens: number,
/**
 * US dollars; `null` when some call's model price is unknown.
 */
cost_usd: number | null, };

/**
 * What a segment of a diff is.
 */
export type SegmentOp = "equal" | "insert" | "delete";

/**
 * A change of settings (from the app's Settings view). Absent fields are left as they are.
 *
 * `api_key`: absent or `null` keeps the stored key, `""` removes it, any other text replaces it.
 * (In TypeScript each field is optional and nullable: `field?: T | null`.)
 */
export type SettingsUpdate = { provider?: string | null, base_url?: string | null, model?: string | null, api_key?: string | null, notify_on_finish?: boolean | null, concurrency?: number | null,
/**
 * Replaces the list (blank entries dropped).
 */
allowed_workspaces?: Array<string> | null,
/**
 * Turns the local HTTP API on or off.
 */
http_api_enabled?: boolean | null,
/**
 * The HTTP API's port, 1 to 65535 (wider here so a wrong number gets [`InvalidUpdate`]).
 */
http_api_port?: number | null, };

/**
 * The settings as the UI sees them: the key only as "set or not". The queue's shared settings
 * and where the data lives are added by the command.
 */
export type SettingsView = { provider: string, base_url: string, model: string, api_key_set: boolean,
/**
 * Where the stored key is: `keyring` (the OS credential store), `file` (`credentials.json`
 * beside the settings), or `None` when none is stored.
 */
api_key_storage: KeyLocation | null, notify_on_finish: boolean,
/**
 * Folders a crew's workspace may be in besides its own folder and the data dir's `workspaces/`.
 */
allowed_workspaces: Array<string>,
/**
 * Executions run at once (shared by every process on the database).
 */
concurrency: number, paused: boolean, data_dir: string, database: string,
/**
 * The settings file (`<config dir>/settings.json`).
 */
config_file: string,
/**
 * The configuration keys the app's environment overrides (`llm.model`, `llm.api_key`,
 * `llm.base_url`), each with the variable that does (`MODEL`, `OPENAI_API_KEY`, …).
 */
env_overrides: { [key in string]: string },
/**
 * Known provider prefixes, for the provider picker.
 */
providers: Array<string>,
/**
 * The local HTTP API: the setting and the server's state.
 */
http_api: HttpApiView, };

/**
 * What a span stands for.
 */
export type SpanKind = "task" | "llm_call" | "tool_call" | "delegation";

/**
 * How a span ended (or that it has not).
 */
export type SpanStatus = "running" | "ok" | "failed" | "skipped" | "cancelled";

/**
 * An execution's status without its data.
 */
export type Status = "queued" | "running" | "retrying" | "succeeded" | "failed" | "cancelled" | "awaiting_input";

/**
 * Number of executions in each status.
 */
export type StatusCounts = { queued: number, running: number, retrying: number, succeeded: number, failed: number, cancelled: number,
/**
 * Paused for a person's review (not finished, holding no slot).
 */
awaiting_input: number, };

/**
 * A server started as a child process.
 */
export type StdioServer = {
/**
 * The program (looked up on `PATH`).
 */
command: string, args: Array<string>,
/**
 * Variables added to the worker's environment for the server.
 */
env: { [key in string]: string },
/**
 * The folder it runs in, relative to the workspace; `None` = the workspace.
 */
cwd: string | null, };

/**
 * A completed step (crew task): stored once per (execution, step) so reruns skip it.
 */
export type StepOutput = {
/**
 * The task's key (its name in `tasks.yaml`, its id in a graph).
 */
step: string,
/**
 * The agent (role) that produced it.
 */
agent: string,
/**
 * The raw output text.
 */
output: string,
/**
 * Parsed JSON when the task asked for `output_json`; `null` otherwise.
 */
json: JsonValue, usage: Usage, attempt: number, completed_at: number, };

/**
 * A running LLM call's answer so far: its end (at most [`KEPT_BYTES`]) and its whole length.
 */
export type StreamedAnswer = {
/**
 * The answer's end.
 */
text: string,
/**
 * The whole answer's length so far in UTF-16 code units (JavaScript string length), so a
 * face can tell which streamed batches `text` already holds.
 */
length: number, };

/**
 * What the New run view submits. In TypeScript every field but `crew` may be left out (serde's
 * defaults), and an `Option` may also be `null` (`optional = nullable` keeps a field's type as it is).
 */
export type SubmitArgs = {
/**
 * The crew file or folder.
 */
crew: string, inputs?: { [key in string]: JsonValue }, priority?: Priority, llm?: LlmMode,
/**
 * Attempts in all (default 3).
 */
max_attempts?: number | null,
/**
 * Per-attempt time limit.
 */
timeout_secs?: number | null, meta?: { [key in string]: string },
/**
 * Which engine runs it (`auto` by default).
 */
engine?: EngineChoice,
/**
 * The Python the CrewAI engine uses (else the search; empty means absent).
 */
python?: string | null, };

/**
 * A recorded submission and the warnings about its crew and inputs (see `prepare_submission`).
 */
export type Submitted = { execution: Execution, warnings: Array<Diagnostic>, };

/**
 * How the shim runs the crew (the request's `kind`, see docs/CREWAI_ENGINE.md).
 */
export type TargetKind = "crew_project" | "flow_project" | "script";

/**
 * One task in both executions.
 */
export type TaskComparison = {
/**
 * The task's key.
 */
task: string,
/**
 * Its run in execution A; `null` when A did not finish it.
 */
a: TaskRun | null,
/**
 * Its run in execution B; `null` when B did not finish it.
 */
b: TaskRun | null,
/**
 * The outputs differ (a task finished in one execution only differs).
 */
differs: boolean,
/**
 * Output A against output B (all of it deleted or inserted when only one has it).
 */
diff: OutputDiff, };

/**
 * One task's numbers in one execution.
 */
export type TaskRun = {
/**
 * The agent (role) that produced the output.
 */
agent: string,
/**
 * From the task's last start (in the attempt that finished it) to its completion; `null`
 * when the execution's log has no start for it (a task reused from an earlier run).
 */
duration_ms: number | null, total_tokens: number,
/**
 * US dollars; `null` when a call's model price is unknown.
 */
cost_usd: number | null, };

/**
 * A task, with CrewAI's field names.
 */
export type TaskSpec = {
/**
 * The task's key (its name in `tasks.yaml`, its node id in a graph). Steps are stored under it.
 */
key: string, description: string, expected_output: string,
/**
 * The assigned agent's key; `None` only in hierarchical crews (the manager picks).
 */
agent: string | null,
/**
 * `None` = all previous tasks' outputs; `Some([])` = none; otherwise these tasks' outputs.
 * Graph crews always have `Some`: exactly the task→task edges into this task.
 */
context: Array<string> | null, async_execution: boolean,
/**
 * CrewAI's `human_input`: the agent's answer waits for a person's review (accept, or
 * feedback the agent revises with, asked again) before the task completes.
 */
human_input?: boolean,
/**
 * Path (relative to the workspace) the output is written to, atomically.
 */
output_file: string | null,
/**
 * The output must be JSON (and parse).
 */
output_json: boolean,
/**
 * JSON Schema the output must match (from `output_json`/`output_pydantic` naming a Pydantic
 * model, or given inline).
 */
output_schema: JsonValue | null,
/**
 * A guardrail the output must pass, judged by the LLM (CrewAI's string guardrail).
 */
guardrail: string | null,
/**
 * How many times a rejected output is sent back for revision (CrewAI's default is 3).
 */
guardrail_max_retries: number,
/**
 * Task-level tools (override the agent's for this task when non-empty).
 */
tools: Array<ToolUse>, };

/**
 * Text streamed into one execution's task since the last emit (the `execution-tokens` payload
 * is a list of these, in arrival order).
 */
export type TokenBatch = { id: ExecutionId, task: string | null,
/**
 * A new LLM call of this task began before `text`: the page starts the shown answer again.
 */
restart: boolean,
/**
 * Where `text` starts in the current call's answer, in UTF-16 code units (JavaScript string
 * length): the page skips what it already has (from the trace's
 * [`streamed`](crate::app::TraceSpan::streamed) snapshot, or a batch seen twice).
 */
offset: number, text: string, };

/**
 * A tool given to an agent or a task: its canonical name and the constructor arguments the crew
 * wrote (`FileReadTool(file_path="a.md")` → `read_file` with `{"file_path": "a.md"}`).
 *
 * Serialised as the bare name when it has no arguments, so snapshots written before tools had
 * arguments (plain strings) still load.
 */
export type ToolUse = string | { name: string, args: { [key in string]: JsonValue }, };

/**
 * The trace of one execution.
 */
export type Trace = { execution_id: string, status: Status, started_at: number | null, ended_at: number | null,
/**
 * Ordered by start; parents before their children.
 */
spans: Array<TraceSpan>, totals: TraceTotals,
/**
 * What is kept of LLM calls now (the `trace_payloads` setting).
 */
payloads: TracePayloads, };

/**
 * What one LLM call sent and received.
 */
export type TraceCall = { execution_id: string,
/**
 * The seq of the call's `llm_call_completed` line.
 */
call: number, model: string,
/**
 * The base URL, credentials redacted.
 */
endpoint: string | null,
/**
 * What was sent, secrets redacted.
 */
messages: Array<PayloadMessage>,
/**
 * The names of the tools offered.
 */
tools: Array<string>, response: PayloadResponse, usage: Usage | null, started_at: number, ended_at: number, };

/**
 * What the store keeps of each LLM call (the `trace_payloads` setting).
 */
export type TracePayloads = "full" | "metadata";

/**
 * One row of the waterfall.
 */
export type TraceSpan = {
/**
 * The span's index in [`Trace::spans`].
 */
id: number,
/**
 * The enclosing span's id (a task, or a delegation for its coworker's calls).
 */
parent: number | null, kind: SpanKind,
/**
 * The task key, the model, the tool's name, or `From role → To role`.
 */
name: string, task: string | null, agent: string | null,
/**
 * The attempt it belongs to (1-based).
 */
attempt: number,
/**
 * Epoch milliseconds.
 */
start_ms: number,
/**
 * `None` while it is still running.
 */
end_ms: number | null, status: SpanStatus,
/**
 * Tokens (and cost) of an LLM call, or of every LLM call under a task or delegation.
 */
usage: Usage | null,
/**
 * US dollars when the price of every call it covers is known.
 */
cost_usd: number | null,
/**
 * The model of an LLM call.
 */
model: string | null,
/**
 * For an LLM call whose payload was stored: its key for [`Runner::trace_call`] (the seq of
 * its `llm_call_completed` line).
 */
call: number | null,
/**
 * One line: the answer's start, the tool's result, or the error.
 */
summary: string,
/**
 * A tool call's `{tool, input, output}`; a delegation's `{request, context, kind, from, to}`;
 * `null` otherwise.
 */
detail: JsonValue,
/**
 * A running LLM call's answer streamed so far (its end), when this process runs the
 * execution ([`Scheduler::streamed_text`](crate::scheduler::Scheduler::streamed_text));
 * left out otherwise. Never stored: a finished call's answer is in [`Runner::trace_call`].
 */
streamed?: StreamedAnswer, };

/**
 * Counts and sums over every LLM call, tool call and delegation.
 */
export type TraceTotals = { llm_calls: number, tool_calls: number, delegations: number, prompt_tokens: number, completion_tokens: number, total_tokens: number,
/**
 * `None` when any call's cost is unknown.
 */
cost_usd: number | null, };

/**
 * Token usage (and cost when the model's price is known), summed over LLM calls.
 */
export type Usage = { prompt_tokens: number, completion_tokens: number, total_tokens: number,
/**
 * Number of LLM calls.
 */
llm_calls: number,
/**
 * US dollars, when every call's model price was known.
 */
cost_usd?: number, };
