"""Read an ISO 20022 camt.053 bank statement (BankToCustomerStatement) into a `Statement`.

Standard: ISO 20022 message definition camt.053.001, BankToCustomerStatementV02 to V13
(https://www.iso20022.org/iso-20022-message-definitions, "Cash Management"). Elements are
matched by local name inside the document's own `urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN`
namespace, so every version reads alike; where versions differ (`BIC` became `BICFI`, a party's
`Nm` moved under `Pty`, `Sts` became `Sts/Cd`), both forms are read.

The XML comes from outside, so the parser resolves no entities, loads no DTD, touches no
network and keeps libxml2's size limits; a file with a DOCTYPE is refused outright. Anything the
parser cannot take with certainty is a `StatementProblem` naming the element, the entry and the
line: a statement is imported whole or not at all.
"""

import re
from datetime import date
from typing import Any, NamedTuple

from lxml import etree

from bourse.banking.statement import Statement, StatementEntry, StatementProblem

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})")
# A plain positive decimal: ISO 20022 amounts have at most 18 digits, 5 of them fractional.
_AMOUNT = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,5})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOT_PROVIDED = "NOTPROVIDED"  # the EPC's filler for an absent end-to-end id

# lxml ships no type information; an element is what `etree` hands back.
_Element = Any


class _Party(NamedTuple):
    name: str
    iban: str
    bic: str


def parse_camt053(data: bytes) -> Statement:
    """The one statement (`BkToCstmrStmt/Stmt`) of a camt.053 file; several are refused, so a
    file is always one account's statement and one import."""
    doc = _Doc(_document(data))
    statements = doc.findall(doc.root, "BkToCstmrStmt/Stmt")
    if not statements:
        raise StatementProblem("camt.053: Document has no BkToCstmrStmt/Stmt statement")
    if len(statements) > 1:
        lines = ", ".join(str(s.sourceline) for s in statements)
        raise StatementProblem(
            f"camt.053: BkToCstmrStmt holds {len(statements)} Stmt statements (lines {lines}); "
            "bourse reads one statement per file"
        )
    return _statement(doc, statements[0])


def _document(data: bytes) -> _Element:
    """The camt.053 `Document` element, parsed with nothing resolved from inside or outside."""
    if not data.strip():
        raise StatementProblem("camt.053: the file is empty")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        message = re.sub(r", line \d+, column (\d+)$", r" (column \1)", str(exc.msg))
        raise StatementProblem(
            f"camt.053: not well-formed XML at line {exc.lineno}: {message}"
        ) from None
    if root.getroottree().docinfo.doctype:
        # Entities declared in a DOCTYPE are the vehicle of entity-expansion and external-
        # entity attacks; no bank needs one in a camt.053 file.
        raise StatementProblem(
            "camt.053: the file has a DOCTYPE declaration, which camt.053 never needs; "
            "it is refused (and its entities were not expanded)"
        )
    qname = etree.QName(root)
    match = _NAMESPACE.fullmatch(qname.namespace or "")
    if qname.localname != "Document" or match is None or int(match.group(1)) < 2:
        raise StatementProblem(
            f"camt.053: the root element is {root.tag!r}, not a Document in a "
            "urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN namespace (NN from 02)"
        )
    return root


class _Doc:
    """Paths as the standard writes them ("Acct/Id/IBAN"), in the document's namespace."""

    def __init__(self, root: _Element) -> None:
        self.root = root
        self._namespace = str(etree.QName(root).namespace)
        # each path compiled once: a statement of 100,000 entries asks the same dozen paths
        # of every entry, and a compiled XPath answers in a third of the time of find()
        self._compiled: dict[str, etree.XPath] = {}

    def _xpath(self, path: str) -> etree.XPath:
        compiled = self._compiled.get(path)
        if compiled is None:
            steps = "/".join(f"c:{part}" for part in path.split("/"))
            compiled = self._compiled[path] = etree.XPath(steps, namespaces={"c": self._namespace})
        return compiled

    def find(self, element: _Element, path: str) -> _Element | None:
        found = self._xpath(path)(element)
        return found[0] if isinstance(found, list) and found else None

    def findall(self, element: _Element, path: str) -> list[_Element]:
        found = self._xpath(path)(element)
        return list(found) if isinstance(found, list) else []

    def text(self, element: _Element | None, path: str) -> str:
        """The text at `path` below `element`; "" when either is absent."""
        return "" if element is None else _text(self.find(element, path))


