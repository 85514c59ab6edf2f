//! Query strings: `GET /v1/executions` filters and `…/logs` paging, parsed by hand so a key may
//! repeat (`status=queued&status=running`) and unknown keys are refused.

use std::collections::BTreeMap;

use crate::execution::{ExecutionFilter, Status};

use super::error::ApiError;

/// The most executions one list page holds.
pub const MAX_PAGE: u32 = 1000;

/// The page size when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 50;

/// The `key=value` pairs of a query string, percent-decoded, in order.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ApiError> {
    value.parse().map_err(|_| ApiError::invalid(format!("query `{key}`: `{value}` is not a non-negative whole number")))
}

/// The filter of `GET /v1/executions`: `status` (repeatable, or a comma list), `crew` (the crew's
/// name), `meta=KEY=VALUE` (repeatable; all must match), `limit` (1 to [`MAX_PAGE`], default
/// [`DEFAULT_PAGE`]) and `before` (the previous page's `next_before`).
pub fn execution_filter(query: Option<&str>) -> Result<ExecutionFilter, ApiError> {
    let mut filter = ExecutionFilter { limit: DEFAULT_PAGE, ..ExecutionFilter::default() };
    let mut meta = BTreeMap::new();
    for (key, value) in pairs(query) {
        match key.as_str() {
            "status" => {
                for word in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                    let status: Status = word.parse().map_err(|e| ApiError::invalid(format!("query `status`: {e}")))?;
                    if !filter.statuses.contains(&status) {
                        filter.statuses.push(status);
                    }
                }
            }
            "crew" => filter.crew_name = Some(value),
            "meta" => match value.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    meta.insert(k.trim().to_string(), v.to_string());
                }
                _ => return Err(ApiError::invalid(format!("query `meta`: `{value}`: expected KEY=VALUE"))),
            },
            "limit" => {
                filter.limit = number(&key, &value)?;
                if !(1..=MAX_PAGE).contains(&filter.limit) {
                    return Err(ApiError::invalid(format!("query `limit`: expected 1 to {MAX_PAGE}")));
                }
            }
            "before" => filter.before = Some(value.parse().map_err(|e| ApiError::invalid(format!("query `before`: {e}")))?),
            other => return Err(ApiError::invalid(format!("unknown query parameter `{other}` (status, crew, meta, limit, before)"))),
        }
    }
    filter.meta = meta;
    Ok(filter)
}

/// The paging of `GET …/logs`: `after` (a seq; lines after it, default 0) and `limit` (at most
/// this many lines, 1 to 10000, default 1000).
pub fn log_page(query: Option<&str>) -> Result<(u64, u32), ApiError> {
    let (mut after, mut limit) = (0, 1000);
    for (key, value) in pairs(query) {
        match key.as_str() {
            "after" => after = number(&key, &value)?,
            "limit" => {
                limit = number(&key, &value)?;
                if !(1..=10_000).contains(&limit) {
                    return Err(ApiError::invalid("query `limit`: expected 1 to 10000"));
                }
            }
            other => return Err(ApiError::invalid(format!("unknown query parameter `{other}` (after, limit)"))),
        }
    }
    Ok((after, limit))
}

/// The `after` of `GET …/events` (the seq to continue after; the `Last-Event-ID` header wins
/// over it), default 0.
pub fn events_after(query: Option<&str>) -> Result<u64, ApiError> {
    let mut after = 0;
    for (key, value) in pairs(query) {
        match key.as_str() {
            "after" => after = number(&key, &value)?,
            other => return Err(ApiError::invalid(format!("unknown query parameter `{other}` (after)"))),
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_filters() {
        let f = execution_filter(Some("status=queued,running&status=failed&status=queued&crew=one&meta=team%3Dr%26d&limit=5")).unwrap();
        assert_eq!(f.statuses, vec![Status::Queued, Status::Running, Status::Failed]);
        assert_eq!(f.crew_name.as_deref(), Some("one"));
        assert_eq!(f.meta["team"], "r&d");
        assert_eq!(f.limit, 5);
        assert_eq!(execution_filter(None).unwrap().limit, DEFAULT_PAGE);
        for bad in ["status=done", "limit=0", "limit=-1", "limit=1001", "meta=novalue", "before=nope", "colour=red"] {
            assert_eq!(execution_filter(Some(bad)).unwrap_err().kind, super::super::error::ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn log_paging() {
        assert_eq!(log_page(None).unwrap(), (0, 1000));
        assert_eq!(log_page(Some("after=7&limit=2")).unwrap(), (7, 2));
        assert!(log_page(Some("after=x")).is_err() && log_page(Some("limit=0")).is_err() && log_page(Some("tail=1")).is_err());
        assert_eq!(events_after(Some("after=3")).unwrap(), 3);
    }
}
