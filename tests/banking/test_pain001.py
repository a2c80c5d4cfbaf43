"""The pain.001 file that pays out fiat withdrawals: what the bank reads back from it, byte-equal
output for equal input, and every refusal naming the withdrawal at fault."""

import dataclasses
import re
from collections.abc import Callable, Sequence

import pytest
from lxml import etree
from schwifty import IBAN

from bourse.banking.pain001 import SCHEMA, Debtor, Payment, PaymentFileProblem, pain001

NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
DEBTOR = Debtor(
    name="Bourse Exchange GmbH",
    iban=IBAN.generate("DE", bank_code="37040044", account_code="0532013000").compact,
    bic="COBADEFFXXX",
)
CREATED_MS = 1_736_000_000_123  # 2025-01-04T14:13:20.123Z
SEPA_TEXT = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")


def payment(withdrawal_id: int = 12, **changes: object) -> Payment:
    base = Payment(
        withdrawal_id=withdrawal_id,
        amount_raw=1050,
        precision=2,
        currency="EUR",
        creditor_name="Anna Schmidt",
        creditor_iban=IBAN.generate(
            "DE", bank_code="37040044", account_code=f"05320{withdrawal_id:05d}"
        ).compact,
        creditor_bic="",
        end_to_end_id=f"BRS-W-{withdrawal_id}",
        remittance=f"bourse withdrawal {withdrawal_id}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


THREE = (
    payment(12),  # 10.50 EUR
    payment(13, amount_raw=2_000_000_000, precision=8, creditor_bic="DEUTDEFF"),  # 20.00 EUR
    payment(
        14,
        amount_raw=7,
        creditor_iban=IBAN.generate(
            "FR", bank_code="30006", branch_code="00001", account_code="12345678901"
        ).compact,
    ),  # 0.07 EUR
)


def build(payments: Sequence[Payment], created_ms: int = CREATED_MS) -> bytes:
    return pain001(DEBTOR, "BRS-P-2025-0001", created_ms, "2025-01-06", payments)


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(e.text) for e in root.iterfind(path, NS)]


def test_three_eur_payments_read_back() -> None:
    root = parse(build(THREE))
    head, info = "p:CstmrCdtTrfInitn/p:GrpHdr", "p:CstmrCdtTrfInitn/p:PmtInf"
    tx = f"{info}/p:CdtTrfTxInf"
    assert texts(root, f"{head}/p:MsgId") == ["BRS-P-2025-0001"]
    assert texts(root, f"{head}/p:CreDtTm") == ["2025-01-04T14:13:20.123Z"]
    assert texts(root, f"{head}/p:NbOfTxs") == texts(root, f"{info}/p:NbOfTxs") == ["3"]
    assert texts(root, f"{head}/p:CtrlSum") == texts(root, f"{info}/p:CtrlSum") == ["30.57"]
    assert texts(root, f"{info}/p:PmtInfId") == ["BRS-P-2025-0001"]
    assert texts(root, f"{info}/p:BtchBookg") == ["false"]
    assert texts(root, f"{info}/p:PmtTpInf/p:SvcLvl/p:Cd") == ["SEPA"]
    assert texts(root, f"{info}/p:ReqdExctnDt/p:Dt") == ["2025-01-06"]
    assert texts(root, f"{info}/p:DbtrAcct/p:Id/p:IBAN") == [DEBTOR.iban]
    assert texts(root, f"{info}/p:DbtrAgt/p:FinInstnId/p:BICFI") == ["COBADEFFXXX"]
    assert texts(root, f"{info}/p:ChrgBr") == ["SLEV"]
    assert texts(root, f"{tx}/p:PmtId/p:EndToEndId") == ["BRS-W-12", "BRS-W-13", "BRS-W-14"]
    assert texts(root, f"{tx}/p:CdtrAcct/p:Id/p:IBAN") == [p.creditor_iban for p in THREE]
    assert texts(root, f"{tx}/p:Amt/p:InstdAmt") == ["10.50", "20.00", "0.07"]
    assert {e.get("Ccy") for e in root.iterfind(f"{tx}/p:Amt/p:InstdAmt", NS)} == {"EUR"}
    assert texts(root, f"{tx}/p:CdtrAgt/p:FinInstnId/p:BICFI") == ["DEUTDEFF"]  # only where given
    assert texts(root, f"{tx}/p:RmtInf/p:Ustrd")[0] == "bourse withdrawal 12"


def test_equal_input_gives_equal_bytes() -> None:
    first = build(THREE)
    assert build(THREE) == first
    later = build(THREE, created_ms=CREATED_MS + 1)
    assert later != first and later.replace(b"20.124Z", b"20.123Z") == first


