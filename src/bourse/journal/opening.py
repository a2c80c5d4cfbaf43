"""Which journal a `--journal` names: a directory on this machine (the default, `<data>/journal`)
or a stream on NATS JetStream (`nats://host:4222[,host:4223...]/STREAM[?replicas=3]`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bourse.journal.base import Journal
from bourse.journal.file_journal import FileJournal
from bourse.journal.nats_address import is_nats_url

ENV = "BOURSE_JOURNAL"  # the journal when --journal names none


def journal_spec(given: str, data_dir: Path) -> str:
    """What `--journal` names, or else BOURSE_JOURNAL; in a NATS stream's name, `{dir}` is a
    digest of the data directory's path, so one setting gives each data directory on a machine
    a stream of its own (as the test suite run on JetStream does)."""
    spec = given or os.environ.get(ENV, "").strip()
    if "{dir}" in spec:
        digest = hashlib.sha256(str(data_dir.absolute()).encode()).hexdigest()[:16]
        spec = spec.replace("{dir}", digest)
    return spec


def open_journal(
    spec: str,
    default_dir: Path,
    node: str | None = None,
    *,
    standby: bool = False,
    writer: bool = True,
) -> Journal:
    """The journal `spec` names, opened to write ('' is `default_dir`), or with `standby` to
    follow until it may write, or without `writer` to read (a stream on NATS beside its writer;
    a directory read-only, verified as recovery would but never changed: a torn tail is reported
    in its `torn_bytes`, not cut). `node` names this engine to the other engines of a stream
    (see `nats_address.node_name`)."""
    if is_nats_url(spec):  # the NATS client imported only when used
        if standby:
            from bourse.journal.nats_follow import StreamFollower

            return StreamFollower(spec, node=node)
        from bourse.journal.nats_journal import NatsJournal

        return NatsJournal(spec, node=node, writer=writer)
    if standby:
        raise ValueError("a standby follows a journal on NATS: --journal nats://host:4222/STREAM")
    return FileJournal(Path(spec) if spec else default_dir, read_only=not writer)
