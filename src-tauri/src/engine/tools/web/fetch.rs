//! The one way network tools reach the network: HTTP(S) requests with a time limit, a size cap, a
//! content-type check and at most [`MAX_REDIRECTS`] redirects followed by hand, each hop's host
//! resolved here, every address checked ([`non_public_class`]) and the connection pinned to the
//! checked addresses (no proxy), so a DNS answer cannot change between check and connect.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode, Url};

use super::address::non_public_class;

/// Most redirects a request follows.
pub const MAX_REDIRECTS: u32 = 5;
/// The longest a request may take, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes of a response body read; a larger body is refused.
pub const MAX_RESPONSE_BYTES: usize = 5 * 1024 * 1024;

/// What network tools may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Loopback, private and link-local addresses are allowed (`--allow-private-network`).
    pub allow_private: bool,
    /// Addresses allowed even when they are not public and `allow_private` is off (the run's
    /// own fixtures in tests; empty in a run).
    pub exempt: Vec<IpAddr>,
    pub timeout: Duration,
    pub max_bytes: usize,
}

impl FetchPolicy {
    /// The default limits, with private addresses allowed or not.
    pub fn new(allow_private: bool) -> Self {
        FetchPolicy { allow_private, exempt: Vec::new(), timeout: FETCH_TIMEOUT, max_bytes: MAX_RESPONSE_BYTES }
    }
}

/// Why a request gave no usable response. Every variant is a recoverable tool failure (the model
/// is told and the run goes on).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an absolute `http`/`https` URL.
    #[error("`{0}` is not an http(s) URL")]
    BadUrl(String),
    /// The host resolved to (or is) an address that is not public, and the run does not allow
    /// private networks.
    #[error(
        "{host} is {addr}, a {class} address; refused (network tools reach public addresses only unless --allow-private-network is given)"
    )]
    Refused { host: String, addr: IpAddr, class: &'static str },
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    /// Connecting, sending or receiving failed.
    #[error("request to {url} failed: {reason}")]
    Request { url: String, reason: String },
    /// The whole request took longer than the policy's timeout.
    #[error("request to {url} timed out after {secs}s")]
    Timeout { url: String, secs: u64 },
    /// More than [`MAX_REDIRECTS`] redirects, or a redirect without a usable `Location`.
    #[error("{url}: {reason}")]
    Redirect { url: String, reason: String },
    /// The final response's status is not 2xx.
    #[error("{url} answered HTTP {status}{detail}")]
    Status { url: String, status: u16, detail: String },
    /// The response's content type is not one the caller accepts.
    #[error("{url} sent `{content_type}`, expected {expected}")]
    ContentType { url: String, content_type: String, expected: String },
    /// The body is larger than the policy's size cap.
    #[error("{url}: the response is larger than {max} bytes; not read")]
    TooLarge { url: String, max: usize },
}

/// A request to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// Sent as `application/json` when present.
    pub json: Option<serde_json::Value>,
    /// Acceptable content types (a response's type must start with one of them).
    pub accept: &'static [&'static str],
}

impl Outgoing {
    /// A GET of `url` accepting `accept`.
    pub fn get(url: impl Into<String>, accept: &'static [&'static str]) -> Self {
        Outgoing { method: Method::GET, url: url.into(), headers: Vec::new(), json: None, accept }
    }
}

/// The content types a JSON API answers with.
pub const JSON_TYPES: &[&str] = &["application/json"];
/// The content types a page fetch accepts.
pub const PAGE_TYPES: &[&str] = &["text/html", "application/xhtml+xml", "text/plain", "text/markdown"];

/// A successful response.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: Url,
    /// The media type, lower case, without parameters.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Sends `request` under `policy`: see the module's documentation.
pub async fn fetch(policy: &FetchPolicy, request: Outgoing) -> Result<Fetched, FetchError> {
    let shown = request.url.clone();
    match tokio::time::timeout(policy.timeout, follow(policy, request)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout { url: shown, secs: policy.timeout.as_secs() }),
    }
}

async fn follow(policy: &FetchPolicy, mut request: Outgoing) -> Result<Fetched, FetchError> {
    let mut url = parse_url(&request.url)?;
    let mut hops = 0;
    loop {
        let response = send_once(policy, &request, &url).await?;
        let status = response.status();
        if !status.is_redirection() {
            return read_body(policy, &request, url, response).await;
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(FetchError::Redirect { url: url.to_string(), reason: format!("more than {MAX_REDIRECTS} redirects") });
        }
        url = redirect_target(&url, response.headers())?;
        if status == StatusCode::SEE_OTHER
            || ((status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::FOUND) && request.method == Method::POST)
        {
            request.method = Method::GET;
            request.json = None;
        }
    }
}

