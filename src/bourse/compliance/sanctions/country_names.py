"""Country names as the sanctions lists write them ("Korea, North", "Iran (Islamic Republic of)",
"Russian Federation") resolved to ISO 3166-1 alpha-2, for every loader alike."""

import functools

import pycountry

# Spellings pycountry's exact lookup does not resolve (or resolves only by an older name),
# casefolded: OFAC's short names and the UN's official ones.
_NAMES: dict[str, str] = {
    "russia": "RU",
    "korea, north": "KP",
    "korea, south": "KR",
    "burma": "MM",
    "turkey": "TR",
    "palestinian": "PS",
    "region: gaza": "PS",
    "region: west bank": "PS",
    "congo, democratic republic of the": "CD",
    "congo, republic of the": "CG",
    "macau": "MO",
    "bahamas, the": "BS",
    "gambia, the": "GM",
    "brunei": "BN",
    "cote d ivoire": "CI",
    "sint maarten": "SX",
    "curacao": "CW",
    "holy see": "VA",
    "the gambia": "GM",
    "macedonia, the former yugoslav republic of": "MK",
    "st. vincent and the grenadines": "VC",
    "st. kitts & nevis": "KN",
    "vatican city": "VA",
    "iran (islamic republic of)": "IR",
    "democratic people's republic of korea": "KP",
    "republic of korea": "KR",
    "syrian arab republic": "SY",
    "russian federation": "RU",
    "democratic republic of the congo": "CD",
    "china, hong kong special administrative region": "HK",
    "state of palestine": "PS",
    "bolivia (plurinational state of)": "BO",
    "venezuela (bolivarian republic of)": "VE",
    "republic of moldova": "MD",
    "lao people's democratic republic": "LA",
    "micronesia (federated states of)": "FM",
}
# Placeholders for "not known": neither a country nor a failure to resolve one.
_NO_COUNTRY = frozenset({"", "na", "n/a", "unknown"})


@functools.lru_cache(maxsize=1024)
def resolve_country(name: str) -> str | None:
    """ISO alpha-2 for a listed country name, "" for a "not known" placeholder, None if
    unresolved (the loaders count those rather than guess)."""
    key = " ".join(name.split()).rstrip(".").casefold()
    if key in _NO_COUNTRY:
        return ""
    if key in _NAMES:
        return _NAMES[key]
    # Names only: pycountry.lookup also matches codes, and "na" would become Namibia.
    if len(key) <= 3:
        return None
    try:
        return str(pycountry.countries.lookup(key).alpha_2)
    except LookupError:
        return None
