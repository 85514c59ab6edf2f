//! Every response the HTTP tests receive is checked against the server's own
//! `/v1/openapi.json`: its status must be one the document lists for the route, and a JSON body
//! must validate against the schema given for that status, with every named object schema closed
//! (`unevaluatedProperties: false`) so a field the document does not name fails too. Requests to
//! no route or with a method the route does not have (the 404 and 405 fallbacks) are not checked.
//! Events of an event stream must be ones the document lists (`x-events`), their data matching
//! the schema given for their name.

use std::sync::OnceLock;

use serde_json::{json, Value};

use super::{Api, Request, Response, SseEvent};

/// The document, fetched once (every server the tests start serves the same one).
static DOCUMENT: OnceLock<Value> = OnceLock::new();

/// Panics when `response` to `request` does not match the document (see the module docs).
pub fn check(api: &Api, request: &Request<'_>, response: &Response) {
    let path = request.path.split('?').next().unwrap_or_default();
    let method = request.method.to_ascii_lowercase();
    let Some(doc) = document(api) else { return };
    let Some((_, item)) = doc["paths"].as_object().unwrap().iter().find(|(template, _)| matches(template, path)) else { return };
    let Some(operation) = item.get(&method) else { return };
    let Some(documented) = operation["responses"].get(response.status.to_string()) else {
        panic!("{method} {path} answered {}, which /v1/openapi.json does not list: {}", response.status, response.body)
    };
    let schema = &documented["content"]["application/json"]["schema"];
    if schema.is_null() {
        return;
    }
    let body: Value = serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", response.body));
    matches_schema(doc, schema, &body, &format!("{method} {path} {}", response.status));
}

/// The event schemas of an event stream route, from the document.
pub struct Events {
    doc: &'static Value,
    /// Event name → the schema of its data.
    schemas: Value,
}

/// The event schemas of `GET path`, or `None` while the document cannot be read with `api`.
pub fn events(api: &Api, path: &str) -> Option<Events> {
    let doc = document(api)?;
    let path = path.split('?').next().unwrap_or_default();
    let (_, item) = doc["paths"].as_object().unwrap().iter().find(|(template, _)| matches(template, path))?;
    let schemas = item["get"]["responses"]["200"]["content"]["text/event-stream"]["x-events"].clone();
    assert!(schemas.is_object(), "GET {path}: no x-events in /v1/openapi.json");
    Some(Events { doc, schemas })
}

impl Events {
    /// Panics when `event` is not listed or its data does not match its schema.
    pub fn check(&self, event: &SseEvent) {
        let schema = self.schemas.get(&event.event).unwrap_or_else(|| panic!("event `{}` is not in /v1/openapi.json", event.event));
        matches_schema(self.doc, schema, &event.json(), &format!("event `{}`", event.event));
    }
}

/// Panics when `value` does not match `schema` (of `doc`), every named schema closed.
fn matches_schema(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let validator = jsonschema::draft202012::new(&json!({ "allOf": [schema], "components": closed(&doc["components"]) }))
        .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: does not match /v1/openapi.json: {errors:#?}\n{value:#}");
}

/// The document, or `None` while it cannot be read with `api` (a wrong token).
fn document(api: &Api) -> Option<&'static Value> {
    if let Some(doc) = DOCUMENT.get() {
        return Some(doc);
    }
    let response = api.exchange(&api.request("GET", "/v1/openapi.json", None));
    (response.status == 200).then(|| DOCUMENT.get_or_init(|| response.json()))
}

/// `components` with every named object schema closed.
fn closed(components: &Value) -> Value {
    let mut components = components.clone();
    for named in components["schemas"].as_object_mut().unwrap().values_mut().filter_map(Value::as_object_mut) {
        if named.contains_key("properties") && !named.contains_key("additionalProperties") {
            named.entry("unevaluatedProperties").or_insert(Value::Bool(false));
        }
    }
    components
}

/// Whether `path` is an instance of the document's path `template` (`{id}` matches any segment).
fn matches(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len() && template.iter().zip(&path).all(|(t, p)| t.starts_with('{') || t == p)
}
