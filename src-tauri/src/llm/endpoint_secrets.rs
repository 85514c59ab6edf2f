//! Credentials inside an endpoint URL (`http://user:KEY@host/v1?api-key=KEY`): shown redacted
//! everywhere, kept out of the database, handed to the process that runs the execution.
//!
//! - [`redact_url`] is the URL as it may be shown, stored and logged: the password (or a lone
//!   user name, which is often a token) and the value of every query parameter whose name looks
//!   secret ([`is_secret_param`]) become `***`.
//! - [`url_secrets`] are the values taken out, so a message that echoes one (a server's error, a
//!   transport error naming the URL) can be scrubbed.
//! - [`stash`] moves a submission's real URL into `<data dir>/secrets/<ref>.json` (mode 0600,
//!   written before the execution is recorded) and leaves the redacted URL and the file's name
//!   (`secret_ref`) in the [`LlmOptions`] that are stored. [`unseal`] reads it back in whatever
//!   process runs the execution; reruns share the file. [`sweep`] deletes the files no execution
//!   refers to any more (after `prune`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use reqwest::Url;

use crate::execution::{ExecutionId, LlmOptions};

/// What a redacted part of a URL is replaced with.
pub const REDACTED: &str = "***";

/// A secrets file younger than this is never swept: its submission may not be recorded yet.
const SWEEP_GRACE: Duration = Duration::from_secs(300);

/// Reading or writing a secrets file failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The URL carries credentials but there is no data dir to keep them in.
    #[error("the endpoint URL carries credentials, but there is nowhere to keep them (no data dir)")]
    NoPlace,
    /// The file could not be written or read.
    #[error("the endpoint credentials file {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The file is not what [`stash`] wrote.
    #[error("the endpoint credentials file {} is unreadable: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// Whether a query parameter's name marks its value as a secret (case-insensitive, `-` = `_`):
/// `key`, `api_key`, `apikey`, `token`, `access_token`, `auth`, `secret`, `client_secret`,
/// `password`, `passwd`, `pwd`, `sig`, `signature`, `credential(s)`, `session`, and any name
/// ending in `key`, `token`, `secret`, `password` or `signature`.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase().replace('-', "_");
    const EXACT: &[&str] = &[
        "key",
        "apikey",
        "api_key",
        "token",
        "access_token",
        "auth",
        "authorization",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "sig",
        "signature",
        "credential",
        "credentials",
        "session",
        "code",
    ];
    const SUFFIXES: &[&str] = &["key", "token", "secret", "password", "signature"];
    EXACT.contains(&name.as_str()) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The parsed URL, when `text` is an absolute URL with a host.
fn parse(text: &str) -> Option<Url> {
    Url::parse(text.trim()).ok().filter(|u| u.has_host())
}

