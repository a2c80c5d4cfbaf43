"""`/docs` (Swagger UI) and `/redoc` from assets shipped in the package (`static/`), never a CDN:
an exchange's private network has no internet, and the pages must still render there."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS = "/static/docs"


def install(app: FastAPI) -> None:
    """Serve the assets and both pages (create the app with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            redoc_js_url=f"{root}{ASSETS}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )


def _root(request: Request) -> str:
    """The prefix a reverse proxy serves the app under, as FastAPI's own docs pages use it."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")
