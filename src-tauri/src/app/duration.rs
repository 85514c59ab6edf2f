//! The one duration syntax of every option that takes a time (`--timeout`, `wait --timeout`,
//! `prune --older-than`, the HTTP API's `timeout` given as text).
//!
//! A duration is a bare number of seconds (`90`, `1.5`), or one or more numbers each followed by a
//! unit: `ms`, `s`, `m`, `h`, `d` (24 h) or `w` (7 d), as in `500ms`, `90s`, `5m`, `2h`, `30d`,
//! `1h30m`, `1.5s`. Units are case-insensitive; spaces are not allowed inside. Numbers may have a
//! decimal fraction; the result is exact to the nanosecond (finer fractions are truncated).

use std::time::Duration;

/// The accepted forms, for error messages and `--help`.
pub const FORMS: &str = "a number of seconds (90, 1.5) or numbers with units ms, s, m, h, d, w (500ms, 90s, 5m, 2h, 30d, 1h30m)";

/// Text that is not a duration (clap prefixes it with the option and the value).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a duration: use {FORMS}")]
pub struct ParseDurationError;

/// Parses a duration (see the module docs).
pub fn parse(text: &str) -> Result<Duration, ParseDurationError> {
    parse_parts(text).map(|(d, _)| d)
}

/// Like [`parse`], but a bare number is refused: for options where a forgotten unit would be
/// read as seconds and be off by orders of magnitude (`prune --older-than 30` meant as days).
pub fn parse_with_unit(text: &str) -> Result<Duration, String> {
    match parse_parts(text) {
        Ok((_, true)) => Err(format!("`{text}` has no unit: write e.g. {text}d or {text}h (a bare number would be seconds)")),
        Ok((d, false)) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// The duration, and whether it was a bare number.
fn parse_parts(text: &str) -> Result<(Duration, bool), ParseDurationError> {
    let text = text.trim();
    let mut rest = text;
    let mut total: u128 = 0;
    let mut bare = false;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit.to_ascii_lowercase().as_str() {
            // A bare number is seconds, and only as the whole text.
            "" if rest.len() == text.len() && after.is_empty() => {
                bare = true;
                1_000_000_000
            }
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "w" => 7 * 86_400 * 1_000_000_000,
            _ => return Err(ParseDurationError),
        };
        total = total.checked_add(nanos(number, unit_nanos)?).ok_or(ParseDurationError)?;
        rest = after;
    }
    if text.is_empty() {
        return Err(ParseDurationError);
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| ParseDurationError)?;
    Ok((Duration::new(secs, (total % 1_000_000_000) as u32), bare))
}

/// `number` (digits, perhaps with one `.` and more digits) times `unit_nanos`, exactly.
fn nanos(number: &str, unit_nanos: u128) -> Result<u128, ParseDurationError> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(ParseDurationError);
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| ParseDurationError)? };
    let mut value = whole.checked_mul(unit_nanos).ok_or(ParseDurationError)?;
    // Fraction digits past nanosecond precision of the largest unit add nothing.
    let fraction = &fraction[..fraction.len().min(18)];
    if !fraction.is_empty() {
        let scale = 10u128.pow(fraction.len() as u32);
        let part: u128 = fraction.parse().map_err(|_| ParseDurationError)?;
        value = value.checked_add(part * unit_nanos / scale).ok_or(ParseDurationError)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn bare_numbers_are_seconds() {
        assert_eq!(parse("90"), Ok(secs(90)));
        assert_eq!(parse("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse(" 0 "), Ok(Duration::ZERO));
        assert_eq!(parse(".5"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("90s"), Ok(secs(90)));
        assert_eq!(parse("5m"), Ok(secs(300)));
        assert_eq!(parse("2h"), Ok(secs(7200)));
        assert_eq!(parse("30d"), Ok(secs(30 * 86_400)));
        assert_eq!(parse("2w"), Ok(secs(14 * 86_400)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("0.1s"), Ok(Duration::from_millis(100)));
        assert_eq!(parse("2M"), Ok(secs(120)));
        assert_eq!(parse("1h30m"), Ok(secs(5400)));
        assert_eq!(parse("1d12h"), Ok(secs(36 * 3600)));
        assert_eq!(parse("1s500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("1.000000001s"), Ok(Duration::new(1, 1)));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["", " ", "s", "5x", "-5", "-5s", "1d2", "5 m", "1..5s", ".s", "1.2.3", "5mm", "99999999999999999999999d", "1e3"] {
            assert_eq!(parse(bad), Err(ParseDurationError), "{bad}");
        }
        assert!(ParseDurationError.to_string().contains("90s, 5m"));
    }

    #[test]
    fn a_unit_can_be_required() {
        assert_eq!(parse_with_unit("30d"), Ok(secs(30 * 86_400)));
        assert_eq!(parse_with_unit("0s"), Ok(Duration::ZERO));
        let err = parse_with_unit("30").unwrap_err();
        assert!(err.contains("no unit") && err.contains("30d"), "{err}");
        assert!(parse_with_unit("x").unwrap_err().contains("not a duration"));
    }
}
