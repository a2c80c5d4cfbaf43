"""The exchange as a running thing: recover from snapshot + journal, then sequence commands.

Recovery: the newest snapshot that verifies and that the SQL store has caught up to, then every
journal record after it, whose outcomes bring the store up to date. With no such snapshot the
engine replays the whole journal (projections are always rebuildable from the journal).
"""

import logging
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass

from bourse.audit.keys import first_audit_key
from bourse.audit.log import AuditLog
from bourse.audit.worker import AuditWorker
from bourse.banking.cards import PartnerEndImpact, PartnerEndSpec
from bourse.banking.cutoff import CutOffImpact, CutOffSpec
from bourse.commands import Command
from bourse.compliance.handover import Handover
from bourse.compliance.policy import Impact, PolicySpec
from bourse.demo import genesis
from bourse.domain.rejections import Refusal
from bourse.engine import Engine, cards, cutoff, impact, read_model, snapshot, valuation, work
from bourse.events import Outcome
from bourse.journal.base import JournalError
from bourse.journal.nats_address import node_name
from bourse.journal.opening import journal_spec, open_journal
from bourse.journal.sequencer import Sequencer, UnencodableCommand, replay
from bourse.journal.snapshots import SnapshotStore
from bourse.server.datadir import DataDir
from bourse.server.secrets_check import secrets_problem
from bourse.store.db import store_url
from bourse.store.projection_worker import ProjectionWorker
from bourse.store.projector import Projector
from bourse.view import ReadModel

log = logging.getLogger(__name__)
Progress = Callable[[int], None]


class RecoveryError(RuntimeError):
    """The data directory cannot be recovered as it is (the message says why)."""


class ExchangeStopped(RuntimeError):
    """The engine failed on a command (a bug) and refuses every command after it."""


