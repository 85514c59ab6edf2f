//! The dispatcher: the one task that owns the queue state of a scheduler.
//!
//! It waits (`tokio::select!`) on handle commands, attempt ends, the answer of its waiting claim,
//! settlement writes, one timer for the next due retry and the heartbeat; nothing else polls. At
//! each heartbeat it renews this owner's leases (learning of cancels requested by other
//! processes), re-reads the shared pause flag and concurrency, recovers executions of dead or
//! expired owners and claims new work (also work submitted by other processes).
//!
//! With [`ClaimScope::All`](super::ClaimScope::All) the dispatcher keeps one *waiting claim* with
//! the store while it has free slots ([`Store::claim_when_ready`](crate::store::Store::claim_when_ready)):
//! the store tries it inside every write transaction, so a submission is claimed in the very
//! transaction that inserts it, and a finished attempt's settlement and the claim for its slot
//! share one. Its slot count follows the free slots; 0 withdraws it.
//!
//! # Decisions and the shell
//! As in cargo-nextest's dispatcher, deciding is kept apart from doing:
//! - [`decide`]: the queue state ([`State`]: what runs under which lease token, the waiting
//!   claim, settlements in flight and not taken, the shutdown, the settings, the next retry) and
//!   [`State::handle`], which turns an [`Event`] into [`Action`]s. Synchronous, no I/O: unit
//!   tested in `decide_tests.rs` without a store or a runtime. [`settlement`] decides how an
//!   ended attempt is written (retry, backoff, fail, requeue, cancel); [`events`] holds the
//!   vocabulary.
//! - [`shell`]: the async loop ([`Dispatcher::run`]), which turns channel messages, task ends,
//!   timers and store answers into events and carries out the actions (store writes, spawning
//!   and stopping attempts, broadcasts).
//!
//! The callers' reply senders (of a shutdown) stay in the shell: the decisions see a
//! [`Request::Shutdown`] without one and answer every waiting caller at once with
//! [`Action::ReplyShutdown`], so the state holds only plain data.
//!
//! Attempts run as tasks of one `JoinSet` (`scheduler/attempt.rs`), each with a child of one
//! dispatcher-wide cancellation token, so a shutdown stops all of them (also one claimed late).

mod decide;
mod events;
mod settlement;
mod shell;

#[cfg(doc)]
use decide::State;
#[cfg(doc)]
use events::{Action, Event, Request};
pub(super) use shell::{Command, Dispatcher};
