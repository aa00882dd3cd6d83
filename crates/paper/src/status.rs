//! Reading the account: its status and its history.

use std::fmt::Write as _;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use qts_backtest::decide::OrderLine;

use crate::account::{Account, read_spec};
use crate::error::PaperError;

/// One position as the last step left it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Holding {
    /// Symbol.
    pub symbol: String,
    /// Signed shares.
    pub shares: f64,
    /// Average entry price (none when flat).
    pub avg_entry: Option<f64>,
    /// The last close.
    pub close: f64,
    /// Shares × close.
    pub value: f64,
    /// (close − entry) × shares.
    pub unrealized_pnl: f64,
}

/// The account after its last step.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The database file.
    pub database: String,
    /// Strategy and parameters.
    pub strategy: String,
    /// `--param` pairs.
    pub params: Vec<(String, String)>,
    /// Starting cash.
    pub initial_cash: f64,
    /// The shares the account was opened with (`--holdings`), held from its first day.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opening_holdings: Vec<(String, f64)>,
    /// What P&L and returns are measured from: the starting cash, or with holdings the
    /// account's value at its first close (the cash until the first step).
    pub opening_value: f64,
    /// First day traded (none before the first step).
    pub first_day: Option<String>,
    /// The last close stepped.
    pub last_day: Option<String>,
    /// Steps taken.
    pub steps: i64,
    /// Cash.
    pub cash: f64,
    /// Equity.
    pub equity: f64,
    /// Equity − the opening value.
    pub pnl: f64,
    /// Equity / the opening value − 1.
    pub total_return: f64,
    /// Highest equity at a close.
    pub peak_equity: f64,
    /// Equity / peak − 1 (≤ 0).
    pub drawdown: f64,
    /// Positions.
    pub positions: Vec<Holding>,
    /// Orders for the next session.
    pub open_orders: Vec<OrderLine>,
    /// Alerts raised so far.
    pub alerts: i64,
}

/// One row of the history: a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// The close.
    pub day: String,
    /// Equity.
    pub equity: f64,
    /// Cash.
    pub cash: f64,
    /// Drawdown from the peak.
    pub drawdown: f64,
    /// Return since the previous step.
    pub day_return: f64,
    /// Fills recorded on this day.
    pub fills: i64,
    /// Alerts raised on this day.
    pub alerts: i64,
}

impl Account {
    /// The account's status.
    ///
    /// # Errors
    /// [`PaperError::NoAccount`] or SQLite's error.
    pub fn status(&self) -> Result<Status, PaperError> {
        let shown = self.shown();
        let spec = read_spec(&self.conn, &shown)?;
        let sql = self.sql("cannot read the account");
        let first_day: Option<String> = self
            .conn
            .query_row("SELECT first_day FROM account", [], |r| r.get(0))
            .map_err(&sql)?;
        let first_equity: Option<f64> = self
            .conn
            .query_row("SELECT equity FROM steps ORDER BY day LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(&sql)?;
        let opening = spec.opening_value(first_equity);
        let (steps, last_day, peak): (i64, Option<String>, Option<f64>) = self
            .conn
            .query_row(
                "SELECT count(*), max(day), max(equity) FROM steps",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(&sql)?;
        let (equity, cash) = match &last_day {
            Some(day) => self
                .conn
                .query_row(
                    "SELECT equity, cash FROM steps WHERE day = ?1",
                    params![day],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(&sql)?,
            None => (opening, spec.initial_cash),
        };
        let peak = peak.unwrap_or(opening).max(opening);
        let mut q = self
            .conn
            .prepare("SELECT symbol, shares, avg_entry, close FROM positions ORDER BY symbol")
            .map_err(&sql)?;
        let positions = q
            .query_map([], |r| {
                let shares: f64 = r.get(1)?;
                let avg_entry: Option<f64> = r.get(2)?;
                let close: f64 = r.get(3)?;
                Ok(Holding {
                    symbol: r.get(0)?,
                    shares,
                    avg_entry,
                    close,
                    value: shares * close,
                    unrealized_pnl: avg_entry.map_or(0.0, |e| (close - e) * shares),
                })
            })
            .map_err(&sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&sql)?;
        let mut q = self
            .conn
            .prepare(
                "SELECT id, decided, symbol, side, shares, order_type, limit_price, stop_price,
                        time_in_force, reason FROM orders ORDER BY id",
            )
            .map_err(&sql)?;
        let open_orders = q
            .query_map([], |r| {
                Ok(OrderLine {
                    id: r.get::<_, i64>(0)? as u64,
                    decided: r.get(1)?,
                    symbol: r.get(2)?,
                    side: r.get(3)?,
                    shares: r.get(4)?,
                    order_type: r.get(5)?,
                    limit: r.get(6)?,
                    stop: r.get(7)?,
                    time_in_force: r.get(8)?,
                    reason: r.get(9)?,
                })
            })
            .map_err(&sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&sql)?;
        let alerts: i64 = self
            .conn
            .query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))
            .map_err(&sql)?;
        Ok(Status {
            database: shown,
            strategy: spec.strategy,
            params: spec.params,
            initial_cash: spec.initial_cash,
            opening_holdings: spec.holdings.clone(),
            opening_value: opening,
            first_day,
            last_day,
            steps,
            cash,
            equity,
            pnl: equity - opening,
            // An account opened with shares and no cash is worth nothing until its first step
            // values them.
            total_return: if opening > 0.0 {
                equity / opening - 1.0
            } else {
                0.0
            },
            peak_equity: peak,
            drawdown: if peak > 0.0 { equity / peak - 1.0 } else { 0.0 },
            positions,
            open_orders,
            alerts,
        })
    }

    /// Every step, oldest first.
    ///
    /// # Errors
    /// [`PaperError::NoAccount`] or SQLite's error.
    pub fn history(&self) -> Result<Vec<HistoryRow>, PaperError> {
        let spec = read_spec(&self.conn, &self.shown())?;
        let sql = self.sql("cannot read the history");
        let mut q = self
            .conn
            .prepare(
                "SELECT s.day, s.equity, s.cash, s.drawdown,
                        (SELECT count(*) FROM fills f WHERE f.day = s.day),
                        (SELECT count(*) FROM alerts a WHERE a.day = s.day)
                 FROM steps s ORDER BY s.day",
            )
            .map_err(&sql)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, f64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(&sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&sql)?;
        let mut previous = spec.opening_value(rows.first().map(|r| r.1));
        Ok(rows
            .into_iter()
            .map(|(day, equity, cash, drawdown, fills, alerts)| {
                let day_return = equity / previous - 1.0;
                previous = equity;
                HistoryRow {
                    day,
                    equity,
                    cash,
                    drawdown,
                    day_return,
                    fills,
                    alerts,
                }
            })
            .collect())
    }

    /// Marks the alerts of `day` of `kind` as delivered to the webhook.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn mark_delivered(&self, day: &str, kind: &str) -> Result<(), PaperError> {
        self.conn
            .execute(
                "UPDATE alerts SET delivered = 1 WHERE day = ?1 AND kind = ?2",
                params![day, kind],
            )
            .map(|_| ())
            .map_err(self.sql("cannot record the alert's delivery"))
    }
}

/// The history as CSV (`day,equity,cash,drawdown,day_return,fills,alerts`).
pub fn history_csv(rows: &[HistoryRow]) -> String {
    let mut out = String::from("day,equity,cash,drawdown,day_return,fills,alerts\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            r.day, r.equity, r.cash, r.drawdown, r.day_return, r.fills, r.alerts
        );
    }
    out
}
