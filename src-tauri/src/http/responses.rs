//! The JSON bodies the routes answer with, as types: each is what its route serialises and what
//! `/v1/openapi.json` describes (its schema derived from the type, so the two cannot differ).
//! Fields are in name order, as `serde_json::json!` wrote them before these types existed.
//! Types the application already has ([`Execution`], [`QueueView`](crate::app::QueueView), …) are
//! answered as they are and not repeated here.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::app::CancelOutcome;
use crate::execution::{Execution, ExecutionId, ExecutionState, LogEntry, Priority, Progress, Status, StepOutput};

/// `GET /v1/health`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: HealthStatus,
    /// The server's version.
    pub version: String,
}

/// The one status [`Health`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
}

/// `POST /v1/executions`: what was queued.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Submitted {
    /// The executions, one per row (for a replay: those recorded the first time).
    pub ids: Vec<ExecutionId>,
    /// The idempotency key was used before for this submission: nothing was recorded.
    pub replayed: bool,
    /// The crew's warnings, each once.
    pub warnings: Vec<String>,
}

/// `GET /v1/executions`: a page of executions, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ExecutionPage {
    pub executions: Vec<ExecutionRow>,
    /// The `before` of the next page; `null` on the last one.
    pub next_before: Option<ExecutionId>,
}

/// An execution as a list row: every field of [`Execution`] but its crew snapshot (`crew_spec`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionRow(pub Execution);

impl Serialize for ExecutionRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        if let Some(fields) = value.as_object_mut() {
            fields.remove(CREW_SPEC);
        }
        value.serialize(serializer)
    }
}

/// The field an [`ExecutionRow`] leaves out.
const CREW_SPEC: &str = "crew_spec";

impl JsonSchema for ExecutionRow {
    fn schema_name() -> Cow<'static, str> {
        "ExecutionRow".into()
    }

    /// [`Execution`]'s schema without `crew_spec` (a property of its top-level object, where the
    /// state's variants are a `oneOf` beside it).
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = Execution::json_schema(generator);
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            properties.remove(CREW_SPEC);
        }
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|name| name != CREW_SPEC);
        }
        schema.insert("description".into(), "An execution as a list row: every field of an Execution but `crew_spec`.".into());
        schema
    }
}

/// `GET /v1/executions/{id}/steps`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Steps {
    /// The finished tasks, in completion order.
    pub steps: Vec<StepOutput>,
}

/// `GET /v1/executions/{id}/logs`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LogPage {
    /// The lines after `after`, in seq order.
    pub entries: Vec<LogEntry>,
    /// The last seq returned, or `after` when none was.
    pub next_after: u64,
}

/// `POST /v1/executions/{id}/cancel`: `{id, outcome}`, with `status` when it had already finished.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Cancelled {
    pub id: ExecutionId,
    #[serde(flatten)]
    pub outcome: CancelOutcome,
}

/// `POST /v1/executions/{id}/retry`: the new execution.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Rerun {
    /// The new execution's id.
    pub id: ExecutionId,
    /// The execution it reruns.
    pub retry_of: Option<ExecutionId>,
    /// How many finished tasks of that execution it reuses.
    pub reused_steps: usize,
}

/// `PUT /v1/executions/{id}/priority`: the priority now.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct PriorityChange {
    pub id: ExecutionId,
    pub priority: Priority,
}

/// The data of the event stream's `status` event: the state's fields as in an [`Execution`]
/// (`status` and what is true in it), with the execution's id, attempt and priority.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct StatusData<'a> {
    pub id: &'a ExecutionId,
    #[serde(flatten)]
    pub state: &'a ExecutionState,
    pub attempt: u32,
    pub priority: Priority,
}

/// The data of the event stream's `progress` event.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ProgressData<'a> {
    pub id: &'a ExecutionId,
    #[serde(flatten)]
    pub progress: &'a Progress,
}

/// The data of the event stream's `end` event: the execution is terminal and every log line was
/// sent.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct EndData {
    pub status: Status,
}

/// The data of the event stream's `orphaned` event: the execution's worker is gone and no process
/// runs to recover it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct OrphanedData {
    /// The worker that had it.
    pub owner: String,
}

/// The data of the event stream's `error` event: reading the log failed; the stream closes.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct StreamError {
    pub message: String,
}
