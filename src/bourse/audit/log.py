"""The audit log: every journaled command and its outcome's digest as a leaf of a Merkle tree,
with an index to find records by time, actor, customer, venue and country, and signed heads.

It is a consumer of released outcomes like the SQL store: fed in seq order, it keeps
`<data>/audit/` (the tree's level files, `index.sqlite`, `heads.jsonl`) and can be rebuilt from
the journal, identically, because a leaf holds only what the journal and the deterministic
engine give: the command as journaled and a digest of the events it caused.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bourse import codec
from bourse.audit import merkle
from bourse.audit.keys import MissingKey, Signer
from bourse.audit.subjects import subjects
from bourse.audit.tree_store import FileNodes
from bourse.audit.verify_bundle import head_text, leaf_data, leaf_hash
from bourse.commands import decode_command
from bourse.events import (
    AccountOpened,
    AnyEvent,
    AssetCreated,
    AuditKeyRotated,
    CustomerRecorded,
    Outcome,
    PolicyApplied,
    PolicyScheduled,
    ScreeningAlertRaised,
    SymbolListed,
)
from bourse.private_files import create_private, private_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, type TEXT NOT NULL, actor TEXT NOT NULL,
    refused INTEGER NOT NULL, leaf BLOB NOT NULL, command BLOB NOT NULL, events BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS records_ts ON records (ts_ms);
CREATE INDEX IF NOT EXISTS records_actor ON records (actor, seq);
CREATE INDEX IF NOT EXISTS records_type ON records (type, seq);
CREATE TABLE IF NOT EXISTS subjects (kind TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (kind, value, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (account_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS customers (customer_id INTEGER PRIMARY KEY, residence TEXT NOT NULL,
    nationality TEXT NOT NULL, venue TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (alert_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS assets (asset TEXT PRIMARY KEY, precision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS symbols (symbol TEXT PRIMARY KEY, base TEXT NOT NULL,
    quote TEXT NOT NULL, base_precision INTEGER NOT NULL, quote_precision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL,
    seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);
"""
ORIGIN = "bourse audit log"
# the events that tell the index more than whom a record concerns
_INDEXED = frozenset(
    {
        AccountOpened,
        CustomerRecorded,
        AssetCreated,
        SymbolListed,
        PolicyApplied,
        PolicyScheduled,
        AuditKeyRotated,
        ScreeningAlertRaised,
    }
)


@dataclass(frozen=True)
class Query:
    """Which records an export or a page wants (every given filter must hold)."""

    from_ms: int | None = None
    to_ms: int | None = None
    customer: int | None = None
    venue: str | None = None
    country: str | None = None
    actor: str | None = None
    type: str | None = None
    with_policies: bool = False  # with `customer`: also the policies of their countries
    after_seq: int = 0
    until_seq: int | None = None
    limit: int | None = None


class DamagedLog(Exception):
    """A file of the audit log cannot be read as one (the message names the file and what)."""


