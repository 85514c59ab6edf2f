//! `--replay FILE`: a [`ChatModel`] that serves recorded responses, with no network at all.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::exchange::{request_hash, Exchange};
use super::tool_tape::{ToolResultLine, ToolResults};
use super::{ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, LlmErrorKind, TokenSink};
use crate::execution::BoxFuture;

/// A loaded recording: exchanges by [`request_hash`], each hash's responses served in recorded
/// order, the last one repeating once they are used up.
#[derive(Debug)]
pub struct ReplayBook {
    path: PathBuf,
    exchanges: Vec<Exchange>,
    by_hash: HashMap<String, Vec<usize>>,
    /// How many times each hash was served.
    served: Mutex<HashMap<String, usize>>,
    /// The tool results kept in the recording (see [`ToolTape`](super::ToolTape)).
    tool_results: ToolResults,
}

impl ReplayBook {
    /// Reads a recording. A missing file or a line that is not an exchange is a `Config` error
    /// naming the file (and line); blank lines are skipped. Hashes are recomputed from the
    /// recorded requests.
    pub fn load(path: &Path) -> Result<ReplayBook, LlmError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::new(LlmErrorKind::Config, format!("cannot read the recording {}: {e}", path.display())))?;
        ReplayBook::parse(path, &text)
    }

    /// A book from a recording's text; `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Result<ReplayBook, LlmError> {
        let mut exchanges = Vec::new();
        let mut tool_results = ToolResults::default();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if let Ok(kept) = serde_json::from_str::<ToolResultLine>(line) {
                tool_results.push(kept.tool_result);
                continue;
            }
            let exchange: Exchange = serde_json::from_str(line).map_err(|e| {
                LlmError::new(LlmErrorKind::Config, format!("the recording {} line {} is not an exchange: {e}", path.display(), n + 1))
            })?;
            exchanges.push(exchange);
        }
        let mut by_hash: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in exchanges.iter().enumerate() {
            by_hash.entry(request_hash(&e.model, &e.request)).or_default().push(i);
        }
        Ok(ReplayBook { path: path.to_path_buf(), exchanges, by_hash, served: Mutex::new(HashMap::new()), tool_results })
    }

    /// The recorded response to `request` sent to `model`, or a `ReplayMismatch` explaining how
    /// the request differs from the closest recorded one.
    pub fn serve(&self, model: &str, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let hash = request_hash(model, request);
        let Some(indices) = self.by_hash.get(&hash) else {
            return Err(LlmError::new(LlmErrorKind::ReplayMismatch, self.explain_miss(model, request)));
        };
        let mut served = self.served.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = served.entry(hash).or_insert(0);
        let index = indices[(*count).min(indices.len() - 1)];
        *count += 1;
        Ok(self.exchanges[index].response.clone())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next recorded output of a tool call (see [`ToolResults::next`]).
    pub fn tool_result(&self, label: Option<&str>, tool: &str, arguments: &str) -> Option<String> {
        self.tool_results.next(label, tool, arguments)
    }

    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }

    fn explain_miss(&self, model: &str, request: &ChatRequest) -> String {
        let task = match &request.label {
            Some(label) => format!("task `{label}`"),
            None => "a request without a task label".to_string(),
        };
        let head = format!("replay: {} has no exchange for {task} (model `{model}`)", self.path.display());
        let same_model: Vec<&Exchange> = self.exchanges.iter().filter(|e| e.model == model).collect();
        if same_model.is_empty() {
            let models: BTreeSet<&str> = self.exchanges.iter().map(|e| e.model.as_str()).collect();
            let models: Vec<&str> = models.into_iter().collect();
            return if models.is_empty() {
                format!("{head}; the recording is empty")
            } else {
                format!("{head}; it recorded only the models {}", models.join(", "))
            };
        }
        let same_label: Vec<&Exchange> = same_model.iter().copied().filter(|e| e.label == request.label).collect();
        let candidates = if same_label.is_empty() { &same_model } else { &same_label };
        let closest = candidates
            .iter()
            .copied()
            .max_by_key(|e| {
                let common = common_prefix(&e.request.messages, &request.messages);
                (common, std::cmp::Reverse(e.request.messages.len().abs_diff(request.messages.len())))
            })
            .expect("candidates is not empty");
        let whose = if same_label.is_empty() { "the closest recorded request (another task)" } else { "the closest recorded request" };
        format!("{head}; {whose} {}", describe_difference(&closest.request, request))
    }
}

