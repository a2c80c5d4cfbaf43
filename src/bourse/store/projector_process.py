"""The SQL projection in a process of its own.

Folding outcomes into rows and writing them through SQLAlchemy is CPU-bound Python: in a thread
of the server it competed with matching for the GIL (about 30 % of the samples under load). Here
the server's projection thread only encodes each batch (msgspec, about a microsecond an outcome)
and waits, without the GIL, for the child to answer "ok" once the batch is committed. The child
is the only writer of the store while the server runs, exactly as the thread was.
"""

import contextlib
import multiprocessing
from collections.abc import Sequence
from multiprocessing.connection import Connection

from bourse import codec
from bourse.events import Outcome
from bourse.store.projector import ProjectionError, Projector, StoreUnreachable

_OK = b"ok"
_STOP = b""
_UNREACHABLE = b"unreachable:"  # then the message; the child goes on serving


class ProjectorProcess:
    """A `Projector` at `url` in a spawned child; `apply` returns once the batch is committed.

    A child that dies (killed, out of memory) is StoreUnreachable: the next `apply` starts a new
    one, which resumes from the store's last seq like any projector."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process that has threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(self._url, child), name="bourse-projector", daemon=True
        )
        self._proc.start()
        self._running = True
        child.close()
        self._expect_ok()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def apply(self, outcomes: Sequence[Outcome]) -> None:
        if not self._running:
            self._conn.close()
            self._start()
        try:
            self._conn.send_bytes(codec.encode(list(outcomes)))
        except OSError:
            raise self._exited() from None
        self._expect_ok()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the child may be gone already
            self._conn.send_bytes(_STOP)
        self._proc.join(timeout=30)
        if self._proc.is_alive():
            self._proc.kill()
        self._conn.close()

    def _expect_ok(self) -> None:
        try:
            reply = self._conn.recv_bytes()
        except (EOFError, OSError):
            raise self._exited() from None
        if reply.startswith(_UNREACHABLE):
            raise StoreUnreachable(reply.removeprefix(_UNREACHABLE).decode())
        if reply != _OK:
            raise ProjectionError(f"the projector process failed: {reply.decode()}")

    def _exited(self) -> StoreUnreachable:
        self._proc.join(timeout=5)
        self._running = False
        return StoreUnreachable(f"the projector process exited (code {self._proc.exitcode})")


def _serve(url: str, conn: Connection) -> None:
    try:
        projector = Projector(url, migrate=False)  # the server migrated before starting us
    except BaseException as exc:
        conn.send_bytes(repr(exc).encode())
        return
    decoder = codec.Decoder[list[Outcome]](list[Outcome])
    conn.send_bytes(_OK)
    try:
        while (data := conn.recv_bytes()) != _STOP:
            try:
                projector.apply(decoder.decode(data))
            except StoreUnreachable as exc:  # the parent retries the batch later
                conn.send_bytes(_UNREACHABLE + str(exc).encode())
                continue
            except BaseException as exc:  # report it, then stop: the parent stops projecting
                conn.send_bytes(repr(exc).encode())
                return
            conn.send_bytes(_OK)
    except EOFError:
        pass  # the server went away
    finally:
        projector.close()
