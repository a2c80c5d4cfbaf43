"""The compliance operator's commands: `bourse staff|customers|venues|policy|withdraw-on-request`.

Staff tokens live in the data directory (no server needed); everything else goes to the RUNNING
server's admin API through operator_cli's AdminClient, acting as the operator or, with --token, as
a staff member whose name the journal records.
"""

from bourse.cli_compliance.customers import customers_app, venues_app, withdraw_on_request
from bourse.cli_compliance.policy import policy_app
from bourse.cli_compliance.staff import staff_app

__all__ = ["customers_app", "policy_app", "staff_app", "venues_app", "withdraw_on_request"]
