//! A small RFC 4180 CSV reader: `,` separated, `"` quoted (`""` is a quote inside), records end in
//! `\n` or `\r\n` (also inside quotes, where they belong to the field). Blank lines are skipped.

/// A CSV syntax error at a 1-based line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CsvError {
    pub line: u32,
    pub message: String,
}

/// The records of `text`, each with the line it starts on.
pub(crate) fn records(text: &str) -> Result<Vec<(u32, Vec<String>)>, CsvError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line: u32 = 1;
    loop {
        // Skip blank lines between records.
        while matches!(chars.peek(), Some('\n') | Some('\r')) {
            if chars.next() == Some('\n') {
                line += 1;
            }
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    let open_line = line;
                    loop {
                        match chars.next() {
                            None => return Err(CsvError { line: open_line, message: "unclosed quote".into() }),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',') | Some('\n') | Some('\r') => {}
                        Some(_) => return Err(CsvError { line, message: "text after a closing quote".into() }),
                    }
                }
                Some('"') => return Err(CsvError { line, message: "a quote inside an unquoted field".into() }),
                Some(',') => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    fields.push(std::mem::take(&mut field));
                    line += 1;
                    break;
                }
                Some(c) => field.push(c),
            }
        }
        out.push((start, fields));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        records(text).unwrap().into_iter().map(|(_, f)| f).collect()
    }

    #[test]
    fn quoted_fields_with_commas_quotes_and_newlines() {
        let text = "topic,note\r\n\"Rust, the language\",\"say \"\"hi\"\"\"\n\nx,\"two\nlines\"\nlast,\n";
        let recs = records(text).unwrap();
        assert_eq!(recs[0], (1, vec!["topic".to_string(), "note".into()]));
        assert_eq!(recs[1], (2, vec!["Rust, the language".to_string(), "say \"hi\"".into()]));
        assert_eq!(recs[2], (4, vec!["x".to_string(), "two\nlines".into()]));
        assert_eq!(recs[3], (6, vec!["last".to_string(), String::new()]));
        assert_eq!(fields("a,b"), vec![vec!["a".to_string(), "b".into()]]);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(records("a\n\"open\n").unwrap_err().line, 2);
        assert_eq!(records("a\nb\"c\n").unwrap_err().line, 2);
        assert_eq!(records("a\n\"b\"c\n").unwrap_err().message, "text after a closing quote");
    }
}
