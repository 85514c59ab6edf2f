-- Crew Runner schema, version 10: what each LLM call sent and received, for the trace of a run.
--
-- One row per LLM call whose payload was kept (the `trace_payloads` setting is `full`): `call` is
-- the seq of the call's `llm_call_completed` line in execution_logs, written in the same
-- transaction. `body` is the zlib-compressed JSON (CallPayload: model, endpoint, messages, tools,
-- response, started_at, ended_at), secrets already redacted; `raw_bytes` its size before.
-- Rows go with their execution (prune deletes them explicitly and counts them; the foreign key
-- cascades as for the logs).
CREATE TABLE call_payloads (
    execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    call         INTEGER NOT NULL,
    raw_bytes    INTEGER NOT NULL,
    body         BLOB NOT NULL,
    PRIMARY KEY (execution_id, call)
) WITHOUT ROWID;
