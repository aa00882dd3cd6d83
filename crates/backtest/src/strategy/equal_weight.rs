//! The equal-weight portfolio of a universe: at each rebalance, every symbol with a bar (not
//! delisted) at `1 / n` of equity, `n` the number of such symbols. The baseline a ranked
//! portfolio is measured against, traded under the same rules (schedule, costs, limits).

use super::{Action, Context, Strategy};

/// See the module comment.
#[derive(Debug, Default)]
pub struct EqualWeight;

impl Strategy for EqualWeight {
    fn name(&self) -> String {
        "equal-weight".into()
    }

    fn warmup(&self) -> usize {
        0
    }

    fn sizes(&self) -> bool {
        true
    }

    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        if !ctx.rebalance() {
            return Vec::new();
        }
        let live: Vec<usize> = (0..ctx.symbols()).filter(|&s| ctx.tradable(s)).collect();
        let w = 1.0 / live.len().max(1) as f64;
        live.into_iter()
            .map(|symbol| Action::Target {
                symbol,
                strength: w,
                forecast: None,
            })
            .collect()
    }
}
