//! Command-line grammar. The doc comments here are the commands' `--help` text, written for a
//! terminal (`date,prediction[,lower,upper]`, `<SYMBOL>`), not rustdoc markup.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use qts_backtest::Execution;
use qts_config::{ProviderName, ResampleMethod, SearchMethod};

const EXAMPLES: &str = "\
Examples:
  qts config show                               the effective configuration (secrets redacted)
  qts config show --section backtest --json     one section as JSON
  qts --set backtest.initial_capital=50000 config show --sources
  qts config validate --model config/model_configs/lstm_default.yaml
  qts data fetch --symbols AAPL,MSFT --from 2015-01-01     (needs FMP_API_KEY)
  qts data validate examples/data/goog_daily.csv --as-of 2013-03-01
  qts features examples/data/goog_daily.csv --out goog_features.parquet
  qts backtest --data examples/data/goog_daily.csv --strategy sma-cross --param fast=10 --param slow=20
  qts metrics --returns equity.csv --benchmark examples/data/sp500_daily.csv --json
  qts models import --safetensors lstm.safetensors --config config/model_configs/lstm_default.yaml --name mine
  qts models promote mine@1 --alias production
  qts train --config config/model_configs/lstm_default.yaml --data examples/data/goog_daily.csv
  qts predict --model lstm_default --data examples/data/goog_daily.csv --out predictions.csv
  qts models import --pytorch lstm.pt --config config/model_configs/lstm_default.yaml --name mine
  qts decide --data examples/data/goog_daily.csv --param fast=10 --param slow=20 --as-of 2013-03-01
  qts paper init --cash 100000 --data examples/data/goog_daily.csv
  qts paper step --as-of 2013-02-01 --offline && qts paper status

Configuration is read from --config-dir (base_config.yaml, data_sources.yaml,
backtest_config.yaml, model_configs/lstm_default.yaml), then --set overrides apply.
${VAR} placeholders are filled from the environment and .env.

Exit status: 0 success, 1 failure while running, 2 bad usage or invalid configuration.";

/// qts: from raw prices to a tracked trading decision.
#[derive(Debug, Parser)]
#[command(
    name = "qts",
    version,
    about = "qts: quantitative trading research and backtesting, from raw prices to a tracked decision",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses this process's command line as [`Parser::parse`] does (exiting on `--help` or an
    /// error), keeping every `--set` in the order typed: clap keeps a global flag's values
    /// from the innermost command that has any, so `qts --set A=1 config show --set B=2`
    /// would lose `A=1`.
    pub fn parse_all() -> Cli {
        let argv: Vec<String> = std::env::args().collect();
        let mut cli = Cli::parse();
        cli.global.overrides = every_set(&argv, std::mem::take(&mut cli.global.overrides));
        cli
    }
}

