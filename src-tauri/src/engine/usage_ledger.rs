//! Usage of one task, summed per LLM call, in total and per agent (role).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::execution::Usage;

/// A task's usage so far. Shared by the manager and the coworkers it delegates to.
#[derive(Debug, Default)]
pub struct UsageLedger {
    inner: Mutex<LedgerInner>,
}

#[derive(Clone, Debug, Default)]
struct LedgerInner {
    total: Usage,
    by_agent: BTreeMap<String, Usage>,
}

impl UsageLedger {
    /// Adds one call's usage by `agent`.
    pub fn record(&self, agent: &str, usage: &Usage) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.total.add(usage);
        inner.by_agent.entry(agent.to_string()).or_default().add(usage);
    }

    /// The task's total.
    pub fn total(&self) -> Usage {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).total.clone()
    }

    /// Per-agent totals, by role.
    pub fn by_agent(&self) -> BTreeMap<String, Usage> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_agent.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_in_total_and_per_agent() {
        let l = UsageLedger::default();
        let u = Usage { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, llm_calls: 1, cost_usd: Some(0.0) };
        l.record("A", &u);
        l.record("B", &u);
        l.record("A", &u);
        assert_eq!(l.total().total_tokens, 15);
        assert_eq!(l.total().llm_calls, 3);
        assert_eq!(l.by_agent()["A"].total_tokens, 10);
        assert_eq!(l.by_agent()["B"].llm_calls, 1);
    }
}
