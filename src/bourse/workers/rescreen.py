"""Screening customers against the sanctions lists in force, and raising alerts for review.

The matcher runs beside the engine: a hit enters it only as RaiseScreeningAlert citing its
Evidence (list version, entry, score in basis points, a fingerprint of the listed entry). A
compliance officer then confirms (the customer's accounts freeze) or dismisses it.

The screener cache lives here (moved from api/admin/screening.py) so that `POST /admin/v1/screen`,
onboarding and rescreens share one index per set of versions in force.
"""

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import metadata, resources
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool

from bourse import codec
from bourse.commands import (
    ForgetDismissals,
    ListedAddress,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    RecordRescreen,
    SetSanctionedAddresses,
)
from bourse.compliance.addresses import address_key
from bourse.compliance.alerts import CONFIRMED, HIT, dismissal_key, dismissed_entry
from bourse.compliance.evidence import Evidence, ListRef
from bourse.compliance.sanctions import matching
from bourse.compliance.sanctions.entries import ListEntry, ListVersion
from bourse.compliance.sanctions.matching import bulk
from bourse.compliance.sanctions.matching.index import DEFAULT_CANDIDATES, ListIndex
from bourse.compliance.sanctions.matching.screen import Hit, Query, screen
from bourse.compliance.sanctions.versions import ListStore, diff
from bourse.events import ScreeningAlertRaised
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.workers.screening import Screener, build_index, in_force, list_json

ACTOR = "system:screening"
CHUNK = 2000  # customers per worker-thread batch: the event loop runs between batches
BULK_CHUNK = 100_000  # customers per pool of worker processes (a pool takes seconds to start)
MIN_PER_WORKER = bulk.MIN_PER_WORKER  # fewer customers than this per worker: screen in-process
FULL, INCREMENTAL, UNCHANGED = "full", "incremental", "unchanged"
HIT_LIMIT = 10  # hits per customer: more than that on one name is one review anyway


class _Cache:
    """The screener for the last set of versions in force, one build at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._screener: Screener | None = None

    def get(self, store: ListStore) -> Screener | None:
        lists = in_force(store)
        if not lists:
            return None
        threshold = store.review_threshold()
        with self._lock:
            held = self._screener
            if held is None or held.lists != lists:
                held = self._screener = Screener.build(store, lists)
            elif held.threshold != threshold:  # the same index under a new threshold
                held = self._screener = held.with_threshold(threshold)
            return held


_caches: dict[str, _Cache] = {}
_caches_lock = threading.Lock()


def screener_for(store: ListStore) -> Screener | None:
    """The (cached) screener over the versions in force in `store`, None when no list is.
    Blocking (a build takes seconds): call it from a worker thread."""
    with _caches_lock:
        cache = _caches.setdefault(str(store.root), _Cache())
    return cache.get(store)


def fingerprint(entry: ListEntry) -> str:
    """The listed entry's hash: a dismissal holds while it stays the same."""
    return hashlib.sha256(codec.encode(entry)).hexdigest()


def evidence_of(hit: Hit, version_sha: str, entry: ListEntry) -> Evidence:
    return Evidence(
        source=hit.source,
        list_sha256=version_sha,
        entry_id=hit.entry_id,
        listed_name=hit.listed_name,
        score_bp=round(hit.score * 10_000),
        explanation=hit.explanation,
        entry_fingerprint=fingerprint(entry),
    )


@dataclass(frozen=True)
class _Profile:
    customer_id: int
    query: Query


@dataclass(frozen=True)
class _Known:
    """What the engine would refuse to raise again: read from the view on the event loop, used
    in a worker thread, so the screening never iterates dicts that are changing."""

    open: frozenset[str] = frozenset()  # dismissal keys of open (or confirmed) alerts
    dismissed: dict[str, str] = field(default_factory=dict)  # dismissal key → fingerprint


def _profiles(view: ReadModel, customer_ids: Iterable[int]) -> list[_Profile]:
    found = []
    for cid in customer_ids:
        cust = view.customers.get(cid)
        if cust is None:
            continue
        query = Query(
            name=cust.legal_name,
            dob=cust.date_of_birth,
            country=cust.nationality,
            schema="Person",
        )
        found.append(_Profile(cid, query))
    return found


