//! The account file: an SQLite database with a versioned schema (`PRAGMA user_version`).
//!
//! SQLite because a step must be all or nothing: every write of a step is one transaction, so a
//! crash or a kill at any point leaves the account as it was before the step (SQLite's journal
//! rolls an unfinished transaction back when the file is next opened), and `BEGIN IMMEDIATE`
//! lets one step at a time hold the account.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::error::PaperError;

/// The schema this build writes; each entry migrates from the version before it.
const MIGRATIONS: &[&str] = &[
    // 1: the account, its steps, fills, positions, open orders and alerts.
    "CREATE TABLE account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        opened_at TEXT NOT NULL,
        initial_cash REAL NOT NULL,
        strategy TEXT NOT NULL,
        params TEXT NOT NULL,
        signals TEXT,
        data TEXT NOT NULL,
        settings TEXT NOT NULL,
        overlays INTEGER NOT NULL DEFAULT 0,
        first_day TEXT
    );
    CREATE TABLE steps (
        day TEXT PRIMARY KEY,
        stepped_at TEXT NOT NULL,
        equity REAL NOT NULL,
        cash REAL NOT NULL,
        drawdown REAL NOT NULL,
        data_hash TEXT NOT NULL,
        decision TEXT NOT NULL
    );
    CREATE TABLE fills (
        order_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        symbol TEXT NOT NULL,
        shares REAL NOT NULL,
        price REAL NOT NULL,
        commission REAL NOT NULL,
        slippage REAL NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (order_id, day)
    );
    CREATE TABLE positions (
        symbol TEXT PRIMARY KEY,
        shares REAL NOT NULL,
        avg_entry REAL,
        close REAL NOT NULL
    );
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        decided TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        shares REAL NOT NULL,
        order_type TEXT NOT NULL,
        limit_price REAL,
        stop_price REAL,
        time_in_force TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE TABLE alerts (
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        value REAL,
        threshold REAL,
        delivered INTEGER NOT NULL DEFAULT 0
    );",
    // 2: the holdings an account was opened with (`symbol, shares` pairs as JSON).
    "ALTER TABLE account ADD COLUMN holdings TEXT NOT NULL DEFAULT '[]';",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What the account follows, fixed when it is opened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSpec {
    /// Starting cash.
    pub initial_cash: f64,
    /// Strategy name, as in `--strategy`.
    pub strategy: String,
    /// `--param` pairs.
    pub params: Vec<(String, String)>,
    /// The predictions file for the signal strategy, as given.
    pub signals: Option<String>,
    /// Bar files or symbols, as given.
    pub data: Vec<String>,
    /// Fingerprint of the settings that shape trading (backtest, trading, risk).
    pub settings: String,
    /// Whether the risk overlays apply to a strategy that goes without them by default
    /// (`--overlays` for buy-and-hold).
    pub overlays: bool,
    /// The shares the account was opened with besides its cash (`--holdings`), held from its
    /// first day at that day's close; empty for an account opened with cash only.
    pub holdings: Vec<(String, f64)>,
}

impl AccountSpec {
    /// What the account's returns and P&L are measured from: its cash, or, opened with
    /// holdings, its value at the first close (`first_equity`, the first step's; the cash
    /// until a step has valued the holdings).
    pub fn opening_value(&self, first_equity: Option<f64>) -> f64 {
        if self.holdings.is_empty() {
            self.initial_cash
        } else {
            first_equity.unwrap_or(self.initial_cash)
        }
    }
}

/// An open account file.
pub struct Account {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl Account {
    pub(crate) fn shown(&self) -> String {
        self.path.display().to_string()
    }

    pub(crate) fn sql(&self, what: &'static str) -> impl Fn(rusqlite::Error) -> PaperError + '_ {
        move |source| PaperError::Sql {
            path: self.shown(),
            what,
            source,
        }
    }

    /// Opens `path`, creating it (and its folder) when `create`, and brings its schema up to
    /// [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// [`PaperError::NoAccount`] for a missing file when not `create`,
    /// [`PaperError::NotSqlite`], [`PaperError::NewerSchema`].
    pub fn open(path: &Path, create: bool, lock_timeout: Duration) -> Result<Account, PaperError> {
        let shown = path.display().to_string();
        if !create && !path.is_file() {
            return Err(PaperError::NoAccount { path: shown });
        }
        if create && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| PaperError::Write {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let flags = if create {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let conn = Connection::open_with_flags(path, flags).map_err(|source| PaperError::Sql {
            path: shown.clone(),
            what: "cannot open",
            source,
        })?;
        conn.busy_timeout(lock_timeout)
            .map_err(|source| PaperError::Sql {
                path: shown.clone(),
                what: "cannot set the lock timeout",
                source,
            })?;
        // The first read tells a database from any other file.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| match source.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => PaperError::NotSqlite {
                    path: shown.clone(),
                    source,
                },
                _ => PaperError::Sql {
                    path: shown.clone(),
                    what: "cannot read the schema version",
                    source,
                },
            })?;
        if version > SCHEMA_VERSION {
            return Err(PaperError::NewerSchema {
                path: shown,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let mut account = Account {
            conn,
            path: path.to_path_buf(),
        };
        if version < SCHEMA_VERSION {
            if version == 0 && !create && !account.has_tables()? {
                return Err(PaperError::NoAccount { path: shown });
            }
            account.migrate(version)?;
        }
        Ok(account)
    }

    fn has_tables(&self) -> Result<bool, PaperError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(self.sql("cannot read the schema"))?;
        Ok(n > 0)
    }

    /// Applies the migrations after `from`, each in its own transaction with its version.
    fn migrate(&mut self, from: i64) -> Result<(), PaperError> {
        let shown = self.shown();
        let sql = |what| {
            let path = shown.clone();
            move |source| PaperError::Sql { path, what, source }
        };
        for (i, step) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql("cannot start the schema migration"))?;
            tx.execute_batch(step)
                .map_err(sql("cannot migrate the schema"))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(sql("cannot record the schema version"))?;
            tx.commit()
                .map_err(sql("cannot commit the schema migration"))?;
        }
        Ok(())
    }

