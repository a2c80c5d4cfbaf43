"""A statement file to the commands that import it: checked whole at the edge, then booked in
parts of IMPORT_CHUNK lines so that a statement of 100,000 lines never holds matching up."""

import pytest

from bourse.banking.statement import Statement, StatementEntry, StatementProblem
from bourse.banking.statement_import import IMPORT_CHUNK, import_commands

PRECISIONS, FIAT = {"EUR": 2}, {"EUR"}


def _statement(refs: list[str]) -> Statement:
    entries = tuple(
        StatementEntry(
            bank_ref=ref,
            booked="2026-12-07",
            credit=True,
            reversal=False,
            amount="1.00",
            currency="EUR",
            counterparty_bic="DEUTDEFFXXX",
            position=n,
        )
        for n, ref in enumerate(refs, start=1)
    )
    return Statement(statement_id="S1", account_iban="DE38500400000123456700", currency="EUR",
                     format="camt.053", entries=entries)  # fmt: skip


def _commands(refs: list[str]) -> list[object]:
    return list(import_commands(_statement(refs), "COBADEFFXXX", PRECISIONS, FIAT, actor="t",
                                ts_ms=1, reason="r"))  # fmt: skip


def test_a_long_statement_is_booked_in_parts_in_its_own_order() -> None:
    refs = [f"R{n:05d}" for n in range(2 * IMPORT_CHUNK + 7)]
    parts = import_commands(_statement(refs), "COBADEFFXXX", PRECISIONS, FIAT, actor="t",
                            ts_ms=1, reason="r")  # fmt: skip
    assert [len(p.lines) for p in parts] == [IMPORT_CHUNK, IMPORT_CHUNK, 7]
    assert [line.entry.bank_ref for p in parts for line in p.lines] == refs
    assert {(p.statement_id, p.bank, p.account_iban) for p in parts} == {
        ("S1", "COBADEFFXXX", "DE38500400000123456700")
    }
    assert all(line.amount_raw == 100 for p in parts for line in p.lines)


def test_a_bank_reference_twice_anywhere_in_the_file_refuses_it_whole() -> None:
    refs = [f"R{n:05d}" for n in range(IMPORT_CHUNK + 3)]
    refs[-1] = refs[0]  # in another part than its twin
    with pytest.raises(StatementProblem, match=r"books one bank reference twice \(R00000\)"):
        _commands(refs)
