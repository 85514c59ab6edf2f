-- Crew Runner schema, version 9: human review (`human_input: true`) as a durable pause.
--
-- A new status, `awaiting_input`: a task answered and waits for a person's review; the execution
-- holds no slot (no owner, no lease). `awaiting_input` holds the request (JSON InputRequest: task,
-- agent, round, draft, usage, asked_at) while waiting; `input_reviews` keeps every answered one.
--
-- The status CHECK constraint is widened in place, SQLite's documented procedure for loosening a
-- constraint without rebuilding the table (rebuilding `executions` would cascade-delete its logs,
-- steps and attempt errors through the foreign keys): the table's text in sqlite_schema is
-- rewritten under `writable_schema`, and the schema version is raised by the migration runner
-- (`Migration::rewrites_schema`) so every connection reads the new text. Existing rows satisfy
-- both constraints. The rewrite comes last: ALTER TABLE edits the stored text at offsets it
-- read before.
ALTER TABLE executions ADD COLUMN awaiting_input TEXT;      -- awaiting_input: JSON (InputRequest)
CREATE INDEX executions_awaiting_input ON executions (id) WHERE status = 'awaiting_input';

-- Answered reviews, one per task and round.
CREATE TABLE input_reviews (
    execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    task         TEXT NOT NULL,
    round        INTEGER NOT NULL CHECK (round >= 1),
    request      TEXT NOT NULL,                          -- JSON (InputRequest)
    answer       TEXT NOT NULL,                          -- JSON (InputAnswer)
    answered_at  INTEGER NOT NULL,
    PRIMARY KEY (execution_id, task, round)
) WITHOUT ROWID;

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''succeeded'', ''failed'', ''cancelled'')',
                          '''succeeded'', ''failed'', ''cancelled'', ''awaiting_input'')')
 WHERE type = 'table' AND name = 'executions';
PRAGMA writable_schema = OFF;