def _known(view: ReadModel) -> _Known:
    # A confirmed hit is skipped too while no delisting was seen: the engine would take it, but
    # the customer's accounts are already frozen on that entry, so a new review would only repeat
    # the decision. Once the entry left its list (a delisting review names the hit), its return
    # is new evidence and raises a fresh alert. Payee reviews and delisting reviews are about
    # other things: they never stand in for a hit on the customer.
    opened = frozenset(
        dismissal_key(a.customer_id, a.evidence)
        for a in view.alerts.values()
        if a.kind == HIT and (not a.decision or (a.decision == CONFIRMED and not a.reviews))
    )
    return _Known(open=opened, dismissed=dict(view.dismissals))


def _alerts(
    index: ListIndex,
    shas: dict[str, str],
    profiles: Sequence[_Profile],
    hits: Sequence[Sequence[Hit]],
    known: _Known,
    ts_ms: int,
) -> list[RaiseScreeningAlert]:
    """The alert each profile's hits call for, citing their evidence."""
    entries = {(e.source, e.entry_id): e for e in index.entries}
    commands = []
    for profile, found in zip(profiles, hits, strict=True):
        for hit in found:
            evidence = evidence_of(hit, shas[hit.source], entries[hit.source, hit.entry_id])
            key = dismissal_key(profile.customer_id, evidence)
            if key in known.open or known.dismissed.get(key) == evidence.entry_fingerprint:
                continue  # the engine would refuse it NO_CHANGE: do not journal a refusal
            commands.append(
                RaiseScreeningAlert(
                    actor=ACTOR, ts_ms=ts_ms, customer_id=profile.customer_id, evidence=evidence
                )
            )
    return commands


def _screen(
    index: ListIndex,
    shas: dict[str, str],
    profiles: Sequence[_Profile],
    known: _Known,
    ts_ms: int,
    threshold: float,
    candidates: int = DEFAULT_CANDIDATES,
) -> list[RaiseScreeningAlert]:
    hits = [screen(index, p.query, threshold, HIT_LIMIT, candidates) for p in profiles]
    return _alerts(index, shas, profiles, hits, known, ts_ms)


def _screen_in_workers(
    screener: Screener,
    data_dir: str,
    shas: dict[str, str],
    profiles: Sequence[_Profile],
    known: _Known,
    ts_ms: int,
) -> list[RaiseScreeningAlert]:
    """A full rescreen in worker processes: each builds its own index from the version files
    (pickling this one would hold the interpreter lock, and with it the engine, for up to a
    second), and the server's own threads stay free for trading."""
    source = partial(build_index, data_dir, screener.lists)
    queries = [p.query for p in profiles]
    hits = bulk.screen_many(
        source, queries, screener.threshold, HIT_LIMIT, min_per_worker=MIN_PER_WORKER
    )
    return _alerts(screener.index, shas, profiles, hits, known, ts_ms)


def alerts_for(
    screener: Screener, view: ReadModel, customer_ids: Iterable[int], ts_ms: int = 0
) -> list[RaiseScreeningAlert]:
    """An alert for each hit at the review threshold on each customer's legal name, date of
    birth and nationality, leaving out those the engine would refuse (an open alert on the same
    entry, or a dismissal of it while the entry is unchanged) and those already confirmed."""
    shas = {v.source: v.sha256 for v in screener.lists}
    profiles = _profiles(view, customer_ids)
    return _screen(screener.index, shas, profiles, _known(view), ts_ms, screener.threshold)


@dataclass
class RescreenReport:
    screened: int = 0
    alerts_raised: list[int] = field(default_factory=list)  # alert ids
    delisting_reviews: list[int] = field(default_factory=list)  # alert ids
    lists: list[dict[str, Any]] = field(default_factory=list)
    mode: str = FULL  # FULL, INCREMENTAL, or UNCHANGED (nothing new to screen against)
    entries_screened: int = 0  # listed entries everyone was screened against
    bank_cutoffs_proposed: list[int] = field(default_factory=list)  # proposal ids (banks hit)

    def json(self) -> dict[str, Any]:
        return {
            "screened": self.screened,
            "mode": self.mode,
            "entriesScreened": self.entries_screened,
            "alertsRaised": self.alerts_raised,
            "delistingReviews": self.delisting_reviews,
            "bankCutOffsProposed": self.bank_cutoffs_proposed,
            "lists": self.lists,
        }


@dataclass(frozen=True)
class _Plan:
    """What a rescreen of everyone screens against: the whole index, or only what changed."""

    mode: str
    index: ListIndex
    candidates: int


@cache
def _code_hash() -> str:
    digest = hashlib.sha256()
    for name in ("rigour", "rapidfuzz"):
        digest.update(f"{name}={metadata.version(name)}".encode())
    package = resources.files(matching)
    for source in sorted(package.iterdir(), key=lambda f: f.name):
        if source.name.endswith(".py"):
            digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


