//! The offline model: deterministic, plausible answers with no network.
//!
//! It reads the task back out of the engine's prompt ([`parse_task_prompt`]) and answers from the
//! description and the expected output: "a list of five findings" gives five bullet points, an
//! expected output that mentions JSON gives a JSON object, anything else a short markdown answer
//! that names the task's key words. Variation comes from a hash of the prompt, so the same
//! prompt always gets the same answer.
//!
//! It drives tools so every engine feature runs offline:
//! - offered `delegate_work_to_coworker` (a hierarchical manager): it delegates the task to the
//!   coworker whose role best overlaps the task's words, then answers with the coworker's result;
//! - asked to list a folder / read a file (named in the task) with `list_directory` / `read_file`
//!   offered: it calls them first and uses what they return;
//! - asked to write or save a file (a name such as `notes.md` in the task) with `write_file`
//!   offered: it writes its answer there, then gives the answer;
//! - any other offered tool the task's description names ("search with SerperDevTool", an MCP
//!   tool's name): it calls it once, arguments drawn from the schema and the task's text
//!   ([`named_tool_call`]), and its answer quotes the first lines of each result.
//!
//! A request with a JSON Schema (a structured task) gets a JSON object shaped like it
//! ([`example_of`]); a guardrail judge's question always gets a pass (`{"valid": true}`).
//!
//! With no tools offered it answers in CrewAI's ReAct form (`Thought: …\nFinal Answer: …`).
//! Usage is estimated (4 characters a token) at cost 0. Replies stream in chunks when asked.
//! `CREW_RUNNER_OFFLINE_DELAY_MS` (read once by [`OfflineModel::new`]) makes each call wait that
//! long first (cancellable: dropping the future ends the wait).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::offline_tool_choice::named_tool_call;
use super::schema_example::example_of;
use super::types::{ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, Role, TokenSink, ToolCall};
use crate::engine::prompts::{parse_task_prompt, TaskPrompt, FORCE_FINAL_ANSWER, GUARDRAIL_QUERY_START, OBSERVATION};
use crate::engine::tools::{ASK_QUESTION, DELEGATE_WORK};
use crate::execution::{BoxFuture, Usage};

/// Environment variable: milliseconds each offline call waits before answering.
const OFFLINE_DELAY_ENV: &str = "CREW_RUNNER_OFFLINE_DELAY_MS";

/// Where the delegation task text carries the expected output (the coworker's prompt only has
/// CrewAI's generic expected output).
const DELEGATED_EXPECTED: &str = "\n\nExpected output: ";

/// A deterministic model that needs no network.
#[derive(Clone, Debug, Default)]
pub struct OfflineModel {
    delay: Option<Duration>,
}

impl OfflineModel {
    /// The offline model, waiting `CREW_RUNNER_OFFLINE_DELAY_MS` per call when that is set.
    pub fn new() -> Self {
        let delay = std::env::var(OFFLINE_DELAY_ENV).ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|ms| *ms > 0);
        OfflineModel { delay: delay.map(Duration::from_millis) }
    }

    /// The offline model with an explicit per-call delay (`None` = answer at once).
    pub fn with_delay(delay: Option<Duration>) -> Self {
        OfflineModel { delay }
    }
}

impl ChatModel for OfflineModel {
    fn chat(&self, request: ChatRequest, sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
        let delay = self.delay;
        Box::pin(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let reply = respond(&request);
            if request.stream {
                if let Some(sink) = sink {
                    for chunk in chunks(&reply.content, 24) {
                        sink(chunk);
                    }
                }
            }
            Ok(reply)
        })
    }

    fn name(&self) -> String {
        "offline".into()
    }
}

