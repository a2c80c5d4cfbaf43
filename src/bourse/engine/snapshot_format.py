"""The snapshot format: the state as arrays of plain values (msgspec, array-like), written in
canonical order by `snapshot`. A field added to a format keeps a default, so older snapshots
still load."""

import msgspec

from bourse.banking.rails import Banking
from bourse.commands import Proposable
from bourse.compliance.customers import RiskTier
from bourse.compliance.evidence import Evidence
from bourse.compliance.policy import Fingerprint, PolicySpec
from bourse.compliance.staff import Role
from bourse.domain.enums import (
    KeyKind,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.domain.symbols import SymbolSpec

FORMAT = 2
READABLE = (1, 2)  # format 2 added compliance state, every field of it with a default


class OrderImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    account_id: int
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    qty: int
    quote_qty: int
    stop_price: int
    client_order_id: str
    stp: SelfTradePrevention
    created_ms: int
    working: bool
    executed: int
    cum_quote: int
    status: OrderStatus
    held: int


class AccountImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    can_trade: bool
    can_deposit: bool
    can_withdraw: bool
    frozen: bool
    fee_tier: int
    balances: list[tuple[str, int, int]]
    customer_id: int = 0
    manual_freeze: str = ""


class SymbolImage(msgspec.Struct, array_like=True, frozen=True):
    spec: SymbolSpec
    status: SymbolStatus
    last_price: int
    next_trade_id: int
    book: list[OrderImage]  # bids then asks, each in priority order
    stops: list[OrderImage]  # by order id


class ApiKeyImage(msgspec.Struct, array_like=True, frozen=True):
    api_key: str
    account_id: int
    kind: KeyKind
    credential: str
    can_trade: bool
    ip_allow: tuple[str, ...]
    listen_key: str = ""  # with defaults: snapshots before listenKeys were engine state
    listen_expires_ms: int = 0


class CustomerImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    legal_name: str
    date_of_birth: str
    nationality: str
    residence: str
    kyc_level: int
    risk_tier: RiskTier
    venue: str
    accounts: list[int]


class VenueImage(msgspec.Struct, array_like=True, frozen=True):
    code: str
    name: str
    jurisdictions: tuple[str, ...]
    symbols: list[str]
    fee_tier: int


class PolicyImage(msgspec.Struct, array_like=True, frozen=True):
    spec: PolicySpec
    change_id: int
    applied_ms: int
    actor: str
    reason: str
    previous: PolicySpec | None


class SweepImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    change_id: int
    kind: str
    customer_ids: list[int]
    batch: int
    note: str
    done: int


class ScheduledImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    spec: PolicySpec
    effective_ms: int
    preview_id: str
    previewed: Fingerprint
    actor: str
    reason: str
    sweep_batch: int


class AlertImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    customer_id: int
    evidence: Evidence
    raised_ms: int
    decision: str
    kind: str = "hit"
    reviews: int = 0
    withdrawal_id: int = 0
    holds: bool = False  # raised at onboarding: holds the customer while open


class StaffImage(msgspec.Struct, array_like=True, frozen=True):
    name: str
    role: Role
    venues: tuple[str, ...]
    countries: tuple[str, ...]
    team: str
    active: bool
    tokens: list[tuple[str, str, int, int]]  # token id, digest, issued, expires (by id)
    # format 2 later: the console login (password hash, sealed TOTP secret, last TOTP step),
    # and the kind of each token that is not an API token (token id, kind)
    login: tuple[str, str, int] = ("", "", 0)
    token_kinds: list[tuple[str, str]] = []


class ProposalImage(msgspec.Struct, array_like=True, frozen=True):
    id: int
    command: Proposable
    proposer: str
    reason: str
    evidence: str
    proposed_ms: int
    expires_ms: int
    world: str
    digest: str


class StateImage(msgspec.Struct, array_like=True, frozen=True):
    format: int
    last_seq: int
    next_account_id: int
    next_order_id: int
    next_withdrawal_id: int
    assets: list[tuple[str, int]]
    fee_tiers: list[tuple[int, int, int]]
    deposited: list[tuple[str, int]]
    withdrawn: list[tuple[str, int]]
    accounts: list[AccountImage]
    symbols: list[SymbolImage]
    withdrawals: list[tuple[int, int, str, int, str]]
    api_keys: list[ApiKeyImage] = []  # last, with a default: format-1 snapshots predate keys
    # format 2: compliance state
    withdrawal_refs: list[tuple[int, str]] = []  # pending payouts on request
    fiat_assets: list[str] = []
    next_customer_id: int = 1
    next_change_id: int = 1
    next_sweep_id: int = 1
    next_schedule_id: int = 1
    customers: list[CustomerImage] = []
    venues: list[VenueImage] = []  # in definition order: routing reads them in that order
    members: list[tuple[str, list[int]]] = []  # each country's customers in joining order
    member_versions: list[tuple[str, int]] = []
    policies: list[PolicyImage] = []
    sweeps: list[SweepImage] = []
    scheduled: list[ScheduledImage] = []
    # sanctions screening (still format 2: every field with a default)
    next_alert_id: int = 1
    alerts: list[AlertImage] = []
    dismissals: list[tuple[str, str]] = []
    sanctioned_addresses: list[tuple[str, str, str]] = []  # address key, source, entry id
    address_lists: list[tuple[str, str]] = []
    withdrawal_payees: list[tuple[int, str, list[int]]] = []  # id, beneficiary, held by alerts
    screened_lists: list[tuple[str, str]] = []
    screened_matcher: str = ""
    # asset, quote, price_raw, actor, reason, set_ms
    reference_prices: list[tuple[str, str, int, str, str, int]] = []
    staff: list[StaffImage] = []  # by name
    four_eyes: list[str] = []
    four_eyes_set: bool = False
    next_proposal_id: int = 1
    proposals: list[ProposalImage] = []  # pending, by id
    forced_lists: list[tuple[str, int, int]] = []  # key, seq, time
    owners: list[tuple[str, str]] = []
    banking: Banking | None = None  # the fiat rails, as the engine keeps them
