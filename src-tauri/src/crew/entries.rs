//! Reading one agent or one task (CrewAI's field names) into an [`AgentSpec`] / [`TaskSpec`].

use super::crewai_fields::CrewAiClass;
use super::diagnostic::Findings;
use super::document::Node;
use super::fields::{Fields, KeySet};
use super::mcp::read_mcps;
use super::origin::Origin;
use super::output_schema::OutputSchema;
use super::tools::{lookup, ToolLookup};
use super::{AgentSpec, LlmSettings, TaskSpec, ToolUse};

/// CrewAI's default `max_iter`.
pub const DEFAULT_MAX_ITER: u32 = 25;

/// CrewAI's default `guardrail_max_retries`.
pub(crate) const DEFAULT_GUARDRAIL_MAX_RETRIES: u32 = 3;

/// Reads the agent `key` from `fields`. `extra_known` are keys the format itself uses there (the
/// `name`/`key`/`id` of list items). Tools are mapped to canonical names (see [`canonical_tools`]).
pub(crate) fn read_agent(key: &str, fields: &Fields, extra_known: &[&str], findings: &mut Findings) -> AgentSpec {
    // `embedder_config`: an agent field of older CrewAI versions.
    let (known, unsupported) = CrewAiClass::Agent.yaml_keys(&["embedder_config"]);
    check_keys(fields, &known, &unsupported, extra_known, findings);
    let tools = fields.string_list("tools", findings).unwrap_or_default();
    AgentSpec {
        key: key.to_string(),
        role: fields.required_string("role", findings),
        goal: fields.required_string("goal", findings),
        backstory: fields.required_string("backstory", findings),
        llm: read_llm(fields, findings),
        llm_settings: read_llm_settings(fields, findings),
        tools: canonical_tools(&tools, &fields.origin, findings),
        mcps: read_mcps(fields, findings),
        allow_delegation: fields.bool("allow_delegation", findings).unwrap_or(false),
        respect_context_window: fields.bool("respect_context_window", findings).unwrap_or(true),
        max_iter: fields.uint("max_iter", findings).unwrap_or(DEFAULT_MAX_ITER),
        max_execution_time: fields.uint("max_execution_time", findings),
        max_rpm: fields.uint("max_rpm", findings),
    }
}

/// Reads the task `key` from `fields`; `context` is `None` when the field is absent.
pub(crate) fn read_task(key: &str, fields: &Fields, extra_known: &[&str], findings: &mut Findings) -> TaskSpec {
    let (mut known, unsupported) = CrewAiClass::Task.yaml_keys(&[]);
    // Our extension: the output's JSON Schema written inline.
    known.push("output_schema");
    check_keys(fields, &known, &unsupported, extra_known, findings);
    let tools = fields.string_list("tools", findings).unwrap_or_default();
    TaskSpec {
        key: key.to_string(),
        description: fields.required_string("description", findings),
        expected_output: read_expected_output(fields, findings),
        agent: fields.string("agent", findings).map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
        context: fields.string_list("context", findings),
        async_execution: fields.bool("async_execution", findings).unwrap_or(false),
        human_input: fields.bool("human_input", findings).unwrap_or(false),
        output_file: fields.string("output_file", findings).map(|f| f.trim().to_string()).filter(|f| !f.is_empty()),
        output_json: read_output_json(fields, findings),
        output_schema: read_output_schema(fields, findings),
        guardrail: read_guardrail(fields, findings),
        guardrail_max_retries: fields.uint("guardrail_max_retries", findings).unwrap_or(DEFAULT_GUARDRAIL_MAX_RETRIES),
        tools: canonical_tools(&tools, &fields.origin, findings),
    }
}

/// `expected_output`: required, but empty (`''`, as CrewAI accepts) only warns.
fn read_expected_output(fields: &Fields, findings: &mut Findings) -> String {
    match fields.get("expected_output") {
        Some(Node::String(s)) if s.trim().is_empty() => {
            findings.warn(fields.origin.at("expected_output", "empty; the agent is told nothing about the expected output"));
            String::new()
        }
        _ => fields.required_string("expected_output", findings),
    }
}

fn check_keys(fields: &Fields, known: &[&str], unsupported: &[&str], extra: &[&str], findings: &mut Findings) {
    let all: Vec<&str> = known.iter().chain(extra).copied().collect();
    fields.check_keys(&KeySet { known: &all, unsupported }, findings);
}

/// `llm: "openai/gpt-4o"`, or a mapping with a `model` (its settings: [`read_llm_settings`]).
fn read_llm(fields: &Fields, findings: &mut Findings) -> Option<String> {
    read_model_at(fields, "llm", findings)
}

/// The settings of an agent's `llm:` mapping (see [`read_llm_settings_at`]).
fn read_llm_settings(fields: &Fields, findings: &mut Findings) -> LlmSettings {
    read_llm_settings_at(fields, "llm", findings)
}

/// The model of the field `key` (`llm`, `manager_llm`): a text (`"openai/gpt-4o"`), or a mapping
/// with a `model` text (its other settings: [`read_llm_settings_at`]).
pub(crate) fn read_model_at(fields: &Fields, key: &str, findings: &mut Findings) -> Option<String> {
    match fields.get(key)? {
        Node::Map(_) => match fields.get(key).and_then(|m| m.get("model")) {
            Some(Node::String(m)) if !m.trim().is_empty() => Some(m.trim().to_string()),
            _ => {
                findings.error(fields.origin.at(key, "an LLM mapping needs a `model` text"));
                None
            }
        },
        _ => fields.string(key, findings).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
    }
}