/// The whole reply for a request: pure and deterministic.
fn respond(request: &ChatRequest) -> ChatResponse {
    let task = request.messages.iter().filter(|m| m.role == Role::User).find_map(|m| parse_task_prompt(&m.content)).unwrap_or_else(|| {
        TaskPrompt {
            description: request.messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.clone()).unwrap_or_default(),
            expected_output: String::new(),
            context: String::new(),
        }
    });
    let task = unfold_delegated(task);
    let observations = observations(&request.messages);
    let forced = request.messages.last().is_some_and(|m| m.role == Role::User && m.content == FORCE_FINAL_ANSWER);
    let offered: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();

    if !forced && !offered.is_empty() {
        if let Some(call) = next_tool_call(request, &task, &observations) {
            let n = request.messages.iter().filter(|m| m.role == Role::Tool).count() + 1;
            let call = ToolCall { id: format!("call_offline_{n}"), name: call.0, arguments: call.1.to_string() };
            let usage = usage(&request.messages, &call.arguments);
            return ChatResponse {
                content: String::new(),
                tool_calls: vec![call],
                usage,
                finish_reason: Some("tool_calls".into()),
                model: "offline".into(),
            };
        }
    }

    let answer = structured_answer(request, &task).unwrap_or_else(|| final_answer(&task, &observations));
    let content = if request.tools.is_empty() { format!("Thought: I now can give a great answer\nFinal Answer: {answer}") } else { answer };
    let usage = usage(&request.messages, &content);
    ChatResponse { content, tool_calls: vec![], usage, finish_reason: Some("stop".into()), model: "offline".into() }
}

/// A guardrail judge's verdict (always a pass), or, when the request carries a schema, a JSON
/// object shaped like it with strings from the task's key words; `None` for a free-text answer.
fn structured_answer(request: &ChatRequest, task: &TaskPrompt) -> Option<String> {
    if task.description.starts_with(GUARDRAIL_QUERY_START) {
        return Some(json!({"valid": true, "feedback": null}).to_string());
    }
    let format = request.response_format.as_ref()?;
    let words = key_words_ranked(&task.description, "", 6);
    Some(example_of(&format.schema, &words).to_string())
}

/// A delegated task carries its real expected output inside the description; use it.
fn unfold_delegated(mut task: TaskPrompt) -> TaskPrompt {
    if let Some(i) = task.description.find(DELEGATED_EXPECTED) {
        let expected = task.description[i + DELEGATED_EXPECTED.len()..].trim().to_string();
        task.description.truncate(i);
        task.expected_output = expected;
    }
    task
}

/// A tool result the model has seen: which tool (when known) and what it returned.
struct Observation {
    tool: String,
    arguments: serde_json::Value,
    output: String,
}

/// Every tool result in the conversation: native (`Role::Tool`, matched to its call) or ReAct
/// (`Observation: …` after an `Action:`).
fn observations(messages: &[ChatMessage]) -> Vec<Observation> {
    let mut calls: HashMap<&str, &ToolCall> = HashMap::new();
    let mut last_action: Option<(String, serde_json::Value)> = None;
    let mut out = Vec::new();
    for m in messages {
        match m.role {
            Role::Assistant => {
                for c in &m.tool_calls {
                    calls.insert(c.id.as_str(), c);
                }
                if let Some(i) = m.content.find("Action:") {
                    let rest = &m.content[i + "Action:".len()..];
                    let tool = rest.lines().next().unwrap_or("").trim().to_string();
                    let args = m
                        .content
                        .find("Action Input:")
                        .and_then(|j| serde_json::from_str(m.content[j + "Action Input:".len()..].trim()).ok())
                        .unwrap_or(serde_json::Value::Null);
                    last_action = Some((tool, args));
                }
            }
            Role::Tool => {
                let call = m.tool_call_id.as_deref().and_then(|id| calls.get(id));
                out.push(Observation {
                    tool: call.map(|c| c.name.clone()).unwrap_or_default(),
                    arguments: call.and_then(|c| serde_json::from_str(&c.arguments).ok()).unwrap_or(serde_json::Value::Null),
                    output: m.content.clone(),
                });
            }
            Role::User if m.content.starts_with(OBSERVATION) => {
                let (tool, arguments) = last_action.take().unwrap_or_default();
                out.push(Observation { tool, arguments, output: m.content[OBSERVATION.len()..].to_string() });
            }
            _ => {}
        }
    }
    out
}

