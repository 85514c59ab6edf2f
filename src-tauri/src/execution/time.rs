/// Wall-clock time in milliseconds since the Unix epoch; the unit of every timestamp we store.
pub type Millis = i64;

/// The current wall-clock time in [`Millis`].
pub fn now_ms() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
}
