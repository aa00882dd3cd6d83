//! In-sample by provenance: a backtest of the parameters a tracked search chose on the same
//! data is in-sample, whatever its own flags say. The run store knows both: each tracked
//! search is in its search index with its strategy, its winner and the SHA-256 of the data it
//! read (its run also records `run.strategy`, `run.best.NAME`, `qts.data_hash`); the backtest
//! knows its own.

use std::collections::BTreeMap;
use std::path::Path;

use qts_backtest::strategy::Registry;
use qts_tracking::RunStore;

/// The search run whose winner a backtest re-runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchWinner {
    /// The search's run id in the local store.
    pub run_id: String,
    /// Its name (`optimize fast=5;slow=30 (4 trials)`).
    pub name: String,
    /// The winner's parameters, as recorded.
    pub params: BTreeMap<String, String>,
}

impl SearchWinner {
    /// The note a result carries.
    pub fn note(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "IN-SAMPLE: {} is the winner of the search run {} ({}) on the same data: its numbers here are those the search chose it for, not an estimate of what it would earn",
            params.join(", "),
            self.run_id,
            self.name
        )
    }
}

/// The parameters `strategy` runs with: its registered defaults overlaid with `given` (as the
/// user typed them), as numbers; `None` for an unknown strategy.
fn resolved(strategy: &str, given: &[(String, String)]) -> Option<BTreeMap<String, f64>> {
    let registry = Registry::builtin();
    let entry = registry.entry(strategy).ok()?;
    let mut out: BTreeMap<String, f64> = entry
        .params
        .iter()
        .map(|p| (p.name.to_string(), p.default.as_f64()))
        .collect();
    for (k, v) in given {
        out.insert(k.clone(), v.trim().parse().ok()?);
    }
    Some(out)
}

/// The search in `store`'s search index ([`qts_tracking::RunStore::searches`]: searches of
/// `strategy` on data hashed `data_hash`) whose winner is the parameters `given` resolve to;
/// the newest when several chose them. Only the index is read, never the runs themselves, so a
/// backtest pays nothing for a large store; an index line that cannot be read is skipped (the
/// store is untrusted input, and the backtest goes on without a label).
pub fn search_winner(
    store: &Path,
    strategy: &str,
    given: &[(String, String)],
    data_hash: &str,
) -> Option<SearchWinner> {
    if data_hash.is_empty() {
        return None;
    }
    let ours = resolved(strategy, given)?;
    RunStore::new(store)
        .searches()
        .into_iter()
        .rev()
        .filter(|e| e.strategy == strategy && e.data_hash == data_hash && !e.best.is_empty())
        .find(|e| {
            e.best.iter().all(|(k, v)| {
                let theirs: Option<f64> = v.trim().parse().ok();
                matches!((theirs, ours.get(k)), (Some(a), Some(b)) if a == *b)
            })
        })
        .map(|e| SearchWinner {
            run_id: e.run_id,
            name: e.name,
            params: e.best,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_resolve_over_the_registered_defaults() {
        let r = resolved("sma-cross", &[("fast".into(), "5".into())]).unwrap();
        assert_eq!(r["fast"], 5.0);
        assert!(r.contains_key("slow"));
        assert!(resolved("no-such", &[]).is_none());
        assert!(resolved("sma-cross", &[("fast".into(), "x".into())]).is_none());
    }
}