/// The settings of the LLM mapping in the field `field` (`llm`, `manager_llm`): `temperature`,
/// `max_tokens`, `base_url` (or `api_base`), `api_key_env`; any other key is warned and ignored.
/// A text (a bare model name) has none.
pub(crate) fn read_llm_settings_at(fields: &Fields, field: &str, findings: &mut Findings) -> LlmSettings {
    let Some(Node::Map(entries)) = fields.get(field) else {
        return LlmSettings::default();
    };
    let mut out = LlmSettings::default();
    for (key, value) in entries {
        let at = format!("{field}.{key}");
        match (key.as_str(), value) {
            ("model", _) | (_, Node::Null) => {}
            ("temperature", Node::Number(n)) => out.temperature = n.as_f64().map(|t| t as f32),
            ("max_tokens", Node::Number(n)) if n.as_u64().is_some() => out.max_tokens = n.as_u64().and_then(|t| u32::try_from(t).ok()),
            ("base_url" | "api_base", Node::String(b)) => out.base_url = Some(b.trim().to_string()).filter(|b| !b.is_empty()),
            ("api_key_env", Node::String(v)) => out.api_key_env = Some(v.trim().to_string()).filter(|v| !v.is_empty()),
            ("temperature" | "max_tokens" | "base_url" | "api_base" | "api_key_env", other) => {
                findings.error(fields.origin.at(&at, format!("unexpected {}", other.kind())))
            }
            ("api_key", _) => {
                findings.warn(fields.origin.at(&at, "a key written in the crew is not used; name its variable with `api_key_env`"))
            }
            _ => findings.warn(fields.origin.at(&at, format!("LLM setting `{key}` is not supported by the native engine; ignored"))),
        }
    }
    out
}

/// `output_json: true`, or a model (class) name in `output_json`/`output_pydantic` as in CrewAI:
/// the output must be JSON. The class is looked up by [`output_model`] (the project's loader
/// turns it into `output_schema`).
fn read_output_json(fields: &Fields, findings: &mut Findings) -> bool {
    if output_model(fields).is_some() {
        return true;
    }
    match fields.get("output_json") {
        Some(Node::String(_)) => false,
        _ => fields.bool("output_json", findings).unwrap_or(false),
    }
}

/// The model class a task's `output_json` or `output_pydantic` names, with the field naming it.
pub(crate) fn output_model(fields: &Fields) -> Option<(&'static str, String)> {
    ["output_pydantic", "output_json"].into_iter().find_map(|key| match fields.get(key) {
        Some(Node::String(s)) if !s.trim().is_empty() => Some((key, s.trim().to_string())),
        _ => None,
    })
}

/// `output_schema: {JSON Schema}` (our extension): a mapping that compiles as a JSON Schema, else
/// an error on the field saying why.
fn read_output_schema(fields: &Fields, findings: &mut Findings) -> Option<serde_json::Value> {
    let node = fields.get("output_schema")?;
    let schema = node.to_json();
    match OutputSchema::compile(&schema) {
        Ok(_) => Some(schema),
        Err(e) => {
            findings.error(fields.origin.at("output_schema", e.to_string()));
            None
        }
    }
}

/// `guardrail: "text"` (judged by the LLM). Anything else (CrewAI's function guardrails are
/// Python callables, which a YAML file cannot hold) is an error; empty text means none.
fn read_guardrail(fields: &Fields, findings: &mut Findings) -> Option<String> {
    match fields.get("guardrail")? {
        Node::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        other => {
            let kind = other.kind();
            findings.error(fields.origin.at(
                "guardrail",
                format!("expected the guardrail as text (judged by the LLM), found {kind}; a function guardrail needs the CrewAI engine"),
            ));
            None
        }
    }
}

/// Our canonical names for `names` (in order, each once). Network tools are dropped with a warning
/// naming them; unknown names are kept as written (they may be the crew's `command_tools`, which
/// [`check`](super::check) knows; it drops the others with a warning).
pub(crate) fn canonical_tools(names: &[String], origin: &Origin, findings: &mut Findings) -> Vec<ToolUse> {
    let uses: Vec<ToolUse> = names.iter().map(|n| ToolUse::named(n.as_str())).collect();
    canonical_tool_uses(&uses, |i, message| findings.warn(origin.at(&format!("tools[{i}]"), message)))
}

/// [`canonical_tools`] for tools written with constructor arguments (`FileReadTool(file_path=…)`):
/// each keeps its arguments under its canonical name. `crewai_tools:X` and `crewai_tools.X` name
/// the class `X`. `warn` gets the index and the reason of each tool dropped.
pub(crate) fn canonical_tool_uses(uses: &[ToolUse], mut warn: impl FnMut(usize, String)) -> Vec<ToolUse> {
    let mut out: Vec<ToolUse> = Vec::new();
    for (i, tool) in uses.iter().enumerate() {
        let bare = tool.name.trim();
        let bare = bare.strip_prefix("crewai_tools:").or_else(|| bare.strip_prefix("crewai_tools.")).unwrap_or(bare);
        match lookup(bare) {
            ToolLookup::Known(c) => {
                if !out.iter().any(|t| t.name == c) {
                    out.push(ToolUse { name: c.to_string(), args: tool.args.clone() });
                }
            }
            ToolLookup::Network(n) => warn(i, format!("tool `{n}` needs the network; not available, dropped")),
            // Kept: it may name one of the crew's command tools; `check` drops the others, warning.
            ToolLookup::Unknown => {
                if !out.iter().any(|t| t.name == bare) {
                    out.push(ToolUse { name: bare.to_string(), args: tool.args.clone() });
                }
            }
        }
    }
    out
}
