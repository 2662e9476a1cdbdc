"""The scope vocabulary and the grant rule: requested ∩ client ∩ role, refusals never dropped."""

import pytest

from gateway.auth.scopes import (
    InvalidScope,
    check_known_shape,
    format_scope,
    grant,
    is_known_shape,
    known_scopes,
    parse_scope,
    source_read_scope,
    source_sensitive_scope,
)

KNOWN = known_scopes(["hr", "crm"])
EVERYTHING = frozenset(KNOWN)


def test_known_scopes_are_the_base_ones_and_two_per_source_system():
    assert known_scopes(["hr", "crm"]) == {
        "ledger:read", "ledger:post", "statistical:read", "audit:read", "federation:compose", "admin:write", "periods:reopen", "documents:read", "documents:write", "outbox:operate",
        "source:hr:read", "source:hr:sensitive", "source:crm:read", "source:crm:sensitive",
    }
    assert known_scopes([]) == {
        "ledger:read", "ledger:post", "statistical:read", "audit:read", "federation:compose", "admin:write", "periods:reopen", "documents:read", "documents:write", "outbox:operate",
    }
    assert source_read_scope("Payroll_2") == "source:Payroll_2:read"
    assert source_sensitive_scope("_hr") == "source:_hr:sensitive"


@pytest.mark.parametrize("name", ["", "2hr", "__hr", "hr-x", "hr:read", "h r", "hé"])
def test_a_system_name_that_is_not_a_graphql_name_is_refused(name):
    with pytest.raises(ValueError, match="is not a GraphQL name"):
        known_scopes([name])


def test_known_scopes_wants_names_not_one_string():
    with pytest.raises(TypeError):
        known_scopes("hr")


@pytest.mark.parametrize(("text", "scopes"), [
    (None, set()),
    ("", set()),
    ("ledger:read", {"ledger:read"}),
    ("ledger:read ledger:post", {"ledger:read", "ledger:post"}),
    ("ledger:read ledger:read", {"ledger:read"}),
    ("!#[]~", {"!#[]~"}),
])
def test_parse_scope(text, scopes):
    assert parse_scope(text) == scopes


@pytest.mark.parametrize(("text", "message"), [
    (" ledger:read", "malformed scope: empty scope token (scopes are separated by one space)"),
    ("ledger:read ", "malformed scope: empty scope token (scopes are separated by one space)"),
    ("ledger:read  ledger:post", "malformed scope: empty scope token (scopes are separated by one space)"),
    (" ", "malformed scope: empty scope token (scopes are separated by one space)"),
    ("ledger:read\tledger:post", "malformed scope: 'ledger:read\\tledger:post' has characters a scope may not contain"),
    ('ledger:"read"', "malformed scope: 'ledger:\"read\"' has characters a scope may not contain"),
    ("ledger:read a\\b", "malformed scope: 'a\\\\b' has characters a scope may not contain"),
    ("ledgér:read", "malformed scope: 'ledgér:read' has characters a scope may not contain"),
    ("a\nb", "malformed scope: 'a\\nb' has characters a scope may not contain"),
])
def test_parse_scope_refuses_bad_tokens_naming_them(text, message):
    with pytest.raises(ValueError) as caught:
        parse_scope(text)
    assert str(caught.value) == message


def test_a_long_bad_token_is_shortened_in_the_message():
    with pytest.raises(ValueError) as caught:
        parse_scope("x" * 500 + "\x00")
    assert str(caught.value) == f"malformed scope: {'x' * 80 + '…'!r} has characters a scope may not contain"


def test_format_scope_is_sorted_and_space_separated():
    assert format_scope({"ledger:read", "audit:read", "ledger:post"}) == "audit:read ledger:post ledger:read"
    assert format_scope([]) == ""
    with pytest.raises(ValueError):
        format_scope(["a b"])
    with pytest.raises(TypeError):
        format_scope("ledger:read")


CLIENT = {"ledger:read", "ledger:post", "source:hr:read", "source:hr:sensitive"}
ROLE = {"ledger:read", "statistical:read", "source:hr:read", "source:hr:sensitive"}


def grant_(requested, client=CLIENT, role=ROLE):
    return grant(requested, client, role, KNOWN, client="bi-tool", role="bi-reader")


def test_the_grant_is_what_was_asked_for_when_client_and_role_both_allow_it():
    assert grant_("ledger:read source:hr:read") == {"ledger:read", "source:hr:read"}
    assert grant_({"ledger:read"}) == {"ledger:read"}
    assert grant_(["source:hr:sensitive", "source:hr:sensitive"]) == {"source:hr:sensitive"}


@pytest.mark.parametrize("requested", [None, "", [], set(), frozenset()])
def test_an_empty_request_gets_the_whole_intersection(requested):
    assert grant_(requested) == {"ledger:read", "source:hr:read", "source:hr:sensitive"}


