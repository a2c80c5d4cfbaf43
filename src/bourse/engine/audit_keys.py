"""The audit log's signing keys, announced through the journal (the log's own record of them)."""

import re

from bourse.audit.verify_bundle import key_id
from bourse.commands.audit import RotateAuditKey
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.events import AuditKeyRotated

_PUBLIC_KEY = re.compile(r"[0-9a-f]{64}")


def rotate(out: Output, cmd: RotateAuditKey) -> Refusal | None:
    if not _PUBLIC_KEY.fullmatch(cmd.public_key):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "an audit key is an Ed25519 public key: 64 lower-case hex digits",
        )
    out.events.append(
        AuditKeyRotated(
            key_id=key_id(bytes.fromhex(cmd.public_key)),
            public_key=cmd.public_key,
            actor=cmd.actor,
            reason=cmd.reason,
        )
    )
    return None
