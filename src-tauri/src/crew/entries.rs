//! Reading one agent or one task (CrewAI's field names) into an [`AgentSpec`] / [`TaskSpec`].

use super::diagnostic::Findings;
use super::document::Node;
use super::fields::{Fields, KeySet};
use super::mcp::read_mcps;
use super::origin::Origin;
use super::output_schema::OutputSchema;
use super::tools::{lookup, ToolLookup};
use super::{AgentSpec, TaskSpec, ToolUse};

/// CrewAI's default `max_iter`.
pub const DEFAULT_MAX_ITER: u32 = 25;

/// CrewAI's default `guardrail_max_retries`.
const DEFAULT_GUARDRAIL_MAX_RETRIES: u32 = 3;

const AGENT_KNOWN: &[&str] =
    &["role", "goal", "backstory", "llm", "tools", "allow_delegation", "max_iter", "max_execution_time", "max_rpm", "verbose", "mcps"];

const AGENT_UNSUPPORTED: &[&str] = &[
    "memory",
    "knowledge",
    "knowledge_sources",
    "knowledge_config",
    "embedder",
    "embedder_config",
    "function_calling_llm",
    "step_callback",
    "callbacks",
    "cache",
    "system_template",
    "prompt_template",
    "response_template",
    "allow_code_execution",
    "code_execution_mode",
    "max_retry_limit",
    "respect_context_window",
    "use_system_prompt",
    "multimodal",
    "inject_date",
    "date_format",
    "reasoning",
    "max_reasoning_attempts",
    "guardrail",
    "max_tokens",
    "config",
    "apps",
];

const TASK_KNOWN: &[&str] = &[
    "description",
    "expected_output",
    "agent",
    "context",
    "async_execution",
    "output_file",
    "output_json",
    "output_schema",
    "guardrail",
    "guardrail_max_retries",
    "tools",
    "name",
];

const TASK_UNSUPPORTED: &[&str] = &[
    "output_pydantic",
    "guardrails",
    "max_retries",
    "callback",
    "human_input",
    "converter_cls",
    "create_directory",
    "markdown",
    "config",
    "input_files",
    "response_model",
];

/// Reads the agent `key` from `fields`. `extra_known` are keys the format itself uses there (the
/// `name`/`key`/`id` of list items). Tools are mapped to canonical names (see [`canonical_tools`]).
pub(crate) fn read_agent(key: &str, fields: &Fields, extra_known: &[&str], findings: &mut Findings) -> AgentSpec {
    check_keys(fields, AGENT_KNOWN, AGENT_UNSUPPORTED, extra_known, findings);
    let tools = fields.string_list("tools", findings).unwrap_or_default();
    AgentSpec {
        key: key.to_string(),
        role: fields.required_string("role", findings),
        goal: fields.required_string("goal", findings),
        backstory: fields.required_string("backstory", findings),
        llm: read_llm(fields, findings),
        tools: canonical_tools(&tools, &fields.origin, findings),
        mcps: read_mcps(fields, findings),
        allow_delegation: fields.bool("allow_delegation", findings).unwrap_or(false),
        max_iter: fields.uint("max_iter", findings).unwrap_or(DEFAULT_MAX_ITER),
        max_execution_time: fields.uint("max_execution_time", findings),
        max_rpm: fields.uint("max_rpm", findings),
    }
}

/// Reads the task `key` from `fields`; `context` is `None` when the field is absent.
pub(crate) fn read_task(key: &str, fields: &Fields, extra_known: &[&str], findings: &mut Findings) -> TaskSpec {
    check_keys(fields, TASK_KNOWN, TASK_UNSUPPORTED, extra_known, findings);
    let tools = fields.string_list("tools", findings).unwrap_or_default();
    TaskSpec {
        key: key.to_string(),
        description: fields.required_string("description", findings),
        expected_output: fields.required_string("expected_output", findings),
        agent: fields.string("agent", findings).map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
        context: fields.string_list("context", findings),
        async_execution: fields.bool("async_execution", findings).unwrap_or(false),
        output_file: fields.string("output_file", findings).map(|f| f.trim().to_string()).filter(|f| !f.is_empty()),
        output_json: read_output_json(fields, findings),
        output_schema: read_output_schema(fields, findings),
        guardrail: read_guardrail(fields, findings),
        guardrail_max_retries: fields.uint("guardrail_max_retries", findings).unwrap_or(DEFAULT_GUARDRAIL_MAX_RETRIES),
        tools: canonical_tools(&tools, &fields.origin, findings),
    }
}

fn check_keys(fields: &Fields, known: &[&str], unsupported: &[&str], extra: &[&str], findings: &mut Findings) {
    let all: Vec<&str> = known.iter().chain(extra).copied().collect();
    fields.check_keys(&KeySet { known: &all, unsupported }, findings);
}

/// `llm: "openai/gpt-4o"`, or a mapping with a `model` (its other settings are ignored, warned).
fn read_llm(fields: &Fields, findings: &mut Findings) -> Option<String> {
    match fields.get("llm")? {
        Node::Map(_) => {
            let model = fields.get("llm").and_then(|m| m.get("model"));
            match model {
                Some(Node::String(m)) if !m.trim().is_empty() => {
                    findings.warn(fields.origin.at("llm", "only the `model` of an LLM mapping is used; its other settings are ignored"));
                    Some(m.trim().to_string())
                }
                _ => {
                    findings.error(fields.origin.at("llm", "an LLM mapping needs a `model` text"));
                    None
                }
            }
        }
        _ => fields.string("llm", findings).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
    }
}

/// `output_json: true`, or a schema (class) name as in CrewAI, which we read as "the output must be
/// JSON" (warned: the schema itself is not checked).
fn read_output_json(fields: &Fields, findings: &mut Findings) -> bool {
    match fields.get("output_json") {
        Some(Node::String(s)) if !s.trim().is_empty() => {
            findings.warn(fields.origin.at("output_json", format!("schema `{}` is not checked; the output only has to be JSON", s.trim())));
            true
        }
        Some(Node::String(_)) => false,
        _ => fields.bool("output_json", findings).unwrap_or(false),
    }
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
    let mut out: Vec<ToolUse> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let at = format!("tools[{i}]");
        match lookup(name) {
            ToolLookup::Known(c) => {
                if !out.iter().any(|t| t.name == c) {
                    out.push(ToolUse::named(c));
                }
            }
            ToolLookup::Network(n) => findings.warn(origin.at(&at, format!("tool `{n}` needs the network; not available, dropped"))),
            ToolLookup::Unknown => {
                let name = name.trim();
                if !out.iter().any(|t| t.name == name) {
                    out.push(ToolUse::named(name));
                }
            }
        }
    }
    out
}
