//! Python literals: string and number tokens as written, and [`Expr`] values as JSON.
//!
//! Only literals are evaluated: strings (any prefix but `b`; an f-string only when it has no `{…}`
//! field), integers, floats, `True`/`False`/`None`, and lists, tuples and dicts of them. A few
//! computed values that CrewAI's templates write are evaluated too ([`computed`]).

use serde_json::Value;

use super::syntax::Expr;

/// The value of a string token (`'a'`, `"""b"""`, `r'\d'`, `f"x {{y}}"`); `None` for bytes and
/// for an f-string with a field.
pub(crate) fn string(token: &str) -> Option<String> {
    let quote_at = token.find(['\'', '"'])?;
    let prefix = token[..quote_at].to_ascii_lowercase();
    if prefix.contains('b') || prefix.chars().any(|c| !matches!(c, 'r' | 'f' | 'u')) {
        return None;
    }
    let rest = &token[quote_at..];
    let quote = ["\"\"\"", "'''", "\"", "'"].into_iter().find(|q| rest.starts_with(q))?;
    let body = rest.strip_prefix(quote)?.strip_suffix(quote)?;
    let raw = prefix.contains('r');
    let body = if prefix.contains('f') { f_string_text(body)? } else { body.to_string() };
    Some(if raw { body } else { unescape(&body) })
}

/// An f-string body without fields, `{{`/`}}` as braces; `None` when it has a `{…}` field.
fn f_string_text(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' if chars.peek() == Some(&c) => {
                chars.next();
                out.push(c);
            }
            '{' | '}' => return None,
            _ => out.push(c),
        }
    }
    Some(out)
}

/// Python's escapes in a non-raw string (unknown escapes stay as written, as in Python).
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(e @ ('x' | 'u' | 'U')) => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.clone().take(len).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).filter(|_| hex.len() == len) {
                    Some(ch) => {
                        out.push(ch);
                        for _ in 0..len {
                            chars.next();
                        }
                    }
                    None => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The value of an integer token (`1_000`, `0x1F`, `0o7`, `0b1`).
pub(crate) fn integer(token: &str) -> Option<i64> {
    let t = token.replace('_', "").to_ascii_lowercase();
    let (digits, radix) = match t.get(..2) {
        Some("0x") => (&t[2..], 16),
        Some("0o") => (&t[2..], 8),
        Some("0b") => (&t[2..], 2),
        _ => (t.as_str(), 10),
    };
    i64::from_str_radix(digits, radix).ok()
}

/// `expr` as JSON when it is a literal (dict keys must be strings); `None` otherwise.
pub(crate) fn to_json(expr: &Expr) -> Option<Value> {
    Some(match expr {
        Expr::Str(s) => Value::String(s.clone()),
        Expr::Int(i) => Value::from(*i),
        Expr::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number)?,
        Expr::Bool(b) => Value::Bool(*b),
        Expr::None => Value::Null,
        Expr::List(items) => Value::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        Expr::Dict(pairs) => {
            let mut map = serde_json::Map::new();
            for (k, v) in pairs {
                let Expr::Str(k) = k else { return None };
                map.insert(k.clone(), to_json(v)?);
            }
            Value::Object(map)
        }
        Expr::Name(_) | Expr::Call(_) | Expr::Subscript { .. } | Expr::Other(_) => return None,
    })
}

/// A computed value from CrewAI's templates, evaluated now: `datetime.now().year` (and
/// `date.today().year`, `datetime.datetime.now().year`, …) and `str(…)` of it. `None` for any
/// other expression.
pub(crate) fn computed(expr: &Expr, now_year: i32) -> Option<Value> {
    match expr {
        Expr::Call(c) if c.func == "str" && c.args.len() == 1 && c.kwargs.is_empty() => {
            computed(&c.args[0], now_year).map(|v| Value::String(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        }
        Expr::Other(text) => {
            let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let t = t.strip_prefix("datetime.").unwrap_or(&t);
            matches!(t, "datetime.now().year" | "now().year" | "date.today().year" | "datetime.today().year").then(|| Value::from(now_year))
        }
        _ => None,
    }
}

/// The current year (UTC).
pub(crate) fn current_year() -> i32 {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0) as i64;
    civil_year(days)
}

/// The proleptic Gregorian year of the day `days` after 1970-01-01.
fn civil_year(days: i64) -> i32 {
    // Howard Hinnant's days-to-civil algorithm, year part.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as i32
}

#[cfg(test)]
mod tests {
    use super::super::syntax::Call;
    use super::*;

    #[test]
    fn strings_as_python_reads_them() {
        assert_eq!(string("'a\\nb'").as_deref(), Some("a\nb"));
        assert_eq!(string("r'a\\nb'").as_deref(), Some("a\\nb"));
        assert_eq!(string("\"\"\"x\ny\"\"\"").as_deref(), Some("x\ny"));
        assert_eq!(string("f'{{x}} y'").as_deref(), Some("{x} y"));
        assert_eq!(string("f'{x} y'"), None);
        assert_eq!(string("b'x'"), None);
        assert_eq!(string("'\\u00e9\\x41'").as_deref(), Some("éA"));
    }

    #[test]
    fn numbers_and_json() {
        assert_eq!(integer("1_000"), Some(1000));
        assert_eq!(integer("0x1F"), Some(31));
        let dict = Expr::Dict(vec![(Expr::Str("a".into()), Expr::List(vec![Expr::Int(1), Expr::None, Expr::Bool(true)]))]);
        assert_eq!(to_json(&dict), Some(serde_json::json!({"a": [1, null, true]})));
        assert_eq!(to_json(&Expr::Name("x".into())), None);
    }

    #[test]
    fn the_templates_computed_year() {
        let year = Expr::Other("datetime.now().year".into());
        let call = Expr::Call(Call { func: "str".into(), args: vec![year.clone()], kwargs: vec![], line: 1 });
        assert_eq!(computed(&call, 2026), Some(Value::String("2026".into())));
        assert_eq!(computed(&year, 2026), Some(Value::from(2026)));
        assert_eq!(computed(&Expr::Other("time.time()".into()), 2026), None);
        assert_eq!(civil_year(0), 1970);
        assert_eq!(civil_year(20_454), 2026);
        assert_eq!(civil_year(20_453), 2025);
    }
}
