//! async-openai's `Config` for any OpenAI-compatible endpoint: base URL and an optional key.

use async_openai::config::Config;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};

/// Base URL and key of one endpoint. Without a key no `Authorization` header is sent.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    api_base: String,
    api_key: SecretString,
}

impl EndpointConfig {
    pub fn new(api_base: &str, api_key: Option<&str>) -> Self {
        EndpointConfig { api_base: api_base.trim_end_matches('/').to_string(), api_key: SecretString::from(api_key.unwrap_or_default().to_string()) }
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
        vec![]
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
}
