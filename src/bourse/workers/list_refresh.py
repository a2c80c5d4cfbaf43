"""The scheduled refresh that keeps the sanctions lists current while the exchange runs.

At start and then every interval, each list is downloaded from its URLs (official by default,
or a mirror's) and put in force if its content changed; any change rescreens every customer
(only the changed entries, where that is equivalent) and hands the engine the new version's
crypto addresses. A failed download or a malformed publication is logged and changes nothing:
the version in force stays, and the next pass tries again. A publication the guard refuses (no
entries, or removing more than MAX_REMOVED_PERCENT of the version in force) is never forced by
the schedule: it is logged as an error and reported as "refused" until an operator forces it
(`bourse lists load SOURCE --force --reason`, or this refresh through the admin API with
`force` and a reason) or a later publication passes.
"""

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from anyio import from_thread
from starlette.concurrency import run_in_threadpool

from bourse.compliance.sanctions.entries import ListFormatError
from bourse.compliance.sanctions.versions import (
    Forcing,
    ListShrinkRefused,
    ListSourceError,
    ListStore,
    Shrink,
)
from bourse.server.service import GatewayService
from bourse.workers.bank_screening import rescreen_everyone
from bourse.workers.list_fetch import OFFICIAL_URLS, fetch_and_load
from bourse.workers.list_forcing import decide_forcing, loaded_ms
from bourse.workers.rescreen import RescreenReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refreshed:
    source: str
    status: str  # "loaded", "unchanged", "refused" (by the guard) or "failed"
    detail: str  # the version's hash, or what went wrong

    def json(self) -> dict[str, Any]:
        return {"source": self.source, "status": self.status, "detail": self.detail}


class ListRefresher:
    def __init__(
        self,
        service: GatewayService,
        every_s: float,
        urls: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.service = service
        self.every_s = every_s
        self.urls = {source: tuple(default) for source, default in OFFICIAL_URLS.items()}
        self.urls.update({source: tuple(given) for source, given in (urls or {}).items()})
        self.last: list[Refreshed] = []
        self.last_rescreen: RescreenReport | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def forcing(self, actor: str, reason: str) -> Forcing:
        """An operator's decision to force a refused version, journaled through the service
        from the worker thread the load runs in."""

        def journal(shrink: Shrink) -> int:
            cmd = shrink.command(actor, reason, self.service.clock())
            since = loaded_ms(ListStore(self.service.data_dir), shrink.source)
            return from_thread.run(decide_forcing, self.service, cmd, since)

        return Forcing(actor=actor, reason=reason, journal=journal)

    async def refresh(
        self, force: Collection[str] = (), actor: str = "", reason: str = ""
    ) -> list[Refreshed]:
        """One pass over every list; rescreens when any changed. The sources in `force` are put
        in force even if the guard refuses them, `actor` and `reason` journaled first."""
        store = ListStore(self.service.data_dir)
        forcing = self.forcing(actor, reason) if force else None
        results = []
        for source, urls in self.urls.items():
            forced = forcing if source in force else None
            try:
                loaded = await run_in_threadpool(
                    partial(fetch_and_load, store, source, urls, force=forced)
                )
            except ListShrinkRefused as exc:
                log.error(
                    "list refresh: %s REFUSED, the version in force stays: %s. If the list "
                    "really shrank: bourse lists load %s --force --reason '...'",
                    source,
                    exc.shrink.text(),
                    source,
                )
                results.append(Refreshed(source, "refused", str(exc)))
                continue
            except (ListSourceError, ListFormatError, OSError) as exc:
                log.warning("list refresh: %s kept as it was: %s", source, exc)
                results.append(Refreshed(source, "failed", str(exc)))
                continue
            sha = loaded.version.content_sha256
            status = "unchanged" if loaded.already_current else "loaded"
            if status == "loaded":
                how = f" (forced by {actor}: {reason})" if forced else ""
                log.info("list refresh: %s %s put in force%s", source, sha[:12], how)
            results.append(Refreshed(source, status, sha))
        self.last = results
        if any(r.status == "loaded" for r in results):
            self.last_rescreen = await rescreen_everyone(self.service)
        return results

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # one bad pass must not end the schedule
                log.exception("list refresh failed")
            await asyncio.sleep(self.every_s)