/// How `now` differs from `recorded`, starting with the first differing message.
fn describe_difference(recorded: &ChatRequest, now: &ChatRequest) -> String {
    let (rec, cur) = (&recorded.messages, &now.messages);
    let i = common_prefix(rec, cur);
    match (rec.get(i), cur.get(i)) {
        (Some(r), Some(c)) => {
            let roles = if r.role == c.role { role(c).to_string() } else { format!("recorded {}, now {}", role(r), role(c)) };
            if r.content == c.content {
                format!("differs at message #{i} ({roles}): same text, different tool calls")
            } else {
                let (a, b) = diff_excerpts(&r.content, &c.content);
                format!("differs at message #{i} ({roles}): recorded \"{a}\", now \"{b}\"")
            }
        }
        (Some(r), None) => {
            format!("has {} more message(s) from #{i} ({}): \"{}\"", rec.len() - i, role(r), diff_excerpts(&r.content, "").0)
        }
        (None, Some(c)) => format!("ends before message #{i}; now there is ({}): \"{}\"", role(c), diff_excerpts("", &c.content).1),
        (None, None) => {
            if recorded.tools != now.tools {
                let names = |r: &ChatRequest| r.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ");
                format!("has the same messages but other tools (recorded: [{}], now: [{}])", names(recorded), names(now))
            } else if recorded.temperature != now.temperature {
                format!("has the same messages but temperature {:?} (now {:?})", recorded.temperature, now.temperature)
            } else if recorded.response_format != now.response_format {
                let name = |r: &ChatRequest| r.response_format.as_ref().map_or("none".to_string(), |f| format!("`{}`", f.name));
                format!("has the same messages but another response schema (recorded: {}, now: {})", name(recorded), name(now))
            } else {
                "has the same messages, tools and temperature".to_string()
            }
        }
    }
}

fn role(m: &ChatMessage) -> &'static str {
    match m.role {
        super::Role::System => "system",
        super::Role::User => "user",
        super::Role::Assistant => "assistant",
        super::Role::Tool => "tool",
    }
}

