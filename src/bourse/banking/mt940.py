"""Read a SWIFT MT940 bank statement (Customer Statement Message) into a `Statement`.

Standard: SWIFT MT 940, Category 9 "Cash Management & Customer Status" (Standards MT User
Handbook). The :86: information to account owner comes in three forms, all read here: the German
one with `?xx` subfields and SEPA keywords (`EREF+`, `SVWZ+` ...) of the Deutsche Kreditwirtschaft
(DFÜ-Abkommen, Anlage 3 "Spezifikation der Datenformate"), the `/KEYWORD/` form of SWIFT's
structured :86: (`/EREF/`, `/REMI/`, `/ORDP//NAME/` ...) that ING, Rabobank and ABN AMRO send,
and plain text.

Fields are parsed by the `mt940` package (PyPI mt-940). It is lenient by design (a :61: cut
short still matches its pattern, a second statement is merged into the first, an unknown field is
glued to the one before), so this module first splits the file into fields itself, each with its
line number, and checks what a ledger cannot do without: one statement, the :25: IBAN, every :61:
a valid statement line that became one transaction, and the :62F: closing balance equal to the
:60F: opening balance plus the entries, which tells a truncated or garbled file from a whole one.
The amounts stay decimal text ("1250,00" becomes "1250.00"); the arithmetic is `Decimal`.
"""

import itertools
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

import mt940
from schwifty import IBAN

from bourse.banking.statement import Statement, StatementEntry, StatementProblem

