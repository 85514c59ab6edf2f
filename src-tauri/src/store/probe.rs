//! [`CommitProbe`]: a cheap "did another process commit?" look at a store, for faces that show
//! what other processes change (a CLI `submit` or `cancel`, another worker's progress).
//!
//! This process's own changes are announced to listeners as they commit ([`Store::listen`]);
//! other processes' commits never are. A probe tells them apart without reading any row: see
//! [`SqliteStore`](super::SqliteStore)'s probe (`store/sqlite/probe.rs`) for how.
//!
//! [`Store::listen`]: super::Store::listen

use super::StoreError;
use crate::execution::BoxFuture;

/// Asks whether another connection (another process, or another handle on the same file) has
/// committed a change since the previous ask. Made by
/// [`Store::commit_probe`](super::Store::commit_probe); each probe keeps its own baseline, so
/// several faces may each hold one.
pub trait CommitProbe: Send {
    /// Resolves with `true` when another connection may have committed a change to the store
    /// since the previous call (since the probe was made, for the first call), `false` when none
    /// did. A change of this store handle's own writer alone answers `false`. It may answer
    /// `true` for nothing (rarely: it errs on the side of a re-read), never `false` for a change
    /// another connection committed before the call.
    ///
    /// Cheap when nothing changed (one `PRAGMA` on the probe's own connection, no row read).
    /// When this handle also committed since, it waits for one empty write transaction of the
    /// writer to tell the two apart. Dropping the future loses nothing: the change is reported
    /// by the next call.
    fn changed(&mut self) -> BoxFuture<'_, Result<bool, StoreError>>;
}
