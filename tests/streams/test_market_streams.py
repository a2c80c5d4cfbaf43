"""Market streams against an in-process server: a local order book kept from `@depth` diffs and
one REST snapshot, by Binance's documented procedure, equals the server's book after thousands
of random orders; trades, aggregates and best prices as they happen; subscription methods and
error frames."""

import random
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.api.conftest import Api, Signer

Book = dict[str, dict[Decimal, Decimal]]


def nums(body: dict[str, Any], *keys: str) -> list[Decimal]:
    return [Decimal(body[k]) for k in keys]


def place(signer: Signer, **params: Any) -> dict[str, Any]:
    r = signer.signed("POST", "/api/v3/order", symbol="BTCUSDT", **params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def snapshot(api: Api) -> tuple[int, Book]:
    body = api.client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5000}).json()
    book = {side: {Decimal(p): Decimal(q) for p, q in body[side]} for side in ("bids", "asks")}
    return body["lastUpdateId"], book


def apply(book: Book, event: dict[str, Any]) -> None:
    for side, key in (("bids", "b"), ("asks", "a")):
        for p, q in event[key]:
            if Decimal(q) == 0:
                book[side].pop(Decimal(p), None)
            else:
                book[side][Decimal(p)] = Decimal(q)


def random_orders(api: Api, count: int, seed: int) -> None:
    rng = random.Random(seed)
    open_ids: list[tuple[Signer, int]] = []
    for _ in range(count):
        signer = api if rng.random() < 0.5 else api.other
        roll = rng.random()
        if roll < 0.15 and open_ids:
            owner, order_id = open_ids.pop(rng.randrange(len(open_ids)))
            owner.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=order_id)
            continue  # it may have filled meanwhile: either answer is fine
        side = rng.choice(("BUY", "SELL"))
        qty = f"{rng.randint(2, 300) / 10000:.4f}"  # at least 5 USDT (NOTIONAL)
        if roll < 0.22:
            place(signer, side=side, type="MARKET", quantity=qty)
            continue
        # Mostly resting on its own side of 50000, sometimes crossing: a deep book that trades.
        offset = rng.randint(-200, 20)
        price = f"{50_000 + (offset if side == 'BUY' else -offset)}.{rng.randint(0, 99):02d}"
        tif = "IOC" if roll < 0.3 else "GTC"
        order = place(signer, side=side, type="LIMIT", timeInForce=tif, quantity=qty, price=price)
        if order["status"] in ("NEW", "PARTIALLY_FILLED"):
            open_ids.append((signer, order["orderId"]))


def read_until(ws: WebSocketTestSession, last: int) -> list[dict[str, Any]]:
    """Depth events up to the one whose u reaches `last` (diffs go out every 100 ms)."""
    events = []
    while True:
        event = ws.receive_json()
        events.append(event)
        if event["u"] >= last:
            return events


def test_a_local_book_from_diffs_and_one_snapshot_equals_the_servers(live: Api) -> None:
    random_orders(live, 200, seed=1)  # a book before anyone listens
    with live.client.websocket_connect("/ws/btcusdt@depth@100ms") as ws:
        random_orders(live, 300, seed=2)  # diffs buffered while the snapshot is taken
        last_update_id, book = snapshot(live)
        random_orders(live, 1500, seed=3)
        target, server_book = snapshot(live)
        events = read_until(ws, target)
    # Binance's procedure: drop what the snapshot already has; the first event kept straddles it;
    # then each event starts one past the previous one's end.
    kept = [e for e in events if e["u"] > last_update_id]
    assert kept, "no diff after the snapshot"
    assert kept[0]["U"] <= last_update_id + 1 <= kept[0]["u"]
    previous = None
    for event in kept:
        assert event["e"] == "depthUpdate" and event["s"] == "BTCUSDT"
        if previous is not None:
            assert event["U"] == previous + 1
        previous = event["u"]
        apply(book, event)
    assert previous == target
    assert book == server_book
    assert len(book["bids"]) > 20 and len(book["asks"]) > 20  # a real book, not an empty one


