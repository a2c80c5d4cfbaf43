"""Reading a journal stream on NATS JetStream in seq order: an ordered consumer from a seq, and
the next records it delivers (for a replay, which must get every one up to a seq it knows is
there, and for a follower, which takes what has come)."""

from __future__ import annotations

from nats.js import JetStreamContext, api

from bourse.journal.base import JournalCorrupted, JournalUnavailable

READ_CHUNK = 4096
REPLAY_WAIT_S = 10.0  # a record known to be there and not delivered within this: an error


async def subscribe_from(
    js: JetStreamContext, subject: str, seq: int
) -> JetStreamContext.PushSubscription:
    return await js.subscribe(
        subject,
        ordered_consumer=True,
        deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
        config=api.ConsumerConfig(opt_start_seq=seq),
    )


async def next_records(
    sub: JetStreamContext.PushSubscription,
    seq: int,
    stream: str,
    *,
    limit: int | None = None,
    wait_s: float | None = None,
) -> list[tuple[int, bytes]]:
    """Records `seq`, `seq + 1`, … as delivered, at most a chunk and none past `limit`. With
    `wait_s`, what came within it for the first (then what is there already); without, each one
    must come (JournalUnavailable if it does not: a replay of records known to be durable)."""
    out: list[tuple[int, bytes]] = []
    while len(out) < READ_CHUNK and (limit is None or seq <= limit):
        try:
            if wait_s is None:
                msg = await sub.next_msg(timeout=REPLAY_WAIT_S)
            else:
                msg = await sub.next_msg(timeout=wait_s if not out else 0.001)
        except TimeoutError:
            if wait_s is not None:
                return out
            raise JournalUnavailable(
                f"reading journal stream {stream} at seq {seq} timed out"
            ) from None
        got = msg.metadata.sequence.stream
        if got < seq:
            continue  # a redelivery after the ordered consumer reset
        if got != seq:
            raise JournalCorrupted(f"journal stream {stream} has no record seq {seq} (next: {got})")
        out.append((got, msg.data))
        seq += 1
    return out
