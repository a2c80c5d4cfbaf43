"""The scheduled refresh that keeps the sanctions lists current while the exchange runs.

At start and then every interval, each list is downloaded from its URLs (official by default,
or a mirror's) and put in force if its content changed; any change rescreens every customer
(only the changed entries, where that is equivalent) and hands the engine the new version's
crypto addresses. A failed download or a malformed publication is logged and changes nothing:
the version in force stays, and the next pass tries again.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from bourse.compliance.sanctions.entries import ListFormatError
from bourse.runtime.list_fetch import OFFICIAL_URLS, fetch_and_load
from bourse.runtime.rescreen import RescreenReport, screen_customers
from bourse.runtime.sanctions_lists import ListSourceError, ListStore
from bourse.runtime.service import Service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refreshed:
    source: str
    status: str  # "loaded", "unchanged" or "failed"
    detail: str  # the version's hash, or what went wrong

    def json(self) -> dict[str, Any]:
        return {"source": self.source, "status": self.status, "detail": self.detail}


class ListRefresher:
    def __init__(
        self,
        service: Service,
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

    async def refresh(self) -> list[Refreshed]:
        """One pass over every list; rescreens when any changed."""
        store = ListStore(self.service.exchange.data_dir.path)
        results = []
        for source, urls in self.urls.items():
            try:
                loaded = await run_in_threadpool(fetch_and_load, store, source, urls)
            except (ListSourceError, ListFormatError, OSError) as exc:
                log.warning("list refresh: %s kept as it was: %s", source, exc)
                results.append(Refreshed(source, "failed", str(exc)))
                continue
            sha = loaded.version.content_sha256
            status = "unchanged" if loaded.already_current else "loaded"
            if status == "loaded":
                log.info("list refresh: %s %s put in force", source, sha[:12])
            results.append(Refreshed(source, status, sha))
        self.last = results
        if any(r.status == "loaded" for r in results):
            self.last_rescreen = await screen_customers(self.service)
        return results

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # one bad pass must not end the schedule
                log.exception("list refresh failed")
            await asyncio.sleep(self.every_s)
