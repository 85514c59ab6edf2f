//! Reading a crew file's text (size limit, binary check) and finding the line a key is on.

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::diagnostic::Diagnostic;

/// The largest crew file (or inputs file) we read: 10 MB.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Most lines all line look-ups in one file may scan together; past it lines are not given (a
/// file with very many findings must not make loading quadratic).
const LINE_SCAN_BUDGET: usize = 1_000_000;

/// A crew file's text and the name it is reported under.
#[derive(Debug)]
pub(crate) struct SourceText {
    /// The path as shown in diagnostics.
    pub name: String,
    pub text: String,
    lines_scanned: AtomicUsize,
    /// [`LINE_SCAN_BUDGET`], smaller in tests.
    scan_budget: usize,
    /// Byte ranges of the lines (without line ends), computed on first use.
    line_ranges: OnceLock<Vec<Range<usize>>>,
}

impl SourceText {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceText {
            name: name.into(),
            text: text.into(),
            lines_scanned: AtomicUsize::new(0),
            scan_budget: LINE_SCAN_BUDGET,
            line_ranges: OnceLock::new(),
        }
    }

    /// The byte ranges of the text's lines, as `str::lines` splits them.
    fn line_ranges(&self) -> &[Range<usize>] {
        self.line_ranges.get_or_init(|| {
            let base = self.text.as_ptr() as usize;
            self.text
                .lines()
                .map(|l| {
                    let start = l.as_ptr() as usize - base;
                    start..start + l.len()
                })
                .collect()
        })
    }

    /// Takes `n` lines from the scan budget; `false` once it is spent.
    fn scan(&self, n: usize) -> bool {
        self.lines_scanned.fetch_add(n, Ordering::Relaxed) + n <= self.scan_budget
    }

    /// Reads `path`: refuses files over [`MAX_FILE_BYTES`] without reading them, and files that are
    /// not UTF-8 text (NUL bytes, invalid UTF-8), naming the line where the binary data starts.
    pub fn read(path: &Path) -> Result<Self, Diagnostic> {
        let name = path.display().to_string();
        let text = read_text(path, MAX_FILE_BYTES).map_err(|m| Diagnostic::new(&name, m.message).at_line(m.line))?;
        Ok(SourceText::new(name, text))
    }

    /// A diagnostic about this file.
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.name, message)
    }

    /// The 1-based line of the item reached by following `keys` (each found at or after the line
    /// of the one before), or of the deepest key found; `None` if the first is not found.
    ///
    /// A heuristic over the text, not a parse: a key matches a line holding it as a YAML key
    /// (`key:`, `- key:`, `"key":`), a JSON key (`"key":`), or as the value of a `name`/`key`/`id`
    /// field (`name: key`, `"id": "key"`), the way list-form agents and graph nodes are written.
    pub fn line_of(&self, keys: &[&str]) -> Option<u32> {
        self.line_of_from(1, keys)
    }

    /// As [`line_of`](Self::line_of), starting the search at 1-based line `from`.
    pub fn line_of_from(&self, from: u32, keys: &[&str]) -> Option<u32> {
        let ranges = self.line_ranges();
        let line = |i: usize| &self.text[ranges[i].clone()];
        let mut from = from.saturating_sub(1) as usize;
        let mut found = None;
        for key in keys {
            let mut hit = None;
            for i in from..ranges.len() {
                if !self.scan(1) {
                    return None;
                }
                if line_names_key(line(i), key) {
                    hit = Some(i);
                    break;
                }
            }
            match hit {
                Some(i) => {
                    found = Some(i as u32 + 1);
                    from = i;
                }
                None => break,
            }
        }
        found
    }

    /// The line of the `n`th (0-based) occurrence of `key` as a key at or after line `from`: where
    /// the `n`th item of a list starts when each item has that key (`source` of graph edges).
    pub fn line_of_nth(&self, from: u32, key: &str, n: usize) -> Option<u32> {
        let mut seen = 0;
        let ranges = self.line_ranges();
        for (i, range) in ranges.iter().enumerate().skip(from.saturating_sub(1) as usize) {
            let line = &self.text[range.clone()];
            if !self.scan(1) {
                return None;
            }
            let hits = line.match_indices(key).filter(|(at, _)| is_key_at(line, *at, key)).count();
            if seen + hits > n {
                return Some(i as u32 + 1);
            }
            seen += hits;
        }
        None
    }
}

/// Why a file could not be read as text.
pub(crate) struct ReadFailure {
    pub message: String,
    pub line: Option<u32>,
}

