"""Partner banks screened against the sanctions lists in force: a hit on a bank's name or BIC
proposes its cut-off (cause SANCTIONED, payouts in its files returned), for a second person to
approve; nothing is cut off by a machine alone.

A bank is screened when it is defined (or its definition approved) and at every rescreen, i.e.
whenever a list version comes into force. It is proposed at most once at a time: not while a
proposal to cut it off waits, not once it is cut off or a cut-off is scheduled, and not on hits
a person rejected before (the engine remembers them with the rejection, while the listed
entry is unchanged).
"""

import logging
from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool

from bourse.banking.cutoff import Cause, CutOffSpec, Outgoing, hit_key
from bourse.banking.rails import ACTIVE, PartnerBank
from bourse.commands import CutOffBank
from bourse.commands.four_eyes import proposal_of
from bourse.compliance.evidence import Evidence
from bourse.compliance.sanctions.versions import ListStore
from bourse.events import ProposalMade
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.workers.payees import BankDestination, screen_payee
from bourse.workers.rescreen import ACTOR, RescreenReport, screen_customers, screener_for
from bourse.workers.screening import Screener

log = logging.getLogger(__name__)
PROPOSAL_HOURS = 14 * 24  # as long as a proposal may wait


def unscreened_hits(view: ReadModel, screener: Screener, bank: PartnerBank) -> list[Evidence]:
    """The hits on the bank's name and BIC that no rejected proposal cleared."""
    found = screen_payee(screener, bank.name, BankDestination(iban="", bic=bank.bic))
    cleared = set(view.bank_cleared.get(bank.bic, ()))
    return [ev for ev in found.hits if hit_key(ev) not in cleared]


def _waiting(view: ReadModel, bic: str) -> bool:
    return any(
        isinstance(p.command, CutOffBank) and p.command.spec.bic == bic
        for p in view.proposals.values()
    )


async def propose_cutoffs(
    service: GatewayService, screener: Screener, bics: Iterable[str] | None = None
) -> list[int]:
    """Screen the partner banks (default: all) and propose the cut-off of each one hit; the
    proposal ids made."""
    view = service.view
    made: list[int] = []
    for bic in list(view.banks) if bics is None else list(bics):
        bank = view.banks.get(bic)
        if bank is None or bank.status != ACTIVE or bank.cutoff_id or _waiting(view, bic):
            continue
        hits = await run_in_threadpool(unscreened_hits, view, screener, bank)
        if not hits:
            continue
        spec = CutOffSpec(bic=bic, cause=Cause.SANCTIONED, outgoing=Outgoing.RETURN)
        try:
            impact = await service.cutoff_preview(spec)
        except ValueError:  # cut off meanwhile
            continue
        now = service.clock()
        named = "; ".join(ev.text() for ev in hits)
        cmd = CutOffBank(
            actor=ACTOR,
            ts_ms=now,
            reason=f"sanctions screening: {bank.name} ({bic}) matches {len(hits)} listed entr"
            + ("y" if len(hits) == 1 else "ies"),
            spec=spec,
            preview_id=impact.preview_id,
            previewed=impact.previewed,
            evidence=tuple(hits),
        )
        evidence = (
            f"{named}. Preview {impact.preview_id}: {impact.customers} customer(s) bank there, "
            f"{len(impact.transfers)} transfer(s) pending through it."
        )[:2000]
        proposal = proposal_of(cmd, expires_ms=now + PROPOSAL_HOURS * 3_600_000, evidence=evidence)
        outcome = await service.execute(proposal)
        if outcome.refused:
            log.error("proposing the cut-off of %s was refused: %s", bic, outcome.events)
            continue
        made += [e.proposal_id for e in outcome.events if isinstance(e, ProposalMade)]
    return made


async def screen_banks(service: GatewayService, bics: Iterable[str] | None = None) -> list[int]:
    """`propose_cutoffs` against the lists in force in the service's data directory."""
    screener = await run_in_threadpool(screener_for, ListStore(service.data_dir))
    if screener is None:
        return []
    return await propose_cutoffs(service, screener, bics)


async def rescreen_everyone(service: GatewayService, full: bool = False) -> RescreenReport | None:
    """Every customer and every partner bank against the lists in force (None if none is):
    what a new list version sets off."""
    report = await screen_customers(service, full=full)
    if report is not None:
        report.bank_cutoffs_proposed = await screen_banks(service)
    return report
