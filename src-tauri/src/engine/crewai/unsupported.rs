//! Not Unix: the CrewAI engine's processes (a warm `shim.py serve` per Python reached over a Unix
//! socket, a forked child per attempt in its own process group, the orphan sweep by `/proc`) have
//! no port yet. The same entry points exist; an attempt fails with
//! [`ErrorKind::InvalidCrew`](crate::execution::ErrorKind::InvalidCrew) saying so, and the sweep
//! finds nothing. Compiled only where `cfg(unix)` is false (not built or tested here: Linux is the
//! tested platform).

/// The warm servers' pool (see the Unix `server` module): empty here.
pub mod server {
    /// Warm shim servers: none on this platform.
    #[derive(Default)]
    pub struct ShimPool;

    impl ShimPool {
        /// The pool of this process.
        pub fn global() -> &'static ShimPool {
            static POOL: ShimPool = ShimPool;
            &POOL
        }
    }
}

/// One attempt of a CrewAI execution (see the Unix `attempt` module): refused here.
pub mod attempt {
    use std::sync::Arc;

    use super::server::ShimPool;
    use crate::execution::{ErrorKind, ExecutionError, Journal, RunOutput, RunRequest};
    use crate::llm::LlmEnv;

    /// Fails: the CrewAI engine is not supported on this platform (not retryable).
    pub async fn run_attempt(
        _pool: &ShimPool,
        _env: LlmEnv,
        _request: RunRequest,
        _journal: Arc<dyn Journal>,
    ) -> Result<RunOutput, ExecutionError> {
        Err(ExecutionError::new(
            ErrorKind::InvalidCrew,
            "the CrewAI engine is not supported on this platform (it needs Unix sockets and process groups); run the crew with the native engine (--engine native)",
        ))
    }
}

/// The sweep of CrewAI children a dead worker left behind (see the Unix `orphans` module).
pub mod orphans {
    /// Nothing to sweep: no CrewAI child is ever started on this platform.
    pub fn reap_orphans_at_start() {}
}
