//! `GET /v1/health` (no token) and `GET /v1/openapi.json`.

use axum::Json;
use serde_json::Value;

use crate::http::responses::{Health, HealthStatus};

/// `{status: "ok", version}`.
pub async fn health() -> Json<Health> {
    Json(Health { status: HealthStatus::Ok, version: env!("CARGO_PKG_VERSION").to_string() })
}

/// The OpenAPI 3.1 document of every route ([`crate::http::openapi::document`]).
pub async fn openapi() -> Json<Value> {
    Json(crate::http::openapi::document())
}
