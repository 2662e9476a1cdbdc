"""GraphiQL served entirely from this package, with no CDN.

The stock GraphiQL page (Strawberry's included) loads React and GraphiQL from a
CDN, which renders a blank page on the machines ledgergate runs on: they have no
internet access at run time. So the browser bundle is vendored instead, in
``gateway/static/graphiql/``: GraphiQL 3's UMD build plus React 18's UMD
production builds, copied unmodified from the npm registry (versions, checksums
and licenses in ``LICENSES.md`` there). The CSS embeds its fonts as ``data:``
URIs, so the page makes no request other than to this server.

The page enables GraphiQL's headers editor, prefilled with an
``Authorization: Bearer`` header where a person pastes an access token from
``/oauth/token`` (as JSON); ``createFetcher`` sends the headers with every request on
top of its own ``headers``, and the browser keeps them in local storage between
visits.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

GRAPHIQL_STATIC_DIR: Path = Path(__file__).resolve().parent / "static" / "graphiql"

# What a first-time visitor sees: a GL summary drilling down to its transactions and on
# to the live records in the systems they came from.
DEFAULT_QUERY = """\
# Paste an access token into the Headers tab below. Get one from this server's
# /oauth/token with a client's id and secret (`ledgergate demo` prints its clients'):
#   curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials \\
#        -d entity=SOFTCO <this server>/oauth/token
# The token names the company it acts for.
query TrialBalanceByDepartment {
  entity { code name baseCurrency }
  trialBalance(from: "2026-01-01", to: "2026-03-31", groupBy: [DEPARTMENT]) {
    totalDebit
    totalCredit
    rows {
      account { code name type }
      dimensions { code name }
      debit credit net
      lines(first: 3) {
        edges { node { entry { number date description } debit credit
                       sources { system recordType recordId url
                                 record { __typename ledgerLines(first: 3) { edges { node { id } } } } } } }
      }
    }
  }
}
"""

DEFAULT_HEADERS = '{\n  "Authorization": "Bearer PASTE-AN-ACCESS-TOKEN-HERE"\n}\n'

_PAGE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>ledgergate GraphiQL</title>
    <link rel="stylesheet" href="{prefix}/graphiql.min.css">
    <style>
      html, body, #graphiql {{ height: 100%; margin: 0; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL&hellip;</div>
    <script src="{prefix}/react.production.min.js"></script>
    <script src="{prefix}/react-dom.production.min.js"></script>
    <script src="{prefix}/graphiql.min.js"></script>
    <script>
      const fetcher = GraphiQL.createFetcher({{
        url: {endpoint},
        headers: {{}},
      }});
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {{
          fetcher,
          defaultQuery: {query},
          defaultHeaders: {headers},
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
          defaultEditorToolsVisibility: "headers",
        }}),
      );
    </script>
  </body>
</html>
"""


def _js(value: str) -> str:
    """A JavaScript string literal that is also safe inside ``<script>``."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


def graphiql_html(endpoint: str = "/graphql", static_prefix: str = "/static/graphiql") -> str:
    """The GraphiQL page for ``endpoint``, loading its assets from ``static_prefix``."""
    return _PAGE.format(
        prefix=html.escape(static_prefix.rstrip("/"), quote=True),
        endpoint=_js(endpoint),
        query=_js(DEFAULT_QUERY),
        headers=_js(DEFAULT_HEADERS),
    )


async def _graphiql_page(request: Request) -> HTMLResponse:
    return HTMLResponse(graphiql_html())


def graphiql_routes() -> list[BaseRoute]:
    """``GET /graphiql`` and the vendored assets under ``/static/graphiql``."""
    return [
        Mount(
            "/static/graphiql",
            app=StaticFiles(directory=GRAPHIQL_STATIC_DIR),
            name="graphiql-static",
        ),
        Route("/graphiql", endpoint=_graphiql_page, methods=["GET"], name="graphiql"),
    ]
