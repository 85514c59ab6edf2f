//! [`Halt`]: why a scheduler stopped on its own, set once by the dispatcher and awaitable by
//! anyone holding a handle (no polling).

use tokio::sync::watch;

/// The reason a scheduler halted (a storage failure retrying cannot fix), once it did.
///
/// Set at most once ([`set`](Halt::set)); readable at any time ([`get`](Halt::get)); awaitable
/// ([`halted`](Halt::halted)). Shared between the dispatcher and the scheduler's handles.
#[derive(Debug)]
pub(super) struct Halt {
    reason: watch::Sender<Option<String>>,
}

impl Default for Halt {
    fn default() -> Self {
        Halt { reason: watch::Sender::new(None) }
    }
}

impl Halt {
    /// Records `reason` unless one was recorded before; true when this call recorded it.
    /// Wakes every [`halted`](Halt::halted) waiter.
    pub fn set(&self, reason: String) -> bool {
        self.reason.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        })
    }

    /// The recorded reason, if any.
    pub fn get(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    /// Whether a reason was recorded.
    pub fn is_set(&self) -> bool {
        self.reason.borrow().is_some()
    }

    /// Resolves with the reason once one is recorded (at once if it already was).
    ///
    /// Cancellation: dropping the future only stops waiting.
    pub async fn halted(&self) -> String {
        let mut changes = self.reason.subscribe();
        // The borrow of the value ends inside `map` (it must not be held across an await).
        let found = changes.wait_for(Option::is_some).await.map(|reason| reason.clone().unwrap_or_default());
        match found {
            Ok(reason) => reason,
            // The sender lives in `self`, so it cannot be gone while we borrow it.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_wakes_waiters() {
        let halt = std::sync::Arc::new(Halt::default());
        assert!(!halt.is_set());
        let waiter = tokio::spawn({
            let halt = halt.clone();
            async move { halt.halted().await }
        });
        tokio::task::yield_now().await;
        assert!(halt.set("disk full".into()));
        assert!(!halt.set("later".into()));
        assert_eq!(waiter.await.unwrap(), "disk full");
        assert_eq!(halt.get().as_deref(), Some("disk full"));
        assert_eq!(halt.halted().await, "disk full", "resolves at once once set");
    }
}
