"""Events of card partners: partners, saved cards, card deposits and a partner's end."""

from bourse.banking.cards import PartnerEndSpec
from bourse.events.base import Event


class PaymentPartnerDefined(Event, frozen=True, kw_only=True, tag="PaymentPartnerDefined"):
    code: str
    name: str
    kind: str
    currencies: tuple[str, ...]
    serves: tuple[str, ...]
    status: str
    reason: str


class CardSaved(Event, frozen=True, kw_only=True, tag="CardSaved"):
    card_id: int
    customer_id: int
    partner: str
    token: str
    last4: str
    expiry: str
    holder: str


class CardDepositReceived(Event, frozen=True, kw_only=True, tag="CardDepositReceived"):
    deposit_id: int
    partner: str
    card_id: int
    account_id: int
    currency: str
    amount_raw: int
    partner_ref: str


class CardDepositSettled(Event, frozen=True, kw_only=True, tag="CardDepositSettled"):
    """SETTLED (credited: a DepositCredited beside it) or REVERSED (nothing credited)."""

    deposit_id: int
    status: str
    reason: str


class PaymentPartnerEndScheduled(
    Event, frozen=True, kw_only=True, tag="PaymentPartnerEndScheduled"
):
    end_id: int
    spec: PartnerEndSpec
    preview_id: str
    actor: str
    reason: str


class PaymentPartnerEnded(Event, frozen=True, kw_only=True, tag="PaymentPartnerEnded"):
    """A partner's end in effect: the saved cards it ended, how many customers held one, and
    the card deposits still pending through it (they settle or reverse as before)."""

    end_id: int
    partner: str
    effective_ms: int
    preview_id: str
    cards: int
    customers: int
    pending: tuple[int, ...]
    actor: str
    reason: str
