//! [`JsonBody`]: a request body read as JSON, with failures answered as [`ApiError`]s.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorKind};

/// The most a request body may hold, in bytes (1 MiB): larger ones are refused with
/// [`ErrorKind::BodyTooLarge`] (413).
pub const MAX_BODY: usize = 1024 * 1024;

/// A JSON request body of type `T`. An empty body reads as `{}` (so a body whose fields are all
/// optional may be left out). Refused with [`ErrorKind::BodyTooLarge`] above [`MAX_BODY`], with
/// [`ErrorKind::InvalidArgument`] when it is not JSON or not a `T` (unknown fields included: the
/// body types deny them). The `Content-Type` is not checked.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(ErrorKind::BodyTooLarge, format!("the request body is over {MAX_BODY} bytes")),
            _ => ApiError::invalid(format!("cannot read the request body: {}", e.body_text())),
        })?;
        parse(&bytes).map(JsonBody)
    }
}

/// `bytes` as a `T` (empty: `{}`).
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(text).map_err(|e| ApiError::invalid(format!("the request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        from_task: Option<String>,
    }

    #[test]
    fn empty_is_an_empty_object_and_errors_are_invalid_arguments() {
        assert_eq!(parse::<Body>(b"").unwrap(), Body { from_task: None });
        assert_eq!(parse::<Body>(b" {\"from_task\": \"a\"} ").unwrap(), Body { from_task: Some("a".into()) });
        for bad in [&b"{"[..], b"[]", b"{\"x\": 1}"] {
            assert_eq!(parse::<Body>(bad).unwrap_err().kind, ErrorKind::InvalidArgument);
        }
    }
}
