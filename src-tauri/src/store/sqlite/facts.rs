//! What the writer connection knows about the database without asking it again.
//!
//! Every statement the writer runs costs a few microseconds however little it reads, and a busy
//! queue runs a handful per job only to learn things the writer itself wrote: the last sequence
//! number of an execution's ExecutionLog (`MAX(seq)` before every line), whether the queue is
//! paused (before every claim), whether a retrying execution may be due (before every claim),
//! and the row of an execution it claimed (re-read and parsed when the execution succeeds).
//! [`Facts`] remembers them.
//!
//! A fact is only as good as the assumption that nobody else changed the database, so all of
//! them are forgotten whenever that may not hold:
//! - another connection (another process, or `VACUUM` on its own connection) committed since this
//!   connection's last commit: [`Facts::begin`] compares SQLite's data version of the file
//!   (`SQLITE_FCNTL_DATA_VERSION`, which changes at every commit of any connection) at `BEGIN`
//!   with the one recorded right after this connection's last `COMMIT`;
//! - a transaction ended without a successful commit (nothing is recorded, so the next `BEGIN`
//!   forgets), or a command was rolled back to its savepoint ([`Facts::forget`]);
//! - a command that changes what a fact summarises without keeping it up to date calls
//!   [`Facts::forget`] (pruning) or drops the one fact it affects.
//! - any state change of an execution other than its claim and its success drops the row kept
//!   from the claim ([`Facts::touched`]; progress updates and lease renewals update it).
//!
//! (The row of an execution it inserted was kept for its claim once, valid while every command
//! declared which rows it changed; W1-live could not tell it from noise, so it went, with the
//! declarations: a claim reads its row.)
//!
//! Forgetting is always safe: the writer then asks the database, as it did before. Only
//! executions that are not finished are remembered, so the memory stays bounded by the work in
//! flight (and [`MAX_REMEMBERED`] caps it).

use std::collections::HashMap;

use crate::execution::{Execution, ExecutionId, Millis, Progress};

/// At most this many executions' last log sequence numbers, and as many claimed rows, are kept
/// (a map is cleared when full; the next uses then ask the database).
pub(super) const MAX_REMEMBERED: usize = 4096;

/// Facts about the database, valid while only this connection writes it.
#[derive(Debug, Default)]
pub(super) struct Facts {
    /// The file's data version right after this connection's last successful `COMMIT`; `None`
    /// during a transaction and after one that did not commit.
    committed_version: Option<u32>,
    /// The last ExecutionLog `seq` of unfinished executions.
    log_seq: HashMap<ExecutionId, i64>,
    /// Executions this connection claimed, as their rows are now (with their earlier attempts'
    /// errors).
    running: HashMap<ExecutionId, Execution>,
    /// `queue_state.paused`.
    paused: Option<bool>,
    /// The earliest `next_run_at` of the retrying executions (`Some(None)`: there are none).
    earliest_retry: Option<Option<Millis>>,
}

impl Facts {
    /// A transaction began and the file's data version is now `version` (`None`: unknown).
    /// Forgets everything unless it is the version this connection's last commit left.
    ///
    /// Returns whether another connection may have committed since this connection's last
    /// commit: `true` when the version moved on, and also when that cannot be told (no commit
    /// of this connection to compare with, an unknown version).
    pub(super) fn begin(&mut self, version: Option<u32>) -> bool {
        let expected = self.committed_version.take();
        let others = version.is_none() || expected != version;
        if others {
            self.forget();
        }
        others
    }

    /// The transaction committed; the file's data version is now `version`.
    pub(super) fn committed(&mut self, version: Option<u32>) {
        self.committed_version = version;
        if version.is_none() {
            self.forget();
        }
    }

    /// Forgets every fact (the next uses ask the database).
    pub(super) fn forget(&mut self) {
        self.log_seq.clear();
        self.running.clear();
        self.paused = None;
        self.earliest_retry = None;
    }

    /// The last ExecutionLog `seq` of `id`, if known.
    pub(super) fn last_log_seq(&self, id: &ExecutionId) -> Option<i64> {
        self.log_seq.get(id).copied()
    }

    /// `id`'s ExecutionLog now ends at `seq`.
    pub(super) fn logged(&mut self, id: &ExecutionId, seq: i64) {
        if let Some(last) = self.log_seq.get_mut(id) {
            *last = seq;
            return;
        }
        if self.log_seq.len() >= MAX_REMEMBERED {
            self.log_seq.clear();
        }
        self.log_seq.insert(id.clone(), seq);
    }

    /// `id` finished: its log's end and row are no longer kept (a later line asks the database).
    pub(super) fn finished(&mut self, id: &ExecutionId) {
        self.log_seq.remove(id);
        self.running.remove(id);
    }

    /// This connection claimed `execution` (as it now is in its row).
    pub(super) fn claimed(&mut self, execution: &Execution) {
        if self.running.len() >= MAX_REMEMBERED {
            self.running.clear();
        }
        self.running.insert(execution.id.clone(), execution.clone());
    }

    /// The claimed row of `id`, no longer kept, if it was.
    pub(super) fn take_running(&mut self, id: &ExecutionId) -> Option<Execution> {
        self.running.remove(id)
    }