/// Reads at most `limit` bytes of `path` as UTF-8 text; larger files are refused before reading.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String, ReadFailure> {
    let fail = |message: String| ReadFailure { message, line: None };
    let file = open_without_blocking(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let meta = file.metadata().map_err(|e| fail(format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(fail("is a folder, not a file".into()));
    }
    if meta.len() > limit {
        return Err(fail(format!("file is too large ({} bytes; the limit is {} bytes)", meta.len(), limit)));
    }
    let mut bytes = Vec::new();
    // `take` guards against files that grow while we read them, and against special files.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(fail(format!("file is too large (more than {limit} bytes)")));
    }
    let line_at = |bytes: &[u8], pos: usize| Some(bytes[..pos].iter().filter(|&&b| b == b'\n').count() as u32 + 1);
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(ReadFailure { message: "not a text file (binary data: NUL byte)".into(), line: line_at(&bytes, pos) });
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.remove(0);
            }
            Ok(text)
        }
        Err(e) => {
            let pos = e.utf8_error().valid_up_to();
            let line = line_at(e.as_bytes(), pos);
            Err(ReadFailure { message: "not a text file (invalid UTF-8)".into(), line })
        }
    }
}

/// Opens `path` for reading without waiting for a writer when it is a FIFO (`O_NONBLOCK` on
/// open), then makes reads blocking again: a pipe someone writes to (`<(cat crew.yaml)`) is read to
/// its end, a FIFO nobody opened reads as empty at once.
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let flags = rustix::fs::fcntl_getfl(&file)?;
    rustix::fs::fcntl_setfl(&file, flags - rustix::fs::OFlags::NONBLOCK)?;
    Ok(file)
}

/// Not Unix: no FIFOs to wait on; a plain open.
#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn line_names_key(line: &str, key: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").map(str::trim_start).unwrap_or(t);
    let t = t.strip_prefix('{').map(str::trim_start).unwrap_or(t);
    // `key:` / `"key":` / `'key':`
    if strip_quoted(t, key).is_some_and(|rest| rest.trim_start().starts_with(':')) {
        return true;
    }
    // `name: key` / `"id": "key"`
    ["name", "key", "id"].iter().any(|field| {
        let Some(value) = strip_quoted(t, field).and_then(|rest| rest.trim_start().strip_prefix(':')) else {
            return false;
        };
        let v = value.trim().trim_end_matches(',').trim();
        v == key || v.trim_matches('"') == key || v.trim_matches('\'') == key
    })
}

/// Whether `key` at byte `at` of `line` is written as a key (`key:` or `"key"`).
fn is_key_at(line: &str, at: usize, key: &str) -> bool {
    let before = &line[..at];
    let after = &line[at + key.len()..];
    (before.ends_with('"') && after.starts_with('"')) || after.trim_start().starts_with(':')
}

/// `text` after `word`, written bare, in double or in single quotes.
fn strip_quoted<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    ["", "\"", "'"].iter().find_map(|q| text.strip_prefix(q)?.strip_prefix(word)?.strip_prefix(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> SourceText {
        SourceText::new("f", text)
    }

    #[test]
    fn finds_yaml_and_json_keys_in_order() {
        let y = src("a:\n  role: x\nresearch_task:\n  description: d\n  context:\n    - a\n");
        assert_eq!(y.line_of(&["research_task"]), Some(3));
        assert_eq!(y.line_of(&["research_task", "context"]), Some(5));
        assert_eq!(y.line_of(&["nope"]), None);
        let j = src("{\n \"nodes\": [\n  {\"id\": \"t1\",\n   \"data\": {\"agent\": 1}}\n ]\n}");
        assert_eq!(j.line_of(&["nodes", "t1"]), Some(3));
        let l = src("agents:\n  - name: writer\n    role: r\n");
        assert_eq!(l.line_of(&["agents", "writer", "role"]), Some(3));
    }

    #[test]
    fn line_lookups_stop_when_the_budget_is_spent() {
        let text = "a: 1\n".repeat(1000);
        let s = SourceText { scan_budget: 10_000, ..src(&text) };
        let mut answered = 0;
        for _ in 0..20 {
            assert_eq!(s.line_of(&["missing"]), None);
            if s.line_of(&["a"]).is_some() {
                answered += 1;
            }
        }
        assert_eq!(answered, 9, "10 000 lines: 9 full scans and 9 one-line hits, then nothing");
        assert_eq!(s.line_of(&["a"]), None);
    }

    #[test]
    fn refuses_big_and_binary_files() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'a'; 2048]).unwrap();
        let err = read_text(&big, 1024).err().unwrap();
        assert!(err.message.contains("too large"), "{}", err.message);
        let bin = dir.path().join("bin.yaml");
        std::fs::write(&bin, b"a: 1\nb: \x00\x01\xff").unwrap();
        let err = read_text(&bin, 1024).err().unwrap();
        assert!(err.message.contains("not a text file"));
        assert_eq!(err.line, Some(2));
        let fifo = dir.path().join("fifo.yaml");
        let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(read_text(&fifo, 1024).ok().unwrap(), "", "a FIFO without a writer reads as empty");
        let utf = dir.path().join("utf.yaml");
        std::fs::write(&utf, b"a: 1\n\nb: \xff\xfe").unwrap();
        let err = read_text(&utf, 1024).err().unwrap();
        assert_eq!(err.line, Some(3));
    }
}
