"""`bourse accounts ...` and `bourse keys ...`: operator actions sent to the RUNNING server.

The server owns the data directory (and its lock), so these commands never open it themselves:
they find the server's URL and the operator token in the data directory (or take --url/--token)
and call the admin API, which turns each action into an engine command.
"""

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape
from rich.panel import Panel

from bourse.cli.console import err, fail, out
from bourse.server.datadir import DataDir

accounts_app = typer.Typer(help="Customer accounts, on the running server.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys, on the running server.", no_args_is_help=True)

DataDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="The data directory of the server to talk to.")
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="The server's URL (default: from the data directory).")
]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", help="The operator token (default: from the data directory)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON result.")]
# Every admin action names why (kept in the journal): required, as by the admin API.
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the journal; required).")]
# The longest reason the admin API takes (REASON_MAX of api/admin/compliance.py, not imported:
# it would load the server's web stack into every command).
REASON_MAX = 500


def segment(value: object, what: str) -> str:
    """`value` (a name, code, id the user typed) as ONE segment of an admin API path, or the
    command fails naming `what` ("the staff name"): every path a command builds puts what the
    user typed through here, so no `/`, `?`, `#` or `..` in it reaches another route.

    Empty is refused (it would name the collection, not a member), and so is `/`: the server
    decodes %2F before routing, so it would still split the segment in two."""
    text = str(value)
    if not text.strip():
        fail(f"{what} must not be empty")
    if "/" in text:
        fail(f"{what} {text!r} cannot contain '/'")
    if text in (".", ".."):  # a client drops a literal dot segment; encoded, it stays one
        return text.replace(".", "%2E")
    return quote(text, safe="")


def _check_reason(kw: dict[str, Any]) -> None:
    """Fail before sending a reason the server would refuse as too long (it says "a reason is
    required" then, while one was given)."""
    for given in (kw.get("json"), kw.get("params")):
        reason = given.get("reason") if isinstance(given, dict) else None
        if isinstance(reason, str) and len(reason) > REASON_MAX:
            fail(f"the reason is {len(reason)} characters; at most {REASON_MAX}")


def error_message(body: object) -> str | None:
    """The sentence of an admin API error body ({"error", "message"})."""
    return body.get("message") if isinstance(body, dict) else None


def _unanswered(response: Any, body: object) -> str | None:
    """What to say of an answer that is not the API's own refusal (a redirect, a path no route
    takes, a body that is not the API's JSON): which request failed, rather than a bare "Not
    Found"; None for the API's own refusal, whose sentence says it."""
    generic = isinstance(body, dict) and body.get("error") in ("NOT_FOUND", "METHOD_NOT_ALLOWED")
    if error_message(body) and not generic and not 300 <= response.status_code < 400:
        return None
    request = response.request
    path = request.url.raw_path.split(b"?")[0].decode("ascii", "replace")
    said = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return f"{request.method} {path} failed: the server answered {said}"