def _text(element: _Element | None) -> str:
    """An element's text (comments left out), surrounding white space removed."""
    if element is None:
        return ""
    if not len(element):  # no children, no comments: its own text is all of it
        return (element.text or "").strip()
    return str("".join(element.itertext())).strip()


def _statement(doc: _Doc, stmt: _Element) -> Statement:
    where = f"Stmt (line {stmt.sourceline})"
    statement_id = doc.text(stmt, "Id")
    if not statement_id:
        raise StatementProblem(f"camt.053: {where}: Id is missing")
    iban = _compact(doc.text(stmt, "Acct/Id/IBAN"))
    if not iban:
        other = doc.text(stmt, "Acct/Id/Othr/Id")
        raise StatementProblem(
            f"camt.053: {where}: Acct/Id has no IBAN"
            + (f" (Othr/Id {other!r})" if other else "")
            + "; bourse reads statements of IBAN accounts only"
        )
    currency = doc.text(stmt, "Acct/Ccy")
    if currency and not _CURRENCY.fullmatch(currency):
        raise StatementProblem(f"camt.053: {where}: Acct/Ccy {currency!r} is not a currency code")
    servicer = doc.text(stmt, "Acct/Svcr/FinInstnId/BICFI") or doc.text(
        stmt, "Acct/Svcr/FinInstnId/BIC"
    )
    entries = tuple(
        _entry(doc, ntry, position, iban)
        for position, ntry in enumerate(doc.findall(stmt, "Ntry"), start=1)
    )
    return Statement(
        statement_id=statement_id,
        account_iban=iban,
        servicer_bic=servicer.upper(),
        currency=currency,
        format="camt.053",
        entries=entries,
    )


def _entry(doc: _Doc, ntry: _Element, position: int, own_iban: str) -> StatementEntry:
    where = f"entry {position} (Ntry, line {ntry.sourceline})"

    amt = doc.find(ntry, "Amt")
    if amt is None:
        raise _problem(where, "Amt is missing")
    amount = _text(amt)
    if not _AMOUNT.fullmatch(amount):
        raise _problem(
            where, f"Amt {amount!r} is not a decimal amount (digits, optionally '.' digits)"
        )
    if not amount.strip("0."):
        raise _problem(where, f"Amt {amount!r} is zero; an entry moves a positive amount")
    currency = str(amt.get("Ccy", "")).strip()
    if not _CURRENCY.fullmatch(currency):
        raise _problem(where, f"Amt/@Ccy {currency!r} is not a currency code")

    indicator = doc.text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise _problem(where, f"CdtDbtInd {indicator!r} is neither CRDT nor DBIT")
    credit = indicator == "CRDT"
    reversal_text = doc.text(ntry, "RvslInd")
    if reversal_text not in ("", "true", "false", "1", "0"):
        raise _problem(where, f"RvslInd {reversal_text!r} is not a boolean")
    reversal = reversal_text in ("true", "1")

    # Only booked entries move money; a pending one may still vanish (V02 `Sts`, V08+ `Sts/Cd`).
    status = doc.text(ntry, "Sts/Cd") or doc.text(ntry, "Sts/Prtry") or doc.text(ntry, "Sts")
    if status and status != "BOOK":
        raise _problem(where, f"Sts {status!r}: only booked (BOOK) entries are read")
    booked = _booked(doc, ntry, where)

    transactions = doc.findall(ntry, "NtryDtls/TxDtls")
    if len(transactions) > 1:
        # One entry carries one bank_ref, one counterparty and one remittance; a batch booking
        # split across them would credit one customer with everybody's money.
        raise _problem(
            where,
            f"NtryDtls holds {len(transactions)} TxDtls (a batch booking); bourse reads one "
            "transaction per entry",
        )
    tx = transactions[0] if transactions else None

    bank_ref = (
        doc.text(ntry, "AcctSvcrRef")
        or doc.text(ntry, "NtryRef")
        or doc.text(tx, "Refs/AcctSvcrRef")
    )
    if not bank_ref:
        raise _problem(
            where, "has no reference: AcctSvcrRef, NtryRef and TxDtls/Refs/AcctSvcrRef are missing"
        )

    end_to_end = doc.text(tx, "Refs/EndToEndId")
    party = _counterparty(doc, tx, credit=credit, reversal=reversal, own_iban=own_iban)
    return StatementEntry(
        bank_ref=bank_ref,
        booked=booked,
        credit=credit,
        reversal=reversal,
        amount=amount,
        currency=currency,
        counterparty_name=party.name,
        counterparty_iban=party.iban,
        counterparty_bic=party.bic,
        remittance=_remittance(doc, tx),
        end_to_end_id="" if end_to_end == _NOT_PROVIDED else end_to_end,
        position=position,
    )


