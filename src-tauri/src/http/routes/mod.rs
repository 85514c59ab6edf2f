//! The one table of routes ([`ROUTES`]): the router and the OpenAPI document are both built from
//! it, so they cannot disagree.

mod control;
mod crews;
mod events;
mod executions;
mod meta;
mod queue;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::auth::{require_token, Token};
use super::body::MAX_BODY;
use super::error::{ApiError, ErrorKind};
use super::host::{check_host, AllowedHosts};
use super::responses::{Cancelled, ExecutionPage, Health, LogPage, PriorityChange, Rerun, Steps, Submitted};
use super::state::ApiState;
use super::submit::SubmitBody;
use crate::app::QueueSettings;
use crate::app::{QueueView, RunComparison, Trace, TraceCall, Validation};
use crate::execution::Execution;
use control::{AnswerBody, PriorityBody, RetryBody};
use crews::ValidateBody;

/// Makes the JSON schema of a body: a `$ref` to the schema it records in the generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The [`SchemaFn`] of `T`: its schema derived from the type (`#[derive(JsonSchema)]`).
pub const fn schema<T: JsonSchema>() -> SchemaFn {
    SchemaGenerator::subschema_for::<T>
}

/// What a route answers with on success.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    /// `application/json` of this schema: the type the handler serialises.
    Json(SchemaFn),
    /// `text/event-stream` (Server-Sent Events): each event's name and the type of its data.
    EventStream(&'static [(&'static str, SchemaFn)]),
}

