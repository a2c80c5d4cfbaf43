"""The local transport between gateway processes and the one engine process.

A gateway process (`bourse run --gateways N`) authenticates and parses in its own interpreter,
then sends each command over a Unix socket in the data directory; the engine process sequences
it, and once its record is durable answers with the command's outcome. Every connection also
receives, in seq order, every released outcome batch and how far the SQL store has applied, so
each gateway keeps its own read model, market data and streams without touching the engine.

Frames: a 4-byte big-endian length, a 1-byte kind, an 8-byte request id, a body.

  gateway → engine   HELLO (the process's name)    start: answered by SEED, then the stream
                     SUBMIT (encoded command)      answered by OUTCOME or FAILED
                     CALL (name and arguments)     answered by RESULT: the engine's checks,
                                                   previews, state, health, rate limit counts
                     ANSWER (a value)              to an ASK
  engine → gateway   SEED (where things are, and the read model as of the released seq,
                          before any RELEASED)
                     RELEASED (outcome batch)      every release, in order
                     STORE (seq)                   the SQL store has applied up to seq
                     OUTCOME (seq)                 right after the RELEASED frame that holds
                                                   it: the answer is that batch's outcome
                     RESULT (a value or an error)
                     FAILED (message)              refused before sequencing; nothing happened
                     ASK (a name)                  what this process knows of its own (its
                                                   stream subscribers), for a census of all

SEED, CALL, RESULT, ASK and ANSWER are pickled: both ends are processes of one `bourse run`, the
same code, and the socket is the data directory's owner's alone (0600 in a 0700 directory).
"""

import asyncio
import contextlib
import logging
import pickle
import struct
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import msgspec

from bourse import codec
from bourse.banking.cards import PartnerEndImpact, PartnerEndSpec
from bourse.banking.cutoff import CutOffImpact, CutOffSpec
from bourse.commands import Command, decode_command, encode_command
from bourse.compliance.handover import Handover
from bourse.compliance.policy import Impact, PolicySpec
from bourse.domain.rejections import Refusal
from bourse.engine.impact import PREVIEW_SLICE
from bourse.events import Outcome
from bourse.journal.sequencer import UnencodableCommand
from bourse.keys.sealing import SecretBox
from bourse.server.datadir import DataDir
from bourse.server.exchange import ExchangeStopped, now_ms
from bourse.server.metrics import Metrics
from bourse.server.service import READ_WAIT_S, Service, StoreUnavailable
from bourse.view import ReadModel
from bourse.view import apply as fold

log = logging.getLogger(__name__)

HELLO, SUBMIT, CALL, ANSWER = 1, 2, 3, 4
SEED, RELEASED, STORE, OUTCOME, RESULT, FAILED, ASK = 11, 12, 13, 14, 15, 16, 17
ASK_WAIT_S = 2.0  # a census leaves out a process that has not answered by then
# A gateway that stops reading (stopped, swapped out) must not grow the engine process without
# bound: past this much unsent to it, its link is closed; it exits and another takes its place.
MAX_UNSENT_BYTES = 64 * 1024 * 1024
_HEAD = struct.Struct("!IBQ")  # length of what follows the length, kind, request id
_SEQ = struct.Struct("!Q")
_outcomes = msgspec.msgpack.Decoder(list[Outcome])
# What a gateway may call on the engine process's Service (more come from `EngineHost(calls=)`).
SERVICE_CALLS = (
    "check", "preview", "cutoff_preview", "partner_end_preview", "offboarding", "traded_price",
    "snapshot", "state", "health", "engine_metrics", "ask_every_process", "released",
    "sign_audit_head", "hurry_store",
)  # fmt: skip


class LinkLost(ExchangeStopped):
    """The engine process went away with this request in flight: whether it was carried out
    is unknown until the client looks (Binance clients query the order by its client id)."""


def frame(kind: int, request_id: int, body: bytes = b"") -> bytes:
    return _HEAD.pack(len(body) + 9, kind, request_id) + body


