//! A linear pre-scan of YAML text for deeply nested flow collections (`[[[[…`, `{a: {a: …`).
//!
//! libyaml (under serde_yaml) takes time quadratic in the flow nesting depth while it scans — 20 000
//! nested `[` take seconds, a few hundred thousand take hours — and serde_yaml only refuses depths
//! over 128 after the whole document was scanned. This scan finds a depth over
//! [`MAX_FLOW_DEPTH`] first, in one pass, so such a file fails at once.
//!
//! It follows YAML's lexical rules where they decide what a bracket is: comments (`#` after a blank),
//! quoted scalars (`'…'`, `"…"`, starting where a token starts), block scalars (`|`, `>`: the more
//! indented lines after them), and plain scalars in block context (`a [b` is text). It is a
//! heuristic, not a parser: a file it misreads either parses normally (no harm) or has brackets the
//! scan did not count (then libyaml is slow on it, as before).

/// Deepest flow nesting the scan lets through. serde_yaml refuses more than 128 levels anyway; the
/// margin keeps any miscount in plain text from refusing a valid file.
pub const MAX_FLOW_DEPTH: usize = 256;

/// Most "flow work" a file may need: the sum, over the bytes inside flow collections, of the
/// nesting depth there. libyaml's time is about proportional to it (each token costs one step
/// per open flow level), so a file of a million items 200 levels deep is refused, while real crews
/// stay far below (a 1 MB file nested 50 deep is at the limit).
pub const MAX_FLOW_WORK: u64 = 50_000_000;

/// Why a YAML text is refused before parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlowProblem {
    /// Nesting deeper than [`MAX_FLOW_DEPTH`], first at this 1-based line and column.
    TooDeep { line: u32, column: usize },
    /// More than [`MAX_FLOW_WORK`], reached at this 1-based line.
    TooMuchWork { line: u32 },
}

impl FlowProblem {
    pub fn line(&self) -> u32 {
        match self {
            FlowProblem::TooDeep { line, .. } | FlowProblem::TooMuchWork { line } => *line,
        }
    }

    pub fn message(&self) -> String {
        match self {
            FlowProblem::TooDeep { column, .. } => {
                format!("invalid YAML: nested deeper than {MAX_FLOW_DEPTH} levels (column {column})")
            }
            FlowProblem::TooMuchWork { .. } => {
                "invalid YAML: too many values inside deeply nested `[…]`/`{…}` collections to parse in reasonable time".into()
            }
        }
    }
}

/// The first reason to refuse `text` before parsing it, if any.
pub(crate) fn check(text: &str) -> Result<(), FlowProblem> {
    let mut work = 0u64;
    let mut line_now = 1u32;
    scan(text, |depth, bytes, line| {
        line_now = line;
        work += depth as u64 * bytes as u64;
        work <= MAX_FLOW_WORK
    })
    .map_or(Ok(()), |(line, column)| Err(FlowProblem::TooDeep { line, column }))?;
    if work > MAX_FLOW_WORK {
        return Err(FlowProblem::TooMuchWork { line: line_now });
    }
    Ok(())
}

/// The 1-based line and column where flow nesting first goes deeper than [`MAX_FLOW_DEPTH`].
#[cfg(test)]
fn too_deep(text: &str) -> Option<(u32, usize)> {
    scan(text, |_, _, _| true)
}

/// Scans `text`, calling `step(depth, bytes, line)` after each step with the depth the step's
/// bytes were at; stops when `step` returns false (then `None`) or at a depth over the limit.
fn scan(text: &str, mut step: impl FnMut(usize, usize, u32) -> bool) -> Option<(u32, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1u32;
    let mut line_start = 0usize;
    let mut i = 0usize;
    // Indentation of the current line, known from its first non-blank byte on.
    let mut indent = 0usize;
    // No non-blank byte seen on the current line yet.
    let mut fresh_line = true;
    // Inside a plain scalar (`key: some text [x`, `[it's]`), with the indentation of the line it
    // started on: brackets and quotes there are text. In block context it goes on over lines
    // indented more than that line, in flow context until a flow indicator.
    let mut plain: Option<usize> = None;
    let blank = |b: Option<&u8>| matches!(b, None | Some(b' ' | b'\t' | b'\n' | b'\r'));
    // Whether a token may start at `i` (after a blank, at a line start, after a flow indicator).
    let token_start = |i: usize, depth: usize| {
        i == 0
            || match bytes[i - 1] {
                b' ' | b'\t' | b'\n' | b'\r' => true,
                b'[' | b'{' | b',' | b':' => depth > 0,
                _ => false,
            }
    };
    // The bytes since the last accounting, and the depth they were at.
    let (mut counted_to, mut counted_depth) = (0usize, 0usize);
    while i < bytes.len() {
        if !step(counted_depth, i - counted_to, line) {
            return None;
        }
        (counted_to, counted_depth) = (i, depth);
        let c = bytes[i];
        if fresh_line && !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            fresh_line = false;
            indent = i - line_start;
            // A block plain scalar goes on only on a more indented line that is not a comment.
            if depth == 0 && plain.is_some_and(|p| indent <= p || c == b'#') {
                plain = None;
            }
        }
        if plain.is_some() {
            let ends = match c {
                b':' => blank(bytes.get(i + 1)) || (depth > 0 && matches!(bytes.get(i + 1), Some(b',' | b'[' | b']' | b'{' | b'}'))),
                b'#' => i > 0 && blank(bytes.get(i - 1)),
                b',' | b'[' | b']' | b'{' | b'}' => depth > 0,
                _ => false,
            };
            if ends {
                plain = None;
            } else {
                if c == b'\n' {
                    line += 1;
                    line_start = i + 1;
                    fresh_line = true;
                }
                i += 1;
                continue;
            }
        }
        match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                fresh_line = true;
                i += 1;
            }
            b'#' if token_start(i, depth) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' if token_start(i, depth) => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if c == b'"' => i += 1,
                        b'\'' if c == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        q if q == c => break,
                        b'\n' => {
                            line += 1;
                            line_start = i + 1;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            b'[' | b'{' if depth > 0 || token_start(i, depth) => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((line, i - line_start + 1));
                }
                i += 1;
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b'|' | b'>' if depth == 0 && token_start(i, depth) => {
                // A block scalar: the rest of this line, then every blank or more indented line.
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                while i < bytes.len() {
                    let next = i + 1;
                    let rest = &bytes[next.min(bytes.len())..];
                    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                    let blank_line = rest[..end].iter().all(|b| *b == b' ' || *b == b'\t' || *b == b'\r');
                    if next >= bytes.len() || !(blank_line || indentation(rest) > indent) {
                        break;
                    }
                    line += 1;
                    line_start = next;
                    i = next + end;
                }
            }
            // Node properties (`&anchor`, `*alias`, `!tag`) are tokens of their own, not text.
            b'&' | b'*' | b'!' if token_start(i, depth) => {
                i += 1;
                while i < bytes.len() && !blank(bytes.get(i)) && !(depth > 0 && matches!(bytes[i], b',' | b'[' | b']' | b'{' | b'}')) {
                    i += 1;
                }
            }
            // Document markers.
            b'-' | b'.'
                if i == line_start && bytes[i..].starts_with(if c == b'-' { b"---" } else { b"..." }) && blank(bytes.get(i + 3)) =>
            {
                i += 3;
            }
            b' ' | b'\t' | b'\r' | b',' | b']' | b'}' => i += 1,
            b'-' | b'?' | b':' if blank(bytes.get(i + 1)) => i += 1,
            _ => {
                plain = Some(indent);
                i += 1;
            }
        }
    }
    step(counted_depth, bytes.len().min(i) - counted_to, line);
    None
}

