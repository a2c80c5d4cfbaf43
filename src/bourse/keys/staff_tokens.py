"""Staff API tokens at the edge: drawn here, shown once, kept (in the journal) only as SHA-256.

Tokens are 256 random bits, so the digest cannot be turned back into a token, and looking one
up by its digest reveals nothing a timing could exploit. Before staff were engine state they
lived in `staff.json` (name → digest) in the data directory; `read_legacy_file` reads one for the
one-time migration into the journal.
"""

import hashlib
import json
import secrets
from pathlib import Path

from bourse.commands import IssueStaffToken
from bourse.compliance.staff import StaffError, TokenKind, check_name

LEGACY_FILE = "staff.json"
TOKEN_ID_BYTES = 6  # a token's public name (8 characters), for listing and revoking
DEFAULT_TOKEN_DAYS = 90  # how long a token lives unless its issuer says otherwise
DAY_MS = 86_400_000


def new_token() -> tuple[str, str]:
    """(token id, token): the id is public, the token is shown once and never stored."""
    return secrets.token_urlsafe(TOKEN_ID_BYTES), secrets.token_urlsafe(32)


SETUP_LINK_DAYS = 3  # a one-time setup link is used the day it is handed over, or renewed
SETUP_PATH = "/console/setup"


def setup_link(base_url: str, token: str) -> str:
    """The one-time link where a person chooses their console password and second factor."""
    return f"{base_url.rstrip('/')}{SETUP_PATH}?token={token}"


def token_digest(token: str) -> str:
    """What the journal keeps of a staff token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    name: str, days: int, *, actor: str, reason: str, ts_ms: int, kind: TokenKind = TokenKind.API
) -> tuple[IssueStaffToken, str]:
    """A new token of `kind` for `name`, valid `days`: the command that journals its digest,
    and the token itself, to show once."""
    token_id, token = new_token()
    cmd = IssueStaffToken(
        name=name,
        token_id=token_id,
        digest=token_digest(token),
        expires_ms=ts_ms + days * DAY_MS,
        kind=kind,
        actor=actor,
        ts_ms=ts_ms,
        reason=reason,
    )
    return cmd, token


def read_legacy_file(data_dir: Path) -> dict[str, str] | None:
    """name → token digest from an earlier version's `staff.json`, or None if there is none."""
    path = data_dir / LEGACY_FILE
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    if not isinstance(loaded, dict):
        raise StaffError(f"{path} is not a JSON object of name → token digest")
    return {check_name(str(k)): str(v) for k, v in sorted(loaded.items())}
