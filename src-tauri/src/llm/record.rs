//! `--record FILE`: a [`ChatModel`] wrapper that appends every successful exchange to a file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::exchange::Exchange;
use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmErrorKind, TokenSink};
use crate::execution::BoxFuture;

/// A recording file shared by every model of a run: one JSON line per exchange
/// (`{hash, label, model, request, response}`), appended.
///
/// Each line is written with one `write_all` under a mutex and flushed, so concurrent calls never
/// interleave their lines; the file is opened in append mode, so other writers' lines are kept.
#[derive(Debug)]
pub struct RecordFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl RecordFile {
    /// Opens (creating if needed) `path` for appending. Fails with `Config` naming the file.
    pub fn open(path: &Path) -> Result<RecordFile, LlmError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| LlmError::new(LlmErrorKind::Config, format!("cannot open the recording {}: {e}", path.display())))?;
        Ok(RecordFile { path: path.to_path_buf(), file: Mutex::new(file) })
    }

    /// Appends one exchange as one line and flushes it.
    pub fn append(&self, exchange: &Exchange) -> Result<(), LlmError> {
        self.append_line(exchange)
    }

    /// Appends one value (an exchange, a tool result) as one JSON line and flushes it.
    pub fn append_line(&self, value: &impl serde::Serialize) -> Result<(), LlmError> {
        let mut line = serde_json::to_string(value)
            .map_err(|e| LlmError::new(LlmErrorKind::Config, format!("cannot encode a line for {}: {e}", self.path.display())))?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| LlmError::new(LlmErrorKind::Config, format!("cannot write the recording {}: {e}", self.path.display())))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Serves calls from `inner` and records each successful one. Failed calls are not recorded
/// (the error goes back unchanged). A recording that cannot be written fails the call
/// (`Config`): a run that was asked to record must not silently lose exchanges.
///
/// Cancellation: dropping the future drops the inner call; nothing is recorded for it.
pub struct RecordingModel {
    inner: Arc<dyn ChatModel>,
    file: Arc<RecordFile>,
}

impl RecordingModel {
    pub fn new(inner: Arc<dyn ChatModel>, file: Arc<RecordFile>) -> Self {
        RecordingModel { inner, file }
    }
}

impl ChatModel for RecordingModel {
    fn chat(&self, request: ChatRequest, sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
        let model = self.inner.name();
        let call = self.inner.chat(request.clone(), sink);
        let file = self.file.clone();
        Box::pin(async move {
            let response = call.await?;
            file.append(&Exchange::new(&model, request, response.clone()))?;
            Ok(response)
        })
    }

    fn name(&self) -> String {
        self.inner.name()
    }

    fn shown_endpoint(&self) -> Option<String> {
        self.inner.shown_endpoint()
    }

    fn secrets(&self) -> Vec<String> {
        self.inner.secrets()
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufRead;

    use super::*;
    use crate::llm::ChatMessage;

    /// Echoes the last message, after yielding once so concurrent calls interleave.
    struct Echo;

    impl ChatModel for Echo {
        fn chat(&self, request: ChatRequest, _sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                let last = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
                Ok(ChatResponse { content: format!("echo: {last}"), ..Default::default() })
            })
        }
        fn name(&self) -> String {
            "test/echo".into()
        }
    }

    fn request(n: usize) -> ChatRequest {
        ChatRequest {
            model: "echo".into(),
            // Long lines make torn writes likely if lines were not written whole.
            messages: vec![ChatMessage::user(format!("{n}:{}", "x".repeat(20_000)))],
            tools: vec![],
            temperature: None,
            stream: false,
            response_format: None,
            label: Some(format!("task{n}")),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_calls_write_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        let file = Arc::new(RecordFile::open(&path).unwrap());
        let model: Arc<dyn ChatModel> = Arc::new(RecordingModel::new(Arc::new(Echo), file));
        let calls: Vec<_> = (0..64).map(|n| tokio::spawn(model.chat(request(n), None))).collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        let lines: Vec<String> = std::io::BufReader::new(File::open(&path).unwrap()).lines().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 64);
        let mut labels: Vec<String> = lines
            .iter()
            .map(|l| {
                let e: Exchange = serde_json::from_str(l).expect("every line is one whole exchange");
                assert_eq!(e.model, "test/echo");
                assert!(e.response.content.starts_with("echo: "));
                e.label.unwrap()
            })
            .collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), 64);
    }

    #[tokio::test]
    async fn appends_to_an_existing_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        for n in 0..2 {
            let file = Arc::new(RecordFile::open(&path).unwrap());
            RecordingModel::new(Arc::new(Echo), file).chat(request(n), None).await.unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn unopenable_file_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = RecordFile::open(&dir.path().join("missing/dir/rec.jsonl")).unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Config);
        assert!(err.message.contains("rec.jsonl"));
    }
}
