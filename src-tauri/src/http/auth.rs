//! The API token: created once per data dir, required as `Authorization: Bearer TOKEN` on every
//! route but `GET /v1/health`.
//!
//! The token is 32 random bytes written as 64 lowercase hex digits to `<data dir>/http-token`
//! (mode 0600 on Unix), created by the first server that starts on the data dir and read by every
//! later one; delete the file to get a new token at the next start. The file is written complete
//! under a temporary name and then linked into place, so two servers starting at once agree on one
//! token and a crash never leaves half a token.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use super::error::{ApiError, ErrorKind};

/// The token file's name inside the data dir.
pub const TOKEN_FILE: &str = "http-token";

/// Why the token could not be read or created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read, created or linked into place.
    #[error("the API token file {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The file exists but does not hold 64 hex digits (hand-edited or truncated).
    #[error("the API token file {} does not hold a token (64 hex digits); delete it to get a new one at the next start", path.display())]
    Malformed { path: PathBuf },
}

/// The server's token (compared in constant time).
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// Reads the token of `data_dir`, creating it (see the module docs) when there is none yet.
    /// Blocking (file system).
    pub fn load_or_create(data_dir: &Path) -> Result<Token, TokenError> {
        let path = data_dir.join(TOKEN_FILE);
        let io = |source| TokenError::Io { path: path.clone(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => return Token::parse(&text).ok_or_else(|| TokenError::Malformed { path: path.clone() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let token = hex::encode(rand::random::<[u8; 32]>());
        let staged = data_dir.join(format!(".{TOKEN_FILE}.{}", hex::encode(rand::random::<[u8; 8]>())));
        let written = write_private(&staged, &token).and_then(|()| std::fs::hard_link(&staged, &path));
        let _ = std::fs::remove_file(&staged);
        match written {
            Ok(()) => Ok(Token(token)),
            // Another server created it first: use its token.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Token::load_or_create(data_dir),
            Err(e) => Err(io(e)),
        }
    }

    /// The token in `text` (surrounding whitespace ignored), if it is 64 hex digits.
    fn parse(text: &str) -> Option<Token> {
        let text = text.trim();
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Token(text.to_ascii_lowercase()))
    }

    /// The token's text (64 hex digits), for a client of this server to send.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// Whether an `Authorization` header value is `Bearer <this token>` (scheme in any case): the
    /// comparison takes the same time wherever the first difference is.
    pub fn accepts(&self, authorization: &[u8]) -> bool {
        // The scheme is case-insensitive (RFC 9110 §11.1).
        match authorization.split_at_checked(7) {
            Some((scheme, given)) if scheme.eq_ignore_ascii_case(b"bearer ") => constant_time_eq(given, self.0.as_bytes()),
            _ => false,
        }
    }
}

/// Whether `a == b`, in a time that depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Creates `path` (it must not exist) readable and writable by the owner only, with `text`.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Middleware: refuses a request without the token ([`ErrorKind::Unauthorized`], with a
/// `WWW-Authenticate: Bearer` header).
pub async fn require_token(State(token): State<Token>, request: Request, next: Next) -> Result<Response, Response> {
    let given = request.headers().get(AUTHORIZATION).map(|v| v.as_bytes()).unwrap_or_default();
    if token.accepts(given) {
        return Ok(next.run(request).await);
    }
    let message = "missing or wrong `Authorization: Bearer TOKEN` (the token is in the data dir's http-token file)";
    let mut response = axum::response::IntoResponse::into_response(ApiError::new(ErrorKind::Unauthorized, message));
    response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    Err(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = Token::load_or_create(dir.path()).unwrap();
        assert_eq!(first.0.len(), 64);
        let again = Token::load_or_create(dir.path()).unwrap();
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKEN_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no staged file is left behind");
        std::fs::write(dir.path().join(TOKEN_FILE), "short").unwrap();
        assert!(matches!(Token::load_or_create(dir.path()), Err(TokenError::Malformed { .. })));
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = Token("ab".repeat(32));
        assert!(token.accepts(format!("Bearer {}", "ab".repeat(32)).as_bytes()));
        for wrong in [String::new(), "ab".repeat(32), format!("Bearer {}", "ab".repeat(31)), format!("Bearer {}a", "ab".repeat(32))] {
            assert!(!token.accepts(wrong.as_bytes()), "{wrong}");
        }
        assert!(!token.accepts(format!("Bearer {}ac", "ab".repeat(31)).as_bytes()));
        assert!(token.accepts(format!("bearer {}", "ab".repeat(32)).as_bytes()));
        assert!(!token.accepts(format!("Basic {}", "ab".repeat(32)).as_bytes()));
    }

    #[test]
    fn equal_length_comparison() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
