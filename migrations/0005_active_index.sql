-- Crew Runner schema, version 5: one index for the waiting and the running rows; the crew list
-- index in ascending order.

-- The queued rows (claim order) and the running rows had a partial index each. A busy queue
-- holds few of either, so both indexes were one page each, and each job rewrote both pages:
-- queued at its submission and claim, running at its claim and end. One index over both keeps
-- them in one page (one page written per commit instead of two). The claim walks its `queued`
-- range in claim order; lease renewal, recovery and the running list walk its `running` range.
-- The condition is an OR, not an IN list, so that SQLite sees it implied by `status = 'queued'`
-- or `status = 'running'` alone.
DROP INDEX executions_queued;
DROP INDEX executions_running;
CREATE INDEX executions_active ON executions (status, priority DESC, queue_seq)
    WHERE status = 'queued' OR status = 'running';

-- A crew's list, newest first, walks this index backwards. In descending order each new
-- execution went in at the front of its crew's range, which split pages more than appending.
DROP INDEX executions_crew_list;
CREATE INDEX executions_crew_list ON executions (crew_name, id);