_FORMAT = "mt940"
# The tags the mt940 package knows (a line starting with another one continues the previous
# field there, and so it does here): :13D:, :20:, :21:, :25:, :28C:, :34F:, :60F:, :61: ...
_KNOWN_TAGS = frozenset(str(tag) for tag in mt940.tags.TAG_BY_ID)
_TAG_LINE = re.compile(r":(?P<tag>(?P<id>[0-9]{2}|NS)[A-Z]?):(?P<rest>.*)")
_TRAILER = re.compile(r"-\}?(\{.*)?")  # "-" ends an MT940 message; "-}" ends a SWIFT block 4
_AMOUNT = re.compile(r"[0-9]+(,[0-9]*)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_STATEMENT_LINE = mt940.tags.Tags.STATEMENT.value.re
_BALANCE = mt940.tags.Tags.FINAL_OPENING_BALANCE.value.re
# The fixes mt940 5.x offers as options; each one keeps data its default (5.0.0) loses.
_OPTIONS = mt940.Options(
    applicant_iban=True,  # ?31 is the counterparty's IBAN, not a prefix of its name
    merge_keeps_values=True,  # a :86: without KREF+ keeps the :61: customer reference
    unbounded_details=True,  # :86: longer than 9 x 65 characters is not cut off
    strip_bom=True,
    gvc_leading_text=True,  # text before the first SEPA keyword is kept
    reversal_sign=True,  # RC is money going out, like D
    case_insensitive_marks=True,
)
_NOT_PROVIDED = "NOTPROVIDED"
_NO_REFERENCE = "NONREF"

# The /KEYWORD/ form: these words, between slashes, start a subfield.
_KEYWORDS = (
    "EREF|REMI|RMTINF|IBAN|ACCW|BIC|NAME|ORDP|BENM|ULTD|ULTB|CNTP|ADDR|TRTP|MARF|CSID|PREF|"
    "RTRN|ATOS|OCMT|CHGS|EXCH|PURP|BUSP|SVCL|ISDT|KREF|CREF|IREF|RTYP|RTRE|CDTRREF|CDTRREFTP"
)
_KEYWORD = re.compile(rf"/(?P<key>{_KEYWORDS})/")
_PARTY_KEYS = frozenset(("ORDP", "BENM", "ULTD", "ULTB"))


class _Field(NamedTuple):
    tag: str  # "20", "28C", "61" ...
    line: int  # the input line the tag starts on, from 1
    value: str  # the field's text; continuation lines joined with "\n"


class _Party(NamedTuple):
    name: str
    iban: str
    bic: str


def parse_mt940(data: bytes) -> Statement:
    """The one statement of an MT940 file, checked whole: a file that is truncated, garbled or
    holds several statements is a `StatementProblem` naming the tag and line."""
    if not data.strip():
        raise StatementProblem("mt940: the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    fields = _fields(text.removeprefix("\ufeff"))
    if not fields:
        raise StatementProblem(
            "mt940: not an MT940 statement: no line starts with a field tag such as :20:"
        )
    references = [f for f in fields if f.tag == "20"]
    if len(references) > 1:
        lines = ", ".join(str(f.line) for f in references)
        raise StatementProblem(
            f"mt940: the file holds {len(references)} statements (:20: at lines {lines}); "
            "bourse reads one statement per file"
        )
    reference = _one(fields, "20", "transaction reference")
    account = _one(fields, "25", "account identification")
    opening = _one(fields, "60F", "opening balance")
    statement_lines = [f for f in fields if f.tag == "61"]
    closing = _one(
        fields,
        "62F",
        "closing balance: the file is truncated or incomplete",
        after=statement_lines[-1] if statement_lines else opening,
    )
    number = next((f for f in fields if f.tag.startswith("28")), None)
    if not reference.value:
        raise _problem(reference, ":20: is empty")
    iban, servicer = _account(account)
    currency, opening_amount = _balance(opening)
    closing_currency, closing_amount = _balance(closing)
    if closing_currency != currency:
        raise _problem(closing, f":62F: is in {closing_currency}, :60F: in {currency}")

    transactions = _transactions(fields)
    if len(transactions) != len(statement_lines):
        raise StatementProblem(
            f"mt940: the file has {len(statement_lines)} :61: statement lines but mt940 read "
            f"{len(transactions)} transactions from it"
        )
    details = _details_of(fields)
    entries = tuple(
        _entry(line, transaction.data, details.get(line.line), position, currency, iban)
        for position, (line, transaction) in enumerate(
            zip(statement_lines, transactions, strict=True), start=1
        )
    )

    total = opening_amount + sum(
        (Decimal(e.amount) if e.credit else -Decimal(e.amount) for e in entries), Decimal(0)
    )
    if total != closing_amount:
        raise _problem(
            closing,
            f":62F: closing balance {closing_amount} {currency} is not the :60F: opening balance "
            f"{opening_amount} plus the {len(entries)} entries ({total}): an entry is missing "
            "or garbled",
        )
    return Statement(
        statement_id=reference.value + (f"/{number.value}" if number and number.value else ""),
        account_iban=iban,
        servicer_bic=servicer,
        currency=currency,
        format=_FORMAT,
        entries=entries,
    )


def _fields(text: str) -> list[_Field]:
    """The file's fields with their line numbers, split as the mt940 package splits them.

    Lines before the first tag (a SWIFT header such as `{1:...}{2:...}{4:`) and message trailers
    (`-`, `-}`) belong to no field; trailing white space and blank lines are dropped, as mt940
    drops them.
    """
    fields: list[_Field] = []
    current: tuple[str, int, list[str]] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        match = _TAG_LINE.fullmatch(line)
        if match and (match["tag"] in _KNOWN_TAGS or match["id"] in _KNOWN_TAGS):
            if current:
                fields.append(_Field(current[0], current[1], "\n".join(current[2]).strip()))
            current = (match["tag"], number, [match["rest"]])
        elif _TRAILER.fullmatch(line.strip()):
            if current:
                fields.append(_Field(current[0], current[1], "\n".join(current[2]).strip()))
            current = None
        elif current and line:
            current[2].append(line)
    if current:
        fields.append(_Field(current[0], current[1], "\n".join(current[2]).strip()))
    return fields


def _one(fields: list[_Field], tag: str, what: str, *, after: _Field | None = None) -> _Field:
    found = [f for f in fields if f.tag == tag]
    if not found or (after is not None and found[-1].line < after.line):
        last = f" after line {after.line}" if after else ""
        raise StatementProblem(f"mt940: no :{tag}: {what}{last}")
    if len(found) > 1:
        lines = ", ".join(str(f.line) for f in found)
        raise StatementProblem(f"mt940: :{tag}: appears {len(found)} times (lines {lines})")
    return found[0]


def _account(field: _Field) -> tuple[str, str]:
    """The IBAN and the bank's BIC in :25:, written "IBAN", "BIC/IBAN" or "IBAN" + currency."""
    iban = bic = ""
    for part in field.value.split("/"):
        compact = "".join(part.split()).upper()
        if _BIC.fullmatch(compact):
            bic = compact
        for candidate in (compact, compact[:-3] if _CURRENCY.fullmatch(compact[-3:]) else ""):
            if not iban and candidate and _is_iban(candidate):
                iban = candidate
    if not iban:
        raise _problem(
            field, f":25: {field.value!r} names no IBAN; bourse reads IBAN accounts' statements"
        )
    return iban, bic


def _is_iban(text: str) -> bool:
    try:
        IBAN(text)
    except ValueError:
        return False
    return True


def _balance(field: _Field) -> tuple[str, Decimal]:
    """Currency and signed amount of a :60F:/:62F: balance."""
    match = _BALANCE.match(field.value)
    if (
        match is None
        or match.end() != len(field.value)
        or not _CURRENCY.fullmatch(match["currency"])
        or not _AMOUNT.fullmatch(match["amount"])
    ):
        raise _problem(
            field,
            f":{field.tag}: {field.value!r} is not a balance (C or D, YYMMDD, currency, amount)",
        )
    amount = Decimal(match["amount"].replace(",", "."))
    return match["currency"], -amount if match["status"].upper() == "D" else amount


def _transactions(fields: list[_Field]) -> list[mt940.models.Transaction]:
    """mt940's transactions, from the fields above: every :61: is checked first, so that what
    mt940 would take leniently or refuse without a line number is refused here with one."""
    for field in fields:
        if field.tag == "61":
            _statement_line(field)
    # A :86: that follows no :61: is about the statement; mt940 would merge it into the last
    # transaction's details, so it does not see it.
    entry_fields = fields[:1] + [
        field
        for before, field in itertools.pairwise(fields)
        if field.tag != "86" or before.tag == "61"
    ]
    text = "\n".join(f":{f.tag}:{f.value}" for f in entry_fields)
    transactions = mt940.models.Transactions(options=_OPTIONS)
    try:
        transactions.parse(text)
    except Exception as exc:  # mt940 raises RuntimeError, ValueError, decimal's errors
        raise _library_problem(fields, exc) from exc
    return list(transactions)


def _library_problem(fields: list[_Field], exc: Exception) -> StatementProblem:
    """mt940's error, placed on the field it names when it names one."""
    value = exc.args[2] if len(exc.args) == 3 and isinstance(exc.args[2], str) else None
    field = next((f for f in fields if value is not None and f.value == value), None)
    if field is not None:
        return _problem(field, f":{field.tag}: {field.value!r} cannot be read")
    return StatementProblem(f"mt940: cannot read the statement: {exc.args[0] if exc.args else exc}")


def _statement_line(field: _Field) -> re.Match[str]:
    """A :61: that matches mt940's own pattern, with a valid date, a transaction type and a
    positive amount; anything less would be read as some other entry."""
    match = _STATEMENT_LINE.match(field.value)
    first_line = field.value.split("\n", 1)[0]
    if match is None or not match["id"]:
        raise _problem(field, f":61: {first_line!r} is not a statement line")
    entry = (match["entry_month"] or "") + (match["entry_day"] or "")
    value_date_ok = _is_day(2000 + int(match["year"]), int(match["month"]), int(match["day"]))
    entry_date_ok = not entry.strip() or (
        entry.isdigit() and _is_day(2000, int(entry[:2]), int(entry[2:]))
    )
    if not (value_date_ok and entry_date_ok):
        raise _problem(field, f":61: {first_line!r} has no valid value or entry date")
    amount = match["amount"]
    if not _AMOUNT.fullmatch(amount) or not amount.strip("0,"):
        raise _problem(field, f":61: amount {amount!r} is not a positive amount")
    return match


def _is_day(year: int, month: int, day: int) -> bool:
    """A calendar day, or a 30 February: banks that count interest in 360-day years write it,
    and mt940 moves it to the month's last day."""
    try:
        date(year, month, day)
    except ValueError:
        return month == 2 and 1 <= day <= 30
    return True


def _details_of(fields: list[_Field]) -> dict[int, str]:
    """The :86: right after each :61:, by the line of that :61:. A :86: elsewhere (after :62F:)
    is information about the statement, not about an entry."""
    details: dict[int, str] = {}
    for before, field in itertools.pairwise(fields):
        if field.tag == "86" and before.tag == "61":
            details[before.line] = field.value
    return details


def _entry(
    field: _Field,
    data: Mapping[str, Any],
    details: str | None,
    position: int,
    currency: str,
    own_iban: str,
) -> StatementEntry:
    match = _statement_line(field)
    status = match["status"].upper()
    credit = status in ("C", "RD")  # RD: a debit reversed, the money comes back
    reversal = status.startswith("R")
    funds_code = (match["funds_code"] or "").upper()
    if funds_code and funds_code != currency[2]:
        raise _problem(
            field,
            f":61: funds code {funds_code!r} says the amount is not in the account's {currency}; "
            "MT940 does not say in which currency it is",
        )
    booked = data.get("entry_date") or data.get("date")
    if not isinstance(booked, date):
        raise _problem(field, ":61: has no date")

    bank_ref = (match["bank_reference"] or "").strip()
    customer_ref = (match["customer_reference"] or "").strip()
    if not bank_ref and customer_ref.upper() != _NO_REFERENCE:
        bank_ref = customer_ref
    if not bank_ref:
        raise _problem(
            field,
            ":61: has no bank reference after // and no customer reference other than NONREF",
        )

    party, remittance, end_to_end = _information(
        details, data, credit=credit, reversal=reversal, own_iban=own_iban
    )
    return StatementEntry(
        bank_ref=bank_ref,
        booked=booked.isoformat(),
        credit=credit,
        reversal=reversal,
        amount=match["amount"].replace(",", ".").removesuffix("."),
        currency=currency,
        counterparty_name=party.name,
        counterparty_iban=party.iban,
        counterparty_bic=party.bic,
        remittance=" ".join(remittance.split()),
        end_to_end_id="" if end_to_end.upper() == _NOT_PROVIDED else end_to_end,
        position=position,
    )


def _information(
    details: str | None, data: Mapping[str, Any], *, credit: bool, reversal: bool, own_iban: str
) -> tuple[_Party, str, str]:
    """Counterparty, remittance and end-to-end id from the entry's :86:, in whichever form."""
    if details is None:
        return _Party("", "", ""), "", ""
    joined = "".join(details.split("\n"))
    if re.match(r"[0-9]{3}\?[0-9]{2}", joined):
        # German ?xx subfields, which mt940's transaction_details_post_processor has read.
        party = _Party(
            name=_text(data, "applicant_name"),
            iban=_compact(_text(data, "applicant_iban")),
            bic=_compact(_text(data, "applicant_bin")),
        )
        remittance = _text(data, "purpose") + _text(data, "additional_purpose")
        return party, remittance, _text(data, "end_to_end_reference")
    if _KEYWORD.match(joined):
        return _keyword_information(joined, credit=credit, reversal=reversal, own_iban=own_iban)
    return _Party("", "", ""), " ".join(details.split("\n")), ""


def _keyword_information(
    text: str, *, credit: bool, reversal: bool, own_iban: str
) -> tuple[_Party, str, str]:
    """The /KEYWORD/ form. NAME, IBAN and BIC belong to the party keyword before them
    (/ORDP/ the payer, /BENM/ the payee) or, with none, to the counterparty; ING's /CNTP/ is
    account/BIC/name/city in one."""
    matches = list(_KEYWORD.finditer(text))
    parties: dict[str, dict[str, str]] = {}
    context = ""
    remittance: list[str] = []
    end_to_end = ""
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        key = match["key"]
        value = text[match.end() : following.start() if following else len(text)].strip()
        value = value.removesuffix("/").strip()  # ING writes "/EREF/ref//CNTP/"
        if key in _PARTY_KEYS:
            context = key
            if value:
                parties.setdefault(key, {})["name"] = value.split("/")[0].strip()
        elif key in ("NAME", "IBAN", "ACCW", "BIC"):
            slot = "iban" if key in ("IBAN", "ACCW") else key.lower()
            parties.setdefault(context, {})[slot] = value
        elif key == "CNTP":
            parts = [*value.split("/"), "", "", ""]
            parties["CNTP"] = {"iban": parts[0], "bic": parts[1], "name": parts[2]}
        elif key in ("REMI", "RMTINF"):
            remittance.append(_remittance_value(value))
        elif key == "EREF":
            end_to_end = value

    primary, other = ("ORDP", "BENM") if credit != reversal else ("BENM", "ORDP")
    for role in (primary, "CNTP", "", other):
        found = parties.get(role, {})
        party = _Party(
            name=found.get("name", "").strip(),
            iban=_compact(found.get("iban", "")),
            bic=_compact(found.get("bic", "")),
        )
        if any(party) and party.iban != own_iban:
            return party, " ".join(remittance), end_to_end
    return _Party("", "", ""), " ".join(remittance), end_to_end


def _remittance_value(value: str) -> str:
    """/REMI/ text: `USTD//text` unstructured, `STRD/CUR/ref` or `STRD/ISO/ref` a creditor
    reference, or (ABN AMRO) the text itself."""
    if value.startswith("USTD//"):
        return value.removeprefix("USTD//")
    structured = re.fullmatch(r"STRD/[A-Z]{3}/(.*)", value, re.DOTALL)
    return structured.group(1) if structured else value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def _problem(field: _Field, message: str) -> StatementProblem:
    return StatementProblem(f"mt940: line {field.line}: {message}")
