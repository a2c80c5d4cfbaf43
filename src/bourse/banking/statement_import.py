"""From a statement file to the one command that imports it: read the format, convert each
amount to raw units of its asset (the one decimal parser, `domain/money.to_raw`), and name each
sender's bank (as the statement gives it, else the one the sender's IBAN names)."""

from collections.abc import Collection, Mapping

import msgspec
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from bourse.banking.statement import Statement, StatementEntry, StatementProblem
from bourse.commands.banks import ImportStatement, StatementLine
from bourse.domain.money import PrecisionError, to_raw


def read_statement(data: bytes) -> Statement:
    """A camt.053 (XML) or MT940 file, told apart by its first characters."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if not head:
        raise StatementProblem("the statement file is empty")
    if head.startswith(b"<"):
        from bourse.banking.camt053 import parse_camt053

        return parse_camt053(data)
    from bourse.banking.mt940 import parse_mt940

    return parse_mt940(data)


def sender_bic(entry: StatementEntry) -> str:
    if entry.counterparty_bic:
        return entry.counterparty_bic.upper()
    try:
        bic = IBAN(entry.counterparty_iban).bic if entry.counterparty_iban else None
    except SchwiftyException:
        return ""  # an IBAN that does not check out names no bank; the engine queues the line
    return "" if bic is None else str(bic)


def import_command(
    statement: Statement,
    bank: str,
    precisions: Mapping[str, int],
    fiat: Collection[str],
    *,
    actor: str,
    ts_ms: int,
    reason: str,
) -> ImportStatement:
    """The ImportStatement of `statement` from partner bank `bank` (BIC). An amount with more
    decimals than its asset keeps is refused naming its entry: nothing of the file is imported."""
    lines = []
    for entry in statement.entries:
        amount_raw = None
        if entry.currency in fiat:
            try:
                amount_raw = to_raw(
                    entry.amount, precisions[entry.currency], what=f"entry {entry.position} amount"
                )
            except PrecisionError as exc:
                raise StatementProblem(f"statement {statement.statement_id}: {exc}") from None
            if amount_raw <= 0:
                raise StatementProblem(
                    f"statement {statement.statement_id}: entry {entry.position} amount "
                    f"{entry.amount} is not positive"
                )
        lines.append(
            StatementLine(entry=entry, amount_raw=amount_raw, sender_bic=sender_bic(entry))
        )
    return ImportStatement(
        actor=actor,
        ts_ms=ts_ms,
        reason=reason,
        bank=bank,
        statement_id=statement.statement_id,
        account_iban=statement.account_iban,
        format=statement.format,
        lines=tuple(lines),
    )


IMPORT_CHUNK = 500  # lines per ImportStatement: what one engine command holds matching for


def import_commands(
    statement: Statement,
    bank: str,
    precisions: Mapping[str, int],
    fiat: Collection[str],
    *,
    actor: str,
    ts_ms: int,
    reason: str,
    chunk: int = IMPORT_CHUNK,
) -> list[ImportStatement]:
    """`import_command`'s lines in commands of `chunk` lines, in the statement's order, so that
    a statement of 100,000 lines never holds matching for everyone else while it is booked. The
    whole file is checked first (amounts, one bank reference per line), so each part is booked
    as the whole would be; a part booked twice books nothing twice (the bank reference)."""
    whole = import_command(
        statement, bank, precisions, fiat, actor=actor, ts_ms=ts_ms, reason=reason
    )
    refs = [line.entry.bank_ref for line in whole.lines]
    if len(set(refs)) != len(refs):
        twice = sorted({r for r in refs if refs.count(r) > 1})[:3] if len(refs) < 5000 else []
        raise StatementProblem(
            f"statement {statement.statement_id} books one bank reference twice"
            + (f" ({', '.join(twice)})" if twice else "")
        )
    lines = whole.lines
    return [
        msgspec.structs.replace(whole, lines=lines[start : start + chunk])
        for start in range(0, max(len(lines), 1), chunk)
    ]
