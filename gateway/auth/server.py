"""The built-in authorization server: `POST /oauth/token` (client credentials, RFC 6749
§4.4), `GET /.well-known/jwks.json` and `GET /.well-known/oauth-authorization-server`
(RFC 8414).

authlib's framework-agnostic `AuthorizationServer` runs the token endpoint, but it is
synchronous while the identities live behind an async database. So the endpoint works in
two phases:

1. async, in `TokenEndpoint.handle`: the HTTP checks (method, content type, body size,
   well-formed form without repeated parameters, one client authentication mechanism),
   then — for the client-credentials grant only — authenticating the client
   (`identities.authenticate_client`, scrypt off the loop; or, for `private_key_jwt`, the
   client's keys from `identities.client_key_set`, `client_assertion.verify_assertion` and
   `identities.use_assertion_jti` against replay), resolving whom it acts as
   (`identities.actor`) and computing the scopes with `scopes.grant` (authlib's own scope
   handling would silently drop unknown scopes). Every outcome, a client or an OAuth error,
   is stored on the prepared `OAuth2Request`.
2. sync, `AuthorizationServer.create_token_response`: authlib picks the grant
   (`unsupported_grant_type` otherwise), authenticates the client through auth methods
   registered here that hand back the pre-resolved client (or raise its error), checks the
   grant type, calls `validate_requested_scope` — which raises the stored refusal — and
   builds the response with the token generator registered here (`tokens.issue`).

Client authentication: `client_secret_basic`, `client_secret_post` or `private_key_jwt`
(`client_assertion_type` = `client_assertion.ASSERTION_TYPE` and `client_assertion`, a JWT
signed with one of the client's keys; OpenID Connect Core §9, RFC 7523 §2.2). Exactly one:
two mechanisms in one request are `invalid_request`, and so is a `client_id` other than the
assertion's `iss`. Every failure to authenticate — wrong secret, unknown or disabled client,
a secret for a client that has keys, and any assertion that does not verify or was used
before — is the same 401 `invalid_client` "client authentication failed"; why is logged at
INFO (never the secret or the assertion). The rate limit per client id and the audit rows
take an assertion's unverified `iss` as the client id presented.

No secret, token or key ever reaches a log line or an error description.

Every answer of the token endpoint carries `X-Request-Id` and leaves a row in the audit log
(`ledger.audit`): `token_issued` (client, user, entity, granted scopes) or `token_refused`
(the OAuth error and its description, the client id as presented if it has a client id's
shape, and the entity when the client authenticated). Issuing fails closed: a token whose issue cannot be recorded is not
handed out (503). A refusal fails open, logged at ERROR: it granted nothing.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus

import orjson
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import audit
from ledger.store import LedgerDatabase

from ..rate_limit import RateLimited, RateLimits
from ..request_id import HEADER, request_id
from ..secrets import SecretsError, SecretsKey
from . import identities, tokens
from .client_assertion import ASSERTION_TYPE, AssertionRefused, verify_assertion
from .client_keys import ALGORITHMS as ASSERTION_ALGORITHMS
from .keystore import KeyRingCache
from .scopes import InvalidScope, format_scope, grant

log = logging.getLogger("ledgergate.oauth")

FORM = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", PRIVATE_KEY_JWT]
TOKEN_PATH = "/oauth/token"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JWKS_CACHE = "public, max-age=300"
REALM = 'Basic realm="ledgergate"'
AUTH_FAILED = "client authentication failed"
DISABLED = (
    "the built-in authorization server is disabled ([oauth] builtin = false): "
    "get access tokens from the configured identity provider"
)


def _describable(text: str) -> str:
    """RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text)


def _error(error: str, description: str, status: int = 400, headers: dict | None = None) -> Response:
    body = {"error": error, "error_description": _describable(description)}
    return Response(
        orjson.dumps(body), status, {**NO_STORE, **(headers or {})}, media_type="application/json"
    )


class _Refusal(Exception):
    def __init__(self, response: Response):
        self.response = response


# --- what authlib works with ----------------------------------------------------------------