fn common_prefix(a: &[ChatMessage], b: &[ChatMessage]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Short excerpts of `a` and `b` around their first differing character (≈30 characters of
/// shared context, ≈50 after).
fn diff_excerpts(a: &str, b: &str) -> (String, String) {
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let start = common.saturating_sub(30);
    let excerpt = |s: &str| {
        let total = s.chars().count();
        let body: String = s.chars().skip(start).take(80).collect();
        let body = body.replace('\n', "\\n");
        format!("{}{}{}", if start > 0 { "…" } else { "" }, body, if start + 80 < total { "…" } else { "" })
    };
    (excerpt(a), excerpt(b))
}

/// Serves one model string's calls from a [`ReplayBook`]. When the request streams and a sink is
/// given, the recorded content is passed to the sink (in one piece) before returning.
///
/// Cancellation: the future completes at once; dropping it has no effect beyond that.
pub struct ReplayModel {
    model: String,
    book: Arc<ReplayBook>,
}

impl ReplayModel {
    /// `model` is the model string the recording was made under (the recorded models' `name()`).
    pub fn new(model: impl Into<String>, book: Arc<ReplayBook>) -> Self {
        ReplayModel { model: model.into(), book }
    }
}

impl ChatModel for ReplayModel {
    fn chat(&self, request: ChatRequest, sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
        let result = self.book.serve(&self.model, &request);
        Box::pin(async move {
            let response = result?;
            if let (true, Some(sink)) = (request.stream, sink) {
                if !response.content.is_empty() {
                    sink(&response.content);
                }
            }
            Ok(response)
        })
    }

    fn name(&self) -> String {
        self.model.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ChatMessage;

    fn request(label: &str, messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages,
            tools: vec![],
            temperature: None,
            stream: false,
            response_format: None,
            label: Some(label.into()),
        }
    }

    fn reply(text: &str) -> ChatResponse {
        ChatResponse { content: text.into(), ..Default::default() }
    }

    fn book(exchanges: &[Exchange]) -> ReplayBook {
        let text: String = exchanges.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect();
        ReplayBook::parse(Path::new("rec.jsonl"), &text).unwrap()
    }

    #[test]
    fn identical_requests_are_served_in_order_then_the_last_repeats() {
        let r = request("t", vec![ChatMessage::user("hi")]);
        let b = book(&[
            Exchange::new("openai/m", r.clone(), reply("one")),
            Exchange::new("openai/m", request("t", vec![ChatMessage::user("other")]), reply("x")),
            Exchange::new("openai/m", r.clone(), reply("two")),
        ]);
        let served: Vec<String> = (0..4).map(|_| b.serve("openai/m", &r).unwrap().content).collect();
        assert_eq!(served, ["one", "two", "two", "two"]);
    }

    #[test]
    fn a_miss_names_the_task_and_the_first_differing_message() {
        let recorded = request(
            "write_report",
            vec![ChatMessage::system("You are a writer."), ChatMessage::user("Write about the topic: quantum computing in 2024.")],
        );
        let b = book(&[
            Exchange::new("openai/m", request("research", vec![ChatMessage::user("unrelated")]), reply("r")),
            Exchange::new("openai/m", recorded, reply("report")),
        ]);
        let now = request(
            "write_report",
            vec![ChatMessage::system("You are a writer."), ChatMessage::user("Write about the topic: quantum sensing in 2024.")],
        );
        let err = b.serve("openai/m", &now).unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::ReplayMismatch);
        let msg = err.message;
        assert!(msg.contains("task `write_report`"), "{msg}");
        assert!(msg.contains("message #1 (user)"), "{msg}");
        assert!(msg.contains("quantum computing"), "{msg}");
        assert!(msg.contains("quantum sensing"), "{msg}");
        assert!(!err.kind.eq(&LlmErrorKind::Connection));
    }

    #[test]
    fn misses_on_length_tools_and_models_are_explained() {
        let two = request("t", vec![ChatMessage::user("a"), ChatMessage::assistant("b", vec![])]);
        let b = book(&[Exchange::new("openai/m", two.clone(), reply("x"))]);
        let err = b.serve("openai/m", &request("t", vec![ChatMessage::user("a")])).unwrap_err();
        assert!(err.message.contains("1 more message(s) from #1 (assistant)"), "{}", err.message);
        let mut three = two.clone();
        three.messages.push(ChatMessage::user("c"));
        let err = b.serve("openai/m", &three).unwrap_err();
        assert!(err.message.contains("ends before message #2"), "{}", err.message);
        let mut tooled = two.clone();
        tooled.tools.push(crate::llm::ToolDef { name: "search".into(), description: String::new(), parameters: serde_json::json!({}) });
        let err = b.serve("openai/m", &tooled).unwrap_err();
        assert!(err.message.contains("other tools (recorded: [], now: [search])"), "{}", err.message);
        let err = b.serve("ollama/llama", &two).unwrap_err();
        assert!(err.message.contains("recorded only the models openai/m"), "{}", err.message);
    }

    #[test]
    fn excerpts_are_short_and_centred_on_the_difference() {
        let a = format!("{}XYZ{}", "a".repeat(200), "b".repeat(200));
        let b = format!("{}QRS{}", "a".repeat(200), "b".repeat(200));
        let (x, y) = diff_excerpts(&a, &b);
        assert!(x.starts_with('…') && x.ends_with('…') && x.contains("XYZ"), "{x}");
        assert!(y.contains("QRS") && y.chars().count() <= 82, "{y}");
    }

    #[tokio::test]
    async fn streaming_replays_feed_the_sink() {
        let r = request("t", vec![ChatMessage::user("hi")]);
        let b = Arc::new(book(&[Exchange::new("openai/m", r.clone(), reply("hello there"))]));
        let got = Arc::new(Mutex::new(String::new()));
        let got2 = got.clone();
        let sink: TokenSink = Arc::new(move |t: &str| got2.lock().unwrap().push_str(t));
        let mut streamed = r.clone();
        streamed.stream = true;
        let response = ReplayModel::new("openai/m", b).chat(streamed, Some(sink)).await.unwrap();
        assert_eq!(response.content, "hello there");
        assert_eq!(*got.lock().unwrap(), "hello there");
    }

    #[test]
    fn bad_lines_name_the_line() {
        let err = ReplayBook::parse(Path::new("rec.jsonl"), "\n{not json}\n").unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Config);
        assert!(err.message.contains("rec.jsonl line 2"), "{}", err.message);
    }
}
