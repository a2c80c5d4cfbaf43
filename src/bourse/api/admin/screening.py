"""`POST /admin/v1/screen`: names and identifiers against the sanctions lists in force in the
server's data directory, as `bourse screen` does locally.

The index is built on first use and kept while the set of versions in force stays the same; a
`bourse lists load` changes that set and the next request rebuilds (the cache is shared with
onboarding and rescreens: workers/rescreen.py). Building and screening run in
a worker thread: they take seconds and milliseconds of CPU the event loop must not wait for.
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, parse
from bourse.api.admin.errors import REASON_REQUIRED, bad_request, conflict
from bourse.api.admin.four_eyes import proposed_answer
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.commands import ForceListVersion
from bourse.compliance.sanctions.versions import (
    MAX_REMOVED_PERCENT,
    SOURCES,
    ListSourceError,
    ListStore,
)
from bourse.workers.list_forcing import ForcingProposed, decide_forcing, loaded_ms
from bourse.workers.list_refresh import ListRefresher
from bourse.workers.rescreen import screener_for
from bourse.workers.screening import (
    NO_LISTS,
    QueryError,
    check_options,
    list_json,
    make_query,
    query_json,
)

router = APIRouter(prefix="/admin/v1", tags=["compliance"])
MAX_QUERIES = 1000  # per request: a bulk screening comes in chunks


class QueryBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""
    dob: str = ""
    country: str = ""
    schema: str = ""
    ids: list[str] = []


class ScreenBody(msgspec.Struct, forbid_unknown_fields=True):
    queries: list[QueryBody]
    threshold: float | None = None  # default: the review threshold (bourse lists threshold)
    limit: int = 10


@router.post(
    "/screen",
    summary="Screen names and identifiers against the sanctions lists",
    description=(
        "Each query (name, optional dob YYYY[-MM[-DD]], country alpha-2, schema, ids matched "
        "exactly) gets its hits at or above the threshold, best first, with score (2 decimals, "
        "as text), list, entry id and explanation; `lists` names the versions used, newest first."
    ),
)
async def screen_names(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"queries": [{"name": "Havin Bank", "country": "GB", "schema": "Organization"}]}
    ),
) -> Response:
    req = parse(body, ScreenBody)
    if problem := check_options(req.threshold, req.limit):
        raise bad_request(problem)
    if len(req.queries) > MAX_QUERIES:
        raise bad_request(f"at most {MAX_QUERIES} queries per request, got {len(req.queries)}")
    try:
        queries = [make_query(q.name, q.dob, q.country, q.schema, q.ids) for q in req.queries]
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    store = ListStore(service.data_dir)

    def run() -> dict[str, Any] | None:
        screener = screener_for(store)
        if screener is None:
            return None
        at = req.threshold or screener.threshold
        return {
            "lists": [list_json(v) for v in screener.lists],
            "threshold": f"{at:.2f}",
            "results": [
                {"query": query_json(q), "hits": screener.run(q, at, req.limit)} for q in queries
            ],
        }

    answer = await run_in_threadpool(run)
    if answer is None:
        raise conflict("NO_SANCTIONS_LISTS", NO_LISTS)
    return ok(answer)


class RefreshBody(msgspec.Struct, forbid_unknown_fields=True):
    force: list[str] = []
    reason: str = ""


@router.post(
    "/lists/refresh",
    summary="Download every sanctions list now and put changed ones in force",
    description=(
        "One pass of the scheduled refresh (`bourse run --refresh-lists HOURS`), with its URLs "
        "(official, or the mirrors given by --list-url): each list is downloaded and put in force "
        "if its content changed, and any change rescreens every customer. A failed download or a "
        "malformed publication keeps the version in force and is reported as `failed`; one with "
        f"no entries, or removing more than {MAX_REMOVED_PERCENT}% of the entries in force (or "
        "of their aliases, identifiers or countries), as `refused`. The lists "
        'named in `force` (with a `reason`) are put in force even so: {"force": ["ofac_sdn"], '
        '"reason": "..."}, journaled as ForceListVersion before they take effect.'
    ),
)
async def refresh_lists(
    request: Request,
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] | None = Body(None),
) -> Response:
    req = parse(body or {}, RefreshBody)
    if unknown := sorted(set(req.force) - set(SOURCES)):
        raise bad_request(f"force names lists {', '.join(SOURCES)}, not {', '.join(unknown)}")
    if req.force and not req.reason.strip():
        raise bad_request(
            "forcing a list version needs a reason: say why the list shrank", REASON_REQUIRED
        )
    refresher = getattr(request.app.state, "list_refresher", None) or ListRefresher(service, 0)
    results = await refresher.refresh(req.force, actor, req.reason.strip())
    rescreen = refresher.last_rescreen if any(r.status == "loaded" for r in results) else None
    return ok(
        {
            "results": [r.json() for r in results],
            "rescreen": rescreen.json() if rescreen is not None else None,
        }
    )


class ForceBody(msgspec.Struct, forbid_unknown_fields=True):
    """A refused load's figures (what `bourse lists load` printed) and why to force it."""

    source: str
    list_sha256: str
    previous_sha256: str
    measure: str
    count_before: int
    count_after: int
    removed: int
    reason: Reason


@router.post(
    "/lists/force",
    summary="Decide to force a refused list version",
    description="Journals ForceListVersion (the list, the version, the one it replaces, what "
    "it removes, who and why) before the version goes into force; `bourse lists load --force` "
    "calls it. Where four eyes cover it, the first call proposes it (202) and a second person "
    "approves it; the next call for the same version answers the approved decision's `seq`.",
)
async def force_list(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {
            "source": "ofac_sdn",
            "list_sha256": "9f86d0…",
            "previous_sha256": "60303a…",
            "measure": "entries",
            "count_before": 9083,
            "count_after": 0,
            "removed": 9083,
            "reason": "OFAC ended the program (notice of 2026-01-05)",
        },
        ForceBody,
    ),
) -> Response:
    req = parse(body, ForceBody)
    cmd = ForceListVersion(
        actor=actor,
        ts_ms=service.clock(),
        **{k: v for k, v in msgspec.structs.asdict(req).items()},
    )
    try:
        since = loaded_ms(ListStore(service.data_dir), req.source)
        seq = await decide_forcing(service, cmd, since)
    except ForcingProposed as proposed:
        return proposed_answer(service, proposed.outcome)
    except ListSourceError as exc:
        raise conflict("REFUSED", str(exc)) from None
    return ok({"seq": seq})
