//! Every response the HTTP tests receive is checked against the server's own
//! `/v1/openapi.json`: its status must be one the document lists for the route, and a JSON body
//! must validate against the schema given for that status, with every named object schema closed
//! (`unevaluatedProperties: false`) so a field the document does not name fails too. Requests to
//! no route or with a method the route does not have (the 404 and 405 fallbacks) are not checked.

use std::sync::OnceLock;

use serde_json::{json, Value};

use super::{Api, Request, Response};

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
    let validator = jsonschema::draft202012::new(&json!({ "allOf": [schema], "components": closed(&doc["components"]) }))
        .unwrap_or_else(|e| panic!("{method} {path}: the schema does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} {}: the body does not match /v1/openapi.json: {errors:#?}\n{body:#}", response.status);
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