class AuditLog:
    """`<data_dir>/audit`, opened by one process at a time (the consumer, or a tool with the
    server stopped); readers may open the index alongside, read-only."""

    def __init__(self, data_dir: Path, *, read_only: bool = False) -> None:
        self.data_dir = data_dir
        # a reader creates nothing: a directory without a log stays as it was
        self.path = data_dir / "audit" if read_only else private_dir(data_dir / "audit")
        index = self.path / "index.sqlite"
        if not index.exists():
            if read_only:
                raise FileNotFoundError(f"{data_dir} has no audit log yet")
            with open(create_private(index), "wb"):
                pass
        uri = f"file:{index}?mode=ro" if read_only else f"file:{index}"
        self.heads_path = self.path / "heads.jsonl"
        self.heads_note = ""  # what reading heads.jsonl skipped (a torn last line), if anything
        try:
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            if not read_only:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(_SCHEMA)
            size = self.db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise DamagedLog(
                f"{index} is not a readable audit index ({exc}): rebuild it from the journal "
                "with `bourse audit rebuild` (the server stopped)"
            ) from None
        if not read_only:
            self._drop_torn_head()
        tree = self.path / "tree"
        level0 = tree / "level-00.bin"
        have = level0.stat().st_size // 32 if level0.exists() else 0
        self.read_only = read_only
        self._signer: Signer | None = None
        self.signer_problem = "read-only" if read_only else ""
        self.publishers: list[Callable[[dict[str, Any]], None]] = []
        if read_only:  # what both the index and the tree's files hold is final
            self.nodes = FileNodes(tree, min(size, have), read_only=True)
            return
        missing = [
            row[0]
            for row in self.db.execute(
                "SELECT leaf FROM records WHERE seq > ? ORDER BY seq", (have,)
            )
        ]
        self.nodes = FileNodes(tree, size, missing if have < size else None)
        # rows waiting for the next commit, and who owns which account and lives where
        self._records: list[tuple[Any, ...]] = []
        self._subjects: list[tuple[str, str, int]] = []
        self._owners: dict[int, int] = dict(self.db.execute("SELECT * FROM accounts").fetchall())
        self._alert_customers: dict[int, int] = dict(
            self.db.execute("SELECT * FROM alerts").fetchall()
        )
        self._places: dict[int, tuple[str, str]] = {
            row[0]: (row[1], row[2])
            for row in self.db.execute("SELECT customer_id, residence, venue FROM customers")
        }

    @staticmethod
    def kept_in(data_dir: Path) -> bool:
        """Whether `data_dir` keeps an audit log."""
        return (data_dir / "audit" / "index.sqlite").exists()

    @classmethod
    def reader(cls, data_dir: Path) -> AuditLog:
        """The log opened for reading beside the process that keeps it."""
        return cls(data_dir, read_only=True)

    @property
    def size(self) -> int:
        return self.nodes.size

    # --- keeping it ---------------------------------------------------------------------------

    def append(self, outcome: Outcome, command_raw: bytes) -> None:
        """Record one released outcome (in seq order) with the journaled bytes of its command
        (written to the index by the next `commit`)."""
        seq = outcome.seq
        if seq != self.size + 1:
            raise ValueError(f"audit record {seq} does not follow {self.size}")
        events_raw = codec.encode(outcome.events)
        leaf = leaf_hash(leaf_data(seq, events_raw, command_raw))
        self.nodes.append(leaf)
        command = decode_command(command_raw)
        self._records.append(
            (
                seq,
                outcome.ts_ms,
                outcome.command,
                command.actor,
                outcome.refused,
                leaf,
                command_raw,
                events_raw,
            )
        )
        self._index(seq, command, outcome.events, outcome.ts_ms)

    def _index(self, seq: int, command: Any, events: Sequence[AnyEvent], ts_ms: int) -> None:
        db = self.db
        for event in events:
            if type(event) not in _INDEXED:
                continue
            if isinstance(event, AccountOpened) and event.customer_id:
                self._owners[event.account_id] = event.customer_id
                db.execute(
                    "INSERT OR REPLACE INTO accounts VALUES (?, ?)",
                    (event.account_id, event.customer_id),
                )
            elif isinstance(event, CustomerRecorded):
                self._places[event.customer_id] = (event.residence, event.venue)
                db.execute(
                    "INSERT OR REPLACE INTO customers VALUES (?, ?, ?, ?)",
                    (event.customer_id, event.residence, event.nationality, event.venue),
                )
            elif isinstance(event, AssetCreated):
                db.execute(
                    "INSERT OR REPLACE INTO assets VALUES (?, ?)", (event.asset, event.precision)
                )
            elif isinstance(event, SymbolListed):
                spec = event.spec
                db.execute(
                    "INSERT OR REPLACE INTO symbols VALUES (?, ?, ?, ?, ?)",
                    (spec.name, spec.base, spec.quote, spec.base_precision, spec.quote_precision),
                )
            elif isinstance(event, ScreeningAlertRaised):
                self._alert_customers[event.alert_id] = event.customer_id
                db.execute(
                    "INSERT OR REPLACE INTO alerts VALUES (?, ?)",
                    (event.alert_id, event.customer_id),
                )
            elif isinstance(event, PolicyApplied | PolicyScheduled):
                self._subjects.append(("policy", event.spec.country, seq))
            elif isinstance(event, AuditKeyRotated):
                db.execute(
                    "INSERT OR IGNORE INTO keys VALUES (?, ?, ?, ?, ?, ?)",
                    (event.key_id, event.public_key, seq, ts_ms, event.actor, event.reason),
                )
                self._signer = None  # sign with the new key from now on
        found = subjects(command, events)
        customers = found.setdefault("customer", set())
        for alert in found.get("alert", ()):
            about = self._alert_customers.get(int(alert))
            if about is not None:
                customers.add(about)
        for account in found.get("account", ()):
            owner = self._owners.get(int(account))
            if owner is not None:
                customers.add(owner)
        for customer in customers:  # a customer's record names their country and venue
            place = self._places.get(int(customer))
            if place is not None:
                found.setdefault("country", set()).add(place[0])
                if place[1]:
                    found.setdefault("venue", set()).add(place[1])
        found.pop("account", None)  # filed under their customer (house accounts: nobody's)
        found.pop("alert", None)  # filed under the customer it is about
        rows = self._subjects
        for kind, values in found.items():
            for value in values:
                rows.append((kind, str(value), seq))

    def extend(self, items: Iterable[tuple[Outcome, bytes]]) -> None:
        """Append a batch and commit it: the tree's files first, then the index that counts."""
        for outcome, command_raw in items:
            if outcome.seq <= self.size:
                continue  # already in the log (a catch-up overlapping what was kept)
            self.append(outcome, command_raw)
        self.commit()

    def commit(self) -> None:
        self.nodes.flush()
        if self._records:
            self.db.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._records
            )
            self._records.clear()
        if self._subjects:
            self.db.executemany("INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)", self._subjects)
            self._subjects.clear()
        self.db.commit()

    def close(self) -> None:
        if not self.read_only:
            self.commit()
        self.nodes.close()
        self.db.close()

    # --- heads ----------------------------------------------------------------------------------

    def signing_keys(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT key_id, public_key, seq, ts_ms, actor, reason FROM keys ORDER BY seq"
        ).fetchall()
        names = ("key_id", "public_key", "seq", "ts_ms", "actor", "reason")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def signer(self) -> Signer | None:
        """The key announced last, if its private half is here (else `signer_problem` says)."""
        if self._signer is None:
            keys = self.signing_keys()
            if not keys:
                self.signer_problem = "no audit key has been announced yet"
                return None
            try:
                self._signer = Signer(self.data_dir, keys[-1]["key_id"])
                self.signer_problem = ""
            except MissingKey as exc:
                self.signer_problem = str(exc)
                return None
        return self._signer

    def root(self, size: int | None = None) -> bytes:
        return merkle.root(self.nodes, self.size if size is None else size)

    def sign_head(self, timestamp_ms: int) -> dict[str, Any] | None:
        """Sign the tree as it stands, append the head to `heads.jsonl` and publish it; None
        without a key (see `signer_problem`)."""
        signer = self.signer()
        if signer is None:
            return None
        self.commit()
        head: dict[str, Any] = {
            "origin": ORIGIN,
            "tree_size": self.size,
            "root_hash": self.root().hex(),
            "timestamp_ms": timestamp_ms,
            "key_id": signer.key_id,
        }
        head["signature"] = signer.sign(head_text(head))
        line = (json.dumps(head, sort_keys=True) + "\n").encode()
        fd = create_private(self.heads_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        for publish in self.publishers:
            publish(head)
        return head

    def _drop_torn_head(self) -> None:
        """Cut a last line of `heads.jsonl` that a crash left torn (readers skip it, see
        `heads`): the next head appended would otherwise be glued to it, or follow it."""
        try:
            with open(self.heads_path, "rb+") as f:
                cut = _cut_torn_line(f)
        except OSError:
            return  # none yet (or unreadable: signing the next head says so)
        if cut:
            logging.getLogger(__name__).warning(
                "%s: cut a torn last line (%d bytes, a crash mid-append?)", self.heads_path, cut
            )

    def heads(self) -> Iterator[dict[str, Any]]:
        """Every head signed, oldest first. A last line that does not parse (a crash mid-append)
        is skipped and `heads_note` says so; any other is DamagedLog naming its line."""
        self.heads_note = ""
        try:
            with open(self.heads_path, encoding="utf-8", errors="replace") as f:
                yield from self._parse_heads(f)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise DamagedLog(f"{self.heads_path} cannot be read: {exc}") from None

    def _parse_heads(self, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
        bad: tuple[int, str] | None = None  # a line that did not parse: fine if the last one
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if bad is not None:
                raise DamagedLog(
                    f"{self.heads_path} line {bad[0]} is not a signed tree head ({bad[1]}): "
                    "the file is damaged"
                )
            head = _head_of(line)
            if isinstance(head, str):
                bad = (number, head)
                continue
            yield head
        if bad is not None:
            self.heads_note = (
                f"{self.heads_path} line {bad[0]} is torn ({bad[1]}; a crash while it was "
                "written?): skipped, the head before it is the newest"
            )

    def latest_head(self) -> dict[str, Any] | None:
        """The newest signed head (see `heads` for a torn last line; `heads_note` says)."""
        last = None
        for last in self.heads():  # noqa: B007 (the last one is wanted)
            pass
        return last

    # --- reading --------------------------------------------------------------------------------

    def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self.nodes, seq - 1, size)

    def range_proof(self, first_seq: int, last_seq: int, size: int) -> list[bytes]:
        return merkle.range_proof(self.nodes, first_seq - 1, last_seq, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle.consistency_proof(self.nodes, size1, size2)

    def select(self, query: Query) -> list[int]:
        """The seqs of the records `query` names, in order."""
        where: list[str] = ["seq > ?"]
        args: list[int | str] = [query.after_seq]
        for clause, value in (
            ("seq <= ?", query.until_seq),
            ("ts_ms >= ?", query.from_ms),
            ("ts_ms < ?", query.to_ms),
            ("actor = ?", query.actor),
            ("type = ?", query.type),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        if query.customer is not None:
            about = "seq IN (SELECT seq FROM subjects WHERE kind = 'customer' AND value = ?)"
            args.append(str(query.customer))
            known = self.customer(query.customer)
            if query.with_policies and known is not None:
                about = (
                    f"({about} OR seq IN (SELECT seq FROM subjects WHERE kind = 'policy' "
                    "AND value IN (?, ?)))"
                )
                args += [known[0], known[1]]
            where.append(about)
        for kind, value in (
            ("venue", query.venue),
            ("country", query.country),
        ):
            if value is not None:
                where.append("seq IN (SELECT seq FROM subjects WHERE kind = ? AND value = ?)")
                args += [kind, value]
        sql = f"SELECT seq FROM records WHERE {' AND '.join(where)} ORDER BY seq"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        return [row[0] for row in self.db.execute(sql, args)]

    def record(self, seq: int) -> tuple[int, bytes, bytes]:
        """(ts_ms, command as journaled, events as encoded) of record `seq`."""
        row = self.db.execute(
            "SELECT ts_ms, command, events FROM records WHERE seq = ?", (seq,)
        ).fetchone()
        if row is None:
            raise KeyError(f"the audit log holds no record {seq}")
        return row[0], bytes(row[1]), bytes(row[2])

    def precisions(self) -> tuple[dict[str, int], dict[str, tuple[str, str, int, int]]]:
        """Each asset's precision, and each symbol's (base, quote, base and quote precision)."""
        assets = dict(self.db.execute("SELECT asset, precision FROM assets").fetchall())
        symbols = {
            row[0]: (row[1], row[2], row[3], row[4])
            for row in self.db.execute("SELECT * FROM symbols").fetchall()
        }
        return assets, symbols

    def customer(self, customer_id: int) -> tuple[str, str, str] | None:
        """(residence, nationality, venue) of a customer as last recorded."""
        row = self.db.execute(
            "SELECT residence, nationality, venue FROM customers WHERE customer_id = ?",
            (customer_id,),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])


def _head_of(line: str | bytes) -> dict[str, Any] | str:
    """A line of heads.jsonl as the head it holds, or why it holds none: what readers skip as a
    torn last line is what the log's writer cuts, so the two never disagree."""
    try:
        head = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} column {exc.colno}"
    except ValueError:  # bytes that are not UTF-8
        return "not text"
    if not isinstance(head, dict) or "tree_size" not in head:
        return "not a JSON object with a tree_size"
    found: dict[str, Any] = head
    return found


def _cut_torn_line(f: BinaryIO) -> int:
    """Cut the last line of heads file `f` if it is not a whole head (a crash mid-append); end
    a whole one that lost its newline. How many bytes were cut."""
    size = f.seek(0, os.SEEK_END)
    start = max(0, size - 65536)  # a head is a few hundred bytes
    f.seek(start)
    tail = f.read().rstrip(b"\n")
    if not tail:
        return 0
    cut = tail.rfind(b"\n") + 1
    if cut == 0 and start > 0:
        return 0  # no line end near the end: not a head's torn line, leave it be
    whole = isinstance(_head_of(tail[cut:]), dict)
    if whole and size - start > len(tail):
        return 0
    if whole:  # all but its newline
        f.write(b"\n")
    else:
        f.truncate(start + cut)
    f.flush()
    os.fsync(f.fileno())
    return 0 if whole else size - start - cut
