"""Sanctions list versions kept in the data directory, one directory per source.

    <data>/lists/<source>/<published>-<sha12>.msgpack   a ListVersion (msgspec msgpack)
    <data>/lists/<source>/current                        JSON: the version in force and the
                                                         history of versions put in force

A version file is written (temp file, fsync, rename) before `current` is replaced the same way, so
a crash or a malformed publication leaves the version in force exactly as it was. One flock per
source keeps two loads of the same list from interleaving.

Every load (`bourse lists load`, a download, the scheduled refresh, the admin API) goes through
`ListStore.load`, which refuses a version that has no entries or removes more than
MAX_REMOVED_PERCENT of the entries in force, or of the aliases, identifiers or countries of the
entries it keeps (`shrink_of`): a truncated download or a wrong file looks exactly like a mass
delisting, and would silently release every listed customer, payee and address. Such
a version goes into force only when an operator forces it with a reason, and only once that
decision is journaled (ForceListVersion); `current` then says who forced it and why.
"""

import datetime
import fcntl
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from bourse import codec
from bourse.commands import ForceListVersion
from bourse.compliance.sanctions.entries import ListEntry, ListFormatError, ListVersion
from bourse.compliance.sanctions.ofac import (
    CONS_SOURCE,
    SDN_SOURCE,
    parse_consolidated_load,
    parse_sdn_load,
)
from bourse.compliance.sanctions.un import SOURCE as UN_SOURCE
from bourse.compliance.sanctions.un import parse_un_counting
from bourse.private_files import create_private, private_dir

SOURCES = (SDN_SOURCE, CONS_SOURCE, UN_SOURCE)
CONS_PARTS = ("prim", "alt", "add", "comments")
SETTINGS = "settings.json"  # beside the lists: the review threshold
# Below this a hit needs barely half of a name: a threshold that low is a typo, not a policy.
MIN_REVIEW_THRESHOLD = 0.5
# A new version removing more than this share (in %) of the entries in force, or of what the
# entries it keeps carry, is refused unless forced.
MAX_REMOVED_PERCENT = 20
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_decoder = codec.Decoder[ListVersion](ListVersion)

# Fields compared by the diff, grouped as a compliance officer reads them.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "names": ("name", "original_script_names"),
    "aliases": ("aliases", "weak_aliases"),
    "dates": ("dates_of_birth", "listed_on"),
    "countries": ("countries",),
    "identifiers": ("identifiers",),
    "programs": ("programs",),
    "schema": ("schema",),
    "remarks": ("remarks",),
}


class ListSourceError(ValueError):
    """The load could not start: unknown source, missing file, bad date, unknown version."""


class Shrink(msgspec.Struct, frozen=True, kw_only=True):
    """A new version that has no entries, or removes more than the allowed share of what the
    version in force lists: refused unless forced, and then the content of ForceListVersion."""

    source: str
    published: str
    sha256: str
    previous_sha256: str  # "" when no version is in force
    measure: str  # "entries", or a key of KEPT_FACTS: what the counts count
    count_before: int
    count_after: int
    removed: int
    max_removed_percent: int = MAX_REMOVED_PERCENT

    def text(self) -> str:
        new = f"{self.source} {self.published} ({self.sha256[:12]})"
        if not self.count_after and self.measure == "entries" and not self.count_before:
            return f"{new} has no entries"
        of = "in force" if self.measure == "entries" else "of the entries it keeps"
        share = self.removed * 100 // max(self.count_before, 1)
        return (
            f"{new} would remove {self.removed:,} of the {self.count_before:,} {self.measure} "
            f"{of} ({share}%; a load may remove at most {self.max_removed_percent}%) and leave "
            f"{self.count_after:,}"
        )

    def command(self, actor: str, reason: str, ts_ms: int) -> ForceListVersion:
        return ForceListVersion(
            actor=actor,
            ts_ms=ts_ms,
            reason=reason,
            source=self.source,
            list_sha256=self.sha256,
            previous_sha256=self.previous_sha256,
            measure=self.measure,
            count_before=self.count_before,
            count_after=self.count_after,
            removed=self.removed,
        )


class ListShrinkRefused(ValueError):
    """The load was refused by the guard; the version in force stays."""

    def __init__(self, shrink: Shrink) -> None:
        kept = "the version in force stays" if shrink.previous_sha256 else "nothing is in force"
        super().__init__(f"{shrink.text()}: refused, {kept}")
        self.shrink = shrink