/// Every `--set` value on the command line `argv`, in order: `--set V`, `--set=V`, `-s V`,
/// `-sV` and `-s` ending a cluster of `-q`/`-v` (`-qs V`). `parsed` is what clap kept, the
/// last occurrences; should the scan disagree with it, clap's values are kept as they are.
fn every_set(argv: &[String], parsed: Vec<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        if let Some(v) = a.strip_prefix("--set=") {
            found.push(v.to_string());
        } else if a == "--set" {
            found.extend(args.next().cloned());
        } else if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            let flags = cluster.trim_start_matches(['q', 'v']);
            if let Some(v) = flags.strip_prefix('s') {
                if v.is_empty() {
                    found.extend(args.next().cloned());
                } else {
                    found.push(v.to_string());
                }
            }
        }
    }
    if !parsed.is_empty() && found.ends_with(&parsed) {
        found
    } else {
        parsed
    }
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory of the configuration files.
    #[arg(
        short = 'C',
        long,
        global = true,
        env = "QTS_CONFIG_DIR",
        default_value = "config",
        value_name = "DIR"
    )]
    pub config_dir: PathBuf,

    /// Override one setting, e.g. `--set backtest.initial_capital=50000` (repeatable; the
    /// value is YAML, so `--set data.features.sma=[5,10]` works).
    #[arg(short = 's', long = "set", global = true, value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,

    /// How a CSV data file names its columns, where it differs from
    /// `date,open,high,low,close,volume`: `--columns date=Date,close=Last,volume=Vol` (sets
    /// `data.providers.local.columns`). A file of a date and a close only needs no flag.
    #[arg(long, global = true, value_name = "COLUMN=HEADER,...")]
    pub columns: Option<String>,

    /// The date format of a CSV data file, in chrono's syntax: `--date-format %m/%d/%Y`
    /// (sets `data.providers.local.date_format`; default ISO dates).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub date_format: Option<String>,

    /// A file of corporate actions, `date,symbol,kind,value` (kind `dividend`: cash per
    /// share; `split`: new shares per old share), merged into every symbol's bars (sets
    /// `data.events`).
    #[arg(long, global = true, value_name = "FILE")]
    pub events: Option<PathBuf>,

    /// The price basis bars are read on: `raw` (splits and dividends applied by the engine
    /// as a broker does), `split` (the default), `total_return` (sets `data.adjustment`).
    #[arg(long, global = true, value_name = "BASIS")]
    pub adjustment: Option<String>,

    /// File of `NAME=value` lines for ${VAR} placeholders [default: .env when present].
    #[arg(long, global = true, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    /// More console output (-v debug, -vv trace); wins over RUST_LOG.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Less console output (-q warnings only, -qq errors only, -qqq nothing).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show or check the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Market data: validate files and symbols.
    #[command(subcommand)]
    Data(DataCommand),
    /// Compute the configured features (`data.features`) of a bar file.
    Features(FeaturesArgs),
    /// Backtest a strategy on bar files and print its metrics.
    Backtest(BacktestArgs),
    /// The return-based metrics of any daily series (what empyrical or quantstats compute).
    Metrics(MetricsArgs),
    /// Search a strategy's parameters on a grid, with the deflated Sharpe ratio and the
    /// probability of backtest overfitting of the search.
    Optimize(OptimizeArgs),
    /// Walk a strategy forward: optimise on each train window, trade the next test window out
    /// of sample, stitch the out-of-sample equity.
    WalkForward(WalkForwardArgs),
    /// Monte Carlo intervals of a strategy's metrics: bootstrap or parametric equity paths.
    MonteCarlo(MonteCarloArgs),
    /// Deflated Sharpe ratio and probability of backtest overfitting of a trial-return matrix.
    Overfitting(OverfittingArgs),
    /// The model registry: import, list, show, compare, promote.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Train a network on a bar file or symbol and register it.
    Train(TrainArgs),
    /// Predict with a registered model: CSV of date,prediction[,lower,upper].
    Predict(PredictArgs),
    /// After a close: the orders for the next open, decided by the backtest's own engine step
    /// with the configured sizing and risk rules.
    Decide(DecideArgs),
    /// A paper account in SQLite that follows a strategy one step per close.
    #[command(subcommand)]
    Paper(PaperCommand),
    /// Tracked runs: the local run store, and sending it to an MLflow server.
    #[command(subcommand)]
    Experiments(ExperimentsCommand),
    /// An HTML report of a result folder (`backtest`, `optimize`, `walk-forward` or
    /// `monte-carlo --out DIR`), self-contained.
    Report(ReportArgs),
    /// Backtests side by side: equity together, metrics with the best marked, the
    /// correlation of their returns, each Sharpe ratio tested against the first's.
    Compare(CompareArgs),
    /// Re-runs a tracked run from its logged arguments, configuration and data fingerprint
    /// and says whether its metrics came out the same (exit status 1 if not).
    Reproduce(ReproduceArgs),
    /// The main job, end to end: validate, walk the model forward (retrained on each window)
    /// against buy-and-hold and the SMA crossover on the same windows, test the lead, deflate
    /// the Sharpe ratio, Monte Carlo the out-of-sample equity, write the reports, track it, and
    /// decide the next session.
    Run(PipelineArgs),
}

