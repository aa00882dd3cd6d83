"""The loopback Alpaca stand-in (scripts/standins/alpaca.py) under Alpaca's own Python SDK,
``alpaca-py`` (pinned in requirements-test.txt): every request the SDK sends is answered in the
shape its models parse, and the stand-in refuses what Alpaca refuses. So the tests of qts's broker
account, which run against this stand-in, talk to what the real API would answer (issue 33)."""

import importlib.util
import json
import urllib.request
from datetime import date

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetCalendarRequest, GetOrdersRequest, LimitOrderRequest, MarketOrderRequest

from conftest import ROOT

KEY_ID, SECRET = "PKSTANDIN0000000000", "stand-in-secret-0123456789"


def load_standin():
    spec = importlib.util.spec_from_file_location("alpaca_standin", ROOT / "scripts" / "standins" / "alpaca.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def standin():
    url, market, server = load_standin().serve(KEY_ID, SECRET, cash=100_000.0, symbols=("AAPL", "MSFT"))
    yield url, market
    server.shutdown()


def control(url: str, path: str, body: dict):
    req = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def client(url: str, key: str = KEY_ID, secret: str = SECRET) -> TradingClient:
    return TradingClient(key, secret, paper=True, url_override=url)


def test_account_clock_calendar_and_assets_parse_under_alpaca_py(standin):
    url, _ = standin
    c = client(url)
    account = c.get_account()
    assert account.account_number == "PA0000STANDIN"
    assert float(account.cash) == 100_000.0 and float(account.equity) == 100_000.0
    assert float(account.buying_power) == 100_000.0
    # 2024-01-03 19:30 New York (a Wednesday, after the close): the next session opens on the 4th.
    clock = c.get_clock()
    assert not clock.is_open
    assert clock.next_open.isoformat() == "2024-01-04T09:30:00-05:00"
    assert clock.next_close.isoformat() == "2024-01-04T16:00:00-05:00"
    days = c.get_calendar(GetCalendarRequest(start=date(2024, 1, 5), end=date(2024, 1, 9)))
    assert [d.date.isoformat() for d in days] == ["2024-01-05", "2024-01-08", "2024-01-09"]
    assert days[0].open.hour == 9 and days[0].open.minute == 30
    asset = c.get_asset("AAPL")
    assert asset.symbol == "AAPL" and asset.tradable
    with pytest.raises(APIError) as e:
        c.get_asset("NOPE")
    assert e.value.status_code == 404


def test_orders_fill_at_the_open_with_idempotent_client_order_ids(standin):
    url, market = standin
    c = client(url)
    control(url, "/_standin/prices", {"prices": {"AAPL": 190.0, "MSFT": 370.0}})
    order = c.submit_order(
        MarketOrderRequest(
            symbol="AAPL", qty=100, side=OrderSide.BUY, time_in_force=TimeInForce.OPG,
            client_order_id="qts-acct-2024-01-04-AAPL-buy-rebalance",
        )
    )
    assert order.status == OrderStatus.ACCEPTED and float(order.qty) == 100
    assert order.time_in_force == TimeInForce.OPG
    # The same client_order_id again: refused, nothing sent twice.
    with pytest.raises(APIError) as e:
        c.submit_order(
            MarketOrderRequest(
                symbol="AAPL", qty=100, side=OrderSide.BUY, time_in_force=TimeInForce.OPG,
                client_order_id="qts-acct-2024-01-04-AAPL-buy-rebalance",
            )
        )
    assert e.value.status_code == 422 and "client_order_id must be unique" in str(e.value)
    again = c.get_order_by_client_id("qts-acct-2024-01-04-AAPL-buy-rebalance")
    assert again.id == order.id
    limit = c.submit_order(
        LimitOrderRequest(
            symbol="MSFT", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=360.0,
            client_order_id="qts-acct-2024-01-04-MSFT-buy-rebalance",
        )
    )
    assert [o.id for o in c.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))] == [limit.id, order.id]
    # The open: AAPL at 190.5 fills the market order; MSFT at 365 does not reach the limit.
    control(url, "/_standin/clock", {"now": "2024-01-04T09:30:00-05:00"})
    fills = control(url, "/_standin/open", {"prices": {"AAPL": 190.5, "MSFT": 365.0}})
    assert [(f["symbol"], f["qty"], f["price"]) for f in fills] == [("AAPL", "100", "190.5")]
    filled = c.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED and float(filled.filled_avg_price) == 190.5
    positions = c.get_all_positions()
    assert [(p.symbol, float(p.qty), float(p.avg_entry_price)) for p in positions] == [("AAPL", 100.0, 190.5)]
    account = c.get_account()
    assert float(account.cash) == pytest.approx(100_000.0 - 100 * 190.5)
    # Cancel everything open: the limit order.
    cancelled = c.cancel_orders()
    assert [r.id for r in cancelled] == [limit.id] and cancelled[0].status == 200
    assert c.get_order_by_id(limit.id).status == OrderStatus.CANCELED
    assert c.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []
    # The fills as account activities (an endpoint alpaca-py's TradingClient does not wrap).
    activities = c.get("/account/activities/FILL")
    assert [(a["symbol"], a["qty"], a["order_id"]) for a in activities] == [("AAPL", "100", str(order.id))]


