"""Fetching from a provider (a loopback Financial Modeling Prep: the paid API is mocked, the
rest is real): the cache filled, a repeat served from it, bad symbols and keys named, the key
in no message."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

import qts

KEY = "fmp-python-secret-4242"


@pytest.fixture
def fmp():
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            path = urlparse(self.path).path
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            requests.append((path, query))
            symbol = query.get("symbol", "")
            if path == "/stable/splits":
                # Apple's 4:1 split, outside the asked days: none of these bars carries it.
                body, status = b'[{"symbol": "AAPL", "date": "2020-08-31", "numerator": 4, "denominator": 1}]', 200
            elif path == "/stable/dividends":
                rows = [{"symbol": symbol, "date": "2024-01-03", "dividend": 0.24, "adjDividend": 0.24}]
                body, status = json.dumps(rows).encode(), 200
            elif path != "/stable/historical-price-eod/non-split-adjusted":
                body, status = b'{"Error Message": "unexpected path"}', 404
            elif symbol == "BAD":
                body, status = b"{not json", 200
            else:
                # The prices as traded, named as FMP's non-split-adjusted endpoint names them.
                rows = [
                    {"symbol": symbol, "date": "2024-01-03", "adjOpen": 10, "adjHigh": 11, "adjLow": 9, "adjClose": 10.5, "volume": 100},
                    {"symbol": symbol, "date": "2024-01-02", "adjOpen": 10, "adjHigh": 11, "adjLow": 9, "adjClose": 10.2, "volume": 100},
                ]
                body, status = json.dumps(rows).encode(), 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def config(url, tmp_path, monkeypatch, key=KEY):
    monkeypatch.setenv("FMP_API_KEY", key)
    return qts.Config.load(
        "config",
        [
            f"data.providers.fmp.base_url={url}",
            f"data.cache.directory={tmp_path / 'cache'}",
            "data.providers.fmp.backoff_initial_ms=1",
            "data.providers.fmp.backoff_max_ms=2",
        ],
    )


def test_fetch_fills_the_cache_and_read_bars_finds_the_symbol(fmp, tmp_path, monkeypatch):
    url, requests = fmp
    cfg = config(url, tmp_path, monkeypatch)
    report = qts.fetch(["AAPL", "MSFT"], "2024-01-02", "2024-01-03", provider="fmp", config=cfg)
    assert report["provider"] == "fmp"
    assert [(r["symbol"], r["bars"], r["first"], r["last"]) for r in report["symbols"]] == [
        ("AAPL", 2, "2024-01-02", "2024-01-03"),
        ("MSFT", 2, "2024-01-02", "2024-01-03"),
    ]
    # Each symbol: its prices as traded, its splits and its dividends, over the days asked.
    assert [path for path, _ in requests] == [
        "/stable/historical-price-eod/non-split-adjusted", "/stable/splits", "/stable/dividends",
    ] * 2
    assert all((q["from"], q["to"]) == ("2024-01-02", "2024-01-03") for _, q in requests)
    sent = len(requests)
    again = qts.fetch("AAPL", "2024-01-02", "2024-01-03", config=cfg)
    assert len(requests) == sent and again["symbols"][0]["requests"] == 0
    bars = qts.read_bars("AAPL", cfg).to_pandas()
    assert list(bars["close"]) == [10.2, 10.5]
    # The dividend is kept with the bars (on its ex-date's row).
    assert list(bars["dividend"]) == [0.0, 0.24]
    assert KEY not in json.dumps(report)


def test_a_bad_symbol_is_its_row_and_a_missing_key_names_the_variable(fmp, tmp_path, monkeypatch):
    url, _ = fmp
    cfg = config(url, tmp_path, monkeypatch)
    report = qts.fetch(["AAPL", "BAD"], "2024-01-02", "2024-01-03", config=cfg)
    failed = report["symbols"][1]
    assert failed["symbol"] == "BAD" and "error" in failed and KEY not in failed["error"]
    with pytest.raises(qts.DataError, match="symbol"):
        qts.fetch(["../etc"], "2024-01-02", config=cfg)
    with pytest.raises(ValueError, match="provider"):
        qts.fetch(["AAPL"], "2024-01-02", provider="bloomberg", config=cfg)
    with pytest.raises(qts.DataError, match="NOPE"):
        qts.read_bars("NOPE", cfg)
    monkeypatch.delenv("FMP_API_KEY")
    no_key = qts.Config.load("config", [f"data.providers.fmp.base_url={url}"])
    with pytest.raises(qts.ConfigError, match="FMP_API_KEY"):
        qts.fetch(["AAPL"], "2024-01-02", config=no_key)