OnFrame = Callable[["Frames", int, int, bytes], None]


class Frames(asyncio.Protocol):
    """One end of a link: each complete frame received goes to `on_frame(conn, kind, id, body)`
    as it arrives (no coroutine or future per frame: both processes' hot path), `on_gone(conn,
    exc)` once the connection ends. A handler that raises closes the connection."""

    def __init__(self, on_frame: OnFrame, on_gone: Callable[["Frames", Exception | None], None]):
        self._on_frame = on_frame
        self._on_gone = on_gone
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not an asyncio.Transport subclass, but behaves as one)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        pos, end = 0, len(buf)
        try:
            while end - pos >= _HEAD.size:
                length, kind, request_id = _HEAD.unpack_from(buf, pos)
                if end - pos - 4 < length:
                    break
                body = bytes(buf[pos + _HEAD.size : pos + 4 + length])
                pos += 4 + length
                self._on_frame(self, kind, request_id, body)
        except Exception:
            log.exception("a frame on the engine link could not be handled: closing the link")
            self.close()
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_gone(self, exc)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def unsent(self) -> int:
        """Bytes written but not yet taken by the socket."""
        return 0 if self.transport is None else self.transport.get_write_buffer_size()


class EngineHost:
    """The engine process's end: serves gateway connections on a Unix socket."""

    def __init__(
        self,
        service: Service,
        path: Path,
        calls: Mapping[str, Callable[..., Awaitable[Any]]] | None = None,
    ) -> None:
        """`calls`: what else gateways may call here by name (the rate limits' counts)."""
        self.service = service
        self.path = path
        self._calls: dict[str, Callable[..., Awaitable[Any]]] = {
            name: getattr(service, name) for name in SERVICE_CALLS
        }
        self._calls.update(calls or {})
        self._asked: dict[int, asyncio.Future[Any]] = {}
        self._next_ask = 1
        service.others = self._census
        self._server: asyncio.AbstractServer | None = None
        self._subscribers: list[Frames] = []
        self._names: dict[Frames, str] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        service.on_release.append(self._broadcast)
        service.on_store_applied.append(self._send_store)
        service.metrics.add_gauges(self._gauges)

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a killed process; the data directory lock is ours
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            lambda: Frames(self._on_frame, self._on_gone), str(self.path)
        )
        self.path.chmod(0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self._subscribers):
                conn.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _broadcast(self, batch: list[Outcome]) -> None:  # on the loop, before any waiter
        if self._subscribers:
            data = frame(RELEASED, 0, codec.encode(batch))
            for writer in list(self._subscribers):
                if writer.unsent() > MAX_UNSENT_BYTES:
                    name = self._names.get(writer, "a gateway")
                    mb = MAX_UNSENT_BYTES >> 20
                    log.error(
                        "%s stopped reading the engine link (%d MB unsent): closing it", name, mb
                    )
                    self._subscribers.remove(writer)
                    writer.close()
                    continue
                writer.write(data)

    def _gauges(self) -> Iterator[tuple[str, str, dict[str, str], float]]:
        unsent = "Bytes the engine process has not yet sent to each gateway process"
        for writer in self._subscribers:
            name = self._names.get(writer, "?")
            size = writer.unsent()
            yield "bourse_link_unsent_bytes", unsent, {"process": name}, size

    def _send_store(self, seq: int) -> None:
        data = frame(STORE, 0, _SEQ.pack(seq))
        for writer in self._subscribers:
            writer.write(data)

    def _on_frame(self, writer: Frames, kind: int, request_id: int, body: bytes) -> None:
        if kind == SUBMIT:
            self._submit(writer, request_id, body)
        elif kind == CALL:
            task = asyncio.create_task(self._call(writer, request_id, body))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        elif kind == HELLO:
            self._names[writer] = body.decode(errors="replace") or "gateway"
            # on the loop, subscribed at once: nothing released between the seed and the stream
            where = {"data_dir": self.service.data_dir, "store_url": self.service.store_url}
            seed = pickle.dumps((where, self.service.view), pickle.HIGHEST_PROTOCOL)
            writer.write(frame(SEED, 0, seed))
            applied = self.service.exchange.projection.applied_seq
            writer.write(frame(STORE, 0, _SEQ.pack(applied)))
            self._subscribers.append(writer)
        elif kind == ANSWER:
            asked = self._asked.pop(request_id, None)
            if asked is not None and not asked.done():
                asked.set_result(pickle.loads(body))
        else:
            raise ValueError(f"no such frame kind from a gateway: {kind}")

    def _on_gone(self, writer: Frames, exc: Exception | None) -> None:
        """The gateway went away: only its own requests in flight are lost to it."""
        if writer in self._subscribers:
            self._subscribers.remove(writer)
        self._names.pop(writer, None)

    def _submit(self, writer: Frames, request_id: int, body: bytes) -> None:
        def answer(outcome: Outcome) -> None:  # right after _broadcast wrote its batch
            if not writer.is_closing():
                writer.write(frame(OUTCOME, request_id, _SEQ.pack(outcome.seq)))

        def lost(exc: Exception) -> None:  # the journal stopped: it was never recorded
            if not writer.is_closing():
                writer.write(frame(FAILED, request_id, str(exc).encode()))

        try:
            self.service.submit_then(decode_command(body), answer, lost)
        except (UnencodableCommand, ExchangeStopped) as exc:
            writer.write(frame(FAILED, request_id, str(exc).encode()))

    async def _census(self, name: str) -> list[Any]:
        """What every gateway process answers to `name` (see Service.ask_every_process)."""
        loop = asyncio.get_running_loop()
        asked = []
        for writer in list(self._subscribers):
            ask_id, self._next_ask = self._next_ask, self._next_ask + 1
            future = self._asked[ask_id] = loop.create_future()
            asked.append((ask_id, future))
            writer.write(frame(ASK, ask_id, pickle.dumps(name, pickle.HIGHEST_PROTOCOL)))
        if asked:
            await asyncio.wait([f for _, f in asked], timeout=ASK_WAIT_S)
        for ask_id, _ in asked:
            self._asked.pop(ask_id, None)
        return [f.result() for _, f in asked if f.done() and not f.cancelled()]

    async def _call(self, writer: Frames, request_id: int, body: bytes) -> None:
        try:
            name, args = pickle.loads(body)
            answer: tuple[bool, Any] = (True, await self._calls[name](*args))
        except Exception as exc:  # the caller's to answer: a refusal, or its 5xx
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an error that cannot be pickled: say what it was
            data = pickle.dumps((False, RuntimeError(repr(exc))), pickle.HIGHEST_PROTOCOL)
        if not writer.is_closing():
            writer.write(frame(RESULT, request_id, data))


