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
    assert_eq!(count("<svg class=\"chart\""), 7, "charts");
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
    // A screenshot, kept for a person to look at.
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("backtest.png");
    let _ = std::fs::remove_file(&shot);
    let s = headless(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,3400",
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