/// The next tool to call, if the task still needs one: delegate (manager), else list, read, write.
fn next_tool_call(request: &ChatRequest, task: &TaskPrompt, seen: &[Observation]) -> Option<(String, serde_json::Value)> {
    let offered = |name: &str| request.tools.iter().find(|t| t.name == name);
    let used = |name: &str| seen.iter().any(|o| o.tool == name);
    let text = format!("{}\n{}", task.description, task.expected_output);
    let lower = text.to_lowercase();

    if let Some(tool) = offered(DELEGATE_WORK) {
        if used(DELEGATE_WORK) || used(ASK_QUESTION) {
            return None;
        }
        let roles: Vec<String> = tool.parameters["properties"]["coworker"]["enum"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let coworker = best_coworker(&text, &roles)?;
        return Some((
            DELEGATE_WORK.to_string(),
            json!({
                "task": format!("{}{DELEGATED_EXPECTED}{}", task.description.trim(), task.expected_output.trim()),
                "context": task.context,
                "coworker": coworker,
            }),
        ));
    }
    let file = file_name_in(&task.description).or_else(|| file_name_in(&task.expected_output));
    if offered("list_directory").is_some() && !used("list_directory") && asks_to_list(&lower) {
        let path = folder_name_in(&task.description).unwrap_or_else(|| ".".into());
        return Some(("list_directory".into(), json!({"path": path})));
    }
    if let Some(file) = &file {
        if offered("read_file").is_some() && !used("read_file") && asks_to_read(&lower) {
            return Some(("read_file".into(), json!({"path": file})));
        }
        if offered("write_file").is_some() && !used("write_file") && asks_to_write(&lower) {
            let content = compose(task, seen, prompt_seed(task));
            return Some(("write_file".into(), json!({"path": file, "content": content, "overwrite": true})));
        }
    }
    named_tool_call(&request.tools, &task.description, used)
}

/// The final answer: a manager passes on its coworker's reviewed result; others compose.
fn final_answer(task: &TaskPrompt, seen: &[Observation]) -> String {
    if let Some(o) = seen.iter().rev().find(|o| (o.tool == DELEGATE_WORK || o.tool == ASK_QUESTION) && !o.output.starts_with("Error:")) {
        let result = o.output.trim();
        if wants_json(&task.expected_output) || serde_json::from_str::<serde_json::Value>(strip_fence(result)).is_ok() {
            return strip_fence(result).to_string();
        }
        let who = o.arguments["coworker"].as_str().unwrap_or("the team");
        return format!("{result}\n\n_Reviewed: the work from {who} meets the expected output._");
    }
    let mut answer = compose(task, seen, prompt_seed(task));
    if !wants_json(&task.expected_output) {
        if let Some(w) = seen.iter().find(|o| o.tool == "write_file" && !o.output.starts_with("Error:")) {
            if let Some(path) = w.arguments["path"].as_str() {
                answer.push_str(&format!("\n\n(Saved to `{path}`.)"));
            }
        }
    }
    answer
}

/// The answer's seed: the task's own text (so a write_file content and the final answer match).
fn prompt_seed(task: &TaskPrompt) -> u64 {
    let mut h = Sha256::new();
    h.update(task.description.as_bytes());
    h.update([0]);
    h.update(task.expected_output.as_bytes());
    h.update([0]);
    h.update(task.context.as_bytes());
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Composes an answer shaped like the expected output.
fn compose(task: &TaskPrompt, seen: &[Observation], seed: u64) -> String {
    let mut words = key_words_ranked(&task.description, &task.expected_output, 8);
    let earlier = context_words(&task.context);
    if words.len() < 3 {
        for w in &earlier {
            if words.len() < 6 && !words.iter().any(|x| x.eq_ignore_ascii_case(w)) {
                words.push(w.clone());
            }
        }
    }
    let topic = match words.len() {
        0 => "the task".to_string(),
        1 => words[0].clone(),
        _ => format!("{} and {}", words[..words.len().min(3) - 1].join(", "), words[words.len().min(3) - 1]),
    };
    let facts: Vec<String> = seen
        .iter()
        .filter(|o| ![DELEGATE_WORK, ASK_QUESTION, "write_file"].contains(&o.tool.as_str()) && !o.output.starts_with("Error:"))
        .map(|o| {
            let what = match o.tool.as_str() {
                "read_file" | "list_directory" => o.arguments["path"].as_str().unwrap_or(".").to_string(),
                other => other.to_string(),
            };
            let excerpt: Vec<&str> = o.output.lines().filter(|l| !l.trim().is_empty()).take(3).collect();
            format!("From `{what}`: {}", excerpt.join(" / "))
        })
        .collect();
    let expected = task.expected_output.to_lowercase();

    if wants_json(&expected) {
        let keys = json_keys(&task.expected_output);
        let mut obj = serde_json::Map::new();
        if keys.is_empty() {
            obj.insert("topic".into(), json!(topic));
            obj.insert("summary".into(), json!(sentence(&words, seed, 0)));
            obj.insert("points".into(), json!((0..3).map(|i| sentence(&words, seed, i + 1)).collect::<Vec<_>>()));
        } else {
            for (i, k) in keys.iter().enumerate() {
                obj.insert(k.clone(), json!(sentence(&words, seed, i)));
            }
        }
        if !facts.is_empty() {
            obj.insert("sources".into(), json!(facts));
        }
        return serde_json::Value::Object(obj).to_string();
    }

    let mut out = format!("## {}\n\n", capitalize(&topic));
    if !earlier.is_empty() {
        out.push_str(&format!("Building on the earlier work on {}:\n\n", earlier.join(", ")));
    }
    for f in &facts {
        out.push_str(f);
        out.push_str("\n\n");
    }
    if list_count(&expected).is_none() && ["report", "section", "article", "sections"].iter().any(|w| expected.contains(w)) {
        let sections: Vec<String> = words
            .iter()
            .take(4)
            .enumerate()
            .map(|(i, w)| format!("### {}\n\n{} {}", capitalize(w), sentence(&words, seed, 2 * i), sentence(&words, seed, 2 * i + 1)))
            .collect();
        out.push_str(&sentence(&words, seed, 9));
        out.push_str("\n\n");
        out.push_str(&sections.join("\n\n"));
    } else if let Some(n) = paragraph_count(&expected) {
        let paras: Vec<String> =
            (0..n).map(|i| format!("{} {}", sentence(&words, seed, 2 * i), sentence(&words, seed, 2 * i + 1))).collect();
        out.push_str(&paras.join("\n\n"));
    } else {
        let n = list_count(&expected).unwrap_or(3);
        if list_count(&expected).is_none() {
            out.push_str(&sentence(&words, seed, 0));
            out.push_str("\n\n");
        }
        let bullets: Vec<String> = (0..n).map(|i| format!("- {}", sentence(&words, seed, i + 1))).collect();
        out.push_str(&bullets.join("\n"));
    }
    out
}

const STOP_WORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "also",
    "among",
    "analyse",
    "analyze",
    "answer",
    "based",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "brief",
    "conduct",
    "could",
    "create",
    "current",
    "describe",
    "detailed",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "ensure",
    "every",
    "expand",
    "explain",
    "file",
    "final",
    "find",
    "formatted",
    "from",
    "full",
    "fully",
    "further",
    "give",
    "given",
    "have",
    "having",
    "here",
    "identify",
    "information",
    "interesting",
    "into",
    "just",
    "list",
    "main",
    "make",
    "more",
    "most",
    "must",
    "named",
    "only",
    "other",
    "output",
    "over",
    "please",
    "provide",
    "read",
    "relevant",
    "result",
    "return",
    "review",
    "same",
    "save",
    "section",
    "short",
    "should",
    "some",
    "such",
    "sure",
    "task",
    "than",
    "that",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "thorough",
    "through",
    "topic",
    "topics",
    "under",
    "until",
    "using",
    "very",
    "want",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "with",
    "within",
    "without",
    "would",
    "write",
    "year",
    "your",
    "bullet",
    "bullets",
    "points",
    "point",
    "context",
    "markdown",
    "the",
    "and",
    "for",
    "are",
    "you",
    "got",
    "contains",
    "contain",
    "include",
    "includes",
    "including",
    "clear",
    "concise",
    "likely",
    "name",
    "names",
    "turn",
    "take",
    "keep",
    "consider",
    "focus",
    "short",
    "friendly",
    "numbered",
    "steps",
    "paragraph",
    "fully",
    "fledged",
];

/// Up to `max` distinctive words of `text`: words also named in `also_in` first, then names and
/// acronyms (capitalised inside a sentence), then longer words; ties by first appearance.
fn key_words_ranked(text: &str, also_in: &str, max: usize) -> Vec<String> {
    let also = also_in.to_lowercase();
    let mut seen: Vec<(i32, usize, String)> = Vec::new();
    let mut sentence_start = true;
    for (pos, raw) in text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.' || c == '!' || c == '?')).enumerate() {
        let ends_sentence = raw.ends_with(['.', '!', '?']);
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let at_start = sentence_start;
        sentence_start = ends_sentence || (raw.is_empty() && sentence_start);
        if w.is_empty() {
            continue;
        }
        let acronym = w.len() >= 2 && w.chars().any(|c| c.is_ascii_uppercase()) && w.chars().filter(|c| c.is_uppercase()).count() >= 2;
        let lower = w.to_lowercase();
        if (w.chars().count() < 4 && !acronym) || w.chars().all(|c| c.is_ascii_digit()) || STOP_WORDS.contains(&lower.as_str()) {
            continue;
        }
        if seen.iter().any(|(_, _, o)| o.to_lowercase() == lower) {
            continue;
        }
        let mut score = 0;
        if also.contains(&lower) {
            score += 3;
        }
        if acronym || (!at_start && w.chars().next().is_some_and(char::is_uppercase)) {
            score += 2;
        }
        if w.chars().count() >= 7 {
            score += 1;
        }
        seen.push((score, pos, w.to_string()));
    }
    seen.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    seen.into_iter().take(max).map(|(_, _, w)| w).collect()
}