def matcher_id(threshold: float) -> str:
    """The review threshold and a hash of the matcher's code and the libraries it normalizes
    with: a rescreen screens only what changed while this is what screened everyone last."""
    return f"review threshold {threshold:.4f}; matcher {_code_hash()[:16]}"


def _plan(store: ListStore, screener: Screener, screened: dict[str, str], matcher: str) -> _Plan:
    """Everyone against the whole index, unless the last rescreen used this matcher and each list
    now in force is either the version screened then or a newer one whose added and changed
    entries are all there is to screen: hits are scored pair by pair, so screening against only
    those entries finds every hit a full rescreen would find on them (and the others are the
    hits already raised, dismissed or confirmed)."""
    whole = _Plan(FULL, screener.index, DEFAULT_CANDIDATES)
    if matcher != matcher_id(screener.threshold):
        return whole
    changed: list[ListVersion] = []
    for info in screener.lists:
        before = screened.get(info.source)
        if before == info.sha256:
            continue
        earlier = [v for v in store.versions(info.source) if v.sha256 == before]
        if not earlier:
            return whole  # never screened against this list, or its old version is gone
        old = store.read(info.source, earlier[-1].file)
        new = store.read(info.source, info.file)
        delta = diff(old, new)
        entries = delta.added + tuple(c.after for c in delta.changed)
        if entries:
            changed.append(msgspec.structs.replace(new, entries=entries))
    # Every name sharing any retrieval key with the query is scored (no key skipped as common,
    # no candidate cut-off): a superset of what the whole index would shortlist among them.
    index = ListIndex.build(changed, common_share=1.0)
    mode = INCREMENTAL if changed else UNCHANGED
    return _Plan(mode, index, max(index.name_count, 1))


async def rescreen(
    service: GatewayService,
    screener: Screener,
    customer_ids: Iterable[int] | None = None,
    full: bool = False,
    hold: bool = False,
) -> RescreenReport:
    """Screen customers (default: all) against `screener` and raise the alerts through the
    engine as "system:screening". The screening runs in a worker thread, chunk by chunk.

    A rescreen of everyone screens only the entries new list versions add or change when that is
    equivalent (`_plan`), and records what it screened against with RecordRescreen. Alerts
    already open or dismissed-and-unchanged are skipped, so rescreening is idempotent. `hold`
    (onboarding) holds each customer an alert is raised on until it is decided.
    """
    # The view holds every command's events once `execute` returns: each read below sees what
    # the commands before it did.
    view = service.view
    for listed in address_commands(screener, view, service.clock()):
        await service.execute(listed)  # withdrawals to listed addresses are blocked from here on
    everyone = customer_ids is None
    ids = list(view.customers) if customer_ids is None else list(customer_ids)
    store = ListStore(service.data_dir)
    plan = _Plan(FULL, screener.index, DEFAULT_CANDIDATES)
    if everyone and not full:  # what was screened last, read on the event loop
        screened, matcher = dict(view.screened_lists), view.screened_matcher
        plan = await run_in_threadpool(_plan, store, screener, screened, matcher)
    report = RescreenReport(
        lists=[list_json(v) for v in screener.lists],
        mode=plan.mode,
        entries_screened=len(plan.index.entries),
    )
    for review in delisting_reviews(screener, view, service.clock()):
        outcome = await service.execute(review)
        report.delisting_reviews += [
            e.alert_id for e in outcome.events if isinstance(e, ScreeningAlertRaised)
        ]
    for forget in forgotten_dismissals(screener, view, service.clock()):
        await service.execute(forget)  # a false positive on a delisted entry: new if relisted
    shas = {v.source: v.sha256 for v in screener.lists}
    # Against the whole index and enough customers to repay starting them: worker processes.
    in_workers = plan.mode == FULL and bulk.workers_for(len(ids), None, MIN_PER_WORKER) > 1
    chunk = BULK_CHUNK if in_workers else CHUNK
    data_dir = str(service.data_dir)
    for start in range(0, len(ids) if plan.mode != UNCHANGED else 0, chunk):
        # Read on the event loop, screen in a worker thread or processes.
        profiles = _profiles(view, ids[start : start + chunk])
        known = _known(view)
        if in_workers:
            commands = await run_in_threadpool(
                _screen_in_workers, screener, data_dir, shas, profiles, known, service.clock()
            )
        else:
            commands = await run_in_threadpool(
                _screen,
                plan.index,
                shas,
                profiles,
                known,
                service.clock(),
                screener.threshold,
                plan.candidates,
            )
        report.screened += len(profiles)
        if hold:
            commands = [msgspec.structs.replace(cmd, hold=True) for cmd in commands]
        for cmd in commands:
            outcome = await service.execute(cmd)
            # A refusal here means a concurrent screening raised it first: nothing to add.
            report.alerts_raised += [
                e.alert_id for e in outcome.events if isinstance(e, ScreeningAlertRaised)
            ]
    # Recorded also when nothing was added or changed but entries left a list: the next
    # rescreen then compares against the version without them, and screens their return.
    if everyone and (plan.mode != UNCHANGED or shas != view.screened_lists):
        await service.execute(
            RecordRescreen(
                lists=tuple(ListRef(source=v.source, list_sha256=v.sha256) for v in screener.lists),
                matcher=matcher_id(screener.threshold),
                customers=len(ids),
                mode=FULL if plan.mode == FULL else INCREMENTAL,
                actor=ACTOR,
                ts_ms=service.clock(),
            )
        )
    return report