class EngineLink:
    """A gateway process's end: the service its routes use (`GatewayService`), backed by the
    engine process."""

    def __init__(
        self, path: Path, clock: Callable[[], int] = now_ms, process: str = "gateway"
    ) -> None:
        self.path = path
        self.clock = clock
        self.process = process
        self.box: SecretBox  # both from the engine process's data directory, once connected
        self.operator_token = ""
        self.view = ReadModel()
        self.released_seq = 0
        self.store_seq = 0
        self._where: dict[str, Any] = {}
        self.on_release: list[Callable[[list[Outcome]], None]] = []
        self.on_lost: list[Callable[[], None]] = []  # once, when the engine process is gone
        self.answers: dict[str, Callable[[], Any]] = {}  # what this process says when asked
        self.metrics = Metrics(lambda: self.process)
        self.metrics.add_gauges(self._gauges)
        self._waiters: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 1
        self._writer: Frames | None = None
        self._last_batch: list[Outcome] = []  # the OUTCOME frames that follow answer from it
        self._seeded: asyncio.Future[None] | None = None
        self._store_advanced = asyncio.Event()
        self._released_advanced = asyncio.Event()
        self.lost: ConnectionError | None = None

    @property
    def data_dir(self) -> Path:
        path: Path = self._where["data_dir"]
        return path

    @property
    def store_url(self) -> str:
        url: str = self._where["store_url"]
        return url

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to do: the link runs on the loop it connected on."""

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self._seeded = loop.create_future()
        _, self._writer = await loop.create_unix_connection(
            lambda: Frames(self._on_frame, self._on_gone), str(self.path)
        )
        self._writer.write(frame(HELLO, 0, self.process.encode()))
        await self._seeded

    async def close(self) -> None:
        self._lost(ConnectionError("this gateway closed its link to the engine process"))
        if self._writer is not None:
            self._writer.close()

    async def execute(self, cmd: Command) -> Outcome:
        """Run `cmd` in the engine process; answer once its journal record is durable."""
        started = time.perf_counter()
        outcome: Outcome = await self._request(SUBMIT, encode_command(cmd))
        self.metrics.answered(outcome, time.perf_counter() - started)
        return outcome

    async def call(self, name: str, *args: Any) -> Any:
        """`name(*args)` in the engine process (see SERVICE_CALLS and EngineHost's calls)."""
        ok, value = await self._request(CALL, pickle.dumps((name, args), pickle.HIGHEST_PROTOCOL))
        if not ok:
            raise value
        return value

    async def check(self, cmd: Command) -> Refusal | None:
        refusal: Refusal | None = await self.call("check", cmd)
        return refusal

    async def offboarding(self, names: tuple[str, ...], reassign_to: str) -> Handover:
        handover: Handover = await self.call("offboarding", names, reassign_to)
        return handover

    async def cutoff_preview(self, spec: CutOffSpec) -> CutOffImpact:
        impact: CutOffImpact = await self.call("cutoff_preview", spec)
        return impact

    async def partner_end_preview(self, spec: PartnerEndSpec) -> PartnerEndImpact:
        impact: PartnerEndImpact = await self.call("partner_end_preview", spec)
        return impact

    async def preview(self, spec: PolicySpec, slice_size: int = PREVIEW_SLICE) -> Impact:
        impact: Impact = await self.call("preview", spec, slice_size)
        return impact

    async def traded_price(self, asset: str, quote: str) -> bool:
        return bool(await self.call("traded_price", asset, quote))

    async def snapshot(self) -> tuple[int, str]:
        seq, path = await self.call("snapshot")
        return seq, path

    async def sign_audit_head(self) -> dict[str, Any]:
        head: dict[str, Any] = await self.call("sign_audit_head")
        return head

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.call("state")
        return state

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """The engine process's health, as answered by this gateway."""
        ok, body = await self.call("health")
        return ok, {**body, "process": self.process}

    async def caught_up(self) -> None:
        """Until this process has folded everything the engine process had released when
        asked: what another gateway process has answered, this one then reads too (a key
        created through it, an order placed through it). One round trip."""
        target: int = await self.call("released")
        while self.released_seq < target:
            await self._released_advanced.wait()

    async def ask_every_process(self, name: str) -> list[Any]:
        """What every process that serves says to `name` (this one included)."""
        found: list[Any] = await self.call("ask_every_process", name)
        return found

    async def engine_metrics(self) -> bytes:
        """The engine process's own Prometheus exposition."""
        text: bytes = await self.call("engine_metrics")
        return text

    async def store_caught_up(self, seq: int | None = None, timeout: float = READ_WAIT_S) -> None:
        """Wait until the SQL store has applied up to `seq` (default: everything released)."""
        target = self.released_seq if seq is None else seq
        try:
            async with asyncio.timeout(timeout):
                if self.store_seq < target:
                    await self.call("hurry_store")  # no lingering while a reader waits
                while self.store_seq < target:
                    await self._store_advanced.wait()
        except TimeoutError:
            raise StoreUnavailable(f"the SQL store is more than {timeout:.0f} s behind") from None

    def _gauges(self) -> Iterator[tuple[str, str, dict[str, str], float]]:
        seqs = "Sequence numbers: run by the engine, durable in the journal, released"
        yield "bourse_seq", seqs, {"stage": "released"}, self.released_seq
        behind = "Released commands a consumer has not applied yet"
        lag = max(0, self.released_seq - self.store_seq)
        yield "bourse_consumer_lag_commands", behind, {"consumer": "sql"}, lag
        yield (
            "bourse_waiting_answers",
            "Requests waiting for their command to be durable",
            {},
            len(self._waiters),
        )

    async def _request(self, kind: int, body: bytes) -> Any:
        writer = self._writer
        if writer is None or writer.is_closing() or self.lost is not None:
            raise ExchangeStopped("this gateway has lost the engine process; nothing was sent")
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = future
        writer.write(frame(kind, request_id, body))
        return await future

    def _on_frame(self, conn: Frames, kind: int, request_id: int, body: bytes) -> None:
        if kind == RELEASED:
            batch = _outcomes.decode(body)
            fold(self.view, batch)
            self.released_seq = batch[-1].seq
            self._last_batch = batch
            event, self._released_advanced = self._released_advanced, asyncio.Event()
            event.set()
            for fn in self.on_release:
                try:
                    fn(batch)
                except Exception:  # a reader's bug must not leave orders unanswered
                    log.exception("release listener %r failed", fn)
        elif kind == OUTCOME:
            seq = _SEQ.unpack(body)[0]
            batch = self._last_batch
            i = seq - batch[0].seq if batch else -1
            if not (0 <= i < len(batch) and batch[i].seq == seq):
                raise ValueError(f"seq {seq} answered outside the batch before it")
            self._resolve(request_id, batch[i])
        elif kind == RESULT:
            self._resolve(request_id, pickle.loads(body))
        elif kind == ASK:
            self._answer(request_id, pickle.loads(body))
        elif kind == FAILED:
            self._fail(request_id, ExchangeStopped(body.decode()))
        elif kind == STORE:
            self.store_seq = _SEQ.unpack(body)[0]
            event, self._store_advanced = self._store_advanced, asyncio.Event()
            event.set()
        elif kind == SEED:
            self._where, self.view = pickle.loads(body)
            self.released_seq = self.view.last_seq
            dd = DataDir(self.data_dir)
            self.box = SecretBox.at(dd.master_key_file)
            self.operator_token = dd.existing_operator_token() or ""
            if self._seeded is not None and not self._seeded.done():
                self._seeded.set_result(None)
        else:
            raise ValueError(f"no such frame kind from the engine process: {kind}")

    def _on_gone(self, conn: Frames, exc: Exception | None) -> None:
        why = f"the engine process closed the link ({exc!r})"
        self._lost(LinkLost(f"{why}; whether this request was carried out is unknown"))

    def _answer(self, ask_id: int, name: str) -> None:
        answer = self.answers.get(name)
        try:
            value = None if answer is None else answer()
        except Exception:
            log.exception("answering %r failed", name)
            value = None
        if self._writer is not None:
            self._writer.write(frame(ANSWER, ask_id, pickle.dumps(value, pickle.HIGHEST_PROTOCOL)))

    def _lost(self, exc: Exception) -> None:
        """Requests in flight can no longer be answered: whether each was sequenced is for
        the client to find out (Binance clients query the order by its client id)."""
        first = self.lost is None
        self.lost = self.lost or ConnectionError(str(exc))
        for request_id in list(self._waiters):
            self._fail(request_id, exc)
        if self._seeded is not None and not self._seeded.done():
            self._seeded.set_exception(exc)
        if first:
            for fn in self.on_lost:
                fn()

    def _resolve(self, request_id: int, value: object) -> None:
        future = self._waiters.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(value)

    def _fail(self, request_id: int, exc: Exception) -> None:
        future = self._waiters.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(exc)
