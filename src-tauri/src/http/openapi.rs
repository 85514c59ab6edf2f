//! The OpenAPI 3.1 document of `GET /v1/openapi.json`: the paths from the route table
//! ([`ROUTES`]), every request and response body's schema derived from the Rust type the handler
//! reads or serialises (`schemars`, JSON Schema 2020-12 as OpenAPI 3.1 uses it), under
//! `components/schemas`.

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::routes::{Reply, SchemaFn, ROUTES};

/// Where the generators put named schemas, and so what every `$ref` points into.
const COMPONENTS: &str = "/components/schemas";

/// The document (see the module docs).
pub fn document() -> Value {
    // Request bodies are described as they are read (a field with a default is optional), responses
    // as they are written (a field skipped when empty is optional).
    let mut requests = generator(SchemaSettings::draft2020_12().for_deserialize());
    let mut replies = generator(SchemaSettings::draft2020_12().for_serialize());
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method, route.path.replace(['/', '.', '{', '}'], "_")),
            "responses": responses(route.ok, route.errors, route.public, &mut replies),
        });
        let mut parameters: Vec<Value> = Vec::new();
        if route.path.contains("{id}") {
            parameters.push(json!({ "name": "id", "in": "path", "required": true, "description": "the execution id (a ULID)", "schema": { "type": "string" } }));
        }
        if route.path.contains("{call}") {
            parameters.push(json!({ "name": "call", "in": "path", "required": true, "description": "the LLM call's number (a trace span's `call`)", "schema": { "type": "integer", "minimum": 1 } }));
        }
        if route.path.contains("{other}") {
            parameters.push(json!({ "name": "other", "in": "path", "required": true, "description": "the execution compared with `id` (a ULID)", "schema": { "type": "string" } }));
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
            let schema = body(&mut requests).to_value();
            // An empty body reads as `{}`: it may be left out when no field is required.
            let required = resolve(&schema, requests.definitions())["required"].as_array().is_some_and(|r| !r.is_empty());
            operation["requestBody"] = json!({ "required": required, "content": { "application/json": { "schema": schema } } });
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
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": components(requests, replies),
        },
        "security": [{ "bearer": [] }],
    })
}

/// A generator of `settings` whose named schemas go under [`COMPONENTS`].
fn generator(settings: SchemaSettings) -> SchemaGenerator {
    settings
        .with(|s| {
            s.definitions_path = COMPONENTS.into();
            s.meta_schema = None;
        })
        .into_generator()
}

/// `schema`, or the named schema it refers to.
fn resolve<'a>(schema: &'a Value, definitions: &'a Map<String, Value>) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix(&format!("#{COMPONENTS}/"))) {
        Some(name) => &definitions[name],
        None => schema,
    }
}

/// The named schemas of both generators, by name. A type both read and written must have the
/// same schema either way (debug builds assert it, and the tests build the document); the
/// response's is kept.
fn components(mut requests: SchemaGenerator, mut replies: SchemaGenerator) -> Map<String, Value> {
    let mut schemas = replies.take_definitions(true);
    for (name, schema) in requests.take_definitions(true) {
        match schemas.get(&name) {
            Some(written) => debug_assert_eq!(written, &schema, "`{name}` is read and written with different schemas"),
            None => {
                schemas.insert(name, schema);
            }
        }
    }
    schemas.sort_keys();
    schemas
}

/// The `responses` of an operation: `ok`'s statuses with its body, `errors` and the statuses any
/// route may answer (401, 403, 500; 403 alone for a public one) with [`ApiError`]'s.
fn responses(ok: (&[u16], Reply), errors: &[u16], public: bool, replies: &mut SchemaGenerator) -> Value {
    let mut out = Map::new();
    let content = match ok.1 {
        Reply::Json(schema) => json!({ "application/json": { "schema": body(schema, replies) } }),
        Reply::EventStream(events) => {
            let data: Map<String, Value> = events.iter().map(|(name, schema)| (name.to_string(), body(*schema, replies))).collect();
            json!({ "text/event-stream": {
                "schema": {
                    "type": "string",
                    "description": "Server-Sent Events: status, progress, log (id: its seq), then end (or orphaned, error); `x-events` gives each event's data schema"
                },
                "x-events": data,
            } })
        }
    };
    for status in ok.0 {
        out.insert(status.to_string(), json!({ "description": "success", "content": content }));
    }
    let always: &[u16] = if public { &[403] } else { &[401, 403, 500] };
    let error = body(SchemaGenerator::subschema_for::<ApiError>, replies);
    for status in errors.iter().chain(always) {
        out.insert(status.to_string(), json!({ "description": "error", "content": { "application/json": { "schema": error } } }));
    }
    Value::Object(out)
}

/// The schema `schema` makes with `generator` (a `$ref` to a schema it records), as JSON.
fn body(schema: SchemaFn, generator: &mut SchemaGenerator) -> Value {
    Schema::to_value(schema(generator))
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
        let references = text.split("\"$ref\":\"").skip(1).map(|r| r.split('"').next().unwrap()).collect::<Vec<_>>();
        assert!(references.len() > 20, "{references:?}");
        for reference in references {
            let name = reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{reference}"));
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_json_schema_2020_12_schemas() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in ["Execution", "ExecutionRow", "LogPage", "Cancelled", "Validation", "QueueView", "Error", "SubmitBody"] {
            assert!(schemas.contains_key(name), "{name} missing: {:?}", schemas.keys().collect::<Vec<_>>());
        }
        for (name, schema) in schemas {
            assert!(jsonschema::meta::is_valid(schema), "{name} is no JSON Schema 2020-12: {schema:#}");
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            assert!(path.starts_with("/v1/"), "{path}");
            for (method, operation) in item.as_object().unwrap() {
                assert!(["get", "post", "put"].contains(&method.as_str()), "{method} {path}");
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success");
                for response in responses.values() {
                    assert!(response["description"].is_string() && response["content"].is_object(), "{method} {path}");
                }
            }
        }
        // Bodies with a required field must be sent; `retry`'s may be left out.
        assert_eq!(doc["paths"]["/v1/executions"]["post"]["requestBody"]["required"], true);
        assert_eq!(doc["paths"]["/v1/executions/{id}/retry"]["post"]["requestBody"]["required"], false);
    }
}
