-- Crew Runner schema, version 4: status indexes that the queue's hot path does not touch.

-- An index led by `status` gets two entries rewritten at every transition of every execution
-- (out of the old status's range, into the new one's): queued -> running -> succeeded touched up
-- to six index pages per job in these two, a third of a busy queue's writes. Lists by status now
-- walk a partial index of only that status's rows, and `succeeded`, which most executions end as,
-- walks the id index (newest first) and skips the few others; a crew's list walks
-- `executions_crew_list`. `queued` and `retrying` keep their claim-order partial indexes.
DROP INDEX executions_status_list;
DROP INDEX executions_crew_status_list;
CREATE INDEX executions_running ON executions (id) WHERE status = 'running';
CREATE INDEX executions_failed ON executions (id) WHERE status = 'failed';
CREATE INDEX executions_cancelled ON executions (id) WHERE status = 'cancelled';
