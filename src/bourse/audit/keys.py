"""The exchange's audit signing keys: Ed25519, one file each in the data directory (0600).

A key is made here, then announced by a journaled `RotateAuditKey` carrying its public half, so
every key that ever signed a tree head is itself in the log. The audit log signs with the key
announced last whose private half it finds here.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bourse.audit.verify_bundle import key_id
from bourse.commands.audit import RotateAuditKey
from bourse.private_files import create_private, private_dir


class MissingKey(RuntimeError):
    """An announced key's private half is not in the data directory."""


def keys_dir(data_dir: Path) -> Path:
    return data_dir / "audit" / "keys"


def create_key(data_dir: Path) -> str:
    """A new key written to the data directory; its public key as hex (for RotateAuditKey)."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    directory = private_dir(keys_dir(data_dir))
    fd = create_private(directory / f"{key_id(public)}.pem")
    with open(fd, "wb") as f:
        f.write(pem)
    return public.hex()


AUDIT_ACTOR = "system:audit"


def first_audit_key(data_dir: Path, ts_ms: int) -> RotateAuditKey:
    """A new exchange's first key, made now, as the command that announces it."""
    return RotateAuditKey(
        public_key=create_key(data_dir),
        actor=AUDIT_ACTOR,
        reason="the exchange's first audit key, made when the audit log started",
        ts_ms=ts_ms,
    )


class Signer:
    """Signs with one key of the data directory."""

    def __init__(self, data_dir: Path, kid: str) -> None:
        path = keys_dir(data_dir) / f"{kid}.pem"
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise MissingKey(f"audit key {kid} was announced but {path} is missing") from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise MissingKey(f"{path} is not an Ed25519 key")
        self._key = loaded
        self.key_id = kid

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode()
