"""No secret reaches a log line or a response, whatever happens: a whole session of good and
bad requests through the real app with every logger at DEBUG, then every captured record
and response searched for the client secrets, the access tokens (and their signatures), the
secrets key and the private parts of the signing key."""

from __future__ import annotations

import base64
import logging

from gateway.auth import identities
from tests.callers import fetch_token, key_file_for_tests


async def test_no_secret_in_any_log_or_response(http, gql, world, caplog):
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, authlib, sqlalchemy
    db = world.db
    party = gql.party
    responses = []

    token = await fetch_token(http, party, "ACME")
    other = await fetch_token(http, party, "BETA")
    await identities.add_role(db, "narrow", "ledger:read")
    # A wrong secret, by Basic and by post; a secret sent as the client id; a scope asked
    # beyond the client's; a repeated parameter.
    wrong = party.secret[::-1]
    for data, auth in (
        ({"grant_type": "client_credentials", "entity": "ACME"}, (party.client_id, wrong)),
        ({"grant_type": "client_credentials", "client_id": party.client_id, "client_secret": wrong}, None),
        ({"grant_type": "client_credentials"}, (party.secret, party.secret)),
        ({"grant_type": "client_credentials", "entity": "ACME", "scope": "ledger:read nope:x"},
         (party.client_id, party.secret)),
    ):
        responses.append(await http.post("/oauth/token", data=data, auth=auth))
    responses.append(await http.post(
        "/oauth/token", content=f"grant_type=client_credentials&client_secret={party.secret}"
        f"&client_secret={party.secret}", headers={"Content-Type": "application/x-www-form-urlencoded"}))

    # Bearer tokens: good, tampered, truncated, another scheme, in a query and a mutation.
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"
    for authorization in (f"Bearer {token}", f"Bearer {tampered}", f"Bearer {token[:-5]}",
                          f"Basic {base64.b64encode(token.encode()).decode()}", f"Bearer {other}"):
        headers = {"Authorization": authorization}
        responses.append(await http.post("/graphql", json={"query": "{ entity { code } }"}, headers=headers))
        responses.append(await http.post(
            "/graphql", json={"query": "mutation { postJournalEntry(idempotencyKey: \"x\", input: "
                                       "{journal: \"GJ\", date: \"2026-03-01\", lines: []}) { entry { id } } }"},
            headers=headers))
    responses.append(await http.get("/.well-known/jwks.json"))
    responses.append(await http.get("/.well-known/oauth-authorization-server"))
    assert [r.status_code for r in responses[:5]] == [401, 401, 401, 400, 400]

    ring = await http._transport.app.state.oauth.keys.ring()  # type: ignore[attr-defined]
    private = ring.current.key.as_dict(private=True)
    secrets = {
        "client secret": party.secret,
        "access token": token,
        "other token": other,
        "token signature": signature,
        "tampered token": tampered,
        "secrets key": key_file_for_tests().read_text().strip(),
        **{f"private key {name}": private[name] for name in ("d", "p", "q", "dp", "dq", "qi")},
    }
    texts = {"log": caplog.text, **{f"response {i}": r.text + str(r.headers) for i, r in enumerate(responses)}}
    leaks = [(what, where) for what, value in secrets.items() for where, text in texts.items() if value in text]
    assert not leaks, leaks
    assert "token issued" in caplog.text and "token refused" in caplog.text  # the log did run
