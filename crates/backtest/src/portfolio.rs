//! Cash, positions as FIFO lots, realised trades, and the equity curve.

use chrono::NaiveDateTime;
use serde::Serialize;

/// An open lot: part of a position entered by one fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Lot {
    /// Signed shares.
    pub size: f64,
    /// Entry price (slippage included).
    pub entry_price: f64,
    /// Entry bar.
    pub entry_bar: usize,
    /// Entry time.
    pub entry_time: NaiveDateTime,
    /// Entry commission not yet assigned to a closed trade.
    pub entry_commission: f64,
    /// Dividends received (paid, for a short) not yet assigned to a closed trade.
    pub dividends: f64,
    /// The split ratios crossed since entry, multiplied (1 when none).
    pub split: f64,
}

qts_core::text_enum! {
    /// The side of a trade.
    TradeSide {
        /// Bought first.
        Long => "long",
        /// Sold short first.
        Short => "short",
    }
}

/// A closed trade (one lot, or the closed part of one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trade {
    /// Symbol.
    pub symbol: String,
    /// Long or short.
    pub side: TradeSide,
    /// Shares (positive).
    pub size: f64,
    /// Entry bar.
    pub entry_bar: usize,
    /// Exit bar.
    pub exit_bar: usize,
    /// Entry time.
    pub entry_time: NaiveDateTime,
    /// Exit time.
    pub exit_time: NaiveDateTime,
    /// Entry price.
    pub entry_price: f64,
    /// Exit price.
    pub exit_price: f64,
    /// Profit or loss after entry and exit commissions, dividends included.
    pub pnl: f64,
    /// Return on the entry value after commissions.
    pub ret: f64,
    /// Entry plus exit commission.
    pub commission: f64,
    /// Calendar days held.
    pub duration_days: f64,
    /// Why it was closed: the closing order's [`crate::order::Reason`] as text.
    pub exit_reason: &'static str,
    /// Cash dividends received while open (negative: paid on a short); in `pnl`.
    pub dividends: f64,
    /// The split ratios crossed while open, multiplied (1 when none): the entry price is on
    /// the shares after them.
    pub split: f64,
}

/// The account.
#[derive(Debug, Clone)]
pub struct Portfolio {
    /// Symbol names.
    pub symbols: Vec<String>,
    /// Cash.
    pub cash: f64,
    /// Open lots per symbol, oldest first (changed only through `apply`).
    lots: Vec<Vec<Lot>>,
    /// Closed lots (or closed parts of lots) in closing order.
    pub trades: Vec<Trade>,
    /// Round trips in closing order: a position from open to flat (or to a flip), however
    /// often it was resized in between — what the trade statistics count.
    pub round_trips: Vec<Trade>,
    /// Each symbol's round trip in progress: the lots closed so far since it opened.
    trips: Vec<Option<Trade>>,
    /// Net shares per symbol (the sum of its lots), kept in step by [`Portfolio::apply`]: the
    /// engine asks for positions several times a bar.
    net: Vec<f64>,
}

impl Portfolio {
    /// An account holding `cash`.
    pub fn new(symbols: Vec<String>, cash: f64) -> Portfolio {
        let n = symbols.len();
        Portfolio {
            symbols,
            cash,
            lots: vec![Vec::new(); n],
            trades: Vec::new(),
            round_trips: Vec::new(),
            trips: vec![None; n],
            net: vec![0.0; n],
        }
    }

    /// Holds `shares` of a symbol bought before the account's first bar (an account opened
    /// with holdings): a lot entered at `price` on `bar`, no cash paid, no commission.
    pub fn hold(
        &mut self,
        symbol: usize,
        shares: f64,
        price: f64,
        bar: usize,
        time: NaiveDateTime,
    ) {
        if shares == 0.0 {
            return;
        }
        self.lots[symbol].push(Lot {
            size: shares,
            entry_price: price,
            entry_bar: bar,
            entry_time: time,
            entry_commission: 0.0,
            dividends: 0.0,
            split: 1.0,
        });
        self.net[symbol] = self.lots[symbol].iter().map(|l| l.size).sum();
    }

