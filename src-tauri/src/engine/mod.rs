//! Runs crews: the agent loop, processes, tools. (See lib.rs.)
