"""Request dependencies shared by the routers, as Annotated aliases."""

import hmac
from typing import Annotated

import annotated_types
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bourse.api.admin import access
from bourse.api.admin.errors import AdminError
from bourse.commands import RecordAccess
from bourse.compliance.staff import Role
from bourse.domain.limits import INT64_MAX, INT64_MIN
from bourse.keys.staff_tokens import token_digest
from bourse.server.service import GatewayService

_bearer = HTTPBearer(
    auto_error=False,
    description="The operator token from the data directory, or a staff member's token",
)


async def get_service(request: Request) -> GatewayService:
    # async: FastAPI runs a plain function dependency in a worker thread, a hop per request for
    # an attribute read (and a request stuck behind a busy thread pool at shutdown)
    service: GatewayService = request.app.state.service
    return service


async def require_operator(
    request: Request,
    service: Annotated[GatewayService, Depends(get_service)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Who acts: "operator", "staff:<name>", or 401; a staff member's role must allow the route
    (`access.ROUTES`), or 403. Commands record the actor. The admin API first catches up with
    what any gateway process has answered (a token issued, or a deposit made, through another
    one a moment ago; a staff member offboarded anywhere is refused here at once)."""
    await service.caught_up()
    actor = None
    if credentials is not None:
        token = credentials.credentials
        if hmac.compare_digest(token.encode(), service.operator_token.encode()):
            actor = "operator"
        else:
            member = service.view.staff_member(token_digest(token), service.clock())
            if member is not None:
                route = request.scope.get("route")
                path = getattr(route, "path", request.url.path)
                refused = access.refusal(member.role, member.name, request.method, path)
                if refused is not None:
                    raise AdminError(403, "NOT_PERMITTED", refused)
                actor = f"staff:{member.name}"
                if member.role is Role.AUDITOR:  # every read of an auditor is on the record
                    query = request.url.query
                    await service.execute(
                        RecordAccess(
                            path=request.url.path, query=query, actor=actor, ts_ms=service.clock()
                        )
                    )
    if actor is None:
        raise AdminError(
            401,
            "UNAUTHORIZED",
            "a valid operator token or an unexpired staff token is required (Bearer)",
        )
    return actor


ServiceDep = Annotated[GatewayService, Depends(get_service)]
# an integer in a path, query or body: refused with a 400 beyond what the store holds
Int64 = Annotated[int, annotated_types.Interval(ge=INT64_MIN, le=INT64_MAX)]
OperatorDep = Annotated[str, Depends(require_operator)]
