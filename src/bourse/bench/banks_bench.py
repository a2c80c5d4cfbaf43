"""`bourse bench banks`: reconcile a bank statement of many lines, and preview a partner bank's
cut-off among many customers, in memory.

The world is built through ordinary commands (not counted): two fiat assets, four partner banks,
`customers` customers resident in four countries, each with a verified bank account at the bank
of their country (so the bank to be cut off, VTB, holds a quarter of them) and every tenth with a
second account at another bank; `pending` fiat withdrawals, half of them sent in VTB's payment
file, the rest waiting.

- statement: a camt.053 of `statement_lines` credit lines from customers of the other banks,
  each with the customer's deposit reference, sending IBAN and BIC, is parsed
  (`read_statement`), turned into commands (`import_commands`, `IMPORT_CHUNK` lines each) and run
  through the engine. Reference, in the same run: the engine crediting the same amounts as plain
  Deposit commands, one per line (`deposits_reference_s`); `statement_ratio` is the engine's
  import time over it.
- cut-off: VTB's cut-off previewed as the admin API reads it (`cutoff.preview`, steps of
  `PREVIEW_SLICE` bank accounts: the longest step is the longest engine hold), then applied
  citing the preview (one command, timed). Reference, in the same run: the jurisdiction policy
  preview of the same customers (VTB's customers are exactly Russia's residents),
  `preview_ratio` is the cut-off preview's time over it.
"""

import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from bourse.banking.cutoff import Cause, CutOffSpec, Outgoing
from bourse.banking.references import deposit_reference
from bourse.banking.statement_import import import_commands, read_statement
from bourse.bench.gc_watch import GcWatch
from bourse.commands import (
    AddBankAccount,
    Command,
    CreateAsset,
    CreatePaymentFile,
    CutOffBank,
    DefineBank,
    Deposit,
    OnboardCustomer,
    RequestWithdrawal,
)
from bourse.compliance.policy import Access, Capability, PolicySpec, Rule
from bourse.engine import Engine, cutoff, impact
from bourse.events import AccountOpened, CommandRejected, CustomerRecorded, StatementImported
from bourse.server.heap import settle_heap

ACTOR = "bench"
REASON = "banks benchmark set-up"
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CUT = "VTBRRUMMXXX"
# (BIC, name, country): each serves the residents of its country; the customer numbered i
# lives in COUNTRIES[i % 4] and banks at BANKS[i % 4]
BANKS = (
    (CUT, "VTB Bank", "RU"),
    ("HSBKKZKXXXX", "Halyk Bank", "KZ"),
    ("ARMIAM22XXX", "Ameriabank", "AM"),
    ("NBFAUZ2XXXX", "Kapitalbank", "UZ"),
)
# beyond its own country's residents, VTB serves all four (its file pays everyone's payouts),
# and Halyk serves Russia's too (where VTB's customers could move, and its payouts be rerouted)
ALSO_SERVES = {0: ("KZ", "AM", "UZ"), 1: ("RU",)}
STATEMENT_BANK = 1  # the statement is of the exchange's account at Halyk Bank
BUILD_TICK = 10_000
T = TypeVar("T")

ProgressFactory = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


def _no_progress(description: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda n: None)


def _ours(bank: int) -> str:
    return f"BENCHOURS{bank:02d}EUR"  # the engine keeps IBANs as given: checked at the edge


def _iban(customer: int, n: int = 0) -> str:
    """A valid German IBAN per customer (and second account `n`), made without a library: the
    check digits of ISO 13616 (98 minus the BBAN followed by "DE00", as digits, mod 97)."""
    bban = f"{10070000 + n:08d}{customer:010d}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


def _name(i: int) -> str:
    return f"Bench Customer {i}"


