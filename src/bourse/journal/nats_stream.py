"""A journal's stream on NATS JetStream: made as the journal needs it (file storage, the
replicas its URL asks for, a duplicate window for records sent again), recognised as a journal
when it exists, and deleted with its lease bucket (a bench's own, when it is done)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from bourse.journal.base import JournalError
from bourse.journal.nats_address import NatsAddress

log = logging.getLogger(__name__)
DUPLICATE_WINDOW_S = 120.0  # a record sent again within this is recognised, not stored twice


async def journal_stream(
    js: JetStreamContext, address: NatsAddress, *, create: bool
) -> api.StreamInfo:
    """The stream of `address`, made if missing and `create`; JournalError if it is missing
    (and not to be made) or carries anything besides the journal's subject."""
    try:
        info = await js.stream_info(address.stream)
    except NotFoundError:
        if not create:
            raise JournalError(f"no journal stream {address.stream} on NATS") from None
        info = await js.add_stream(
            name=address.stream,
            subjects=[address.subject],
            storage=api.StorageType.FILE,
            num_replicas=address.replicas,
            duplicate_window=DUPLICATE_WINDOW_S,
            retention=api.RetentionPolicy.LIMITS,
            discard=api.DiscardPolicy.NEW,
            allow_direct=True,
        )
        log.info("journal: created stream %s (R%d)", address.stream, address.replicas)
    subjects = info.config.subjects or []
    if subjects != [address.subject]:
        raise JournalError(
            f"stream {address.stream} carries {subjects}, not only {address.subject}: "
            "it is not a bourse journal (or another one's)"
        )
    return info


def delete_journal(address: NatsAddress) -> None:
    """Delete a journal's stream and its lease bucket."""

    async def delete() -> None:
        nc = await nats.connect(servers=list(address.servers), allow_reconnect=False)
        js = nc.jetstream()
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(address.stream)
        with contextlib.suppress(NotFoundError):
            await js.delete_key_value(address.lease_bucket)
        await nc.close()

    asyncio.run(delete())
