"""Every command: an immutable request to change state, the only input the engine accepts.

Each command carries who asked (`actor`), when it was accepted (`ts_ms`, stamped by the gateway;
the engine never reads a clock) and, where an operator acts, why (`reason`). The tag is the
journal format: never rename or renumber one, add a new command instead. Amounts are raw integers
scaled by the asset's precision (`*_raw`); the gateway converts decimal strings before this point.
"""

from typing import Union

import msgspec

from bourse import codec
from bourse.compliance.customers import RiskTier
from bourse.compliance.evidence import BeneficiaryScreening, Evidence, ListRef
from bourse.compliance.policy import Fingerprint, PolicySpec
from bourse.compliance.staff import Role
from bourse.domain.enums import (
    CancelReplaceMode,
    CancelRestriction,
    KeyKind,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.domain.symbols import SymbolSpec


class Command(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    actor: str
    ts_ms: int


class OperatorCommand(Command, frozen=True, kw_only=True):
    """A discretionary act by staff: the gate refuses it without a reason."""

    reason: str


# --- reference data -------------------------------------------------------------------------


class CreateAsset(OperatorCommand, frozen=True, kw_only=True, tag="CreateAsset"):
    """`fiat` assets move through banks (fiat deposit/withdrawal capabilities), others on-chain."""

    asset: str
    precision: int
    fiat: bool = False


class ListSymbol(OperatorCommand, frozen=True, kw_only=True, tag="ListSymbol"):
    spec: SymbolSpec
    status: SymbolStatus = SymbolStatus.TRADING


class SetSymbolStatus(OperatorCommand, frozen=True, kw_only=True, tag="SetSymbolStatus"):
    symbol: str
    status: SymbolStatus


class SetReferencePrice(OperatorCommand, frozen=True, kw_only=True, tag="SetReferencePrice"):
    """An operator's price of one whole `asset` in `quote` (`price_raw` in quote's precision),
    replacing the pair's previous one: what a holdings condition values `asset` at where no
    traded market leads to the condition's asset."""

    asset: str
    quote: str
    price_raw: int


class DefineFeeTier(OperatorCommand, frozen=True, kw_only=True, tag="DefineFeeTier"):
    """A tier pays `multiplier_ppm` / 1,000,000 of each symbol's maker and taker rates."""

    tier: int
    maker_multiplier_ppm: int
    taker_multiplier_ppm: int


# --- accounts -------------------------------------------------------------------------------


class OpenAccount(OperatorCommand, frozen=True, kw_only=True, tag="OpenAccount"):
    """Opens the next account; its id is the engine's next account number.

    `customer_id` 0 opens a house account (the exchange's own, a market maker under contract),
    which no jurisdiction policy names; otherwise the account belongs to that customer and takes
    its venue's fee tier.
    """

    fee_tier: int = 0
    customer_id: int = 0


# --- customers, venues, jurisdictions --------------------------------------------------------


class DefineVenue(OperatorCommand, frozen=True, kw_only=True, tag="DefineVenue"):
    """A regulated regional entity: the symbols it lists, the residences it serves, its fees.

    The venue with no jurisdictions serves every residence no other venue serves. Redefining a
    venue may change its name, symbols and fee tier, not whom it serves.
    """

    venue: str
    name: str
    jurisdictions: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    fee_tier: int = 0


class OnboardCustomer(OperatorCommand, frozen=True, kw_only=True, tag="OnboardCustomer"):
    """Creates the next customer and their first account, routed to the venue of their residence."""

    legal_name: str
    date_of_birth: str  # YYYY-MM-DD
    nationality: str  # ISO 3166-1 alpha-2
    residence: str
    kyc_level: int = 1
    risk_tier: RiskTier = RiskTier.LOW


class UpdateCustomer(OperatorCommand, frozen=True, kw_only=True, tag="UpdateCustomer"):
    """Changes a customer's KYC record; empty fields (and -1 for the level) stay as they are.
    A new residence routes the customer to that residence's venue."""

    customer_id: int
    legal_name: str = ""
    nationality: str = ""
    residence: str = ""
    kyc_level: int = -1
    risk_tier: RiskTier | None = None


class SetJurisdictionPolicy(
    OperatorCommand, frozen=True, kw_only=True, tag="SetJurisdictionPolicy"
):
    """Applies `spec` now, citing the preview the operator was shown (`preview_id` and whom it
    counted). Refused if the spec is not the one previewed or the people it names have changed.
    Open orders of the people it stops trading are canceled `sweep_batch` customers at a time."""

    spec: PolicySpec
    preview_id: str
    previewed: Fingerprint
    sweep_batch: int = 1000


class SchedulePolicyChange(OperatorCommand, frozen=True, kw_only=True, tag="SchedulePolicyChange"):
    """Applies `spec` at `effective_ms` (a later RunDuePolicies does it), citing its preview."""

    spec: PolicySpec
    preview_id: str
    previewed: Fingerprint
    effective_ms: int
    sweep_batch: int = 1000


class CancelScheduledChange(
    OperatorCommand, frozen=True, kw_only=True, tag="CancelScheduledChange"
):
    schedule_id: int


class RunDuePolicies(Command, frozen=True, kw_only=True, tag="RunDuePolicies"):
    """The runtime's clock: applies scheduled changes and closes exit windows due by `ts_ms`."""


class ContinuePolicySweep(Command, frozen=True, kw_only=True, tag="ContinuePolicySweep"):
    """The next batch of a policy change's work (cancel orders, or report what remains)."""

    sweep_id: int


class WithdrawOnRequest(OperatorCommand, frozen=True, kw_only=True, tag="WithdrawOnRequest"):
    """Staff pay out a customer's balance at their request where a jurisdiction policy no longer
    lets the customer withdraw (a closed exit window): the documented, audited way out."""

    account_id: int
    asset: str
    amount_raw: int
    destination: str
    request_ref: str


class SetAccountPermissions(
    OperatorCommand, frozen=True, kw_only=True, tag="SetAccountPermissions"
):
    account_id: int
    can_trade: bool
    can_deposit: bool
    can_withdraw: bool


class SetAccountFeeTier(OperatorCommand, frozen=True, kw_only=True, tag="SetAccountFeeTier"):
    account_id: int
    fee_tier: int


class FreezeAccount(OperatorCommand, frozen=True, kw_only=True, tag="FreezeAccount"):
    """Stops everything the account initiates and cancels its open orders.

    `evidence` cites what justifies the freeze (from the sanctions issue on, a screening hit).
    """

    account_id: int
    evidence: str = ""


class UnfreezeAccount(OperatorCommand, frozen=True, kw_only=True, tag="UnfreezeAccount"):
    """Refused while a confirmed sanctions listing of the account's customer stands, unless
    `overrides` names every such listing (its confirmed alert's id): lifting a sanctions freeze
    by hand is a decision taken against a named listing (a licence, a mistaken identity), on
    the record, never a side effect."""

    account_id: int
    overrides: tuple[int, ...] = ()


class CreateApiKey(OperatorCommand, frozen=True, kw_only=True, tag="CreateApiKey"):
    """Registers an API key for an account.

    `credential` is the HMAC secret sealed by the gateway (never the plain secret: the journal and
    snapshots must not reveal it) or, for Ed25519, the customer's public key in PEM. Every key may
    read; `can_trade` adds placing and canceling orders. `ip_allow` lists CIDRs (empty: any).
    """

    account_id: int
    api_key: str
    kind: KeyKind
    credential: str
    can_trade: bool = True
    ip_allow: tuple[str, ...] = ()


class RevokeApiKey(OperatorCommand, frozen=True, kw_only=True, tag="RevokeApiKey"):
    api_key: str


class OpenListenKey(Command, frozen=True, kw_only=True, tag="OpenListenKey"):
    """A user data stream's key for `api_key`: its live one, valid for another hour, or else
    `listen_key` (made by the gateway: the engine draws no random numbers)."""

    account_id: int
    api_key: str
    listen_key: str


class ExtendListenKey(Command, frozen=True, kw_only=True, tag="ExtendListenKey"):
    api_key: str
    listen_key: str


class CloseListenKey(Command, frozen=True, kw_only=True, tag="CloseListenKey"):
    api_key: str
    listen_key: str


# --- funds ----------------------------------------------------------------------------------


class Deposit(Command, frozen=True, kw_only=True, tag="Deposit"):
    """`reason`: why staff credit it. The admin API and CLI require one; it defaults to "" only
    so that journals written before it existed still decode (and the genesis/bench loaders)."""

    account_id: int
    asset: str
    amount_raw: int
    tx_ref: str = ""
    reason: str = ""


class RequestWithdrawal(Command, frozen=True, kw_only=True, tag="RequestWithdrawal"):
    """Holds the amount; a later CompleteWithdrawal or FailWithdrawal settles it.

    A fiat withdrawal names the `beneficiary` the bank pays, and carries the screening of that
    name (and of the destination's bank code) against the list versions the engine holds: a hit
    holds the payment until a compliance officer decides."""

    account_id: int
    asset: str
    amount_raw: int
    destination: str
    beneficiary: str = ""
    screening: BeneficiaryScreening | None = None
    reason: str = ""  # required at the admin edge, as Deposit's


class CompleteWithdrawal(Command, frozen=True, kw_only=True, tag="CompleteWithdrawal"):
    withdrawal_id: int
    tx_ref: str = ""
    reason: str = ""  # required at the admin edge, as Deposit's


class FailWithdrawal(OperatorCommand, frozen=True, kw_only=True, tag="FailWithdrawal"):
    withdrawal_id: int


# --- orders ---------------------------------------------------------------------------------


class PlaceOrder(Command, frozen=True, kw_only=True, tag="PlaceOrder"):
    """A new order. MARKET orders give exactly one of qty_raw or quote_qty_raw (0 = absent)."""

    account_id: int
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.GTC
    qty_raw: int = 0
    quote_qty_raw: int = 0
    price_raw: int = 0
    stop_price_raw: int = 0
    client_order_id: str = ""
    stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_MAKER


class CancelOrder(Command, frozen=True, kw_only=True, tag="CancelOrder"):
    """Cancel by `order_id` or by `client_order_id`; given both, they must name the same order.
    With a `restriction`, only an order in that status is canceled (CANCEL_RESTRICTED else)."""

    account_id: int
    symbol: str
    order_id: int = 0
    client_order_id: str = ""
    restriction: CancelRestriction | None = None


class CancelAllOrders(Command, frozen=True, kw_only=True, tag="CancelAllOrders"):
    account_id: int
    symbol: str


class CancelReplaceOrder(Command, frozen=True, kw_only=True, tag="CancelReplaceOrder"):
    """Cancel an order and place `new_order` in one step (Binance's order/cancelReplace)."""

    account_id: int
    symbol: str
    cancel_order_id: int = 0
    cancel_client_order_id: str = ""
    mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE
    new_order: PlaceOrder
    cancel_restriction: CancelRestriction | None = None  # as CancelOrder's `restriction`


# --- sanctions screening ------------------------------------------------------------------------


class RaiseScreeningAlert(Command, frozen=True, kw_only=True, tag="RaiseScreeningAlert"):
    """A screening hit on a customer, for a compliance officer to review. Refused (NO_CHANGE) if
    the same entry already has an open alert for them, or was dismissed for them while the entry
    is unchanged."""

    customer_id: int
    evidence: Evidence
    # screened at onboarding: the new customer is held (no deposit, trade or withdrawal) until
    # the alert is decided
    hold: bool = False


class ListedAddress(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    address: str  # as compliance.addresses.address_key normalizes it
    entry_id: str
    network: str = ""


class SetSanctionedAddresses(Command, frozen=True, kw_only=True, tag="SetSanctionedAddresses"):
    """The crypto addresses one list version names, replacing that list's previous set: the
    engine then refuses every withdrawal to them. Exact identifiers are cheap and deterministic,
    so this check lives in the gate, where no withdrawal path can go around it."""

    source: str
    list_sha256: str
    addresses: tuple[ListedAddress, ...]


class ForceListVersion(OperatorCommand, frozen=True, kw_only=True, tag="ForceListVersion"):
    """An operator puts in force list version `list_sha256` although it removes an unusual share
    of the version in force (`previous_sha256`, "" if none) or has no entries, which a load
    refuses unforced: who, why and how much, journaled before the version goes into force.
    `measure` says what the counts count: "entries", or the "aliases", "identifiers" or
    "countries" of the entries the version keeps."""

    source: str
    list_sha256: str
    previous_sha256: str
    measure: str
    count_before: int
    count_after: int
    removed: int


class RaiseDelistingReview(Command, frozen=True, kw_only=True, tag="RaiseDelistingReview"):
    """The entry confirmed alert `alert_id` froze on is absent from list version `list_sha256`:
    a compliance officer reviews whether to unfreeze (confirm) or keep the freeze (dismiss)."""

    alert_id: int
    list_sha256: str


class ForgetDismissals(Command, frozen=True, kw_only=True, tag="ForgetDismissals"):
    """Entries false positives were dismissed on are absent from list version `list_sha256`:
    those dismissals end, so an entry listed again is screened as the new evidence it is."""

    source: str
    list_sha256: str
    entry_ids: tuple[str, ...]


class ConfirmScreeningAlert(
    OperatorCommand, frozen=True, kw_only=True, tag="ConfirmScreeningAlert"
):
    """The hit is the customer: every account of theirs is frozen, citing the evidence."""

    alert_id: int


class DismissScreeningAlert(
    OperatorCommand, frozen=True, kw_only=True, tag="DismissScreeningAlert"
):
    """A false positive, remembered with who, when and why: not raised again for this customer
    unless the listed entry changes."""

    alert_id: int


class RecordRescreen(Command, frozen=True, kw_only=True, tag="RecordRescreen"):
    """Every customer has been screened against `lists` by the matcher whose code and threshold
    hash to `matcher`: the audit record of a rescreen, and what the next one compares against to
    screen only the entries a new version adds or changes."""

    lists: tuple[ListRef, ...]
    matcher: str
    customers: int
    mode: str  # "full" or "incremental"


# --- staff ------------------------------------------------------------------------------------


class AddStaff(OperatorCommand, frozen=True, kw_only=True, tag="AddStaff"):
    """A new staff member with a role (compliance/staff.py's ROLES). A scoped role (regional
    manager, auditor) acts only on the customers and countries of `venues` and `countries`, and
    needs at least one of them. `team` is the queue their work goes to when they leave."""

    name: str
    role: Role
    venues: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    team: str = ""


class ChangeStaff(OperatorCommand, frozen=True, kw_only=True, tag="ChangeStaff"):
    """A staff member's new role, scope and team (all of them, as they are to be)."""

    name: str
    role: Role
    venues: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    team: str = ""


class IssueStaffToken(OperatorCommand, frozen=True, kw_only=True, tag="IssueStaffToken"):
    """An API token for `name`, valid until `expires_ms`. The gateway draws the token and shows
    it once; the journal keeps only its SHA-256 (`digest`)."""

    name: str
    token_id: str
    digest: str
    expires_ms: int


class RevokeStaffToken(OperatorCommand, frozen=True, kw_only=True, tag="RevokeStaffToken"):
    name: str
    token_id: str


class OffboardStaff(OperatorCommand, frozen=True, kw_only=True, tag="OffboardStaff"):
    """Ends `name`'s access at once (every token); their past actions stay theirs."""

    name: str


# --- four eyes ---------------------------------------------------------------------------------


class SetFourEyes(OperatorCommand, frozen=True, kw_only=True, tag="SetFourEyes"):
    """The command types a staff member (or the operator token) may send only as a proposal a
    second, entitled person approves. While any are named, changing the set needs four eyes
    too."""

    commands: tuple[str, ...]


# What may be proposed: every command a person sends with a reason, except issuing a token
# (whose secret only its issuer sees) and the proposal commands themselves.
Proposable = Union[
    CreateAsset,
    ListSymbol,
    SetSymbolStatus,
    SetReferencePrice,
    DefineFeeTier,
    DefineVenue,
    OpenAccount,
    SetAccountPermissions,
    SetAccountFeeTier,
    FreezeAccount,
    UnfreezeAccount,
    CreateApiKey,
    RevokeApiKey,
    Deposit,
    RequestWithdrawal,
    CompleteWithdrawal,
    FailWithdrawal,
    OnboardCustomer,
    UpdateCustomer,
    SetJurisdictionPolicy,
    SchedulePolicyChange,
    CancelScheduledChange,
    WithdrawOnRequest,
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    ForceListVersion,
    AddStaff,
    ChangeStaff,
    RevokeStaffToken,
    OffboardStaff,
    SetFourEyes,
]


class ProposeCommand(OperatorCommand, frozen=True, kw_only=True, tag="ProposeCommand"):
    """`command` (sent by the same actor), to run only once a second, entitled person approves
    it before `expires_ms`. `evidence` is what the approver should look at."""

    command: Proposable
    expires_ms: int
    evidence: str = ""


def proposal_of(cmd: Command, *, expires_ms: int, evidence: str = "") -> ProposeCommand:
    """`cmd` as a proposal of its own actor, with its reason, made at its time."""
    return ProposeCommand(
        command=msgspec.convert(msgspec.to_builtins(cmd), Proposable),
        expires_ms=expires_ms,
        evidence=evidence,
        reason=getattr(cmd, "reason", ""),
        actor=cmd.actor,
        ts_ms=cmd.ts_ms,
    )


class ApproveProposal(OperatorCommand, frozen=True, kw_only=True, tag="ApproveProposal"):
    """Runs the proposal's command now, citing the digest the approver was shown: refused if
    it is not the proposal's, if the world it was proposed in has changed, if it expired, or if
    the approver is the proposer or not entitled to it."""

    proposal_id: int
    digest: str


class RejectProposal(OperatorCommand, frozen=True, kw_only=True, tag="RejectProposal"):
    proposal_id: int


class WithdrawProposal(OperatorCommand, frozen=True, kw_only=True, tag="WithdrawProposal"):
    """The proposer takes their proposal back."""

    proposal_id: int


AnyCommand = Union[
    CreateAsset,
    ListSymbol,
    SetSymbolStatus,
    SetReferencePrice,
    DefineFeeTier,
    OpenAccount,
    SetAccountPermissions,
    SetAccountFeeTier,
    FreezeAccount,
    UnfreezeAccount,
    CreateApiKey,
    RevokeApiKey,
    OpenListenKey,
    ExtendListenKey,
    CloseListenKey,
    Deposit,
    RequestWithdrawal,
    CompleteWithdrawal,
    FailWithdrawal,
    PlaceOrder,
    CancelOrder,
    CancelAllOrders,
    CancelReplaceOrder,
    DefineVenue,
    OnboardCustomer,
    UpdateCustomer,
    SetJurisdictionPolicy,
    SchedulePolicyChange,
    CancelScheduledChange,
    RunDuePolicies,
    ContinuePolicySweep,
    WithdrawOnRequest,
    RaiseScreeningAlert,
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    SetSanctionedAddresses,
    ForceListVersion,
    RaiseDelistingReview,
    ForgetDismissals,
    RecordRescreen,
    AddStaff,
    ChangeStaff,
    IssueStaffToken,
    RevokeStaffToken,
    OffboardStaff,
    SetFourEyes,
    ProposeCommand,
    ApproveProposal,
    RejectProposal,
    WithdrawProposal,
]

_decoder = codec.Decoder[AnyCommand](AnyCommand)
_json_decoder = msgspec.json.Decoder(AnyCommand)


def encode_command(cmd: Command) -> bytes:
    """The journal's record payload for a command."""
    return codec.encode(cmd)


def decode_command(data: bytes | memoryview) -> AnyCommand:
    cmd: AnyCommand = _decoder.decode(data)
    return cmd


def command_from_json(data: bytes | str) -> AnyCommand:
    """Decode an operator's JSON command ({"type": "Deposit", ...}).

    Raises msgspec.ValidationError naming the field at fault.
    """
    cmd: AnyCommand = _json_decoder.decode(data)
    return cmd
