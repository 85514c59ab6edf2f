-- Crew Runner schema, version 1: executions, their history and the shared queue settings.
-- Timestamps are milliseconds since the Unix epoch; columns ending in JSON comments hold JSON text.

CREATE TABLE executions (
    queue_seq          INTEGER PRIMARY KEY,              -- the rowid: submission order (FIFO)
    id                 TEXT NOT NULL UNIQUE,             -- ULID
    crew_name          TEXT NOT NULL,
    crew_source        TEXT NOT NULL,
    crew_spec          TEXT NOT NULL,                    -- JSON (CrewSpec)
    inputs             TEXT NOT NULL,                    -- JSON object
    priority           INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
    status             TEXT NOT NULL CHECK (status IN
                           ('queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled')),
    attempt            INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts       INTEGER NOT NULL CHECK (max_attempts >= 1),
    timeout_ms         INTEGER,
    next_run_at        INTEGER,                          -- retrying: when the backoff is due
    owner              TEXT,                             -- running: host:pid:nonce of the worker
    lease_expires_at   INTEGER,                          -- running
    attempt_started_at INTEGER,                          -- running: start of this attempt
    cancel_requested   INTEGER NOT NULL DEFAULT 0,
    was_running        INTEGER NOT NULL DEFAULT 0,       -- cancelled: whether it had started
    progress           TEXT NOT NULL,                    -- JSON (Progress)
    output             TEXT,                             -- succeeded: the final output
    error              TEXT,                             -- JSON (ExecutionError): failed / retrying
    usage              TEXT NOT NULL,                    -- JSON (Usage)
    llm                TEXT NOT NULL,                    -- JSON (LlmOptions)
    meta               TEXT NOT NULL,                    -- JSON object of strings
    retry_of           TEXT REFERENCES executions(id) ON DELETE SET NULL,
    created_at         INTEGER NOT NULL,
    started_at         INTEGER,                          -- first attempt's start
    finished_at        INTEGER
);

-- The claim order of waiting executions: highest priority first, FIFO within a level. Partial, so
-- only waiting rows are in them: a claim never walks past finished work, and a transition of a
-- row that is not waiting does not touch them.
CREATE INDEX executions_queued ON executions (priority DESC, queue_seq) WHERE status = 'queued';
CREATE INDEX executions_retrying ON executions (next_run_at) WHERE status = 'retrying';
CREATE INDEX executions_owner ON executions (owner) WHERE owner IS NOT NULL;
-- List order (newest first) within a status or a crew.
CREATE INDEX executions_status_list ON executions (status, id DESC);
CREATE INDEX executions_crew_list ON executions (crew_name, id DESC);

-- Every failed attempt's error.
CREATE TABLE attempt_errors (
    execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    error        TEXT NOT NULL                           -- JSON (ExecutionError)
);
CREATE INDEX attempt_errors_execution ON attempt_errors (execution_id, attempt);

-- The ExecutionLog: seq is per execution, 1-based and gap-free.
CREATE TABLE execution_logs (
    execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    level        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    task         TEXT,
    agent        TEXT,
    message      TEXT NOT NULL,
    data         TEXT NOT NULL,                          -- JSON
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;

-- Completed steps, once per (execution, step); rowid keeps completion order.
CREATE TABLE step_outputs (
    execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    step         TEXT NOT NULL,
    agent        TEXT NOT NULL,
    output       TEXT NOT NULL,
    json         TEXT NOT NULL,                          -- JSON (null when none)
    usage        TEXT NOT NULL,                          -- JSON (Usage)
    attempt      INTEGER NOT NULL,
    completed_at INTEGER NOT NULL,
    UNIQUE (execution_id, step)
);

-- Queue settings shared by every process on this database.
CREATE TABLE queue_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    paused      INTEGER NOT NULL DEFAULT 0,
    concurrency INTEGER NOT NULL DEFAULT 4 CHECK (concurrency >= 1),
    updated_at  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO queue_state (id, paused, concurrency, updated_at) VALUES (1, 0, 4, 0);