/// `qts report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The result folder: of `backtest` (stats.json, equity.csv, trades.csv), `optimize`
    /// (optimize.json, trials.csv), `walk-forward` (walk_forward.json, oos_equity.csv) or
    /// `monte-carlo` (monte_carlo.json).
    pub run: PathBuf,
    /// The page to write [default: RUN/report.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `qts run`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The bars (CSV or Parquet; a wide CSV of closes is one series per column); repeat for a
    /// universe of several files [default: examples/data/goog_daily.csv].
    #[arg(long, value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Symbols: without --data, each fetched fresh from the default provider (FMP;
    /// `FMP_API_KEY`) into the cache and run on; with --data, these symbols of it (a wide
    /// file's columns, or files by stem). Several are a universe: one model pooled over them
    /// per window, its forecasts ranked (`rank`), against the equal-weight universe.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// A universe from FILE: one symbol or bar file per line (blank lines and `#` comments
    /// skipped; a file relative to FILE's folder), each symbol's file looked up in --data, or
    /// else in data.providers.local.directory, then the cache.
    #[arg(long, value_name = "FILE", conflicts_with = "symbols")]
    pub universe: Option<PathBuf>,
    /// What trades a universe's forecasts: rank or signal [default: rank; signal for one
    /// symbol].
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// A parameter of that strategy, e.g. `--param top=5 --param drop=2` (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// With --symbols and no --data: the first day fetched [default: 20 years ago].
    #[arg(long, value_name = "DATE", requires = "symbols")]
    pub history_from: Option<chrono::NaiveDate>,
    /// Benchmark closes (CSV/Parquet bars, or date,close, or date,return) shown beside the
    /// baselines over the same days, with the model's alpha, beta and information ratio
    /// against it.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Option<PathBuf>,
    /// Bars in each train window [default: backtest.walk_forward.train_days, 756].
    #[arg(long, value_name = "N")]
    pub train: Option<usize>,
    /// Bars in each test window [default: backtest.walk_forward.test_days, 252].
    #[arg(long, value_name = "M")]
    pub test: Option<usize>,
    /// Monte Carlo paths (stationary block bootstrap of the model's out-of-sample returns).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub paths: usize,
    /// Where the reports, the summary and the fold models' checkpoints go.
    #[arg(long, value_name = "DIR", default_value = "artifacts/run")]
    pub out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// A run id of the local run store (`qts experiments list`).
    pub run: String,
    /// Print the check as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Result folders of `qts backtest --out` (at least two; the first is the reference).
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// The page to write [default: compare.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the comparison as JSON (the page is still written).
    #[arg(long)]
    pub json: bool,
}

