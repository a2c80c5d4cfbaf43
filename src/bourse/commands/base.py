"""The command base classes: who asked, when, and (for staff) why."""

import msgspec


class Command(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    actor: str
    ts_ms: int


class OperatorCommand(Command, frozen=True, kw_only=True):
    """A discretionary act by staff: the gate refuses it without a reason."""

    reason: str
