"""Screening a withdrawal's beneficiary before the withdrawal enters the engine.

The payee's name and, for a fiat payment, its bank's codes (the BIC given, or the one the IBAN's
bank code names) are screened against the versions in force; the command carries what was found
and against which versions, and the engine holds the payment on every hit (engine/alerts.py
hold_for_review).
"""

from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from starlette.concurrency import run_in_threadpool

from bourse.compliance.evidence import BeneficiaryScreening, ListRef
from bourse.compliance.sanctions.matching.screen import Query, screen
from bourse.compliance.sanctions.versions import ListStore
from bourse.server.service import GatewayService
from bourse.workers.rescreen import HIT_LIMIT, address_commands, evidence_of, screener_for
from bourse.workers.screening import Screener


class PayeeError(ValueError):
    """A destination or bank code that cannot be a bank account: says what is wrong."""


@dataclass(frozen=True)
class BankDestination:
    iban: str  # compact, upper case
    bic: str  # the BIC given, else the one the IBAN's bank code names ("" if unknown)


def bank_destination(destination: str, bic: str = "") -> BankDestination:
    """The IBAN and BIC of a fiat withdrawal's destination, checked (checksum, length, country)."""
    try:
        iban = IBAN(destination)
    except SchwiftyException as exc:
        raise PayeeError(
            f"destination {destination.strip()!r} is not a valid IBAN: {exc}"
        ) from None
    code = ""
    if bic.strip():
        try:
            code = str(BIC(bic))
        except SchwiftyException as exc:
            raise PayeeError(f"beneficiary BIC {bic.strip()!r} is not valid: {exc}") from None
    elif iban.bic is not None:
        code = str(iban.bic)
    return BankDestination(iban=iban.compact, bic=code)


def payee_query(beneficiary: str, bank: BankDestination | None) -> Query:
    # The payee may be a person or a company: no schema, so neither is penalized. A crypto
    # payee has no bank: its name is screened (the gate checks the address itself exactly).
    codes = (bank.bic, bank.iban) if bank is not None else ()
    return Query(name=beneficiary.strip(), identifiers=tuple(value for value in codes if value))


def screen_payee(
    screener: Screener, beneficiary: str, bank: BankDestination | None
) -> BeneficiaryScreening:
    """The versions screened against and each hit at the review threshold, as evidence."""
    entries = {(e.source, e.entry_id): e for e in screener.index.entries}
    shas = {v.source: v.sha256 for v in screener.lists}
    query = payee_query(beneficiary, bank)
    hits = screen(screener.index, query, screener.threshold, HIT_LIMIT)
    return BeneficiaryScreening(
        lists=tuple(ListRef(source=v.source, list_sha256=v.sha256) for v in screener.lists),
        hits=tuple(
            evidence_of(hit, shas[hit.source], entries[hit.source, hit.entry_id]) for hit in hits
        ),
    )


async def screened(
    service: GatewayService, name: str, bank: BankDestination | None
) -> BeneficiaryScreening | None:
    """`name` (with its bank's codes) screened against the lists in force, as the engine will
    check it was (None when no list is loaded)."""
    screener = await run_in_threadpool(screener_for, ListStore(service.data_dir))
    if screener is None:
        return None
    await give_engine_versions(service, screener)
    return await run_in_threadpool(screen_payee, screener, name, bank)


async def give_engine_versions(service: GatewayService, screener: Screener) -> None:
    """The engine checks a payee was screened against the versions it holds: hand it the versions
    this screener uses first, if a list was loaded and not yet rescreened."""
    for cmd in address_commands(screener, service.view, service.clock()):
        await service.execute(cmd)
