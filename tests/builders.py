"""Builders for engine tests: a small funded world, and a Runner that numbers and records commands.

Plain functions and one small class instead of fixtures-of-fixtures. Every command a test sends
goes through `Runner.execute`, which gives it the next sequence number and keeps it, so any test
can replay what it did into a fresh engine. It also folds the command's events into a read model
and checks, after every command of every engine test, that the fold agrees with the engine's own
export of it: only events leave the engine, so they must say everything a gateway reads.
"""

from collections.abc import Generator, Sequence
from typing import Any, TypeVar

import msgspec

from bourse import codec
from bourse.commands import (
    CancelAllOrders,
    CancelOrder,
    CancelReplaceOrder,
    Command,
    CompleteWithdrawal,
    ContinuePolicySweep,
    CreateAsset,
    Deposit,
    FailWithdrawal,
    ListSymbol,
    OnboardCustomer,
    OpenAccount,
    OperatorCommand,
    PlaceOrder,
    RequestWithdrawal,
    SetJurisdictionPolicy,
)
from bourse.compliance.policy import Access, Basis, Capability, PolicySpec, Rule, preview_id
from bourse.demo import spec
from bourse.domain.enums import (
    CancelReplaceMode,
    CancelRestriction,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from bourse.domain.money import to_raw
from bourse.domain.symbols import SymbolSpec
from bourse.engine import Engine, read_model, snapshot
from bourse.engine.impact import fingerprint
from bourse.engine.invariants import violations
from bourse.engine.state import EngineState
from bourse.events import (
    AccountOpened,
    AnyEvent,
    CommandRejected,
    CustomerRecorded,
    OrderAccepted,
    Outcome,
)
from bourse.view import ReadModel, apply
from bourse.view.plain import plain

ASSETS = {"BTC": 8, "ETH": 8, "USDT": 8}
# A valid destination per asset (BIP-173's and EIP-55's examples, IBANs): the engine checks a
# withdrawal's destination against its asset's network.
DESTINATIONS = {
    "BTC": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "ETH": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "USDT": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "EUR": "DE89370400440532013000",
    "KZT": "KZ86125KZT5004100100",
}
BTC_ADDRESS = DESTINATIONS["BTC"]
SYMBOLS: dict[str, SymbolSpec] = {
    "BTCUSDT": spec(
        "BTCUSDT", "BTC", "USDT", tick="0.01", step="0.00001", min_notional="5", max_qty="9000"
    ),
    "ETHUSDT": spec(
        "ETHUSDT", "ETH", "USDT", tick="0.01", step="0.0001", min_notional="5", max_qty="90000"
    ),
}
ACTOR = "ops:test"
REASON = "test setup"
T0 = 1_700_000_000_000  # ts_ms of the first command; each further command is 1 ms later
DEFAULT_FUNDS = {"BTC": "10", "ETH": "100", "USDT": "1000000"}
TRADING = Capability.TRADING

E = TypeVar("E")
T = TypeVar("T")
C = TypeVar("C", bound=Command)


def raw(text: str) -> int:
    """A decimal string as raw units: every asset here has 8 decimals, so prices and quantities
    of every symbol share one scale."""
    return to_raw(text, 8)


VIEW_CHECK_ACCOUNTS = 200


def assert_view_agrees(view: ReadModel, state: EngineState) -> None:
    """The read model folded from events equals the engine's export of its state."""
    folded, exported = plain(view), plain(read_model.export(state))
    if folded != exported:
        wrong = [k for k in exported if folded[k] != exported[k]]
        details = "; ".join(f"{k}: folded {folded[k]!r} != engine {exported[k]!r}" for k in wrong)
        raise AssertionError(f"after seq {state.last_seq} the read model disagrees: {details}")


class Runner:
    """Wraps an Engine: numbers commands, stamps actor and time, records what it executed."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else Engine()
        self.commands: list[Command] = []
        self.events: list[list[AnyEvent]] = []
        self.ts_ms = T0
        self.view = read_model.export(self.engine.state)  # the fold starts where the engine is

    @property
    def state(self) -> EngineState:
        return self.engine.state

    def execute(self, cmd: Command) -> list[AnyEvent]:
        seq = self.state.last_seq + 1
        events = self.engine.execute(seq, cmd)
        self.commands.append(cmd)
        self.events.append(events)
        apply(
            self.view,
            [Outcome(seq=seq, ts_ms=cmd.ts_ms, command=type(cmd).__name__, events=events)],
        )
        # every command of a small world; a bulk one (20,000 customers) after its 2nd, 4th,
        # 8th ... command, as a full comparison costs time in proportion to the state
        n = len(self.commands)
        if len(self.state.accounts) <= VIEW_CHECK_ACCOUNTS or n & (n - 1) == 0:
            assert_view_agrees(self.view, self.state)
        return events

    def stamp(self, cls: type[C], **fields: Any) -> C:
        """Build a command of `cls` with actor and time filled in (and a reason for operators)."""
        self.ts_ms += 1
        fields.setdefault("ts_ms", self.ts_ms)
        if issubclass(cls, OperatorCommand):
            fields.setdefault("reason", REASON)
        elif "account_id" in fields and cls is not Deposit:  # a customer's own request
            fields.setdefault("actor", f"account:{fields['account_id']}")
        fields.setdefault("actor", ACTOR)
        return cls(**fields)

    def do(self, cls: type[Command], **fields: Any) -> list[AnyEvent]:
        return self.execute(self.stamp(cls, **fields))

    # --- orders -----------------------------------------------------------------------------

    def order(
        self,
        acct: int,
        side: Side,
        order_type: OrderType,
        *,
        price: str | None = None,
        qty: str | None = None,
        quote: str | None = None,
        stop: str | None = None,
        symbol: str = "BTCUSDT",
        tif: TimeInForce = TimeInForce.GTC,
        cid: str = "",
        stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_MAKER,
    ) -> PlaceOrder:
        return self.stamp(
            PlaceOrder,
            account_id=acct,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=tif,
            qty_raw=raw(qty) if qty is not None else 0,
            quote_qty_raw=raw(quote) if quote is not None else 0,
            price_raw=raw(price) if price is not None else 0,
            stop_price_raw=raw(stop) if stop is not None else 0,
            client_order_id=cid,
            stp=stp,
        )

    def limit(self, acct: int, side: Side, price: str, qty: str, **kw: Any) -> list[AnyEvent]:
        kw.setdefault("order_type", OrderType.LIMIT)
        return self.execute(self.order(acct, side, price=price, qty=qty, **kw))

    def market(
        self, acct: int, side: Side, qty: str | None = None, *, quote: str | None = None, **kw: Any
    ) -> list[AnyEvent]:
        return self.execute(self.order(acct, side, OrderType.MARKET, qty=qty, quote=quote, **kw))

    def stop(
        self,
        acct: int,
        side: Side,
        order_type: OrderType,
        stop: str,
        qty: str,
        price: str | None = None,
        **kw: Any,
    ) -> list[AnyEvent]:
        return self.execute(
            self.order(acct, side, order_type, stop=stop, qty=qty, price=price, **kw)
        )

    def cancel(
        self,
        acct: int,
        order_id: int = 0,
        *,
        cid: str = "",
        symbol: str = "BTCUSDT",
        restriction: CancelRestriction | None = None,
    ) -> list[AnyEvent]:
        return self.do(
            CancelOrder,
            account_id=acct,
            symbol=symbol,
            order_id=order_id,
            client_order_id=cid,
            restriction=restriction,
        )

    def cancel_all(self, acct: int, symbol: str = "BTCUSDT") -> list[AnyEvent]:
        return self.do(CancelAllOrders, account_id=acct, symbol=symbol)

    def cancel_replace(
        self,
        acct: int,
        new_order: PlaceOrder,
        *,
        order_id: int = 0,
        cid: str = "",
        mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE,
        restriction: CancelRestriction | None = None,
    ) -> list[AnyEvent]:
        return self.do(
            CancelReplaceOrder,
            account_id=acct,
            symbol=new_order.symbol,
            cancel_order_id=order_id,
            cancel_client_order_id=cid,
            mode=mode,
            new_order=new_order,
            cancel_restriction=restriction,
        )

    # --- funds ------------------------------------------------------------------------------

    def deposit(self, acct: int, asset: str, amount: str) -> list[AnyEvent]:
        return self.do(
            Deposit, account_id=acct, asset=asset, amount_raw=raw(amount), tx_ref="tx-test"
        )

    def withdraw(self, acct: int, asset: str, amount: str, to: str | None = None) -> list[AnyEvent]:
        to = DESTINATIONS.get(asset, "") if to is None else to
        return self.do(
            RequestWithdrawal, account_id=acct, asset=asset, amount_raw=raw(amount), destination=to
        )

    def complete_withdrawal(self, withdrawal_id: int) -> list[AnyEvent]:
        return self.do(CompleteWithdrawal, withdrawal_id=withdrawal_id, tx_ref="chain-tx")

    def fail_withdrawal(self, withdrawal_id: int, reason: str = "bank bounced") -> list[AnyEvent]:
        return self.do(FailWithdrawal, withdrawal_id=withdrawal_id, reason=reason)

    # --- reading the state ------------------------------------------------------------------

    def balance(self, acct: int, asset: str) -> tuple[int, int]:
        """(free, locked) raw, (0, 0) when the account never held the asset."""
        bal = self.state.accounts[acct].balances.get(asset)
        return (bal.free, bal.locked) if bal is not None else (0, 0)

    def book(self, side: Side, symbol: str = "BTCUSDT") -> list[tuple[int, int, int]]:
        """(order id, price, remaining) of one side in priority order."""
        return [(o.id, o.price, o.remaining) for o in self.state.symbols[symbol].book.orders(side)]


def world(
    accounts: int = 2,
    funds: dict[str, str] | None = None,
    *,
    symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT"),
    fees: bool = True,
) -> Runner:
    """A Runner over a fresh engine: BTC/ETH/USDT (8 decimals), the named symbols (demo filters,
    0.1 % maker and taker fees unless `fees=False`), and accounts 1..N each funded with `funds`."""
    r = Runner()
    for asset, precision in ASSETS.items():
        r.do(CreateAsset, asset=asset, precision=precision)
    for name in symbols:
        s = SYMBOLS[name]
        if not fees:
            s = msgspec.structs.replace(s, maker_fee_ppm=0, taker_fee_ppm=0)
        r.do(ListSymbol, spec=s)
    for _ in range(accounts):
        r.do(OpenAccount)
    for acct in range(1, accounts + 1):
        for asset, amount in (DEFAULT_FUNDS if funds is None else funds).items():
            r.deposit(acct, asset, amount)
    for events in r.events:
        assert not of(events, CommandRejected), events
    return r


# --- reading events ---------------------------------------------------------------------------


def of(events: Sequence[AnyEvent], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def one(events: Sequence[AnyEvent], kind: type[E]) -> E:
    found = of(events, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {events}"
    return found[0]


def accepted_id(events: Sequence[AnyEvent]) -> int:
    """The order id of the (one) OrderAccepted among `events`."""
    return one(events, OrderAccepted).order_id


# --- customers, venues and jurisdiction policies ----------------------------------------------


def onboard(
    r: Runner,
    residence: str,
    nationality: str = "",
    *,
    name: str = "Test Customer",
    born: str = "1980-01-01",
) -> tuple[int, int]:
    """Onboard a customer (nationality defaults to the residence): (customer id, account id)."""
    events = r.do(
        OnboardCustomer,
        legal_name=name,
        date_of_birth=born,
        nationality=nationality or residence,
        residence=residence,
    )
    assert not of(events, CommandRejected), events
    return one(events, CustomerRecorded).customer_id, one(events, AccountOpened).account_id


def policy_command(
    r: Runner, cls: type[C], spec: PolicySpec, *, batch: int = 1000, **fields: Any
) -> C:
    """`cls` (SetJurisdictionPolicy or SchedulePolicyChange) citing a preview made just now."""
    seen = fingerprint(r.state, spec.basis, spec.country)
    return r.stamp(
        cls,
        spec=spec,
        preview_id=preview_id(spec, seen),
        previewed=seen,
        sweep_batch=batch,
        **fields,
    )


def apply_policy(r: Runner, spec: PolicySpec, *, batch: int = 1000) -> list[AnyEvent]:
    """Preview `spec` and apply that preview at once (its first sweep batch runs with it)."""
    return r.execute(policy_command(r, SetJurisdictionPolicy, spec, batch=batch))


def finish_sweeps(r: Runner) -> list[list[AnyEvent]]:
    """Submit ContinuePolicySweep for the oldest open sweep until none is left, as the runtime's
    policy driver does; returns each command's events."""
    done: list[list[AnyEvent]] = []
    while r.state.sweeps:
        sweep_id = next(iter(r.state.sweeps))
        events = r.do(ContinuePolicySweep, sweep_id=sweep_id)
        assert not of(events, CommandRejected), events
        done.append(events)
    return done


def suspension(country: str, *caps: Capability, basis: Basis = Basis.RESIDENCE) -> PolicySpec:
    """A policy suspending `caps` (trading by default) for one country."""
    rules = tuple(Rule(capability=c, access=Access.SUSPENDED) for c in caps or (TRADING,))
    return PolicySpec(name=f"{country} suspension", country=country, basis=basis, rules=rules)


def restoration(country: str, basis: Basis = Basis.RESIDENCE) -> PolicySpec:
    """The all-OPEN spec that removes a country's policy."""
    rule = Rule(capability=TRADING, access=Access.OPEN)
    return PolicySpec(name=f"{country} restored", country=country, basis=basis, rules=(rule,))


def assert_sound(r: Runner) -> None:
    """Invariants hold; the snapshot round-trips; a replay from empty is identical."""
    assert violations(r.state) == []
    image = snapshot.dump(r.state)
    restored = snapshot.load(image)
    assert snapshot.dump(restored) == image
    assert snapshot.digest(restored) == snapshot.digest(r.state)
    fresh = Engine()
    for seq, (cmd, events) in enumerate(zip(r.commands, r.events, strict=True), start=1):
        assert codec.encode(fresh.execute(seq, cmd)) == codec.encode(events)
    assert snapshot.digest(fresh.state) == snapshot.digest(r.state)


def drive(steps: Generator[None, None, T]) -> T:
    """Run a preview's steps to the end (as the service does between other commands): its
    result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
