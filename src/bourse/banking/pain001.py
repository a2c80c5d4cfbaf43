"""The pain.001 file (ISO 20022 CustomerCreditTransferInitiation) the exchange sends its partner
bank to pay out customers' fiat withdrawals.

sepaxml builds the document; this module adds what sepaxml leaves to its caller, because a bank
rejects a whole file for one bad line and a payment, once sent, cannot be taken back:

- amounts converted exactly from the exchange's scaled integers (sepaxml takes cents as an int
  and always writes two decimals);
- IBANs and BICs checked (schwifty), ids refused rather than cut or transliterated: the bank
  statement names each payment back by its EndToEndId (`statement.py`);
- names and remittance text reduced to the SEPA character set (sepaxml only transliterates, so
  "&" would reach the bank);
- the same input giving the same bytes: sepaxml stamps the file with the local wall clock and
  random MsgId and PmtInfId, which are set here from `created_ms` and `message_id`;
- one booking per payment (BtchBookg false; sepaxml writes true), so that each payment is an
  entry of its own on the statement, found by its EndToEndId.

EUR files are SEPA credit transfers; sepaxml takes any currency in its config, so another
currency gives a generic pain.001 without the SEPA service level, charges shared (SHAR).
"""

import datetime
import functools
import importlib.resources
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pycountry
from lxml import etree
from schwifty import BIC, IBAN
from sepaxml import SepaTransfer  # type: ignore[import-untyped, unused-ignore]
from text_unidecode import unidecode  # type: ignore[import-untyped, unused-ignore]

from bourse.banking.minor_units import decimals, unpayable
from bourse.domain.money import to_plain

if TYPE_CHECKING:
    import xmlschema

# The ISO 20022 2019 version, which the EPC's SEPA credit transfer guidelines have used since
# November 2023; banks are retiring the 2009 version (pain.001.001.03).
SCHEMA = "pain.001.001.09"
_NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}

# The EPC's basic Latin character set for SEPA text; ids take it without spaces and must not
# start or end with "/" nor contain "//".
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]+")
_SEPA_ID = re.compile(r"(?!/)(?!.*//)[A-Za-z0-9/\-?:().,'+]{1,35}(?<!/)")
_ID_MAX = 35
_NAME_MAX = 70
_REMITTANCE_MAX = 140
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SEPA_MAX_CENTS = 999_999_999_99  # the SEPA rulebook's largest single credit transfer


@dataclass(frozen=True)
class Payment:
    withdrawal_id: int
    amount_raw: int  # integer scaled by `precision` (no floats anywhere)
    precision: int  # decimals of the currency as the exchange holds it (EUR: 2, or more)
    currency: str  # ISO 4217
    creditor_name: str  # the beneficiary
    creditor_iban: str  # compact
    creditor_bic: str  # may be ""
    end_to_end_id: str  # e.g. "BRS-W-12": how the bank's statement later names this payment
    remittance: str  # e.g. "bourse withdrawal 12"


@dataclass(frozen=True)
class Debtor:
    name: str  # the exchange's legal name
    iban: str  # the exchange's account at the partner bank
    bic: str


class PaymentFileProblem(ValueError):
    """A payment file that is not written: the message names the withdrawal and what is wrong.
    Nothing of the file is produced, so no payment goes out half-checked."""


def pain001(
    debtor: Debtor,
    message_id: str,
    created_ms: int,
    execution_date: str,
    payments: Sequence[Payment],
) -> bytes:
    """The pain.001 file paying `payments` (one currency) from the debtor's account on
    `execution_date` (YYYY-MM-DD), validated against the schema. `message_id` becomes MsgId and
    PmtInfId and `created_ms` (Unix ms) CreDtTm in UTC, so equal input gives equal bytes."""
    if not payments:
        raise PaymentFileProblem("a pain.001 file needs at least one payment; none were given")
    currencies = sorted({p.currency for p in payments})
    if len(currencies) > 1:
        raise PaymentFileProblem(
            f"payments in several currencies ({', '.join(currencies)}): "
            "one pain.001 file holds one currency"
        )
    currency = currencies[0]
    if (
        not re.fullmatch(r"[A-Z]{3}", currency)
        or pycountry.currencies.get(alpha_3=currency) is None
    ):
        raise PaymentFileProblem(f"currency {currency!r} is not an ISO 4217 code")
    sepa = currency == "EUR"
    msg_id = _identifier(message_id, "message id")
    date = _date(execution_date)
    transfer = SepaTransfer(
        {
            "name": _text(debtor.name, _NAME_MAX, "debtor name"),
            "IBAN": _iban(debtor.iban, sepa, "debtor account"),
            "BIC": _bic(debtor.bic, "debtor account"),
            "currency": currency,
            "batch": True,  # one PmtInf for all (they share the date) instead of one each
            "domestic": not sepa,  # leaves out the SEPA service level
        },
        schema=SCHEMA,
        clean=False,  # _text has done it, with the SEPA character set sepaxml does not apply
    )
    withdrawals: set[int] = set()
    references: set[str] = set()
    for payment in payments:
        entry = _entry(payment, date, sepa)
        if payment.withdrawal_id in withdrawals:
            raise PaymentFileProblem(f"withdrawal {payment.withdrawal_id} appears twice")
        if entry["endtoend_id"] in references:
            raise PaymentFileProblem(
                f"withdrawal {payment.withdrawal_id}: end-to-end id {payment.end_to_end_id!r} "
                "is already used by another payment of the file"
            )
        withdrawals.add(payment.withdrawal_id)
        references.add(entry["endtoend_id"])
        transfer.add_payment(entry)
    document: bytes = transfer.export(validate=False)  # validated below, once finished
    return _finish(document, msg_id, created_ms, sepa)