    /// Opens a new account in `path`.
    ///
    /// # Errors
    /// [`PaperError::Invalid`] for cash that is not positive, [`PaperError::Exists`] when the
    /// file already holds an account, or the errors of [`Account::open`].
    pub fn init(
        path: &Path,
        spec: &AccountSpec,
        lock_timeout: Duration,
    ) -> Result<Account, PaperError> {
        // With holdings the cash may be nothing (an account fully invested); never negative.
        if spec.holdings.is_empty() {
            if !(spec.initial_cash.is_finite() && spec.initial_cash > 0.0) {
                return Err(PaperError::Invalid(format!(
                    "--cash must be a positive amount, got {}",
                    spec.initial_cash
                )));
            }
        } else if !(spec.initial_cash.is_finite() && spec.initial_cash >= 0.0) {
            return Err(PaperError::Invalid(format!(
                "the holdings' cash (its CASH line) must not be negative, got {}",
                spec.initial_cash
            )));
        }
        if spec.data.is_empty() {
            return Err(PaperError::Invalid(
                "an account needs its data: --data FILE or --symbols".into(),
            ));
        }
        let mut account = Account::open(path, true, lock_timeout)?;
        let shown = account.shown();
        let tx = account
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| PaperError::Sql {
                path: shown.clone(),
                what: "cannot start",
                source,
            })?;
        let since: Option<String> = tx
            .query_row("SELECT opened_at FROM account", [], |r| r.get(0))
            .optional()
            .map_err(|source| PaperError::Sql {
                path: shown.clone(),
                what: "cannot read the account",
                source,
            })?;
        if let Some(since) = since {
            return Err(PaperError::Exists { path: shown, since });
        }
        tx.execute(
            "INSERT INTO account (id, opened_at, initial_cash, strategy, params, signals, data, settings, overlays, holdings)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                chrono::Utc::now().to_rfc3339(),
                spec.initial_cash,
                spec.strategy,
                serde_json::to_string(&spec.params).unwrap_or_default(),
                spec.signals,
                serde_json::to_string(&spec.data).unwrap_or_default(),
                spec.settings,
                spec.overlays,
                serde_json::to_string(&spec.holdings).unwrap_or_default()
            ],
        )
        .map_err(|source| PaperError::Sql {
            path: shown.clone(),
            what: "cannot write the account",
            source,
        })?;
        tx.commit().map_err(|source| PaperError::Sql {
            path: shown,
            what: "cannot commit the account",
            source,
        })?;
        Ok(account)
    }

    /// What the account follows.
    ///
    /// # Errors
    /// [`PaperError::NoAccount`] when the file holds none, or SQLite's error.
    pub fn spec(&self) -> Result<AccountSpec, PaperError> {
        read_spec(&self.conn, &self.shown())
    }
}

/// The account row, read inside whatever transaction `conn` is in.
pub(crate) fn read_spec(conn: &Connection, shown: &str) -> Result<AccountSpec, PaperError> {
    let row = conn
        .query_row(
            "SELECT initial_cash, strategy, params, signals, data, settings, overlays, holdings FROM account",
            [],
            |r| {
                Ok((
                    r.get::<_, f64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, String>(7)?,
                ))
            },
        )
        .optional()
        .map_err(|source| PaperError::Sql {
            path: shown.to_string(),
            what: "cannot read the account",
            source,
        })?;
    let Some((initial_cash, strategy, params, signals, data, settings, overlays, holdings)) = row
    else {
        return Err(PaperError::NoAccount {
            path: shown.to_string(),
        });
    };
    let bad = |what: &str| PaperError::Invalid(format!("{shown}: the account's {what} is corrupt"));
    Ok(AccountSpec {
        initial_cash,
        strategy,
        params: serde_json::from_str(&params).map_err(|_| bad("parameters"))?,
        signals,
        data: serde_json::from_str(&data).map_err(|_| bad("data list"))?,
        settings,
        overlays,
        holdings: serde_json::from_str::<Vec<(String, f64)>>(&holdings)
            .ok()
            .filter(|h| h.iter().all(|(_, x)| x.is_finite()))
            .ok_or_else(|| bad("holdings"))?,
    })
}
