//! One step of the account: after a close, the fills of the previous decision at this
//! session's open, the marks at this close, and the new decision, all in one transaction.
//!
//! The account is the engine's own replay: each step runs the engine from the account's first
//! day to the close (the same [`qts_backtest::decide()`] as `qts decide`), checks that the replay
//! still gives every equity the account recorded, and records what is new. So a paper account
//! cannot drift from its backtest, and a revised price history is detected, not absorbed.

use std::collections::HashMap;

use crate::settings::MonitoringConfig;
use chrono::NaiveDate;
use qts_backtest::decide::{Decision, OrderLine};
use qts_backtest::report::{Market, Settings, Stamp};
use qts_backtest::strategy::Strategy;
use qts_backtest::{DecideRequest, decide};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::account::{Account, read_spec};
use crate::error::PaperError;
use crate::fault;
use crate::monitor::Alert;

/// What a step is given (the caller read and validated the bars up to the close).
pub struct StepRequest<'a> {
    /// The close just passed (bars after it are never read).
    pub as_of: NaiveDate,
    /// The bars, validated.
    pub market: &'a Market,
    /// The strategy the account follows, built fresh.
    pub strategy: &'a mut dyn Strategy,
    /// Engine and metrics settings of the current configuration.
    pub settings: &'a Settings,
    /// Fingerprint of the settings that shape trading ([`settings_fingerprint`]).
    pub settings_fingerprint: &'a str,
    /// Refuse bars this many trading days behind `as_of`.
    pub stale_after_days: u32,
    /// Provenance of the data.
    pub stamp: Stamp,
    /// The live record of the model behind the signals, when there is one
    /// ([`crate::monitor::model_record`]).
    pub model: Option<crate::monitor::ModelRecord>,
}

/// A fill as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FillLine {
    /// The order filled.
    pub order_id: u64,
    /// Day of the fill.
    pub day: String,
    /// Symbol.
    pub symbol: String,
    /// Signed shares.
    pub shares: f64,
    /// Price, slippage included.
    pub price: f64,
    /// Commission.
    pub commission: f64,
    /// Slippage in cash.
    pub slippage: f64,
    /// Why the order existed.
    pub reason: String,
}

/// What a step did.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// The close stepped (the newest bar on or before the day asked for).
    pub day: String,
    /// Equity at the close.
    pub equity: f64,
    /// Cash at the close.
    pub cash: f64,
    /// Return since the previous step (or since the account opened).
    pub day_return: f64,
    /// Profit and loss since the account opened.
    pub pnl: f64,
    /// Fills since the previous step (this session's open and stops).
    pub fills: Vec<FillLine>,
    /// The decision for the next session.
    pub decision: Decision,
    /// Alerts raised by the step.
    pub alerts: Vec<Alert>,
    /// The model's live record against its validation figures, when it follows one.
    pub model: Option<crate::monitor::ModelRecord>,
}

/// A fingerprint of the settings that shape trading: `backtest` (without the starting cash,
/// which is the account's), `trading` and `risk`.
pub fn settings_fingerprint(cfg: &dyn qts_backtest::settings::BacktestSettings) -> String {
    let mut backtest = cfg.backtest().clone();
    backtest.initial_capital = 0.0;
    let text = serde_json::to_string(&(&backtest, cfg.trading(), cfg.risk())).unwrap_or_default();
    qts_core::hex::sha256(text.as_bytes())
}

