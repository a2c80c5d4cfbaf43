"""The read model: what a gateway or consumer may know of the exchange, built from events only.

It answers what a gateway must know before it sends a command (does this symbol exist, which
account and venue a key serves, what an order it renders looked like) and what read routes show
(balances, open orders, customers, policies), without ever touching the engine's live state. The
fold in `bourse.view.fold` is its only writer; everything else reads it.

Attribute names follow the engine's state where they mean the same thing, so a rule written
once over those names (what a jurisdiction policy allows an account now, say) reads either.
"""

from bourse.banking.cards import CardDeposit, PartnerEnd, PaymentPartner, SavedCard
from bourse.banking.rails import (
    BankAccount,
    CutOff,
    PartnerBank,
    PaymentFile,
    Payout,
    QueuedLine,
)
from bourse.commands import Proposable
from bourse.compliance.customers import RiskTier
from bourse.compliance.evidence import Evidence
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
from bourse.domain.symbols import FeeTier, SymbolSpec

FEE_ACCOUNT_ID = 0  # fee income is credited here; it exists from the start, as in the engine


class SymbolView:
    __slots__ = ("last_price", "spec", "status")

    def __init__(self, spec: SymbolSpec, status: SymbolStatus, last_price: int = 0) -> None:
        self.spec = spec
        self.status = status
        self.last_price = last_price  # 0 until the first trade


class BalanceView:
    __slots__ = ("asset", "free", "locked")

    def __init__(self, asset: str, free: int, locked: int) -> None:
        self.asset = asset
        self.free = free
        self.locked = locked


class OrderView:
    """An open order (resting, or a stop waiting for its trigger) as its events describe it."""

    __slots__ = (
        "account_id",
        "client_order_id",
        "created_ms",
        "cum_quote",
        "executed",
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
        working: bool,
        executed: int = 0,
        cum_quote: int = 0,
        status: OrderStatus = OrderStatus.NEW,
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

    @property
    def remaining(self) -> int:
        return self.qty - self.executed


class AccountView:
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
        self.customer_id = customer_id  # 0: a house account
        self.fee_tier = fee_tier
        self.can_trade = self.can_deposit = self.can_withdraw = True
        self.frozen = False
        self.manual_freeze = ""  # staff's reason when they froze it by hand, until unfrozen
        self.balances: dict[str, BalanceView] = {}  # assets it has held; (0, 0) once emptied
        self.open_orders: dict[int, OrderView] = {}
        self.client_ids: dict[str, int] = {}  # client order id → order id, open orders only


class KeyView:
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
        self.credential = credential  # a sealed HMAC secret or an Ed25519 public key
        self.can_trade = can_trade
        self.ip_allow = ip_allow
        self.listen_key = ""  # its user data stream's key ("": none), live until expiry
        self.listen_expires_ms = 0


class CustomerView:
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
        self.held_by: list[int] = []  # open onboarding alerts holding the customer


class VenueView:
    __slots__ = ("code", "fee_tier", "jurisdictions", "name", "symbols")

    def __init__(
        self,
        code: str,
        name: str,
        jurisdictions: tuple[str, ...],
        symbols: frozenset[str],
        fee_tier: int,
    ) -> None:
        self.code = code
        self.name = name
        self.jurisdictions = jurisdictions
        self.symbols = symbols
        self.fee_tier = fee_tier


class PolicyView:
    """The policy in force for one (basis, country), who applied it, when and why."""

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


class ReferencePriceView:
    __slots__ = ("actor", "price", "reason", "set_ms")

    def __init__(self, price: int, actor: str, reason: str, set_ms: int) -> None:
        self.price = price
        self.actor = actor
        self.reason = reason
        self.set_ms = set_ms


class AlertView:
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
        self,
        id: int,
        customer_id: int,
        evidence: Evidence,
        raised_ms: int,
        kind: str,
        reviews: int = 0,
        withdrawal_id: int = 0,
    ) -> None:
        self.id = id
        self.customer_id = customer_id
        self.evidence = evidence
        self.raised_ms = raised_ms
        self.kind = kind
        self.reviews = reviews
        self.withdrawal_id = withdrawal_id
        self.decision = ""  # "" while open, then "confirmed" or "dismissed"
        self.holds = False  # an onboarding hit: the customer is held while it is open


class WithdrawalView:
    """A pending withdrawal."""

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
        on_request_ref: str,
        beneficiary: str,
        held_by: list[int],
    ) -> None:
        self.id = id
        self.account_id = account_id
        self.asset = asset
        self.amount = amount
        self.destination = destination
        self.on_request_ref = on_request_ref
        self.beneficiary = beneficiary
        self.held_by = held_by


