"""Whether an engine holds the secrets to serve what it recovered, found out at start.

Two secrets live beside the journal, not in it, so an engine on a new machine (a standby, or a
data directory moved) may lack them: the master key that opens the API keys' sealed secrets
(every engine of one journal needs the same one), and the private halves of the audit log's
signing keys (a standby signs tree heads once it takes over). Either missing is said when the
engine starts (a RecoveryError naming the file to copy), not when a client's first signed request
fails or after a takeover.
"""

from collections.abc import Iterable
from pathlib import Path

from bourse.audit.log import AuditLog
from bourse.domain.enums import KeyKind
from bourse.keys.sealing import SealError, SecretBox
from bourse.view.model import KeyView


def secrets_problem(
    master_key_file: Path, api_keys: Iterable[KeyView], audit_log: AuditLog | None
) -> str:
    """What is missing here ('' if nothing): `api_keys` (their secrets sealed by whichever
    engine journaled them) must open under `master_key_file`; `audit_log`, if given, must have
    the private half of the key announced last."""
    return _master_key_problem(master_key_file, api_keys) or _audit_key_problem(audit_log)


def _master_key_problem(master_key_file: Path, api_keys: Iterable[KeyView]) -> str:
    for key in api_keys:
        if key.kind is KeyKind.HMAC_SHA256:  # one is enough: one master key sealed them all
            try:
                SecretBox.at(master_key_file).open(key.credential, key.api_key)
            except SealError:
                return (
                    f"the API keys' secrets do not open under {master_key_file}: copy "
                    "master.key from the data directory of the engine that sealed them (every "
                    "engine of one journal needs the same one)"
                )
            return ""
    return ""


def _audit_key_problem(audit_log: AuditLog | None) -> str:
    if audit_log is None or not audit_log.signing_keys() or audit_log.signer() is not None:
        return ""
    return (
        f"this standby could not sign the audit log's tree heads ({audit_log.signer_problem}): "
        "copy audit/keys/ from the data directory of the engine writing the journal"
    )