def test_names_and_remittance_are_written_in_the_sepa_character_set() -> None:
    odd = payment(
        12,
        creditor_name="Jürgen & Söhne Пётр Иванов",
        remittance="Auszahlung «Nr. 12» — Grüße " + "x" * 200,
    )
    root = parse(build([odd]))
    (name,) = texts(root, "p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf/p:Cdtr/p:Nm")
    (remittance,) = texts(root, "p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf/p:RmtInf/p:Ustrd")
    assert name == "Jurgen + Sohne Piotr Ivanov"
    assert remittance.startswith("Auszahlung Nr. 12 -- Grusse xxx") and len(remittance) == 140
    assert SEPA_TEXT.fullmatch(name) and SEPA_TEXT.fullmatch(remittance)


def test_another_currency_gives_a_generic_transfer() -> None:
    root = parse(build([payment(12, currency="USD"), payment(13, currency="USD", amount_raw=1)]))
    info = "p:CstmrCdtTrfInitn/p:PmtInf"
    assert texts(root, f"{info}/p:CdtTrfTxInf/p:Amt/p:InstdAmt") == ["10.50", "0.01"]
    assert root.find(f"{info}/p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS).get("Ccy") == "USD"
    assert texts(root, f"{info}/p:PmtTpInf/p:SvcLvl/p:Cd") == []
    assert texts(root, f"{info}/p:ChrgBr") == ["SHAR"]


REFUSED: list[tuple[str, Callable[[], Sequence[Payment]], str]] = [
    ("no payments", lambda: [], "at least one payment"),
    (
        "mixed currencies",
        lambda: [payment(12), payment(13, currency="USD")],
        r"several currencies \(EUR, USD\)",
    ),
    ("unknown currency", lambda: [payment(12, currency="EUX")], "'EUX' is not an ISO 4217"),
    ("zero amount", lambda: [payment(12, amount_raw=0)], "withdrawal 12: amount 0 EUR is not pos"),
    ("negative amount", lambda: [payment(12, amount_raw=-5)], "withdrawal 12: amount -0.05 EUR"),
    (
        "not whole cents at precision 8",
        lambda: [payment(12, amount_raw=123_456_789, precision=8)],
        r"withdrawal 12: amount 1\.23456789 EUR is not a whole number of 0\.01 EUR",
    ),
    (
        "fractional yen",
        lambda: [payment(12, currency="JPY", amount_raw=150, precision=2)],
        r"amount 1\.5 JPY is not a whole number of 1 JPY",
    ),
    (
        "IBAN checksum",
        lambda: [payment(12), payment(13, creditor_iban="DE00370400440532013000")],
        r"withdrawal 13: IBAN 'DE00370400440532013000' is invalid \(Invalid checksum digits\)",
    ),
    (
        "IBAN outside SEPA for EUR",
        lambda: [payment(12, creditor_iban=IBAN.generate("KZ", "125", "KZT5004100100").compact)],
        "withdrawal 12: IBAN KZ86125KZT5004100100 is outside the SEPA zone",
    ),
    (
        "invalid BIC",
        lambda: [payment(12, creditor_bic="COBA1EFF")],
        "withdrawal 12: BIC 'COBA1EFF' is invalid",
    ),
    (
        "end-to-end id too long",
        lambda: [payment(12, end_to_end_id="BRS-W-" + "1" * 30)],
        "withdrawal 12: end-to-end id 'BRS-W-1+' has 36 characters; at most 35",
    ),
    (
        "end-to-end id outside the character set",
        lambda: [payment(12, end_to_end_id="BRS-W-12ü")],
        "withdrawal 12: end-to-end id 'BRS-W-12ü' must be letters",
    ),
    (
        "end-to-end id twice",
        lambda: [payment(12), payment(13, end_to_end_id="BRS-W-12")],
        "withdrawal 13: end-to-end id 'BRS-W-12' is already used",
    ),
    ("withdrawal twice", lambda: [payment(12), payment(12)], "withdrawal 12 appears twice"),
    (
        "name with nothing SEPA can carry",
        lambda: [payment(12, creditor_name="😀 😀")],
        "withdrawal 12: creditor name",
    ),
]


@pytest.mark.parametrize(
    ("payments", "problem"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_refusals_name_the_withdrawal_and_the_problem(
    payments: Callable[[], Sequence[Payment]], problem: str
) -> None:
    with pytest.raises(PaymentFileProblem, match=problem):
        build(payments())


@pytest.mark.parametrize(
    ("message_id", "execution_date", "problem"),
    [
        ("M" * 36, "2025-01-06", "message id 'M+' has 36 characters"),
        ("/BRS-P-1", "2025-01-06", "message id '/BRS-P-1' must be"),
        ("BRS-P-1", "2025-02-30", "execution date '2025-02-30' is not a date"),
        ("BRS-P-1", "20250106", "execution date '20250106' is not a date"),
    ],
)
def test_the_file_header_is_checked(message_id: str, execution_date: str, problem: str) -> None:
    with pytest.raises(PaymentFileProblem, match=problem):
        pain001(DEBTOR, message_id, CREATED_MS, execution_date, [payment(12)])
