//! The OpenAPI 3.1 document of `GET /v1/openapi.json`, built with serde_json from the route table
//! ([`ROUTES`]) and the schemas below (request bodies in full; responses by their fields).

use serde_json::{json, Map, Value};

use super::routes::ROUTES;

/// The document (see the module docs).
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method, route.path.replace(['/', '.', '{', '}'], "_")),
            "responses": responses(route.ok, route.errors, route.public),
        });
        let mut parameters: Vec<Value> = Vec::new();
        if route.path.contains("{id}") {
            parameters.push(json!({ "name": "id", "in": "path", "required": true, "description": "the execution id (a ULID)", "schema": { "type": "string" } }));
        }
        for (name, description) in route.query {
            parameters.push(
                json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } }),
            );
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(body) = route.body {
            operation["requestBody"] = json!({ "required": body == "SubmitBody" || body == "PriorityBody" || body == "ValidateBody", "content": { "application/json": { "schema": schema_ref(body) } } });
        }
        if route.public {
            operation["security"] = json!([]);
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Crew Runner HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Run CrewAI-style crews as durable jobs on this machine. Every route but /v1/health needs `Authorization: Bearer TOKEN` (the token is in the data dir's http-token file). Errors are {kind, message}."
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas(),
        },
        "security": [{ "bearer": [] }],
    })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn responses(ok: (u16, &str), errors: &[u16], public: bool) -> Value {
    let mut out = Map::new();
    let content_type = if ok.1 == "EventStream" { "text/event-stream" } else { "application/json" };
    out.insert(ok.0.to_string(), json!({ "description": "success", "content": { content_type: { "schema": schema_ref(ok.1) } } }));
    let always: &[u16] = if public { &[403] } else { &[401, 403, 500] };
    for status in errors.iter().chain(always) {
        out.insert(
            status.to_string(),
            json!({ "description": "error", "content": { "application/json": { "schema": schema_ref("Error") } } }),
        );
    }
    Value::Object(out)
}

/// The named schemas the routes refer to.
fn schemas() -> Value {
    let object = |description: &str| json!({ "type": "object", "description": description });
    let string_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    let inputs = json!({ "type": "object", "additionalProperties": true });
    json!({
        "Error": {
            "type": "object", "required": ["kind", "message"],
            "properties": {
                "kind": { "type": "string", "enum": ["not_found", "invalid_argument", "invalid_crew", "missing_inputs", "model", "invalid_state", "idempotency_conflict", "unauthorized", "forbidden_host", "body_too_large", "method_not_allowed", "storage", "io", "stopped"] },
                "message": { "type": "string" }
            }
        },
        "SubmitBody": {
            "type": "object", "required": ["crew"], "additionalProperties": false,
            "properties": {
                "crew": { "type": "string", "description": "absolute path of the crew on the server's machine" },
                "inputs": inputs,
                "rows": { "type": "array", "minItems": 1, "items": inputs, "description": "a batch: one execution per row, merged over inputs" },
                "priority": { "type": "string", "enum": ["low", "normal", "high", "urgent"] },
                "timeout": { "oneOf": [{ "type": "number", "exclusiveMinimum": 0 }, { "type": "string", "description": "90s, 5m, 1h30m, …" }] },
                "max_attempts": { "type": "integer", "minimum": 1 },
                "max_abandons": { "type": "integer", "minimum": 1 },
                "meta": string_map,
                "model": { "type": "string" },
                "engine": { "type": "string", "enum": ["auto", "native", "crewai"] },
                "idempotency_key": { "type": "string", "maxLength": crate::app::MAX_KEY_LEN }
            }
        },
        "RetryBody": { "type": "object", "additionalProperties": false, "properties": { "from_task": { "type": "string" } } },
        "PriorityBody": {
            "type": "object", "required": ["priority"], "additionalProperties": false,
            "properties": { "priority": { "type": "string", "enum": ["low", "normal", "high", "urgent"] } }
        },
        "ValidateBody": {
            "type": "object", "required": ["crew"], "additionalProperties": false,
            "properties": { "crew": { "type": "string" }, "engine": { "type": "string", "enum": ["auto", "native", "crewai"] } }
        },
        "Health": { "type": "object", "properties": { "status": { "const": "ok" }, "version": { "type": "string" } } },
        "Submitted": {
            "type": "object",
            "properties": { "ids": { "type": "array", "items": { "type": "string" } }, "warnings": { "type": "array", "items": { "type": "string" } }, "replayed": { "type": "boolean" } }
        },
        "Execution": object("an execution: id, crew_name, crew_source, engine, crew_spec, inputs, priority, status (and its state's fields: output, error, …), attempt, progress, usage, meta, created_at, …"),
        "ExecutionPage": {
            "type": "object",
            "properties": { "executions": { "type": "array", "items": schema_ref("Execution") }, "next_before": { "type": ["string", "null"] } }
        },
        "Steps": object("{steps: [{step, agent, output, …}]}"),
        "LogPage": object("{entries: [log line: {execution_id, attempt, seq, at, kind, …}], next_after}"),
        "EventStream": { "type": "string", "description": "text/event-stream: events status, progress, log, end (or orphaned, error)" },
        "CancelOutcome": object("{id, outcome: cancelled | requested | already_finished, status?}"),
        "Rerun": object("{id, retry_of, reused_steps}"),
        "PriorityChange": object("{id, priority}"),
        "Queue": object("{settings: {paused, concurrency}, counts: {queued, running, retrying, succeeded, failed, cancelled}, halted}"),
        "QueueSettings": object("{paused, concurrency}"),
        "Validation": object("what `crew-runner validate --json` prints: {crew, required_inputs, warnings, engine, python_crew}"),
        "Object": { "type": "object" }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_and_every_reference_resolves() {
        let doc = document();
        for route in ROUTES {
            assert!(doc["paths"][route.path][route.method].is_object(), "{} {}", route.method, route.path);
        }
        let text = doc.to_string();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(doc["components"]["schemas"][&name].is_object(), "{name}");
        }
    }
}
