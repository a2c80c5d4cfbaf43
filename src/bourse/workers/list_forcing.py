"""Forcing a sanctions list version through four eyes.

Putting in force a version the guard refused (no entries, or removing an unusual share of what
is in force) is a decision journaled first (`ForceListVersion`). Where four eyes cover it, the
first attempt proposes the decision and stops: nothing goes into force. Once a second person
has approved it, the same load again finds the decision made (the read model's `forced_lists`)
and goes ahead, citing it.
"""

import datetime

from bourse.commands import ForceListVersion, proposal_of
from bourse.compliance.sanctions.versions import ListSourceError, ListStore
from bourse.compliance.staff import four_eyed
from bourse.events import CommandRejected, Outcome, ProposalMade
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import forced_key

PROPOSAL_HOURS = 72


class ForcingProposed(ListSourceError):
    """The decision to force is proposed; the load goes ahead once it is approved."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        made = next(e for e in outcome.events if isinstance(e, ProposalMade))
        self.proposal_id = made.proposal_id
        super().__init__(
            f"forcing it needs a second person's approval: proposal {made.proposal_id} waits "
            "for it; once approved, load the same version again with --force to put it in force"
        )


async def decide_forcing(service: GatewayService, cmd: ForceListVersion, since_ms: int = 0) -> int:
    """The seq of the decision to force `cmd`'s version: one taken after `since_ms` (when the
    version now in force was loaded: an older decision was used, or overtaken), or `cmd` now.
    Raises ForcingProposed where four eyes cover it (and it was not approved yet), and
    ListSourceError if the engine refuses it."""
    done = decided_since(service.view, cmd, since_ms)
    if done is not None:
        return done
    if four_eyed(service.view.four_eyes, type(cmd).__name__, cmd.actor):
        proposal = proposal_of(cmd, expires_ms=cmd.ts_ms + PROPOSAL_HOURS * 3_600_000)
        outcome = await service.execute(proposal)
        if not outcome.refused:
            raise ForcingProposed(outcome)
    else:
        outcome = await service.execute(cmd)
    for event in outcome.events:
        if isinstance(event, CommandRejected):
            raise ListSourceError(f"the engine refused to force it: {event.reason}")
    return outcome.seq


def decided_since(view: ReadModel, cmd: ForceListVersion, since_ms: int) -> int | None:
    """The seq of a decision to force `cmd`'s version taken after `since_ms`, or None."""
    done = view.forced_lists.get(forced_key(cmd.source, cmd.list_sha256, cmd.previous_sha256))
    return done[0] if done is not None and done[1] > since_ms else None


def loaded_ms(store: ListStore, source: str) -> int:
    """When the version of `source` now in force was loaded, in ms (0: none is), rounded up to
    the next second: the store keeps whole seconds, and a decision in that same second may have
    come before it."""
    info = store.in_force(source)
    if info is None:
        return 0
    moment = datetime.datetime.fromisoformat(info.loaded_at)
    return int(moment.timestamp()) * 1000 + 1000
