"""Every event: an immutable fact the engine produced. Everything downstream is built from these.

Events of one command travel together with that command's sequence number and time (see
`Outcome`), so they do not repeat them. Tags are the wire format: never rename one.
"""

from typing import Union

import msgspec

from bourse.commands import Proposable
from bourse.compliance.customers import RiskTier
from bourse.compliance.evidence import Evidence, ListRef
from bourse.compliance.policy import Basis, Fingerprint, PolicySpec
from bourse.compliance.staff import Role, TokenKind
from bourse.domain.enums import (
    KeyKind,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.domain.rejections import RejectCode
from bourse.domain.symbols import SymbolSpec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class AssetCreated(Event, frozen=True, kw_only=True, tag="AssetCreated"):
    asset: str
    precision: int
    fiat: bool = False


class SymbolListed(Event, frozen=True, kw_only=True, tag="SymbolListed"):
    spec: SymbolSpec
    status: SymbolStatus


class SymbolStatusChanged(Event, frozen=True, kw_only=True, tag="SymbolStatusChanged"):
    symbol: str
    status: SymbolStatus
    reason: str


class ReferencePriceSet(Event, frozen=True, kw_only=True, tag="ReferencePriceSet"):
    asset: str
    quote: str
    price_raw: int
    previous_raw: int  # 0: the pair had none
    actor: str
    reason: str


class FeeTierDefined(Event, frozen=True, kw_only=True, tag="FeeTierDefined"):
    tier: int
    maker_multiplier_ppm: int
    taker_multiplier_ppm: int


class AccountOpened(Event, frozen=True, kw_only=True, tag="AccountOpened"):
    account_id: int
    fee_tier: int
    customer_id: int = 0


class VenueDefined(Event, frozen=True, kw_only=True, tag="VenueDefined"):
    venue: str
    name: str
    jurisdictions: tuple[str, ...]
    symbols: tuple[str, ...]
    fee_tier: int
    actor: str
    reason: str


class CustomerRecorded(Event, frozen=True, kw_only=True, tag="CustomerRecorded"):
    """A customer's KYC record as it now stands (after onboarding or a change)."""

    customer_id: int
    legal_name: str
    date_of_birth: str
    nationality: str
    residence: str
    kyc_level: int
    risk_tier: RiskTier
    venue: str
    actor: str
    reason: str


class PolicyApplied(Event, frozen=True, kw_only=True, tag="PolicyApplied"):
    """A jurisdiction policy took effect. `affected` is whom it names as it applied; `previewed`
    is what the cited preview showed (they are equal unless the change was scheduled)."""

    change_id: int
    spec: PolicySpec
    previous: PolicySpec | None
    preview_id: str
    previewed: Fingerprint
    affected: Fingerprint
    schedule_id: int
    actor: str
    reason: str


class PolicyScheduled(Event, frozen=True, kw_only=True, tag="PolicyScheduled"):
    schedule_id: int
    spec: PolicySpec
    effective_ms: int
    preview_id: str
    previewed: Fingerprint
    actor: str
    reason: str


class ScheduledChangeCanceled(Event, frozen=True, kw_only=True, tag="ScheduledChangeCanceled"):
    schedule_id: int
    actor: str
    reason: str


class PolicySweepProgressed(Event, frozen=True, kw_only=True, tag="PolicySweepProgressed"):
    """One batch of a policy change's work done: `done` of `total` customers handled.
    `kind` is "cancel_orders" or "closure_report"; the runtime continues until done == total."""

    sweep_id: int
    change_id: int
    kind: str
    done: int
    total: int


class ExitWindowClosed(Event, frozen=True, kw_only=True, tag="ExitWindowClosed"):
    """An exit window's deadline passed: its WITHDRAW_ONLY capabilities are now CLOSED. The
    balances that remain follow, customer by customer, as ClosureBalancesReported."""

    change_id: int
    name: str
    country: str
    basis: Basis
    customers: int
    accounts: int


class ClosureBalance(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    customer_id: int
    account_id: int
    asset: str
    free_raw: int
    locked_raw: int


class ClosureBalancesReported(Event, frozen=True, kw_only=True, tag="ClosureBalancesReported"):
    """What one batch of customers still held when their jurisdiction closed (nonzero only)."""

    change_id: int
    balances: tuple[ClosureBalance, ...]


class AccountPermissionsChanged(Event, frozen=True, kw_only=True, tag="AccountPermissionsChanged"):
    account_id: int
    can_trade: bool
    can_deposit: bool
    can_withdraw: bool
    reason: str


class AccountFeeTierChanged(Event, frozen=True, kw_only=True, tag="AccountFeeTierChanged"):
    account_id: int
    fee_tier: int


class AccountFrozen(Event, frozen=True, kw_only=True, tag="AccountFrozen"):
    account_id: int
    actor: str
    reason: str
    evidence: str
    manual: bool = False  # frozen by staff by hand (FreezeAccount): only staff lift it


class AccountUnfrozen(Event, frozen=True, kw_only=True, tag="AccountUnfrozen"):
    account_id: int
    actor: str
    reason: str
    overrides: tuple[int, ...] = ()  # confirmed listings (alert ids) still standing, overridden


class ApiKeyCreated(Event, frozen=True, kw_only=True, tag="ApiKeyCreated"):
    """A key was registered. Its credential travels sealed (an HMAC secret under the data
    directory's master key) or public (an Ed25519 key), so a gateway process can verify
    signatures from the read model without the engine's state or the plain secret."""

    api_key: str
    account_id: int
    kind: KeyKind
    can_trade: bool
    ip_allow: tuple[str, ...]
    # a sealed HMAC secret or an Ed25519 public key: what a gateway verifies signatures with
    credential: str = ""


class ApiKeyRevoked(Event, frozen=True, kw_only=True, tag="ApiKeyRevoked"):
    api_key: str
    account_id: int
    reason: str


class ListenKeyOpened(Event, frozen=True, kw_only=True, tag="ListenKeyOpened"):
    listen_key: str
    account_id: int
    api_key: str
    expires_ms: int


class ListenKeyExtended(Event, frozen=True, kw_only=True, tag="ListenKeyExtended"):
    listen_key: str
    expires_ms: int


class ListenKeyClosed(Event, frozen=True, kw_only=True, tag="ListenKeyClosed"):
    listen_key: str


class ScreeningAlertRaised(Event, frozen=True, kw_only=True, tag="ScreeningAlertRaised"):
    """`kind` "delisting": the entry a confirmed hit froze on left the list; `reviews` names
    that hit. Confirming a delisting review unfreezes; dismissing it keeps the freeze. `kind`
    "beneficiary": a fiat withdrawal's payee matched; confirming fails that withdrawal, dismissing
    releases it once no other review holds it."""

    alert_id: int
    customer_id: int
    evidence: Evidence
    kind: str = "hit"
    reviews: int = 0
    withdrawal_id: int = 0  # kind "beneficiary": the fiat withdrawal held for this review


class ScreeningAlertDecided(Event, frozen=True, kw_only=True, tag="ScreeningAlertDecided"):
    """A compliance officer's decision: "confirmed" (the accounts are frozen) or "dismissed"."""

    alert_id: int
    customer_id: int
    decision: str
    actor: str
    reason: str
    # a delisting review confirmed while other confirmed listings of the customer stand: their
    # alert ids; the accounts stay frozen
    standing: tuple[int, ...] = ()
    # a dismissal remembered as a false positive: its key (until the listed entry changes)
    remembered: str = ""


class DismissalsForgotten(Event, frozen=True, kw_only=True, tag="DismissalsForgotten"):
    """The dismissals of `entry_ids` (for `customers`) ended: list version `list_sha256` no
    longer has those entries."""

    source: str
    list_sha256: str
    entry_ids: tuple[str, ...]
    customers: tuple[int, ...]
    keys: tuple[str, ...] = ()  # the dismissal keys that ended


class CustomerHeld(Event, frozen=True, kw_only=True, tag="CustomerHeld"):
    """A new customer's screening raised alert `alert_id`: no deposit, trade or withdrawal until
    it is decided."""

    customer_id: int
    alert_id: int


class CustomerReleased(Event, frozen=True, kw_only=True, tag="CustomerReleased"):
    """Alert `alert_id` no longer holds the customer (`held_by`: the alerts that still do)."""

    customer_id: int
    alert_id: int
    held_by: tuple[int, ...] = ()


class SanctionedAddressesSet(Event, frozen=True, kw_only=True, tag="SanctionedAddressesSet"):
    source: str
    list_sha256: str
    addresses: int


class ListVersionForced(Event, frozen=True, kw_only=True, tag="ListVersionForced"):
    source: str
    list_sha256: str
    previous_sha256: str
    measure: str
    count_before: int
    count_after: int
    removed: int
    actor: str
    reason: str


class RescreenRecorded(Event, frozen=True, kw_only=True, tag="RescreenRecorded"):
    lists: tuple[ListRef, ...]
    matcher: str
    customers: int
    mode: str


class StaffRecorded(Event, frozen=True, kw_only=True, tag="StaffRecorded"):
    """A staff member as they now stand (added, changed or offboarded: `active` False), who
    made the change and why."""

    name: str
    role: Role
    venues: tuple[str, ...]
    countries: tuple[str, ...]
    team: str
    active: bool
    actor: str
    reason: str


class StaffTokenIssued(Event, frozen=True, kw_only=True, tag="StaffTokenIssued"):
    """A staff API token: its SHA-256 (never the token), valid until `expires_ms`."""

    name: str
    token_id: str
    digest: str
    expires_ms: int
    actor: str
    kind: TokenKind = TokenKind.API


class StaffCredentialsSet(Event, frozen=True, kw_only=True, tag="StaffCredentialsSet"):
    """A person chose their console password (kept as an argon2id hash) and second factor (the
    TOTP secret, sealed); the setup link they used is revoked beside this."""

    name: str
    password_hash: str
    totp_sealed: str
    actor: str


class StaffTokenRevoked(Event, frozen=True, kw_only=True, tag="StaffTokenRevoked"):
    name: str
    token_id: str
    actor: str
    reason: str


class FourEyesSet(Event, frozen=True, kw_only=True, tag="FourEyesSet"):
    """The command types that now need a second person's approval (empty: none)."""

    commands: tuple[str, ...]
    actor: str
    reason: str


class ProposalMade(Event, frozen=True, kw_only=True, tag="ProposalMade"):
    proposal_id: int
    command: Proposable
    digest: str  # what an approval must cite
    world: str  # a digest of what the command concerns, as it stands now
    proposer: str
    reason: str
    evidence: str
    expires_ms: int


class ProposalDecided(Event, frozen=True, kw_only=True, tag="ProposalDecided"):
    """`decision`: "approved" (the command's own events follow in the same outcome),
    "rejected" or "withdrawn"; by whom and why."""

    proposal_id: int
    decision: str
    actor: str
    reason: str


class WorkAssigned(Event, frozen=True, kw_only=True, tag="WorkAssigned"):
    """Open work (`item`: "alert:ID", "proposal:ID", "schedule:ID") now owned by `owner`."""

    item: str
    owner: str
    actor: str
    reason: str


class AccessRecorded(Event, frozen=True, kw_only=True, tag="AccessRecorded"):
    """An auditor or regulator read `path` (`query`): the record of it."""

    path: str
    query: str
    actor: str


class AuditKeyRotated(Event, frozen=True, kw_only=True, tag="AuditKeyRotated"):
    """Tree heads from this command on are signed with this key (`key_id`: the first 16 hex
    digits of SHA-256 of the raw public key)."""

    key_id: str
    public_key: str
    actor: str
    reason: str


class DepositCredited(Event, frozen=True, kw_only=True, tag="DepositCredited"):
    account_id: int
    asset: str
    amount_raw: int
    tx_ref: str
    reason: str = ""  # the Deposit command's: why staff credited it


class WithdrawalRequested(Event, frozen=True, kw_only=True, tag="WithdrawalRequested"):
    """`on_request_ref` is set when staff paid out at the customer's request (WithdrawOnRequest)."""

    withdrawal_id: int
    account_id: int
    asset: str
    amount_raw: int
    destination: str
    on_request_ref: str = ""
    beneficiary: str = ""  # a fiat withdrawal's payee
    held_by: tuple[int, ...] = ()  # screening alerts holding it until a compliance decision


class WithdrawalCompleted(Event, frozen=True, kw_only=True, tag="WithdrawalCompleted"):
    withdrawal_id: int
    account_id: int
    asset: str
    amount_raw: int
    tx_ref: str


class WithdrawalFailed(Event, frozen=True, kw_only=True, tag="WithdrawalFailed"):
    withdrawal_id: int
    account_id: int
    asset: str
    amount_raw: int
    reason: str


class OrderAccepted(Event, frozen=True, kw_only=True, tag="OrderAccepted"):
    """A new order. `working` is False for a stop order waiting for its trigger."""

    order_id: int
    account_id: int
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price_raw: int
    qty_raw: int
    quote_qty_raw: int
    stop_price_raw: int
    client_order_id: str
    stp: SelfTradePrevention
    working: bool


class OrderTriggered(Event, frozen=True, kw_only=True, tag="OrderTriggered"):
    """A stop order's trigger price was reached by the last trade; it now works."""

    order_id: int
    account_id: int
    symbol: str
    last_price_raw: int


class TradeExecuted(Event, frozen=True, kw_only=True, tag="TradeExecuted"):
    """One fill. The buyer pays its fee in the base asset, the seller in the quote asset."""

    symbol: str
    trade_id: int
    price_raw: int
    qty_raw: int
    quote_qty_raw: int
    taker_side: Side
    maker_order_id: int
    taker_order_id: int
    maker_account_id: int
    taker_account_id: int
    maker_fee_raw: int
    taker_fee_raw: int
    maker_status: OrderStatus
    taker_status: OrderStatus


class OrderCanceled(Event, frozen=True, kw_only=True, tag="OrderCanceled"):
    """An open order canceled, with the order as it ended: what a cancel's answer shows."""

    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    reason: str
    side: Side = Side.BUY
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    price_raw: int = 0
    qty_raw: int = 0
    quote_qty_raw: int = 0
    stop_price_raw: int = 0
    executed_raw: int = 0  # what it had filled before it was canceled
    cum_quote_raw: int = 0
    stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_MAKER


class OrderExpired(Event, frozen=True, kw_only=True, tag="OrderExpired"):
    """The order ended unfilled or part-filled.

    EXPIRED for IOC/FOK/market remainders, EXPIRED_IN_MATCH for self-trade prevention.
    """

    order_id: int
    account_id: int
    symbol: str
    status: OrderStatus
    reason: str


class BalanceChanged(Event, frozen=True, kw_only=True, tag="BalanceChanged"):
    """The balance after a command, one per (account, asset) the command touched."""

    account_id: int
    asset: str
    free_raw: int
    locked_raw: int


class CommandRejected(Event, frozen=True, kw_only=True, tag="CommandRejected"):
    """The one way the engine says no: which command, which rule, and why, in a sentence."""

    command: str
    account_id: int
    symbol: str
    client_order_id: str
    code: RejectCode
    reason: str


AnyEvent = Union[
    RescreenRecorded,
    AssetCreated,
    SymbolListed,
    SymbolStatusChanged,
    ReferencePriceSet,
    FeeTierDefined,
    AccountOpened,
    VenueDefined,
    CustomerRecorded,
    PolicyApplied,
    PolicyScheduled,
    ScheduledChangeCanceled,
    PolicySweepProgressed,
    ExitWindowClosed,
    ClosureBalancesReported,
    ScreeningAlertRaised,
    ScreeningAlertDecided,
    DismissalsForgotten,
    CustomerHeld,
    CustomerReleased,
    SanctionedAddressesSet,
    ListVersionForced,
    AccountPermissionsChanged,
    AccountFeeTierChanged,
    AccountFrozen,
    AccountUnfrozen,
    ApiKeyCreated,
    ApiKeyRevoked,
    ListenKeyOpened,
    ListenKeyExtended,
    ListenKeyClosed,
    DepositCredited,
    WithdrawalRequested,
    WithdrawalCompleted,
    WithdrawalFailed,
    OrderAccepted,
    OrderTriggered,
    TradeExecuted,
    OrderCanceled,
    OrderExpired,
    BalanceChanged,
    StaffRecorded,
    StaffTokenIssued,
    StaffCredentialsSet,
    StaffTokenRevoked,
    FourEyesSet,
    ProposalMade,
    ProposalDecided,
    WorkAssigned,
    AccessRecorded,
    AuditKeyRotated,
    CommandRejected,
]


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one sequenced command caused: released downstream only once its record is durable."""

    seq: int
    ts_ms: int
    command: str
    events: list[AnyEvent]

    @property
    def refused(self) -> bool:
        """Whether the engine refused the command (its events then hold the CommandRejected)."""
        return any(type(e) is CommandRejected for e in self.events)
