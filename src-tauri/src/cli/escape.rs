//! Text from crews, inputs, models and servers made safe to print on a terminal.
//!
//! Crew files can hold any character (JSON's `\u001b` escapes included), and so can inputs, model
//! answers and error bodies. Printed raw, an ESC sequence could recolour or clear the terminal,
//! move the cursor, retitle the window, and CR or backspace could overwrite what was printed
//! before it. Every text (non-JSON) output path passes such text through [`line`] or [`block`],
//! which replace every C0 control character, DEL and every C1 control character by a visible
//! escape: `\n`, `\r`, `\t` for those three, else `\u{1b}`-style (Rust's notation). JSON output
//! needs none of this: serde escapes control characters in strings.

use std::borrow::Cow;

fn is_control(c: char) -> bool {
    c.is_control()
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let kept = |c: char| keep_newlines && c == '\n';
    if !text.chars().any(|c| is_control(c) && !kept(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if kept(c) || !is_control(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `text` for one line of output: every control character escaped, newlines included (a name
/// with a newline in it cannot start a line of its own).
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` for output that may span lines (a crew's output, a log message, an error): newlines
/// kept, every other control character escaped.
pub fn block(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_newlines_kept_in_blocks() {
        let hostile = "red\u{1b}[31m\u{7}bell\rback\u{8}\u{9b}2J\u{7f}";
        assert_eq!(line(hostile), "red\\u{1b}[31m\\u{7}bell\\rback\\u{8}\\u{9b}2J\\u{7f}");
        assert_eq!(block("a\nb\u{1b}]0;title\u{7}\n"), "a\nb\\u{1b}]0;title\\u{7}\n");
        assert_eq!(line("a\nb\tc"), "a\\nb\\tc");
        assert!(matches!(line("plain, ünïcode ✓"), Cow::Borrowed(_)));
    }
}
