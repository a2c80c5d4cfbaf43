"""What offboarding people together would do: the preview a bulk offboarding cites (computed by
engine/work.py's `plan`, shown by the admin API, cited by `OffboardMany`)."""

import hashlib

import msgspec

from bourse.domain.rejections import Refusal, RejectCode


class Handover(msgspec.Struct, frozen=True, kw_only=True):
    """What offboarding `names` together would do: every token and proposal of theirs ended,
    each item they own moved (item, new owner), and what would be left with no one entitled to
    decide it (`stranded`: its new owner cannot; `orphaned`: only those leaving could)."""

    names: tuple[str, ...]
    tokens: tuple[tuple[str, str], ...]  # (name, token id)
    withdrawn: tuple[int, ...]  # proposal ids
    moves: tuple[tuple[str, str], ...]  # (item, new owner)
    stranded: tuple[tuple[str, str], ...]  # (item, the owner it would go to)
    orphaned: tuple[str, ...]
    problem: str = ""  # a name that cannot leave this way (unknown, left, no one to take work)

    @property
    def refusal(self) -> Refusal | None:
        if self.problem:
            return Refusal(RejectCode.INVALID_PARAMETER, self.problem)
        if not (self.stranded or self.orphaned):
            return None
        parts = [f"{owner} cannot decide {item}" for item, owner in self.stranded]
        if self.orphaned:
            parts.append(f"no one else could decide {', '.join(self.orphaned)}")
        who = ", ".join(self.names)
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"offboarding {who} would leave work without anyone to decide it: " + "; ".join(parts),
        )

    def digest(self) -> str:
        """What an offboarding of many cites, as a policy apply cites its preview."""
        return hashlib.sha256(msgspec.json.encode(self)).hexdigest()[:20]
