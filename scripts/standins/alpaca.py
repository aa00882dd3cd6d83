"""A loopback stand-in for Alpaca's Trading API v2 (issue 33): what qts's broker account talks
to in the tests instead of a real brokerage account. Standard library only.

It implements, as Alpaca documents them (https://docs.alpaca.markets/reference), the endpoints
qts uses, under `/v2`:

- `GET /account`, `GET /clock`, `GET /calendar?start=&end=`, `GET /assets/{symbol}`;
- `POST /orders` (market, limit, stop; `day`, `gtc`, `opg`, `cls`, `ioc`, `fok`), with a unique
  `client_order_id` (a second order with the same one is refused: 422), buying power checked
  (403), an `opg` order refused between 09:28 and 19:00 New York time (422), an unknown symbol
  refused (422);
- `GET /orders?status=open|closed|all`, `GET /orders/{id}`,
  `GET /orders:by_client_order_id?client_order_id=`, `DELETE /orders` (207, one entry per order
  cancelled), `DELETE /orders/{id}` (204);
- `GET /positions`, `GET /account/activities/FILL`.

Every request needs the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` headers (401 otherwise).
Answers carry money and quantities as strings and times as RFC 3339, as Alpaca's do.

What a market does is driven by the test through endpoints Alpaca does not have, under
`/_standin/`: `POST /_standin/open` fills the open orders at the session's open
(`{"prices": {"AAPL": 190.1}, "fill_ratio": {"AAPL": 0.5}}`: each symbol's price; a ratio < 1
fills part of an order), `POST /_standin/clock` sets the time (`{"now": "2024-01-03T19:30:00-05:00"}`),
`POST /_standin/prices` sets the last prices (`{"prices": {"AAPL": 191.0}}`: what a buy
reserves of the buying power and what positions are worth), `POST /_standin/fail` answers the next requests with an error (`{"status": 429, "count": 2,
"retry_after": 1}`), `GET /_standin/requests` lists what was asked (method, path, query, body,
no headers: the keys are never kept).

Run it alone with `python3 scripts/standins/alpaca.py --key-id K --secret S [--cash 100000]
[--symbols AAPL,MSFT]`: it prints `http://127.0.0.1:PORT` and serves until interrupted.
`crates/python/tests/test_alpaca_standin.py` drives it with Alpaca's own SDK (`alpaca-py`), so
the stand-in answers what the real API answers.
"""

from __future__ import annotations

import argparse
import json
import threading
import uuid
from datetime import date, datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

NEW_YORK_WINTER = timezone(timedelta(hours=-5), "EST")
NEW_YORK_SUMMER = timezone(timedelta(hours=-4), "EDT")
TIME_IN_FORCE = {"day", "gtc", "opg", "cls", "ioc", "fok"}
ORDER_TYPES = {"market", "limit", "stop"}
# Alpaca's error codes (its `code` field) for what the stand-in refuses.
UNAUTHORIZED = 40110000
NOT_FOUND = 40410000
UNPROCESSABLE = 40010001
FORBIDDEN = 40310000
RATE_LIMITED = 42910000


def new_york(moment: datetime) -> datetime:
    """`moment` in New York time (daylight saving time from the second Sunday of March to the
    first Sunday of November, as the US has it since 2007)."""
    utc = moment.astimezone(timezone.utc)
    year = utc.year
    march = date(year, 3, 8 + (6 - date(year, 3, 8).weekday()) % 7)
    november = date(year, 11, 1 + (6 - date(year, 11, 1).weekday()) % 7)
    starts = datetime.combine(march, time(7), timezone.utc)  # 02:00 EST
    ends = datetime.combine(november, time(6), timezone.utc)  # 02:00 EDT
    zone = NEW_YORK_SUMMER if starts <= utc < ends else NEW_YORK_WINTER
    return utc.astimezone(zone)