/// Leading spaces of a line.
fn indentation(line: &[u8]) -> usize {
    line.iter().take_while(|&&b| b == b' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_found_with_its_line() {
        let deep = format!("a: 1\nb: {}{}\n", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(too_deep(&deep), Some((2, 4 + MAX_FLOW_DEPTH)));
        let maps = format!("a: {}1{}\n", "{a: ".repeat(2000), "}".repeat(2000));
        assert_eq!(too_deep(&maps).map(|(l, _)| l), Some(1));
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        let many = "[".repeat(3 * MAX_FLOW_DEPTH);
        for text in [
            format!("a: \"{many}\"\n"),
            format!("a: '{many}'\n"),
            format!("a: text {many}\n"),
            format!("a: 1 # {many}\n"),
            format!("a: |\n  {many}\n\n  {many}\nb: [1, 2]\n"),
            format!("a: >-\n    {many}\nb: 'it''s {many}'\n"),
            format!("a: \"esc \\\" {many}\"\n"),
            format!("a: text\n  more {many}\n  'and more {many}\nb: 1\n"),
            format!("a: [it's here, 'q {many}', \"{many}\"]\n"),
        ] {
            assert_eq!(too_deep(&text), None, "{text:.60}");
        }
    }

    #[test]
    fn quotes_inside_plain_text_do_not_hide_brackets() {
        // `'x` continues the plain scalar (it is not a quote), so the brackets after it count.
        let deep = "[".repeat(MAX_FLOW_DEPTH + 1);
        for text in [
            format!("a: text\n  'x\nb: {deep}\n"),
            format!("a: [t\n 'x, {deep}\n"),
            format!("a: it's\nb: {deep}\n"),
            format!("a: \"quoted\"\nb: {deep}\n"),
            format!("a: &x {deep}\n"),
            format!("a: !!seq {deep}\n"),
            format!("a: [*x, {deep}\n"),
            format!("--- {deep}\n"),
            format!("a: 1\n...\n--- {deep}\n"),
            "a: &a [".repeat(MAX_FLOW_DEPTH + 1),
        ] {
            assert!(too_deep(&text).is_some(), "{text:.40}");
        }
    }

    #[test]
    fn flow_work_is_bounded() {
        // 200 levels deep, then a million items: fine for depth, too much work for libyaml.
        let heavy = format!("a: {}{}{}\n", "[".repeat(200), "1,".repeat(1_000_000), "]".repeat(200));
        assert!(matches!(check(&heavy), Err(FlowProblem::TooMuchWork { line: 1 })));
        let deep = format!("a: 1\nb: {}\n", "[".repeat(MAX_FLOW_DEPTH + 1));
        assert_eq!(check(&deep), Err(FlowProblem::TooDeep { line: 2, column: 4 + MAX_FLOW_DEPTH }));
        // A big but shallow flow list, and big block YAML, are fine.
        assert_eq!(check(&format!("a: [{}]\n", "1,".repeat(1_000_000))), Ok(()));
        assert_eq!(check(&"- {a: [1, 2]}\n".repeat(200_000)), Ok(()));
    }

    #[test]
    fn balanced_flow_collections_pass() {
        let wide = format!("a: [{}]\n", vec!["[1, {b: [2]}]"; 10_000].join(", "));
        assert_eq!(too_deep(&wide), None);
        let nested = format!("a: {}{}\n", "[".repeat(MAX_FLOW_DEPTH), "]".repeat(MAX_FLOW_DEPTH));
        assert_eq!(too_deep(&nested), None);
    }
}