    /// A symbol's open lots, oldest first.
    pub fn lots(&self, symbol: usize) -> &[Lot] {
        &self.lots[symbol]
    }

    /// Signed shares held of a symbol.
    pub fn position(&self, symbol: usize) -> f64 {
        self.net[symbol]
    }

    /// Average entry price of a symbol's open lots.
    pub fn avg_entry(&self, symbol: usize) -> f64 {
        let lots = &self.lots[symbol];
        let shares: f64 = lots.iter().map(|l| l.size).sum();
        lots.iter().map(|l| l.size * l.entry_price).sum::<f64>() / shares
    }

    /// Bar at which the oldest open lot of a symbol was entered.
    pub fn entry_bar(&self, symbol: usize) -> Option<usize> {
        self.lots[symbol].first().map(|l| l.entry_bar)
    }

    /// Cash plus the market value of every position at `prices`.
    pub fn equity(&self, prices: &[f64]) -> f64 {
        // A flat symbol adds nothing, whatever its price (none before it lists).
        self.cash
            + (0..self.lots.len())
                .map(|s| self.position(s))
                .zip(prices)
                .filter(|(held, _)| *held != 0.0)
                .map(|(held, p)| held * p)
                .sum::<f64>()
    }

    /// Sum of |position value| at `prices`.
    pub fn gross_exposure(&self, prices: &[f64]) -> f64 {
        (0..self.lots.len())
            .map(|s| self.position(s))
            .zip(prices)
            .filter(|(held, _)| *held != 0.0)
            .map(|(held, p)| (held * p).abs())
            .sum()
    }

