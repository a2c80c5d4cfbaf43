"""`bourse bench console`: page times of the compliance console on a large exchange, through a
real server.

A data directory is built first (not timed as pages): the demo markets, `accounts` customers
onboarded (each with their account) over a spread of countries, every hundredth account funded,
and `alerts` open screening alerts on customers spread over the range. `bourse run` then starts
on it (recovery from the snapshot written at the end of the build), a senior compliance officer
is added through the admin API, sets up a console login through a one-time link and signs in
with a TOTP code, as a person does. Then each page is fetched `requests` times, one at a time,
over one keep-alive connection: the dashboard, the alert queue, and the customer page of a
customer drawn at random. `/health`, fetched the same way in the same run, is the reference:
each page's p95 is also given as a ratio to it, since the machine's speed varies between days.
"""

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bourse.bench.api_bench import BOURSE_RUN, serving
from bourse.commands import Deposit, OnboardCustomer, RaiseScreeningAlert
from bourse.compliance.evidence import Evidence
from bourse.events import AccountOpened
from bourse.keys.console_login import code_at
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, now_ms

ACTOR = "system:bench"
COUNTRIES = ("DE", "FR", "KZ", "PL", "TR", "GE", "AM", "UZ", "VN", "TH")
FLUSH_EVERY = 5_000  # commands between waits for the journal: group commits, bounded memory
TARGET_P95_MS = 300
PASSWORD = "bench console passphrase"
Advance = Callable[[int], None]


def build(data: Path, accounts: int, alerts: int, advance: Advance) -> dict[str, Any]:
    """The data directory: customers, a few funded accounts, open alerts; a snapshot at the end
    so the server starts from it. The build's time, and the first and last customer ids."""
    started = time.perf_counter()
    exchange = Exchange(DataDir(data), demo=True)
    try:
        ts = now_ms()
        customers: list[int] = []
        for i in range(accounts):
            country = COUNTRIES[i % len(COUNTRIES)]
            outcome = exchange.submit(
                OnboardCustomer(
                    legal_name=f"Bench Customer {i}",
                    date_of_birth=f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    nationality=country,
                    residence=country,
                    actor=ACTOR,
                    ts_ms=ts,
                    reason="bench customer",
                )
            )
            opened = next(e for e in outcome.events if isinstance(e, AccountOpened))
            customers.append(opened.customer_id)
            if i % 100 == 0:
                exchange.submit(
                    Deposit(
                        account_id=opened.account_id,
                        asset="USDT",
                        amount_raw=1_000_000_000,
                        actor=ACTOR,
                        ts_ms=ts,
                        reason="bench funds",
                    )
                )
            if i % FLUSH_EVERY == 0:
                exchange.sequencer.flush()
            advance(1)
        step = max(1, len(customers) // max(1, alerts))
        for n, customer_id in enumerate(customers[::step][:alerts]):
            exchange.submit(
                RaiseScreeningAlert(
                    customer_id=customer_id,
                    evidence=Evidence(
                        source="ofac_sdn",
                        list_sha256="ab" * 32,
                        entry_id=str(10_000 + n),
                        listed_name=f"BENCH LISTED {n}",
                        score_bp=8_500 + n % 1_500,
                        explanation="name parts aligned: bench, customer",
                        entry_fingerprint=f"bench-{n}",
                    ),
                    actor="system:screening",
                    ts_ms=ts,
                )
            )
        exchange.write_snapshot()
    finally:
        exchange.close()
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "customers": (customers[0], customers[-1]),
    }


def _percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }


def _timed(
    client: httpx.Client, path: str | Callable[[], str], requests: int, advance: Advance
) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        r = client.get(path() if callable(path) else path)
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"GET {r.request.url} answered {r.status_code}: {r.text[:300]}")
        advance(1)
    return times


def _sign_in(url: str, token: str) -> httpx.Client:
    """A senior compliance officer added, set up through a setup link, signed in: a client
    holding their console session."""
    admin = {"Authorization": f"Bearer {token}"}
    name = "bench.officer"
    r = httpx.post(
        f"{url}/admin/v1/staff",
        json={"name": name, "role": "senior_compliance_officer", "reason": "bench"},
        headers=admin,
        timeout=30,
    )
    r.raise_for_status()
    r = httpx.post(
        f"{url}/admin/v1/staff/{name}/setup-link", json={"reason": "bench"}, headers=admin
    )
    r.raise_for_status()
    link = r.json()["link"]
    web = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    page = web.get(link)
    page.raise_for_status()
    secret = page.text.split('data-secret="', 1)[1].split('"', 1)[0]
    now = now_ms()
    fields = {"token": link.split("token=", 1)[1], "secret": secret}
    fields |= {"password": PASSWORD, "confirm": PASSWORD, "code": code_at(secret, now)}
    web.post("/console/setup", data=fields).raise_for_status()
    login = {"name": name, "password": PASSWORD, "code": code_at(secret, now + 30_000)}
    r = web.post("/console/login", data=login)
    if "Dashboard" not in r.text:
        raise RuntimeError(f"the bench officer could not sign in: {r.text[:300]}")
    return web


@contextmanager
def _built(accounts: int, alerts: int, advance: Advance) -> Iterator[tuple[Path, dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix="bourse-console-bench-") as tmp:
        data = Path(tmp) / "data"
        yield data, build(data, accounts, alerts, advance)


def run(
    accounts: int, alerts: int, requests: int, build_progress: Advance, page_progress: Advance
) -> dict[str, Any]:
    if accounts < 1 or alerts < 0 or requests < 1:
        raise ValueError("--accounts and --requests at least 1, --alerts at least 0")
    with _built(accounts, alerts, build_progress) as (data, built):
        args = ["--data-dir", str(data), "--no-rate-limits", "--no-four-eyes"]
        started = time.perf_counter()
        with serving([*BOURSE_RUN, *args], data.parent, {}, start_timeout_s=1800) as (url, _pid):
            ready_s = time.perf_counter() - started
            token = DataDir(data).token_file.read_text().strip()
            web = _sign_in(url, token)
            rng = random.Random(7)
            first, last = built.pop("customers")
            pages: dict[str, Any] = {}
            try:
                _timed(web, "/console/", 3, lambda _: None)  # warm the caches once
                pages["reference_health"] = _percentiles(
                    _timed(web, "/health", requests, page_progress)
                )
                paths: list[tuple[str, str | Callable[[], str]]] = [
                    ("dashboard", "/console/"),
                    ("alert_queue", "/console/alerts"),
                    ("customer_page", lambda: f"/console/customers/{rng.randint(first, last)}"),
                ]
                for label, path in paths:
                    pages[label] = _percentiles(_timed(web, path, requests, page_progress))
            finally:
                web.close()
    reference = pages["reference_health"]["p95_ms"] or 0.1
    for label in ("dashboard", "alert_queue", "customer_page"):
        pages[label]["ratio_to_health_p95"] = round(pages[label]["p95_ms"] / reference, 1)
    return {
        "accounts": accounts,
        "alerts": alerts,
        "requests_per_page": requests,
        **built,
        "server_ready_s": round(ready_s, 1),
        "pages": pages,
        "target_p95_ms": TARGET_P95_MS,
        "met": all(
            pages[p]["p95_ms"] < TARGET_P95_MS
            for p in ("dashboard", "alert_queue", "customer_page")
        ),
    }
