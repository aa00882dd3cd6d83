//! The HTML report opened in a real browser (headless Chromium, installed by
//! `scripts/test.sh`): every chart is rendered with its marks, nothing is fetched from
//! elsewhere, and a screenshot is kept under the test's output folder.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{qts, sample};

fn chromium() -> PathBuf {
    let path = std::env::var_os("QTS_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "Chromium is not installed at {}: run scripts/test.sh (it installs Debian's chromium), or set QTS_CHROMIUM",
        path.display()
    );
    path
}

fn headless(args: &[&str], page: &std::path::Path) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(["--no-first-run", "--disable-extensions"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// Checks a written page as a browser sees it: self-contained, under 2 MB, `charts` charts in
/// the DOM Chromium built; keeps a screenshot `NAME.png` under the test's output folder.
/// Returns the DOM.
fn open_in_browser(page: &std::path::Path, name: &str, charts: usize, height: u32) -> String {
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.len() < 2 << 20, "{name}: {} bytes", html.len());
    for needle in [
        "<script", "<link", "src=", "url(", "@import", "<img", "http://", "https://",
    ] {
        let allowed = needle == "http://"
            && html.matches(needle).count() == html.matches("http://www.w3.org/2000/svg").count();
        assert!(allowed || !html.contains(needle), "{name}: {needle}");
    }
    // The browser's console goes to stderr: a page that asks for anything, or errs, says so.
    let dom = headless(&["--dump-dom", "--enable-logging=stderr", "--v=0"], page);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let log = String::from_utf8_lossy(&dom.stderr);
    for bad in ["CONSOLE", "Failed to load resource", "net::ERR"] {
        assert!(
            !log.contains(bad),
            "{name}: {bad} in the browser's log:\n{log}"
        );
    }
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert_eq!(
        dom.matches("<svg class=\"chart\"").count(),
        charts,
        "{name}: charts"
    );
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let s = headless(
        &[
            &format!("--screenshot={}", shot.display()),
            &format!("--window-size=1200,{height}"),
        ],
        page,
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{name}: {} bytes",
        png.len()
    );
    dom
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.trim_end().ends_with("KB)"),
        "the report's path is printed last: {err}"
    );
    err
}

/// `qts report DIR` of a folder gives the page the command wrote.
fn same_page_from_the_folder(dir: &std::path::Path, run: &str, page: &str) {
    ok(qts(dir)
        .args(["-q", "report", run, "--out", "again.html"])
        .output()
        .unwrap());
    assert_eq!(
        std::fs::read_to_string(dir.join("again.html")).unwrap(),
        std::fs::read_to_string(dir.join(page)).unwrap(),
        "{run}"
    );
}

#[test]
fn the_research_reports_render_every_chart_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = sample("goog_daily.csv");
    ok(qts(d)
        .args(["-q", "walk-forward", "--data"])
        .arg(&goog)
        .args(["--grid", "fast=5:30:5", "--grid", "slow=20:100:20"])
        .args([
            "--maximize",
            "sharpe_ratio",
            "--train",
            "500",
            "--test",
            "250",
        ])
        .args(["--out", "wf", "--report", "walk_forward.html"])
        .output()
        .unwrap());
    same_page_from_the_folder(d, "wf", "walk_forward.html");
    // A walk-forward folder's Monte Carlo draws from its stitched out-of-sample equity.
    let mc = qts(d)
        .args([
            "-q",
            "monte-carlo",
            "--run",
            "wf",
            "--paths",
            "50",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        mc.status.success(),
        "{}",
        String::from_utf8_lossy(&mc.stderr)
    );
    let mc: serde_json::Value = serde_json::from_slice(&mc.stdout).unwrap();
    let rows = std::fs::read_to_string(d.join("wf/oos_equity.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(mc["horizon"].as_u64().unwrap() as usize, rows - 2, "{mc}");
    assert!(mc.to_string().contains("oos_equity.csv"), "{mc}");
    let dom = open_in_browser(&d.join("walk_forward.html"), "walk_forward", 5, 2400);
    let count = |dom: &str, s: &str| dom.matches(s).count();
    assert_eq!(count(&dom, "class=\"train\""), 6, "a train span per window");
    assert_eq!(count(&dom, "class=\"test\""), 6);
    assert!(dom.contains("Walk-forward efficiency"));
    assert!(dom.contains("probability of backtest overfitting"));

    ok(qts(d)
        .args(["-q", "optimize", "--data"])
        .arg(&goog)
        .args(["--grid", "fast=5:60:5", "--grid", "slow=10:200:10"])
        .args([
            "--maximize",
            "sharpe_ratio",
            "--out",
            "opt",
            "--report",
            "optimize.html",
        ])
        .output()
        .unwrap());
    same_page_from_the_folder(d, "opt", "optimize.html");
    let dom = open_in_browser(&d.join("optimize.html"), "optimize", 2, 1600);
    // 11 × 19 grid points, 30 refused by fast < slow: 179 cells, one outlined as the best.
    assert_eq!(count(&dom, "class=\"cell\""), 179);
    assert_eq!(count(&dom, "class=\"best\""), 1);
    assert!(count(&dom, "class=\"bar\"") > 10, "the λ histogram");

    let run = qts(d)
        .args(["-q", "backtest", "--data"])
        .arg(&goog)
        .args(["--out", "run"])
        .output()
        .unwrap();
    assert!(run.status.success());
    ok(qts(d)
        .args(["-q", "monte-carlo", "--run", "run", "--method", "block"])
        .args([
            "--paths",
            "2000",
            "--seed",
            "5",
            "--out",
            "mc",
            "--report",
            "monte_carlo.html",
        ])
        .output()
        .unwrap());
    same_page_from_the_folder(d, "mc", "monte_carlo.html");
    let dom = open_in_browser(&d.join("monte_carlo.html"), "monte_carlo", 5, 2000);
    assert_eq!(count(&dom, "class=\"band\""), 2, "5–95% and 25–75% bands");
    assert_eq!(
        count(&dom, "class=\"bar\""),
        4 * 40,
        "four histograms of 40 bins"
    );
    assert_eq!(count(&dom, "class=\"mark\""), 8, "each interval's two ends");
}

#[test]
fn the_comparison_and_data_quality_pages_render_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let goog = sample("goog_daily.csv");
    for (name, extra) in [
        ("sma", vec!["--param", "fast=10", "--param", "slow=20"]),
        ("hold", vec!["--strategy", "buy-and-hold"]),
        ("slow", vec!["--param", "fast=20", "--param", "slow=50"]),
    ] {
        let out = qts(d)
            .args(["-q", "backtest", "--data"])
            .arg(&goog)
            .args(extra)
            .args(["--out", name])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let out = qts(d)
        .args([
            "-q",
            "compare",
            "sma",
            "hold",
            "slow",
            "--json",
            "--out",
            "compare.html",
        ])
        .output()
        .unwrap();
    ok(out.clone());
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["runs"], serde_json::json!(["sma", "hold", "slow"]));
    assert_eq!(c["periods"], 2147);
    assert!(c["against_first"][0].is_null());
    assert!(c["against_first"][1]["p_value"].as_f64().unwrap() > 0.0);
    let dom = open_in_browser(&d.join("compare.html"), "compare", 2, 1400);
    assert_eq!(
        dom.matches("class=\"cell\"").count(),
        9,
        "a 3 × 3 correlation matrix"
    );
    assert!(dom.matches("<polyline").count() >= 3, "three equity curves");
    assert!(dom.contains("Jobson–Korkie"));
    // Each run's price basis, stated.
    assert_eq!(
        dom.matches("<td>split-adjusted prices (dividends paid in cash)</td>")
            .count(),
        3,
        "a prices row"
    );
    // One run is no comparison.
    let one = qts(d).args(["compare", "sma"]).output().unwrap();
    assert_eq!(one.status.code(), Some(2));

    ok(qts(d)
        .args(["-q", "data", "validate"])
        .arg(&goog)
        .args(["--as-of", "2013-03-04", "--report", "data_quality.html"])
        .output()
        .unwrap());
    let dom = open_in_browser(&d.join("data_quality.html"), "data_quality", 3, 2200);
    // The sample's findings: 13 z-score and 30 IQR outliers, each marked on its day.
    assert_eq!(dom.matches("class=\"finding\"").count(), 13 + 30);
    assert_eq!(dom.matches("class=\"missing\"").count(), 0);
    assert_eq!(
        dom.matches("class=\"bar\"").count(),
        2148,
        "a calendar cell per bar"
    );
}

#[test]
fn the_backtest_report_renders_every_chart_offline_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = qts(dir.path())
        .args(["-q", "backtest", "--data"])
        .arg(sample("goog_daily.csv"))
        .args(["--param", "fast=10", "--param", "slow=20", "--out", "run"])
        .args(["--report", "backtest.html"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.trim_end().ends_with("KB)"),
        "the path is printed last: {err}"
    );
    let page = dir.path().join("backtest.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 2 << 20, "{} bytes", html.len());
    // Self-contained: no script, stylesheet, image or font from anywhere.
    for needle in ["<script", "<link", "src=", "url(", "@import", "<img"] {
        assert!(!html.contains(needle), "{needle}");
    }
    // Every closed trade is listed (the best and worst five beside them), as trades.csv has it.
    let trades = std::fs::read_to_string(dir.path().join("run/trades.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(trades > 10);
    assert!(html.contains(&format!("<h2>Trades ({trades} closed;")));
    // Listed in each of the table's six orders (in order, by return both ways, by days held
    // both ways, by side), one shown at a time by the page's style.
    let rows = html.matches("<tr><td>").count();
    let listed =
        html.matches("</td><td>long</td>").count() + html.matches("</td><td>short</td>").count();
    assert_eq!(listed, 6 * trades.min(500) + 10, "{rows} rows");
    assert_eq!(html.matches("<tbody class=\"trades-").count(), 6);
    // `qts report` of the folder gives the same page.
    let again = qts(dir.path())
        .args(["-q", "report", "run", "--out", "again.html"])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again.html")).unwrap(),
        html
    );

    // What the browser built.
    let dom = headless(&["--dump-dom"], &page);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let count = |s: &str| dom.matches(s).count();
    // Ten charts, the equity twice (log and linear scale, a checkbox shows one).
    assert_eq!(count("<svg class=\"chart\""), 11, "charts");
    assert_eq!(count("class=\"entry\""), 42, "a mark per trade's entry");
    assert_eq!(count("class=\"exit\""), 42);
    assert!(
        count("<polyline") >= 5,
        "equity, buy-and-hold, drawdown, Sharpe lines"
    );
    assert!(count("class=\"worst\"") >= 1 && count("class=\"worst\"") <= 5);
    // 2004-08 .. 2013-03: 104 months in the heatmap.
    assert_eq!(count("class=\"cell\""), 104);
    assert!(count("class=\"bar\"") > 40, "yearly bars and histograms");
    assert!(dom.contains("Trailed buy-and-hold by"));
    assert!(dom.contains("Sharpe"));
    // Hover values without a script: strips whose tooltips give the day and the values, on the
    // two equity charts and the drawdown (200 each on 2,148 days).
    assert_eq!(count("class=\"hover\""), 3 * 200);
    assert!(
        dom.contains("<title>2004-08-19 · strategy: 100000.00 · buy and hold: 100000.00</title>"),
        "the first day's values"
    );
    assert!(dom.contains("<title>2004-08-19 · drawdown: 0.00%</title>"));
    // The sortable trade table as the browser parsed it: its header in a `thead` (a bare row
    // would land in a body the style hides), the six orders' bodies in one table after the
    // radio buttons that show them, the first checked.
    let table = &dom[dom.find("<div class=\"sortable\">").unwrap()..];
    let table = &table[..table.find("</div>").unwrap()];
    assert_eq!(table.matches("<input type=\"radio\"").count(), 6);
    assert_eq!(table.matches("<table>").count(), 1);
    assert!(
        table.contains("<thead><tr><th>#</th>"),
        "{}",
        &table[..600.min(table.len())]
    );
    assert_eq!(
        table.matches("<tbody").count(),
        6,
        "no body added by the parser"
    );
    assert!(table.contains("id=\"trades-order\" checked"));
    // A screenshot, kept for a person to look at.
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("backtest.png");
    let _ = std::fs::remove_file(&shot);
    let s = headless(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,4200",
        ],
        &page,
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

#[test]
fn a_report_of_an_incomplete_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("run")).unwrap();
    std::fs::write(dir.path().join("run/stats.json"), "{}").unwrap();
    let out = qts(dir.path()).args(["report", "run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no manifest.json"));
}

#[test]
fn the_model_comparison_page_renders_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, extra) in [("lstm", vec!["--seeds", "2"]), ("mlp", vec![])] {
        let mut cmd = qts(d);
        cmd.args(common::SMALL);
        if name == "mlp" {
            cmd.args(["--set", "model.architecture=mlp"]);
        }
        let out = cmd
            .args(["-q", "train", "--name", name, "--data"])
            .arg(sample("goog_daily.csv"))
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ok(qts(d)
        .args([
            "-q",
            "models",
            "compare",
            "lstm",
            "mlp",
            "--report",
            "models.html",
        ])
        .output()
        .unwrap());
    let dom = open_in_browser(&d.join("models.html"), "models", 2, 1600);
    assert_eq!(
        dom.matches("<polyline").count(),
        4,
        "training and validation loss of each"
    );
    // A coverage bar for each interval a card measured (MC dropout, the checkpoint ensemble).
    let coverages: usize = ["lstm", "mlp"]
        .iter()
        .map(|m| {
            let card: serde_json::Value = serde_json::from_slice(
                &std::fs::read(d.join(format!("artifacts/models/{m}/1/model.json"))).unwrap(),
            )
            .unwrap();
            card["metrics"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with("test_coverage_"))
                .count()
        })
        .sum();
    assert!(coverages >= 2, "{coverages}");
    assert_eq!(dom.matches("class=\"bar\"").count(), coverages);
    assert!(dom.contains("lstm@1") && dom.contains("mlp@1"));
    // Diebold–Mariano of the MLP's test errors against the LSTM's, from the files each
    // version registered.
    let errors = |m: &str| -> Vec<f64> {
        std::fs::read_to_string(d.join(format!("artifacts/models/{m}/1/test_predictions.csv")))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<f64> = l.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
                c[0] - c[1]
            })
            .collect()
    };
    let (lstm, mlp) = (errors("lstm"), errors("mlp"));
    assert!(lstm.len() > 100 && lstm.len() == mlp.len());
    let dm = qts_stats::significance::diebold_mariano(
        &mlp,
        &lstm,
        1,
        qts_stats::significance::Loss::Squared,
    )
    .unwrap();
    assert!(dom.contains("Diebold–Mariano"));
    assert!(
        dom.contains(&format!("<td>{:.4}</td>", dm.p_value)),
        "p {:.4} not on the page",
        dm.p_value
    );
    assert!(dom.matches("class=\"best\"").count() >= 4);
}
