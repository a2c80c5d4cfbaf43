"""The camt.053 and MT940 parsers: three hand-written samples of one day on one account (camt.053
V02, V08 and MT940) read to the same entries, and every kind of broken file is refused with a
message that names where it broke."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bourse.banking.camt053 import parse_camt053
from bourse.banking.mt940 import parse_mt940
from bourse.banking.statement import Statement, StatementEntry, StatementProblem

SAMPLES = Path(__file__).parent / "samples"
CAMT_V02 = (SAMPLES / "camt053_v02.xml").read_bytes()
CAMT_V08 = (SAMPLES / "camt053_v08.xml").read_bytes()
MT940 = (SAMPLES / "statement.mt940").read_bytes()
OWN_IBAN = "DE38500400000123456700"

EXPECTED = (
    StatementEntry(
        bank_ref="CB240102000001",
        booked="2024-01-02",
        credit=True,
        reversal=False,
        amount="1250.00",
        currency="EUR",
        counterparty_name="Max Mustermann",
        counterparty_iban="DE72500700100175526300",
        counterparty_bic="DEUTDEFFXXX",
        remittance="BOURSE DEP C7-K4",
        end_to_end_id="",  # NOTPROVIDED
        position=1,
    ),
    StatementEntry(
        bank_ref="CB240102000002",
        booked="2024-01-02",
        credit=True,
        reversal=False,
        amount="0.01",
        currency="EUR",
        counterparty_name="Erika Musterfrau",
        counterparty_iban="DE36500105175407324396",
        counterparty_bic="INGDDEFFXXX",
        remittance="BOURSE DEP Q9-Z2",
        end_to_end_id="E2E-ERIKA-0001",
        position=2,
    ),
    StatementEntry(
        bank_ref="CB240102000003",
        booked="2024-01-02",
        credit=True,
        reversal=False,
        amount="999999999.99",
        currency="EUR",
        counterparty_name="Nordwind Handels GmbH",
        counterparty_iban="DE29100100100987654321",
        counterparty_bic="PBNKDEFFXXX",
        remittance="BOURSE DEP M3-P8 INVOICE 2024-17 PREPAYMENT",
        end_to_end_id="NW-2024-0017",
        position=3,
    ),
    StatementEntry(
        bank_ref="CB240102000004",
        booked="2024-01-02",
        credit=True,
        reversal=False,
        amount="480.00",
        currency="EUR",
        counterparty_name="Jonas Becker",
        counterparty_iban="DE89370400440532013000",
        counterparty_bic="COBADEFFXXX",
        remittance="",
        end_to_end_id="",
        position=4,
    ),
    StatementEntry(
        bank_ref="CB240102000005",
        booked="2024-01-02",
        credit=False,
        reversal=False,
        amount="2500.00",
        currency="EUR",
        counterparty_name="Anna Schmidt",
        counterparty_iban="DE65100700000123456789",
        counterparty_bic="DEUTDEBBXXX",
        remittance="BOURSE WITHDRAWAL BRS-W-12",
        end_to_end_id="BRS-W-12",
        position=5,
    ),
    StatementEntry(
        bank_ref="CB240102000006",
        booked="2024-01-02",
        credit=False,  # a credit reversed: the money went back out
        reversal=True,
        amount="75.50",
        currency="EUR",
        counterparty_name="Max Mustermann",
        counterparty_iban="DE72500700100175526300",
        counterparty_bic="DEUTDEFFXXX",
        remittance="RETURN BOURSE DEP C7-K4 AC04",
        end_to_end_id="MM-20231228-01",
        position=6,
    ),
    StatementEntry(
        bank_ref="CB240102000007",
        booked="2024-01-02",  # value date 2023-12-29: the booking date counts
        credit=True,
        reversal=False,
        amount="921.35",  # USD 1000.00 as instructed, booked in the account's EUR
        currency="EUR",
        counterparty_name="OOO Vostok Trade",
        counterparty_iban="RU8604452522540702810938000012345",
        counterparty_bic="SABRRUMMXXX",
        remittance="BOURSE DEP R5-T1",
        end_to_end_id="VT-20231229-77",
        position=7,
    ),
)

PARSED = {
    "camt053_v02": (parse_camt053, CAMT_V02, "2024010200001", "camt.053"),
    "camt053_v08": (parse_camt053, CAMT_V08, "2024010200001", "camt.053"),
    "camt053_v13": (
        parse_camt053,
        CAMT_V08.replace(b"camt.053.001.08", b"camt.053.001.13"),
        "2024010200001",
        "camt.053",
    ),
    "mt940": (parse_mt940, MT940, "2024010200001/00001/001", "mt940"),
}


@pytest.mark.parametrize("name", PARSED)
def test_each_sample_reads_to_the_expected_statement(name: str) -> None:
    parse, data, statement_id, fmt = PARSED[name]
    assert parse(data) == Statement(
        statement_id=statement_id,
        account_iban=OWN_IBAN,
        servicer_bic="COBADEFFXXX",
        currency="EUR",
        format=fmt,
        entries=EXPECTED,
    )


def test_the_three_formats_report_the_same_movements() -> None:
    v02, v08, mt = parse_camt053(CAMT_V02), parse_camt053(CAMT_V08), parse_mt940(MT940)
    assert v02.entries == v08.entries == mt.entries
    assert {s.account_iban for s in (v02, v08, mt)} == {OWN_IBAN}


# --- builders: a sample with one change, and small MT940 statements -----------------------------


def _edit(data: bytes, old: str, new: str) -> bytes:
    """`data` with the first `old` replaced by `new`."""
    text = data.decode()
    assert old in text, old
    return text.replace(old, new, 1).encode()


def _line(data: bytes, start: str) -> int:
    """The 1-based line of the sample that starts with `start`."""
    lines = data.decode().split("\n")
    return next(n for n, line in enumerate(lines, 1) if line.startswith(start))


def _mt940(body: str, *, opening: str = "100,00") -> bytes:
    """A one-statement MT940 around `body` (its :61:/:86: fields), its balances made to add up."""
    total = Decimal(opening.replace(",", "."))
    for mark, amount in re.findall(r"^:61:[0-9]{10}(R?[CD])[A-Z]?([0-9,]+)", body, re.MULTILINE):
        signed = Decimal(amount.replace(",", "."))
        total += signed if mark in ("C", "RD") else -signed
    closing = f"{total:.2f}".replace(".", ",")
    return (
        f":20:REF1\n:25:{OWN_IBAN}\n:28C:7/1\n:60F:C240101EUR{opening}\n{body}\n"
        f":62F:C240102EUR{closing}\n-\n"
    ).encode()


# --- camt.053: refused, with the place named ----------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>
<Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = CAMT_V02.replace(
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE Document [<!ENTITY own SYSTEM "file:///etc/hostname">]>',
).replace(b"<Ustrd>BOURSE DEP C7-K4</Ustrd>", b"<Ustrd>&own;</Ustrd>")

CAMT_REFUSED = {
    "empty": (b"", ["camt.053: the file is empty"]),
    "blank": (b" \n\t", ["camt.053: the file is empty"]),
    "truncated": (CAMT_V02[: len(CAMT_V02) // 2], ["camt.053: not well-formed XML at line "]),
    "billion laughs": (BILLION_LAUGHS, ["camt.053: the file has a DOCTYPE declaration"]),
    "external entity": (EXTERNAL_ENTITY, ["camt.053: the file has a DOCTYPE declaration"]),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not well-formed XML at line 1"]),
    "json": (b"{}", ["not well-formed XML at line 1"]),
    "camt.054, not .053": (
        CAMT_V02.replace(b"camt.053.001.02", b"camt.054.001.02"),
        ["root element", "not a Document"],
    ),
    "no namespace": (
        b"<Document><BkToCstmrStmt/></Document>",
        ["the root element is 'Document', not a Document"],
    ),
    "no statement": (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.13"><BkToCstmrStmt/>'
        b"</Document>",
        ["has no BkToCstmrStmt/Stmt"],
    ),
    "two statements": (
        _edit(CAMT_V02, "</Stmt>", "</Stmt><Stmt><Id>2</Id></Stmt>"),
        ["holds 2 Stmt statements", "one statement per file"],
    ),
    "account without IBAN": (
        _edit(
            CAMT_V02,
            "<IBAN>DE38500400000123456700</IBAN>",
            "<Othr><Id>0123456700</Id></Othr>",
        ),
        ["Stmt (line 12): Acct/Id has no IBAN (Othr/Id '0123456700')"],
    ),
    "entry without any reference": (
        _edit(CAMT_V08, "<AcctSvcrRef>CB240102000004</AcctSvcrRef>", ""),
        ["entry 4 (Ntry, line ", "AcctSvcrRef, NtryRef and TxDtls/Refs/AcctSvcrRef are missing"],
    ),
    "decimal comma": (
        _edit(CAMT_V02, '<Amt Ccy="EUR">1250.00</Amt>', '<Amt Ccy="EUR">12,50</Amt>'),
        ["camt.053: entry 1 (Ntry, line 72): Amt '12,50' is not a decimal amount"],
    ),
    "negative amount": (
        _edit(CAMT_V02, '<Amt Ccy="EUR">0.01</Amt>', '<Amt Ccy="EUR">-5</Amt>'),
        ["entry 2 (Ntry, line ", "Amt '-5' is not a decimal amount"],
    ),
    "exponent": (
        _edit(CAMT_V02, '<Amt Ccy="EUR">480.00</Amt>', '<Amt Ccy="EUR">1e3</Amt>'),
        ["entry 4 (Ntry, line ", "Amt '1e3' is not a decimal amount"],
    ),
    "zero amount": (
        _edit(CAMT_V02, '<Amt Ccy="EUR">480.00</Amt>', '<Amt Ccy="EUR">0.00</Amt>'),
        ["entry 4 (Ntry, line ", "Amt '0.00' is zero"],
    ),
    "lower-case currency": (
        _edit(CAMT_V02, '<Amt Ccy="EUR">0.01</Amt>', '<Amt Ccy="eur">0.01</Amt>'),
        ["entry 2 (Ntry, line ", "Amt/@Ccy 'eur' is not a currency code"],
    ),
    "credit or debit unknown": (
        _edit(CAMT_V02, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>XXXX</CdtDbtInd>"),
        ["entry 5 (Ntry, line ", "CdtDbtInd 'XXXX' is neither CRDT nor DBIT"],
    ),
    "reversal not a boolean": (
        _edit(CAMT_V02, "<RvslInd>true</RvslInd>", "<RvslInd>yes</RvslInd>"),
        ["entry 6 (Ntry, line ", "RvslInd 'yes' is not a boolean"],
    ),
    "pending entry": (
        _edit(CAMT_V08, "<Cd>BOOK</Cd>", "<Cd>PDNG</Cd>"),
        ["entry 1 (Ntry, line ", "Sts 'PDNG': only booked (BOOK) entries are read"],
    ),
    "no booking date": (
        _edit(CAMT_V02, "<BookgDt>\n          <Dt>2024-01-02</Dt>\n        </BookgDt>", ""),
        ["entry 1 (Ntry, line ", "BookgDt is missing"],
    ),
    "impossible booking date": (
        _edit(CAMT_V02, "<Dt>2024-01-02</Dt>\n        </BookgDt>", "<Dt>2024-02-30</Dt></BookgDt>"),
        ["entry 1 (Ntry, line ", "BookgDt/Dt '2024-02-30' is not a date"],
    ),
    "batch booking": (
        _edit(CAMT_V02, "</TxDtls>", "</TxDtls><TxDtls/>"),
        ["entry 1 (Ntry, line ", "NtryDtls holds 2 TxDtls (a batch booking)"],
    ),
}


@pytest.mark.parametrize("case", CAMT_REFUSED)
def test_camt053_refuses_a_broken_file_and_says_where(case: str) -> None:
    data, expected = CAMT_REFUSED[case]
    with pytest.raises(StatementProblem) as refused:
        parse_camt053(data)
    message = str(refused.value)
    assert message.startswith("camt.053: "), message
    for part in expected:
        assert part in message, message


def test_camt053_takes_what_the_bank_wrote() -> None:
    """An entry in another currency than the account's, a structured creditor reference, a
    boolean written 1, an IBAN with spaces and a DtTm booking date."""
    data = _edit(CAMT_V08, '<Amt Ccy="EUR">480.00</Amt>', '<Amt Ccy="USD">480.00</Amt>')
    data = _edit(
        data,
        "<Ustrd>BOURSE DEP Q9-Z2</Ustrd>",
        "<Ustrd>BOURSE  DEP</Ustrd><Strd><CdtrRefInf><Ref>RF18 5390 0754 7034</Ref>"
        "</CdtrRefInf></Strd>",
    )
    data = _edit(data, "<RvslInd>true</RvslInd>", "<RvslInd>1</RvslInd>")
    data = _edit(
        data, "<IBAN>DE72500700100175526300</IBAN>", "<IBAN>de72 5007 0010 0175 5263 00</IBAN>"
    )
    entries = parse_camt053(data).entries
    assert (entries[3].amount, entries[3].currency) == ("480.00", "USD")
    assert entries[1].remittance == "BOURSE DEP RF18 5390 0754 7034"
    assert entries[5].reversal and not entries[5].credit
    assert entries[0].counterparty_iban == "DE72500700100175526300"
    assert entries[0].booked == "2024-01-02"


# --- MT940: refused, with the place named -------------------------------------------------------

CUT_IN_A_61 = MT940[: MT940.index(b":61:2401020102DR2500") + 14]
GARBLED_61 = _edit(MT940, ":61:2401020102DR2500,00NTRF", ":61:24X1020102DR2500,00NTRF")
LINE_OF_DEBIT = _line(MT940, ":61:2401020102DR2500")
LINE_OF_NO_REF = _line(MT940, ":61:2401020102C480")
MT940_LINES = MT940.count(b"\n")

MT940_REFUSED = {
    "empty": (b"", ["mt940: the file is empty"]),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ["not an MT940 statement"]),
    "json": (b"{}", ["not an MT940 statement"]),
    "camt.053 given as MT940": (CAMT_V02, ["not an MT940 statement"]),
    "truncated in a :61:": (
        CUT_IN_A_61,
        [
            "no :62F: closing balance: the file is truncated or incomplete",
            f"after line {LINE_OF_DEBIT}",
        ],
    ),
    "truncated after a :61:": (
        MT940[: MT940.index(b":86:/EREF/BRS-W-12")],
        ["no :62F: closing balance", f"after line {LINE_OF_DEBIT}"],
    ),
    "no :25:": (
        _edit(MT940, ":25:COBADEFFXXX/DE38500400000123456700\n", ""),
        ["mt940: no :25: account identification"],
    ),
    "no :20:": (_edit(MT940, ":20:2024010200001\n", ""), ["mt940: no :20: transaction reference"]),
    "no :60F:": (
        _edit(MT940, ":60F:", ":60M:"),
        ["mt940: no :60F: opening balance"],
    ),
    "garbled :61:": (
        GARBLED_61,
        [f"mt940: line {LINE_OF_DEBIT}: :61: '24X1020102DR2500,00NTRFBRS-W-12//CB240102000005'"],
    ),
    ":61: without a transaction type": (
        _edit(MT940, "DR2500,00NTRFBRS-W-12", "DR2500,00"),
        [f"line {LINE_OF_DEBIT}: :61: '2401020102DR2500,00//CB240102000005' is not a statement"],
    ),
    ":61: with an impossible date": (
        _edit(MT940, ":61:2401020102DR2500", ":61:2413020102DR2500"),
        [f"line {LINE_OF_DEBIT}: :61: ", "has no valid value or entry date"],
    ),
    ":61: zero amount": (
        _edit(MT940, "DR2500,00NTRF", "DR0,00NTRF"),
        [f"line {LINE_OF_DEBIT}: :61: amount '0,00' is not a positive amount"],
    ),
    ":61: without any reference": (
        _edit(MT940, "C480,00NTRFNONREF//CB240102000004", "C480,00NTRFNONREF"),
        [f"line {LINE_OF_NO_REF}: :61: has no bank reference after // and no customer reference"],
    ),
    ":61: in another currency": (
        _edit(MT940, ":61:2401020102CR1250,00", ":61:2401020102CD1250,00"),
        ["line 5: :61: funds code 'D' says the amount is not in the account's EUR"],
    ),
    "an entry missing": (
        _edit(
            MT940,
            ":61:2401020102CR0,01NTRFNONREF//CB240102000002\n",
            "",
        ),
        [":62F: closing balance 1000015075.85 EUR is not the :60F: opening balance 15000.00"],
    ),
    "an amount garbled": (
        _edit(MT940, "CR1250,00NTRF", "CR1250,10NTRF"),
        [f"line {_line(MT940, ':62F:')}: :62F: closing balance", "1000015075.95"],
    ),
    "two statements": (
        MT940 + MT940.replace(b":28C:00001/001", b":28C:00002/001"),
        [f"mt940: the file holds 2 statements (:20: at lines 1, {MT940_LINES + 1})"],
    ),
    "account without IBAN": (
        _edit(MT940, "COBADEFFXXX/DE38500400000123456700", "50040000/0123456700"),
        ["mt940: line 2: :25: '50040000/0123456700' names no IBAN"],
    ),
    "IBAN with a wrong check digit": (
        _edit(MT940, "COBADEFFXXX/DE38500400000123456700", "COBADEFFXXX/DE39500400000123456700"),
        ["line 2: :25: ", "names no IBAN"],
    ),
    "balance not a balance": (
        _edit(MT940, ":60F:C231229EUR15000,00", ":60F:C231229EUR15.000,00"),
        ["mt940: line 4: :60F: 'C231229EUR15.000,00' is not a balance"],
    ),
    "a bad :28C: mt940 refuses": (
        _edit(MT940, ":28C:00001/001", ":28C:ABC"),
        ["mt940: line 3: :28C: 'ABC' cannot be read"],
    ),
}


@pytest.mark.parametrize("case", MT940_REFUSED)
def test_mt940_refuses_a_broken_file_and_says_where(case: str) -> None:
    data, expected = MT940_REFUSED[case]
    with pytest.raises(StatementProblem) as refused:
        parse_mt940(data)
    message = str(refused.value)
    assert message.startswith("mt940: "), message
    for part in expected:
        assert part in message, message


# --- MT940: the forms banks write ---------------------------------------------------------------


def test_mt940_reads_crlf_a_swift_envelope_and_latin1() -> None:
    wrapped = (
        b"{1:F01COBADEFFAXXX0000000000}{2:O9401805240102COBADEFFAXXX00000000002401021805N}{4:\n"
        + MT940.removesuffix(b"-\n")
        + b"-}{5:{CHK:123456789ABC}}\n"
    )
    assert parse_mt940(wrapped.replace(b"\n", b"\r\n")) == parse_mt940(MT940)
    latin1 = _edit(MT940, "?32Max Mustermann", "?32Jürgen Müller").decode().encode("latin-1")
    assert parse_mt940(latin1).entries[0].counterparty_name == "Jürgen Müller"


ACCOUNT_FORMS = {
    "BIC/IBAN": ("COBADEFFXXX/DE38500400000123456700", "COBADEFFXXX"),
    "IBAN": ("DE38500400000123456700", ""),
    "IBAN and currency": ("DE38500400000123456700EUR", ""),
    "BIC/IBAN with spaces, lower case": ("cobadeff/de38 5004 0000 0123 4567 00", "COBADEFF"),
}


@pytest.mark.parametrize("case", ACCOUNT_FORMS)
def test_mt940_finds_the_iban_and_bic_in_25(case: str) -> None:
    account, bic = ACCOUNT_FORMS[case]
    statement = parse_mt940(_edit(MT940, "COBADEFFXXX/DE38500400000123456700", account))
    assert (statement.account_iban, statement.servicer_bic) == (OWN_IBAN, bic)


KEYWORD_FORMS = {
    "ING: /CNTP/ account/BIC/name/city": (
        ":61:2401020102C10,00NTRFNONREF//ING-1\n"
        ":86:/EREF/ING-E2E-1//CNTP/NL91ABNA0417164300/ABNANL2A/J. de Vries/Amsterdam\n"
        "///REMI/USTD//BOURSE DEP A1-B2/",
        ("J. de Vries", "NL91ABNA0417164300", "ABNANL2A", "BOURSE DEP A1-B2", "ING-E2E-1"),
    ),
    "ABN AMRO: no party keyword": (
        ":61:2401020102C10,00NTRFNONREF//ABN-1\n"
        ":86:/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/P. Janssen\n"
        "/REMI/BOURSE DEP C3-D4/EREF/NOTPROVIDED",
        ("P. Janssen", "NL91ABNA0417164300", "ABNANL2A", "BOURSE DEP C3-D4", ""),
    ),
    "structured creditor reference, payer and payee both named": (
        ":61:2401020102C10,00NTRFNONREF//RABO-1\n"
        f":86:/BENM//NAME/Bourse Digital GmbH/IBAN/{OWN_IBAN}/ORDP//NAME/K. Bakker/ACCW/NL\n"
        "91ABNA0417164300/REMI/STRD/CUR/RF18539007547034/",
        ("K. Bakker", "NL91ABNA0417164300", "", "RF18539007547034", ""),
    ),
    "free text": (
        ":61:2401020102C10,00NTRFNONREF//FREE-1\n:86:BOURSE DEP E5-F6\nTHANK YOU",
        ("", "", "", "BOURSE DEP E5-F6 THANK YOU", ""),
    ),
    "German, remittance continued in ?60": (
        ":61:2401020102C10,00NTRFNONREF//DE-1\n"
        ":86:166?00SEPA-GUTSCHRIFT?20EREF+X-1?21MREF+M-1?22SVWZ+BOURSE DEP G7-H8 PAR"
        "?30COBADEFFXXX?31DE89370400440532013000?32Jonas Becker Handelsgesells?33chaft mbH?60T 2",
        (
            "Jonas Becker Handelsgesellschaft mbH",
            "DE89370400440532013000",
            "COBADEFFXXX",
            "BOURSE DEP G7-H8 PART 2",
            "X-1",
        ),
    ),
    "German, plain purpose without SEPA keywords": (
        ":61:2401020102C10,00NTRFNONREF//DE-2\n:86:051?00UEBERWEISG?20BOURSE DEP?21 I9-J0",
        ("", "", "", "BOURSE DEP I9-J0", ""),
    ),
}


@pytest.mark.parametrize("case", KEYWORD_FORMS)
def test_mt940_reads_each_form_of_86(case: str) -> None:
    body, (name, iban, bic, remittance, end_to_end) = KEYWORD_FORMS[case]
    (entry,) = parse_mt940(_mt940(body)).entries
    got = (
        entry.counterparty_name,
        entry.counterparty_iban,
        entry.counterparty_bic,
        entry.remittance,
        entry.end_to_end_id,
    )
    assert got == (name, iban, bic, remittance, end_to_end)


def test_mt940_reversal_marks_say_where_the_money_went() -> None:
    body = (
        ":61:2401020102RD7,00NRTINONREF//R-1\n:86:BACK IN\n"
        ":61:2401020102RC3,00NRTINONREF//R-2\n:86:BACK OUT\n"
        ":61:2401020102D1,NTRFOUR-REF-9\n"
        ":86:/EREF/OUR-REF-9/BENM//NAME/A/IBAN/DE65100700000123456789/REMI/USTD//X/"
    )
    entries = parse_mt940(_mt940(body)).entries
    assert [(e.credit, e.reversal, e.amount) for e in entries] == [
        (True, True, "7.00"),
        (False, True, "3.00"),
        (False, False, "1"),
    ]
    assert entries[2].bank_ref == "OUR-REF-9"  # no // bank reference: the customer's


def test_mt940_statement_information_after_62f_is_not_an_entrys() -> None:
    data = _mt940(":61:2401020102C10,00NTRFNONREF//S-1\n:86:BOURSE DEP K1-L2")
    data = data.replace(b"\n-\n", b"\n:86:STATEMENT NOTE\n-\n")
    (entry,) = parse_mt940(data).entries
    assert entry.remittance == "BOURSE DEP K1-L2"
