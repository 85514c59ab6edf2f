-- Crew Runner schema, version 7: idempotency keys of submissions (`submit --idempotency-key KEY`,
-- and the default key of an `--inputs-file` batch).

-- One row per key, written in the transaction that inserts the executions it names. A repeat of
-- the key finds it and gets the same ids back instead of new executions. The executions of one
-- key are inserted together by one command, so they are the rows first_seq..last_seq of
-- `executions`: whether any of them is left is one range lookup (prune deletes a key once none
-- is, see `store/sqlite/prune.rs`).
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,                          -- SHA-256 (hex) of what was submitted
    ids          TEXT NOT NULL,                          -- JSON array of execution ids, row order
    first_seq    INTEGER NOT NULL,                       -- queue_seq of its first execution
    last_seq     INTEGER NOT NULL,                       -- queue_seq of its last execution
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Prune finds the key of a deleted execution by its queue_seq (the key whose range starts at or
-- before it).
CREATE INDEX idempotency_keys_first_seq ON idempotency_keys (first_seq);