@dataclass
class _Client(ClientMixin):
    """A client authenticated before authlib runs: no secret in it."""

    info: identities.ClientInfo
    auth_method: str

    def get_client_id(self):
        return self.info.client_id

    def check_client_secret(self, client_secret):  # authenticated already, asynchronously
        return True

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method == self.auth_method

    def check_grant_type(self, grant_type):
        return grant_type == GRANT_TYPE

    def get_allowed_scope(self, scope):
        return scope


@dataclass
class _Attempt:
    """What the audit row of one token request needs, filled in as it is learnt."""

    form: dict[str, str] = field(default_factory=dict)
    client_id: str | None = None  # as presented, authenticated or not
    resolved: _Resolved | None = None
    scope: str | None = None  # granted


@dataclass
class _Resolved:
    """The outcome of phase 1: a client (or the error of its authentication), and whom it
    acts as with which scopes (or the error refusing that)."""

    auth_method: str | None = None
    ring: object = None  # the KeyRing to sign with
    client: _Client | None = None
    error: OAuth2Error | None = None
    actor: identities.Actor | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)


class _TokenRequest(OAuth2Request):
    def __init__(self, uri: str, headers: dict, form: dict[str, str], resolved: _Resolved):
        # Not OAuth2Request.__init__: its https check sees only the hop to this process;
        # TLS is terminated in front of it (the issuer URL is what clients use).
        self.method = "POST"
        self.uri = uri
        self.headers = headers
        self._body = None
        self.payload = BasicOAuth2Payload(form)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.resolved = resolved

    @property
    def form(self):
        return self.payload.data


def _pre_resolved(method: str):
    def authenticate(_query_client, request: _TokenRequest):
        resolved = request.resolved
        if resolved.auth_method != method:
            return None
        if resolved.client is None:
            raise resolved.error or InvalidClientError(status_code=401, description=AUTH_FAILED)
        return resolved.client

    return authenticate


