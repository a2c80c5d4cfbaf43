"""The WebSocket API's methods: each is the REST operation of the same request (one
implementation, the same results and errors), its security type, and the cost of the REST route
it mirrors (weight, orders), counted by the same limiter."""

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, NamedTuple

from bourse.api.binance import account, exchange_info, market, ratelimit, trading
from bourse.api.binance.auth import Caller, check_key
from bourse.api.binance.gateway import Gateway
from bourse.api.binance.params import Params
from bourse.api.binance.user_stream import close_listen_key, extend_listen_key, open_listen_key
from bourse.api.binance.weights import COSTS, Cost
from bourse.api.binance.wsapi.session import KEY, Session

Run = Callable[[Gateway, Params, Caller | None, Session], Awaitable[Any]]
Public = Callable[[Gateway, Params], Awaitable[Any]]
Signed = Callable[[Gateway, Params, Caller], Awaitable[Any]]
SESSION = Cost(2)  # session.logon, session.status, session.logout
USER_STREAM = Cost(2)  # userDataStream.*, session.subscriptions


class Security(Enum):
    NONE = "NONE"
    USER_DATA = "USER_DATA"
    TRADE = "TRADE"


class Method(NamedTuple):
    run: Run
    security: Security
    cost: Cost


def _public(op: Public, route: str) -> Method:
    async def run(gw: Gateway, params: Params, caller: Caller | None, session: Session) -> Any:
        return await op(gw, params)

    return Method(run, Security.NONE, COSTS[("GET", route)])


def _signed(op: Signed, verb: str, route: str, security: Security) -> Method:
    async def run(gw: Gateway, params: Params, caller: Caller | None, session: Session) -> Any:
        assert caller is not None, "the router authenticates every signed method"
        return await op(gw, params, caller)

    return Method(run, security, COSTS[(verb, route)])


async def _exchange_info(gw: Gateway, params: Params, _: Caller | None, s: Session) -> Any:
    # the key the request names, else the session's, chooses the venue's symbols (as REST's
    # X-MBX-APIKEY header does)
    return await exchange_info.trading_rules(gw, params, params.values.get(KEY) or s.api_key)


async def _logon(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    return session.logon(params)


async def _status(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    return session.status()


async def _logout(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    return session.logout()


async def _subscribe(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    return session.subscribe_session()


async def _subscribe_signed(gw: Gateway, params: Params, caller: Caller | None, s: Session) -> Any:
    assert caller is not None, "the router authenticates every signed method"
    return s.subscribe(caller.account_id, caller.api_key, by_session=False)


async def _unsubscribe(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    return session.unsubscribe(params)


async def _subscriptions(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    return session.subscriptions()


# the listenKey requests Binance deprecated in favour of the subscriptions (API key, no signature)


async def _start(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    key = check_key(gw.keys, params.text(KEY), session.host, trade=False)
    return {"listenKey": await open_listen_key(gw, key)}


async def _ping(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    key = check_key(gw.keys, params.text(KEY), session.host, trade=False)
    await extend_listen_key(gw, key, params.text("listenKey"))
    return {}


async def _stop(gw: Gateway, params: Params, _: Caller | None, session: Session) -> Any:
    key = check_key(gw.keys, params.text(KEY), session.host, trade=False)
    await close_listen_key(gw, session.user_streams(), key, params.text("listenKey"))
    return {}


V3 = "/api/v3/"
USER, TRADE = Security.USER_DATA, Security.TRADE
METHODS: dict[str, Method] = {
    # general and market data
    "ping": _public(market.connectivity, V3 + "ping"),
    "time": _public(market.clock_time, V3 + "time"),
    "exchangeInfo": Method(_exchange_info, Security.NONE, COSTS[("GET", V3 + "exchangeInfo")]),
    "depth": _public(market.order_book, V3 + "depth"),
    "trades.recent": _public(market.recent_trades, V3 + "trades"),
    "trades.historical": _public(market.older_trades, V3 + "historicalTrades"),
    "trades.aggregate": _public(market.aggregates, V3 + "aggTrades"),
    "klines": _public(market.candles, V3 + "klines"),
    "uiKlines": _public(market.candles, V3 + "uiKlines"),
    "avgPrice": _public(market.average_price, V3 + "avgPrice"),
    "ticker.24hr": _public(market.rolling_24hr, V3 + "ticker/24hr"),
    "ticker.price": _public(market.latest_prices, V3 + "ticker/price"),
    "ticker.book": _public(market.best_prices, V3 + "ticker/bookTicker"),
    # session
    "session.logon": Method(_logon, Security.NONE, SESSION),
    "session.status": Method(_status, Security.NONE, SESSION),
    "session.logout": Method(_logout, Security.NONE, SESSION),
    "session.subscriptions": Method(_subscriptions, Security.NONE, USER_STREAM),
    # user data streams
    "userDataStream.subscribe": Method(_subscribe, Security.NONE, USER_STREAM),
    "userDataStream.subscribe.signature": Method(_subscribe_signed, USER, USER_STREAM),
    "userDataStream.unsubscribe": Method(_unsubscribe, Security.NONE, USER_STREAM),
    "userDataStream.start": Method(_start, Security.NONE, USER_STREAM),
    "userDataStream.ping": Method(_ping, Security.NONE, USER_STREAM),
    "userDataStream.stop": Method(_stop, Security.NONE, USER_STREAM),
    # trading
    "order.place": _signed(trading.place_order, "POST", V3 + "order", TRADE),
    "order.test": _signed(trading.check_order, "POST", V3 + "order/test", TRADE),
    "order.status": _signed(account.order_status, "GET", V3 + "order", USER),
    "order.cancel": _signed(trading.cancel_order, "DELETE", V3 + "order", TRADE),
    "order.cancelReplace": _signed(
        trading.replace_order, "POST", V3 + "order/cancelReplace", TRADE
    ),
    "openOrders.status": _signed(account.open_orders, "GET", V3 + "openOrders", USER),
    "openOrders.cancelAll": _signed(trading.cancel_open_orders, "DELETE", V3 + "openOrders", TRADE),
    # account
    "account.status": _signed(account.account_info, "GET", V3 + "account", USER),
    "account.commission": _signed(account.commission, "GET", V3 + "account/commission", USER),
    "account.rateLimits.orders": _signed(
        ratelimit.order_counts, "GET", V3 + "rateLimit/order", USER
    ),
    "allOrders": _signed(account.all_orders, "GET", V3 + "allOrders", USER),
    "myTrades": _signed(account.my_trades, "GET", V3 + "myTrades", USER),
}
