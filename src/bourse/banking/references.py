"""A customer's deposit reference: what they write in a bank transfer's remittance information
so that the exchange credits the right person.

`BRS-<customer id>-<two check digits>`, the digits by ISO 7064 MOD 97-10 (as in an IBAN or the
RF creditor reference), so a typo in the number is caught instead of crediting someone else.
Banks pass remittance text on uppercased, with spaces dropped or added and the hyphens lost, so
the search accepts `BRS 7 42`, `brs742`... as long as the check digits agree.
"""

import re

PREFIX = "BRS"
_FOUND = re.compile(rf"\b{PREFIX}[\s-]*([0-9]{{1,12}})[\s-]*([0-9]{{2}})\b", re.IGNORECASE)


def _check_digits(customer_id: int) -> int:
    # as an IBAN: append "00", the letters as numbers (B=11, R=27, S=28), 98 minus mod 97
    return 98 - int(f"{customer_id}11272800") % 97


def deposit_reference(customer_id: int) -> str:
    return f"{PREFIX}-{customer_id}-{_check_digits(customer_id):02d}"


class Found:
    """What the remittance text says: the customer it names (0: none), or why none."""

    __slots__ = ("customer_id", "problem")

    def __init__(self, customer_id: int = 0, problem: str = "") -> None:
        self.customer_id = customer_id
        self.problem = problem


def find_reference(remittance: str) -> Found:
    """The one customer the text's deposit references name. Several references naming different
    customers, or check digits that do not agree, name nobody (and say so)."""
    named: dict[int, str] = {}
    bad: list[str] = []
    for match in _FOUND.finditer(remittance):
        number, check = int(match.group(1)), int(match.group(2))
        text = match.group(0)
        if number == 0 or _check_digits(number) != check:
            bad.append(text)
        else:
            named[number] = text
    if len(named) > 1:
        return Found(
            problem=f"it names several customers' references ({', '.join(named.values())})"
        )
    if named:
        return Found(customer_id=next(iter(named)))
    if bad:
        return Found(problem=f"reference {bad[0]!r} has check digits that do not agree: a typo?")
    return Found(problem="it carries no deposit reference")