class _Grant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_requested_scope(self):
        # Never authlib's scope check (it drops what it does not know): the scopes were
        # computed with `scopes.grant` in phase 1, and any refusal is raised here.
        resolved = self.request.resolved
        if resolved.error is not None:
            raise resolved.error
        self.request.user = resolved.actor
        self.request.scope = format_scope(resolved.scopes)

    def create_token_response(self):
        # Not the parent's: it logs the token at debug level.
        token = self.generate_token(
            user=self.request.resolved, scope=self.request.scope, include_refresh_token=False
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class _Server(AuthorizationServer):
    def __init__(self, issue):
        super().__init__()
        self._issue = issue
        self.register_grant(_Grant)
        self.register_token_generator("default", self._generate)
        for method in AUTH_METHODS:
            self.register_client_auth_method(method, _pre_resolved(method))

    def query_client(self, client_id):  # clients are resolved before authlib runs
        return None

    def save_token(self, token, request):  # JWTs are self-contained: nothing to store
        pass

    def send_signal(self, name, *args, **kwargs):
        pass

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, headers

    def _generate(self, grant_type, client, user=None, scope=None, expires_in=None,
                  include_refresh_token=True):
        return self._issue(client, user, scope)


# --- the endpoints --------------------------------------------------------------------------


class OAuthEndpoints:
    """`/oauth/token`, the JWKS and the metadata document.

    Without a secrets key (nothing to encrypt the signing keys with) every route answers
    503 `temporarily_unavailable` saying so; the rest of the gateway serves as usual.

    With `rate_limits` (`gateway.rate_limit`), every POST to the token endpoint counts
    against its remote address first, then — its form read, before the secret is checked —
    against the client id it presents; over either it is 429 with `Retry-After` and
    `temporarily_unavailable`. RFC 6749 has no code for this at the token endpoint (§5.2);
    `slow_down` belongs to the device flow (RFC 8628) and means "poll less often" there.
    `temporarily_unavailable` (§4.1.2.1, registered by RFC 6749) says "try again later",
    which is what the client must do; clients already meet it from this server (503), the
    status and Retry-After tell them when, and a code of our own would be one no client
    library knows.

    Not `enabled` (`[oauth] builtin = false`: tokens come from external identity providers
    only), the token endpoint answers 400 `unsupported_grant_type` and the key set and the
    metadata 404, each saying so; no signing key is ever created.
    """

    def __init__(
        self,
        db: LedgerDatabase,
        *,
        issuer: str,
        audience: str,
        token_ttl: int,
        max_body_bytes: int,
        known_scopes: Iterable[str],
        secrets_key: SecretsKey | None,
        unavailable: str | None = None,
        rate_limits: RateLimits | None = None,
        enabled: bool = True,
    ):
        self.db = db
        self.rate_limits = rate_limits
        self.enabled = enabled
        self.issuer = issuer
        self.audience = audience
        self.token_ttl = token_ttl
        self.max_body_bytes = max_body_bytes
        self.known = frozenset(known_scopes)
        self.keys = (
            None if secrets_key is None or not enabled
            else KeyRingCache(db.engine, secrets_key, retire_after=token_ttl)
        )
        self.unavailable = unavailable or (
            "the authorization server is not available: the secrets key that encrypts its "
            "signing keys is not configured (set LEDGERGATE_SECRETS_KEY or [secrets] key_file)"
        )
        self._server = _Server(self._issue_token)

    def routes(self) -> list[Route]:
        if not self.enabled:
            return [
                Route(TOKEN_PATH, self.disabled, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
                Route(JWKS_PATH, self.disabled, methods=["GET"]),
                Route(METADATA_PATH, self.disabled, methods=["GET"]),
            ]
        return [
            Route(TOKEN_PATH, self.token, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
            Route(JWKS_PATH, self.jwks, methods=["GET"]),
            Route(METADATA_PATH, self.metadata, methods=["GET"]),
        ]

    async def disabled(self, request: Request) -> Response:
        if request.url.path == TOKEN_PATH:
            return _error("unsupported_grant_type", DISABLED, 400)
        return _error("invalid_request", DISABLED, 404)

    async def _current_ring(self):
        if self.keys is None:
            raise _Refusal(_error("temporarily_unavailable", self.unavailable, 503))
        try:
            return await self.keys.ring()
        except SecretsError as error:  # messages name no key material
            log.error("signing keys unavailable: %s", error)
            raise _Refusal(
                _error("temporarily_unavailable", "the signing keys cannot be read", 503)
            ) from None

    # --- metadata and keys -----------------------------------------------------------------

    async def metadata(self, _request: Request) -> Response:
        if self.keys is None:
            return _error("temporarily_unavailable", self.unavailable, 503)
        document = {
            "issuer": self.issuer,
            "token_endpoint": self.issuer + TOKEN_PATH,
            "jwks_uri": self.issuer + JWKS_PATH,
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "scopes_supported": sorted(self.known),
            "response_types_supported": [],
        }
        return Response(orjson.dumps(document), 200, {"Cache-Control": JWKS_CACHE},
                        media_type="application/json")

    async def jwks(self, _request: Request) -> Response:
        try:
            ring = await self._current_ring()
        except _Refusal as refusal:
            return refusal.response
        return Response(orjson.dumps(ring.jwks()), 200, {"Cache-Control": JWKS_CACHE},
                        media_type="application/jwk-set+json")

    # --- the token endpoint ----------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        rid = request_id(request.headers)
        attempt = _Attempt()
        response = await self._token(request, attempt)
        if response.status_code != 429:  # over a rate limit: logged, not one audit row each
            response = await self._audit(rid, attempt, response)
        response.headers[HEADER] = rid
        return response

    async def _audit(self, rid: str, attempt: _Attempt, response: Response) -> Response:
        resolved = attempt.resolved
        if response.status_code == 200 and resolved is not None and resolved.actor is not None:
            actor = resolved.actor
            event = audit.Event(
                audit.TOKEN_ISSUED, audit.OK, rid,
                {"scopes": (attempt.scope or "").split(), "grantType": GRANT_TYPE},
                client_id=actor.client_id, username=actor.username, entity_id=actor.entity_id,
            )
        else:
            body = orjson.loads(response.body)
            authenticated = resolved is not None and resolved.client is not None
            client_id = resolved.client.info.client_id if authenticated else attempt.client_id
            if client_id is not None and not identities.CLIENT_ID_PATTERN.fullmatch(client_id):
                # Not the shape of any client id: perhaps a secret in the wrong place
                # (Basic credentials swapped). Never recorded.
                client_id = None
            entity = attempt.form.get("entity") or None
            event = audit.Event(
                audit.TOKEN_REFUSED, str(body.get("error", "refused"))[:64], rid,
                {
                    "description": body.get("error_description"),
                    "status": response.status_code,
                    "clientAuthenticated": authenticated,
                    "entity": entity[:64] if entity else None,
                    "scope": (attempt.form.get("scope") or "")[:500] or None,
                },
                client_id=client_id,
                # Only an authenticated client's word ties the refusal to an entity's log.
                entity_code=entity if authenticated else None,
            )
        try:
            await audit.record(self.db, [event])
        except Exception as error:  # whatever the driver raises
            log.error(
                "the audit log cannot be written (%s); event lost: request %s, %s %s, client %s, "
                "%s", type(error).__name__, rid, event.event, event.outcome, event.client_id,
                orjson.dumps(event.detail).decode(),
            )
            if event.event == audit.TOKEN_ISSUED:
                return _error(
                    "temporarily_unavailable",
                    "no token can be issued now: the audit log cannot be written", 503,
                )
        return response

    async def _token(self, request: Request, attempt: _Attempt) -> Response:
        if request.method != "POST":
            return _error("invalid_request", "the token endpoint takes POST only", 405,
                          {"Allow": "POST"})
        try:
            self._admit_address(request)
            ring = await self._current_ring()
            form = attempt.form = await self._form(request)
            attempt.client_id = form.get("client_id")
            self._admit_client(request, form)
            resolved = attempt.resolved = await self._resolve(request, form, attempt)
            resolved.ring = ring
        except _Refusal as refusal:
            return refusal.response
        prepared = _TokenRequest(
            self.issuer + TOKEN_PATH, dict(request.headers), form, resolved
        )
        status, body, headers = self._server.create_token_response(prepared)
        self._log(form, resolved, status, body)
        if status == 200:
            attempt.scope = body.get("scope")
        if isinstance(body, dict) and "error_description" in body:
            body["error_description"] = _describable(body["error_description"])
        headers = dict(headers)
        if status == 401:
            headers["WWW-Authenticate"] = REALM
        return Response(orjson.dumps(body), status, headers, media_type="application/json")

    def _admit_address(self, request: Request) -> None:
        if self.rate_limits is None:
            return
        address = request.client.host if request.client else None
        try:
            self.rate_limits.token_attempt_from(address)
        except RateLimited as limited:
            log.info("token request refused: address %s over its rate limit", address)
            raise _Refusal(_rate_limited(limited)) from None

    def _admit_client(self, request: Request, form: dict[str, str]) -> None:
        if self.rate_limits is None:
            return
        client_id = _presented_client_id(request, form)
        address = request.client.host if request.client else None
        try:
            self.rate_limits.token_attempt_for(client_id, address)
        except RateLimited as limited:
            log.info("token request refused: client %s over its rate limit",
                     client_id if identities.CLIENT_ID_PATTERN.fullmatch(client_id) else "-")
            raise _Refusal(_rate_limited(limited)) from None

    async def _form(self, request: Request) -> dict[str, str]:
        content_type = request.headers.get("content-type", "")
        media, _, parameters = content_type.partition(";")
        charset = parameters.strip().lower().replace(" ", "")
        if media.strip().lower() != FORM or charset not in ("", "charset=utf-8"):
            raise _Refusal(_error("invalid_request", f"POST a body of Content-Type {FORM} (UTF-8)"))
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _Refusal(self._too_large())
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.max_body_bytes:
                raise _Refusal(self._too_large())
        try:
            pairs = parse_qsl(bytes(body).decode("utf-8"), keep_blank_values=True,
                              strict_parsing=bool(body), errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise _Refusal(_error("invalid_request", "the body is not a well-formed UTF-8 form")) from None
        form: dict[str, str] = {}
        for name, value in pairs:
            if name in form:  # RFC 6749 §3.2
                raise _Refusal(_error("invalid_request", f"parameter {name[:40]!r} is repeated"))
            form[name] = value
        if not form.get("grant_type"):
            raise _Refusal(_error("invalid_request", "grant_type is missing"))
        return form

    def _too_large(self) -> Response:
        return _error(
            "invalid_request", f"the request body is larger than {self.max_body_bytes} bytes", 413
        )

    @staticmethod
    def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str, str]:
        """(method, client_id, secret or assertion) of the one authentication mechanism
        used; for an assertion, the client id is its unverified `iss` ("" if unreadable)."""
        authorization = request.headers.get("authorization")
        posted = "client_secret" in form
        asserted = "client_assertion" in form or "client_assertion_type" in form
        if (authorization is not None) + posted + asserted > 1:
            raise _Refusal(_error(
                "invalid_request", "use one client authentication method, not two"
            ))
        if asserted:
            return _assertion_credentials(form)
        if authorization is not None:
            scheme, _, encoded = authorization.strip().partition(" ")
            if scheme.lower() != "basic":
                raise _Refusal(_invalid_client(
                    "use HTTP Basic, client_secret_post or private_key_jwt"
                ))
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _Refusal(_invalid_client("malformed HTTP Basic credentials")) from None
            client_id, colon, secret = decoded.partition(":")
            if not colon:
                raise _Refusal(_invalid_client("malformed HTTP Basic credentials"))
            # RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
            if "client_id" in form and form["client_id"] != client_id:
                raise _Refusal(_error("invalid_request", "client_id differs from the Basic credentials"))
            return "client_secret_basic", client_id, secret
        if posted:
            return "client_secret_post", form.get("client_id", ""), form["client_secret"]
        raise _Refusal(_invalid_client(
            "no client authentication (use HTTP Basic, client_secret_post or private_key_jwt)"
        ))

    async def _resolve(self, request: Request, form: dict[str, str], attempt: _Attempt) -> _Resolved:
        if form["grant_type"] != GRANT_TYPE:
            return _Resolved()  # authlib answers unsupported_grant_type
        method, client_id, credential = self._credentials(request, form)
        attempt.client_id = client_id
        resolved = _Resolved(auth_method=method)
        if method == PRIVATE_KEY_JWT:
            info = await self._authenticate_assertion(client_id, credential)
        else:
            info = await identities.authenticate_client(self.db, client_id, credential)
        if info is None:
            resolved.error = InvalidClientError(status_code=401, description=AUTH_FAILED)
            return resolved
        resolved.client = _Client(info, method)
        entity = form.get("entity") or None
        try:
            actor = await identities.actor(self.db, info.client_id, entity)
            scopes = grant(
                form.get("scope"), actor.client_scopes, actor.role_scopes, self.known,
                client=actor.client_id, role=actor.role,
            )
        except identities.AccessRefused as refused:
            resolved.error = _refusal_error(refused)
            return resolved
        except InvalidScope as error:
            message = str(error).removeprefix("invalid_scope: ")
            resolved.error = InvalidScopeError(description=_describable(message))
            return resolved
        resolved.actor, resolved.scopes = actor, scopes
        return resolved

    async def _authenticate_assertion(self, client_id: str, assertion: str) -> identities.ClientInfo | None:
        """The client the assertion authenticates, or None with the reason logged at INFO
        (the client id only if it has a client id's shape; never the assertion)."""
        shown = client_id if identities.CLIENT_ID_PATTERN.fullmatch(client_id) else "-"
        if not client_id:
            log.info("client assertion refused: client -, assertion malformed (no readable iss)")
            return None
        found = await identities.client_key_set(self.db, client_id)
        if found is None:
            log.info("client assertion refused: client %s, unknown, disabled or without keys", shown)
            return None
        info, keys = found
        now = int(time.time())
        try:
            verified = verify_assertion(
                assertion, keys=keys, client_id=info.client_id,
                audiences=(self.issuer + TOKEN_PATH, self.issuer), now=now,
            )
        except AssertionRefused as refused:
            log.info("client assertion refused: client %s, %s", shown, refused.reason)
            return None
        if not await identities.use_assertion_jti(
            self.db, info.client_id, verified.jti, verified.expires_at, now
        ):
            log.info("client assertion refused: client %s, jti used before (a replay)", shown)
            return None
        return info

    def _issue_token(self, client: _Client, resolved: _Resolved, scope: str) -> dict:
        now = int(time.time())
        actor = resolved.actor
        token = tokens.issue(
            resolved.ring, issuer=self.issuer, audience=self.audience, subject=actor.username,
            client_id=client.info.client_id, entity=actor.entity_code,
            scopes=scope.split(" "), now=now, ttl=self.token_ttl,
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": scope,
        }

    @staticmethod
    def _log(form: dict[str, str], resolved: _Resolved, status: int, body: dict) -> None:
        client = resolved.client.info.client_id if resolved.client else "-"
        if status == 200:
            actor = resolved.actor
            log.info(
                "token issued: client %s, entity %s, user %s, scope %r", client,
                actor.entity_code, actor.username, body.get("scope"),
            )
        else:
            log.info("token refused: client %s, %s: %s", client, body.get("error"),
                     body.get("error_description"))


def _presented_client_id(request: Request, form: dict[str, str]) -> str:
    """The client id a request presents (HTTP Basic first, else a client assertion's
    unverified `iss`, else the form's), "" if none can be read; unlike `_credentials` it
    never refuses: it only names the rate-limit key."""
    scheme, _, encoded = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    if "client_assertion" in form:
        return _unverified_issuer(form["client_assertion"])
    return form.get("client_id", "")


def _unverified_issuer(assertion: str) -> str:
    try:
        return tokens.unverified_issuer(assertion)
    except tokens.InvalidToken:
        return ""


def _assertion_credentials(form: dict[str, str]) -> tuple[str, str, str]:
    kind, assertion = form.get("client_assertion_type"), form.get("client_assertion")
    if kind is None or assertion is None:
        raise _Refusal(_error(
            "invalid_request", "client_assertion and client_assertion_type go together"
        ))
    if kind != ASSERTION_TYPE:
        raise _Refusal(_invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}"))
    issuer = _unverified_issuer(assertion)
    if issuer and "client_id" in form and form["client_id"] != issuer:
        raise _Refusal(_error("invalid_request", "client_id differs from the client assertion's iss"))
    return PRIVATE_KEY_JWT, issuer, assertion


def _rate_limited(limited: RateLimited) -> Response:
    return _error("temporarily_unavailable", str(limited), 429,
                  {"Retry-After": str(limited.retry_after)})


def _invalid_client(description: str) -> Response:
    return _error("invalid_client", description, 401, {"WWW-Authenticate": REALM})


def _refusal_error(refused: identities.AccessRefused) -> OAuth2Error:
    """RFC 6749 §5.2 for whom the authenticated client may not act.

    - unknown / disabled client (changed since authentication): `invalid_client`, 401;
    - several entities and no `entity` parameter: `invalid_request` (a parameter the
      request needs is missing);
    - an entity not on its allow-list (or none at all), or a deactivated user there:
      `unauthorized_client` (the client authenticated, but is not authorized to use the
      client-credentials grant for that entity: §4.4's "previously arranged" is missing).
    """
    description = _describable(refused.reason)
    if refused.kind in ("unknown_client", "client_disabled"):
        return InvalidClientError(status_code=401, description=AUTH_FAILED)
    if refused.kind == "several_entities":
        return InvalidRequestError(description=description + " with the entity parameter")
    return UnauthorizedClientError(description=description)
