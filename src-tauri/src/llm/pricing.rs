//! Prices of well-known models, for the cost in [`Usage`](crate::execution::Usage).
//!
//! Prices are US dollars per 1M tokens (input, output), as published by the providers. A model
//! name matches a row when it equals the row's name or continues it with a version suffix
//! (`gpt-4o-mini-2024-07-18`, `claude-3-5-haiku-20241022`, `…-latest`); the longest matching row
//! wins, so `gpt-4o-mini` is never priced as `gpt-4o`. Models of local providers cost 0.

/// Input and output price per 1M tokens, in US dollars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    pub input_per_m: f64,
    pub output_per_m: f64,
}

impl Price {
    /// What `prompt` input and `completion` output tokens cost.
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        (prompt as f64 * self.input_per_m + completion as f64 * self.output_per_m) / 1_000_000.0
    }
}

const fn price(input_per_m: f64, output_per_m: f64) -> Price {
    Price { input_per_m, output_per_m }
}

/// The price table (model name, price).
pub const PRICES: &[(&str, Price)] = &[
    ("gpt-4o-mini", price(0.15, 0.60)),
    ("gpt-4o", price(2.50, 10.00)),
    ("gpt-4.1", price(2.00, 8.00)),
    ("gpt-4.1-mini", price(0.40, 1.60)),
    ("gpt-4.1-nano", price(0.10, 0.40)),
    ("gpt-4-turbo", price(10.00, 30.00)),
    ("gpt-3.5-turbo", price(0.50, 1.50)),
    ("o4-mini", price(1.10, 4.40)),
    ("o3-mini", price(1.10, 4.40)),
    ("o3", price(2.00, 8.00)),
    ("claude-3-5-haiku", price(0.80, 4.00)),
    ("claude-3-5-sonnet", price(3.00, 15.00)),
    ("claude-3-7-sonnet", price(3.00, 15.00)),
    ("claude-sonnet-4", price(3.00, 15.00)),
    ("claude-opus-4", price(15.00, 75.00)),
    ("gemini-2.0-flash", price(0.10, 0.40)),
    ("gemini-2.5-flash", price(0.30, 2.50)),
    ("gemini-2.5-pro", price(1.25, 10.00)),
    ("deepseek-chat", price(0.27, 1.10)),
    ("deepseek-reasoner", price(0.55, 2.19)),
];

/// The price of `model` (the provider's model name, without our `provider/` prefix), if known.
pub fn price_of(model: &str) -> Option<Price> {
    PRICES.iter().filter(|(name, _)| is_version_of(model, name)).max_by_key(|(name, _)| name.len()).map(|(_, price)| *price)
}

/// The cost of one call: 0 on local providers, the table's price otherwise, `None` when unknown.
pub fn cost_usd(local: bool, model: &str, prompt: u64, completion: u64) -> Option<f64> {
    if local {
        return Some(0.0);
    }
    price_of(model).map(|p| p.cost(prompt, completion))
}

/// `model` is `base` or `base` followed by a version suffix (`-<digit>…` or `-latest`).
fn is_version_of(model: &str, base: &str) -> bool {
    match model.strip_prefix(base) {
        Some("") => true,
        Some(rest) => rest == "-latest" || rest.strip_prefix('-').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_dated_names_match() {
        assert_eq!(price_of("gpt-4o-mini"), Some(price(0.15, 0.60)));
        assert_eq!(price_of("gpt-4o-mini-2024-07-18"), Some(price(0.15, 0.60)));
        assert_eq!(price_of("gpt-4o-2024-08-06"), Some(price(2.50, 10.00)));
        assert_eq!(price_of("claude-3-5-haiku-20241022"), Some(price(0.80, 4.00)));
        assert_eq!(price_of("claude-3-5-haiku-latest"), Some(price(0.80, 4.00)));
        assert_eq!(price_of("gpt-4.1-nano"), Some(price(0.10, 0.40)));
    }

    #[test]
    fn other_variants_are_unknown() {
        assert_eq!(price_of("gpt-4o-audio-preview"), None);
        assert_eq!(price_of("llama3.1"), None);
        assert_eq!(price_of("o3-pro"), None);
    }

    #[test]
    fn cost_is_per_million_and_zero_for_local() {
        let c = cost_usd(false, "gpt-4o-mini", 1_000_000, 1_000_000).unwrap();
        assert!((c - 0.75).abs() < 1e-9);
        let c = cost_usd(false, "gpt-4o", 1000, 500).unwrap();
        assert!((c - (0.0025 + 0.005)).abs() < 1e-12);
        assert_eq!(cost_usd(true, "llama3.1", 10, 10), Some(0.0));
        assert_eq!(cost_usd(false, "unknown-model", 10, 10), None);
    }
}
