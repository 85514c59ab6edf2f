//! Runs crews: the agent loop, the sequential and hierarchical processes, tools, and the prompts the
//! offline model reads back.
//!
//! The entry point is [`CrewExecutor`], the scheduler's [`Executor`](crate::execution::Executor).
//! - [`executor`]: deserialises and interpolates the crew, picks the process, sums usage.
//! - [`sequential`] / [`hierarchical`]: the two processes; [`task_runner`]: one task end to end.
//! - [`agent_loop`]: one agent on one task (native tool calls, ReAct text, limits).
//! - [`crewai`]: the second engine, running the user's own CrewAI in a Python child process.
//! - [`tools`]: workspace file tools and the delegation tools; [`delegation`] runs coworkers.
//! - [`revision`]: an answer that passes the task's checks ([`structured`] outputs, string
//!   [`guardrail`]s), sent back for revision when it does not.
//! - [`prompts`], [`react`], [`context`], [`output`], [`rate_limit`], [`usage_ledger`].

pub mod agent_loop;
pub mod context;
pub mod context_window;
pub mod crewai;
pub mod delegation;
pub mod executor;
pub mod guardrail;
pub mod hierarchical;
pub mod human_review;
pub mod mcp_toolbox;
pub mod model_source;
pub mod output;
pub mod prompts;
pub mod rate_limit;
pub mod react;
pub mod revision;
pub mod run;
pub mod sequential;
pub mod structured;
pub mod task_runner;
pub mod toolbox;
pub mod tools;
pub mod usage_ledger;

#[cfg(test)]
mod human_review_tests;
#[cfg(test)]
mod revision_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use executor::CrewExecutor;
pub use model_source::ModelSource;