/// Steps the account to `request.as_of` (see the module comment).
///
/// # Errors
/// [`PaperError`]: locked, already stepped, before the last step, settings changed, a replay
/// that differs from the record, stale data, or SQLite's failure. On any error nothing is
/// applied.
pub fn step(
    account: &mut Account,
    request: StepRequest<'_>,
    monitoring: &MonitoringConfig,
    waited_s: f64,
) -> Result<StepReport, PaperError> {
    let shown = account.shown();
    let sql = |what: &'static str| {
        let path = shown.clone();
        move |source| PaperError::Sql { path, what, source }
    };
    let tx = account
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|source| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                PaperError::Locked {
                    path: shown.clone(),
                    waited_s,
                }
            }
            _ => PaperError::Sql {
                path: shown.clone(),
                what: "cannot start the step",
                source,
            },
        })?;
    fault::point("paper-step-locked");
    let spec = read_spec(&tx, &shown)?;
    if spec.settings != request.settings_fingerprint {
        return Err(PaperError::SettingsChanged {
            path: shown,
            opened: short(&spec.settings),
            now: short(request.settings_fingerprint),
        });
    }
    let first_day: Option<String> = tx
        .query_row("SELECT first_day FROM account", [], |r| r.get(0))
        .map_err(sql("cannot read the account"))?;
    let recorded: Vec<(String, f64)> = {
        let mut q = tx
            .prepare("SELECT day, equity FROM steps ORDER BY day")
            .map_err(sql("cannot read the steps"))?;
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql("cannot read the steps"))?
            .collect::<Result<_, _>>()
            .map_err(sql("cannot read the steps"))?
    };
    let time = &request.market.bars()[0].time;
    let newest = time
        .partition_point(|t| t.date() <= request.as_of)
        .checked_sub(1)
        .map(|i| time[i].date());
    let last = recorded
        .last()
        .and_then(|(d, _)| d.parse::<NaiveDate>().ok());
    if let (Some(last), Some(newest)) = (last, newest) {
        if request.as_of < last {
            return Err(PaperError::BeforeLastStep {
                day: request.as_of,
                last,
            });
        }
        if newest <= last {
            return Err(PaperError::AlreadyStepped { day: newest, last });
        }
    }
    let trade_from = first_day.as_deref().and_then(|d| d.parse().ok()).or(newest);
    let mut settings = request.settings.clone();
    settings.engine.initial_capital = spec.initial_cash;
    settings.engine.opening = spec.holdings.clone();
    let decision = decide(
        request.market,
        request.strategy,
        &settings,
        &DecideRequest {
            as_of: request.as_of,
            trade_from,
            stale_after_days: request.stale_after_days,
        },
        request.stamp,
    )?;
    let r = &decision.result;
    // The replay must give every equity the account recorded, to the bit.
    let replayed: HashMap<String, f64> = r
        .time
        .iter()
        .zip(&r.equity)
        .map(|(t, e)| (t.date().to_string(), *e))
        .collect();
    for (day, equity) in &recorded {
        let again = replayed.get(day).copied().unwrap_or(f64::NAN);
        if again.to_bits() != equity.to_bits() {
            return Err(PaperError::Diverged {
                day: day.clone(),
                recorded: *equity,
                replayed: again,
            });
        }
    }
    fault::point("paper-step-before-writes");
    let fills: Vec<FillLine> = r
        .fills
        .iter()
        .filter(|f| last.is_none_or(|l| f.time.date() > l))
        .map(|f| FillLine {
            order_id: f.order_id,
            day: f.time.date().to_string(),
            symbol: f.symbol.clone(),
            shares: f.size,
            price: f.price,
            commission: f.commission,
            slippage: f.slippage,
            reason: f.reason.as_str().to_string(),
        })
        .collect();
    for f in &fills {
        tx.execute(
            "INSERT INTO fills (order_id, day, symbol, shares, price, commission, slippage, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                f.order_id as i64,
                f.day,
                f.symbol,
                f.shares,
                f.price,
                f.commission,
                f.slippage,
                f.reason
            ],
        )
        .map_err(sql("cannot record a fill"))?;
    }
    fault::point("paper-step-after-fills");
    tx.execute("DELETE FROM positions", [])
        .map_err(sql("cannot replace the positions"))?;
    for p in &decision.positions {
        tx.execute(
            "INSERT INTO positions (symbol, shares, avg_entry, close) VALUES (?1, ?2, ?3, ?4)",
            params![p.symbol, p.shares, p.avg_entry, p.close],
        )
        .map_err(sql("cannot record a position"))?;
    }
    tx.execute("DELETE FROM orders", [])
        .map_err(sql("cannot replace the open orders"))?;
    for o in &decision.orders {
        insert_order(&tx, o).map_err(sql("cannot record an order"))?;
    }
    fault::point("paper-step-after-orders");
    // Measured from the cash, or, opened with holdings, from the first close's value (the
    // replay's first equity: the holdings at that close and the cash).
    let opening = spec.opening_value(
        recorded
            .first()
            .map(|x| x.1)
            .or_else(|| r.equity.first().copied()),
    );
    let previous = recorded.last().map_or(opening, |x| x.1);
    let day_return = if previous > 0.0 {
        decision.equity / previous - 1.0
    } else {
        0.0
    };
    let mut alerts = crate::monitor::check(&decision, day_return, monitoring);
    if let Some(record) = &request.model {
        alerts.extend(crate::monitor::model_alerts(
            record,
            &decision.as_of,
            monitoring,
        ));
    }
    for a in &alerts {
        tx.execute(
            "INSERT INTO alerts (day, kind, message, value, threshold) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![a.day, a.kind, a.message, a.value, a.threshold],
        )
        .map_err(sql("cannot record an alert"))?;
    }
    let decision_json = serde_json::to_string(&decision).unwrap_or_default();
    tx.execute(
        "INSERT INTO steps (day, stepped_at, equity, cash, drawdown, data_hash, decision)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            decision.as_of,
            chrono::Utc::now().to_rfc3339(),
            decision.equity,
            decision.cash,
            decision.drawdown,
            decision.stamp.data_hash,
            decision_json
        ],
    )
    .map_err(sql("cannot record the step"))?;
    if first_day.is_none() {
        tx.execute(
            "UPDATE account SET first_day = ?1",
            params![decision.traded_from],
        )
        .map_err(sql("cannot record the first day"))?;
    }
    fault::point("paper-step-before-commit");
    tx.commit().map_err(sql("cannot commit the step"))?;
    fault::point("paper-step-after-commit");
    Ok(StepReport {
        day: decision.as_of.clone(),
        equity: decision.equity,
        cash: decision.cash,
        day_return,
        pnl: decision.equity - opening,
        fills,
        decision,
        alerts,
        model: request.model,
    })
}

fn insert_order(tx: &rusqlite::Transaction<'_>, o: &OrderLine) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO orders (id, decided, symbol, side, shares, order_type, limit_price, stop_price,
                             time_in_force, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            o.id as i64,
            o.decided,
            o.symbol,
            o.side,
            o.shares,
            o.order_type,
            o.limit,
            o.stop,
            o.time_in_force,
            o.reason
        ],
    )
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// The last step's day, if any (for a message before a step is tried).
///
/// # Errors
/// SQLite's error.
pub fn last_step(account: &Account) -> Result<Option<String>, PaperError> {
    account
        .conn
        .query_row("SELECT max(day) FROM steps", [], |r| r.get(0))
        .optional()
        .map(Option::flatten)
        .map_err(account.sql("cannot read the steps"))
}
