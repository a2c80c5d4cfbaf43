"""The API documentation works offline: /docs and /redoc load only assets the exchange serves
itself, and every operation in the OpenAPI document says what it does."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets_that_are_served(api: Api, page: str) -> None:
    r = api.client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert not re.search(r"(?:https?:)?//[\w-]+\.\w", r.text), "a URL of another host"
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", r.text)
    assert urls, r.text
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
        assert url.startswith("/"), url
        served = api.client.get(url)
        assert served.status_code == 200, url
        suffix = Path(parts.path).suffix
        if suffix in ASSET_TYPES:
            assert ASSET_TYPES[suffix] in served.headers["content-type"], url
            assert len(served.content) > 500, url
    assert "/openapi.json" in urls


def test_every_operation_has_a_description(api: Api) -> None:
    doc = api.client.app.openapi()  # type: ignore[attr-defined]
    missing = [
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete", "patch"}
        and not (op.get("summary", "").strip() and op.get("description", "").strip())
    ]
    assert missing == []
