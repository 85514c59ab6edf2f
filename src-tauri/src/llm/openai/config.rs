//! async-openai's `Config` for any OpenAI-compatible endpoint: base URL and an optional key.

use async_openai::config::Config;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};

/// Base URL and key of one endpoint. Without a key no `Authorization` header is sent.
///
/// A query string in the base URL (`…/v1?api-key=K`) is sent with every request, after the
/// request's path; user and password in it are sent as HTTP basic auth by reqwest (a key's
/// `Bearer` header wins over it).
#[derive(Clone)]
pub struct EndpointConfig {
    /// Without its query string and trailing `/`.
    api_base: String,
    query: Vec<(String, String)>,
    api_key: SecretString,
}

impl std::fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("api_base", &crate::llm::endpoint_secrets::redact_url(&self.api_base))
            .field("query", &self.query.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl EndpointConfig {
    pub fn new(api_base: &str, api_key: Option<&str>) -> Self {
        let (base, query) = match reqwest::Url::parse(api_base) {
            Ok(mut url) if url.query().is_some() => {
                let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                url.set_query(None);
                (url.to_string(), query)
            }
            _ => (api_base.to_string(), Vec::new()),
        };
        EndpointConfig {
            api_base: base.trim_end_matches('/').to_string(),
            query,
            api_key: SecretString::from(api_key.unwrap_or_default().to_string()),
        }
    }
}

impl Config for EndpointConfig {
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let key = self.api_key.expose_secret();
        if !key.is_empty() {
            if let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {key}")) {
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
        }
        headers
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_base, path)
    }

    fn query(&self) -> Vec<(&str, &str)> {
        self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    fn api_base(&self) -> &str {
        &self.api_base
    }

    fn api_key(&self) -> &SecretString {
        &self.api_key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_only_with_a_key() {
        let with = EndpointConfig::new("http://h/v1/", Some("sk-1"));
        assert_eq!(with.headers().get(AUTHORIZATION).unwrap(), "Bearer sk-1");
        assert_eq!(with.url("/chat/completions"), "http://h/v1/chat/completions");
        assert!(EndpointConfig::new("http://h/v1", None).headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn a_query_in_the_base_goes_after_the_path() {
        let c = EndpointConfig::new("http://h/v1/?api-key=K%2B1&x=y", None);
        assert_eq!(c.url("/chat/completions"), "http://h/v1/chat/completions");
        assert_eq!(c.query(), vec![("api-key", "K+1"), ("x", "y")]);
        assert!(!format!("{c:?}").contains("K+1"));
    }
}
