//! `${VAR}` in MCP server declarations, expanded from the environment when a server starts.

/// A `${VAR}` that names no set variable (or is not closed).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    /// `${NAME}` where `NAME` is not set in the environment.
    #[error("environment variable `{0}` is not set")]
    Unset(String),
    /// `${` without a closing `}`.
    #[error("`${{` without a closing `}}` in `{0}`")]
    Unclosed(String),
}

/// `text` with every `${NAME}` replaced by `lookup(NAME)`; a `$` not followed by `{` is kept.
pub fn expand_with(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| ExpandError::Unclosed(text.to_string()))?;
        let name = &after[..end];
        out.push_str(&lookup(name).ok_or_else(|| ExpandError::Unset(name.to_string()))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// [`expand_with`] over the process environment.
pub fn expand(text: &str) -> Result<String, ExpandError> {
    expand_with(text, |name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_set_variables_and_names_unset_ones() {
        let lookup = |n: &str| (n == "TOKEN").then(|| "s3cret".to_string());
        assert_eq!(expand_with("Bearer ${TOKEN}!", lookup).unwrap(), "Bearer s3cret!");
        assert_eq!(expand_with("$HOME and $ alone", lookup).unwrap(), "$HOME and $ alone");
        assert_eq!(expand_with("${NOPE}", lookup), Err(ExpandError::Unset("NOPE".into())));
        assert!(matches!(expand_with("${TOKEN", lookup), Err(ExpandError::Unclosed(_))));
    }
}
