//! JSONC (JSON with comments) to plain JSON, keeping every line and column where it was.

/// `text` with `//` and `/* */` comments and trailing commas (before `}` or `]`) replaced by
/// spaces. Newlines are kept (also those inside block comments), so a JSON parser's line and
/// column numbers are those of the original text. Nothing inside strings is touched; an unclosed
/// block comment blanks the rest of the text (the JSON parser then reports what is missing).
pub(crate) fn to_json(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    // Index in `out` of the last comma outside strings not yet followed by anything but blanks.
    let mut pending_comma: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                pending_comma = None;
                out.push(c);
                i += 1;
                while i < chars.len() {
                    let s = chars[i];
                    out.push(s);
                    i += 1;
                    if s == '\\' && i < chars.len() {
                        out.push(chars[i]);
                        i += 1;
                    } else if s == '"' || s == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                out.push(' ');
                out.push(' ');
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
                if i < chars.len() {
                    out.push(' ');
                    out.push(' ');
                    i += 2;
                }
            }
            ',' => {
                pending_comma = Some(out.len());
                out.push(c);
                i += 1;
            }
            '}' | ']' => {
                if let Some(at) = pending_comma.take() {
                    out[at] = ' ';
                }
                out.push(c);
                i += 1;
            }
            c if c.is_whitespace() => {
                out.push(c);
                i += 1;
            }
            _ => {
                pending_comma = None;
                out.push(c);
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_comments_and_trailing_commas_but_not_strings() {
        let text = "{\n  // a comment\n  \"url\": \"http://x/*y*/\", /* block\n  over lines */ \"list\": [1, 2,],\n  \"s\": \"a,]\\\" // no\",\n}\n";
        let json = to_json(text);
        assert_eq!(json.lines().count(), text.lines().count());
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["url"], "http://x/*y*/");
        assert_eq!(v["list"], serde_json::json!([1, 2]));
        assert_eq!(v["s"], "a,]\" // no");
    }

    #[test]
    fn keeps_line_numbers_for_errors() {
        let text = "{\n /* c\n c */\n \"a\": 1,\n \"b\": ?\n}";
        let err = serde_json::from_str::<serde_json::Value>(&to_json(text)).unwrap_err();
        assert_eq!(err.line(), 5);
    }

    #[test]
    fn a_comma_between_values_stays() {
        let v: serde_json::Value = serde_json::from_str(&to_json("[1, // x\n 2]")).unwrap();
        assert_eq!(v, serde_json::json!([1, 2]));
    }
}