class NotRecorded(ExchangeStopped):
    """Refused before it was sequenced, because the journal cannot record it now (its server
    unreachable): nothing happened, and the same request may be sent again."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Recovery:
    snapshot_seq: int
    replayed: int
    last_seq: int
    truncated_bytes: int
    seconds: float


class Exchange:
    """Owns a locked data directory: journal, engine, sequencer, snapshots, store projection."""

    def __init__(
        self,
        data_dir: DataDir,
        *,
        database_url: str | None = None,
        demo: bool = True,
        progress: Progress | None = None,
        snapshot_every: int = 0,
        projector_process: bool = False,
        audit: bool | None = None,
        audit_process: bool = False,
        audit_heads_to: str = "",
        journal: str = "",
        standby: bool = False,
        check_secrets: bool = False,
    ) -> None:
        """`snapshot_every` > 0 writes a snapshot after every that many commands, so recovery
        after a crash replays at most that many (0: only on close and on demand).
        `projector_process` runs the SQL projection in a child process (the server does; tests
        and tools keep it in a thread). `audit` keeps the audit log (`<data>/audit/`) beside
        the engine and gives the exchange its first audit key if it has none (None: if the
        data directory keeps one already, so that a tool's commands are in it too);
        `audit_process` keeps it in a child process (the server does); `audit_heads_to`: a
        NATS server's URL where each signed tree head is published too. `journal`: where
        commands are journaled (see `journal/opening.py`; '' is `<data>/journal`). `standby`
        (a NATS journal only): recover, then follow the stream until its writer stops, and
        take over (see `_stand_by`): the constructor returns only then. `check_secrets`: the
        API keys' secrets must open under this data directory's master key (a RecoveryError
        otherwise); a standby must also be able to sign audit heads (see `secrets_check`)."""
        started = time.perf_counter()
        self.data_dir = data_dir
        data_dir.lock()
        try:
            self.journal = open_journal(
                journal_spec(journal, data_dir.path),
                data_dir.journal,
                node_name(str(data_dir.path)),
                standby=standby,
            )
            self.snapshots = SnapshotStore(data_dir.snapshots)
            self.projector = Projector(database_url or store_url(data_dir.path))
            if audit is None:
                audit = AuditLog.kept_in(data_dir.path)
            self.audit_log = AuditLog(data_dir.path) if audit else None
            self.engine, snapshot_seq, replayed = self._recover(progress)
            keys = read_model.api_keys(self.engine.state) if check_secrets else ()
            problem = secrets_problem(
                data_dir.master_key_file, keys, self.audit_log if standby else None
            )
            if problem:
                raise RecoveryError(problem)
            if standby:
                self._stand_by(progress)
        except BaseException:
            if hasattr(self, "journal"):
                self.journal.close()
            if hasattr(self, "projector"):
                self.projector.close()
            data_dir.unlock()
            raise
        self.failure: ExchangeStopped | None = None
        self.on_failure: list[Callable[[ExchangeStopped], None]] = []
        self._journal_error: BaseException | None = None
        self.journal.set_failure_listener(self._journal_failed)
        self.snapshot_every = snapshot_every
        self._snapshot_seq = snapshot_seq
        self.projection = ProjectionWorker(self.projector, in_process=not projector_process)
        self._listeners: list[Callable[[list[Outcome]], None]] = []
        needs_key = self.audit_log is not None and not self.audit_log.signing_keys()
        if self.audit_log is not None and audit_process:
            self._snapshot_to_follow_from()
        self.audit = (
            None
            if self.audit_log is None
            else AuditWorker(self.audit_log, process=audit_process, publish_to=audit_heads_to)
        )
        self.audit_log = None  # the worker's from here on (its thread's, or its child's)
        self.sequencer = Sequencer(
            self.engine,
            self.journal,
            self._release,
            None if self.audit is None else self.audit.submit,
        )
        self.recovery = Recovery(
            snapshot_seq=snapshot_seq,
            replayed=replayed,
            last_seq=self.engine.state.last_seq,
            truncated_bytes=self.journal.truncated_bytes,
            seconds=time.perf_counter() - started,
        )
        self.fresh = self.engine.state.last_seq == 0  # the journal was empty
        if demo and self.fresh:
            for cmd in genesis(now_ms()):
                self.sequencer.submit(cmd)
            self.sequencer.flush()
        if needs_key:
            self.execute(first_audit_key(data_dir.path, now_ms()))

    def _snapshot_to_follow_from(self) -> None:
        """The audit process follows the engine from here (see `journal/follower.py`): it
        needs a snapshot at exactly this seq. Recovery from one that replayed nothing (after a
        clean close) verified it already."""
        seq = self.engine.state.last_seq
        if seq and self._snapshot_seq != seq:
            self.snapshots.write(seq, snapshot.dump(self.engine.state))
            self._snapshot_seq = seq

    def _recover(self, progress: Progress | None) -> tuple[Engine, int, int]:
        store_seq = self.projector.last_seq()
        audit_seq = store_seq if self.audit_log is None else self.audit_log.size
        latest = self.snapshots.latest()
        if latest is not None and latest[0] > self.journal.last_seq:
            raise RecoveryError(
                f"snapshot at seq {latest[0]} is ahead of the journal, which ends at "
                f"{self.journal.last_seq}: the journal lost records it had acknowledged"
            )
        if store_seq > self.journal.last_seq:
            raise RecoveryError(
                f"the SQL store has applied up to seq {store_seq} but the journal ends at "
                f"{self.journal.last_seq}: rebuild it with `bourse replay --rebuild-store`"
            )
        if audit_seq > self.journal.last_seq:
            raise RecoveryError(
                f"the audit log holds records up to seq {audit_seq} but the journal ends at "
                f"{self.journal.last_seq}: the journal lost records it had acknowledged"
            )
        # the newest snapshot that every consumer kept here has caught up to
        caught_up = min(store_seq, audit_seq)
        usable = latest if latest is None or latest[0] <= caught_up else None
        if latest is not None and usable is None:
            usable = self.snapshots.latest(at_most=caught_up)
        if usable is not None:
            engine = Engine(snapshot.load(usable[1]))
            snapshot_seq = usable[0]
        else:
            engine, snapshot_seq = Engine(), 0

        replayed = self._catch_up(engine, self.journal.replay(snapshot_seq + 1), progress)
        return engine, snapshot_seq, replayed

    def _catch_up(
        self,
        engine: Engine,
        records: Iterable[tuple[int, bytes]],
        progress: Progress | None,
    ) -> int:
        """Run journaled records through `engine`, bringing the store and the audit log up to
        date with what they have not applied yet; returns how many ran."""
        store_seq = self.projector.last_seq()

        def catch_up(batch: list[Outcome]) -> None:
            behind = [o for o in batch if o.seq > store_seq]
            if behind:
                self.projector.apply(behind)
            if progress is not None:
                progress(len(batch))

        audit_log = self.audit_log

        def audit_catch_up(batch: list[Outcome], records: list[bytes]) -> None:
            assert audit_log is not None
            audit_log.extend(zip(batch, records, strict=True))

        return replay(
            engine,
            records,
            catch_up,
            release_records=None if audit_log is None else audit_catch_up,
        )

    def _stand_by(self, progress: Progress | None) -> None:
        """Follow the journal's stream, applying each record as its writer makes it durable,
        until the writer stops renewing its lease; then take the writer role (fenced: its first
        record cites the stream's last one, so nothing the old writer might still send gets in
        after it)."""
        from bourse.journal.nats_follow import StreamFollower

        journal = self.journal
        assert isinstance(journal, StreamFollower)
        journal.wait_for_writer_role()
        log.info("standby: following %s from seq %d", journal.address, self.engine.state.last_seq)
        while True:
            records = journal.follow(self.engine.state.last_seq + 1)
            if records:
                self._catch_up(self.engine, records, progress)
                continue
            if journal.won and journal.promote(self.engine.state.last_seq):
                log.warning(
                    "standby: took over as the journal's writer at seq %d",
                    self.engine.state.last_seq,
                )
                return

    # --- running -------------------------------------------------------------------------

    def add_listener(self, fn: Callable[[list[Outcome]], None]) -> None:
        """Receive every released (durable) outcome batch, on the journal's writer thread."""
        self._listeners.append(fn)

    def submit(self, cmd: Command) -> Outcome:
        """Sequence `cmd` (engine thread only). Its outcome is not durable until released."""
        if self.failure is not None:
            raise self.failure
        why = self.journal.unavailable()
        if why is not None:
            raise NotRecorded(f"{why}: nothing was done; send it again once it is back")
        try:
            outcome = self.sequencer.submit(cmd)
        except UnencodableCommand:
            raise  # refused before sequencing: nothing happened, the engine is intact
        except Exception as exc:
            # Fail-stop: the command is journaled but the engine broke an invariant on it, so the
            # in-memory state can no longer be trusted. Refuse everything until an operator
            # restarts (recovery then replays the journal and hits the same bug, loudly).
            seq = self.engine.state.last_seq
            log.critical("engine failed on command seq %d (%s); refusing all commands", seq, exc)
            self.failure = ExchangeStopped(
                f"the engine stopped after an internal error on command seq {seq}: {exc!r}"
            )
            raise self.failure from exc
        if self.snapshot_every and outcome.seq - self._snapshot_seq >= self.snapshot_every:
            self._periodic_snapshot(outcome.seq)
        return outcome

    def _journal_failed(self, exc: BaseException) -> None:
        """The journal stopped for good (another engine writes it now, or its disk failed):
        every command after its last durable one was never recorded, and none is accepted
        from here on. Called on the journal's thread."""
        self._journal_error = exc
        durable = self.journal.durable_seq
        self.failure = ExchangeStopped(
            f"the journal stopped ({exc}); commands after seq {durable} were not recorded and "
            "did not happen"
        )
        log.critical("%s", self.failure)
        for fn in self.on_failure:
            fn(self.failure)

    def check(self, cmd: Command) -> Refusal | None:
        """What the engine would refuse `cmd` for at its first stages, without sequencing it."""
        if self.failure is not None:
            raise self.failure
        return self.engine.check(cmd)

    @property
    def last_seq(self) -> int:
        """The last command the engine applied; it is durable once `journal.durable_seq` has
        reached it (the engine runs ahead of the journal by at most one group commit)."""
        return self.engine.state.last_seq

    def read_model(self) -> ReadModel:
        """The read model as of everything durable (engine thread): where a consumer starts
        before it folds the outcomes released after it."""
        self.sequencer.flush()
        return read_model.export(self.engine.state)

    # --- what the engine answers besides commands: plain values, never its state ----------

    def preview(
        self, spec: PolicySpec, slice_size: int = impact.PREVIEW_SLICE
    ) -> Generator[None, None, Impact]:
        """A policy change's impact, counted in steps on the engine thread: drive it with
        next() between other commands; it returns the Impact (see `impact.preview`)."""
        return impact.preview(self.engine.state, spec, slice_size)

    def cutoff_preview(self, spec: CutOffSpec, now_ms: int) -> Generator[None, None, CutOffImpact]:
        """A bank cut-off's impact, counted in steps as `preview` (see `cutoff.preview`); a
        spec the engine would refuse at `now_ms` (unknown bank, cut off already, an effective
        time passed) is a ValueError."""
        why = cutoff.problem(self.engine.state, spec, now_ms)
        if why:
            raise ValueError(why)
        return cutoff.preview(self.engine.state, spec)

    def partner_end_preview(
        self, spec: PartnerEndSpec, now_ms: int
    ) -> Generator[None, None, PartnerEndImpact]:
        """A card partner's end, counted in steps as `cutoff_preview` (a ValueError for one the
        engine would refuse at `now_ms`)."""
        why = cards.end_problem(self.engine.state, spec, now_ms)
        if why:
            raise ValueError(why)
        return cards.end_preview(self.engine.state, spec)

    def offboarding(self, names: tuple[str, ...], reassign_to: str) -> Handover:
        """What offboarding `names` together would do (see engine/work.py's `plan`)."""
        return work.plan(self.engine.state, names, reassign_to)

    def traded_price(self, asset: str, quote: str) -> bool:
        """Whether the exchange's own trades value `asset` in `quote` (either way round), so a
        reference price for the pair is not used."""
        state = self.engine.state
        return valuation.traded_price(state, asset, quote) or valuation.traded_price(
            state, quote, asset
        )

    def digest(self) -> tuple[int, str]:
        """The engine's last seq and the sha256 digest of its state, which `bourse replay`
        reproduces from the journal."""
        return self.engine.state.last_seq, snapshot.digest(self.engine.state)

    def _periodic_snapshot(self, seq: int) -> None:
        """A snapshot is only a shortcut for recovery; the command it follows is journaled and
        executed, so a failure here must never become that command's answer (a client told
        "error" would retry an order that was placed)."""
        try:
            self.write_snapshot()
        except Exception:
            log.exception("snapshot after seq %d failed; the journal still holds everything", seq)
            self._snapshot_seq = seq  # try again after another `snapshot_every` commands

    def execute(self, cmd: Command) -> Outcome:
        """Sequence `cmd` and block until it is durable (tools and tests; servers await instead)."""
        outcome = self.submit(cmd)
        self.sequencer.flush()
        return outcome

    def _release(self, batch: list[Outcome]) -> None:
        self.projection.submit(batch)
        for fn in self._listeners:
            fn(batch)

    def write_snapshot(self) -> tuple[int, str]:
        """Snapshot the state (engine thread only); only durable commands may be in a snapshot."""
        self.sequencer.flush()
        seq = self.engine.state.last_seq
        path = self.snapshots.write(seq, snapshot.dump(self.engine.state))
        self._snapshot_seq = seq
        return seq, str(path)

    def close(self, *, snapshot_on_close: bool = True) -> None:
        try:
            unreachable = self.journal.unavailable() if self._journal_error is None else None
            if unreachable is not None:
                # waiting for it would hold the stop forever: what is not durable now is not
                # acknowledged either, and the next start recovers from the journal as it is
                log.warning("stopping without a snapshot: %s", unreachable)
                snapshot_on_close = False
            else:
                self._unless_journal_failed(self.sequencer.flush)
            self.projection.close()
            if self.audit is not None:
                self.audit.close()
            # Never snapshot a state the engine failed in: recovery must replay the journal.
            if snapshot_on_close and self.failure is None and self.engine.state.last_seq:
                self.write_snapshot()
            self._unless_journal_failed(self.journal.close)
            self.projector.close()
        finally:
            self.data_dir.unlock()

    def _unless_journal_failed(self, step: Callable[[], object]) -> None:
        """`step()`, whose error is the journal's own failure once it stopped for good (said
        already, when it stopped): what was not durable then never will be."""
        try:
            step()
        except JournalError:
            if self._journal_error is None:
                raise
