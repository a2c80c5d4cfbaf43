"""Request dependencies shared by the routers, as Annotated aliases."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bourse.runtime.service import Service

_bearer = HTTPBearer(auto_error=False, description="The operator token from the data directory")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def require_operator(
    service: Annotated[Service, Depends(get_service)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The operator's actor name, or 401."""
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), service.operator_token.encode()
    ):
        raise HTTPException(
            status_code=401,
            detail={"code": -2015, "msg": "A valid operator token is required (Bearer)."},
        )
    return "operator"


ServiceDep = Annotated[Service, Depends(get_service)]
OperatorDep = Annotated[str, Depends(require_operator)]