/// The absolute `http`/`https` URL in `text`.
pub fn parse_url(text: &str) -> Result<Url, FetchError> {
    let url = Url::parse(text.trim()).map_err(|_| FetchError::BadUrl(text.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(FetchError::BadUrl(text.to_string()));
    }
    Ok(url)
}

/// Where a redirect response points, resolved against `from`.
fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, FetchError> {
    let bad = |reason: &str| FetchError::Redirect { url: from.to_string(), reason: reason.to_string() };
    let location = headers.get(LOCATION).ok_or_else(|| bad("a redirect without a Location header"))?;
    let location = location.to_str().map_err(|_| bad("a redirect Location that is not text"))?;
    let target = from.join(location).map_err(|_| bad("a redirect Location that is not a URL"))?;
    parse_url(target.as_str())
}

/// One hop: resolves and checks the host, then sends pinned to the checked addresses.
async fn send_once(policy: &FetchPolicy, request: &Outgoing, url: &Url) -> Result<reqwest::Response, FetchError> {
    let host = url.host_str().expect("parse_url checked the host").to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs = checked_addresses(policy, &host, port).await?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("crew-runner/", env!("CARGO_PKG_VERSION")));
    if let Some(domain) = domain_of(url) {
        builder = builder.resolve_to_addrs(&domain, &addrs);
    }
    let client = builder.build().map_err(|e| FetchError::Request { url: url.to_string(), reason: e.to_string() })?;
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        let value = HeaderValue::from_str(value)
            .map_err(|_| FetchError::Request { url: url.to_string(), reason: format!("header {name} is not valid") })?;
        headers.insert(HeaderName::from_static(name), value);
    }
    let mut builder = client.request(request.method.clone(), url.clone()).headers(headers);
    if let Some(body) = &request.json {
        builder = builder.json(body);
    }
    builder.send().await.map_err(|e| FetchError::Request { url: url.to_string(), reason: error_chain(&e) })
}

/// The host name of `url` when it is a name (not an IP literal).
fn domain_of(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    ip_literal(host).is_none().then(|| host.to_string())
}

/// The IP address a URL host is written as (`127.0.0.1`, `[::1]`), if it is one.
fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// The addresses `host` resolves to (an IP literal is itself), every one checked: one address
/// that is not public refuses the host (unless the policy allows private networks).
pub async fn checked_addresses(policy: &FetchPolicy, host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
    let addrs: Vec<SocketAddr> = match ip_literal(host) {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FetchError::Resolve { host: host.to_string(), reason: e.to_string() })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(FetchError::Resolve { host: host.to_string(), reason: "no addresses".into() });
    }
    if !policy.allow_private {
        let refused = addrs.iter().filter(|a| !policy.exempt.contains(&a.ip())).find_map(|a| non_public_class(a.ip()).map(|c| (a.ip(), c)));
        if let Some((addr, class)) = refused {
            return Err(FetchError::Refused { host: host.to_string(), addr, class });
        }
    }
    Ok(addrs)
}

/// Checks the status and content type, then reads the body up to the size cap.
async fn read_body(policy: &FetchPolicy, request: &Outgoing, url: Url, mut response: reqwest::Response) -> Result<Fetched, FetchError> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !status.is_success() {
        let body = read_capped(&mut response, &url, 2048).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let detail =
            if text.trim().is_empty() { String::new() } else { format!(": {}", text.trim().chars().take(300).collect::<String>()) };
        return Err(FetchError::Status { url: url.to_string(), status: status.as_u16(), detail });
    }
    if !accepts(request.accept, &content_type) {
        return Err(FetchError::ContentType {
            url: url.to_string(),
            content_type: if content_type.is_empty() { "(none)".into() } else { content_type },
            expected: request.accept.join(", "),
        });
    }
    if response.content_length().is_some_and(|n| n > policy.max_bytes as u64) {
        return Err(FetchError::TooLarge { url: url.to_string(), max: policy.max_bytes });
    }
    let body = read_capped(&mut response, &url, policy.max_bytes).await?;
    Ok(Fetched { url, content_type, body })
}

