"""The sequencer releases every outcome once its record is durable, whichever comes first: the
journal's sync or the engine finishing the command."""

import threading
from pathlib import Path

from bourse.commands import CreateAsset, OpenAccount
from bourse.engine import Engine
from bourse.events import Outcome
from bourse.journal.file_journal import FileJournal
from bourse.journal.memory import MemoryJournal
from bourse.journal.sequencer import Sequencer

ACTOR, REASON = "test", "test"


def _commands(n: int) -> list[OpenAccount | CreateAsset]:
    first = CreateAsset(asset="BTC", precision=8, actor=ACTOR, ts_ms=1, reason=REASON)
    return [first] + [OpenAccount(actor=ACTOR, ts_ms=1, reason=REASON) for _ in range(n - 1)]


def test_a_record_synced_before_the_engine_finished_is_released_with_its_own_command() -> None:
    # The in-memory journal reports a record durable inside append(), i.e. before the engine
    # has run the command: the interleaving a fast fsync produces on a real server. Each
    # outcome must still be released by its own submit, not wait for the next command.
    released: list[Outcome] = []
    seq = Sequencer(Engine(), MemoryJournal(), released.extend)
    for i, cmd in enumerate(_commands(5), start=1):
        seq.submit(cmd)
        assert [o.seq for o in released] == list(range(1, i + 1))


def test_outcomes_are_released_once_and_in_order_under_a_writer_thread(tmp_path: Path) -> None:
    released: list[int] = []
    lock = threading.Lock()

    def release(batch: list[Outcome]) -> None:
        with lock:
            released.extend(o.seq for o in batch)

    journal = FileJournal(tmp_path / "journal")
    seq = Sequencer(Engine(), journal, release)
    for cmd in _commands(3000):
        seq.submit(cmd)
    seq.flush()
    journal.close()
    assert released == list(range(1, 3001))
