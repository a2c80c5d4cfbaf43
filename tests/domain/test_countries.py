"""The country table the engine validates codes against: checked in (replay must not change with
the installed pycountry), exactly what the engine accepts, and what its generator writes."""

import importlib.util
import itertools
import re
import string
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import bourse.domain.countries
from bourse.compliance.countries import country_name, country_problem
from bourse.domain.countries import NAMES

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "gen_countries.py"


def test_codes_are_exactly_two_uppercase_letters_with_a_name() -> None:
    assert len(NAMES) >= 249
    for code, name in NAMES.items():
        assert re.fullmatch(r"[A-Z]{2}", code), code
        assert name.strip() == name and name, code


def test_the_table_covers_every_code_the_engine_accepts() -> None:
    letters = string.ascii_uppercase
    every_pair = ("".join(p) for p in itertools.product(letters, repeat=2))
    accepted = {code for code in every_pair if country_problem(code) is None}
    assert accepted == set(NAMES)
    for odd in ("de", "De", "DEU", "D", "", " DE", "276"):
        assert country_problem(odd) is not None, odd


def test_names_come_from_the_table() -> None:
    assert country_name("KZ") == "Kazakhstan"
    assert country_name("QQ") == "QQ"


def test_the_checked_in_table_is_what_the_generator_writes() -> None:
    """Catches a hand edit; runs only with the pycountry version the table names."""
    header = Path(bourse.domain.countries.__file__).read_text(encoding="utf-8").splitlines()[0]
    made_with = re.search(r"pycountry (\S+);", header)
    assert made_with, header
    try:
        installed = version("pycountry")
    except PackageNotFoundError:
        pytest.skip("pycountry is not installed")
    if installed != made_with.group(1):
        pytest.skip(f"the table was made with pycountry {made_with.group(1)}, {installed} is here")
    spec = importlib.util.spec_from_file_location("gen_countries", GENERATOR)
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.render() == Path(bourse.domain.countries.__file__).read_text(encoding="utf-8")
