-- Crew Runner schema, version 6: fencing tokens, abandoned attempts, and the clock reference.

-- The claim's fencing token: a random number written by the claim that started the current
-- attempt. Every write an attempt makes (log lines, steps, progress) names it and is refused when
-- it is no longer the row's token (the attempt lost its lease and another worker took over).
ALTER TABLE executions ADD COLUMN lease_token INTEGER;

-- Attempts abandoned because their worker died (SIGKILL, crash, power loss). They are refunded
-- (not counted against max_attempts); `max_abandons` stops an execution that kills its worker
-- every time (a poison pill).
ALTER TABLE executions ADD COLUMN abandons INTEGER NOT NULL DEFAULT 0 CHECK (abandons >= 0);
ALTER TABLE executions ADD COLUMN max_abandons INTEGER NOT NULL DEFAULT 5 CHECK (max_abandons >= 1);

-- The last seen difference between the wall clock and the boot clock (CLOCK_BOOTTIME) of this
-- machine, and which boot it belongs to: when it changes by more than a jump's threshold on the
-- same boot, the wall clock was stepped, and the stored due times (retries) and leases are moved
-- by the same amount (once, by whichever process sees it first).
ALTER TABLE queue_state ADD COLUMN clock_boot TEXT;
ALTER TABLE queue_state ADD COLUMN clock_skew_ms INTEGER;