def money(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x == int(x) else repr(round(x, 6))


def sessions(start: date, end: date) -> list[date]:
    """Weekdays from `start` to `end`: the stand-in's exchange closes on weekends only."""
    out, day = [], start
    while day <= end:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


class Market:
    """The account and the orders, under one lock."""

    def __init__(self, key_id: str, secret: str, cash: float, symbols: list[str]):
        self.key_id, self.secret = key_id, secret
        self.lock = threading.Lock()
        self.account_id = str(uuid.uuid4())
        self.cash = cash
        self.symbols = {s: str(uuid.uuid5(uuid.NAMESPACE_URL, f"asset:{s}")) for s in symbols}
        self.positions: dict[str, dict] = {}  # symbol -> {"qty", "avg", "price"}
        self.last: dict[str, float] = {}  # each symbol's last price (`/_standin/prices`, fills)
        self.orders: list[dict] = []
        self.activities: list[dict] = []
        self.now = datetime(2024, 1, 3, 19, 30, tzinfo=NEW_YORK_WINTER)
        self.failures: list[tuple[int, int | None]] = []
        self.log: list[dict] = []

    # -- what the API answers ------------------------------------------------------------

    def account(self) -> dict:
        long_value = sum(p["qty"] * p["price"] for p in self.positions.values() if p["qty"] > 0)
        short_value = sum(p["qty"] * p["price"] for p in self.positions.values() if p["qty"] < 0)
        equity = self.cash + long_value + short_value
        reserved = sum(
            o["_reserve"] for o in self.orders if o["status"] in ("new", "accepted", "partially_filled")
        )
        return {
            "id": self.account_id,
            "account_number": "PA0000STANDIN",
            "status": "ACTIVE",
            "crypto_status": "INACTIVE",
            "currency": "USD",
            "buying_power": money(max(self.cash - reserved, 0.0)),
            "regt_buying_power": money(max(self.cash - reserved, 0.0)),
            "daytrading_buying_power": "0",
            "non_marginable_buying_power": money(max(self.cash - reserved, 0.0)),
            "cash": money(self.cash),
            "accrued_fees": "0",
            "pending_transfer_in": "0",
            "portfolio_value": money(equity),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": "2024-01-02T14:00:00Z",
            "trade_suspended_by_user": False,
            "multiplier": "1",
            "shorting_enabled": False,
            "equity": money(equity),
            "last_equity": money(equity),
            "long_market_value": money(long_value),
            "short_market_value": money(short_value),
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
        }

    def session_bounds(self, day: date) -> tuple[datetime, datetime]:
        noon = new_york(datetime.combine(day, time(17), timezone.utc))
        zone = noon.tzinfo
        return (
            datetime.combine(day, time(9, 30), zone),
            datetime.combine(day, time(16, 0), zone),
        )

    def clock(self) -> dict:
        now = new_york(self.now)
        today = now.date()
        upcoming = sessions(today, today + timedelta(days=10))
        is_open = False
        next_open = next_close = None
        for day in upcoming:
            opens, closes = self.session_bounds(day)
            if opens <= now < closes:
                is_open, next_close = True, closes
                continue
            if now < opens and next_open is None:
                next_open = opens
                if next_close is None:
                    next_close = closes
        return {
            "timestamp": now.isoformat(),
            "is_open": is_open,
            "next_open": next_open.isoformat(),
            "next_close": next_close.isoformat(),
        }

    def calendar(self, query: dict) -> list[dict]:
        start = date.fromisoformat(query.get("start", [self.now.date().isoformat()])[0][:10])
        end = date.fromisoformat(query.get("end", [(start + timedelta(days=30)).isoformat()])[0][:10])
        return [
            {
                "date": d.isoformat(),
                "open": "09:30",
                "close": "16:00",
                "session_open": "0400",
                "session_close": "2000",
                "settlement_date": (d + timedelta(days=1)).isoformat(),
            }
            for d in sessions(start, end)
        ]

    def asset(self, symbol: str) -> dict | None:
        if symbol not in self.symbols:
            return None
        return {
            "id": self.symbols[symbol],
            "class": "us_equity",
            "exchange": "NASDAQ",
            "symbol": symbol,
            "name": f"{symbol} (stand-in)",
            "status": "active",
            "tradable": True,
            "marginable": True,
            "shortable": False,
            "easy_to_borrow": False,
            "fractionable": True,
            "attributes": [],
        }

    def position(self, symbol: str) -> dict:
        p = self.positions[symbol]
        qty, avg, price = p["qty"], p["avg"], p["price"]
        return {
            "asset_id": self.symbols[symbol],
            "symbol": symbol,
            "exchange": "NASDAQ",
            "asset_class": "us_equity",
            "asset_marginable": True,
            "avg_entry_price": money(avg),
            "qty": money(qty),
            "qty_available": money(qty),
            "side": "long" if qty > 0 else "short",
            "market_value": money(qty * price),
            "cost_basis": money(qty * avg),
            "unrealized_pl": money(qty * (price - avg)),
            "unrealized_plpc": money((price - avg) / avg if avg else 0.0),
            "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0",
            "current_price": money(price),
            "lastday_price": money(price),
            "change_today": "0",
        }

    @staticmethod
    def public(order: dict) -> dict:
        return {k: v for k, v in order.items() if not k.startswith("_")}

    def submit(self, body: dict) -> tuple[int, dict]:
        def refuse(status: int, code: int, message: str) -> tuple[int, dict]:
            return status, {"code": code, "message": message}

        symbol = body.get("symbol")
        if symbol not in self.symbols:
            return refuse(422, UNPROCESSABLE, f"asset \"{symbol}\" not found")
        try:
            qty = float(body.get("qty"))
        except (TypeError, ValueError):
            return refuse(422, UNPROCESSABLE, "qty is required")
        if not qty > 0:
            return refuse(422, UNPROCESSABLE, "qty must be > 0")
        side, kind, tif = body.get("side"), body.get("type"), body.get("time_in_force")
        if side not in ("buy", "sell"):
            return refuse(422, UNPROCESSABLE, "invalid side")
        if kind not in ORDER_TYPES:
            return refuse(422, UNPROCESSABLE, "invalid order type")
        if tif not in TIME_IN_FORCE:
            return refuse(422, UNPROCESSABLE, "invalid time_in_force")
        limit = body.get("limit_price")
        stop = body.get("stop_price")
        if kind == "limit" and limit is None:
            return refuse(422, UNPROCESSABLE, "limit_price is required")
        if kind == "stop" and stop is None:
            return refuse(422, UNPROCESSABLE, "stop_price is required")
        client_id = body.get("client_order_id") or str(uuid.uuid4())
        if len(client_id) > 128:
            return refuse(422, UNPROCESSABLE, "client_order_id must be at most 128 characters")
        if any(o["client_order_id"] == client_id for o in self.orders):
            return refuse(422, UNPROCESSABLE, "client_order_id must be unique")
        ny = new_york(self.now).time()
        if tif == "opg" and time(9, 28) <= ny < time(19, 0):
            return refuse(
                422, UNPROCESSABLE,
                "opg orders are not accepted between 9:28am and 7:00pm ET",
            )
        held = self.positions.get(symbol, {}).get("qty", 0.0)
        price = self.last.get(symbol) or float(limit or stop or 0.0)
        reserve = 0.0
        if side == "buy":
            reserve = qty * float(limit or price or 0.0)
            if reserve > self.cash - sum(o["_reserve"] for o in self.orders if o["status"] in ("new", "accepted", "partially_filled")):
                return refuse(403, FORBIDDEN, "insufficient buying power")
        elif qty > held + 1e-9:
            return refuse(403, FORBIDDEN, f"insufficient qty available for order (requested: {qty:g}, available: {held:g})")
        stamp = self.now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        order = {
            "id": str(uuid.uuid4()),
            "client_order_id": client_id,
            "created_at": stamp,
            "updated_at": stamp,
            "submitted_at": stamp,
            "filled_at": None,
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": self.symbols[symbol],
            "symbol": symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": money(qty),
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": "",
            "order_type": kind,
            "type": kind,
            "side": side,
            "time_in_force": tif,
            "limit_price": None if limit is None else money(float(limit)),
            "stop_price": None if stop is None else money(float(stop)),
            "status": "accepted",
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "position_intent": "buy_to_open" if side == "buy" else "sell_to_close",
            "_reserve": reserve,
        }
        self.orders.append(order)
        return 200, self.public(order)

    def open_session(self, prices: dict[str, float], fill_ratio: dict[str, float]) -> list[dict]:
        """Fills the open orders at the session's open: a market order at the symbol's price, a
        limit order when the price is at or better than its limit, a stop order when the price
        reached its stop (at the price); `fill_ratio` leaves part of an order open."""
        fills = []
        stamp = self.now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        self.mark(prices)
        for o in self.orders:
            if o["status"] not in ("accepted", "new", "partially_filled"):
                continue
            symbol = o["symbol"]
            if symbol not in prices:
                continue
            price = float(prices[symbol])
            side = 1.0 if o["side"] == "buy" else -1.0
            if o["type"] == "limit" and side * (price - float(o["limit_price"])) > 0:
                continue
            if o["type"] == "stop" and side * (price - float(o["stop_price"])) < 0:
                continue
            qty, done = float(o["qty"]), float(o["filled_qty"])
            take = round((qty - done) * min(max(fill_ratio.get(symbol, 1.0), 0.0), 1.0), 9)
            if take <= 0:
                continue
            p = self.positions.setdefault(symbol, {"qty": 0.0, "avg": 0.0, "price": price})
            new_qty = p["qty"] + side * take
            if side > 0:
                p["avg"] = (p["qty"] * p["avg"] + take * price) / new_qty if new_qty else 0.0
            p["qty"], p["price"] = new_qty, price
            self.cash -= side * take * price
            done += take
            previous = float(o["filled_avg_price"] or 0.0)
            o["filled_avg_price"] = money((previous * (done - take) + price * take) / done)
            o["filled_qty"] = money(done)
            o["status"] = "filled" if abs(done - qty) < 1e-9 else "partially_filled"
            o["_reserve"] = 0.0 if o["status"] == "filled" else (qty - done) * price * (side > 0)
            o["updated_at"] = stamp
            if o["status"] == "filled":
                o["filled_at"] = stamp
            activity = {
                "id": f"{self.now:%Y%m%d%H%M%S}000::{uuid.uuid4()}",
                "account_id": self.account_id,
                "activity_type": "FILL",
                "transaction_time": stamp,
                "type": "fill" if o["status"] == "filled" else "partial_fill",
                "price": money(price),
                "qty": money(take),
                "side": o["side"],
                "symbol": symbol,
                "leaves_qty": money(qty - done),
                "order_id": o["id"],
                "cum_qty": money(done),
                "order_status": o["status"],
            }
            self.activities.append(activity)
            fills.append(activity)
            if abs(p["qty"]) < 1e-12:
                del self.positions[symbol]
        return fills

    def mark(self, prices: dict[str, float]) -> None:
        """The symbols' last prices: what buying power reserves and positions are worth."""
        for symbol, price in prices.items():
            self.last[symbol] = float(price)
            if symbol in self.positions:
                self.positions[symbol]["price"] = float(price)

    def cancel(self, order: dict) -> None:
        stamp = self.now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        order.update(status="canceled", canceled_at=stamp, updated_at=stamp, _reserve=0.0)


def handler_for(market: Market) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # no access log on stderr
            pass

        def answer(self, status: int, body=None, headers: dict | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def route(self, method: str) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                return self.answer(400, {"code": 40010000, "message": "request body is not JSON"})
            path = url.path
            with market.lock:
                if path.startswith("/_standin/"):
                    return self.standin(method, path, body)
                market.log.append({"method": method, "path": path, "query": url.query, "body": body})
                if market.failures:
                    status, retry_after = market.failures.pop(0)
                    headers = {"Retry-After": str(retry_after)} if retry_after else {}
                    code = RATE_LIMITED if status == 429 else 50010000
                    return self.answer(status, {"code": code, "message": "stand-in failure"}, headers)
                if (
                    self.headers.get("APCA-API-KEY-ID") != market.key_id
                    or self.headers.get("APCA-API-SECRET-KEY") != market.secret
                ):
                    return self.answer(401, {"code": UNAUTHORIZED, "message": "request is not authorized"})
                return self.api(method, path, query, body)

        def api(self, method: str, path: str, query: dict, body: dict) -> None:
            m = market
            if not path.startswith("/v2/"):
                return self.answer(404, {"code": NOT_FOUND, "message": "endpoint not found"})
            rest = path[len("/v2"):]
            if method == "GET" and rest == "/account":
                return self.answer(200, m.account())
            if method == "GET" and rest == "/clock":
                return self.answer(200, m.clock())
            if method == "GET" and rest == "/calendar":
                return self.answer(200, m.calendar(query))
            if method == "GET" and rest.startswith("/assets/"):
                asset = m.asset(rest[len("/assets/"):])
                if asset is None:
                    return self.answer(404, {"code": NOT_FOUND, "message": "asset not found"})
                return self.answer(200, asset)
            if method == "GET" and rest == "/positions":
                return self.answer(200, [m.position(s) for s in sorted(m.positions)])
            if method == "GET" and rest == "/account/activities/FILL":
                return self.answer(200, list(reversed(m.activities)))
            if method == "POST" and rest == "/orders":
                status, answer = m.submit(body)
                return self.answer(status, answer)
            if method == "GET" and rest == "/orders":
                wanted = query.get("status", ["open"])[0]
                openish = ("new", "accepted", "partially_filled")
                chosen = [
                    o for o in m.orders
                    if wanted == "all"
                    or (wanted == "open" and o["status"] in openish)
                    or (wanted == "closed" and o["status"] not in openish)
                ]
                limit = int(query.get("limit", ["50"])[0])
                newest_first = query.get("direction", ["desc"])[0] == "desc"
                chosen = list(reversed(chosen)) if newest_first else chosen
                return self.answer(200, [m.public(o) for o in chosen[:limit]])
            if method == "GET" and rest == "/orders:by_client_order_id":
                wanted = query.get("client_order_id", [""])[0]
                for o in m.orders:
                    if o["client_order_id"] == wanted:
                        return self.answer(200, m.public(o))
                return self.answer(404, {"code": NOT_FOUND, "message": "order not found"})
            if rest.startswith("/orders/"):
                order_id = rest[len("/orders/"):]
                found = next((o for o in m.orders if o["id"] == order_id), None)
                if found is None:
                    return self.answer(404, {"code": NOT_FOUND, "message": "order not found"})
                if method == "GET":
                    return self.answer(200, m.public(found))
                if method == "DELETE":
                    if found["status"] in ("filled", "canceled", "expired"):
                        return self.answer(422, {"code": UNPROCESSABLE, "message": f"order is already in \"{found['status']}\" state"})
                    m.cancel(found)
                    return self.answer(204)
            if method == "DELETE" and rest == "/orders":
                cancelled = []
                for o in m.orders:
                    if o["status"] in ("new", "accepted", "partially_filled"):
                        m.cancel(o)
                        cancelled.append({"id": o["id"], "status": 200, "body": m.public(o)})
                return self.answer(207, cancelled)
            return self.answer(404, {"code": NOT_FOUND, "message": "endpoint not found"})

        def standin(self, method: str, path: str, body: dict) -> None:
            m = market
            if method == "POST" and path == "/_standin/open":
                fills = m.open_session(body.get("prices", {}), body.get("fill_ratio", {}))
                return self.answer(200, fills)
            if method == "POST" and path == "/_standin/prices":
                m.mark(body.get("prices", {}))
                return self.answer(200, m.account())
            if method == "POST" and path == "/_standin/clock":
                m.now = datetime.fromisoformat(body["now"])
                return self.answer(200, m.clock())
            if method == "POST" and path == "/_standin/fail":
                m.failures.extend([(int(body["status"]), body.get("retry_after"))] * int(body.get("count", 1)))
                return self.answer(200, {"queued": len(m.failures)})
            if method == "GET" and path == "/_standin/requests":
                return self.answer(200, m.log)
            return self.answer(404, {"message": "no such stand-in control"})

        def do_GET(self):  # noqa: N802
            self.route("GET")

        def do_POST(self):  # noqa: N802
            self.route("POST")

        def do_DELETE(self):  # noqa: N802
            self.route("DELETE")

        def do_PATCH(self):  # noqa: N802
            self.route("PATCH")

    return Handler


def serve(key_id: str, secret: str, cash: float = 100_000.0, symbols=("AAPL", "MSFT")):
    """Starts the stand-in on a free loopback port in a thread; returns (url, market, server)."""
    market = Market(key_id, secret, cash, list(symbols))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(market))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", market, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--cash", type=float, default=100_000.0)
    parser.add_argument("--symbols", default="AAPL,MSFT")
    args = parser.parse_args()
    url, _, server = serve(args.key_id, args.secret, args.cash, args.symbols.split(","))
    print(url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
