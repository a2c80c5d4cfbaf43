"""Seals API secrets at rest: AES-256-GCM under a master key that never leaves the data directory.

The journal and snapshots hold only sealed secrets, so a copied journal or backup does not reveal
any customer's HMAC secret without `master.key` (0600, created at first start). The API key is
bound in as associated data, so a sealed secret cannot be moved to another key.
"""

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_NONCE = 12


class SealError(ValueError):
    """A sealed secret that does not open under this data directory's master key."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def at(cls, path: Path) -> "SecretBox":
        """The box whose key is in `path`, creating a new random key (0600) the first time."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls(base64.b64decode(path.read_bytes()))
        key = AESGCM.generate_key(bit_length=256)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(key))
            f.flush()
            os.fsync(f.fileno())
        return cls(key)

    def seal(self, secret: str, bound_to: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, secret.encode(), bound_to.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, bound_to: str) -> str:
        version, _, body = sealed.partition(":")
        if version != _VERSION:
            raise SealError(f"unknown sealing format {version!r}")
        raw = base64.b64decode(body)
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
        except Exception:
            raise SealError("the secret does not open under this master key") from None
        return plain.decode()