def _listed(screener: Screener) -> dict[str, set[str]]:
    """The entry ids each list in force has."""
    listed: dict[str, set[str]] = {}
    for entry in screener.index.entries:
        listed.setdefault(entry.source, set()).add(entry.entry_id)
    return listed


def forgotten_dismissals(screener: Screener, view: ReadModel, ts_ms: int) -> list[ForgetDismissals]:
    """For each list in force, the entries false positives were dismissed on that it no longer
    has: their dismissals end, so a re-listing is screened as new evidence."""
    listed = _listed(screener)
    versions = {info.source: info.sha256 for info in screener.lists}
    gone: dict[str, dict[str, None]] = {}
    for key in view.dismissals:
        _, source, entry_id = dismissed_entry(key)
        if source in versions and entry_id not in listed.get(source, set()):
            gone.setdefault(source, {})[entry_id] = None
    return [
        ForgetDismissals(
            source=source,
            list_sha256=versions[source],
            entry_ids=tuple(sorted(entries)),
            actor=ACTOR,
            ts_ms=ts_ms,
        )
        for source, entries in sorted(gone.items())
    ]


def delisting_reviews(
    screener: Screener, view: ReadModel, ts_ms: int
) -> list[RaiseDelistingReview]:
    """A review for each confirmed hit whose entry the list version now in force no longer has:
    a delisting should reach the frozen customer as quickly as the listing did."""
    listed = _listed(screener)
    versions = {info.source: info.sha256 for info in screener.lists}
    return [
        RaiseDelistingReview(
            alert_id=alert.id,
            list_sha256=versions[alert.evidence.source],
            actor=ACTOR,
            ts_ms=ts_ms,
        )
        for alert in view.alerts.values()
        if alert.kind == HIT
        and alert.decision == CONFIRMED
        and not alert.reviews
        and alert.evidence.source in versions
        and alert.evidence.entry_id not in listed.get(alert.evidence.source, set())
    ]


def address_commands(
    screener: Screener, view: ReadModel, ts_ms: int
) -> list[SetSanctionedAddresses]:
    """For each list version in force whose crypto addresses the engine does not hold yet, the
    command that gives them to it (the gate then refuses withdrawals to them)."""
    by_source: dict[str, list[ListedAddress]] = {}
    for entry in screener.index.entries:
        for ident in entry.identifiers:
            if ident.kind == "CRYPTO_ADDRESS":
                by_source.setdefault(entry.source, []).append(
                    ListedAddress(
                        address=address_key(ident.value),
                        entry_id=entry.entry_id,
                        network=ident.network,
                    )
                )
    return [
        SetSanctionedAddresses(
            source=info.source,
            list_sha256=info.sha256,
            addresses=tuple(by_source.get(info.source, ())),
            actor=ACTOR,
            ts_ms=ts_ms,
        )
        for info in screener.lists
        if view.address_lists.get(info.source) != info.sha256
    ]


async def screen_customers(
    service: GatewayService,
    customer_ids: Sequence[int] | None = None,
    full: bool = False,
    hold: bool = False,
) -> RescreenReport | None:
    """Rescreen against the lists in force in the service's data directory (None if none is)."""
    store = ListStore(service.data_dir)
    screener = await run_in_threadpool(screener_for, store)
    if screener is None:
        return None
    return await rescreen(service, screener, customer_ids, full, hold)