def test_an_empty_request_never_gets_unknown_scopes_the_client_and_role_share():
    assert grant_(None, client=CLIENT | {"ledger:delete"}, role=ROLE | {"ledger:delete"}) == {
        "ledger:read", "source:hr:read", "source:hr:sensitive"}


def test_escalation_is_refused_never_dropped():
    with pytest.raises(InvalidScope) as caught:
        grant_("ledger:read ledger:post")
    assert caught.value.error == "invalid_scope"
    assert str(caught.value) == "invalid_scope: refused 'ledger:post' (not granted by role 'bi-reader')"
    assert dict(caught.value.refused) == {"ledger:post": "not granted by role 'bi-reader'"}


def test_every_refused_scope_is_listed_with_every_reason():
    with pytest.raises(InvalidScope) as caught:
        grant_("audit:read statistical:read ledger:post ledger:delete source:crm:read ledger:read")
    assert dict(caught.value.refused) == {
        "audit:read": "not allowed for client 'bi-tool'; not granted by role 'bi-reader'",
        "ledger:delete": "unknown scope",
        "ledger:post": "not granted by role 'bi-reader'",
        "source:crm:read": "not allowed for client 'bi-tool'; not granted by role 'bi-reader'",
        "statistical:read": "not allowed for client 'bi-tool'",
    }
    assert str(caught.value) == (
        "invalid_scope: refused "
        "'audit:read' (not allowed for client 'bi-tool'; not granted by role 'bi-reader'), "
        "'ledger:delete' (unknown scope), "
        "'ledger:post' (not granted by role 'bi-reader'), "
        "'source:crm:read' (not allowed for client 'bi-tool'; not granted by role 'bi-reader'), "
        "'statistical:read' (not allowed for client 'bi-tool')"
    )


def test_a_scope_both_allow_but_unknown_is_refused():
    with pytest.raises(InvalidScope) as caught:
        grant_("source:erp:read", client=CLIENT | {"source:erp:read"}, role=ROLE | {"source:erp:read"})
    assert dict(caught.value.refused) == {"source:erp:read": "unknown scope"}


def test_sensitive_needs_its_own_grant():
    with pytest.raises(InvalidScope) as caught:
        grant_("source:hr:read source:hr:sensitive", role=ROLE - {"source:hr:sensitive"})
    assert dict(caught.value.refused) == {"source:hr:sensitive": "not granted by role 'bi-reader'"}


@pytest.mark.parametrize("requested", ["ledger:read  ledger:post", " ", ["ledger:read", "a b"], [1]])
def test_a_malformed_request_is_invalid_scope(requested):
    with pytest.raises(InvalidScope) as caught:
        grant_(requested)
    assert str(caught.value).startswith("malformed scope: ")
    assert dict(caught.value.refused) == {}


def test_an_empty_request_with_nothing_in_common_is_invalid_scope():
    with pytest.raises(InvalidScope) as caught:
        grant_(None, client={"ledger:post"}, role={"ledger:read"})
    assert str(caught.value) == "invalid_scope: client 'bi-tool' and role 'bi-reader' share no scope to grant"


def test_invalid_scope_is_a_value_error():
    assert issubclass(InvalidScope, ValueError)


@pytest.mark.parametrize("scope", [
    "ledger:read", "ledger:post", "statistical:read", "audit:read",
    "source:hr:read", "source:hr:sensitive", "source:Payroll_2:read", "source:_x:sensitive",
])
def test_scopes_of_ledgergates_shapes_for_any_system(scope):
    assert is_known_shape(scope)
    assert check_known_shape([scope]) == {scope}


@pytest.mark.parametrize("scope", [
    "ledger:write", "ledger", "LEDGER:READ", "source:hr:write", "source:hr", "source::read",
    "source:2hr:read", "source:__hr:read", "source:h-r:read", "source:hr:read:x", "source:a:b:read",
    "openid", "", None, 1,
])
def test_other_scopes_are_not_of_ledgergates_shapes(scope):
    assert not is_known_shape(scope)


def test_check_known_shape_names_every_unknown_scope_sorted():
    assert check_known_shape([]) == frozenset()
    with pytest.raises(ValueError) as caught:
        check_known_shape(["ledger:read", "zeta", "source:hr:write"])
    assert str(caught.value) == (
        "unknown scopes 'source:hr:write', 'zeta' (ledgergate's scopes are admin:write, audit:read, "
        "documents:read, documents:write, federation:compose, ledger:post, ledger:read, outbox:operate, periods:reopen, statistical:read, "
        "source:<system>:read and "
        "source:<system>:sensitive)"
    )
    with pytest.raises(ValueError, match=r"^unknown scope 'x{80}…' \(ledgergate's"):
        check_known_shape(["x" * 500])
    with pytest.raises(TypeError):
        check_known_shape("ledger:read")
