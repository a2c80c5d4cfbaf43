"""The journal on a NATS JetStream stream: one fenced writer, acknowledged once JetStream has it.

Commands are messages on `bourse.journal.<STREAM>`, each message a run of consecutive records
(what was buffered when it was sent, see `nats_reading`); the stream holds nothing else, so its
message numbers count from 1 without gaps too. A record is durable when JetStream acknowledges
its message: stored, and on a replicated stream (R3) copied to a majority of its servers.

Fencing. Each message is published citing the message before it: `Nats-Expected-Last-Sequence`
(its number - 1) and, after this writer's first message, `Nats-Expected-Last-Msg-Id` (this
writer's id for the one before). Ids are `<epoch>:<number>`, the epoch being the revision of the
writer's lease (`nats_lease`), so they differ between writers. JetStream refuses a message whose
expectation does not hold and stores nothing, so of two writers only the one whose messages
follow each other gets in. A writer's first message cites the sequence only (a server restarted
before 2.12 may have forgotten the last id); it is sent alone, once the stream's last message
has been read and found to be this writer's or the one it took over from.

Group commit: `append` only buffers; the loop thread packs what is buffered into a message (a
burst costs JetStream's per-message work, and on R3 its replication round, once) and publishes
it, up to IN_FLIGHT at once on one reply inbox; acknowledgements advance `durable_seq` in order.
A message not acknowledged within `ack_timeout_s` is sent again with the same id (JetStream's
duplicate window turns a copy it has into an acknowledgement); one refused for its expectation
makes the writer read the stream: its own messages there count as acknowledged, anyone else's
fence it (`JournalFenced`: nothing it appended after that is recorded).

Threading: the NATS client runs on an event loop in a thread of its own; `append` is called from
the engine's thread, the durable listener from the loop's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import msgspec
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoServersError
from nats.js import JetStreamContext

from bourse.journal import nats_lease
from bourse.journal.base import (
    JournalClosed,
    JournalCorrupted,
    JournalError,
    JournalFenced,
    JournalUnavailable,
)
from bourse.journal.nats_address import NatsAddress, node_name, parse_nats_url
from bourse.journal.nats_reading import RecordReader, first_seq, last_record, pack, pack_end
from bourse.journal.nats_stream import journal_stream

if TYPE_CHECKING:
    from bourse.journal.base import Journal

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MSG_ID = "Nats-Msg-Id"
EXPECTED_SEQ = "Nats-Expected-Last-Sequence"
EXPECTED_ID = "Nats-Expected-Last-Msg-Id"
WRONG_LAST_SEQ, WRONG_LAST_ID = 10071, 10070
ACK_TIMEOUT_S = 2.0
IN_FLIGHT = 2  # messages sent and not yet acknowledged, at most
# The client's thread wakes for every acknowledgement and publish. At the file journal's 0.1 ms
# it took the GIL from a busy engine so often that sequencing ran at half speed (bench journal,
# R3: 21,600 commands/s at 0.1 ms, 32,800 at 1 ms, 39,000 at 2 ms); 2 ms is also the longest an
# acknowledgement waits behind the engine, against a p99 target of 10 ms.
SWITCH_INTERVAL_S = 0.002
PACK_BYTES = 256 * 1024  # a message's payloads' bytes at most (or half the max_payload)


class _Ack(msgspec.Struct):
    seq: int = 0
    duplicate: bool = False
    error: dict[str, Any] | None = None


_acks = msgspec.json.Decoder(_Ack)


class _Sent(msgspec.Struct):
    """A message published and not yet acknowledged: records up to `last_seq`."""

    last_seq: int
    headers: dict[str, str]
    body: bytes
    sent_at: float


class NatsJournal:
    """The journal of stream `url` (`nats://host:port[,host:port...]/STREAM[?replicas=3]`).

    As writer (the default) it takes the stream's writer lease first: WriterActive if an engine
    that is alive holds it. `writer=False` opens it for reading only (replay, followers).
    `create`: make the stream if it is missing (default: as a writer does)."""

    def __init__(
        self,
        url: str | NatsAddress,
        *,
        writer: bool = True,
        create: bool | None = None,
        node: str | None = None,
        lease_s: float = nats_lease.LEASE_S,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.address = parse_nats_url(url) if isinstance(url, str) else url
        self.node = node or node_name()
        self.lease_s = lease_s
        self.ack_timeout_s = ack_timeout_s
        self.truncated_bytes = 0  # what FileJournal reports of a torn tail: never, here
        self.switch_interval_s = SWITCH_INTERVAL_S
        self.taken_over_from: str | None = None  # the writer whose expired lease this one took
        self._writer = writer
        self._create = writer if create is None else create
        self._lock = threading.Lock()
        self._durable_cond = threading.Condition(self._lock)
        self._buf: list[bytes] = []
        self._scheduled = False
        self._last_seq = 0
        self._durable_seq = 0
        self._notified_seq = 0
        self._error: BaseException | None = None
        self._closed = False
        self._listener: Callable[[int], None] | None = None
        self._failure_listener: Callable[[BaseException], None] | None = None
        # loop-thread state: records by seq, messages by their number in the stream
        self._sent_seq = 0
        self._sent_no = 0
        self._durable_no = 0
        self._unacked: dict[int, _Sent] = {}
        self._acked: dict[int, int] = {}  # acknowledged ahead of an earlier one: its last seq
        self._first_no = 1  # this writer's first message: it cites the sequence only
        self._pack_bytes = PACK_BYTES
        self._resyncing = False
        self._holding = False
        self._notifying = False
        self._connected = False
        self._lease_lapsed = False
        self._holder: nats_lease.Holder | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="bourse-journal-nats", daemon=True
        )
        self._thread.start()
        try:
            self._run(self._open(connect_timeout_s), timeout=None)
        except BaseException:
            self._closed = True  # its disconnection is no outage to report
            self._stop_loop()
            raise

    # -- set-up -----------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = 30.0) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _connect(self, connect_timeout_s: float) -> Client:
        return await nats.connect(
            servers=list(self.address.servers),
            connect_timeout=connect_timeout_s,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            error_cb=self._on_error,
            name=f"bourse-journal {self.node}",
        )

    async def _open(self, connect_timeout_s: float) -> None:
        address = self.address
        try:
            # the client would keep trying a server that is not there: bound the first attempt
            self._nc = await asyncio.wait_for(self._connect(connect_timeout_s), connect_timeout_s)
        except (NoServersError, OSError, TimeoutError) as exc:
            raise JournalUnavailable(
                f"cannot reach NATS at {', '.join(address.servers)} for journal stream "
                f"{address.stream}: {str(exc) or type(exc).__name__}"
            ) from None
        self._connected = True
        self._js: JetStreamContext = self._nc.jetstream(timeout=10.0)
        info = await journal_stream(self._js, self.address, create=self._create)
        state = info.state
        if state.messages != state.last_seq or (state.messages and state.first_seq != 1):
            raise JournalCorrupted(
                f"journal stream {address.stream} holds {state.messages} messages numbered "
                f"{state.first_seq}..{state.last_seq}: messages were removed from it, and "
                "with them commands"
            )
        if self._writer:  # the lease first: the stream's end is read once nobody else writes
            self._kv = await nats_lease.bucket(self._js, address)
            holder = await nats_lease.acquire(self._kv, self.node, self.lease_s, wait=False)
            self._hold(holder)
        await self._read_end()
        if self._writer:
            await self._start_writing()

    async def _read_end(self) -> int:
        """Take the stream's end as this journal's: its last message and record (returned)."""
        number, last = await last_record(self._js, self.address)
        with self._lock:
            self._last_seq = self._durable_seq = self._notified_seq = last
        self._sent_seq = last
        self._sent_no = self._durable_no = number
        self._first_no = number + 1
        return last

    def _hold(self, holder: nats_lease.Holder) -> None:
        """Keep the lease from now on (renewed by `_heartbeat`)."""
        self._holder = holder
        self._epoch = holder.revision
        self._tasks.append(asyncio.ensure_future(self._heartbeat()))
        self._tasks[-1].set_name("lease")
        if holder.taken_over:
            self.taken_over_from = "an engine that stopped renewing its lease"

    async def _start_writing(self) -> None:
        self._writer = True
        self._pack_bytes = min(PACK_BYTES, self._nc.max_payload // 2)
        self._inbox = self._nc.new_inbox()
        await self._nc.subscribe(self._inbox + ".*", cb=self._on_ack)
        self._wake = asyncio.Event()
        self._first_done = asyncio.Event()  # set as durable_seq advances (see _first_acknowledged)
        for job in (self._publisher(), self._resender()):
            self._tasks.append(asyncio.ensure_future(job))
        log.info(
            "journal: %s writes stream %s from seq %d (epoch %d)",
            self.node,
            self.address.stream,
            self._sent_seq + 1,
            self._epoch,
        )

    async def _on_disconnected(self) -> None:
        self._connected = False
        if not self._closed:
            log.warning("journal: lost NATS; records wait until it is back")

    async def _on_reconnected(self) -> None:
        self._connected = True
        log.info("journal: NATS is back")

    async def _on_error(self, exc: Exception) -> None:
        log.debug("journal: NATS client error: %r", exc)  # a reconnect's every try

    # -- the engine's side ------------------------------------------------------------

    def append(self, seq: int, payload: bytes) -> None:
        lock = self._lock
        lock.acquire()
        try:
            if (
                seq != self._last_seq + 1
                or self._error is not None
                or self._closed
                or not self._writer
            ):
                self._reject(seq)
            self._buf.append(payload)
            self._last_seq = seq
            wake = not self._scheduled
            self._scheduled = True
        finally:
            lock.release()
        if wake:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _reject(self, seq: int) -> NoReturn:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise JournalClosed("journal is closed")
        if not self._writer:
            raise JournalError("this journal was opened for reading only")
        raise ValueError(
            f"journal append out of sequence: got seq {seq}, expected {self._last_seq + 1}"
        )

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        return self._durable_seq

    def set_durable_listener(self, fn: Callable[[int], None]) -> None:
        self._listener = fn

    def set_failure_listener(self, fn: Callable[[BaseException], None]) -> None:
        """`fn(error)` once, on the loop's thread, when the journal stops for good (fenced)."""
        self._failure_listener = fn

    def unavailable(self) -> str | None:
        """Why a command would not be made durable now (None: it would): checked before a
        command is sequenced, so a refusal leaves nothing half done."""
        if self._error is not None:
            return str(self._error)
        if not self._connected:
            return f"the journal's NATS server ({self.address}) is unreachable"
        if self._lease_lapsed:
            return "this engine could not renew its writer lease on NATS"
        oldest = self._unacked.get(self._durable_no + 1)
        if oldest is not None and time.monotonic() - oldest.sent_at > self.ack_timeout_s:
            return f"NATS has not acknowledged the journal's records for {self.ack_timeout_s:g} s"
        return None

    def flush(self) -> int:
        if threading.current_thread() is self._thread:
            raise RuntimeError("flush() called from the journal's own thread would deadlock")
        with self._lock:
            target = self._last_seq
            while self._notified_seq < target and self._error is None:
                self._durable_cond.wait()
            if self._error is not None and self._notified_seq < target:
                raise self._error
            return self._durable_seq

    # -- publishing (loop thread) -----------------------------------------------------

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._resyncing or self._holding:
                continue  # the resync sends what waits once it is done
            if len(self._unacked) >= IN_FLIGHT:
                continue  # an acknowledgement wakes it: meanwhile the next message grows
            with self._lock:
                batch, self._buf = self._buf, []
                self._scheduled = False
            start = 0
            while start < len(batch):
                end = pack_end(batch, start, self._pack_bytes)
                number = self._sent_no + 1
                headers, body = pack(self._sent_seq + 1, batch[start:end])
                self._sent_seq += end - start
                self._sent_no = number
                self._unacked[number] = _Sent(self._sent_seq, headers, body, time.monotonic())
                start = end
                try:
                    await self._send(number)
                except Exception as exc:  # disconnected, its buffer full: the resender sends it
                    log.debug("journal: sending message %d failed: %r", number, exc)
                if number == self._first_no:
                    # this writer's first message goes alone: the rest cite it by id, and must
                    # not reach the stream before it does
                    await self._first_acknowledged()

    async def _first_acknowledged(self) -> None:
        while self._durable_no < self._first_no and self._error is None:
            self._first_done.clear()
            await self._first_done.wait()

    async def _send(self, number: int) -> None:
        sent = self._unacked[number]
        headers = {**sent.headers, MSG_ID: f"{self._epoch}:{number}"}
        headers[EXPECTED_SEQ] = str(number - 1)
        if number != self._first_no:
            headers[EXPECTED_ID] = f"{self._epoch}:{number - 1}"
        await self._nc.publish(
            self.address.subject, sent.body, reply=f"{self._inbox}.{number}", headers=headers
        )

    async def _on_ack(self, msg: Msg) -> None:
        number = int(msg.subject.rpartition(".")[2])
        if number not in self._unacked:
            return  # a copy's answer, after the first one's
        if msg.headers and msg.headers.get("Status") == "503":
            return  # no stream leader right now: the resender sends it again
        try:
            ack = _acks.decode(msg.data)
        except msgspec.DecodeError:
            log.warning("journal: unreadable acknowledgement of message %d: %r", number, msg.data)
            return
        if ack.error is not None:
            code = ack.error.get("err_code")
            if code in (WRONG_LAST_SEQ, WRONG_LAST_ID):
                if not self._resyncing:
                    self._resyncing = True
                    self._tasks.append(asyncio.ensure_future(self._resync()))
                return
            self._fail(JournalError(f"NATS refused journal message {number}: {ack.error}"))
            return
        if ack.seq != number:
            self._fail(
                JournalCorrupted(
                    f"NATS stored journal message {number} as stream message {ack.seq}: the "
                    f"stream {self.address.stream} holds something besides this journal"
                )
            )
            return
        self._acknowledged(number)

    def _acknowledged(self, number: int) -> None:
        sent = self._unacked.pop(number, None)
        if sent is None:
            return
        acked = self._acked
        acked[number] = sent.last_seq
        if len(self._unacked) < IN_FLIGHT:
            self._wake.set()  # what was buffered meanwhile goes now, as one message
        if self._durable_no + 1 not in acked:
            return
        while self._durable_no + 1 in acked:
            self._durable_no += 1
            self._durable_seq = acked.pop(self._durable_no)
        self._first_done.set()
        if not self._notifying:  # once for every acknowledgement handled in this loop turn
            self._notifying = True
            self._loop.call_soon(self._notify)

    def _notify(self) -> None:
        self._notifying = False
        durable = self._durable_seq
        listener = self._listener
        if listener is not None:
            listener(durable)
        with self._lock:
            self._notified_seq = durable
            self._durable_cond.notify_all()

    async def _resender(self) -> None:
        """Send again what NATS has not answered in time (lost on the way, or in a reconnect)."""
        while True:
            await asyncio.sleep(min(0.25, self.ack_timeout_s / 4))
            if self._resyncing or not self._connected:
                continue
            oldest = self._unacked.get(self._durable_no + 1)
            if oldest is None or time.monotonic() - oldest.sent_at < self.ack_timeout_s:
                continue
            await self._send_again()

    async def _send_again(self) -> None:
        now = time.monotonic()
        for number in sorted(self._unacked):
            sent = self._unacked.get(number)
            if sent is None:
                continue  # acknowledged meanwhile
            sent.sent_at = now
            try:
                await self._send(number)
            except Exception as exc:  # disconnected meanwhile: the next round tries again
                log.warning("journal: sending message %d again failed: %r", number, exc)
                return

    async def _resync(self) -> None:
        """A message was refused for what it cited: read the stream past what is acknowledged;
        this writer's own messages there count as acknowledged, anyone else's fence it."""
        try:
            await asyncio.sleep(0.05)  # let the refusals of the same burst arrive
            info = await self._js.stream_info(self.address.stream)
            last = info.state.last_seq
            for number in range(self._durable_no + 1, last + 1):
                found = await self._js.get_msg(self.address.stream, seq=number)
                msg_id = (found.headers or {}).get(MSG_ID)
                if msg_id != f"{self._epoch}:{number}":
                    seq = first_seq(number, found.headers)
                    self._fail(
                        JournalFenced(
                            f"another engine wrote journal record seq {seq} (id {msg_id}): "
                            f"{self.node} no longer writes stream {self.address.stream}; its "
                            f"records from seq {seq} on were not recorded"
                        )
                    )
                    return
                self._acknowledged(number)
            # the stream ends with this writer's last acknowledged message: send the rest anew,
            # the first citing the sequence only (what the server may have forgotten is the id)
            self._first_no = last + 1
            pending = sorted(self._unacked)
            self._holding = True  # new records wait until these are on their way again
            self._resyncing = False  # a refusal from here on is a new one: it resyncs again
            try:
                if pending:
                    first = pending[0]
                    self._unacked[first].sent_at = time.monotonic()
                    await self._send(first)
                    await self._first_acknowledged()
                    await self._send_again()
            finally:
                self._holding = False
            self._wake.set()
        except Exception as exc:
            log.warning("journal: reading the stream to resync failed (%r); trying again", exc)
            await asyncio.sleep(0.25)
            self._tasks.append(asyncio.ensure_future(self._resync()))

    async def _heartbeat(self) -> None:
        assert self._holder is not None
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.lease_s / 4)
            try:
                await nats_lease.renew(self._kv, self._holder)
            except JournalFenced as exc:
                self._fail(exc)
                return
            except Exception as exc:
                self._lease_lapsed = time.monotonic() - renewed > self.lease_s
                log.warning("journal: renewing the writer lease failed: %r", exc)
                continue
            renewed = time.monotonic()
            self._lease_lapsed = False

    def _fail(self, exc: BaseException) -> None:
        if self._error is not None:
            return
        log.error("journal stopped: %s", exc)
        if self._notifying:  # what became durable is told before the failure
            self._notify()
        with self._lock:
            self._error = exc
            self._durable_cond.notify_all()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(AttributeError):
            self._first_done.set()
        if self._failure_listener is not None:
            self._failure_listener(exc)

    # -- reading ----------------------------------------------------------------------

    def replay(self, from_seq: int = 1) -> Iterator[tuple[int, bytes]]:
        limit = self._durable_seq
        return self._read(max(from_seq, 1), limit)

    def _read(self, seq: int, limit: int) -> Iterator[tuple[int, bytes]]:
        if seq > limit:
            return
        reader = RecordReader(self._js, self.address)
        self._run(reader.start(seq))
        try:
            while reader.next_seq <= limit:
                yield from self._run(reader.read(limit=limit))
        finally:
            with contextlib.suppress(Exception):
                self._run(reader.close(), timeout=5)

    # -- closing ----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._writer and self._error is None:
                with self._lock:
                    target = self._last_seq
                    deadline = time.monotonic() + 10.0
                    while self._notified_seq < target and self._error is None:
                        if not self._durable_cond.wait(max(0.0, deadline - time.monotonic())):
                            break
            if self._holder is not None and self._error is None and self._connected:
                with contextlib.suppress(Exception):
                    self._run(asyncio.wait_for(nats_lease.give_back(self._kv, self._holder), 5))
        finally:
            self._stop_loop()
        if self._error is not None and not isinstance(self._error, JournalFenced):
            raise self._error

    def _stop_loop(self) -> None:
        async def shut() -> None:
            for task in self._tasks:
                task.cancel()
            nc = getattr(self, "_nc", None)
            if nc is not None and not nc.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(nc.close(), 5)
            # whatever the client left running (a reconnect, a subscription's reader) ends here,
            # not when a closed loop is collected
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._run(shut(), timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()


if TYPE_CHECKING:

    def _conforms(j: NatsJournal) -> Journal:
        return j
