"""The `bourse` command line, one Typer app: run (`run`), replay and snapshot (`replay`), the
benches (`bench`); accounts and keys on the running server (`operator`); staff, customers, venues,
policies, prices, sanctions lists, screening and alerts (`staff`, `customers`, `policy`, `prices`,
`lists`, `screen`, `alerts`, sharing `common`); the audit log (`audit`); fiat rails (`banks`,
`statements`); consumers of the journal's stream on NATS (`consume`).

Staff tokens live in the data directory (no server needed); the compliance commands go to the
RUNNING server's admin API through operator's AdminClient, acting as the operator or, with
--token, as a staff member whose name the journal records.
"""

import typer

from bourse.cli.alerts import alerts_app
from bourse.cli.audit import audit_app
from bourse.cli.banks import banks_app, statements_app
from bourse.cli.bench import bench_app
from bourse.cli.consume import consume_app
from bourse.cli.customers import customers_app, venues_app, withdraw_on_request
from bourse.cli.cutoffs import cutoff_apply  # noqa: F401  # registers `banks cut-off ...`
from bourse.cli.gateway import gateway as gateway_command
from bourse.cli.lists import lists_app
from bourse.cli.operator import accounts_app, keys_app
from bourse.cli.partners import partners_app
from bourse.cli.policy import policy_app
from bourse.cli.prices import prices_app
from bourse.cli.proposals import four_eyes_app, proposals_app
from bourse.cli.replay import replay as replay_command
from bourse.cli.replay import snapshot_cmd
from bourse.cli.run import run as run_command
from bourse.cli.screen import screen_command
from bourse.cli.staff import staff_app

app = typer.Typer(
    help="bourse: a spot exchange with compliance built into its core.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.add_typer(consume_app, name="consume")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(staff_app, name="staff")
app.add_typer(proposals_app, name="proposals")
app.add_typer(four_eyes_app, name="four-eyes")
app.add_typer(customers_app, name="customers")
app.add_typer(venues_app, name="venues")
app.add_typer(policy_app, name="policy")
app.add_typer(prices_app, name="prices")
app.add_typer(lists_app, name="lists")
app.add_typer(alerts_app, name="alerts")
app.add_typer(audit_app, name="audit")
app.add_typer(banks_app, name="banks")
app.add_typer(statements_app, name="statements")
app.add_typer(partners_app, name="partners")
app.command("withdraw-on-request")(withdraw_on_request)
app.command("screen")(screen_command)
# named explicitly: the functions are imported under other names, so that `bourse.cli.run`
# and `bourse.cli.replay` stay the modules
app.command("run")(run_command)
app.command("replay")(replay_command)
app.command("snapshot")(snapshot_cmd)
app.command("gateway", hidden=True)(gateway_command)


def main() -> None:
    app()


__all__ = ["app", "main"]
