//! `GET /v1/health` (no token) and `GET /v1/openapi.json`.

use axum::Json;
use serde_json::{json, Value};

/// `{status: "ok", version}`.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// The OpenAPI 3.1 document of every route ([`crate::http::openapi::document`]).
pub async fn openapi() -> Json<Value> {
    Json(crate::http::openapi::document())
}
