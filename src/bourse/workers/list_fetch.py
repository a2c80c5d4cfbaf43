"""Sanctions lists from their official publication URLs (or a mirror's), into the ListStore.

A download goes to a temporary directory under names the loaders understand (the publication
date in the name, the consolidated parts as *cons_prim/alt/add/comments.csv), then through the
same ListStore.load as a file: a failed or malformed download changes nothing.
"""

import datetime
import email.utils
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx

from bourse import __version__
from bourse.compliance.sanctions.entries import ListFormatError
from bourse.compliance.sanctions.ofac import CONS_SOURCE, SDN_SOURCE
from bourse.compliance.sanctions.un import SOURCE as UN_SOURCE
from bourse.compliance.sanctions.versions import (
    CONS_PARTS,
    Forcing,
    ListSourceError,
    ListStore,
    LoadResult,
)

_OFAC = "https://sanctionslistservice.ofac.treas.gov/api/download"
OFFICIAL_URLS: dict[str, tuple[str, ...]] = {
    SDN_SOURCE: (f"{_OFAC}/SDN.CSV",),
    CONS_SOURCE: tuple(f"{_OFAC}/CONS_{part.upper()}.CSV" for part in CONS_PARTS),
    UN_SOURCE: ("https://scsanctions.un.org/resources/xml/en/consolidated.xml",),
}
# OFAC's service refuses requests without a User-Agent naming the client.
USER_AGENT = f"bourse/{__version__} (sanctions list refresh)"
MAX_BYTES = 512 * 2**20  # the SDN advanced XML is ~100 MB; a CSV far less
TIMEOUT_S = 120.0


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _names(source: str, count: int, published: str) -> list[str]:
    if source == CONS_SOURCE:
        if count != len(CONS_PARTS):
            raise ListSourceError(
                f"ofac_cons needs the four URLs of cons_prim/alt/add/comments, got {count}"
            )
        return [f"{published}-cons_{part}.csv" for part in CONS_PARTS]
    if count != 1:
        raise ListSourceError(f"{source} is one file, got {count} URLs")
    return [f"{published}-{source}.{'xml' if source == UN_SOURCE else 'csv'}"]


def _published(last_modified: str | None) -> str:
    """The date the server says the file changed, else today (UTC)."""
    if last_modified:
        try:
            return email.utils.parsedate_to_datetime(last_modified).date().isoformat()
        except (TypeError, ValueError):
            pass
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _download(client: httpx.Client, url: str, path: Path) -> str | None:
    """Stream `url` into `path`; its Last-Modified header."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise ListSourceError(f"{url} answered HTTP {response.status_code}")
            size = 0
            with path.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise ListSourceError(f"{url} is larger than {MAX_BYTES >> 20} MB")
                    out.write(chunk)
            modified: str | None = response.headers.get("last-modified")
            return modified
    except httpx.HTTPError as exc:
        raise ListSourceError(f"cannot download {url}: {exc}") from None


def fetch_and_load(
    store: ListStore,
    source: str,
    urls: Sequence[str] | None = None,
    published: str | None = None,
    timeout: float = TIMEOUT_S,
    force: Forcing | None = None,
) -> LoadResult:
    """Download `source` (default: its official URLs) and put it in force if it changed (the
    guard of ListStore.load applies: see there)."""
    if source not in OFFICIAL_URLS:
        raise ListSourceError(f"unknown list {source!r}: one of {', '.join(OFFICIAL_URLS)}")
    urls = tuple(urls or OFFICIAL_URLS[source])
    headers = {"User-Agent": USER_AGENT}
    with (
        tempfile.TemporaryDirectory(prefix="bourse-list-") as tmp,
        httpx.Client(headers=headers, timeout=timeout, follow_redirects=True) as client,
    ):
        staged = [Path(tmp) / f"part{i}" for i in range(len(urls))]
        modified = [_download(client, url, path) for url, path in zip(urls, staged, strict=True)]
        date = published or _published(modified[0])
        paths = []
        for path, name in zip(staged, _names(source, len(urls), date), strict=True):
            paths.append(path.rename(path.with_name(name)))
        label = " ".join(urls)
        try:  # the UN XML states its own date: only a date given is checked against it
            return store.load(
                source, paths, date if source != UN_SOURCE else published, label, force
            )
        except ListFormatError as exc:  # say which download, not which temporary file
            raise ListFormatError(label, exc.where, exc.problem) from None


def mirror_urls(pairs: Sequence[str]) -> dict[str, list[str]]:
    """SOURCE=URL[,URL...] options as URLs by source; ListSourceError naming a bad one."""
    urls: dict[str, list[str]] = {}
    for pair in pairs:
        source, sep, given = pair.partition("=")
        if not sep or source not in OFFICIAL_URLS or not given.strip():
            raise ListSourceError(
                f"a list URL is SOURCE=URL[,URL...] with SOURCE one of "
                f"{', '.join(OFFICIAL_URLS)}, not {pair!r}"
            )
        urls[source] = [u.strip() for u in given.split(",") if u.strip()]
    return urls
