"""Signed tree heads published on a NATS subject, beside the append-only `heads.jsonl`, so that a
third party (a regulator, a monitor) can keep every head as it is signed: subscribe, or capture
the subject in a JetStream stream of their own.

The file is the record; NATS is a courtesy. A head that cannot be published (NATS down) is
logged and left in the file, and publishing resumes once NATS answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)
SUBJECT = "bourse.audit.heads"
TIMEOUT_S = 5.0


class HeadPublisher:
    """Publishes heads to `url` (nats://host:port) on `subject`, from any thread."""

    def __init__(self, url: str, subject: str = SUBJECT) -> None:
        self.url = url
        self.subject = subject
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="bourse-heads", daemon=True
        )
        self._thread.start()
        self._nc: Any = None

    async def _connected(self) -> Any:
        import nats

        if self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(
                self.url, connect_timeout=TIMEOUT_S, max_reconnect_attempts=1, allow_reconnect=True
            )
        return self._nc

    async def _publish(self, data: bytes) -> None:
        nc = await self._connected()
        await nc.publish(self.subject, data)
        await nc.flush(timeout=TIMEOUT_S)

    def __call__(self, head: dict[str, Any]) -> None:
        data = json.dumps(head, sort_keys=True).encode()
        future = asyncio.run_coroutine_threadsafe(self._publish(data), self._loop)
        try:
            future.result(TIMEOUT_S * 2)
        except Exception as exc:
            log.warning("tree head %s not published on %s: %r", head["tree_size"], self.url, exc)
            self._nc = None

    def close(self) -> None:
        async def drain() -> None:
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(drain(), self._loop).result(TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()
