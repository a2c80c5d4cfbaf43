"""One model for an entry of any sanctions list, so the matcher and screening never care which
authority published it. Loaders turn each publication into a `ListVersion` of these.

Everything is kept as published (names in their own script, dates as precise as the list gives
them); countries are ISO 3166-1 alpha-2 where the loader could resolve them.
"""

import hashlib

import msgspec

SCHEMAS = ("Person", "Organization", "Vessel", "Aircraft")  # what an entry (or a query) names


class Identifier(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A document or account number the list ties to the entry: matched exactly, never fuzzily.

    `kind` is normalized: "BIC", "CRYPTO_ADDRESS", "PASSPORT", "NATIONAL_ID", "TAX_ID", "IMO",
    "REGISTRATION", or "OTHER" (then `label` keeps the list's own wording). `network` names a
    crypto address's currency (XBT, ETH, ...).
    """

    kind: str
    value: str
    label: str = ""
    country: str = ""
    network: str = ""


class ListEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One listed person, organization, vessel or aircraft."""

    source: str  # "ofac_sdn", "ofac_cons", "un_sc"
    entry_id: str  # the list's own id (OFAC ent_num, UN DATAID)
    schema: str  # "Person", "Organization", "Vessel" or "Aircraft"
    name: str  # the primary name as listed
    aliases: tuple[str, ...] = ()  # strong aliases (a.k.a., good quality)
    weak_aliases: tuple[str, ...] = ()  # f.k.a., n.k.a., low quality aliases
    original_script_names: tuple[str, ...] = ()
    dates_of_birth: tuple[str, ...] = ()  # "1952", "1952-10", "1952-10-07"
    countries: tuple[str, ...] = ()  # nationality, citizenship, address: alpha-2
    identifiers: tuple[Identifier, ...] = ()
    programs: tuple[str, ...] = ()
    listed_on: str = ""  # YYYY-MM-DD where the list says
    remarks: str = ""


class ListVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One load of one list: what it is, where it came from, and every entry in it."""

    source: str
    published: str  # YYYY-MM-DD as the publication states it (or its file date)
    origin: str  # the file path or URL it was read from
    content_sha256: str  # of the bytes read, so the same publication is recognized
    entries: tuple[ListEntry, ...]


class ListFormatError(ValueError):
    """A publication that cannot be read as it claims to be: says where (line or element)."""

    def __init__(self, origin: str, where: str, problem: str) -> None:
        super().__init__(f"{origin}: {where}: {problem}")
        self.origin = origin
        self.where = where
        self.problem = problem


def sha256_of(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()
