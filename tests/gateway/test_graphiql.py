"""GraphiQL is served from vendored assets only: it must work with no internet."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway.graphiql import GRAPHIQL_STATIC_DIR, graphiql_html, graphiql_routes

_ASSET_RE = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


@pytest.fixture
def client():
    with TestClient(Starlette(routes=graphiql_routes())) as c:
        yield c


def _assets(page: str) -> list[str]:
    return _ASSET_RE.findall(page)


def test_page_is_html(client):
    response = client.get("/graphiql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>ledgergate GraphiQL</title>" in response.text


def test_page_references_only_local_assets(client):
    page = client.get("/graphiql").text
    assets = _assets(page)
    assert sorted(assets) == [
        "/static/graphiql/graphiql.min.css",
        "/static/graphiql/graphiql.min.js",
        "/static/graphiql/react-dom.production.min.js",
        "/static/graphiql/react.production.min.js",
    ]
    assert not [a for a in assets if "://" in a or a.startswith("//")]
    assert not re.search(r"https?://", page)


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [(".js", "javascript"), (".css", "text/css")],
)
def test_every_asset_is_served(client, suffix, content_type):
    assets = [a for a in _assets(client.get("/graphiql").text) if a.endswith(suffix)]
    assert assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert content_type in response.headers["content-type"], asset
        assert len(response.content) > 1000, asset


def test_page_enables_header_editing_against_the_endpoint():
    page = graphiql_html(endpoint="/api/graphql", static_prefix="/assets/gq/")
    assert 'url: "/api/graphql"' in page
    assert "isHeadersEditorEnabled: true" in page
    assert "shouldPersistHeaders: true" in page
    assert all(a.startswith("/assets/gq/") and "//" not in a[1:] for a in _assets(page))


def test_endpoint_cannot_break_out_of_the_script():
    page = graphiql_html(endpoint='/g"</script><script>alert(1)</script>')
    assert page.count("</script>") == 4


def test_shipped_assets_fetch_nothing_from_a_cdn():
    for path in GRAPHIQL_STATIC_DIR.iterdir():
        if path.suffix in {".js", ".css"}:
            text = path.read_text(encoding="utf-8").lower()
            assert not re.search(r"https?://(unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.)", text), path.name
            assert "@import" not in text, path.name
            if path.suffix == ".css":
                assert not re.search(r"url\(\s*['\"]?(?!data:)", text), path.name


async def test_the_default_query_runs_without_errors(gql, world):
    from gateway.graphiql import DEFAULT_QUERY

    result = await gql(DEFAULT_QUERY)
    assert "errors" not in result, result
    assert result["data"]["entity"]["code"] == "ACME"