class _Engine:
    """Runs commands with consecutive sequence numbers; the world is wrong if a build command
    is refused."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.seq = 0

    def __call__(self, cmd: Command) -> list[Any]:
        self.seq += 1
        return self.engine.execute(self.seq, cmd)

    def set_up(self, cmd: Command) -> list[Any]:
        events = self(cmd)
        for e in events:
            if type(e) is CommandRejected:
                raise RuntimeError(f"the bench's {e.command} was refused: {e.reason}")
        return events


def _stamp(**fields: Any) -> dict[str, Any]:
    return {"actor": ACTOR, "ts_ms": T0_MS, "reason": REASON, **fields}


def _build(run: _Engine, customers: int, pending: int, progress: ProgressFactory) -> list[int]:
    """The world; returns each customer's account id, in onboarding order."""
    for asset in ("EUR", "RUB"):
        run.set_up(CreateAsset(**_stamp(asset=asset, precision=2, fiat=True)))
    for n, (bic, name, country) in enumerate(BANKS):
        run.set_up(
            DefineBank(
                **_stamp(
                    bic=bic,
                    name=name,
                    country=country,
                    currencies=("EUR",),
                    serves=(country, *ALSO_SERVES.get(n, ())),
                    accounts=(("EUR", _ours(n)),),
                )
            )
        )
    accounts: list[int] = []
    with progress("onboarding customers with bank accounts", customers) as advance:
        for i in range(customers):
            n = i % len(BANKS)
            events = run.set_up(
                OnboardCustomer(
                    **_stamp(
                        legal_name=_name(i),
                        date_of_birth="1980-01-01",
                        nationality=BANKS[n][2],
                        residence=BANKS[n][2],
                    )
                )
            )
            cid = next(e.customer_id for e in events if type(e) is CustomerRecorded)
            accounts.append(next(e.account_id for e in events if type(e) is AccountOpened))
            run.set_up(
                AddBankAccount(
                    **_stamp(customer_id=cid, iban=_iban(i), bic=BANKS[n][0], holder=_name(i))
                )
            )
            if i % 10 == 9:  # a second account, at the next bank
                other = BANKS[(n + 1) % len(BANKS)][0]
                run.set_up(
                    AddBankAccount(
                        **_stamp(customer_id=cid, iban=_iban(i, 1), bic=other, holder=_name(i))
                    )
                )
            if i % BUILD_TICK == BUILD_TICK - 1:
                advance(BUILD_TICK)
        advance(customers % BUILD_TICK)
    # pending withdrawals of customers of every bank: the first half sent in VTB's file
    for half in (0, 1):
        for k in range(half * pending // 2, (half + 1) * pending // 2):
            i = (k * 7919) % customers  # spread over the customers
            run.set_up(
                Deposit(
                    **_stamp(
                        account_id=accounts[i], asset="EUR", amount_raw=100_00, tx_ref=f"seed-{k}"
                    )
                )
            )
            run.set_up(
                RequestWithdrawal(
                    actor=ACTOR,
                    ts_ms=T0_MS,
                    account_id=accounts[i],
                    asset="EUR",
                    amount_raw=50_00,
                    destination=_iban(i),
                    beneficiary=_name(i),
                )
            )
        if half == 0 and pending:
            run.set_up(
                CreatePaymentFile(**_stamp(bank=CUT, currency="EUR", execution_date="2026-01-02"))
            )
    return accounts


def camt053(customers: int, lines: int) -> bytes:
    """A camt.053.001.08 of `lines` credits to the exchange's EUR account at Halyk Bank, from
    customers of the other banks (not VTB), each naming its deposit reference."""
    bank_bic = BANKS[STATEMENT_BANK][0]
    entries = []
    total = 0
    for k in range(lines):
        i = k * 4 + 1 + k % 3  # a customer of bank 1, 2 or 3
        i %= customers
        if i % 4 == 0:
            i += 1
        cents = 1000 + k % 5000
        total += cents
        amount = f"{cents // 100}.{cents % 100:02d}"
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd>'
            f"</Sts><BookgDt><Dt>2026-01-02</Dt></BookgDt><AcctSvcrRef>HB{k:010d}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
            f"<RltdPties><Dbtr><Pty><Nm>{_name(i)}</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>"
            f"{_iban(i)}</IBAN></Id></DbtrAcct></RltdPties><RltdAgts><DbtrAgt><FinInstnId>"
            f"<BICFI>{BANKS[i % 4][0]}</BICFI></FinInstnId></DbtrAgt></RltdAgts><RmtInf><Ustrd>"
            f"DEPOSIT {deposit_reference(i + 1)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    closing = f"{total // 100}.{total % 100:02d}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
        'camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>BENCH-1</MsgId><CreDtTm>'
        "2026-01-02T18:00:00+00:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-STMT-1</Id><CreDtTm>"
        "2026-01-02T18:00:00+00:00</CreDtTm><Acct><Id><IBAN>"
        f"{_ours(STATEMENT_BANK)}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BICFI>{bank_bic}"
        "</BICFI></FinInstnId></Svcr></Acct><Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp>"
        '<Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-01</Dt></Dt></Bal>'
        '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">'
        f"{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-02</Dt></Dt></Bal>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _statement(run: _Engine, customers: int, lines: int, accounts: list[int]) -> dict[str, Any]:
    data = camt053(customers, lines)
    t0 = time.perf_counter()
    statement = read_statement(data)
    t1 = time.perf_counter()
    state = run.engine.state
    commands = import_commands(
        statement,
        BANKS[STATEMENT_BANK][0],
        state.assets,
        state.fiat_assets,
        actor=ACTOR,
        ts_ms=T0_MS,
        reason=REASON,
    )
    t2 = time.perf_counter()
    credited = queued = 0
    longest = 0.0
    for cmd in commands:
        s0 = time.perf_counter()
        events = run.set_up(cmd)
        longest = max(longest, time.perf_counter() - s0)
        done = next(e for e in events if type(e) is StatementImported)
        credited, queued = credited + done.credited, queued + done.queued
    t3 = time.perf_counter()
    # the reference: the same credits as plain deposits, one command each
    deposits = [
        Deposit(
            **_stamp(
                account_id=accounts[0],
                asset="EUR",
                amount_raw=line.amount_raw or 1,
                tx_ref=f"ref-{n}",
            )
        )
        for cmd in commands
        for n, line in enumerate(cmd.lines)
    ]
    r0 = time.perf_counter()
    for d in deposits:
        run(d)
    reference = time.perf_counter() - r0
    return {
        "statement_lines": lines,
        "statement_bytes": len(data),
        "statement_s": round(t3 - t0, 3),
        "parse_s": round(t1 - t0, 3),
        "commands_s": round(t2 - t1, 3),
        "import_s": round(t3 - t2, 3),
        "import_commands": len(commands),
        "import_max_command_ms": round(longest * 1000, 2),
        "credited": credited,
        "queued": queued,
        "deposits_reference_s": round(reference, 3),
        "statement_ratio": round((t3 - t2) / reference, 3) if reference else None,
    }


def _steps(steps: Generator[None, None, T]) -> tuple[T, float, float]:
    """Drive a preview; its result, the total seconds and the longest step in seconds."""
    longest = 0.0
    started = time.perf_counter()
    while True:
        s0 = time.perf_counter()
        try:
            next(steps)
        except StopIteration as done:
            longest = max(longest, time.perf_counter() - s0)
            result: T = done.value
            return result, time.perf_counter() - started, longest
        longest = max(longest, time.perf_counter() - s0)


def _cutoff(run: _Engine) -> dict[str, Any]:
    state = run.engine.state
    spec = CutOffSpec(bic=CUT, cause=Cause.SWIFT_DISCONNECTED, outgoing=Outgoing.REROUTE)
    shown, seconds, longest = _steps(cutoff.preview(state, spec))
    policy = PolicySpec(
        name="reference",
        country="RU",
        rules=(Rule(capability=Capability.TRADING, access=Access.SUSPENDED),),
    )
    _, reference, _ = _steps(impact.preview(state, policy))
    apply = CutOffBank(
        actor=ACTOR,
        ts_ms=T0_MS + 60_000,
        reason="benchmark: cut-off",
        spec=spec,
        preview_id=shown.preview_id,
        previewed=shown.previewed,
    )
    a0 = time.perf_counter()
    events = run.set_up(apply)
    applied = time.perf_counter() - a0
    fates: dict[str, int] = {}
    for t in shown.transfers:
        fates[str(t["fate"])] = fates.get(str(t["fate"]), 0) + 1
    return {
        "cutoff_customers": shown.customers,
        "cutoff_only_rail": shown.only_rail,
        "cutoff_movable": shown.movable,
        "cutoff_transfers": fates,
        "preview_s": round(seconds, 3),
        "preview_max_step_ms": round(longest * 1000, 2),
        "policy_preview_reference_s": round(reference, 3),
        "preview_ratio": round(seconds / reference, 3) if reference else None,
        "apply_command_ms": round(applied * 1000, 2),
        "apply_events": len(events),
    }


def run(
    customers: int = 1_000_000,
    statement_lines: int = 100_000,
    pending: int = 10_000,
    progress: ProgressFactory = _no_progress,
) -> dict[str, Any]:
    if customers < 100:
        raise ValueError(f"--customers must be at least 100, not {customers}")
    if not 0 < statement_lines <= customers:
        raise ValueError(f"--statement-lines must be 1 to --customers, not {statement_lines}")
    if not 0 <= pending <= customers:
        raise ValueError(f"--pending must be 0 to --customers, not {pending}")
    engine = _Engine()
    started = time.perf_counter()
    accounts = _build(engine, customers, pending, progress)
    built = time.perf_counter() - started
    settle_heap()  # as `bourse run` does after recovery
    result: dict[str, Any] = {"customers": customers, "build_s": round(built, 1)}
    with GcWatch() as statement_gc:
        result |= _statement(engine, customers, statement_lines, accounts)
    with GcWatch() as cutoff_gc:
        result |= _cutoff(engine)
    result["statement_max_gc_pause_ms"] = round(statement_gc.longest_ns / 1e6, 2)
    result["cutoff_max_gc_pause_ms"] = round(cutoff_gc.longest_ns / 1e6, 2)
    return result