/// `qts experiments …`.
#[derive(Debug, Subcommand)]
pub enum ExperimentsCommand {
    /// The runs in the local store (mlflow.local_store), oldest first, and where they were sent.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One run: params, metrics, tags, artifacts.
    Show {
        /// The run id (as `experiments list` prints it), or `latest` for the newest run.
        run: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Runs side by side: the params that differ, the metrics, and the significance of each
    /// Sharpe ratio's difference from the first run's (Jobson–Korkie with Memmel's correction,
    /// on the days both traded).
    Compare {
        /// Run ids (the first is the reference).
        #[arg(required = true, num_args = 2..)]
        runs: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The stored run with the highest value of a metric, and whether its lead over the
    /// runner-up's Sharpe ratio is significant.
    Best {
        /// The metric, e.g. sharpe_ratio.
        #[arg(long)]
        metric: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sends every stored run not yet on mlflow.tracking_uri (after the server was down).
    Sync {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Starts a real MLflow server (the pinned one the test command installs, or $QTS_MLFLOW)
    /// on a SQLite file in DIR, sends the local run store to it, and serves its UI until
    /// interrupted.
    Ui {
        /// Where the server keeps its database and artifacts.
        #[arg(long, value_name = "DIR", default_value = "artifacts/mlflow")]
        dir: std::path::PathBuf,
        /// Port on 127.0.0.1.
        #[arg(long, value_name = "N", default_value_t = 5000)]
        port: u16,
    },
}

/// Where a live command's bars come from, and the strategy it follows.
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// Bars (CSV or Parquet; a wide CSV of closes is one symbol per column); repeat for
    /// several symbols in one portfolio, each on its own history.
    #[arg(long, value_name = "FILE", conflicts_with = "symbols")]
    pub data: Vec<PathBuf>,
    /// Symbols, comma-separated: refreshed from data.default_provider into the cache (unless
    /// --offline), then read from data.providers.local.directory or the cache.
    #[arg(long, value_delimiter = ',', value_name = "SYMBOLS")]
    pub symbols: Vec<String>,
    /// Use the cache and local files only (no request to a provider).
    #[arg(long)]
    pub offline: bool,
    /// First day fetched when refreshing --symbols [default: five years before --as-of].
    #[arg(long, value_name = "DATE")]
    pub history_from: Option<chrono::NaiveDate>,
}

/// The strategy a live command follows.
#[derive(Debug, Clone, Args)]
pub struct StrategyArgs {
    /// buy-and-hold, sma-cross or signal [default: sma-cross].
    #[arg(long)]
    pub strategy: Option<String>,
    /// A strategy parameter, e.g. `--param fast=10 --param slow=20` (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Predictions for `--strategy signal` or `rank`: CSV with date,prediction[,lower,upper]
    /// for one symbol, date,symbol,prediction[,lower,upper] for several.
    #[arg(long, value_name = "FILE")]
    pub signals: Option<PathBuf>,
    /// Apply backtest_config.yaml's risk overlays to buy-and-hold too.
    #[arg(long)]
    pub overlays: bool,
}

/// `qts decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Where the bars come from.
    #[command(flatten)]
    pub live: LiveArgs,
    /// What to follow.
    #[command(flatten)]
    pub strategy: StrategyArgs,
    /// The close decided at (YYYY-MM-DD); later bars are not read [default: today].
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<chrono::NaiveDate>,
    /// Use FILE as backtest_config.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Follow a registered model (NAME, NAME@VERSION or NAME@ALIAS) with the signal strategy:
    /// its forecasts up to the close, through the feature pipeline saved with it (runs in
    /// qts-torch).
    #[arg(long, value_name = "MODEL", conflicts_with = "signals")]
    pub model: Option<String>,
    /// With --model: MC-dropout passes for the forecast interval (0: none).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "model")]
    pub mc_dropout: usize,
    /// With --model: average the checkpoint ensemble saved with it.
    #[arg(long, requires = "model")]
    pub ensemble: bool,
    /// With --model: interval coverage.
    #[arg(long, value_name = "P", default_value_t = 0.9, requires = "model")]
    pub level: f64,
    /// The account to order for: CSV `symbol,shares` with a `CASH,amount` line (a real
    /// account's holdings); the orders take it to the strategy's targets [default: the
    /// strategy's own replayed account].
    #[arg(long, value_name = "FILE")]
    pub holdings: Option<PathBuf>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts paper …` (the account is the file `paper.database`).
#[derive(Debug, Subcommand)]
pub enum PaperCommand {
    /// Open an account with its cash, data and strategy.
    Init(PaperInitArgs),
    /// After a close: fill the last decision at this session's open, mark to the close, decide
    /// for the next session, and check the monitoring rules; all or nothing.
    Step(PaperStepArgs),
    /// Positions, cash, equity, P&L, drawdown and open orders.
    Status(PaperStatusArgs),
    /// Every step as CSV (day,equity,cash,drawdown,day_return,fills,alerts).
    History(PaperHistoryArgs),
}

/// `qts paper init`.
#[derive(Debug, Args)]
pub struct PaperInitArgs {
    /// Starting cash.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        required_unless_present = "holdings",
        conflicts_with = "holdings"
    )]
    pub cash: Option<f64>,
    /// Start from a real account's holdings: CSV `symbol,shares` with a `CASH,amount` line
    /// (as `qts decide --holdings` reads); the shares are held from the first step's close,
    /// valued at it, and P&L is measured from that value.
    #[arg(long, value_name = "FILE")]
    pub holdings: Option<PathBuf>,
    /// Bars the account trades (files are stored as absolute paths).
    #[command(flatten)]
    pub live: LiveArgs,
    /// What to follow.
    #[command(flatten)]
    pub strategy: StrategyArgs,
    /// Print the account as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts paper step`.
#[derive(Debug, Args)]
pub struct PaperStepArgs {
    /// The close stepped to (YYYY-MM-DD) [default: today].
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<chrono::NaiveDate>,
    /// Bars to use instead of the account's (same symbols).
    #[arg(long, value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Use the cache and local files only.
    #[arg(long)]
    pub offline: bool,
    /// First day fetched when refreshing symbols [default: five years before --as-of].
    #[arg(long, value_name = "DATE")]
    pub history_from: Option<chrono::NaiveDate>,
    /// Print the step as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts paper status`.
#[derive(Debug, Args)]
pub struct PaperStatusArgs {
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts paper history`.
#[derive(Debug, Args)]
pub struct PaperHistoryArgs {
    /// Write the CSV here (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `qts train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The model configuration [default: <config-dir>/model_configs/lstm_default.yaml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bars: a CSV/Parquet file, or symbols, comma-separated (each looked up in
    /// data.providers.local.directory, then the cache that `qts data fetch` fills); several
    /// symbols are pooled into one dataset.
    #[arg(long, value_name = "FILE|SYMBOLS")]
    pub data: String,
    /// With a wide file of closes as --data: only these of its symbols, pooled.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Registry name [default: model.name].
    #[arg(long)]
    pub name: Option<String>,
    /// Continue an interrupted run of the same configuration and data from its last
    /// checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Train N networks with seeds seed, seed+1, …: their best weights are the ensemble that
    /// `qts predict --ensemble` averages (the best of them is the model's own weights). With
    /// 1, the ensemble is the run's best checkpoints.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seeds: usize,
    /// Train on split- and dividend-adjusted prices (needs adj_close).
    #[arg(long)]
    pub adjust: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// NAME, NAME@VERSION or NAME@ALIAS.
    #[arg(long)]
    pub model: String,
    /// Bars (CSV/Parquet) or a symbol; with --inputs-as-is, a CSV of date and the network's
    /// input columns.
    #[arg(long, value_name = "FILE|SYMBOL")]
    pub data: String,
    /// With a wide file of closes as --data: only these of its symbols (the long format,
    /// `date,…,symbol`, for several).
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Write the CSV here (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Feed the columns after `date` to the network unchanged, in order (no features, no
    /// normalisation): one prediction per row from the first full window on.
    #[arg(long)]
    pub inputs_as_is: bool,
    /// Forward passes with dropout on (MC dropout) for the interval; 0 for none.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub mc_dropout: usize,
    /// Average the best checkpoints saved with the model (their spread gives the interval).
    #[arg(long)]
    pub ensemble: bool,
    /// Interval coverage.
    #[arg(long, value_name = "P", default_value_t = 0.9)]
    pub level: f64,
    /// Only rows from this date on (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Only rows up to this date.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Use prices adjusted for splits and dividends (as the model was trained with --adjust).
    #[arg(long)]
    pub adjust: bool,
}

/// `qts models …`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Register existing PyTorch LSTM weights (a state_dict saved with torch.save or as
    /// safetensors).
    #[command(group(clap::ArgGroup::new("weights").required(true).args(["safetensors", "pytorch"])))]
    Import {
        /// `safetensors.torch.save_file(model.state_dict(), FILE)` of an nn.LSTM `lstm` + nn.Linear `head`.
        #[arg(long, value_name = "FILE")]
        safetensors: Option<PathBuf>,
        /// `torch.save(model.state_dict(), FILE)` of the same module.
        #[arg(long, value_name = "FILE")]
        pytorch: Option<PathBuf>,
        /// The model configuration the weights belong to (hidden size and layers must agree).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Registry name.
        #[arg(long)]
        name: String,
    },
    /// List models with their versions and aliases.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a model card: NAME, NAME@VERSION or NAME@ALIAS.
    Show {
        /// The model.
        model: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare the metrics of two or more models side by side.
    Compare {
        /// The models (NAME[@VERSION|@ALIAS]).
        #[arg(required = true, num_args = 2..)]
        models: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also write the HTML comparison (training curves, metrics, interval coverage).
        #[arg(long, value_name = "FILE")]
        report: Option<std::path::PathBuf>,
    },
    /// Point an alias (production, staging, …) at a version.
    Promote {
        /// The model version (NAME@VERSION or NAME@ALIAS).
        model: String,
        /// The alias to set.
        #[arg(long, default_value = "production")]
        alias: String,
    },
}

/// `qts backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// What to trade and how.
    #[command(flatten)]
    pub run: RunArgs,
    /// Benchmark closes (CSV/Parquet bars, or date,close) for alpha, beta and information ratio.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write stats.json, trades.csv and equity.csv into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Close every position at the last bar's close (with costs), as a walk-forward window
    /// does.
    #[arg(long)]
    pub close_at_end: bool,
    /// Also write the HTML report (self-contained; charts inline) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// The flags of every command that backtests: data, strategy, costs, execution, window.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Bars (CSV or Parquet; a wide CSV of closes is one series per column); repeat for
    /// several symbols in one portfolio, each on its own history.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present_any = ["symbols", "universe"]
    )]
    pub data: Vec<PathBuf>,
    /// A universe: these symbols of --data (a wide file's columns, or files by stem), in this
    /// order; without --data, each symbol's file looked up in data.providers.local.directory,
    /// then the cache.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// A universe from FILE: one symbol or bar file per line (blank lines and `#` comments
    /// skipped; a file relative to FILE's folder); taken as --symbols.
    #[arg(long, value_name = "FILE")]
    pub universe: Option<PathBuf>,
    /// buy-and-hold, sma-cross, signal or rank.
    #[arg(long, default_value = "sma-cross")]
    pub strategy: String,
    /// A strategy parameter, e.g. `--param fast=10 --param slow=20` (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Predictions for `--strategy signal` or `rank`: CSV with date,prediction[,lower,upper]
    /// for one symbol, date,symbol,prediction[,lower,upper] for several.
    #[arg(long, value_name = "FILE")]
    pub signals: Option<PathBuf>,
    /// Starting cash [default: backtest.initial_capital].
    #[arg(long, value_name = "N")]
    pub cash: Option<f64>,
    /// Commission as a fraction of traded value [default: backtest.costs].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub commission: Option<f64>,
    /// Execution rules: qts's (`default`) or backtesting.py's (`backtesting-py`).
    #[arg(long, value_parser = names::<Execution>(), default_value = "default")]
    pub execution: Execution,
    /// Use FILE as backtest_config.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Trade from this day on (YYYY-MM-DD); earlier bars only warm up indicators and the
    /// strategy, and the metrics cover the window only.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Trade up to this day (YYYY-MM-DD); later bars are not read.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// With --strategy signal: also trade predictions of the model's own training and
    /// validation rows (the result is then marked in-sample everywhere).
    #[arg(long)]
    pub allow_in_sample: bool,
    /// Apply backtest_config.yaml's risk overlays (volatility sizing, position cap, stops,
    /// breaker, rebalance schedule) to buy-and-hold too; other strategies always have them.
    #[arg(long)]
    pub overlays: bool,
}

/// What a parameter search searches.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// A searched parameter: `NAME=START:STOP:STEP` (Python's range) or `NAME=a,b,c`
    /// (repeatable; the first varies slowest).
    #[arg(long = "grid", value_name = "NAME=VALUES")]
    pub grid: Vec<String>,
    /// The metric to maximise: a key of the backtest JSON (final_equity, sharpe_ratio, …);
    /// with --model-config, a validation metric of `qts train` for `optimize` (val_ic, …)
    /// and a backtest metric for `walk-forward` [default there: sharpe_ratio].
    #[arg(long, value_name = "METRIC")]
    pub maximize: Option<String>,
    /// A model's YAML (as `qts train --config`): `optimize` searches its hyper-parameters
    /// (the file's `search` space, or --search), `walk-forward` retrains it on every train
    /// window and trades its forecasts with the signal strategy. Runs in qts-torch.
    #[arg(long, value_name = "FILE")]
    pub model_config: Option<PathBuf>,
}

/// `qts optimize`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// What to trade and how (`--param` holds a parameter fixed).
    #[command(flatten)]
    pub run: RunArgs,
    /// The grid and the metric.
    #[command(flatten)]
    pub search: SearchArgs,
    /// Every grid point, or a seeded random sample of them [default: grid; with
    /// --model-config, the model YAML's `search.method`].
    #[arg(long, value_parser = names::<SearchMethod>())]
    pub method: Option<SearchMethod>,
    /// Points drawn with `--method random` [default: 100; with --model-config, the model
    /// YAML's `search.trials`].
    #[arg(long, value_name = "N")]
    pub trials: Option<usize>,
    /// Seed of `--method random` [default: reproducibility.seed].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// CSCV blocks for the probability of backtest overfitting.
    #[arg(long, value_name = "S", default_value_t = 16)]
    pub pbo_splits: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write trials.csv (one row per trial: parameters, then every metric) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out, also write trial_returns.csv (date, then each trial's per-bar returns).
    #[arg(long, requires = "out")]
    pub save_returns: bool,
    /// Also write the HTML page (the metric over two parameters, the λ histogram) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// With --model-config: a searched hyper-parameter under `model`, replacing the file's
    /// search space: `KEY=a,b,c` (a choice), `KEY=uniform:LOW:HIGH`,
    /// `KEY=log_uniform:LOW:HIGH` or `KEY=int_uniform:LOW:HIGH` (repeatable), e.g.
    /// `--search model.training.learning_rate=log_uniform:0.0001:0.01`.
    #[arg(long = "search", value_name = "KEY=SPACE", requires = "model_config")]
    pub search_space: Vec<String>,
    /// With --model-config: the validation metric to minimise [default: val_loss, when no
    /// --maximize].
    #[arg(
        long,
        value_name = "METRIC",
        conflicts_with = "maximize",
        requires = "model_config"
    )]
    pub minimize: Option<String>,
}

/// `qts walk-forward`.
#[derive(Debug, Args)]
pub struct WalkForwardArgs {
    /// What to trade and how (`--param` holds a parameter fixed; no --from/--to: the windows
    /// are --train/--test).
    #[command(flatten)]
    pub run: RunArgs,
    /// The grid and the metric each train window maximises.
    #[command(flatten)]
    pub search: SearchArgs,
    /// Bars in each train window [default: backtest.walk_forward.train_days].
    #[arg(long, value_name = "N")]
    pub train: Option<usize>,
    /// Bars in each test window [default: backtest.walk_forward.test_days].
    #[arg(long, value_name = "M")]
    pub test: Option<usize>,
    /// Bars between test windows' starts [default: --test when given, else
    /// backtest.walk_forward.step_days].
    #[arg(long, value_name = "K")]
    pub step: Option<usize>,
    /// Train windows all start at the first bar [default: backtest.walk_forward.anchored].
    #[arg(long)]
    pub anchored: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write windows.csv, oos_equity.csv and walk_forward.json into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// `qts monte-carlo`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["returns", "run"])))]
pub struct MonteCarloArgs {
    /// Returns: `date,return`, or `date,equity`/`date,close` (simple returns are taken).
    #[arg(long, value_name = "FILE")]
    pub returns: Option<PathBuf>,
    /// A `qts backtest --out DIR`: its equity.csv (and trades.csv for `--method trades`).
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// How paths are drawn [default: backtest.monte_carlo.method, iid].
    #[arg(long, value_parser = names::<ResampleMethod>())]
    pub method: Option<ResampleMethod>,
    /// Mean block length of `--method block`, in bars [default: backtest.monte_carlo.block_size,
    /// 20].
    #[arg(long, value_name = "B")]
    pub block_size: Option<usize>,
    /// Paths [default: backtest.monte_carlo.simulations, 10000].
    #[arg(long, value_name = "N")]
    pub paths: Option<usize>,
    /// Seed [default: reproducibility.seed].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Bars (or trades) per path [default: the input's length].
    #[arg(long, value_name = "BARS")]
    pub horizon: Option<usize>,
    /// Interval coverage [default: backtest.monte_carlo.confidence, 0.95].
    #[arg(long, value_name = "P")]
    pub level: Option<f64>,
    /// The drawdown whose probability of being passed is reported.
    #[arg(long, value_name = "D", default_value_t = 0.2)]
    pub drawdown: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write monte_carlo.json (the JSON, with the fan and the histograms) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the HTML report (fan chart, distributions) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// A flag's values as a library enum names them (its one name table, derived with strum):
/// the possible values `--help` lists, parsed straight into the enum.
pub fn names<T>() -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + strum::VariantNames + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(T::VARIANTS).try_map(|name| name.parse::<T>())
}

/// `qts overfitting`.
#[derive(Debug, Args)]
pub struct OverfittingArgs {
    /// CSV (or .csv.gz) of `date` and one column of per-period returns per trial.
    #[arg(long, value_name = "FILE")]
    pub trial_returns: PathBuf,
    /// Contiguous row blocks for CSCV (even; the oldest rows mod S are dropped).
    #[arg(long, value_name = "S", default_value_t = 16)]
    pub pbo_splits: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// CSV with `date` and `return`, or `date` and `close` or `equity` (simple returns are taken).
    #[arg(long, value_name = "FILE")]
    pub returns: PathBuf,
    /// A benchmark in the same format, for alpha, beta and the information ratio.
    #[arg(long, value_name = "FILE")]
    pub benchmark: Option<PathBuf>,
    /// Annual risk-free rate [default: backtest.metrics.risk_free_rate].
    #[arg(long, value_name = "R")]
    pub risk_free: Option<f64>,
    /// Periods a year [default: backtest.metrics.periods_per_year].
    #[arg(long, value_name = "N")]
    pub periods: Option<u32>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Fetch daily bars from a provider into the cache (and optionally to files).
    Fetch(FetchArgs),
    /// Inspect or empty the on-disk cache (`data.cache.directory`).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Check a bar file or a symbol's data; exit status 1 when a finding reaches
    /// `data.quality.fail_on` (error by default).
    Validate {
        /// A CSV/Parquet file, or a symbol looked up in `data.providers.local.directory`.
        input: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Judge freshness as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
        /// Also write the HTML data-quality report (price and volume with the findings
        /// marked, the findings, a missing-days calendar) to FILE.
        #[arg(long, value_name = "FILE")]
        report: Option<std::path::PathBuf>,
    },
}

/// `qts data fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Comma-separated symbols, e.g. AAPL,MSFT.
    #[arg(long, value_delimiter = ',', required = true, value_name = "SYMBOLS")]
    pub symbols: Vec<String>,
    /// First date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: chrono::NaiveDate,
    /// Last date (YYYY-MM-DD) [default: today].
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Provider [default: data.default_provider].
    #[arg(long, value_parser = names::<ProviderName>())]
    pub provider: Option<ProviderName>,
    /// Also write each symbol's bars to DIR/<SYMBOL>.csv.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qts data cache …`.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List cached series: provider, symbol, bars, covered range, size.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove cached files (all, or one provider's and/or one symbol's).
    Clear {
        /// Only this provider's files.
        #[arg(long)]
        provider: Option<String>,
        /// Only this symbol's files.
        #[arg(long)]
        symbol: Option<String>,
    },
}

/// `qts features FILE --out FILE`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Bars: CSV or Parquet with date,open,high,low,close,volume[,adj_close].
    pub input: PathBuf,
    /// Output file; `.csv` (warm-up cells empty) or `.parquet` (warm-up cells null).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Compute from split- and dividend-adjusted prices (needs an adj_close column).
    #[arg(long)]
    pub adjust: bool,
}

/// `qts config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults ← files ← --set), secrets redacted.
    Show {
        /// Which files to read.
        #[command(flatten)]
        files: SectionFiles,
        /// Print JSON instead of YAML.
        #[arg(long)]
        json: bool,
        /// Print only this key path, e.g. `backtest` or `data.features`.
        #[arg(long, value_name = "KEY")]
        section: Option<String>,
        /// List every setting with where its value came from (file:line, --set, default).
        #[arg(long, conflicts_with = "json")]
        sources: bool,
    },
    /// Check the configuration and report every problem; exit status 2 when invalid.
    Validate {
        /// Which files to read.
        #[command(flatten)]
        files: SectionFiles,
    },
}