    /// `id`'s progress is now `progress` (the kept row follows).
    pub(super) fn progressed(&mut self, id: &ExecutionId, progress: &Progress) {
        if let Some(execution) = self.running.get_mut(id) {
            execution.progress = progress.clone();
        }
    }

    /// `id`'s lease was renewed until `lease_expires_at`; `cancel_requested` as read with it.
    pub(super) fn lease_renewed(&mut self, id: &ExecutionId, lease_expires_at: Millis, cancel_requested: bool) {
        if let Some(execution) = self.running.get_mut(id) {
            if let crate::execution::ExecutionState::Running { lease_expires_at: lease, .. } = &mut execution.state {
                *lease = lease_expires_at;
            }
            execution.cancel_requested = cancel_requested;
        }
    }

    /// `id`'s row changed in a way the kept row does not follow: it is dropped.
    pub(super) fn touched(&mut self, id: &ExecutionId) {
        self.running.remove(id);
    }

    /// Whether the queue is paused, if known.
    pub(super) fn paused(&self) -> Option<bool> {
        self.paused
    }

    /// The queue is (not) paused.
    pub(super) fn set_paused(&mut self, paused: bool) {
        self.paused = Some(paused);
    }

    /// The earliest `next_run_at` of the retrying executions (`Some(None)`: none), if known.
    pub(super) fn earliest_retry(&self) -> Option<Option<Millis>> {
        self.earliest_retry
    }

    /// The earliest `next_run_at` of the retrying executions is `earliest` (`None`: none).
    pub(super) fn set_earliest_retry(&mut self, earliest: Option<Millis>) {
        self.earliest_retry = Some(earliest);
    }

    /// An execution started retrying, due at `next_run_at`.
    pub(super) fn retry_scheduled(&mut self, next_run_at: Millis) {
        if let Some(earliest) = self.earliest_retry {
            self.earliest_retry = Some(Some(earliest.map_or(next_run_at, |e| e.min(next_run_at))));
        }
    }

    /// A retrying execution may have stopped retrying (claimed, cancelled): the earliest is
    /// asked again.
    pub(super) fn retry_left(&mut self) {
        self.earliest_retry = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(facts: &Facts) -> (Option<i64>, Option<bool>, Option<Option<Millis>>) {
        (facts.last_log_seq(&ExecutionId::from("a")), facts.paused(), facts.earliest_retry())
    }

    fn learned() -> Facts {
        let mut facts = Facts::default();
        facts.begin(Some(1));
        facts.logged(&ExecutionId::from("a"), 3);
        facts.set_paused(false);
        facts.set_earliest_retry(None);
        facts
    }

    #[test]
    fn facts_survive_only_from_this_connections_commit_to_its_next_begin() {
        let mut facts = learned();
        facts.committed(Some(2));
        assert!(!facts.begin(Some(2)), "nobody else committed");
        assert_eq!(known(&facts), (Some(3), Some(false), Some(None)));

        // Another connection committed in between: the version moved on.
        facts.committed(Some(3));
        assert!(facts.begin(Some(4)), "another connection committed");
        assert_eq!(known(&facts), (None, None, None));
        // Nothing to compare with (no commit since the last begin): maybe.
        assert!(facts.begin(Some(4)));
    }

    #[test]
    fn a_transaction_that_did_not_commit_forgets_at_the_next_begin() {
        let mut facts = learned();
        // No `committed` (rolled back): the next begin, even at the same version, forgets.
        facts.begin(Some(1));
        assert_eq!(known(&facts), (None, None, None));

        let mut facts = learned();
        facts.committed(None); // committed, but the version could not be read
        assert_eq!(known(&facts), (None, None, None));
        let mut facts = learned();
        facts.committed(Some(2));
        facts.begin(None);
        assert_eq!(known(&facts), (None, None, None));
        // That transaction learns, then does not commit: the next begin forgets again, even at
        // the version the last commit left.
        facts.logged(&ExecutionId::from("a"), 4);
        facts.begin(Some(2));
        assert_eq!(known(&facts), (None, None, None));
    }

    #[test]
    fn retries_keep_the_earliest_only_while_it_is_known() {
        let mut facts = Facts::default();
        facts.retry_scheduled(50);
        assert_eq!(facts.earliest_retry(), None, "unknown stays unknown");
        facts.set_earliest_retry(None);
        facts.retry_scheduled(50);
        facts.retry_scheduled(70);
        assert_eq!(facts.earliest_retry(), Some(Some(50)));
        facts.retry_scheduled(20);
        assert_eq!(facts.earliest_retry(), Some(Some(20)));
        facts.retry_left();
        assert_eq!(facts.earliest_retry(), None);
    }

    #[test]
    fn finished_executions_and_a_full_map_are_forgotten() {
        let mut facts = Facts::default();
        let a = ExecutionId::from("a");
        facts.logged(&a, 1);
        facts.logged(&a, 2);
        assert_eq!(facts.last_log_seq(&a), Some(2));
        facts.finished(&a);
        assert_eq!(facts.last_log_seq(&a), None);

        for i in 0..MAX_REMEMBERED {
            facts.logged(&ExecutionId::from(format!("e{i}").as_str()), 1);
        }
        assert_eq!(facts.log_seq.len(), MAX_REMEMBERED);
        facts.logged(&a, 5);
        assert_eq!((facts.log_seq.len(), facts.last_log_seq(&a)), (1, Some(5)));
    }
}