def test_trades_aggregates_and_best_prices_as_they_happen(live: Api) -> None:
    # The demo's maker quotes BTCUSDT from 59990 (bid) and 60010 (ask): 60005 is the new best ask.
    names = "btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker"
    with live.client.websocket_connect(f"/stream?streams={names}") as ws:
        place(live, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.01", price="60005")
        book = ws.receive_json()
        assert book["stream"] == "btcusdt@bookTicker"
        assert nums(book["data"], "a", "A", "b", "B") == [
            60005,
            Decimal("0.01"),
            59990,
            Decimal("0.05"),
        ]
        place(live, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.02", price="60005")
        ws.receive_json()  # the ask grows to 0.03
        taker = place(live.other, side="BUY", type="MARKET", quantity="0.025")
        got = [ws.receive_json() for _ in range(4)]  # two trades, one aggregate, the new best
        by_stream: dict[str, list[dict[str, Any]]] = {}
        for message in got:
            by_stream.setdefault(message["stream"], []).append(message["data"])
        trades = by_stream["btcusdt@trade"]
        assert [Decimal(t["q"]) for t in trades] == [Decimal("0.01"), Decimal("0.015")]
        assert all(t["e"] == "trade" and Decimal(t["p"]) == 60005 and not t["m"] for t in trades)
        (agg,) = by_stream["btcusdt@aggTrade"]
        assert (agg["a"], agg["f"], agg["l"]) == (trades[0]["t"], trades[0]["t"], trades[1]["t"])
        assert Decimal(agg["q"]) == Decimal("0.025")
        rest = live.client.get(
            "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "fromId": agg["a"]}
        ).json()
        assert (rest[0]["a"], rest[0]["q"], rest[0]["l"]) == (agg["a"], agg["q"], agg["l"])
        (best,) = by_stream["btcusdt@bookTicker"]
        assert Decimal(best["A"]) == Decimal("0.005") and taker["status"] == "FILLED"


def test_subscribe_list_unsubscribe_and_error_frames(live: Api) -> None:
    live.client.app.state.realtime.messages_per_s = 100  # Binance's 5 per second: below
    with live.client.websocket_connect("/ws") as ws:
        ws.send_json(
            {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@depth5"], "id": 1}
        )
        assert ws.receive_json() == {"result": None, "id": 1}
        ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert ws.receive_json() == {"result": ["btcusdt@trade", "ethusdt@depth5"], "id": 2}
        ws.send_json({"method": "UNSUBSCRIBE", "params": ["ethusdt@depth5"], "id": 3})
        assert ws.receive_json() == {"result": None, "id": 3}
        ws.send_json({"method": "SUBSCRIBE", "params": ["dogeusdt@trade"], "id": 4})
        error = ws.receive_json()
        assert error["id"] == 4 and error["error"]["code"] == 2
        assert "dogeusdt@trade" in error["error"]["msg"]
        ws.send_text("{not json")
        assert ws.receive_json()["error"]["code"] == 3
        ws.send_json({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5})
        assert ws.receive_json() == {"result": None, "id": 5}
        ws.send_json({"method": "GET_PROPERTY", "params": ["combined"], "id": 6})
        assert ws.receive_json() == {"result": True, "id": 6}
        place(live, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.01", price="50000")
        place(live.other, side="BUY", type="MARKET", quantity="0.01")
        wrapped = ws.receive_json()  # combined now: wrapped, and only the streams subscribed
        assert wrapped["stream"] == "btcusdt@trade"
        assert Decimal(wrapped["data"]["q"]) == Decimal("0.01")


def test_partial_book_streams_send_the_top_levels(live: Api) -> None:
    for i in range(7):  # above the demo maker's best bid (59990)
        price = f"{59_991 + i}"
        place(live, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price=price)
    with live.client.websocket_connect("/ws/btcusdt@depth5@100ms") as ws:
        top = ws.receive_json()
    assert [Decimal(b[0]) for b in top["bids"]] == [59_997 - i for i in range(5)]
    assert [Decimal(x) for x in top["asks"][0]] == [60010, Decimal("0.05")]
    assert len(top["asks"]) == 5 and top["lastUpdateId"] == snapshot(live)[0]


def test_an_unknown_stream_in_the_url_is_refused_with_an_error_frame(live: Api) -> None:
    with live.client.websocket_connect("/ws/btcusdt@nonsense") as ws:
        error = ws.receive_json()
    assert error["error"]["code"] == 2 and "btcusdt@nonsense" in error["error"]["msg"]


def test_a_path_segment_that_names_no_stream_subscribes_to_nothing(live: Api) -> None:
    """ccxt.pro opens /ws/0, /ws/1... to tell its connections apart, then SUBSCRIBEs: the
    number names no stream (no '@'), so it is not one, as on Binance."""
    with live.client.websocket_connect("/ws/0") as ws:
        ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert ws.receive_json() == {"result": [], "id": 1}
        ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 2})
        assert ws.receive_json() == {"result": None, "id": 2}


def test_more_than_five_messages_a_second_ends_the_connection(live: Api) -> None:
    with live.client.websocket_connect("/ws") as ws:
        for i in range(20):  # far more than 5 within a second, however slow the machine
            ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": i})
        answers = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                answers.append(ws.receive_json())
    assert closed.value.code == 1008 and "more than 5 messages per second" in closed.value.reason
    assert answers == [{"result": [], "id": i} for i in range(len(answers))]
    assert len(answers) <= 5  # the sixth ended it: its reason is the close frame's


def test_ticker_streams_agree_with_rest_tickers(live: Api) -> None:
    names = "btcusdt@ticker/btcusdt@miniTicker/!ticker@arr"
    with live.client.websocket_connect(f"/stream?streams={names}") as ws:
        place(live, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.01", price="59000")
        got: dict[str, Any] = {}
        while len(got) < 3:  # each goes out on the next second's tick
            message = ws.receive_json()
            got[message["stream"]] = message["data"]
    rest = live.client.get("/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"}).json()
    full, mini = got["btcusdt@ticker"], got["btcusdt@miniTicker"]
    assert full["e"] == "24hrTicker" and mini["e"] == "24hrMiniTicker"
    pairs = {
        "c": "lastPrice", "o": "openPrice", "h": "highPrice", "l": "lowPrice", "v": "volume",
        "q": "quoteVolume", "n": "count", "L": "lastId", "b": "bidPrice",
    }  # fmt: skip
    for letter, field in pairs.items():
        assert full[letter] == rest[field], letter
    assert {k: mini[k] for k in "cohlvq"} == {k: full[k] for k in "cohlvq"}
    assert Decimal(full["c"]) == 59990  # the sell took the demo maker's best bid
    everyone = got["!ticker@arr"]
    assert isinstance(everyone, list) and "BTCUSDT" in {t["s"] for t in everyone}


def test_kline_streams_follow_the_candle_and_close_it(live: Api) -> None:
    # the clock held still: the candle cannot close under the test's feet (a slow run crossing
    # a minute boundary would wait forever for a trade in the next candle)
    held = live.service.clock()
    live.service.clock = lambda: held
    with live.client.websocket_connect("/ws/btcusdt@kline_1m") as ws:
        # signed at the held time: by the wall clock, a slow connect put it 1 s "ahead" (-1021)
        place(
            live, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.01", price="59000",
            timestamp=held,
        )  # fmt: skip
        k = ws.receive_json()["k"]
        while k["n"] < 1:
            k = ws.receive_json()["k"]
        rest = live.client.get(
            "/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 1}
        ).json()[0]
        assert [k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"]] == rest[:9]
        assert (k["s"], k["i"], k["x"]) == ("BTCUSDT", "1m", False)
        next_minute = k["T"] + 1
        live.service.clock = lambda: next_minute + 1_000  # a second into the next minute
        closed = ws.receive_json()["k"]
        while not closed["x"]:
            closed = ws.receive_json()["k"]
        assert (closed["t"], closed["n"], closed["c"]) == (k["t"], k["n"], k["c"])
        following = ws.receive_json()["k"]
        assert following["t"] == k["t"] + 60_000 and following["n"] == 0 and not following["x"]
        assert following["o"] == k["c"]  # flat at the last price until something trades


def test_kline_streams_of_intervals_binance_lacks_are_refused(live: Api) -> None:
    with live.client.websocket_connect("/ws") as ws:
        for n, interval in enumerate(("7m", "2d", "1y", "1S", "60s"), start=1):
            ws.send_json({"method": "SUBSCRIBE", "params": [f"btcusdt@kline_{interval}"], "id": n})
            assert ws.receive_json()["error"]["code"] == 2, interval
            live.client.app.state.realtime.messages_per_s = 100
