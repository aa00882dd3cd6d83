//! Buy every symbol on the first bar and hold.

use super::{Action, Context, Strategy};

/// Buy and hold.
#[derive(Debug, Default)]
pub struct BuyAndHold {
    done: bool,
}

impl Strategy for BuyAndHold {
    fn name(&self) -> String {
        "buy-and-hold".into()
    }

    fn warmup(&self) -> usize {
        0
    }

    fn on_bar(&mut self, ctx: &Context<'_>) -> Vec<Action> {
        if std::mem::replace(&mut self.done, true) {
            return Vec::new();
        }
        (0..ctx.symbols())
            .map(|symbol| Action::Target {
                symbol,
                strength: 1.0,
                forecast: None,
            })
            .collect()
    }
}
