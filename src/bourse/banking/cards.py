"""Card partners: a card scheme or processor through which card deposits arrive, customers' saved
cards (the processor's token and what a person recognises a card by, never its number), the card
deposits themselves, and a partner leaving on a date, previewed as a bank's cut-off is.

A card deposit is PENDING from the processor's notification until its settlement report settles
it (the amount is credited then, through the one deposit path) or reverses it (nothing was
credited; the processor gives the money back to the card). A partner that ends takes no new card
deposit from its effective time; what is pending still settles or reverses, so nothing is lost.
"""

import datetime as dt
import hashlib
import re

import msgspec

ACTIVE, ENDED = "ACTIVE", "ENDED"
PENDING, SETTLED, REVERSED = "PENDING", "SETTLED", "REVERSED"
DEPOSIT_STATUSES = (PENDING, SETTLED, REVERSED)  # a card deposit's, in its life's order
CARD_SCHEME, PROCESSOR = "CARD_SCHEME", "PROCESSOR"
PARTNER_KINDS = (CARD_SCHEME, PROCESSOR)
_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{8,64}")
_LAST4 = re.compile(r"[0-9]{4}")
_EXPIRY = re.compile(r"(0[1-9]|1[0-2])/([0-9]{2})")


class PaymentPartner(msgspec.Struct, kw_only=True):
    code: str  # MASTERCARD, VISA, a processor's short name
    name: str
    kind: str  # CARD_SCHEME or PROCESSOR
    currencies: tuple[str, ...]
    serves: tuple[str, ...]  # customers' countries of residence
    status: str = ACTIVE
    end_id: int = 0  # its end, applied or scheduled (Banking.partner_ends)
    ends_ms: int = 0  # when that end takes effect (0: none)

    def open_at(self, ts_ms: int) -> bool:
        """Whether a new card deposit may go through it at `ts_ms`."""
        return self.status == ACTIVE and not (self.ends_ms and self.ends_ms <= ts_ms)


class SavedCard(msgspec.Struct, kw_only=True):
    id: int
    customer_id: int
    partner: str
    token: str  # the processor's reference for the card: it alone can charge it
    last4: str
    expiry: str  # MM/YY
    holder: str


class CardDeposit(msgspec.Struct, kw_only=True):
    id: int
    partner: str
    card_id: int
    account_id: int
    currency: str
    amount_raw: int
    partner_ref: str  # the processor's id of the payment: its settlement report names it
    created_ms: int
    status: str = PENDING
    reason: str = ""  # why it settled or reversed


class PartnerEndSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner: str
    effective_ms: int = 0  # 0: at once


class PartnerEndFingerprint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a preview of a partner's end saw: its saved cards (how many, and a version counting
    every card saved with it) and a digest of its pending card deposits."""

    cards: int
    card_version: int
    pending: str


class PartnerEndImpact(msgspec.Struct, kw_only=True):
    spec: PartnerEndSpec
    name: str
    previewed: PartnerEndFingerprint
    preview_id: str
    as_of_seq: int
    customers: int = 0  # with a saved card of it
    cards: int = 0
    sample: list[dict[str, object]] = []
    pending: list[dict[str, object]] = []  # each pending card deposit
    by_currency: dict[str, int] = {}  # currency → pending amount in raw units


class PartnerEnd(msgspec.Struct, kw_only=True):
    id: int
    partner: str
    effective_ms: int
    preview_id: str
    actor: str
    reason: str
    status: str = "SCHEDULED"  # then APPLIED
    applied_ms: int = 0
    cards: int = 0  # saved cards it ended
    pending: tuple[int, ...] = ()  # card deposits pending at the end: they still settle


def end_preview_id(spec: PartnerEndSpec, seen: PartnerEndFingerprint) -> str:
    digest = hashlib.sha256(msgspec.json.encode(spec) + msgspec.json.encode(seen))
    return digest.hexdigest()[:20]


def looks_like_a_card_number(text: str) -> bool:
    """13 to 19 digits (spaces and dashes aside) passing the Luhn check: a primary account
    number, which the exchange never takes, not a processor's token."""
    digits = re.sub(r"[\s\-]", "", text)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def partner_problem(code: str, kind: str) -> str:
    if not _CODE.fullmatch(code):
        return f"a partner code is 2 to 32 of A-Z, 0-9 and _, starting with a letter: {code!r}"
    if kind not in PARTNER_KINDS:
        return f"a partner is a {' or a '.join(PARTNER_KINDS)}, not {kind!r}"
    return ""


def card_problem(token: str, last4: str, expiry: str) -> str:
    """What is wrong with a saved card's fields ("" if nothing)."""
    if looks_like_a_card_number(token):
        return (
            "that is a card number: the exchange stores only the processor's token for a card, "
            "never its number"
        )
    if not _TOKEN.fullmatch(token):
        return "a card token is 8 to 64 of A-Z, a-z, 0-9, _ and -, as the processor issued it"
    if not _LAST4.fullmatch(last4):
        return f"last4 is the card number's last four digits, not {last4!r}"
    if not _EXPIRY.fullmatch(expiry):
        return f"a card's expiry is MM/YY, not {expiry!r}"
    return ""


def expired(expiry: str, ts_ms: int) -> bool:
    """Whether a card whose expiry is `expiry` (MM/YY) has expired by `ts_ms` (it is valid
    through the last day of its month)."""
    found = _EXPIRY.fullmatch(expiry)
    if found is None:
        return True
    month, year = int(found.group(1)), 2000 + int(found.group(2))
    first_after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return ts_ms >= int(first_after.timestamp() * 1000)