def _booked(doc: _Doc, ntry: _Element, where: str) -> str:
    """BookgDt as an ISO date: `Dt`, or the date part of `DtTm` (its offset is the bank's)."""
    for path in ("BookgDt/Dt", "BookgDt/DtTm"):
        text = doc.text(ntry, path)
        if not text:
            continue
        day = text[:10]
        try:
            if not _DATE.fullmatch(day):
                raise ValueError
            date.fromisoformat(day)
        except ValueError:
            raise _problem(where, f"{path} {text!r} is not a date") from None
        return day
    raise _problem(where, "BookgDt is missing (neither Dt nor DtTm)")


def _remittance(doc: _Doc, tx: _Element | None) -> str:
    """Unstructured lines, then structured creditor references: where a deposit reference is."""
    if tx is None:
        return ""
    parts = [
        _text(element)
        for path in ("RmtInf/Ustrd", "RmtInf/Strd/CdtrRefInf/Ref")
        for element in doc.findall(tx, path)
    ]
    return " ".join(" ".join(parts).split())


def _counterparty(
    doc: _Doc, tx: _Element | None, *, credit: bool, reversal: bool, own_iban: str
) -> _Party:
    """The other side: the debtor of a credit, the creditor of a debit.

    A reversal is reported by some banks with the original transaction's parties and by others
    in its own direction, so for one both sides are tried, and the one that is our own account
    is skipped.
    """
    if tx is None:
        return _Party("", "", "")
    first, second = ("Dbtr", "Cdtr") if credit else ("Cdtr", "Dbtr")
    roles = (second, first) if reversal else (first,)
    for role in roles:
        party = _Party(
            name=doc.text(tx, f"RltdPties/{role}/Nm") or doc.text(tx, f"RltdPties/{role}/Pty/Nm"),
            iban=_compact(doc.text(tx, f"RltdPties/{role}Acct/Id/IBAN")),
            bic=(
                doc.text(tx, f"RltdAgts/{role}Agt/FinInstnId/BICFI")
                or doc.text(tx, f"RltdAgts/{role}Agt/FinInstnId/BIC")
            ).upper(),
        )
        if any(party) and party.iban != own_iban:
            return party
    return _Party("", "", "")


def _problem(where: str, message: str) -> StatementProblem:
    return StatementProblem(f"camt.053: {where}: {message}")


def _compact(iban: str) -> str:
    return "".join(iban.split()).upper()
