"""Who writes a journal stream: a lease in a JetStream key-value bucket, renewed by compare-and-set.

The writer renews the key `writer` every `lease_s / 4` seconds, each time citing the revision it
last wrote, so a renewal fails at once if anyone else wrote the key in between. An engine that
finds the key renewed within `lease_s` (watched for that long by its own clock: the machines'
clocks are never compared) is refused as a second writer; one that finds it unchanged for that
long takes it over by the same compare-and-set, so of two standbys only one wins.

The lease decides who may try to write; what keeps the stream safe is the stream itself: every
record is appended citing the sequence and message id of the record before it (`nats_journal`),
so a writer whose lease ran out while it was cut off cannot append after its successor's first
record, even with records already on their way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from bourse.journal.base import JournalFenced, WriterActive
from bourse.journal.nats_address import NatsAddress

KEY = "writer"
LEASE_S = 3.0  # a writer silent this long is taken for dead


@dataclass
class Holder:
    node: str
    revision: int  # the key's revision: the writer's epoch, unique and increasing
    taken_over: bool  # taken from a writer that stopped renewing (not free, nor its own)


async def bucket(js: JetStreamContext, address: NatsAddress) -> KeyValue:
    try:
        return await js.key_value(address.lease_bucket)
    except BucketNotFoundError:
        return await js.create_key_value(
            bucket=address.lease_bucket, history=1, replicas=address.replicas
        )


def _value(node: str) -> bytes:
    return json.dumps({"node": node, "renewed_ms": time.time_ns() // 1_000_000}).encode()


def holder_of(value: bytes | None) -> str:
    try:
        node: str = json.loads(value or b"{}")["node"]
        return node
    except (ValueError, KeyError, TypeError):
        return "an unknown engine"


async def current(kv: KeyValue) -> tuple[int, str] | None:
    """The lease's revision and holder, or None if nobody holds it."""
    try:
        entry = await kv.get(KEY)
    except KeyNotFoundError:  # never taken, or given back (deleted)
        return None
    if entry.operation is not None and entry.operation != "PUT":
        return None
    return entry.revision or 0, holder_of(entry.value)


async def acquire(kv: KeyValue, node: str, lease_s: float, *, wait: bool) -> Holder:
    """Take the lease for `node`: at once if it is free or `node`'s own; after `lease_s`
    without a renewal otherwise. With `wait` False (a writer starting), a renewal seen meanwhile
    is a WriterActive; with `wait` True (a standby), it keeps watching until it can take over."""
    while True:
        found = await current(kv)
        if found is None:
            try:
                return Holder(node, await kv.create(KEY, _value(node)), taken_over=False)
            except KeyWrongLastSequenceError:
                continue  # someone took it just now: look again
        revision, holder = found
        if holder == node:  # this engine restarting: its own lease
            return Holder(node, await kv.update(KEY, _value(node), last=revision), False)
        renewed = await _renewed_within(kv, revision, lease_s)
        if renewed == "":  # given back meanwhile: free
            continue
        if renewed is not None:
            if not wait:
                raise WriterActive(
                    f"engine {renewed} writes this journal and renewed its lease within the "
                    f"last {lease_s:g} s: start this one with --standby to take over when it stops"
                )
            continue
        try:
            taken = await kv.update(KEY, _value(node), last=revision)
        except KeyWrongLastSequenceError:
            continue  # another standby was quicker, or the writer came back: look again
        return Holder(node, taken, taken_over=True)


async def _renewed_within(kv: KeyValue, revision: int, lease_s: float) -> str | None:
    """Who renewed the lease past `revision` within `lease_s` by this machine's clock (None:
    nobody did; "": it was given back)."""
    deadline = time.monotonic() + lease_s
    while time.monotonic() < deadline:
        await asyncio.sleep(min(lease_s / 6, max(0.0, deadline - time.monotonic())))
        found = await current(kv)
        if found is None or found[0] != revision:
            return "" if found is None else found[1]
    return None


async def renew(kv: KeyValue, holder: Holder) -> None:
    """Renew once; JournalFenced if another engine wrote the key since (it took over)."""
    try:
        holder.revision = await kv.update(KEY, _value(holder.node), last=holder.revision)
    except KeyWrongLastSequenceError:
        found = await current(kv)
        who = "nobody" if found is None else found[1]
        raise JournalFenced(
            f"this engine ({holder.node}) lost the writer lease: {who} holds it now"
        ) from None


async def give_back(kv: KeyValue, holder: Holder) -> None:
    """Delete the lease on a clean stop, so the next writer need not wait it out."""
    with contextlib.suppress(KeyWrongLastSequenceError):  # not ours any more
        await kv.delete(KEY, last=holder.revision)
