"""A monitor of the audit log, as a Certificate Transparency monitor watches a log: it keeps the
last tree head it trusted and accepts a newer one only with a valid signature and a consistency
proof that the new tree extends the trusted one. A log whose history was rewritten cannot give
that proof: the monitor alarms, naming both sizes, and keeps trusting the old head.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bourse.audit.verify_bundle import (
    VerificationError,
    check_head,
    head_problem,
    verify_consistency,
)
from bourse.private_files import write_private


@dataclass(frozen=True)
class WatchResult:
    ok: bool
    message: str
    trusted_size: int


class StateError(RuntimeError):
    """The monitor's state file cannot be used (the message names it and why); it is left as
    it is: only a missing file means a first use."""


def load_state(path: Path) -> dict[str, Any] | None:
    """The state a monitor kept in `path`: None only if there is no such file (first use), in a
    directory that exists; StateError for anything else that is not a state the monitor wrote
    (empty, not JSON, not a head with its size and root hash, a directory)."""
    if not os.path.lexists(path):
        parent = path.parent
        if not parent.is_dir():
            why = "is not a directory" if parent.exists() else "does not exist"
            raise StateError(f"cannot keep the monitor's state in {path}: {parent} {why}")
        return None
    refuse = f"the monitor's state file {path} "
    fix = ": restore it, or name a new file to trust the current head afresh"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateError(f"{refuse}cannot be read ({exc.strerror or exc}){fix}") from None
    try:
        state = json.loads(raw)
    except ValueError:  # not UTF-8, or not JSON
        raise StateError(f"{refuse}is not JSON{fix}") from None
    problem = _state_problem(state)
    if problem:
        raise StateError(f"{refuse}{problem}{fix}")
    checked: dict[str, Any] = state
    return checked


def _state_problem(state: Any) -> str:
    if not isinstance(state, dict):
        return "is not a JSON object"
    head = state.get("head")
    if not isinstance(head, dict):
        return "holds no trusted tree head"
    if problem := head_problem(head):  # the shape the verifier checks a head for
        return f"holds a trusted head that {problem}"
    if not _is_hex(head.get("root_hash"), 32):
        return "holds a trusted head without a valid root_hash"
    keys = state.get("keys", {})
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and _is_hex(v, 32) for k, v in keys.items()
    ):
        return "holds keys that are not public keys (hex)"
    return ""


def _is_hex(value: Any, length: int) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return len(bytes.fromhex(value)) == length
    except ValueError:
        return False


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

        self.url = url
        try:
            self._client = httpx.Client(
                base_url=url.rstrip("/") + "/admin/v1/audit",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        except (httpx.InvalidURL, ValueError) as exc:  # before any request
            raise RuntimeError(f"cannot reach {url}: {exc}") from None
        try:
            self._head = self._get("/head")
        except RuntimeError:
            self._client.close()
            raise
        if not isinstance(self._head.get("head"), dict | None) or not isinstance(
            self._head.get("keys"), list
        ):
            self._client.close()
            raise RuntimeError(f"{url} answered no audit head: is it a bourse server?")

    def _get(self, path: str, **params: int) -> dict[str, Any]:
        import httpx

        try:
            response = self._client.get(path, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise RuntimeError(f"cannot reach {self.url}: {exc}") from None
        if response.status_code != 200:
            raise RuntimeError(f"the server answered {response.status_code}: {response.text}")
        try:
            answer = response.json()
        except ValueError:
            raise RuntimeError(f"{self.url} answered {path} with something not JSON") from None
        if not isinstance(answer, dict):
            raise RuntimeError(f"{self.url} answered {path} with something unexpected")
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
    state = load_state(state_path) or {}  # StateError: refused, and left as it is
    head = audit.latest_head()
    if head is None:
        return WatchResult(False, "the log has signed no tree head yet", _size(state))
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
    try:
        write_private(path, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())
    except OSError as exc:
        raise StateError(
            f"cannot keep the monitor's state in {path}: {exc.strerror or exc}"
        ) from None