def _entry(payment: Payment, date: datetime.date, sepa: bool) -> dict[str, Any]:
    """One payment as sepaxml's dict, every field checked."""
    what = f"withdrawal {payment.withdrawal_id}"
    entry: dict[str, Any] = {
        "endtoend_id": _identifier(payment.end_to_end_id, f"{what}: end-to-end id"),
        "amount": _cents(payment, sepa),
        "IBAN": _iban(payment.creditor_iban, sepa, what),
        "name": _text(payment.creditor_name, _NAME_MAX, f"{what}: creditor name"),
        "description": _text(payment.remittance, _REMITTANCE_MAX, f"{what}: remittance"),
        "execution_date": date,
    }
    if payment.creditor_bic:
        entry["BIC"] = _bic(payment.creditor_bic, what)
    return entry


def _cents(payment: Payment, sepa: bool) -> int:
    """The amount in hundredths, as sepaxml takes it; refused unless it is an exact multiple of
    the currency's minor unit (never rounded: that would pay out another amount)."""
    what, ccy = f"withdrawal {payment.withdrawal_id}", payment.currency
    raw, precision = payment.amount_raw, payment.precision
    if type(raw) is not int or type(precision) is not int or precision < 0:
        raise PaymentFileProblem(
            f"{what}: amount_raw {raw!r} and precision {precision!r} must be integers, "
            "the precision at least 0"
        )
    if raw <= 0:
        raise PaymentFileProblem(f"{what}: amount {to_plain(raw, precision)} {ccy} is not positive")
    if problem := unpayable(raw, precision, ccy):
        raise PaymentFileProblem(f"{what}: amount {problem}")
    places = decimals(ccy)
    cents: int = raw * 10**places // 10**precision * 10 ** (2 - places)
    if sepa and cents > _SEPA_MAX_CENTS:
        raise PaymentFileProblem(
            f"{what}: amount {to_plain(cents, 2)} EUR is more than a SEPA credit transfer "
            f"may carry ({to_plain(_SEPA_MAX_CENTS, 2)} EUR)"
        )
    return cents


def _text(text: str, limit: int, what: str) -> str:
    """Transliterate to the SEPA character set ("&" as "+"), then cut to `limit`: a shortened
    name or remittance still says the same to the bank, unlike an id (`_identifier`)."""
    latin: str = unidecode(text).replace("&", "+")
    cleaned = " ".join(_NOT_SEPA.sub(" ", latin).split())[:limit].rstrip()
    if not cleaned:
        raise PaymentFileProblem(f"{what} {text!r} has no character a SEPA file can carry")
    return cleaned


def _identifier(value: str, what: str) -> str:
    """An id exactly as given or refused: the bank statement names the payment by it, so a cut
    or transliterated id would no longer find its withdrawal."""
    if len(value) > _ID_MAX:
        raise PaymentFileProblem(
            f"{what} {value!r} has {len(value)} characters; at most {_ID_MAX} are allowed"
        )
    if not _SEPA_ID.fullmatch(value):
        raise PaymentFileProblem(
            f"{what} {value!r} must be letters, digits or / - ? : ( ) . , ' + (no spaces), "
            "not start or end with '/' nor contain '//'"
        )
    return value


def _iban(value: str, sepa: bool, what: str) -> str:
    try:
        iban = IBAN(value)
    except ValueError as e:
        raise PaymentFileProblem(f"{what}: IBAN {value!r} is invalid ({e})") from e
    if sepa and not iban.in_sepa_zone:
        raise PaymentFileProblem(
            f"{what}: IBAN {iban.compact} is outside the SEPA zone; a EUR transfer needs one in it"
        )
    return iban.compact


def _bic(value: str, what: str) -> str:
    try:
        return BIC(value).compact
    except ValueError as e:
        raise PaymentFileProblem(f"{what}: BIC {value!r} is invalid ({e})") from e


def _date(value: str) -> datetime.date:
    try:
        if _DATE.fullmatch(value):
            return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    raise PaymentFileProblem(f"execution date {value!r} is not a date written YYYY-MM-DD")


def _finish(document: bytes, msg_id: str, created_ms: int, sepa: bool) -> bytes:
    """Replace sepaxml's clock and random ids, book each payment on its own, and validate."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(document, parser)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", _NS)
    header.find("p:MsgId", _NS).text = msg_id
    moment = datetime.datetime.fromtimestamp(created_ms // 1000, datetime.UTC)
    header.find("p:CreDtTm", _NS).text = f"{moment:%Y-%m-%dT%H:%M:%S}.{created_ms % 1000:03d}Z"
    (info,) = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", _NS)  # one: all share the date
    info.find("p:PmtInfId", _NS).text = msg_id
    info.find("p:BtchBookg", _NS).text = "false"
    if not sepa:
        info.find("p:ChrgBr", _NS).text = "SHAR"  # SLEV means "as the SEPA scheme says"
    error = next(_schema().iter_errors(root), None)
    if error is not None:  # a check above is missing: still, no such file leaves
        raise PaymentFileProblem(f"the file does not validate against {SCHEMA}: {error.reason}")
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


@functools.cache
def _schema() -> "xmlschema.XMLSchema":
    """sepaxml's bundled XSD, parsed once: sepaxml's own export(validate=True) parses it anew
    for every file (0.3 s) and would check the document before the ids and date are set."""
    import xmlschema  # on first use, as sepaxml does (it imports slowly, patching ElementTree)

    return xmlschema.XMLSchema(
        str(importlib.resources.files("sepaxml") / "schemas" / f"{SCHEMA}.xsd")
    )