@dataclass(frozen=True)
class Forcing:
    """An operator's decision to put a refused version in force anyway. `journal` makes the
    ForceListVersion command durable and returns its sequence number, or raises to refuse: it
    runs before the version goes into force, so no forced version is in force unjournaled."""

    actor: str
    reason: str
    journal: Callable[[Shrink], int]


class EntryChange(msgspec.Struct, frozen=True, kw_only=True):
    entry_id: str
    fields: tuple[str, ...]  # keys of FIELD_GROUPS that differ
    before: ListEntry
    after: ListEntry


class ListDiff(msgspec.Struct, frozen=True, kw_only=True):
    added: tuple[ListEntry, ...] = ()
    removed: tuple[ListEntry, ...] = ()
    changed: tuple[EntryChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


class VersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a source's history: enough to list versions without decoding them."""

    file: str
    source: str
    published: str
    sha256: str
    entries: int
    origin: str
    loaded_at: str  # UTC ISO 8601, when it was put in force
    # Set when an operator forced it past the guard: who, why, and the journal record of it.
    forced_by: str = ""
    reason: str = ""
    journal_seq: int = 0


class RefusedLoad(msgspec.Struct, frozen=True, kw_only=True):
    """The last version the guard refused for a source, kept beside the history so that `lists
    show` says why a newer publication is not in force."""

    published: str
    sha256: str
    origin: str
    refused_at: str  # UTC ISO 8601
    problem: str


@dataclass(frozen=True)
class LoadResult:
    version: ListVersion
    previous: ListVersion | None
    diff: ListDiff
    already_current: bool
    unresolved_countries: Counter[str] = field(default_factory=Counter)


def diff(old: ListVersion | None, new: ListVersion) -> ListDiff:
    """What `new` adds, removes and changes relative to `old`, entry by entry_id."""
    before = {e.entry_id: e for e in old.entries} if old is not None else {}
    after = {e.entry_id: e for e in new.entries}
    changed = []
    for entry_id, entry in after.items():
        prior = before.get(entry_id)
        if prior is None or prior == entry:
            continue
        fields = tuple(
            group
            for group, names in FIELD_GROUPS.items()
            if any(getattr(prior, n) != getattr(entry, n) for n in names)
        )
        changed.append(EntryChange(entry_id=entry_id, fields=fields, before=prior, after=entry))
    return ListDiff(
        added=tuple(e for i, e in after.items() if i not in before),
        removed=tuple(e for i, e in before.items() if i not in after),
        changed=tuple(changed),
    )


# What screening relies on in an entry a version keeps: losing most of it (a 0-byte cons_alt.csv
# or cons_add.csv removes no entry, only every alias or address country) is as suspect as losing
# the entries, and a diff would show it only as "changed".
KEPT_FACTS: dict[str, Callable[[ListEntry], tuple[object, ...]]] = {
    "aliases": lambda e: (*e.aliases, *e.weak_aliases, *e.original_script_names),
    "identifiers": lambda e: e.identifiers,
    "countries": lambda e: e.countries,
}


def shrink_of(
    previous: ListVersion | None,
    version: ListVersion,
    changes: ListDiff,
    max_removed_percent: int = MAX_REMOVED_PERCENT,
) -> Shrink | None:
    """The Shrink `version` is, if it has no entries or removes more than `max_removed_percent`
    of the entries of `previous`, or of the aliases, identifiers or countries of the entries it
    keeps (strictly more: of 10, 2 may go and 3 may not)."""
    before = len(previous.entries) if previous is not None else 0
    counts = [("entries", before, len(version.entries), len(changes.removed))]
    if previous is not None:
        gone = {e.entry_id for e in changes.removed}
        kept = [e for e in previous.entries if e.entry_id not in gone]
        for measure, facts in KEPT_FACTS.items():
            had = sum(len(set(facts(e))) for e in kept)
            lost = sum(len(set(facts(c.before)) - set(facts(c.after))) for c in changes.changed)
            won = sum(len(set(facts(c.after)) - set(facts(c.before))) for c in changes.changed)
            counts.append((measure, had, had - lost + won, lost))
    for measure, count_before, count_after, removed in counts:
        empty = measure == "entries" and not version.entries
        if empty or removed * 100 > count_before * max_removed_percent:
            return Shrink(
                source=version.source,
                published=version.published,
                sha256=version.content_sha256,
                previous_sha256=previous.content_sha256 if previous is not None else "",
                measure=measure,
                count_before=count_before,
                count_after=count_after,
                removed=removed,
                max_removed_percent=max_removed_percent,
            )
    return None


def _check_date(published: str) -> str:
    try:
        return datetime.date.fromisoformat(published).isoformat()
    except ValueError:
        raise ListSourceError(f"publication date {published!r} is not YYYY-MM-DD") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ListSourceError(f"cannot read {path}: {exc.strerror or exc}") from None


def _cons_paths(origin: Sequence[Path]) -> dict[str, Path]:
    """The four consolidated files, from one directory or four paths, keyed by part."""
    if len(origin) == 1 and origin[0].is_dir():
        candidates = sorted(origin[0].glob("*cons_*.csv"))
    else:
        candidates = list(origin)
    found: dict[str, Path] = {}
    for path in candidates:
        part = path.stem.rpartition("cons_")[2]
        if part in CONS_PARTS:
            if part in found:
                raise ListSourceError(f"two cons_{part} files: {found[part]} and {path}")
            found[part] = path
    missing = [f"cons_{p}.csv" for p in CONS_PARTS if p not in found]
    if missing or (len(origin) != 1 and len(origin) != len(CONS_PARTS)):
        where = ", ".join(str(p) for p in origin)
        lacking = f"lacks {', '.join(missing)}" if missing else "has other files too"
        raise ListSourceError(
            f"ofac_cons needs a directory or the four files *cons_prim/alt/add/comments.csv: "
            f"{where} {lacking}"
        )
    return found


def _published_of(path: Path, published: str | None) -> str:
    """--published, else a YYYY-MM-DD in the file name, else the file's own date (mtime)."""
    if published:
        return _check_date(published)
    if found := _DATE.search(path.name):
        return _check_date(found.group(0))
    return datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC).date().isoformat()