class ScheduledView:
    """A policy change waiting for its effective time."""

    __slots__ = ("actor", "effective_ms", "id", "preview_id", "previewed", "reason", "spec")

    def __init__(
        self,
        id: int,
        spec: PolicySpec,
        effective_ms: int,
        preview_id: str,
        previewed: Fingerprint,
        actor: str,
        reason: str,
    ) -> None:
        self.id = id
        self.spec = spec
        self.effective_ms = effective_ms
        self.preview_id = preview_id
        self.previewed = previewed
        self.actor = actor
        self.reason = reason


class SweepView:
    """A policy change's work still being done in batches: `done` of `total` customers."""

    __slots__ = ("change_id", "done", "id", "kind", "total")

    def __init__(self, id: int, change_id: int, kind: str, done: int, total: int) -> None:
        self.id = id
        self.change_id = change_id
        self.kind = kind  # "cancel_orders" or "closure_report"
        self.done = done
        self.total = total


class StaffTokenView:
    __slots__ = ("digest", "expires_ms", "issued_ms", "kind", "token_id")

    def __init__(
        self, token_id: str, digest: str, issued_ms: int, expires_ms: int, kind: TokenKind
    ) -> None:
        self.token_id = token_id
        self.digest = digest  # SHA-256 of the token
        self.issued_ms = issued_ms
        self.expires_ms = expires_ms
        self.kind = kind  # what it opens: the admin API, a console session, the setup page


class StaffView:
    __slots__ = (
        "active",
        "countries",
        "name",
        "password_hash",
        "role",
        "team",
        "tokens",
        "totp_sealed",
        "venues",
    )

    def __init__(
        self,
        name: str,
        role: Role,
        venues: tuple[str, ...],
        countries: tuple[str, ...],
        team: str,
        active: bool,
    ) -> None:
        self.name = name
        self.role = role
        self.venues = venues
        self.countries = countries
        self.team = team
        self.active = active
        self.tokens: dict[str, StaffTokenView] = {}
        self.password_hash = ""  # argon2id, "" until they set up a console login
        self.totp_sealed = ""


def forced_key(source: str, list_sha256: str, previous_sha256: str) -> str:
    """Which forced load a decision was for: the list, the new version, the one it replaced."""
    return f"{source}:{list_sha256}:{previous_sha256}"


class ProposalView:
    """A proposal waiting for a second person's decision."""

    __slots__ = (
        "command",
        "digest",
        "evidence",
        "expires_ms",
        "id",
        "proposed_ms",
        "proposer",
        "reason",
        "world",
    )

    def __init__(
        self,
        id: int,
        command: Proposable,
        proposer: str,
        reason: str,
        evidence: str,
        proposed_ms: int,
        expires_ms: int,
        world: str,
        digest: str,
    ) -> None:
        self.id = id
        self.command = command
        self.proposer = proposer
        self.reason = reason
        self.evidence = evidence
        self.proposed_ms = proposed_ms
        self.expires_ms = expires_ms
        self.world = world
        self.digest = digest