class AdminClient:
    """The admin API of one server; every refusal ends the command with `error: <msg>`."""

    # A refusal exits 1 with the server's sentence, so a script can tell "the exchange said no"
    # (1) from "the command could not run" (2: bad options, no server).
    refused_exit = 1

    def __init__(self, data_dir: Path, url: str | None, token: str | None) -> None:
        dd = DataDir(data_dir)
        url = url or dd.server_url()
        if url is None:
            fail(
                f"no bourse server is running on {dd.path}: start one with "
                f"`bourse run --data-dir {data_dir}`, or pass --url and --token"
            )
        token = token or dd.existing_operator_token()
        if token is None:
            fail(f"no operator token in {dd.token_file}: pass --token")
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(
        self,
        method: str,
        path: str,
        *,
        timeout: float = 30,
        then: str = "",
        proposed: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> Any:
        """The answer's JSON. A 202 (four eyes: proposed, nothing ran) ends the command with what
        waits for whom, and `then`: what to do once it is approved; or, given `proposed`, adds
        the proposal to it, says so on stderr, and returns the answer (a command that sends
        several, each proposed on its own)."""
        _check_reason(kw)
        import httpx  # ~0.1 s to import: only commands that call the server pay for it

        try:
            response = httpx.request(
                method, f"{self.url}/admin/v1{path}", headers=self.headers, timeout=timeout, **kw
            )
        except httpx.HTTPError as exc:
            fail(f"cannot reach the server at {self.url}: {exc}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 202 and isinstance(body, dict) and "proposal" in body:
            # four eyes: nothing ran yet; say what waits for whom, and end the command here
            proposal = body["proposal"]
            if proposed is not None:
                proposed.append(proposal)
                err.print(f"proposed: {escape(str(body.get('message', '')))}")
                return body
            print(json.dumps(body))
            err.print(
                f"proposed: {escape(str(body.get('message', '')))}\n"
                f"a second person approves it with: bourse proposals approve "
                f"{proposal['proposalId']} --reason ... --token <their token>"
                + (f"; {then}" if then else "")
            )
            raise typer.Exit(0)
        if response.status_code != 200:
            msg = _unanswered(response, body) or error_message(body)
            fail(msg or f"the server answered HTTP {response.status_code}", self.refused_exit)
        return body

    def download(self, path: str, *, timeout: float = 60) -> bytes:
        """A GET answered with a file (not JSON): its bytes, or the command fails with the
        server's message."""
        import httpx

        try:
            response = httpx.get(
                f"{self.url}/admin/v1{path}", headers=self.headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            fail(f"cannot reach the server at {self.url}: {exc}")
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            msg = _unanswered(response, body) or error_message(body)
            fail(msg or f"the server answered HTTP {response.status_code}", self.refused_exit)
        return response.content


def code_pairs(pairs: list[str], option: str, form: str) -> dict[str, str]:
    """`CODE=VALUE` options (`--deposit USDT=1000`, `--account EUR=DE89...`) as a dict keyed by
    the upper-cased code; `form` shows the expected shape in the message of a bad one."""
    found: dict[str, str] = {}
    for pair in pairs:
        code, sep, value = pair.partition("=")
        if not sep or not code.strip() or not value.strip():
            fail(f"{option} takes {form}, not {pair!r}")
        if code.strip().upper() in found:
            fail(f"{option} names {code.strip().upper()} twice")
        found[code.strip().upper()] = value.strip()
    return found


def _deposits(pairs: list[str]) -> dict[str, str]:
    return code_pairs(pairs, "--deposit", "ASSET=AMOUNT (like USDT=1000)")


@accounts_app.command("create")
def accounts_create(
    reason: ReasonOpt,
    deposit: Annotated[
        list[str] | None,
        typer.Option("--deposit", help="An opening deposit ASSET=AMOUNT (repeatable)."),
    ] = None,
    fee_tier: Annotated[int, typer.Option("--fee-tier", help="The account's fee tier.")] = 0,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Open an account, with opening deposits if given."""
    body = {"deposits": _deposits(deposit or []), "feeTier": fee_tier, "reason": reason}
    opened = AdminClient(data_dir, url, token).call("POST", "/accounts", json=body)
    waiting = opened.get("proposedDeposits", [])
    if as_json:
        shown: dict[str, Any] = {"accountId": opened["accountId"]}
        print(json.dumps({**shown, "proposedDeposits": waiting} if waiting else shown))
        return
    funds = ", ".join(f"{b['free']} {b['asset']}" for b in opened["balances"]) or "no funds"
    out.print(f"opened account [bold]{opened['accountId']}[/] ({escape(funds)})")
    if waiting:
        ids = ", ".join(str(p["proposalId"]) for p in waiting)
        out.print(f"opening deposits proposed (four eyes): {ids}, for a second person to approve")


@accounts_app.command("deposit")
def accounts_deposit(
    account: Annotated[int, typer.Option("--account", help="The account to credit.")],
    deposit: Annotated[
        list[str], typer.Option("--deposit", help="ASSET=AMOUNT to credit (repeatable).")
    ],
    reason: ReasonOpt,
    tx_ref: Annotated[str, typer.Option("--tx-ref", help="The transfer's reference.")] = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Credit deposits that arrived for an account (a jurisdiction policy may refuse them)."""
    client = AdminClient(data_dir, url, token)
    credited: list[dict[str, Any]] = []
    proposed: list[dict[str, Any]] = []  # four eyes: each waits for a second person
    for asset, amount in _deposits(deposit).items():
        body = {"account_id": account, "asset": asset, "amount": amount, "tx_ref": tx_ref}
        waiting = len(proposed)
        client.call("POST", "/deposits", json={**body, "reason": reason}, proposed=proposed)
        if len(proposed) == waiting:
            credited.append({"asset": asset, "amount": amount})
    if as_json:
        print(json.dumps({"accountId": account, "credited": credited, "proposed": proposed}))
        return
    if credited:
        text = ", ".join(f"{c['amount']} {c['asset']}" for c in credited)
        out.print(f"credited account [bold]{account}[/] with {escape(text)}: {escape(reason)}")
    if proposed:
        ids = ", ".join(str(p["proposalId"]) for p in proposed)
        out.print(
            f"proposed (four eyes): {ids}; a second person approves each with "
            "`bourse proposals approve ID --reason ... --token <their token>`"
        )


@accounts_app.command("withdraw")
def accounts_withdraw(
    account: Annotated[int, typer.Option("--account", help="The account to debit.")],
    asset: Annotated[str, typer.Option("--asset", help="The asset to withdraw.")],
    amount: Annotated[str, typer.Option("--amount", help="The decimal amount.")],
    to: Annotated[str, typer.Option("--to", help="A crypto address, or an IBAN for fiat.")],
    reason: ReasonOpt,
    beneficiary: Annotated[
        str, typer.Option("--beneficiary", help="Fiat: the person or company the bank pays.")
    ] = "",
    bic: Annotated[
        str, typer.Option("--bic", help="Fiat: the payee's bank, if not the IBAN's own.")
    ] = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Request a withdrawal for a customer. A fiat payee is screened first: a sanctions hit holds
    the payment for review (`bourse alerts list`), a listed crypto address is refused."""
    body = {
        "account_id": account,
        "asset": asset.strip().upper(),
        "amount": amount,
        "destination": to,
        "beneficiary": beneficiary,
        "beneficiary_bic": bic,
        "reason": reason,
    }
    done = AdminClient(data_dir, url, token).call("POST", "/withdrawals", json=body)
    if as_json:
        print(json.dumps(done))
        return
    payee = f" to {done['beneficiary']}" if done["beneficiary"] else ""
    out.print(
        f"withdrawal [bold]{done['withdrawalId']}[/]: {escape(done['amount'])} "
        f"{escape(done['asset'])}{escape(payee)} ({escape(done['destination'])}) "
        f"is {done['status']}"
    )
    if done["heldBy"]:
        alerts = ", ".join(str(a) for a in done["heldBy"])
        out.print(f"held by screening alert(s) {alerts}: bourse alerts list --status open")


def _permissions(text: str) -> list[str]:
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    unknown = sorted(set(names) - {"read", "trade"})
    if unknown or "read" not in names:
        fail(f"--permissions is read or read,trade, not {text!r}")
    return sorted(set(names))


@keys_app.command("create")
def keys_create(
    account: Annotated[int, typer.Option("--account", help="The account the key acts for.")],
    reason: ReasonOpt,
    permissions: Annotated[
        str, typer.Option("--permissions", help="read (read-only) or read,trade.")
    ] = "read,trade",
    ip: Annotated[
        list[str] | None,
        typer.Option("--ip", help="An IP address or CIDR the key may be used from (repeatable)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--ed25519-public-key",
            help="Register this Ed25519 public key (PEM file) instead of creating an HMAC secret.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Create an API key for an account (an HMAC secret is shown once, never again)."""
    body: dict[str, Any] = {
        "accountId": account,
        "permissions": _permissions(permissions),
        "ip": ip or [],
        "reason": reason,
    }
    if public_key is not None:
        try:
            body["publicKey"] = public_key.read_text()
        except UnicodeDecodeError:
            fail(f"{public_key} is not a PEM file (not text): give the Ed25519 public key as PEM")
        except OSError as exc:
            fail(f"cannot read {public_key}: {exc.strerror}")
    created = AdminClient(data_dir, url, token).call("POST", "/keys", json=body)
    if as_json:
        print(json.dumps(created))
        return
    lines = [f"account     {account}", f"API key     {created['apiKey']}"]
    if "secretKey" in created:
        lines.append(f"secret key  {created['secretKey']}")
        title, note = "new HMAC key", "The secret is shown only once: store it now."
    else:
        title, note = "Ed25519 key registered", "Sign with the matching private key."
    lines += [f"permissions {','.join(body['permissions'])}", "", f"[bold yellow]{note}[/]"]
    out.print(Panel("\n".join(lines), title=title, expand=False))


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The API key to revoke.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Revoke an API key: requests signed with it are refused from now on."""
    params = {"reason": reason}
    revoked = AdminClient(data_dir, url, token).call(
        "DELETE", f"/keys/{segment(key, 'the API key')}", params=params
    )
    if as_json:
        print(json.dumps(revoked))
        return
    out.print(f"revoked {escape(key)} (account {revoked['accountId']})")


@keys_app.command("list")
def keys_list(
    account: Annotated[int, typer.Option("--account", help="Whose keys.")],
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """An account's API keys, without their secrets."""
    keys = AdminClient(data_dir, url, token).call(
        "GET", f"/accounts/{segment(account, 'the account')}/keys"
    )
    if as_json:
        print(json.dumps(keys))
        return
    if not keys:
        out.print(f"account {account} has no API keys")
        return
    for k in keys:  # one line each, the key whole: it is what `keys revoke` takes
        ip = " ".join(k["ip"]) or "any IP"
        out.print(f"{k['apiKey']}  {k['keyType']:<11}  {','.join(k['permissions']):<10}  {ip}")


def client_snippets(url: str, key: str, secret: str) -> list[tuple[str, str]]:
    """One line per Binance client that points it at this server with the given key pair."""
    k, s, u = json.dumps(key), json.dumps(secret), json.dumps(url)
    return [
        (
            "ccxt",
            "import ccxt; from urllib.parse import urlsplit; "
            f'ex = ccxt.binance({{"apiKey": {k}, "secret": {s}, "options": '
            '{"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, '
            '"fetchCurrencies": False, "fetchMargins": False}}); '
            f'ex.urls["api"] = {{k: {u} + urlsplit(v).path '
            'for k, v in ex.urls["api"].items() if isinstance(v, str)}',
        ),
        (
            "python-binance",
            # The constructor would ping binance.com: skip it, then set the one URL spot uses.
            "from binance.client import Client; "
            f"client = Client({k}, {s}, ping=False); client.API_URL = {json.dumps(url + '/api')}",
        ),
        (
            "binance-sdk-spot",
            "from binance_common.configuration import ConfigurationRestAPI; "
            "from binance_sdk_spot.spot import Spot; "
            "api = Spot(config_rest_api=ConfigurationRestAPI("
            f"api_key={k}, api_secret={s}, base_path={u})).rest_api",
        ),
    ]