def test_what_alpaca_refuses_the_stand_in_refuses(standin):
    url, _ = standin
    c = client(url)
    control(url, "/_standin/prices", {"prices": {"AAPL": 190.0}})
    # An opening-auction order during the session window.
    control(url, "/_standin/clock", {"now": "2024-01-04T10:00:00-05:00"})
    with pytest.raises(APIError) as e:
        c.submit_order(MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.OPG))
    assert e.value.status_code == 422 and "opg" in str(e.value)
    control(url, "/_standin/clock", {"now": "2024-01-04T19:05:00-05:00"})
    # More than the buying power; selling what is not held; a symbol it does not know.
    with pytest.raises(APIError) as e:
        c.submit_order(MarketOrderRequest(symbol="AAPL", qty=1000, side=OrderSide.BUY, time_in_force=TimeInForce.OPG))
    assert e.value.status_code == 403 and "buying power" in str(e.value)
    with pytest.raises(APIError) as e:
        c.submit_order(MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.OPG))
    assert e.value.status_code == 403
    with pytest.raises(APIError) as e:
        c.submit_order(MarketOrderRequest(symbol="NOPE", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.OPG))
    assert e.value.status_code == 422
    # Wrong keys: 401, and the stand-in keeps no key (its request log has none).
    with pytest.raises(APIError) as e:
        client(url, secret="wrong").get_account()
    assert e.value.status_code == 401
    with urllib.request.urlopen(url + "/_standin/requests") as r:
        log = r.read().decode()
    assert SECRET not in log and KEY_ID not in log


def test_a_rate_limit_is_retried_by_the_sdk_as_alpaca_asks(standin):
    url, market = standin
    c = client(url)
    c._retry_wait = 0  # alpaca-py's own retry of 429, without its 3-second wait
    control(url, "/_standin/fail", {"status": 429, "count": 2, "retry_after": 1})
    assert c.get_account().account_number == "PA0000STANDIN"
    asked = [r["path"] for r in market.log]
    assert asked == ["/v2/account"] * 3
    control(url, "/_standin/fail", {"status": 500, "count": 1})
    with pytest.raises(APIError) as e:
        c.get_clock()
    assert e.value.status_code == 500


def test_the_stand_in_runs_alone_from_its_script():
    import subprocess
    import sys

    script = ROOT / "scripts" / "standins" / "alpaca.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--key-id", KEY_ID, "--secret", SECRET, "--cash", "5000", "--symbols", "SPY"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        c = client(url)
        assert float(c.get_account().cash) == 5000.0
        assert c.get_asset("SPY").symbol == "SPY"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
