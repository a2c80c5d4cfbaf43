"""The compliance console, `/console`: pages rendered on the server for staff, behind a login
with a password and a second factor (`login.py`). Each section is a module of its own."""

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from bourse.api.console import (
    alerts,
    approvals,
    audit,
    banks,
    card_deposits,
    customers,
    dashboard,
    login,
    partners,
    payment_files,
    policies,
    staff,
    statements,
)
from bourse.api.console.web import PREFIX, Forbidden, LoginRequired, NotFound, redirect, render
from bourse.api.docs import STATIC


def install(app: FastAPI) -> None:
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-assets")
    app.state.login_failures = login.Failures()  # this process's, as its app
    app.include_router(login.router)
    app.include_router(dashboard.router)
    app.include_router(approvals.router)
    app.include_router(alerts.router)
    app.include_router(policies.router)
    app.include_router(customers.router)
    app.include_router(banks.router)
    app.include_router(partners.router)
    app.include_router(card_deposits.router)
    app.include_router(statements.router)
    app.include_router(payment_files.router)
    app.include_router(staff.router)
    app.include_router(audit.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        path = request.url.path.removeprefix(PREFIX) or "/"
        return redirect(f"/login?next={path}" if path != "/" else "/login")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(
            request, "message.html", None, status=403, title="Not permitted", message=str(exc)
        )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return render(
            request, "message.html", None, status=404, title="Not found", message=str(exc)
        )


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_page(request: Request, status: int, detail: str) -> Response:
    """A framework error (no such page, wrong method) on a console path, as a page."""
    titles = {404: "Not found", 405: "Not allowed"}
    message = "There is no such page in the console." if status == 404 else detail
    return render(
        request,
        "message.html",
        None,
        status=status,
        title=titles.get(status, "Error"),
        message=message,
    )