/// `text` with its credentials replaced by `***` (see the module docs); text that is not a URL
/// with a host is returned as it is.
pub fn redact_url(text: &str) -> String {
    let Some(mut url) = parse(text) else { return text.to_string() };
    if url.password().is_some() {
        let _ = url.set_password(Some(REDACTED));
    } else if !url.username().is_empty() {
        let _ = url.set_username(REDACTED);
    }
    if let Some(query) = url.query().map(str::to_string) {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_param(&decode(name)) => format!("{name}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        url.set_query(Some(&pairs.join("&")));
    }
    let shown = url.to_string();
    // `Url` adds a `/` path to a bare host; keep the text as given otherwise.
    if shown.trim_end_matches('/') == text.trim().trim_end_matches('/') {
        text.to_string()
    } else {
        shown
    }
}

fn decode(text: &str) -> String {
    url_decode(text.replace('+', " ").as_bytes())
}

fn url_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The secret values in `text` (password or lone user name, secret query values), as written
/// and percent-decoded; empty when it has none.
pub fn url_secrets(text: &str) -> Vec<String> {
    let Some(url) = parse(text) else { return Vec::new() };
    let mut raw: Vec<String> = Vec::new();
    match url.password() {
        Some(password) => raw.push(password.to_string()),
        None if !url.username().is_empty() => raw.push(url.username().to_string()),
        None => {}
    }
    for pair in url.query().unwrap_or_default().split('&') {
        if let Some((name, value)) = pair.split_once('=') {
            if is_secret_param(&decode(name)) {
                raw.push(value.to_string());
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for value in raw.iter().flat_map(|v| [v.clone(), decode(v)]) {
        if !value.is_empty() && !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Whether `text` carries credentials that [`redact_url`] would hide.
pub fn has_secrets(text: &str) -> bool {
    !url_secrets(text).is_empty()
}

/// `<data dir>/secrets/`, where [`stash`] keeps endpoint credentials.
pub fn secrets_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets")
}

fn file_of(dir: &Path, reference: &str) -> PathBuf {
    dir.join(format!("{reference}.json"))
}

/// When `options.api_base` carries credentials: writes the real URL to a new file in `dir`
/// (`None`: [`SecretsError::NoPlace`]), readable by the owner only, and replaces it in `options`
/// by its redacted form plus `secret_ref`, the file's name. Options without credentials are left
/// as they are.
pub fn stash(dir: Option<&Path>, options: &mut LlmOptions) -> Result<(), SecretsError> {
    let Some(real) = options.api_base.clone().filter(|b| has_secrets(b)) else { return Ok(()) };
    let dir = dir.ok_or(SecretsError::NoPlace)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SecretsError::Io { path, source }
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io(dir))?;
    let reference = ExecutionId::new().to_string();
    let path = file_of(dir, &reference);
    let tmp = dir.join(format!(".{reference}.tmp"));
    let body = serde_json::json!({ "api_base": real }).to_string();
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(body.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(SecretsError::Io { path, source: e });
    }
    options.api_base = Some(redact_url(&real));
    options.secret_ref = Some(reference);
    Ok(())
}

/// The real endpoint URL of `options`: read from its `secret_ref` file in `dir` when it has
/// one, else its `api_base` as it is.
pub fn unseal(dir: Option<&Path>, options: &LlmOptions) -> Result<Option<String>, SecretsError> {
    let Some(reference) = options.secret_ref.as_deref() else { return Ok(options.api_base.clone()) };
    let dir = dir.ok_or(SecretsError::NoPlace)?;
    let path = file_of(dir, reference);
    let invalid = |reason: String| SecretsError::Invalid { path: path.clone(), reason };
    if reference.is_empty() || !reference.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid("not a secrets file name".into()));
    }
    let text = std::fs::read_to_string(&path).map_err(|source| SecretsError::Io { path: path.clone(), source })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    value["api_base"].as_str().map(|s| Some(s.to_string())).ok_or_else(|| invalid("no `api_base`".into()))
}

/// Deletes the secrets files in `dir` that no reference in `in_use` names and that are older
/// than five minutes (a younger one may belong to a submission not yet recorded). Returns how many
/// were deleted; a missing `dir` deletes nothing.
pub fn sweep(dir: &Path, in_use: &BTreeSet<String>) -> Result<usize, SecretsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => return Err(SecretsError::Io { path: dir.to_path_buf(), source }),
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(reference) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json")) else { continue };
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= SWEEP_GRACE));
        if old && !in_use.contains(reference) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_and_the_rest_kept() {
        assert_eq!(redact_url("http://user:KEY@host/v1?api-key=KEY"), "http://user:***@host/v1?api-key=***");
        assert_eq!(redact_url("https://h/v1?API_KEY=a&model=x&Token=b&sig=c"), "https://h/v1?API_KEY=***&model=x&Token=***&sig=***");
        assert_eq!(redact_url("http://tok@h:8080/v1"), "http://***@h:8080/v1");
        assert_eq!(redact_url("http://127.0.0.1:11434/v1"), "http://127.0.0.1:11434/v1");
        assert_eq!(redact_url("http://h"), "http://h");
        assert_eq!(redact_url("not a url"), "not a url");
        assert!(is_secret_param("x-goog-api-key") && is_secret_param("ACCESS-TOKEN") && !is_secret_param("model"));
    }

    #[test]
    fn secrets_are_listed_as_written_and_decoded() {
        assert_eq!(url_secrets("http://u:p%40ss@h/v1?key=a%2Bb&x=1"), vec!["p%40ss", "p@ss", "a%2Bb", "a+b"]);
        assert!(url_secrets("http://h/v1?model=m").is_empty());
    }

    #[test]
    fn stash_keeps_the_url_private_and_unseal_reads_it_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("secrets");
        let real = "http://user:KEY@host/v1?api-key=KEY";
        let mut options = LlmOptions { api_base: Some(real.into()), ..LlmOptions::default() };
        assert!(matches!(stash(None, &mut options.clone()), Err(SecretsError::NoPlace)));
        stash(Some(&dir), &mut options).unwrap();
        assert_eq!(options.api_base.as_deref(), Some("http://user:***@host/v1?api-key=***"));
        assert!(!serde_json::to_string(&options).unwrap().contains("KEY"));
        assert_eq!(unseal(Some(&dir), &options).unwrap().as_deref(), Some(real));
        let file = file_of(&dir, options.secret_ref.as_deref().unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Young files are kept even when unreferenced; referenced ones always.
        assert_eq!(sweep(&dir, &BTreeSet::new()).unwrap(), 0);
        let plain = LlmOptions { api_base: Some("http://h/v1".into()), ..LlmOptions::default() };
        let mut same = plain.clone();
        stash(Some(&dir), &mut same).unwrap();
        assert_eq!(same, plain);
        assert_eq!(unseal(None, &plain).unwrap().as_deref(), Some("http://h/v1"));
        let forged = LlmOptions { secret_ref: Some("../x".into()), ..LlmOptions::default() };
        assert!(matches!(unseal(Some(&dir), &forged), Err(SecretsError::Invalid { .. })));
    }
}