def parse_source(
    source: str, origin: Path | Sequence[Path], published: str | None = None
) -> tuple[ListVersion, Counter[str]]:
    """Read one publication with the loader for `source`: the version and its unresolved
    country names. Raises ListFormatError for a malformed file, ListSourceError otherwise."""
    paths = [Path(origin)] if isinstance(origin, str | Path) else [Path(p) for p in origin]
    if source == CONS_SOURCE:
        parts = _cons_paths(paths)
        prim, alt, add, comments = (_read(parts[p]) for p in CONS_PARTS)
        where = str(paths[0]) if len(paths) == 1 else str(parts["prim"].parent)
        date = _published_of(parts["prim"], published)
        load = parse_consolidated_load(prim, alt, add, comments, where, date)
        return load.version, load.unresolved_countries
    if len(paths) != 1:
        raise ListSourceError(f"{source} is one file, got {len(paths)} paths")
    path = paths[0]
    if source == SDN_SOURCE:
        data_sdn = _read(path)
        load = parse_sdn_load(data_sdn, str(path), _published_of(path, published))
        return load.version, load.unresolved_countries
    if source == UN_SOURCE:
        version, unresolved = parse_un_counting(_read(path), str(path))
        # The XML states its own date (dateGenerated): a different one given is a mistake.
        if published and _check_date(published) != version.published:
            raise ListSourceError(
                f"{path} says it was generated on {version.published}, not {published}"
            )
        return version, Counter(unresolved)
    raise ListSourceError(f"unknown list {source!r}: one of {', '.join(SOURCES)}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader sees the old file or the new one, even after a crash."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class ListStore:
    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir).absolute() / "lists"

    def _dir(self, source: str) -> Path:
        if source not in SOURCES:
            raise ListSourceError(f"unknown list {source!r}: one of {', '.join(SOURCES)}")
        return self.root / source

    @contextmanager
    def _locked(self, source: str) -> Iterator[Path]:
        directory = self._dir(source)
        private_dir(directory)  # the files in it are mkstemp's, 0600
        fd = create_private(directory / ".lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield directory
        finally:
            os.close(fd)

    def _pointer(self, source: str) -> dict[str, Any]:
        try:
            pointer: dict[str, Any] = json.loads((self._dir(source) / "current").read_text())
        except FileNotFoundError:
            return {"version": None, "history": []}
        return pointer

    def versions(self, source: str) -> list[VersionInfo]:
        """Every version put in force, oldest first (the last is the one in force)."""
        return [msgspec.convert(h, VersionInfo) for h in self._pointer(source)["history"]]

    def in_force(self, source: str) -> VersionInfo | None:
        history = self.versions(source)
        return history[-1] if history else None

    def read(self, source: str, file: str) -> ListVersion:
        return _decoder.decode((self._dir(source) / file).read_bytes())

    def current(self, source: str) -> ListVersion | None:
        info = self.in_force(source)
        return None if info is None else self.read(source, info.file)

    def find(self, source: str, sha_prefix: str) -> VersionInfo:
        """The version whose content hash starts with `sha_prefix` (latest if loaded twice)."""
        matches = {v.sha256: v for v in self.versions(source) if v.sha256.startswith(sha_prefix)}
        if len(matches) != 1 or not sha_prefix:
            problem = "no" if not matches else "more than one"
            raise ListSourceError(f"{problem} {source} version has a hash starting {sha_prefix!r}")
        return next(iter(matches.values()))

    diff = staticmethod(diff)

    def review_threshold(self) -> float:
        """The score at which a hit opens an alert for review (screening, rescreens, payees)."""
        try:
            settings = json.loads((self.root / SETTINGS).read_text())
        except FileNotFoundError:
            # Imported here: the matcher takes ~0.5 s to import, and storing, listing and
            # diffing versions (`bourse lists ...`, the CLI's --help) never needs it.
            from bourse.compliance.sanctions.matching.names import OPERATING_THRESHOLD

            return OPERATING_THRESHOLD
        return float(settings["review_threshold"])

    def set_review_threshold(self, value: float) -> None:
        if not MIN_REVIEW_THRESHOLD <= value <= 1.0:
            raise ListSourceError(
                f"review threshold {value} is not between {MIN_REVIEW_THRESHOLD} and 1"
            )
        private_dir(self.root)
        body = {
            "review_threshold": value,
            "set_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        _write_atomic(self.root / SETTINGS, json.dumps(body, indent=1).encode())

    def refused(self, source: str) -> RefusedLoad | None:
        """The last version the guard refused, if none was put in force since."""
        refused = self._pointer(source).get("refused")
        return None if refused is None else msgspec.convert(refused, RefusedLoad)

    def load(
        self,
        source: str,
        origin: Path | Sequence[Path],
        published: str | None = None,
        label: str | None = None,
        force: Forcing | None = None,
        max_removed_percent: int = MAX_REMOVED_PERCENT,
    ) -> LoadResult:
        """Parse a publication and put it in force. A malformed one raises ListFormatError and
        changes nothing; the content already in force is recognized by its hash. A version with
        no entries, or removing more than `max_removed_percent` of the entries in force, raises
        ListShrinkRefused and changes nothing but the record of the refusal, unless `force`
        journals the decision first. `label` is where it came from when not the files
        themselves (the URLs of a download)."""
        version, unresolved = parse_source(source, origin, published)
        if label:
            version = msgspec.structs.replace(version, origin=label)
        if version.source != source:  # a loader bug, never the file's fault
            raise ListFormatError(version.origin, "source", f"loader produced {version.source}")
        with self._locked(source) as directory:
            previous = self.current(source)
            if previous is not None and previous.content_sha256 == version.content_sha256:
                return LoadResult(version, previous, ListDiff(), True, unresolved)
            changes = diff(previous, version)
            pointer = self._pointer(source)
            now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            forced: dict[str, Any] = {}
            if (shrink := shrink_of(previous, version, changes, max_removed_percent)) is not None:
                if force is None:
                    refused = ListShrinkRefused(shrink)
                    pointer["refused"] = msgspec.to_builtins(
                        RefusedLoad(
                            published=version.published,
                            sha256=version.content_sha256,
                            origin=version.origin,
                            refused_at=now,
                            problem=str(refused),
                        )
                    )
                    _write_atomic(directory / "current", json.dumps(pointer, indent=1).encode())
                    raise refused
                seq = force.journal(shrink)  # durable before the version goes into force
                forced = {"forced_by": force.actor, "reason": force.reason, "journal_seq": seq}
            name = f"{version.published}-{version.content_sha256[:12]}.msgpack"
            if not (directory / name).exists():
                _write_atomic(directory / name, codec.encode(version))
            info = VersionInfo(
                file=name,
                source=source,
                published=version.published,
                sha256=version.content_sha256,
                entries=len(version.entries),
                origin=version.origin,
                loaded_at=now,
                **forced,
            )
            pointer["version"] = name
            pointer["history"].append(msgspec.to_builtins(info))
            pointer.pop("refused", None)
            _write_atomic(directory / "current", json.dumps(pointer, indent=1).encode())
        return LoadResult(version, previous, changes, False, unresolved)