/// The key words of earlier work: its first `## ` heading's words when it has one.
fn context_words(context: &str) -> Vec<String> {
    if context.trim().is_empty() {
        return vec![];
    }
    let heading = context.lines().find_map(|l| l.strip_prefix("## "));
    key_words_ranked(heading.unwrap_or(context), "", 3)
}

const PHRASES: &[&str] = &[
    "{w} is central to the question and deserves the closest look.",
    "{w} shows a clear trend that is likely to continue.",
    "{w} matters most when weighed against {v}.",
    "Evidence on {w} points to steady, practical gains.",
    "{w} and {v} reinforce each other in practice.",
    "The main risk around {w} is underestimating its cost.",
    "{w} has matured enough to recommend with confidence.",
    "Teams adopting {w} report faster results with fewer surprises.",
    "{w} remains an open question worth monitoring.",
    "A focused first step on {w} gives the best return.",
];

/// The `i`-th sentence about the key words, varied by `seed`.
fn sentence(words: &[String], seed: u64, i: usize) -> String {
    let w = if words.is_empty() { "This topic".to_string() } else { capitalize(&words[i % words.len()]) };
    let v = if words.len() > 1 { words[(i + 1) % words.len()].clone() } else { "the alternatives".to_string() };
    let phrase = PHRASES[(seed as usize).wrapping_add(i * 7) % PHRASES.len()];
    phrase.replace("{w}", &w).replace("{v}", &v)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn wants_json(expected: &str) -> bool {
    expected.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|w| w == "json")
}

