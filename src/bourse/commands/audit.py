"""Commands about the audit log itself."""

from bourse.commands.base import OperatorCommand


class RotateAuditKey(OperatorCommand, frozen=True, kw_only=True, tag="RotateAuditKey"):
    """From this command on, tree heads are signed with the Ed25519 key whose public half is
    `public_key` (64 hex digits). Its private half was written to the data directory before
    the command was sent; journaling the public half puts every key of the log in the log."""

    public_key: str
