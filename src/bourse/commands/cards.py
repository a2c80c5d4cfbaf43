"""Card partners: card schemes and processors, customers' saved cards, card deposits, and a
partner leaving (EndPaymentPartner, previewed and cited as a bank's cut-off is)."""

from bourse.banking.cards import PartnerEndFingerprint, PartnerEndSpec
from bourse.commands.base import OperatorCommand


class DefinePaymentPartner(OperatorCommand, frozen=True, kw_only=True, tag="DefinePaymentPartner"):
    """A card scheme or processor through which card deposits arrive, or a change to one."""

    code: str  # MASTERCARD, VISA, a processor's short name
    name: str
    kind: str  # CARD_SCHEME or PROCESSOR
    currencies: tuple[str, ...]  # the fiat assets card deposits through it are in
    serves: tuple[str, ...]  # the countries of residence of the customers it serves


class SaveCard(OperatorCommand, frozen=True, kw_only=True, tag="SaveCard"):
    """A customer's card as the partner tokenized it: its token and what a person recognises it
    by (last four digits, expiry), never its number. The holder is the customer."""

    customer_id: int
    partner: str
    token: str
    last4: str
    expiry: str  # MM/YY
    holder: str


class ReceiveCardDeposit(OperatorCommand, frozen=True, kw_only=True, tag="ReceiveCardDeposit"):
    """The partner's notification of a card payment to the exchange: PENDING until its
    settlement report settles or reverses it. The same `partner_ref` twice is one deposit."""

    partner: str
    card_id: int
    currency: str
    amount_raw: int
    partner_ref: str


class SettleCardDeposit(OperatorCommand, frozen=True, kw_only=True, tag="SettleCardDeposit"):
    """The partner's settlement report on a pending card deposit: `settled` credits it to the
    customer's account through the deposit path (refused there, it is reversed instead, and the
    partner refunds the card); otherwise it is reversed and nothing was credited."""

    deposit_id: int
    settled: bool


class EndPaymentPartner(OperatorCommand, frozen=True, kw_only=True, tag="EndPaymentPartner"):
    """A card partner leaving from `spec.effective_ms` (0: at once), citing the preview it was
    shown: no card deposit through it from then on; its saved cards end; what is pending still
    settles or reverses."""

    spec: PartnerEndSpec
    preview_id: str
    previewed: PartnerEndFingerprint