/// Keys named in "… with keys a, b and c" / "fields: a, b" (identifiers only).
fn json_keys(expected: &str) -> Vec<String> {
    let lower = expected.to_lowercase();
    let start = ["keys", "fields", "properties"].iter().filter_map(|k| lower.find(k).map(|i| i + k.len())).min();
    let Some(start) = start else { return vec![] };
    let rest = &expected[start..];
    let rest = rest.split(['.', ';', '\n']).next().unwrap_or("");
    rest.split(|c: char| c == ',' || c.is_whitespace() || c == ':' || c == '`' || c == '"' || c == '\'' || c == '(' || c == ')')
        .map(str::trim)
        .filter(|w| !w.is_empty() && !matches!(w.to_lowercase().as_str(), "and" | "or" | "the" | "named" | "called"))
        .filter(|w| w.chars().all(|c| c.is_alphanumeric() || c == '_') && w.chars().next().is_some_and(|c| c.is_alphabetic()))
        .map(str::to_string)
        .collect()
}

const LIST_WORDS: &[&str] = &[
    "bullet",
    "bullets",
    "point",
    "points",
    "finding",
    "findings",
    "item",
    "items",
    "idea",
    "ideas",
    "tip",
    "tips",
    "reason",
    "reasons",
    "step",
    "steps",
    "fact",
    "facts",
    "example",
    "examples",
    "question",
    "questions",
    "trend",
    "trends",
    "recommendation",
    "recommendations",
    "insight",
    "insights",
    "takeaway",
    "takeaways",
    "option",
    "options",
];

