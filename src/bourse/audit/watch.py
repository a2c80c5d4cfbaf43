"""A monitor of the audit log, as a Certificate Transparency monitor watches a log: it keeps the
last tree head it trusted and accepts a newer one only with a valid signature and a consistency
proof that the new tree extends the trusted one. A log whose history was rewritten cannot give
that proof: the monitor alarms, naming both sizes, and keeps trusting the old head.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bourse.audit.verify_bundle import VerificationError, check_head, verify_consistency
from bourse.private_files import write_private


@dataclass(frozen=True)
class WatchResult:
    ok: bool
    message: str
    trusted_size: int


def load_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    return state


class Source(Protocol):
    """Where a monitor reads the log: its files (`AuditLog`) or a server (`RemoteLog`)."""

    @property
    def size(self) -> int: ...

    def latest_head(self) -> dict[str, Any] | None: ...

    def signing_keys(self) -> list[dict[str, Any]]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


class RemoteLog:
    """The log as a server's admin API shows it to an auditor's token."""

    def __init__(self, url: str, token: str) -> None:
        import httpx

        self._client = httpx.Client(
            base_url=url.rstrip("/") + "/admin/v1/audit",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        self._head = self._get("/head")

    def _get(self, path: str, **params: int) -> dict[str, Any]:
        response = self._client.get(path, params=params)
        if response.status_code != 200:
            raise RuntimeError(f"the server answered {response.status_code}: {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    @property
    def size(self) -> int:
        return int(self._head["size"])

    def latest_head(self) -> dict[str, Any] | None:
        head: dict[str, Any] | None = self._head["head"]
        return head

    def signing_keys(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = self._head["keys"]
        return keys

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        proof = self._get("/consistency", first=size1, second=size2)["proof"]
        return [bytes.fromhex(h) for h in proof]

    def close(self) -> None:
        self._client.close()


def check(audit: Source, state_path: Path) -> WatchResult:
    """Check the log's newest head against the trusted one in `state_path` and trust it if it
    extends it (the first time: trust it as it is, and say so)."""
    head = audit.latest_head()
    if head is None:
        return WatchResult(False, "the log has signed no tree head yet", 0)
    state = load_state(state_path) or {}
    keys = {k: bytes.fromhex(v) for k, v in state.get("keys", {}).items()}
    for k in audit.signing_keys():  # keys announced in the log (a rotation is a journaled command)
        keys.setdefault(k["key_id"], bytes.fromhex(k["public_key"]))
    try:
        root2 = check_head(head, keys)
    except VerificationError as exc:
        return WatchResult(
            False, f"ALARM: the newest tree head is not genuine: {exc}", _size(state)
        )
    trusted = state.get("head")
    size2 = int(head["tree_size"])
    if trusted is None:
        _save(state_path, head, keys)
        return WatchResult(True, f"trusting the tree head of size {size2} (first use)", size2)
    size1 = int(trusted["tree_size"])
    try:
        root1 = bytes.fromhex(trusted["root_hash"])
        if size1 > size2:
            raise VerificationError(f"the log now signs {size2} records, fewer than {size1}")
        if size1 > audit.size:
            raise VerificationError(f"the log holds {audit.size} records, fewer than {size1}")
        verify_consistency(size1, size2, root1, root2, audit.consistency_proof(size1, size2))
    except VerificationError as exc:
        return WatchResult(
            False,
            f"ALARM: history was rewritten: the tree head of size {size2} (root "
            f"{head['root_hash'][:16]}...) does not extend the trusted head of size {size1} "
            f"(root {trusted['root_hash'][:16]}...): {exc}",
            size1,
        )
    _save(state_path, head, keys)
    grown = size2 - size1
    return WatchResult(True, f"consistent: {size1} -> {size2} records (+{grown})", size2)


def _size(state: dict[str, Any]) -> int:
    head = state.get("head")
    return 0 if head is None else int(head["tree_size"])


def _save(path: Path, head: dict[str, Any], keys: dict[str, bytes]) -> None:
    state = {"head": head, "keys": {k: v.hex() for k, v in sorted(keys.items())}}
    write_private(path, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())
