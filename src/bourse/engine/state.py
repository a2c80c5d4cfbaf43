"""The engine's mutable state. Plain slotted classes: this is the hot path.

Iteration order matters for determinism: only dicts (insertion-ordered) and sorted containers are
iterated, never sets, and snapshots write everything in a canonical order.
"""

from sortedcontainers import SortedKeyList

from bourse.banking.rails import Banking
from bourse.compliance.customers import RiskTier
from bourse.compliance.evidence import Evidence
from bourse.compliance.policy import Fingerprint, PolicySpec
from bourse.domain.enums import (
    KeyKind,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.domain.symbols import FeeTier, SymbolSpec
from bourse.engine.book import Book
from bourse.engine.staff_state import Proposal, StaffMember

FEE_ACCOUNT_ID = 0  # fee income is credited here, so conservation holds across all accounts


class Balance:
    __slots__ = ("account_id", "asset", "free", "locked")

    def __init__(self, account_id: int, asset: str, free: int = 0, locked: int = 0) -> None:
        self.account_id = account_id
        self.asset = asset
        self.free = free
        self.locked = locked


class Order:
    """An open order (resting, or a stop waiting for its trigger).

    `held` is what this order still has locked, in `held_asset` (quote for buys, base for sells);
    it goes to zero, spent or released, by the time the order ends.
    """

    __slots__ = (
        "account_id",
        "client_order_id",
        "created_ms",
        "cum_quote",
        "executed",
        "held",
        "id",
        "order_type",
        "price",
        "qty",
        "quote_qty",
        "side",
        "status",
        "stop_price",
        "stp",
        "symbol",
        "time_in_force",
        "working",
    )

    def __init__(
        self,
        id: int,
        account_id: int,
        symbol: str,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        price: int,
        qty: int,
        quote_qty: int,
        stop_price: int,
        client_order_id: str,
        stp: SelfTradePrevention,
        created_ms: int,
        working: bool = True,
        executed: int = 0,
        cum_quote: int = 0,
        status: OrderStatus = OrderStatus.NEW,
        held: int = 0,
    ) -> None:
        self.id = id
        self.account_id = account_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price = price
        self.qty = qty
        self.quote_qty = quote_qty
        self.stop_price = stop_price
        self.client_order_id = client_order_id
        self.stp = stp
        self.created_ms = created_ms
        self.working = working
        self.executed = executed
        self.cum_quote = cum_quote
        self.status = status
        self.held = held

    @property
    def remaining(self) -> int:
        return self.qty - self.executed


class Account:
    __slots__ = (
        "balances",
        "can_deposit",
        "can_trade",
        "can_withdraw",
        "client_ids",
        "customer_id",
        "fee_tier",
        "frozen",
        "id",
        "manual_freeze",
        "open_orders",
    )

    def __init__(self, id: int, fee_tier: int = 0, customer_id: int = 0) -> None:
        self.id = id
        self.customer_id = customer_id  # 0: a house account no jurisdiction policy names
        self.can_trade = True
        self.can_deposit = True
        self.can_withdraw = True
        self.frozen = False
        # the reason staff froze it by hand (FreezeAccount): kept until an UnfreezeAccount, so a
        # delisting that lifts a sanctions freeze does not lift this one
        self.manual_freeze = ""
        self.fee_tier = fee_tier
        self.balances: dict[str, Balance] = {}
        self.open_orders: dict[int, Order] = {}
        self.client_ids: dict[str, int] = {}  # client order id → order id, open orders only

    def balance(self, asset: str) -> Balance:
        bal = self.balances.get(asset)
        if bal is None:
            bal = self.balances[asset] = Balance(self.id, asset)
        return bal


def _stop_key(order: Order) -> tuple[int, int]:
    return (order.stop_price, order.id)


class SymbolState:
    __slots__ = (
        "book",
        "last_price",
        "next_trade_id",
        "spec",
        "status",
        "stops_falling",
        "stops_rising",
    )

    def __init__(self, spec: SymbolSpec, status: SymbolStatus) -> None:
        self.spec = spec
        self.status = status
        self.book = Book()
        self.last_price = 0  # 0 until the first trade
        self.next_trade_id = 1
        # Stops waiting for the last price to rise to (≥) or fall to (≤) their stop price.
        self.stops_rising: SortedKeyList = SortedKeyList(key=_stop_key)
        self.stops_falling: SortedKeyList = SortedKeyList(key=_stop_key)


class Withdrawal:
    __slots__ = (
        "account_id",
        "amount",
        "asset",
        "beneficiary",
        "destination",
        "held_by",
        "id",
        "on_request_ref",
    )

    def __init__(
        self,
        id: int,
        account_id: int,
        asset: str,
        amount: int,
        destination: str,
        on_request_ref: str = "",
    ) -> None:
        self.id = id
        self.account_id = account_id
        self.asset = asset
        self.amount = amount
        self.destination = destination
        self.on_request_ref = on_request_ref  # staff paid out at the customer's request
        self.beneficiary = ""  # a fiat withdrawal's payee, as screened
        self.held_by: list[int] = []  # open screening alerts: it cannot complete until decided


class Customer:
    __slots__ = (
        "accounts",
        "date_of_birth",
        "held_by",
        "id",
        "kyc_level",
        "legal_name",
        "nationality",
        "residence",
        "risk_tier",
        "venue",
    )

    def __init__(
        self,
        id: int,
        legal_name: str,
        date_of_birth: str,
        nationality: str,
        residence: str,
        kyc_level: int,
        risk_tier: RiskTier,
        venue: str,
    ) -> None:
        self.id = id
        self.legal_name = legal_name
        self.date_of_birth = date_of_birth
        self.nationality = nationality
        self.residence = residence
        self.kyc_level = kyc_level
        self.risk_tier = risk_tier
        self.venue = venue
        self.accounts: list[int] = []
        # open screening alerts raised at onboarding: until each is decided, the customer may not
        # deposit, trade or withdraw (the gate checks it; derived from alerts in snapshots)
        self.held_by: list[int] = []


class Alert:
    """A screening hit awaiting (or past) a compliance officer's decision."""

    __slots__ = (
        "customer_id",
        "decision",
        "evidence",
        "holds",
        "id",
        "kind",
        "raised_ms",
        "reviews",
        "withdrawal_id",
    )

    def __init__(
        self, id: int, customer_id: int, evidence: Evidence, raised_ms: int, kind: str = "hit"
    ) -> None:
        self.id = id
        self.customer_id = customer_id
        self.evidence = evidence
        self.raised_ms = raised_ms
        # "hit": a listed entry matched the customer; "delisting": the entry a confirmed hit
        # froze on is gone; "beneficiary": a listed entry matched a fiat withdrawal's payee
        self.kind = kind
        # the pair of a hit and its delisting review: each names the other's alert id
        self.reviews = 0
        self.decision = ""  # "" while open, then "confirmed" or "dismissed"
        self.withdrawal_id = 0  # kind "beneficiary": the fiat withdrawal this review holds
        self.holds = False  # kind "hit" raised at onboarding: the customer is held while open


class Venue:
    __slots__ = ("code", "fee_tier", "jurisdictions", "name", "symbols")

    def __init__(
        self,
        code: str,
        name: str,
        jurisdictions: tuple[str, ...],
        symbols: tuple[str, ...],
        fee_tier: int,
    ) -> None:
        self.code = code
        self.name = name
        self.jurisdictions = jurisdictions
        self.symbols = frozenset(symbols)  # membership only; snapshots write them sorted
        self.fee_tier = fee_tier


class ReferencePrice:
    """An operator's price of one whole asset in another (raw quote units), and who set it, when
    and why: what valuation falls back on where no traded market prices the asset."""

    __slots__ = ("actor", "price", "reason", "set_ms")

    def __init__(self, price: int, actor: str, reason: str, set_ms: int) -> None:
        self.price = price
        self.actor = actor
        self.reason = reason
        self.set_ms = set_ms


class Policy:
    """The policy in force for one (basis, country), and the one it replaced (for reversal)."""

    __slots__ = ("actor", "applied_ms", "change_id", "previous", "reason", "spec")

    def __init__(
        self,
        spec: PolicySpec,
        change_id: int,
        applied_ms: int,
        actor: str,
        reason: str,
        previous: PolicySpec | None,
    ) -> None:
        self.spec = spec
        self.change_id = change_id
        self.applied_ms = applied_ms
        self.actor = actor
        self.reason = reason
        self.previous = previous


class Sweep:
    """Work a policy change does in batches between other commands: the customers it names, as
    they stood when it applied, and how far it has come."""

    __slots__ = ("batch", "change_id", "customer_ids", "done", "id", "kind", "note")

    def __init__(
        self, id: int, change_id: int, kind: str, customer_ids: list[int], batch: int, note: str
    ) -> None:
        self.id = id
        self.change_id = change_id
        self.kind = kind  # "cancel_orders" or "closure_report"
        self.customer_ids = customer_ids
        self.batch = batch
        self.note = note  # why, quoted on every order it cancels
        self.done = 0


class ScheduledChange:
    __slots__ = (
        "actor",
        "effective_ms",
        "id",
        "preview_id",
        "previewed",
        "reason",
        "spec",
        "sweep_batch",
    )

    def __init__(
        self,
        id: int,
        spec: PolicySpec,
        effective_ms: int,
        preview_id: str,
        previewed: Fingerprint,
        actor: str,
        reason: str,
        sweep_batch: int,
    ) -> None:
        self.id = id
        self.spec = spec
        self.effective_ms = effective_ms
        self.preview_id = preview_id
        self.previewed = previewed
        self.actor = actor
        self.reason = reason
        self.sweep_batch = sweep_batch


class ApiKey:
    __slots__ = (
        "account_id",
        "api_key",
        "can_trade",
        "credential",
        "ip_allow",
        "kind",
        "listen_expires_ms",
        "listen_key",
    )

    def __init__(
        self,
        api_key: str,
        account_id: int,
        kind: KeyKind,
        credential: str,
        can_trade: bool,
        ip_allow: tuple[str, ...],
    ) -> None:
        self.api_key = api_key
        self.account_id = account_id
        self.kind = kind
        self.credential = credential
        self.can_trade = can_trade
        self.ip_allow = ip_allow
        # its user data stream's key ("": none), live until listen_expires_ms (one per API key)
        self.listen_key = ""
        self.listen_expires_ms = 0


class EngineState:
    __slots__ = (
        "accounts",
        "address_lists",
        "alerts",
        "api_keys",
        "assets",
        "banking",
        "customers",
        "deposited",
        "dismissals",
        "fee_tiers",
        "fiat_assets",
        "forced_lists",
        "four_eyes",
        "four_eyes_set",
        "last_seq",
        "listen_keys",
        "member_accounts",
        "member_versions",
        "members",
        "nationality_policies",
        "next_account_id",
        "next_alert_id",
        "next_change_id",
        "next_customer_id",
        "next_order_id",
        "next_proposal_id",
        "next_schedule_id",
        "next_sweep_id",
        "next_withdrawal_id",
        "owners",
        "proposals",
        "reference_prices",
        "residence_policies",
        "sanctioned_addresses",
        "scheduled",
        "screened_lists",
        "screened_matcher",
        "staff",
        "sweeps",
        "symbols",
        "venues",
        "withdrawals",
        "withdrawn",
    )

    def __init__(self) -> None:
        self.last_seq = 0
        self.assets: dict[str, int] = {}  # asset → precision
        self.symbols: dict[str, SymbolState] = {}
        self.accounts: dict[int, Account] = {FEE_ACCOUNT_ID: _fee_account()}
        self.withdrawals: dict[int, Withdrawal] = {}  # pending only
        self.api_keys: dict[str, ApiKey] = {}
        self.listen_keys: dict[str, str] = {}  # listenKey → its API key (derived from api_keys)
        self.fee_tiers: dict[int, FeeTier] = {0: FeeTier()}
        self.deposited: dict[str, int] = {}
        self.withdrawn: dict[str, int] = {}
        self.next_account_id = 1
        self.next_order_id = 1
        self.next_withdrawal_id = 1
        self.fiat_assets: set[str] = set()  # membership only; snapshots write it sorted
        # (asset, quote asset) → an operator's price of one whole asset, in raw quote units
        self.reference_prices: dict[tuple[str, str], ReferencePrice] = {}
        # compliance: customers, the venues that serve them, and the policies of their countries
        self.customers: dict[int, Customer] = {}
        self.venues: dict[str, Venue] = {}
        # member_key(basis, country) → the customers it names (a dict as an ordered set)
        self.members: dict[str, dict[int, None]] = {}
        self.member_versions: dict[str, int] = {}
        self.member_accounts: dict[str, int] = {}  # derived (not in snapshots): accounts per key
        self.residence_policies: dict[str, Policy] = {}
        self.nationality_policies: dict[str, Policy] = {}
        self.sweeps: dict[int, Sweep] = {}
        self.scheduled: dict[int, ScheduledChange] = {}
        self.next_customer_id = 1
        self.next_change_id = 1
        self.next_sweep_id = 1
        self.next_schedule_id = 1
        # sanctions screening: alerts by id; dismissals by "customer:source:entry" → the entry
        # fingerprint they were made against (a changed entry is screened afresh)
        self.alerts: dict[int, Alert] = {}
        self.dismissals: dict[str, str] = {}
        self.next_alert_id = 1
        # crypto addresses the lists name: address key → (source, entry id); and per source the
        # list version they came from
        self.sanctioned_addresses: dict[str, tuple[str, str]] = {}
        self.address_lists: dict[str, str] = {}
        # the last completed rescreen of every customer: list version per source, and the hash
        # of the matcher's code and threshold it ran with
        self.screened_lists: dict[str, str] = {}
        self.screened_matcher = ""
        self.staff: dict[str, StaffMember] = {}  # by name, in the order they were added
        # four eyes: the command types people send only as approved proposals (empty: none),
        # whether it was ever set (a data directory from before it gets the default once), and
        # the proposals still waiting for a decision
        self.four_eyes: set[str] = set()  # membership only; snapshots write it sorted
        self.four_eyes_set = False
        # the latest decision to force each list version: "source:sha:previous sha" → (seq,
        # time); a load after it (four eyes approved it meanwhile) goes ahead citing it
        self.forced_lists: dict[str, tuple[int, int]] = {}
        # who owns open work: "alert:4" → "staff:NAME" or "team:NAME" (engine/work.py)
        self.owners: dict[str, str] = {}
        self.proposals: dict[int, Proposal] = {}
        self.next_proposal_id = 1
        self.banking = Banking()  # the fiat rails (engine/banks.py)


def _fee_account() -> Account:
    acct = Account(FEE_ACCOUNT_ID)
    acct.can_trade = acct.can_deposit = acct.can_withdraw = False
    return acct
