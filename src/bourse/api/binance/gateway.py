"""What every Binance route needs, in one object on `app.state.gateway`: the service (commands),
the read model (symbols, accounts, keys: what is released, built from events), market data (the
book, tickers), the key ring (signatures) and store reads. Nothing here reads the engine's state:
the engine's own stages check every command, and answers render from its events."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request

from bourse.api.binance.auth import Caller, KeyRing, authenticate
from bourse.api.binance.params import Params
from bourse.api.binance.replies import KEY_REJECTED, ApiError
from bourse.marketdata import MarketData
from bourse.server.service import GatewayService, StoreUnavailable
from bourse.store.db import create_store_engine, unreachable
from bourse.view import ReadModel

if TYPE_CHECKING:
    from bourse.api.binance.ratelimit import Rates
from bourse.view.model import SymbolView

T = TypeVar("T")


class Gateway:
    def __init__(
        self, service: GatewayService, market: MarketData, rates: "Rates | None" = None
    ) -> None:
        """`rates`: where requests are counted against the rate limits; by default here."""
        self.service = service
        self.market = market  # fed released outcomes by whoever wired it (api/app.py)
        self.keys = KeyRing(service.view, service.box)
        # readers never take the projector's write lock
        self._reader = create_store_engine(service.store_url)
        if rates is None:
            from bourse.api.binance.ratelimit import Limits, LocalRates  # imports this module

            limits = Limits(lambda: self.clock())
            service.on_release.append(limits.on_release)  # first fills give order counts back
            rates = LocalRates(limits)
        self.rates: Rates = rates

    @property
    def clock(self) -> Callable[[], int]:
        """The service's clock: one time for the trading and admin APIs and the policy driver."""
        return self.service.clock

    @clock.setter
    def clock(self, fn: Callable[[], int]) -> None:
        self.service.clock = fn

    @property
    def view(self) -> ReadModel:
        """The read model as of every released outcome: after `await service.execute(cmd)` it
        holds that command's events."""
        return self.service.view

    def symbol(self, name: str) -> SymbolView:
        """A listed symbol, or -1121 Invalid symbol."""
        sym = self.service.view.symbols.get(name.upper())
        if sym is None:
            raise ApiError(-1121, "Invalid symbol.")
        return sym

    def authenticate(self, request: Request, params: Params, *, trade: bool) -> Caller:
        return authenticate(self.keys, request, params, self.clock(), trade=trade)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store query (`fn(conn, *args, **kwargs)`) once the store has caught up with
        everything acknowledged so far, on a worker thread so SQL never blocks matching."""
        try:
            await self.service.store_caught_up()
        except StoreUnavailable as exc:
            raise ApiError(
                -1001, f"Internal error; unable to process your request. {exc}", 503
            ) from exc
        return await query_store(self._reader, fn, *args, **kwargs)

    def close(self) -> None:
        self._reader.dispose()


async def query_store(reader: sa.Engine, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(conn, *args, **kwargs)` on a worker thread (SQL never blocks the loop); a store that
    cannot be reached is Binance's 503, to be tried again."""

    def run() -> T:
        with reader.connect() as conn:
            return fn(conn, *args, **kwargs)

    try:
        return await run_in_threadpool(run)
    except sa.exc.DBAPIError as exc:
        if not unreachable(exc):
            raise
        raise ApiError(
            -1001,
            "Internal error; unable to process your request. The SQL store cannot be read now; "
            "try again later.",
            503,
        ) from exc


def gateway(request: HTTPConnection) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


async def signed(request: Request, *, trade: bool) -> tuple[Gateway, Params, Caller]:
    """A SIGNED REST request's gateway, parameters and authenticated caller."""
    gw = gateway(request)
    params = await Params.read(request)
    caller = await caught_up_caller(
        gw.service, lambda: gw.authenticate(request, params, trade=trade), trade=trade
    )
    return gw, params, caller


async def caught_up_caller(
    service: GatewayService, authenticate: Callable[[], Caller], *, trade: bool
) -> Caller:
    """`authenticate()` as REST and the WebSocket API both need it with gateway processes: a
    read (USER_DATA) first catches up with what any gateway process has answered (read your
    own writes), and a key this process does not know yet is looked for again once caught up
    (one created through another process a moment ago)."""
    if not trade:
        await service.caught_up()
    try:
        return authenticate()
    except ApiError as exc:
        if exc.code != KEY_REJECTED or not trade:
            raise
    await service.caught_up()
    return authenticate()
