"""Assets and their precision (the number of decimals amounts of the asset are scaled by)."""

import re

import msgspec

ASSET_CODE = re.compile(r"^[A-Z0-9]{2,12}$")
MAX_PRECISION = 18


class Asset(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: str
    precision: int


def asset_problem(code: str, precision: int) -> str | None:
    """Why an asset definition is invalid, or None."""
    if not ASSET_CODE.match(code):
        return f"asset code {code!r} must be 2 to 12 upper-case letters or digits"
    if not 0 <= precision <= MAX_PRECISION:
        return f"asset precision {precision} must be between 0 and {MAX_PRECISION}"
    return None