/// The number of list items the expected output asks for; `Some(5)` for an unnumbered list.
fn list_count(expected: &str) -> Option<usize> {
    let words: Vec<&str> = expected.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    for (i, w) in words.iter().enumerate() {
        if LIST_WORDS.contains(w) {
            for back in words[i.saturating_sub(4)..i].iter().rev() {
                if let Some(n) = number(back) {
                    return Some(n.clamp(1, 20));
                }
            }
        }
    }
    if words.iter().any(|w| *w == "list" || *w == "bullet" || *w == "bullets") {
        return Some(5);
    }
    None
}

/// The number of paragraphs asked for, when the expected output counts paragraphs.
fn paragraph_count(expected: &str) -> Option<usize> {
    let words: Vec<&str> = expected.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let i = words.iter().position(|w| *w == "paragraph" || *w == "paragraphs")?;
    let n = words[i.saturating_sub(3)..i].iter().rev().find_map(|w| number(w)).unwrap_or(1);
    Some(n.clamp(1, 10))
}

fn number(word: &str) -> Option<usize> {
    const NAMES: &[&str] = &["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    word.parse::<usize>().ok().or_else(|| NAMES.iter().position(|n| *n == word).map(|i| i + 1))
}

fn asks_to_write(lower: &str) -> bool {
    ["write", "save", "store", "export", "create"].iter().any(|w| lower.contains(w))
}

fn asks_to_read(lower: &str) -> bool {
    ["read", "review", "summarize", "summarise", "open", "load", "based on the file", "from the file"].iter().any(|w| lower.contains(w))
}

fn asks_to_list(lower: &str) -> bool {
    lower.contains("list") && ["directory", "folder", "files in", "workspace"].iter().any(|w| lower.contains(w))
}

const FILE_EXTENSIONS: &[&str] = &["md", "txt", "json", "csv", "html", "yaml", "yml", "py", "rs", "log", "xml", "toml"];

/// The first file name (`notes.md`, `out/report.json`) in `text`.
fn file_name_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '(' | ')' | ',' | ';' | '<' | '>'))
        .map(|w| w.trim_end_matches(['.', ':', '!', '?']))
        .find(|w| {
            w.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && !stem.ends_with('/') && FILE_EXTENSIONS.contains(&ext.to_lowercase().as_str())
            }) && w.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '/' | '_' | '-'))
        })
        .map(str::to_string)
}

/// A folder named like `docs/` or "the `notes` folder" in `text`.
fn folder_name_in(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in &words {
        let w = w.trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | ',' | '.' | ':' | ')' | '('));
        if w.len() > 1 && w.ends_with('/') && w.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '_' | '-' | '.')) {
            return Some(w.trim_end_matches('/').to_string());
        }
    }
    for pair in words.windows(2) {
        let next = pair[1].trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if next == "folder" || next == "directory" {
            let name = pair[0].trim_matches(|c: char| matches!(c, '`' | '"' | '\''));
            if name.starts_with('`') || pair[0].contains('`') || name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                let lower = name.to_lowercase();
                if !["the", "a", "this", "that", "workspace", "whole", "current"].contains(&lower.as_str()) {
                    return Some(name.to_string());
                }
            }
        }
    }
    None
}