    /// Applies a fill: opposite lots are closed first in FIFO order (each closing a trade);
    /// what remains opens a new lot. Cash moves by the traded value and the commission.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        symbol: usize,
        size: f64,
        price: f64,
        commission: f64,
        bar: usize,
        time: NaiveDateTime,
        reason: &'static str,
    ) {
        self.cash -= size * price + commission;
        let mut left = size;
        // The commission is split between the closing and the opening parts by shares.
        let per_share = if size != 0.0 {
            commission / size.abs()
        } else {
            0.0
        };
        while left != 0.0 {
            let Some(lot) = self.lots[symbol].first_mut() else {
                break;
            };
            if lot.size.signum() == left.signum() {
                break;
            }
            let closed = left.abs().min(lot.size.abs()).copysign(lot.size);
            let share = closed / lot.size;
            let entry_commission = lot.entry_commission * share;
            let exit_commission = per_share * closed.abs();
            let dividends = lot.dividends * share;
            let gross = closed * (price - lot.entry_price);
            let pnl = gross + dividends - entry_commission - exit_commission;
            let entry_value = closed.abs() * lot.entry_price;
            let lot_trade = Trade {
                symbol: self.symbols[symbol].clone(),
                side: if closed > 0.0 {
                    TradeSide::Long
                } else {
                    TradeSide::Short
                },
                size: closed.abs(),
                entry_bar: lot.entry_bar,
                exit_bar: bar,
                entry_time: lot.entry_time,
                exit_time: time,
                entry_price: lot.entry_price,
                exit_price: price,
                pnl,
                ret: pnl / entry_value,
                commission: entry_commission + exit_commission,
                duration_days: (time - lot.entry_time).num_seconds() as f64 / 86_400.0,
                exit_reason: reason,
                dividends,
                split: lot.split,
            };
            self.trips[symbol] = Some(match self.trips[symbol].take() {
                None => lot_trade.clone(),
                Some(trip) => extend(trip, &lot_trade),
            });
            self.trades.push(lot_trade);
            lot.entry_commission -= entry_commission;
            lot.dividends -= dividends;
            lot.size -= closed;
            left += closed;
            if lot.size.abs() < 1e-12 {
                self.lots[symbol].remove(0);
            }
        }
        self.net[symbol] = self.lots[symbol].iter().map(|l| l.size).sum::<f64>();
        if self.lots[symbol].is_empty()
            && let Some(trip) = self.trips[symbol].take()
        {
            // Flat (or about to flip): the round trip is over.
            self.round_trips.push(trip);
        }
        if left.abs() > 1e-12 {
            self.net[symbol] += left;
            self.lots[symbol].push(Lot {
                size: left,
                entry_price: price,
                entry_bar: bar,
                entry_time: time,
                entry_commission: per_share * left.abs(),
                dividends: 0.0,
                split: 1.0,
            });
        }
    }

    /// Pays a cash dividend of `per_share` on a symbol's position (a short pays it); returns
    /// the cash moved.
    pub fn pay_dividend(&mut self, symbol: usize, per_share: f64) -> f64 {
        let mut cash = 0.0;
        for lot in &mut self.lots[symbol] {
            let paid = lot.size * per_share;
            lot.dividends += paid;
            cash += paid;
        }
        self.cash += cash;
        cash
    }

    /// Splits a symbol's position `ratio` for one at `price` (the ex-date's open, `bar` at
    /// `time`): every lot's shares × ratio, entry price ÷ ratio; with `whole` shares, the
    /// fraction of a share left over is paid in cash at `price`, closed as a trade of its own
    /// (exit reason `split`, first in first out as every closing is). Returns the shares after
    /// the split and the cash paid in lieu of the fraction.
    #[allow(clippy::too_many_arguments)]
    pub fn split(
        &mut self,
        symbol: usize,
        ratio: f64,
        whole: bool,
        price: f64,
        bar: usize,
        time: NaiveDateTime,
    ) -> (f64, f64) {
        for lot in self.lots[symbol].iter_mut() {
            lot.size *= ratio;
            lot.entry_price /= ratio;
            lot.split *= ratio;
        }
        let net: f64 = self.lots[symbol].iter().map(|l| l.size).sum();
        let mut in_lieu = 0.0;
        if whole {
            let kept = scaled_shares(net);
            let fraction = kept - kept.trunc();
            if fraction.abs() > 1e-12 {
                in_lieu = fraction * price;
                self.apply(
                    symbol,
                    -fraction,
                    price,
                    0.0,
                    bar,
                    time,
                    crate::order::Reason::Split.as_str(),
                );
            }
            for lot in self.lots[symbol].iter_mut() {
                lot.size = scaled_shares(lot.size);
            }
        }
        self.net[symbol] = self.lots[symbol].iter().map(|l| l.size).sum::<f64>();
        (self.net[symbol], in_lieu)
    }
}