/// One route: what the router serves and the OpenAPI document says.
pub struct Route {
    /// `get`, `post` or `put` (lowercase, as in OpenAPI).
    pub method: &'static str,
    /// The path, `{id}` for the execution id (the same syntax in axum and OpenAPI).
    pub path: &'static str,
    pub summary: &'static str,
    /// Served without the token.
    pub public: bool,
    /// The request body's type, if it takes one (the type the handler reads).
    pub body: Option<SchemaFn>,
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// The success statuses and their body (`POST /v1/executions`: 201 queued, 200 replayed).
    pub ok: (&'static [u16], Reply),
    /// The status codes of errors it may answer besides 401/403/500.
    pub errors: &'static [u16],
    pub handler: fn() -> MethodRouter<ApiState>,
}

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/v1/health",
        summary: "Liveness: {status: \"ok\", version}. No token needed.",
        public: true,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<Health>())),
        errors: &[],
        handler: || get(meta::health),
    },
    Route {
        method: "get",
        path: "/v1/openapi.json",
        summary: "This document.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<Value>())),
        errors: &[],
        handler: || get(meta::openapi),
    },
    Route {
        method: "post",
        path: "/v1/executions",
        summary: "Queue a crew (or a batch with `rows`): 201 {ids, warnings, replayed: false}; 200 with replayed: true for a repeat of an idempotency key.",
        public: false,
        body: Some(schema::<SubmitBody>()),
        query: &[],
        ok: (&[201, 200], Reply::Json(schema::<Submitted>())),
        errors: &[400, 409, 413],
        handler: || post(executions::submit),
    },
    Route {
        method: "get",
        path: "/v1/executions",
        summary: "Executions, newest first, without their crew snapshot: {executions, next_before}.",
        public: false,
        body: None,
        query: &[
            ("status", "queued, running, retrying, succeeded, failed, cancelled or awaiting_input; repeatable or a comma list"),
            ("crew", "the crew's name"),
            ("meta", "KEY=VALUE; repeatable, all must match"),
            ("limit", "page size, 1 to 1000 (default 50)"),
            ("before", "the previous page's next_before"),
        ],
        ok: (&[200], Reply::Json(schema::<ExecutionPage>())),
        errors: &[400],
        handler: || get(executions::list),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}",
        summary: "One execution, in full.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<Execution>())),
        errors: &[400, 404],
        handler: || get(executions::get),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}/steps",
        summary: "The finished tasks, in completion order: {steps}.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<Steps>())),
        errors: &[400, 404],
        handler: || get(executions::steps),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}/diff/{other}",
        summary: "Execution `id` (A) compared with execution `other` (B) of the same crew, as `crew-runner diff --json`: {a, b, tasks, first_difference}; 400 for executions of different crews.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<RunComparison>())),
        errors: &[400, 404],
        handler: || get(executions::diff),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}/trace",
        summary: "The trace of the execution, as `crew-runner trace --json`: {execution_id, status, started_at, ended_at, spans, totals, payloads}; each span a task, LLM call, tool call or delegation with its times, tokens, cost and status.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<Trace>())),
        errors: &[400, 404],
        handler: || get(executions::trace),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}/trace/calls/{call}",
        summary: "What LLM call `call` (a span's `call`) sent and received, as `crew-runner trace --call N --json`: {execution_id, call, model, endpoint, messages, tools, response, usage, started_at, ended_at}; 404 when its messages were not kept.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<TraceCall>())),
        errors: &[400, 404],
        handler: || get(executions::trace_call),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}/logs",
        summary: "Log lines after `after`: {entries, next_after}.",
        public: false,
        body: None,
        query: &[("after", "the seq to read after (default 0)"), ("limit", "at most this many lines, 1 to 10000 (default 1000)")],
        ok: (&[200], Reply::Json(schema::<LogPage>())),
        errors: &[400, 404],
        handler: || get(executions::logs),
    },
    Route {
        method: "get",
        path: "/v1/executions/{id}/events",
        summary: "Server-Sent Events: `status`, `progress`, `log` (id: its seq), then `end` ({status}) once terminal and every line was sent. Resume with the Last-Event-ID header (or `after`).",
        public: false,
        body: None,
        query: &[("after", "the seq to continue after (the Last-Event-ID header wins)")],
        ok: (&[200], Reply::EventStream(events::EVENTS)),
        errors: &[400, 404],
        handler: || get(events::events),
    },
    Route {
        method: "post",
        path: "/v1/executions/{id}/cancel",
        summary: "Cancel: {id, outcome: cancelled | requested | already_finished}.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<Cancelled>())),
        errors: &[400, 404],
        handler: || post(control::cancel),
    },
    Route {
        method: "post",
        path: "/v1/executions/{id}/retry",
        summary: "Queue a finished execution again, reusing finished tasks (before `from_task`): 201 {id, retry_of, reused_steps}.",
        public: false,
        body: Some(schema::<RetryBody>()),
        query: &[],
        ok: (&[201], Reply::Json(schema::<Rerun>())),
        errors: &[400, 404, 409],
        handler: || post(control::retry),
    },
    Route {
        method: "post",
        path: "/v1/executions/{id}/answer",
        summary: "Answer the human review an execution awaits (`awaiting_input`): no `feedback` accepts the task's answer, `feedback` sends it back to the agent. The execution, queued again.",
        public: false,
        body: Some(schema::<AnswerBody>()),
        query: &[],
        ok: (&[200], Reply::Json(schema::<Execution>())),
        errors: &[400, 404, 409],
        handler: || post(control::answer),
    },
    Route {
        method: "put",
        path: "/v1/executions/{id}/priority",
        summary: "Change the priority of a queued or retrying execution: {id, priority}.",
        public: false,
        body: Some(schema::<PriorityBody>()),
        query: &[],
        ok: (&[200], Reply::Json(schema::<PriorityChange>())),
        errors: &[400, 404, 409],
        handler: || put(control::priority),
    },
    Route {
        method: "get",
        path: "/v1/queue",
        summary: "Queue settings, counts per status, and why this server's scheduler stopped (if it did).",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<QueueView>())),
        errors: &[],
        handler: || get(queue::get),
    },
    Route {
        method: "post",
        path: "/v1/queue/pause",
        summary: "Stop starting executions (every process on the data dir): {paused, concurrency}.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<QueueSettings>())),
        errors: &[],
        handler: || post(queue::pause),
    },
    Route {
        method: "post",
        path: "/v1/queue/resume",
        summary: "Start executions again: {paused, concurrency}.",
        public: false,
        body: None,
        query: &[],
        ok: (&[200], Reply::Json(schema::<QueueSettings>())),
        errors: &[],
        handler: || post(queue::resume),
    },
    Route {
        method: "post",
        path: "/v1/crews/validate",
        summary: "Load a crew and report it as `crew-runner validate --json` does (nothing is recorded).",
        public: false,
        body: Some(schema::<ValidateBody>()),
        query: &[],
        ok: (&[200], Reply::Json(schema::<Validation>())),
        errors: &[400, 413],
        handler: || post(crews::validate_crew),
    },
];

/// The router over [`ROUTES`]: the token on every non-public route, bodies capped at
/// [`MAX_BODY`], CORS for `cors_origin` only, and the `Host` check in front of everything.
pub fn router(state: ApiState, token: Token, hosts: AllowedHosts, cors_origin: Option<&str>) -> Router {
    let mut router = Router::new();
    for route in ROUTES {
        let handler = (route.handler)();
        let handler = if route.public { handler } else { handler.route_layer(from_fn_with_state(token.clone(), require_token)) };
        router = router.route(route.path, handler);
    }
    let mut router = router
        .fallback(|| async { ApiError::new(ErrorKind::NotFound, "no such route (see /v1/openapi.json)").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorKind::MethodNotAllowed, "method not allowed on this path").into_response()
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY));
    if let Some(origin) = cors_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        router = router.layer(
            CorsLayer::new()
                // Only a request from `origin` gets `Access-Control-Allow-Origin`.
                .allow_origin(AllowOrigin::predicate(move |given, _| *given == origin))
                .allow_methods([Method::GET, Method::POST, Method::PUT])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::HeaderName::from_static("last-event-id")]),
        );
    }
    router.layer(from_fn_with_state(hosts, check_host))
}
