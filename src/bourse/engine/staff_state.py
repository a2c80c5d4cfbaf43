"""Who works here and what waits for a second person, as engine state: staff members with
their tokens and console login, and proposals (four eyes). Part of `EngineState`."""

from bourse.commands import Command
from bourse.compliance.staff import Role, TokenKind


class StaffToken:
    __slots__ = ("digest", "expires_ms", "issued_ms", "kind", "token_id")

    def __init__(
        self,
        token_id: str,
        digest: str,
        issued_ms: int,
        expires_ms: int,
        kind: TokenKind = TokenKind.API,
    ) -> None:
        self.token_id = token_id
        self.digest = digest  # SHA-256 of the token: the token itself is never kept
        self.issued_ms = issued_ms
        self.expires_ms = expires_ms
        self.kind = kind


class StaffMember:
    """A person who works for the exchange: their role, the scope they act in, their tokens.
    Offboarded members stay (inactive, no tokens) so their past actions stay attributed."""

    __slots__ = (
        "active",
        "countries",
        "name",
        "password_hash",
        "role",
        "team",
        "tokens",
        "totp_sealed",
        "totp_step",
        "venues",
    )

    def __init__(
        self,
        name: str,
        role: Role,
        venues: tuple[str, ...],
        countries: tuple[str, ...],
        team: str,
    ) -> None:
        self.name = name
        self.role = role
        self.venues = venues
        self.countries = countries
        self.team = team
        self.active = True
        self.tokens: dict[str, StaffToken] = {}  # token id → token
        # console login: an argon2id hash, the sealed TOTP secret ("" until set up), and the
        # time step of the last TOTP code used (a code opens one session only)
        self.password_hash = ""
        self.totp_sealed = ""
        self.totp_step = 0


class Proposal:
    """A command one person proposed, waiting for a second, entitled person to approve it."""

    __slots__ = (
        "command",
        "digest",
        "evidence",
        "expires_ms",
        "id",
        "proposed_ms",
        "proposer",
        "reason",
        "world",
    )

    def __init__(
        self,
        id: int,
        command: Command,
        proposer: str,
        reason: str,
        evidence: str,
        proposed_ms: int,
        expires_ms: int,
        world: str,
        digest: str,
    ) -> None:
        self.id = id
        self.command = command
        self.proposer = proposer
        self.reason = reason
        self.evidence = evidence
        self.proposed_ms = proposed_ms
        self.expires_ms = expires_ms
        self.world = world  # a digest of what the command concerns, as it stood when proposed
        self.digest = digest  # what the approval cites
