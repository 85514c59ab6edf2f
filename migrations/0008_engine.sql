-- Crew Runner schema, version 8: which engine runs an execution.
--
-- `native`: the Rust engine; `crew_spec` holds a CrewSpec. `crewai`: the user's own CrewAI in a
-- Python child process; `crew_spec` holds a CrewaiTarget (what to run and with which Python, see
-- docs/CREWAI_ENGINE.md). Rows written before this version are native.
ALTER TABLE executions ADD COLUMN engine TEXT NOT NULL DEFAULT 'native';