/// The coworker whose role shares the most words with the task (word stems of 5 letters);
/// ties go to the first listed.
fn best_coworker(text: &str, roles: &[String]) -> Option<String> {
    let stems = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(|w| w.to_lowercase().chars().take(5).collect::<String>())
            .collect()
    };
    let task = stems(text);
    roles
        .iter()
        .enumerate()
        .max_by_key(|(i, role)| {
            let score = stems(role).iter().filter(|s| task.contains(s)).count();
            (score, std::cmp::Reverse(*i))
        })
        .map(|(_, r)| r.clone())
}

fn strip_fence(text: &str) -> &str {
    crate::engine::react::strip_code_fence(text)
}

/// Estimated usage: 4 characters a token, cost 0.
fn usage(messages: &[ChatMessage], completion: &str) -> Usage {
    let prompt_chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
    let prompt_tokens = prompt_chars.div_ceil(4) as u64;
    let completion_tokens = completion.chars().count().div_ceil(4) as u64;
    Usage { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, llm_calls: 1, cost_usd: Some(0.0) }
}

/// `text` cut into pieces of about `size` bytes on char boundaries.
fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::engine::prompts::{system_prompt, task_prompt};
    use crate::llm::ToolDef;

    fn request(description: &str, expected: &str, tools: Vec<ToolDef>) -> ChatRequest {
        ChatRequest {
            model: "offline".into(),
            messages: vec![
                ChatMessage::system(system_prompt("Researcher", "find facts", "You love facts.", &[])),
                ChatMessage::user(task_prompt(description, expected, "")),
            ],
            tools,
            temperature: None,
            stream: false,
            response_format: None,
            label: None,
        }
    }

    fn tool(name: &str) -> ToolDef {
        ToolDef { name: name.into(), description: String::new(), parameters: json!({"type": "object"}) }
    }

    fn final_of(content: &str) -> &str {
        content.split_once("Final Answer:").map(|(_, a)| a.trim()).unwrap_or(content)
    }

    #[tokio::test]
    async fn same_prompt_same_answer_and_react_form_without_tools() {
        let m = OfflineModel::with_delay(None);
        let a = m.chat(request("Research quantum computing trends", "A summary", vec![]), None).await.unwrap();
        let b = m.chat(request("Research quantum computing trends", "A summary", vec![]), None).await.unwrap();
        assert_eq!(a, b);
        assert!(a.content.starts_with("Thought: I now can give a great answer\nFinal Answer: "));
        assert!(a.content.contains("quantum"));
        assert_eq!(a.usage.llm_calls, 1);
        assert!(a.usage.prompt_tokens > 0 && a.usage.completion_tokens > 0);
        let c = m.chat(request("Research solar panels", "A summary", vec![]), None).await.unwrap();
        assert_ne!(a.content, c.content);
    }

    #[tokio::test]
    async fn five_findings_give_five_bullets() {
        let m = OfflineModel::with_delay(None);
        let r = m.chat(request("Research Rust async runtimes", "A list of about five findings", vec![]), None).await.unwrap();
        let bullets = final_of(&r.content).lines().filter(|l| l.starts_with("- ")).count();
        assert_eq!(bullets, 5);
        let r = m.chat(request("Research Rust", "3 bullet points", vec![]), None).await.unwrap();
        assert_eq!(final_of(&r.content).lines().filter(|l| l.starts_with("- ")).count(), 3);
    }

    #[tokio::test]
    async fn json_expected_gives_json_with_named_keys() {
        let m = OfflineModel::with_delay(None);
        let r = m.chat(request("Summarise Rust", "A JSON object with keys title, summary and score.", vec![]), None).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(final_of(&r.content)).unwrap();
        assert!(v.get("title").is_some() && v.get("summary").is_some() && v.get("score").is_some());
    }

    #[tokio::test]
    async fn asked_to_save_it_calls_write_file_then_answers() {
        let m = OfflineModel::with_delay(None);
        let mut req = request("Write a short note about Rust and save it to notes.md", "A short note", vec![tool("write_file")]);
        let r = m.chat(req.clone(), None).await.unwrap();
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.tool_calls[0].name, "write_file");
        let args: serde_json::Value = serde_json::from_str(&r.tool_calls[0].arguments).unwrap();
        assert_eq!(args["path"], "notes.md");
        assert!(args["content"].as_str().unwrap().contains("Rust"));
        req.messages.push(ChatMessage::assistant("", r.tool_calls.clone()));
        req.messages.push(ChatMessage::tool(r.tool_calls[0].id.clone(), "Wrote 10 bytes to notes.md"));
        let r2 = m.chat(req, None).await.unwrap();
        assert!(r2.tool_calls.is_empty());
        assert!(r2.content.contains("Rust") && r2.content.contains("notes.md"));
    }

    #[tokio::test]
    async fn reads_named_files_when_asked() {
        let m = OfflineModel::with_delay(None);
        let r = m.chat(request("Read data/input.txt and summarize it", "A summary", vec![tool("read_file")]), None).await.unwrap();
        assert_eq!(r.tool_calls[0].name, "read_file");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&r.tool_calls[0].arguments).unwrap()["path"], "data/input.txt");
        let r = m.chat(request("List the files in the `docs` folder", "A list", vec![tool("list_directory")]), None).await.unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&r.tool_calls[0].arguments).unwrap()["path"], "docs");
    }

    #[tokio::test]
    async fn manager_delegates_to_best_matching_coworker() {
        let m = OfflineModel::with_delay(None);
        let delegate = ToolDef {
            name: DELEGATE_WORK.into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {"coworker": {"enum": ["Senior Writer", "Research Analyst"]}}}),
        };
        let r = m.chat(request("Research the market for electric bikes", "A report", vec![delegate]), None).await.unwrap();
        let args: serde_json::Value = serde_json::from_str(&r.tool_calls[0].arguments).unwrap();
        assert_eq!(args["coworker"], "Research Analyst");
        assert!(args["task"].as_str().unwrap().contains("electric bikes"));
    }

    #[tokio::test]
    async fn streams_the_whole_answer_in_chunks() {
        let m = OfflineModel::with_delay(None);
        let got = Arc::new(Mutex::new(Vec::<String>::new()));
        let g = got.clone();
        let sink: TokenSink = Arc::new(move |t: &str| g.lock().unwrap().push(t.to_string()));
        let mut req = request("Research Rust", "A summary", vec![]);
        req.stream = true;
        let r = m.chat(req, Some(sink)).await.unwrap();
        let chunks = got.lock().unwrap();
        assert!(chunks.len() > 1);
        assert_eq!(chunks.concat(), r.content);
    }
    #[tokio::test]
    async fn a_schema_gets_a_shaped_object_and_a_guardrail_judge_a_pass() {
        let m = OfflineModel::with_delay(None);
        let schema = json!({"type": "object", "properties": {"title": {"type": "string"}, "points": {"type": "array", "items": {"type": "string"}}}, "required": ["title", "points"]});
        let mut req = request("Summarise quantum computing trends", "A report", vec![]);
        req.response_format = Some(crate::llm::ResponseSchema { name: "Report".into(), schema: schema.clone() });
        let r = m.chat(req, None).await.unwrap();
        let value: serde_json::Value = serde_json::from_str(final_of(&r.content)).unwrap();
        crate::crew::output_schema::OutputSchema::compile(&schema).unwrap().check(&value).unwrap();
        assert!(value["title"].as_str().unwrap().to_lowercase().contains("quantum") || value.to_string().contains("quantum"), "{value}");

        let query = crate::engine::prompts::guardrail_query("The answer.", "must cite sources");
        let r = m.chat(request(&query, "A verdict", vec![]), None).await.unwrap();
        let verdict: serde_json::Value = serde_json::from_str(final_of(&r.content)).unwrap();
        assert_eq!(verdict, json!({"valid": true, "feedback": null}));
    }
}