/// A share count scaled by a ratio, to a billionth of a share: 151.5 shares at 3:2 stay 101,
/// 3 × 1/3 stays 1, not 0.999….
pub(crate) fn scaled_shares(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// A round trip with one more closed lot: shares, values, P&L and commissions add up; prices
/// are share-weighted averages; the return is on the whole entry value.
fn extend(trip: Trade, lot: &Trade) -> Trade {
    let size = trip.size + lot.size;
    let entry_value = trip.size * trip.entry_price + lot.size * lot.entry_price;
    let exit_value = trip.size * trip.exit_price + lot.size * lot.exit_price;
    let pnl = trip.pnl + lot.pnl;
    let entry_time = trip.entry_time.min(lot.entry_time);
    Trade {
        size,
        entry_bar: trip.entry_bar.min(lot.entry_bar),
        exit_bar: lot.exit_bar,
        entry_time,
        exit_time: lot.exit_time,
        entry_price: entry_value / size,
        exit_price: exit_value / size,
        pnl,
        ret: pnl / entry_value,
        commission: trip.commission + lot.commission,
        duration_days: (lot.exit_time - entry_time).num_seconds() as f64 / 86_400.0,
        exit_reason: lot.exit_reason,
        dividends: trip.dividends + lot.dividends,
        split: trip.split.max(lot.split),
        ..trip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(d: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 1, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    #[test]
    fn fifo_lots_close_into_trades_with_both_commissions() {
        let mut p = Portfolio::new(vec!["A".into()], 10_000.0);
        p.apply(0, 10.0, 100.0, 2.0, 1, t(2), "rebalance");
        p.apply(0, 10.0, 110.0, 2.0, 2, t(3), "rebalance");
        assert_eq!(p.position(0), 20.0);
        assert!((p.avg_entry(0) - 105.0).abs() < 1e-12);
        p.apply(0, -15.0, 120.0, 3.0, 3, t(4), "rebalance");
        assert_eq!(p.trades.len(), 2);
        assert!((p.trades[0].pnl - (200.0 - 2.0 - 2.0)).abs() < 1e-9);
        assert!((p.trades[1].pnl - (50.0 - 1.0 - 1.0)).abs() < 1e-9);
        assert_eq!(p.position(0), 5.0);
        // Equity = cash + positions, always.
        let eq = p.equity(&[120.0]);
        assert!((eq - (10_000.0 + 200.0 + 50.0 + 5.0 * 10.0 - 7.0)).abs() < 1e-9);
    }

    #[test]
    fn a_reversal_closes_then_opens_short() {
        let mut p = Portfolio::new(vec!["A".into()], 1000.0);
        p.apply(0, 5.0, 100.0, 0.0, 1, t(2), "x");
        p.apply(0, -8.0, 90.0, 0.0, 2, t(3), "x");
        assert_eq!(p.position(0), -3.0);
        assert_eq!(p.trades[0].side, "long");
        assert!((p.trades[0].pnl + 50.0).abs() < 1e-12);
    }

    #[test]
    fn a_resized_position_is_one_round_trip_and_a_flip_is_two() {
        let mut p = Portfolio::new(vec!["A".into()], 10_000.0);
        p.apply(0, 10.0, 100.0, 2.0, 1, t(2), "rebalance");
        p.apply(0, 10.0, 110.0, 2.0, 2, t(3), "rebalance");
        p.apply(0, -15.0, 120.0, 3.0, 3, t(4), "rebalance");
        // Still open: lots closed, no round trip yet.
        assert_eq!(p.trades.len(), 2);
        assert!(p.round_trips.is_empty());
        p.apply(0, -5.0, 130.0, 1.0, 4, t(5), "stop_loss");
        assert_eq!(p.trades.len(), 3);
        assert_eq!(p.round_trips.len(), 1);
        let trip = &p.round_trips[0];
        let lots_pnl: f64 = p.trades.iter().map(|l| l.pnl).sum();
        assert!((trip.pnl - lots_pnl).abs() < 1e-9);
        // 20 shares in at 105 on average, out at (15 × 120 + 5 × 130) / 20.
        assert_eq!(trip.size, 20.0);
        assert!((trip.entry_price - 105.0).abs() < 1e-12);
        assert!((trip.exit_price - 122.5).abs() < 1e-12);
        assert!((trip.commission - 8.0).abs() < 1e-12);
        assert!((trip.ret - trip.pnl / 2100.0).abs() < 1e-15);
        assert_eq!((trip.entry_bar, trip.exit_bar), (1, 4));
        assert_eq!(trip.duration_days, 3.0);
        assert_eq!(trip.exit_reason, "stop_loss");
        // A flip ends one round trip and starts the next.
        p.apply(0, 5.0, 100.0, 0.0, 5, t(6), "x");
        p.apply(0, -8.0, 90.0, 0.0, 6, t(7), "x");
        assert_eq!(p.round_trips.len(), 2);
        assert_eq!(p.round_trips[1].side, "long");
        p.apply(0, 3.0, 95.0, 0.0, 7, t(8), "x");
        assert_eq!(p.round_trips.len(), 3);
        assert_eq!(p.round_trips[2].side, "short");
        assert!((p.round_trips[2].pnl + 15.0).abs() < 1e-12);
    }
}
