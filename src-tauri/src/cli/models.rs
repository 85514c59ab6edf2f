//! `models [FILTER] [--json]`: the models whose price and context window are known, from the
//! price table (LiteLLM's, embedded with its date, plus the user's overrides). Touches no data dir.

use std::fmt::Write;

use super::args::ModelsCommand;
use super::CliError;
use crate::llm::pricing::{overrides_path, ModelInfo, PriceTable};

/// Prints the table (or the models matching `c.filter`) as text or JSON.
///
/// An overrides file that cannot be used is an error here (exit 1, naming the file and why),
/// while runs only warn and use the built-in prices.
pub fn models(c: &ModelsCommand) -> Result<i32, CliError> {
    let table = match overrides_path() {
        Some(path) => PriceTable::with_overrides_from(&path).map_err(CliError::failure)?,
        None => PriceTable::embedded(),
    };
    let needle = c.filter.as_deref().map(str::to_lowercase);
    let rows: Vec<(&String, &ModelInfo)> =
        table.models.iter().filter(|(name, _)| needle.as_deref().is_none_or(|n| name.to_lowercase().contains(n))).collect();
    if c.json {
        let models: serde_json::Map<String, serde_json::Value> =
            rows.iter().map(|(name, info)| ((*name).clone(), serde_json::to_value(info).expect("plain data"))).collect();
        let out = serde_json::json!({"source": table.source, "date": table.date, "overrides": table.overrides, "models": models});
        outln!("{}", serde_json::to_string_pretty(&out).expect("plain data"));
        return Ok(0);
    }
    outln!("{}", text(&table, &rows));
    Ok(0)
}

/// The text form: one model a line (price per 1M tokens in and out, context window), then the
/// source and date.
fn text(table: &PriceTable, rows: &[(&String, &ModelInfo)]) -> String {
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    writeln!(out, "{:<width$}  {:>10}  {:>10}  {:>9}  PROVIDER", "MODEL", "$/M IN", "$/M OUT", "CONTEXT").unwrap();
    for (name, info) in rows {
        let context = info.max_input_tokens.map(|t| t.to_string()).unwrap_or_else(|| "?".into());
        let provider = info.provider.as_deref().unwrap_or("");
        writeln!(
            out,
            "{name:<width$}  {:>10}  {:>10}  {context:>9}  {provider}",
            per_million(info.input_cost_per_token),
            per_million(info.output_cost_per_token)
        )
        .unwrap();
    }
    write!(out, "{} models; prices from {} ({})", rows.len(), table.source, table.date).unwrap();
    if let Some(path) = &table.overrides {
        write!(out, ", with overrides from {}", path.display()).unwrap();
    }
    out
}

/// A per-token price as dollars per 1M tokens, without trailing zeros (`0.15`, `2.5`, `0`).
fn per_million(per_token: f64) -> String {
    let text = format!("{:.4}", per_token * 1_000_000.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_per_million_tokens() {
        assert_eq!(per_million(1.5e-7), "0.15");
        assert_eq!(per_million(2.5e-6), "2.5");
        assert_eq!(per_million(0.0), "0");
    }

    #[test]
    fn the_text_names_each_model_and_the_source_with_its_date() {
        let table = PriceTable::embedded();
        let rows: Vec<_> = table.models.iter().filter(|(n, _)| n.as_str() == "gpt-4o-mini").collect();
        let text = text(&table, &rows);
        assert!(text.contains("gpt-4o-mini") && text.contains("0.15") && text.contains("0.6") && text.contains("128000"), "{text}");
        assert!(text.ends_with(&format!("1 models; prices from {} ({})", table.source, table.date)), "{text}");
    }
}
