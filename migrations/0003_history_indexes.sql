-- Crew Runner schema, version 3: indexes for large histories and for pruning them.

-- Deleting an execution sets `retry_of` to NULL in its reruns (ON DELETE SET NULL). Without an
-- index that lookup scans the whole table once per deleted execution, which made pruning
-- 100,000 executions quadratic.
CREATE INDEX executions_retry_of ON executions (retry_of) WHERE retry_of IS NOT NULL;

-- List order (newest first) within a crew and a status: `list --crew C --status S` (and the app's
-- filters) otherwise walk the whole crew and read each row to check its status.
CREATE INDEX executions_crew_status_list ON executions (crew_name, status, id DESC);
