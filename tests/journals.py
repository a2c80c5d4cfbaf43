"""Reading the journal of a data directory, wherever `bourse run` put it: its files, or the NATS
stream that BOURSE_JOURNAL names (the suite can run on JetStream: README, "Naming it")."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bourse.journal.base import Journal
from bourse.journal.file_journal import FileJournal
from bourse.journal.opening import journal_spec


def on_nats() -> bool:
    return journal_spec("", Path(".")).startswith("nats:")


@contextmanager
def journal_of(data_dir: Path) -> Iterator[Journal]:
    """The data directory's journal, open for reading (its server stopped, for a file journal)."""
    spec = journal_spec("", data_dir)
    if spec.startswith("nats:"):
        from bourse.journal.nats_journal import NatsJournal

        journal: Journal = NatsJournal(spec, writer=False)
    else:
        journal = FileJournal(Path(spec) if spec else data_dir / "journal")
    try:
        yield journal
    finally:
        journal.close()