/// Files that replace a section's file in the configuration directory.
#[derive(Debug, Args, Default, Clone)]
pub struct SectionFiles {
    /// Use FILE as base_config.yaml.
    #[arg(long, value_name = "FILE")]
    pub base: Option<PathBuf>,
    /// Use FILE as data_sources.yaml.
    #[arg(long, value_name = "FILE")]
    pub data_sources: Option<PathBuf>,
    /// Use FILE as backtest_config.yaml.
    #[arg(long, value_name = "FILE")]
    pub backtest: Option<PathBuf>,
    /// Use FILE as the model configuration.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
}

impl StrategyArgs {
    /// The strategy named, or the default.
    pub fn name(&self) -> &str {
        self.strategy.as_deref().unwrap_or("sma-cross")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_set_before_the_command_is_kept_beside_one_after_it() {
        let line = "qts --set a=1 -qs b=2 config show -sc=3 --set=d=4 -- --set e=5";
        assert_eq!(
            every_set(&argv(line), vec!["c=3".into(), "d=4".into()]),
            ["a=1", "b=2", "c=3", "d=4"]
        );
        // A scan that disagrees with clap leaves clap's values.
        assert_eq!(
            every_set(&argv("qts --set a=1 x"), vec!["b=2".into()]),
            ["b=2"]
        );
        assert!(every_set(&argv("qts -s a=1"), vec![]).is_empty());
    }
}
