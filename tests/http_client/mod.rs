//! A minimal blocking HTTP/1.1 client over `TcpStream` for the HTTP API tests: one request per
//! connection (`Connection: close`), any `Host` header (to test the check), fixed-length and
//! chunked bodies, and a Server-Sent Events reader. Reads time out after [`IO_TIMEOUT`] (a safety
//! net that fails the test, never a synchronisation). Every response is checked against the
//! server's OpenAPI document ([`conformance`]).
#![allow(dead_code)]

mod conformance;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// How long any single read may block before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// A server address (`127.0.0.1:PORT`) and the token to send.
#[derive(Clone, Debug)]
pub struct Api {
    pub addr: String,
    pub token: String,
}

/// A response: status, headers (names lowercased) and the body as text.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The error `kind` of a `{kind, message}` body.
    pub fn kind(&self) -> String {
        self.json()["kind"].as_str().unwrap_or_else(|| panic!("no kind: {}", self.body)).to_string()
    }
}

/// One request.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Extra headers; `Host` is `addr` unless given here.
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<Vec<u8>>,
}

impl Api {
    fn request<'a>(&self, method: &'a str, path: &'a str, body: Option<&Value>) -> Request<'a> {
        Request {
            method,
            path,
            headers: vec![("Authorization", format!("Bearer {}", self.token))],
            body: body.map(|b| b.to_string().into_bytes()),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.send(self.request("GET", path, None))
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.send(self.request("POST", path, Some(body)))
    }

    pub fn put(&self, path: &str, body: &Value) -> Response {
        self.send(self.request("PUT", path, Some(body)))
    }

    /// A GET without any `Authorization` header.
    pub fn get_anonymous(&self, path: &str) -> Response {
        self.send(Request { method: "GET", path, headers: Vec::new(), body: None })
    }

    /// Sends `request` on a new connection, reads the whole response and checks it against the
    /// OpenAPI document ([`conformance::check`]).
    pub fn send(&self, request: Request<'_>) -> Response {
        let response = self.exchange(&request);
        conformance::check(self, &request, &response);
        response
    }

    /// Sends `request` on a new connection and reads the whole response.
    fn exchange(&self, request: &Request<'_>) -> Response {
        let mut stream = self.open(request);
        let (status, headers) = read_head(&mut stream);
        let mut body = Vec::new();
        body_reader(stream, &headers).read_to_end(&mut body).expect("read the body");
        Response { status, headers, body: String::from_utf8(body).expect("utf-8 body") }
    }

    /// Opens `GET path` as an event stream (the token sent, plus `headers`).
    pub fn events(&self, path: &str, headers: Vec<(&str, String)>) -> EventStream {
        let mut request = self.request("GET", path, None);
        request.headers.extend(headers);
        let mut stream = self.open(&request);
        let (status, headers) = read_head(&mut stream);
        assert_eq!(status, 200, "event stream {path}: {headers:?}");
        let content_type = headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        EventStream { lines: BufReader::new(body_reader(stream, &headers)), events: conformance::events(self, path) }
    }

    fn open(&self, request: &Request<'_>) -> BufReader<TcpStream> {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the server");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut head = format!("{} {} HTTP/1.1\r\nConnection: close\r\n", request.method, request.path);
        if !request.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (name, value) in &request.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = &request.body {
            head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send the request head");
        if let Some(body) = &request.body {
            // The server may answer (413) and close before reading it all: not an error here.
            let _ = stream.write_all(body);
        }
        BufReader::new(stream)
    }
}

fn read_head(stream: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut status_line = String::new();
    stream.read_line(&mut status_line).expect("read the status line");
    let status =
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status line: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).expect("read a header");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    (status, headers)
}

fn body_reader(stream: BufReader<TcpStream>, headers: &[(String, String)]) -> Box<dyn Read> {
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    match headers.iter().find(|(n, _)| n == "content-length") {
        _ if chunked => Box::new(Chunked { inner: stream, left: 0, done: false }),
        Some((_, len)) => Box::new(stream.take(len.parse().expect("a content length"))),
        None => Box::new(stream),
    }
}

/// A chunked body, decoded.
struct Chunked {
    inner: BufReader<TcpStream>,
    left: usize,
    done: bool,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut size = String::new();
            self.inner.read_line(&mut size)?;
            if size.trim().is_empty() {
                // The CRLF after the previous chunk.
                size.clear();
                self.inner.read_line(&mut size)?;
            }
            if size.is_empty() {
                self.done = true;
                return Ok(0);
            }
            self.left = usize::from_str_radix(size.trim().split(';').next().unwrap_or_default(), 16)
                .map_err(|e| std::io::Error::other(format!("chunk size {size:?}: {e}")))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let n = self.inner.by_ref().take(self.left as u64).read(buf)?;
        self.left -= n;
        Ok(n)
    }
}

/// One Server-Sent Event.
#[derive(Clone, Debug, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }
}

/// An open event stream.
pub struct EventStream {
    lines: BufReader<Box<dyn Read>>,
    /// What the OpenAPI document says of its events (each one read is checked against it).
    events: Option<conformance::Events>,
}

impl EventStream {
    /// The next event (comments skipped); `None` when the server closed the stream.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        let mut event = SseEvent { event: "message".into(), id: None, data: String::new() };
        let mut any = false;
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).expect("read the event stream") == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if any {
                    if let Some(events) = &self.events {
                        events.check(&event);
                    }
                    return Some(event);
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            any = true;
            let (field, value) = line.split_once(':').map(|(f, v)| (f, v.strip_prefix(' ').unwrap_or(v))).unwrap_or((line, ""));
            match field {
                "event" => event.event = value.to_string(),
                "id" => event.id = Some(value.to_string()),
                "data" => {
                    if !event.data.is_empty() {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                }
                _ => {}
            }
        }
    }

    /// Every event up to and including the first `end` (fails the test if the stream closes
    /// before it).
    pub fn until_end(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        loop {
            let event = self.next_event().unwrap_or_else(|| panic!("the stream closed before `end`: {out:#?}"));
            let end = event.event == "end";
            out.push(event);
            if end {
                return out;
            }
        }
    }
}
