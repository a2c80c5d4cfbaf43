"""A journal stream on NATS JetStream, message by message: how records are packed into messages,
and reading the records back in seq order (a replay, which must get every record up to a seq it
knows is there, and a follower, which takes what has come).

A message holds a run of consecutive records (a group commit's): header `Bourse-Seq` is the
seq of its first, the body a msgpack array of their payloads. So the stream's message numbers
are not the records' seqs; a record is found by binary search on that header (messages only
ever hold ascending runs). A message without the header holds one record whose seq is its
message number: what the journal wrote before it packed records (every message then held one
record), so such a stream reads and continues as it was.
"""

from __future__ import annotations

import collections
from typing import Any

import msgspec
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from bourse.journal.base import JournalCorrupted, JournalUnavailable
from bourse.journal.nats_address import NatsAddress

FIRST_SEQ = "Bourse-Seq"
PACK_RECORDS = 1024  # records in one message at most
READ_CHUNK = 4096  # records a read returns at most (whole messages: it may pass it by one)
REPLAY_WAIT_S = 10.0  # a record known to be there and not delivered within this: an error

_records = msgspec.msgpack.Decoder(list[bytes])
_encode = msgspec.msgpack.Encoder().encode


def pack(first_seq: int, payloads: list[bytes]) -> tuple[dict[str, str], bytes]:
    """The headers and body of the message holding records `first_seq`, `first_seq + 1`, …"""
    return {FIRST_SEQ: str(first_seq)}, _encode(payloads)


def pack_end(batch: list[bytes], start: int, max_bytes: int) -> int:
    """Where the message of `batch[start:]` ends: at most PACK_RECORDS records and `max_bytes`
    of payload (one record at least, whatever its size)."""
    size, end, stop = 0, start, min(len(batch), start + PACK_RECORDS)
    while end < stop:
        size += len(batch[end])
        if size > max_bytes and end > start:
            break
        end += 1
    return end


def first_seq(number: int, headers: dict[str, str] | None) -> int:
    """The seq of the first record of message `number`."""
    value = (headers or {}).get(FIRST_SEQ)
    return number if value is None else int(value)


def unpack(number: int, headers: dict[str, str] | None, data: bytes) -> tuple[int, list[bytes]]:
    """The seq of the first record of message `number`, and the records' payloads."""
    if not headers or FIRST_SEQ not in headers:
        return number, [data]
    return int(headers[FIRST_SEQ]), _records.decode(data)


async def last_record(js: JetStreamContext, address: NatsAddress) -> tuple[int, int]:
    """The stream's last message number and the seq of the last record in it ((0, 0): empty)."""
    try:
        raw = await js.get_last_msg(address.stream, address.subject)
    except NotFoundError:
        return 0, 0
    number = int(raw.seq or 0)
    first, payloads = unpack(number, raw.headers, raw.data or b"")
    return number, first + len(payloads) - 1


async def message_holding(js: JetStreamContext, address: NatsAddress, seq: int) -> int:
    """The number of the message that holds record `seq`, or of the next message to come if
    the stream does not hold it yet."""
    last_number, last_seq = await last_record(js, address)
    if seq > last_seq:
        return last_number + 1

    async def first(number: int) -> int:
        raw = await js.get_msg(address.stream, seq=number)
        return first_seq(number, raw.headers)

    # message `number` holds records from at least `number` on, so record `seq` is in 1..seq
    lo, hi = 1, min(seq, last_number)
    if await first(hi) <= seq:
        return hi  # unpacked up to here: the usual answer
    while lo < hi:  # the last message whose first record is at or before seq
        mid = (lo + hi + 1) // 2
        if await first(mid) <= seq:
            lo = mid
        else:
            hi = mid - 1
    return lo


class RecordReader:
    """Records `seq`, `seq + 1`, … of a journal stream as its messages are delivered (an
    ordered consumer from the message holding `seq`)."""

    def __init__(self, js: JetStreamContext, address: NatsAddress) -> None:
        self.js = js
        self.address = address
        self.next_seq = 0
        self._sub: Any = None
        self._number = 0  # the next message expected
        self._started = False  # its first message may begin before next_seq; no other may
        self._pending: collections.deque[tuple[int, bytes]] = collections.deque()

    async def start(self, seq: int) -> None:
        await self.close()
        self.next_seq = seq
        self._started = True
        self._number = await message_holding(self.js, self.address, seq)
        self._sub = await self.js.subscribe(
            self.address.subject,
            ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            config=api.ConsumerConfig(opt_start_seq=self._number),
        )

    async def read(
        self, *, limit: int | None = None, wait_s: float | None = None
    ) -> list[tuple[int, bytes]]:
        """The next records, about a chunk and none past `limit`. With `wait_s`, what came
        within it for the first (then what is there already); without, each one must come
        (JournalUnavailable if it does not: a replay of records known to be durable)."""
        out: list[tuple[int, bytes]] = []
        stream = self.address.stream
        while len(out) < READ_CHUNK and (limit is None or self.next_seq <= limit):
            if not self._pending:
                try:
                    wait = REPLAY_WAIT_S if wait_s is None else (wait_s if not out else 0.001)
                    msg = await self._sub.next_msg(timeout=wait)
                except TimeoutError:
                    if wait_s is not None:
                        return out
                    raise JournalUnavailable(
                        f"reading journal stream {stream} at seq {self.next_seq} timed out"
                    ) from None
                number = msg.metadata.sequence.stream
                if number < self._number:
                    continue  # a redelivery after the ordered consumer reset
                first, payloads = unpack(number, msg.headers, msg.data)
                skip = self.next_seq - first  # > 0: the reading started inside this message
                if number != self._number or not (
                    skip == 0 or (0 < skip < len(payloads) and self._started)
                ):
                    raise JournalCorrupted(
                        f"journal stream {stream} has no record seq {self.next_seq} where "
                        f"expected (message {number} holds {first}..{first + len(payloads) - 1})"
                    )
                self._number += 1
                self._started = False
                seqs = range(self.next_seq, first + len(payloads))
                self._pending.extend(zip(seqs, payloads[skip:], strict=True))
                continue
            record = self._pending.popleft()
            out.append(record)
            self.next_seq = record[0] + 1
        return out

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        self._pending.clear()
        if sub is not None:
            await sub.unsubscribe()