class ReadModel:
    """Everything the fold keeps, as of `last_seq` (the last outcome applied)."""

    __slots__ = (
        "accounts",
        "address_lists",
        "alerts",
        "api_keys",
        "assets",
        "bank_accounts",
        "bank_cleared",
        "bank_cutoffs",
        "bank_queue",
        "banks",
        "card_deposits",
        "customers",
        "dismissals",
        "fee_tiers",
        "fiat_assets",
        "forced_lists",
        "four_eyes",
        "four_eyes_set",
        "last_seq",
        "listen_keys",
        "members",
        "nationality_policies",
        "next_change_id",
        "owners",
        "partner_ends",
        "payment_files",
        "payment_partners",
        "payouts",
        "proposals",
        "reference_prices",
        "residence_policies",
        "saved_cards",
        "scheduled",
        "screened_lists",
        "screened_matcher",
        "staff",
        "staff_tokens",
        "sweeps",
        "symbols",
        "venues",
        "withdrawals",
    )

    def __init__(self) -> None:
        self.last_seq = 0
        self.assets: dict[str, int] = {}  # asset → precision, in listing order
        self.fiat_assets: set[str] = set()
        self.symbols: dict[str, SymbolView] = {}
        self.fee_tiers: dict[int, FeeTier] = {0: FeeTier()}
        fees = AccountView(FEE_ACCOUNT_ID)
        fees.can_trade = fees.can_deposit = fees.can_withdraw = False
        self.accounts: dict[int, AccountView] = {FEE_ACCOUNT_ID: fees}
        self.api_keys: dict[str, KeyView] = {}
        self.listen_keys: dict[str, str] = {}  # live or not-yet-replaced listenKey → API key
        self.customers: dict[int, CustomerView] = {}
        self.venues: dict[str, VenueView] = {}
        self.residence_policies: dict[str, PolicyView] = {}
        self.nationality_policies: dict[str, PolicyView] = {}
        self.next_change_id = 1  # policy change ids are dense: every one applied is below it
        self.reference_prices: dict[tuple[str, str], ReferencePriceView] = {}
        self.alerts: dict[int, AlertView] = {}
        self.withdrawals: dict[int, WithdrawalView] = {}  # pending only
        # member_key(basis, country) → the customers it names (a dict as an ordered set)
        self.members: dict[str, dict[int, None]] = {}
        self.scheduled: dict[int, ScheduledView] = {}
        self.sweeps: dict[int, SweepView] = {}  # unfinished only
        # remembered false positives: dismissal key → the listed entry's fingerprint then
        self.dismissals: dict[str, str] = {}
        # the last completed rescreen: list version per source, and the matcher's hash
        self.screened_lists: dict[str, str] = {}
        self.screened_matcher = ""
        self.address_lists: dict[str, str] = {}  # source → list version of its addresses
        self.staff: dict[str, StaffView] = {}
        # a live token's SHA-256 → (staff name, token id): how a gateway knows who is asking
        self.staff_tokens: dict[str, tuple[str, str]] = {}
        self.four_eyes: set[str] = set()  # command types people send only as proposals
        self.four_eyes_set = False  # ever set (a data directory from before gets the default)
        # the latest decision to force each list version: forced_key(...) → (seq, time)
        self.forced_lists: dict[str, tuple[int, int]] = {}
        self.owners: dict[str, str] = {}  # open work → "staff:NAME" or "team:NAME"
        self.proposals: dict[int, ProposalView] = {}  # waiting for a decision
        # the fiat rails: partner banks by BIC, customers' bank accounts, and the statement
        # lines waiting in the reconciliation queue (open only)
        self.banks: dict[str, PartnerBank] = {}
        self.bank_accounts: dict[int, BankAccount] = {}
        self.bank_queue: dict[int, QueuedLine] = {}
        self.payment_files: dict[int, PaymentFile] = {}
        self.payouts: dict[int, Payout] = {}  # by withdrawal id, once sent in a file
        self.bank_cutoffs: dict[int, CutOff] = {}  # scheduled and applied, with reports
        self.bank_cleared: dict[str, list[str]] = {}  # BIC → sanctions hits found not it
        # card partners by code, customers' saved cards, card deposits, partners' ends
        self.payment_partners: dict[str, PaymentPartner] = {}
        self.saved_cards: dict[int, SavedCard] = {}
        self.card_deposits: dict[int, CardDeposit] = {}
        self.partner_ends: dict[int, PartnerEnd] = {}

    def policies(self, basis: Basis) -> dict[str, PolicyView]:
        """The policies in force on `basis`, by country."""
        return self.residence_policies if basis is Basis.RESIDENCE else self.nationality_policies

    def staff_member(
        self, token_digest: str, now_ms: int, kind: TokenKind = TokenKind.API
    ) -> StaffView | None:
        """The active staff member whose unexpired token of `kind` has this digest, or None."""
        found = self.staff_token(token_digest, now_ms, kind)
        return None if found is None else found[0]

    def staff_token(
        self, token_digest: str, now_ms: int, kind: TokenKind
    ) -> tuple[StaffView, StaffTokenView] | None:
        """The active staff member and their unexpired token of `kind` with this digest."""
        found = self.staff_tokens.get(token_digest)
        if found is None:
            return None
        member = self.staff[found[0]]
        token = member.tokens[found[1]]
        if not member.active or now_ms >= token.expires_ms or token.kind is not kind:
            return None
        return member, token

    def live_key(self, listen_key: str, now_ms: int) -> KeyView | None:
        """The API key holding `listen_key`, if that listenKey is live at `now_ms`."""
        key = self.api_keys.get(self.listen_keys.get(listen_key, ""))
        if key is None or key.listen_key != listen_key or now_ms >= key.listen_expires_ms:
            return None
        return key