/// Whether `content_type` (lower case, no parameters) is one of `accept`, or a `+json` type when
/// JSON is accepted.
fn accepts(accept: &[&str], content_type: &str) -> bool {
    accept.contains(&content_type) || (accept.contains(&"application/json") && content_type.ends_with("+json"))
}

/// The body, refused past `max` bytes.
async fn read_capped(response: &mut reqwest::Response, url: &Url, max: usize) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Request { url: url.to_string(), reason: error_chain(&e) })? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge { url: url.to_string(), max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error with its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_parse() {
        assert!(parse_url("https://example.com/a").is_ok());
        assert!(parse_url(" http://example.com ").is_ok());
        assert!(matches!(parse_url("file:///etc/passwd"), Err(FetchError::BadUrl(_))));
        assert!(matches!(parse_url("example.com"), Err(FetchError::BadUrl(_))));
        assert!(matches!(parse_url("ftp://example.com"), Err(FetchError::BadUrl(_))));
    }

    #[test]
    fn redirects_resolve_against_the_current_url() {
        let from = Url::parse("http://example.com/a/b").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_static("../c"));
        assert_eq!(redirect_target(&from, &headers).unwrap().as_str(), "http://example.com/c");
        headers.insert(LOCATION, HeaderValue::from_static("file:///etc/passwd"));
        assert!(redirect_target(&from, &headers).is_err());
        assert!(redirect_target(&from, &HeaderMap::new()).is_err());
    }

    #[test]
    fn content_types_are_matched_exactly_or_as_json_suffix() {
        assert!(accepts(PAGE_TYPES, "text/html"));
        assert!(!accepts(PAGE_TYPES, "application/octet-stream"));
        assert!(accepts(JSON_TYPES, "application/problem+json"));
        assert!(!accepts(JSON_TYPES, "text/html"));
    }

    /// A one-route HTTP server on 127.0.0.1 answering every request with `response` (raw HTTP);
    /// returns its port.
    async fn serve(response: String) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        port
    }

    fn loopback_exempt() -> FetchPolicy {
        FetchPolicy { exempt: vec!["127.0.0.1".parse().unwrap()], ..FetchPolicy::new(false) }
    }

    #[tokio::test]
    async fn every_redirect_hop_is_checked_again() {
        for target in ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://[::1]/", "http://127.0.0.2/"] {
            let port = serve(format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")).await;
            let err = fetch(&loopback_exempt(), Outgoing::get(format!("http://127.0.0.1:{port}/start"), PAGE_TYPES)).await.unwrap_err();
            assert!(matches!(err, FetchError::Refused { .. }), "{target}: {err}");
        }
    }

    #[tokio::test]
    async fn redirect_loops_stop_and_bodies_are_checked() {
        let port = serve("HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()).await;
        let err = fetch(&loopback_exempt(), Outgoing::get(format!("http://127.0.0.1:{port}/"), PAGE_TYPES)).await.unwrap_err();
        assert!(err.to_string().contains("more than 5 redirects"), "{err}");
        let body = "x".repeat(100);
        let port = serve(format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n{body}")).await;
        let small = FetchPolicy { max_bytes: 50, ..loopback_exempt() };
        let err = fetch(&small, Outgoing::get(format!("http://127.0.0.1:{port}/"), PAGE_TYPES)).await.unwrap_err();
        assert!(matches!(err, FetchError::TooLarge { max: 50, .. }), "{err}");
        let page = fetch(&loopback_exempt(), Outgoing::get(format!("http://127.0.0.1:{port}/"), PAGE_TYPES)).await.unwrap();
        assert_eq!(page.body.len(), 100);
        let err = fetch(&loopback_exempt(), Outgoing::get(format!("http://127.0.0.1:{port}/"), JSON_TYPES)).await.unwrap_err();
        assert!(matches!(err, FetchError::ContentType { .. }), "{err}");
    }

    #[tokio::test]
    async fn private_addresses_are_refused_unless_allowed() {
        let strict = FetchPolicy::new(false);
        let err = checked_addresses(&strict, "127.0.0.1", 80).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { class: "loopback", .. }), "{err}");
        let err = checked_addresses(&strict, "[::1]", 80).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { class: "loopback", .. }), "{err}");
        let err = checked_addresses(&strict, "localhost", 80).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { .. }), "{err}");
        assert!(checked_addresses(&FetchPolicy::new(true), "127.0.0.1", 80).await.is_ok());
        let err = fetch(&strict, Outgoing::get("http://169.254.169.254/latest", PAGE_TYPES)).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { class: "link-local", .. }), "{err}");
    }
}
