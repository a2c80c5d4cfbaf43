"""Request dependencies shared by the routers, as Annotated aliases."""

import hmac
from typing import Annotated

import annotated_types
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bourse.api.admin.errors import AdminError
from bourse.compliance.staff import StaffRegistry
from bourse.domain.limits import INT64_MAX, INT64_MIN
from bourse.server.service import GatewayService

_bearer = HTTPBearer(
    auto_error=False,
    description="The operator token from the data directory, or a staff member's token",
)


def get_service(request: Request) -> GatewayService:
    service: GatewayService = request.app.state.service
    return service


def get_staff(request: Request) -> StaffRegistry | None:
    staff: StaffRegistry | None = getattr(request.app.state, "staff", None)
    return staff


async def require_operator(
    service: Annotated[GatewayService, Depends(get_service)],
    staff: Annotated[StaffRegistry | None, Depends(get_staff)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Who acts: "operator", "staff:<name>", or 401. Commands record it as their actor. The
    admin API then reads what any gateway process has answered (a deposit made through
    another one a moment ago)."""
    actor = None
    if credentials is not None:
        token = credentials.credentials
        if hmac.compare_digest(token.encode(), service.operator_token.encode()):
            actor = "operator"
        else:
            name = staff.who(token) if staff is not None else None
            actor = None if name is None else f"staff:{name}"
    if actor is None:
        raise AdminError(
            401, "UNAUTHORIZED", "a valid operator or staff token is required (Bearer)"
        )
    await service.caught_up()
    return actor


ServiceDep = Annotated[GatewayService, Depends(get_service)]
# an integer in a path, query or body: refused with a 400 beyond what the store holds
Int64 = Annotated[int, annotated_types.Interval(ge=INT64_MIN, le=INT64_MAX)]
OperatorDep = Annotated[str, Depends(require_operator)]
