"""Fan-out of stream messages to WebSocket subscribers that never waits for one of them.

A message is encoded and framed once per stream (and once more, wrapped as {"stream","data"}, for
combined connections) and the same frame appended to each subscriber's queue. Once the loop is
done with what it is publishing, each subscriber's queue is written to its socket in one write
(`streams.wire`) if the socket takes it; otherwise (and without the direct path) the
connection's writer task sends it when it can. A subscriber whose queue reaches its limit is cut
off at once, with the reason, instead of holding messages (or matching) back for everyone else.
"""

import asyncio
from collections import deque

import msgspec

from bourse.streams.names import Stream
from bourse.streams.wire import DirectLink, text_frame

DEFAULT_QUEUE_LIMIT = 5000  # messages waiting for one subscriber before it is cut off
SLOW = 1008  # WebSocket close code "policy violation": used for a subscriber that stopped reading
CLOSE = "\x00"  # starts a queue entry that closes the connection after what came before it
_encode = msgspec.json.Encoder().encode


class Subscriber:
    def __init__(self, combined: bool, limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self.combined = combined
        self.limit = limit
        self.streams: dict[str, Stream] = {}
        self.queue: deque[str | bytes] = deque()  # texts, or frames made by the hub
        self.ready = asyncio.Event()
        self.cut_reason = ""  # set once: the connection is closed with it
        self.tasks: list[asyncio.Task[None]] = []  # the connection's writer and reader
        self.link: DirectLink | None = None  # set by the writer where the direct path exists

    def offer(self, text: str) -> bool:
        return self.put(text)

    def put(self, entry: str | bytes, wake: bool = True) -> bool:
        """Queue a text or a frame made by the hub; False (and cut off) if the queue is full.
        The hub queues without waking the writer: it writes when it flushes."""
        if self.cut_reason:
            return False
        if len(self.queue) >= self.limit:
            self.cut(f"slow consumer: {len(self.queue)} messages not read")
            return False
        self.queue.append(entry)
        if wake:
            self.ready.set()
        return True

    def write_now(self) -> bool:
        """Write what is queued, up to an entry that closes the connection, to the direct link in
        one write. False if the connection is closing (nothing more may be written)."""
        assert self.link is not None
        queue, frames = self.queue, []
        while queue:
            entry = queue[0]
            if isinstance(entry, str):
                if entry.startswith(CLOSE):
                    break
                entry = text_frame(entry.encode())
            frames.append(entry)
            queue.popleft()
        return not frames or self.link.write(b"".join(frames))

    def cut(self, reason: str) -> None:
        if not self.cut_reason:
            self.cut_reason = reason
            self.queue.clear()
            self.ready.set()
            current = asyncio.current_task()
            for task in self.tasks:  # the writer may be blocked in a send never read
                if task is not current:  # a reader cutting itself off just returns
                    task.cancel()


class Hub:
    def __init__(self) -> None:
        self._by_name: dict[str, set[Subscriber]] = {}
        self.streams: dict[str, Stream] = {}  # every stream someone subscribes to
        self.cut_off = 0  # subscribers cut off for not reading, since start
        self._unflushed: set[Subscriber] = set()
        self._flush_due = False

    def add(self, sub: Subscriber, stream: Stream) -> None:
        sub.streams[stream.name] = stream
        self._by_name.setdefault(stream.name, set()).add(sub)
        self.streams[stream.name] = stream

    def remove(self, sub: Subscriber, name: str) -> None:
        sub.streams.pop(name, None)
        subs = self._by_name.get(name)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_name[name]
                del self.streams[name]

    def drop(self, sub: Subscriber) -> None:
        for name in list(sub.streams):
            self.remove(sub, name)

    def counts(self) -> dict[str, int]:
        return {name: len(subs) for name, subs in self._by_name.items()}

    def queues(self) -> list[int]:
        """How many messages wait for each subscriber (for /metrics)."""
        subs = {sub for group in self._by_name.values() for sub in group}
        return [len(sub.queue) for sub in subs]

    def publish(self, name: str, payload: object) -> None:
        subs = self._by_name.get(name)
        if not subs:
            return
        raw = _encode(payload)
        frame = wrapped = b""
        for sub in list(subs):
            if sub.combined:
                wrapped = wrapped or text_frame(b'{"stream":%b,"data":%b}' % (_encode(name), raw))
                sent = sub.put(wrapped, wake=False)
            else:
                frame = frame or text_frame(raw)
                sent = sub.put(frame, wake=False)
            if sent:
                self._unflushed.add(sub)
            else:
                self.cut_off += 1
                self.drop(sub)
        if not self._flush_due:
            self._flush_due = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop running: nothing to wait for
                self.flush()

    def flush(self) -> None:
        """Write what was published since the last flush: straight to each socket that takes it
        now, else by waking the connection's writer."""
        self._flush_due = False
        unflushed, self._unflushed = self._unflushed, set()
        for sub in unflushed:
            link = sub.link
            if link is None or not link.writable or not sub.write_now() or sub.queue:
                sub.ready.set()
