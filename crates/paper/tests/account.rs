//! The paper account as a library: schema versions, opening and refusing files, steps that
//! go forward once, the monitoring checks, and a status that agrees with the steps.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use qts_backtest::Execution;
use qts_backtest::report::{Market, Settings, Stamp};
use qts_backtest::strategy::SmaCross;
use qts_config::{MonitoringConfig, QtsConfig};
use qts_data::io::read_bars;
use qts_data::validate::{Policy, require};
use qts_paper::{
    Account, AccountSpec, PaperError, SCHEMA_VERSION, StepRequest, settings_fingerprint,
};

const WAIT: Duration = Duration::from_millis(100);

fn spec(cfg: &QtsConfig) -> AccountSpec {
    AccountSpec {
        initial_cash: 50_000.0,
        strategy: "sma-cross".into(),
        params: vec![("fast".into(), "10".into()), ("slow".into(), "20".into())],
        signals: None,
        data: vec!["goog".into()],
        settings: settings_fingerprint(cfg),
        overlays: false,
        holdings: Vec::new(),
    }
}

fn market(cfg: &QtsConfig) -> Market {
    let bars = read_bars(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/goog_daily.csv"),
    )
    .unwrap();
    Market::new(vec![require(bars, "goog", Policy::of(cfg)).unwrap()]).unwrap()
}

fn step(
    account: &mut Account,
    cfg: &QtsConfig,
    day: &str,
    monitoring: &MonitoringConfig,
) -> Result<qts_paper::StepReport, PaperError> {
    let m = market(cfg);
    let mut strategy = SmaCross::new(10, 20).unwrap();
    qts_paper::step(
        account,
        StepRequest {
            as_of: day.parse().unwrap(),
            market: &m,
            strategy: &mut strategy,
            settings: &Settings::from_config(cfg, Execution::Default),
            settings_fingerprint: &settings_fingerprint(cfg),
            stale_after_days: 2,
            stamp: Stamp::new("hash".into(), String::new(), Vec::new()),
            model: None,
        },
        monitoring,
        0.1,
    )
}

#[test]
fn a_new_file_gets_the_current_schema_and_refuses_a_second_init() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/paper.sqlite");
    let cfg = QtsConfig::default();
    assert!(matches!(
        Account::open(&path, false, WAIT),
        Err(PaperError::NoAccount { .. })
    ));
    Account::init(&path, &spec(&cfg), WAIT).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let err = Account::init(&path, &spec(&cfg), WAIT).err().unwrap();
    assert!(matches!(err, PaperError::Exists { .. }), "{err}");
    // An empty file (an empty SQLite database) is no account.
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        Account::open(&empty, false, WAIT),
        Err(PaperError::NoAccount { .. })
    ));
    let bad = AccountSpec {
        initial_cash: f64::NAN,
        ..spec(&cfg)
    };
    assert!(matches!(
        Account::init(&dir.path().join("nan.sqlite"), &bad, WAIT),
        Err(PaperError::Invalid(_))
    ));
    assert!(!dir.path().join("nan.sqlite").exists());
}

#[test]
fn steps_go_forward_once_and_the_status_agrees_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paper.sqlite");
    let cfg = QtsConfig::default();
    let quiet = MonitoringConfig::default();
    let mut account = Account::init(&path, &spec(&cfg), WAIT).unwrap();
    let mut last = None;
    for day in [
        "2013-01-02",
        "2013-01-03",
        "2013-01-04",
        "2013-01-07",
        "2013-01-08",
    ] {
        let r = step(&mut account, &cfg, day, &quiet).unwrap();
        assert_eq!(r.day, day);
        assert!(r.alerts.is_empty(), "monitoring is off by default");
        last = Some(r);
    }
    let last = last.unwrap();
    // A day before the last step, and the last step again: refused, not applied.
    let err = step(&mut account, &cfg, "2013-01-06", &quiet)
        .err()
        .unwrap();
    assert!(matches!(err, PaperError::BeforeLastStep { .. }), "{err}");
    let err = step(&mut account, &cfg, "2013-01-08", &quiet)
        .err()
        .unwrap();
    assert!(matches!(err, PaperError::AlreadyStepped { .. }), "{err}");
    let s = account.status().unwrap();
    assert_eq!(s.steps, 5);
    assert_eq!(s.equity, last.equity);
    assert_eq!(s.cash, last.cash);
    assert_eq!(s.pnl, last.equity - 50_000.0);
    assert_eq!(s.first_day.as_deref(), Some("2013-01-02"));
    let held: f64 = s.positions.iter().map(|p| p.shares).sum();
    assert!(held > 0.0, "the rebalance of 2013-01-07 bought");
    let h = account.history().unwrap();
    assert_eq!(h.len(), 5);
    assert_eq!(h.iter().map(|r| r.fills).sum::<i64>(), 1);
    let csv = qts_paper::history_csv(&h);
    assert!(csv.starts_with("day,equity,cash,drawdown,day_return,fills,alerts\n"));
    assert_eq!(csv.lines().count(), 6);
    // Another strategy's settings are refused.
    let daily = {
        let mut c = cfg.clone();
        c.trading.rebalance = qts_config::Frequency::Daily;
        c
    };
    let err = step(&mut account, &daily, "2013-01-09", &quiet)
        .err()
        .unwrap();
    assert!(matches!(err, PaperError::SettingsChanged { .. }), "{err}");
    // A different starting cash in the configuration is not a different strategy.
    let richer = {
        let mut c = cfg.clone();
        c.backtest.initial_capital = 1e9;
        c
    };
    let r = step(&mut account, &richer, "2013-01-09", &quiet).unwrap();
    assert!(r.equity < 60_000.0, "the account's cash, not the config's");
}

#[test]
fn the_monitoring_checks_fire_at_their_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = QtsConfig::default();
    let mut account = Account::init(&dir.path().join("p.sqlite"), &spec(&cfg), WAIT).unwrap();
    let watch = MonitoringConfig {
        enabled: true,
        drawdown_alert: 1e-6,
        daily_loss_alert: 1e-6,
        ..MonitoringConfig::default()
    };
    let mut kinds = Vec::new();
    for day in ["2013-01-02", "2013-01-03", "2013-01-04", "2013-01-07"] {
        let r = step(&mut account, &cfg, day, &watch).unwrap();
        for a in &r.alerts {
            assert_eq!(a.day, day);
            match a.kind.as_str() {
                "drawdown" => assert!(a.value.unwrap() <= -1e-6),
                "daily_loss" => assert!(a.value.unwrap() <= -1e-6),
                other => panic!("unexpected alert {other}"),
            }
            kinds.push(a.kind.clone());
        }
    }
    // The first trade's costs are a loss and a drawdown on 2013-01-07; flat days raise nothing.
    assert_eq!(kinds, ["drawdown", "daily_loss"]);
    assert_eq!(account.status().unwrap().alerts, 2);
}

#[test]
fn an_account_of_the_first_schema_is_migrated_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paper.sqlite");
    let cfg = QtsConfig::default();
    Account::init(&path, &spec(&cfg), WAIT).unwrap();
    // Back to version 1: the account table without its `holdings` column.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE account DROP COLUMN holdings; PRAGMA user_version = 1;")
            .unwrap();
    }
    let account = Account::open(&path, false, WAIT).unwrap();
    let spec = account.spec().unwrap();
    assert!(spec.holdings.is_empty());
    assert_eq!(spec.initial_cash, 50_000.0);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    assert_eq!(account.status().unwrap().opening_value, 50_000.0);
}
