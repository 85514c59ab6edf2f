//! Live ExecutionLog tailing for the page: a task per follower pushes what an
//! [`app::LogTail`](crate::app::LogTail) yields (the same tail `crew-runner logs --follow` reads)
//! to a sink (a Tauri `Channel` in the app), and the registry that stops them.
//!
//! A follower ends after the tail's last message (the execution ended, or an error), when the
//! sink refuses a message (the page went away), or when it is stopped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

pub use crate::app::LogStreamMessage;
use crate::app::LogTail;

/// The running followers, by subscription number.
#[derive(Default)]
pub struct LogFollowers {
    next: AtomicU64,
    running: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

impl LogFollowers {
    /// Starts pushing what `tail` yields into `sink` on the current tokio runtime; returns the
    /// subscription number for [`stop`](Self::stop). `sink` returns false to end the follower.
    pub fn follow(&self, mut tail: LogTail, mut sink: impl FnMut(LogStreamMessage) -> bool + Send + 'static) -> u64 {
        let sub = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let token = CancellationToken::new();
        self.lock().insert(sub, token.clone());
        let running = self.running.clone();
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    _ = token.cancelled() => None,
                    message = tail.next() => message,
                };
                let Some(message) = message else { break };
                let last = message.is_last();
                if !sink(message) || last {
                    break;
                }
            }
            // Unregistered before the sink is dropped: whoever sees the stream close sees it gone.
            running.lock().unwrap_or_else(|p| p.into_inner()).remove(&sub);
            drop(sink);
        });
        sub
    }

    /// Stops one follower; false when it was not running (already ended).
    pub fn stop(&self, sub: u64) -> bool {
        match self.lock().remove(&sub) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops every follower (the page reloaded, the app is closing).
    pub fn stop_all(&self) {
        for (_, token) in self.lock().drain() {
            token.cancel();
        }
    }

    /// How many followers are running.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancellationToken>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
