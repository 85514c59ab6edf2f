-- Crew Runner schema, version 2: one index fewer on the hot path.
--
-- `executions_owner` was written at every claim (insert) and every end of an attempt (delete), but
-- every query that looks running executions up by owner (lease renewal, recovery) also says
-- `status = 'running'`, which `executions_status_list (status, id DESC)` already finds: the
-- running rows are few and adjacent in it. Dropping it removes one index page from most commits.
DROP INDEX IF EXISTS executions_owner;
