//! Command-line run options -> an [`app::SubmitRequest`](crate::app::SubmitRequest).

use std::collections::BTreeMap;
use std::path::Path;

use super::args::RunOptions;
use super::CliError;
use crate::app::{timeout_ms, SubmitRequest};
use crate::crew::{inputs, NetworkChoice};
use crate::execution::LlmOptions;

/// Builds the request; bad `--input`/`--meta`/`--inputs` values are usage errors (exit 2).
pub fn submit_request(crew: &Path, o: &RunOptions) -> Result<SubmitRequest, CliError> {
    let mut request = SubmitRequest::new(crew);
    if let Some(file) = &o.inputs_json {
        request.inputs = inputs::read_inputs_json(file).map_err(CliError::usage)?;
    }
    for pair in &o.inputs {
        let (k, v) = inputs::parse_input_pair(pair).map_err(CliError::usage)?;
        request.inputs.insert(k, v);
    }
    request.meta = parse_meta(&o.meta)?;
    request.priority = o.priority;
    request.max_attempts = o.max_attempts;
    request.max_abandons = o.max_abandons;
    request.engine = o.engine;
    request.python = o.python.as_ref().map(|p| if p.components().count() > 1 { std::path::PathBuf::from(absolute(p)) } else { p.clone() });
    request.timeout_ms = timeout_ms(o.timeout).map_err(CliError::usage)?;
    request.network = NetworkChoice { no_network_tools: o.no_network_tools, allow_private_network: o.allow_private_network };
    request.llm = LlmOptions {
        model: o.model.clone(),
        api_base: o.api_base.clone(),
        record: o.record.as_ref().map(|p| absolute(p)),
        replay: o.replay.as_ref().map(|p| absolute(p)),
        secret_ref: None,
    };
    Ok(request)
}

/// The rows of `--inputs-file`, or one empty row.
pub fn batch_rows(o: &RunOptions) -> Result<Vec<BTreeMap<String, serde_json::Value>>, CliError> {
    match &o.inputs_file {
        Some(file) => {
            let rows = inputs::read_inputs_rows(file).map_err(CliError::usage)?;
            if rows.is_empty() {
                return Err(CliError::Usage(format!("{}: no rows", file.display())));
            }
            Ok(rows)
        }
        None => Ok(vec![BTreeMap::new()]),
    }
}

/// `KEY=VALUE` pairs; keys must be non-empty.
pub fn parse_meta(pairs: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(CliError::Usage(format!("--meta `{p}`: expected KEY=VALUE"))),
        })
        .collect()
}

/// Paths stored with an execution are absolute, so a worker elsewhere finds them.
fn absolute(p: &Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_pairs() {
        let m = parse_meta(&["team=research".into(), "note=a=b".into()]).unwrap();
        assert_eq!(m["team"], "research");
        assert_eq!(m["note"], "a=b");
        assert!(parse_meta(&["novalue".into()]).is_err());
        assert!(parse_meta(&["=x".into()]).is_err());
    }

    #[test]
    fn timeout_must_be_positive() {
        use std::time::Duration;
        let o = RunOptions { timeout: Some(Duration::ZERO), max_attempts: 3, ..Default::default() };
        assert!(matches!(submit_request(Path::new("c.yaml"), &o), Err(CliError::Usage(_))));
        // Rounded up, as the desktop app's seconds are: never less than asked.
        let o = RunOptions { timeout: Some(Duration::from_micros(999)), max_attempts: 3, ..Default::default() };
        assert_eq!(submit_request(Path::new("c.yaml"), &o).unwrap().timeout_ms, Some(1));
        let o = RunOptions { timeout: Some(Duration::from_millis(1500)), max_attempts: 3, ..Default::default() };
        assert_eq!(submit_request(Path::new("c.yaml"), &o).unwrap().timeout_ms, Some(1500));
    }
}
